#ifndef NAS_CONTROLLER_STORE_PENDING_INDEX_H_
#define NAS_CONTROLLER_STORE_PENDING_INDEX_H_

#include <cstdint>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/btree_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace nas::controller {

// PgTrialStore's memory of which trials are PENDING, so that leasing picks
// them by id instead of scanning the queue's index, which in a busy queue is
// mostly entries of trials leased since the last vacuum. Read from the
// database at first use, then fed with every trial the store makes
// PENDING, and read again when it has been empty for `refresh` (trials
// another controller queued). The database stays the judge: a lease takes a
// trial only if it is still PENDING. Thread-safe.
class PendingIndex {
 public:
  explicit PendingIndex(absl::Duration refresh) : refresh_(refresh) {}

  // Never read, or empty since the last read at least `refresh` ago.
  bool NeedsLoad(absl::Time now) const;
  bool empty() const;
  // Adds `ids` (all PENDING trials in the database, read at `now`).
  void Load(const std::vector<int64_t>& ids, absl::Time now);
  void Add(const std::vector<int64_t>& ids);
  // Removes and returns the `count` lowest ids (fewer when it holds fewer).
  std::vector<int64_t> Take(int64_t count);

 private:
  const absl::Duration refresh_;
  mutable absl::Mutex mu_;
  absl::btree_set<int64_t> ids_ ABSL_GUARDED_BY(mu_);
  absl::Time loaded_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace nas::controller

#endif  // NAS_CONTROLLER_STORE_PENDING_INDEX_H_
