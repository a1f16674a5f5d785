#ifndef NAS_CONTROLLER_GROUP_COMMIT_H_
#define NAS_CONTROLLER_GROUP_COMMIT_H_

#include <cstddef>
#include <deque>
#include <functional>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"

namespace nas::controller {

// Group commit, as leveldb's DBImpl::Write batches writers: a thread that
// submits an item while no batch is being committed commits a batch itself,
// made of its item and the items other threads queued meanwhile; those
// threads wait until their item's batch is done. So N concurrent requests
// cost about one database round trip instead of N, and a lone request costs
// no waiting. `Item` is the caller's request, holding its own result:
// `commit` must set it for every item of the batch before it returns.
// Thread-safe.
template <typename Item>
class GroupCommit {
 public:
  // Picks the next batch among the queued items (oldest first): the indices
  // of the items to take, in order; it must take at least the first.
  using Pick = std::function<std::vector<size_t>(absl::Span<Item* const>)>;
  using Commit = std::function<void(const std::vector<Item*>&)>;

  GroupCommit(Pick pick, Commit commit)
      : pick_(std::move(pick)), commit_(std::move(commit)) {}
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  // Takes every queued item (up to `max_batch`), oldest first.
  static Pick TakeUpTo(size_t max_batch) {
    return [max_batch](absl::Span<Item* const> queued) {
      std::vector<size_t> taken;
      for (size_t i = 0; i < queued.size() && i < max_batch; ++i) {
        taken.push_back(i);
      }
      return taken;
    };
  }

  // Returns once `item` has been committed in some batch.
  void Submit(Item* item) {
    Waiter self{item};
    absl::MutexLock lock(&mu_);
    queue_.push_back(&self);
    auto done_or_free = [this, &self]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return self.done || !committing_;
    };
    mu_.Await(absl::Condition(&done_or_free));
    while (!self.done) {  // This thread commits, until its item is done.
      committing_ = true;
      const std::vector<Waiter*> batch = TakeBatch();
      std::vector<Item*> items;
      items.reserve(batch.size());
      for (const Waiter* w : batch) items.push_back(w->item);
      mu_.Unlock();
      commit_(items);
      mu_.Lock();
      for (Waiter* w : batch) w->done = true;
      committing_ = false;
    }
  }

 private:
  struct Waiter {
    Item* item;
    bool done = false;
  };

  std::vector<Waiter*> TakeBatch() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    std::vector<Item*> queued;
    queued.reserve(queue_.size());
    for (const Waiter* w : queue_) queued.push_back(w->item);
    std::vector<bool> taken(queue_.size(), false);
    for (size_t i : pick_(queued)) taken[i] = true;
    taken[0] = true;  // Progress: the oldest is always taken.
    std::vector<Waiter*> batch;
    std::deque<Waiter*> rest;
    for (size_t i = 0; i < queue_.size(); ++i) {
      if (taken[i]) {
        batch.push_back(queue_[i]);
      } else {
        rest.push_back(queue_[i]);
      }
    }
    queue_.swap(rest);
    return batch;
  }

  const Pick pick_;
  const Commit commit_;
  absl::Mutex mu_;
  std::deque<Waiter*> queue_ ABSL_GUARDED_BY(mu_);
  bool committing_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace nas::controller

#endif  // NAS_CONTROLLER_GROUP_COMMIT_H_
