#ifndef NAS_CONTROLLER_PROGRESS_BOARD_H_
#define NAS_CONTROLLER_PROGRESS_BOARD_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "controller/store/trial_store.h"
#include "proto/nas.pb.h"

namespace nas::controller {

// The latest progress of every running trial, as its worker's heartbeats
// bring it (epoch, batches, loss, rate, time left). Memory only: a
// heartbeat every interval per worker must not write a row, and the figures
// matter only while the trial runs. One entry per running trial, dropped
// when its result is recorded or when no heartbeat renewed it for `max_age`
// (its lease expired; the worker is gone). Thread-safe.
class ProgressBoard {
 public:
  explicit ProgressBoard(absl::Duration max_age) : max_age_(max_age) {}
  ProgressBoard(const ProgressBoard&) = delete;
  ProgressBoard& operator=(const ProgressBoard&) = delete;

  // Records `progress` for the trial that `held` (an active lease) names;
  // sets the fields the controller owns (trial id and number, worker,
  // updated_unix_ms = now).
  void Update(const HeldLease& held, v1::TrialProgress progress,
              absl::Time now);
  // Forgets a trial (its result was recorded).
  void Remove(int64_t trial_id);
  // The fresh entries of one search, by trial number.
  std::vector<v1::TrialProgress> ForSearch(int64_t search_id,
                                           absl::Time now) const;
  // The trial's fresh entry, if any.
  std::optional<v1::TrialProgress> ForTrial(int64_t trial_id,
                                            absl::Time now) const;
  // Entries held (fresh or not yet pruned); for tests.
  size_t size() const;

 private:
  struct Entry {
    int64_t search_id = 0;
    absl::Time updated;
    v1::TrialProgress progress;
  };
  bool Fresh(const Entry& entry, absl::Time now) const {
    return now - entry.updated <= max_age_;
  }

  const absl::Duration max_age_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<int64_t, Entry> entries_ ABSL_GUARDED_BY(mu_);
  absl::Time pruned_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace nas::controller

#endif  // NAS_CONTROLLER_PROGRESS_BOARD_H_
