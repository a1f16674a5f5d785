#ifndef NAS_TESTS_FAKES_FAKE_CLOCK_H_
#define NAS_TESTS_FAKES_FAKE_CLOCK_H_

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "controller/clock.h"

namespace nas::testing {

// A clock that only moves when a test says so. Thread-safe: the controller
// reads it from its own threads while the test advances it.
class FakeClock : public controller::Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1700000000))
      : now_(start) {}

  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace nas::testing

#endif  // NAS_TESTS_FAKES_FAKE_CLOCK_H_
