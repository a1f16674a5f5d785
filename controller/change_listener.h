#ifndef NAS_CONTROLLER_CHANGE_LISTENER_H_
#define NAS_CONTROLLER_CHANGE_LISTENER_H_

#include <cstdint>

namespace nas::controller {

// Told about every committed change of a search or of one of its trials
// (used to push WatchSearch updates). Implementations are thread-safe, return
// quickly and never call back into the scheduler.
class ChangeListener {
 public:
  virtual ~ChangeListener() = default;
  // `trial_id` is the trial that changed, 0 for a change of the search only.
  virtual void OnSearchChanged(int64_t search_id, int64_t trial_id) = 0;
};

}  // namespace nas::controller

#endif  // NAS_CONTROLLER_CHANGE_LISTENER_H_
