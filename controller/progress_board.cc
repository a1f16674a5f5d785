#include "controller/progress_board.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"

namespace nas::controller {

void ProgressBoard::Update(const HeldLease& held, v1::TrialProgress progress,
                           absl::Time now) {
  progress.set_trial_id(held.trial_id);
  progress.set_trial_number(held.trial_number);
  progress.set_worker(held.worker);
  progress.set_updated_unix_ms(absl::ToUnixMillis(now));
  absl::MutexLock lock(&mu_);
  entries_[held.trial_id] = Entry{held.search_id, now, std::move(progress)};
  // Entries of trials whose heartbeats stopped (lease expired, worker
  // gone), swept at most once per max_age.
  if (now - pruned_ < max_age_) return;
  pruned_ = now;
  absl::erase_if(entries_, [&](const auto& e) { return !Fresh(e.second, now); });
}

void ProgressBoard::Remove(int64_t trial_id) {
  absl::MutexLock lock(&mu_);
  entries_.erase(trial_id);
}

std::vector<v1::TrialProgress> ProgressBoard::ForSearch(int64_t search_id,
                                                        absl::Time now) const {
  std::vector<v1::TrialProgress> out;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [trial_id, entry] : entries_) {
      if (entry.search_id == search_id && Fresh(entry, now)) {
        out.push_back(entry.progress);
      }
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.trial_number() < b.trial_number();
  });
  return out;
}

std::optional<v1::TrialProgress> ProgressBoard::ForTrial(int64_t trial_id,
                                                         absl::Time now) const {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(trial_id);
  if (it == entries_.end() || !Fresh(it->second, now)) return std::nullopt;
  return it->second.progress;
}

size_t ProgressBoard::size() const {
  absl::MutexLock lock(&mu_);
  return entries_.size();
}

}  // namespace nas::controller
