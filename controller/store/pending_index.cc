#include "controller/store/pending_index.h"

namespace nas::controller {

bool PendingIndex::NeedsLoad(absl::Time now) const {
  absl::MutexLock lock(&mu_);
  return loaded_ == absl::InfinitePast() ||
         (ids_.empty() && now >= loaded_ + refresh_);
}

bool PendingIndex::empty() const {
  absl::MutexLock lock(&mu_);
  return ids_.empty();
}

void PendingIndex::Load(const std::vector<int64_t>& ids, absl::Time now) {
  absl::MutexLock lock(&mu_);
  ids_.insert(ids.begin(), ids.end());
  loaded_ = now;
}

void PendingIndex::Add(const std::vector<int64_t>& ids) {
  absl::MutexLock lock(&mu_);
  ids_.insert(ids.begin(), ids.end());
}

std::vector<int64_t> PendingIndex::Take(int64_t count) {
  absl::MutexLock lock(&mu_);
  std::vector<int64_t> out;
  while (static_cast<int64_t>(out.size()) < count && !ids_.empty()) {
    out.push_back(*ids_.begin());
    ids_.erase(ids_.begin());
  }
  return out;
}

}  // namespace nas::controller
