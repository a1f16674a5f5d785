#ifndef NAS_CONTROLLER_CLOCK_H_
#define NAS_CONTROLLER_CLOCK_H_

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace nas::controller {

// Source of the current time for the controller's logic (leases, durations,
// timestamps), injected so that tests can move time by hand. Implementations
// are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

// The wall clock. Thread-safe and stateless.
class SystemClock : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

}  // namespace nas::controller

#endif  // NAS_CONTROLLER_CLOCK_H_
