#include "controller/watch_hub.h"

#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/algorithm/container.h"
#include "common/grpc_status.h"
#include "controller/rpc_util.h"

namespace nas::controller {
namespace {

constexpr size_t kMaxWatchers = 1024;
// Changed trials remembered per stream while a write is in flight.
constexpr size_t kMaxQueuedTrials = 256;

bool IsTerminal(v1::SearchState state) {
  return state == v1::SEARCH_SUCCEEDED || state == v1::SEARCH_FAILED ||
         state == v1::SEARCH_CANCELLED;
}

}  // namespace

// One WatchSearch stream. Deletes itself when gRPC is done with it. Its
// fields are guarded by the hub's mutex, except `message`, which only the
// hub's pump thread touches, and only while `writing`.
class WatchReactor : public grpc::ServerWriteReactor<v1::SearchProgress> {
 public:
  WatchReactor(WatchHub* hub, int64_t search_id)
      : hub(hub), search_id(search_id) {}

  void OnWriteDone(bool ok) override { hub->WriteDone(this, ok); }
  void OnCancel() override { hub->Cancelled(this); }
  void OnDone() override { delete this; }

  WatchHub* const hub;
  const int64_t search_id;
  bool writing = false;  // Claimed by the pump, or a write is in flight.
  bool dirty = true;     // Changed since the last read.
  // Trials reported changed and not yet sent, oldest first, each once.
  std::deque<int64_t> changed_trials;
  std::optional<grpc::Status> end;  // Set: finish with this status.
  std::string last_sent;
  v1::SearchProgress message;
};

WatchHub::WatchHub(SearchQueries* queries, absl::Duration poll_interval)
    : queries_(queries), poll_interval_(poll_interval) {
  pump_ = std::thread([this] { Pump(); });
}

WatchHub::~WatchHub() {
  Shutdown();
  pump_.join();
}

void WatchHub::Shutdown() {
  absl::MutexLock lock(&mu_);
  shutting_down_ = true;
  signalled_ = true;
}

void WatchHub::OnSearchChanged(int64_t search_id, int64_t trial_id) {
  absl::MutexLock lock(&mu_);
  for (WatchReactor* w : watchers_) {
    if (w->search_id != search_id) continue;
    w->dirty = true;
    signalled_ = true;
    if (trial_id <= 0 || absl::c_linear_search(w->changed_trials, trial_id)) {
      continue;
    }
    if (w->changed_trials.size() >= kMaxQueuedTrials) {
      w->changed_trials.pop_front();
    }
    w->changed_trials.push_back(trial_id);
  }
}

grpc::ServerWriteReactor<v1::SearchProgress>* WatchHub::Watch(
    int64_t search_id) {
  auto* reactor = new WatchReactor(this, search_id);
  absl::Status status = CheckPositiveId("search_id", search_id);
  if (status.ok()) status = queries_->GetSearch(search_id).status();
  if (status.ok()) {
    absl::MutexLock lock(&mu_);
    if (shutting_down_) {
      status = absl::UnavailableError("controller shutting down");
    } else if (watchers_.size() >= kMaxWatchers) {
      status = absl::ResourceExhaustedError(
          "too many WatchSearch streams; try again later");
    } else {
      watchers_.insert(reactor);
      signalled_ = true;
    }
  }
  if (!status.ok()) reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

void WatchHub::WriteDone(WatchReactor* watcher, bool ok) {
  absl::MutexLock lock(&mu_);
  if (!watchers_.contains(watcher)) return;
  watcher->writing = false;
  if (!ok && !watcher->end.has_value()) {
    watcher->end = grpc::Status(grpc::StatusCode::CANCELLED, "client gone");
  }
  signalled_ = true;
}

void WatchHub::Cancelled(WatchReactor* watcher) {
  absl::MutexLock lock(&mu_);
  if (!watchers_.contains(watcher)) return;
  if (!watcher->end.has_value()) {
    watcher->end = grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
  }
  signalled_ = true;
}

void WatchHub::Pump() {
  absl::Time next_poll = absl::Now() + poll_interval_;
  while (true) {
    std::vector<std::pair<WatchReactor*, grpc::Status>> finish;
    std::vector<WatchReactor*> refresh;
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&signalled_), poll_interval_);
      signalled_ = false;
      if (shutting_down_ && watchers_.empty()) return;
      const bool poll = absl::Now() >= next_poll;
      if (poll) next_poll = absl::Now() + poll_interval_;
      for (WatchReactor* w : watchers_) {
        if (w->writing) continue;
        if (shutting_down_ && !w->end.has_value()) {
          w->end = grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                "controller shutting down");
        }
        if (w->end.has_value()) {
          finish.emplace_back(w, *w->end);
        } else if (w->dirty || poll) {
          w->writing = true;
          w->dirty = false;
          refresh.push_back(w);
        }
      }
      for (const auto& [w, status] : finish) watchers_.erase(w);
    }
    for (auto& [w, status] : finish) w->Finish(std::move(status));
    for (WatchReactor* w : refresh) Refresh(w);
  }
}

void WatchHub::Refresh(WatchReactor* w) {
  int64_t trial_id = 0;  // One update per changed trial.
  {
    absl::MutexLock lock(&mu_);
    if (!w->changed_trials.empty()) {
      trial_id = w->changed_trials.front();
      w->changed_trials.pop_front();
      w->dirty = !w->changed_trials.empty();
    }
  }
  absl::StatusOr<v1::Search> search = queries_->GetSearch(w->search_id);
  v1::SearchProgress progress;
  if (search.ok()) {
    *progress.mutable_search() = *search;
    for (v1::TrialProgress& running : queries_->RunningProgress(w->search_id)) {
      *progress.add_running() = std::move(running);
    }
  }
  if (search.ok() && trial_id > 0) {
    absl::StatusOr<v1::Trial> trial = queries_->GetTrial(trial_id);
    if (trial.ok()) *progress.mutable_last_trial() = *std::move(trial);
  }
  const bool terminal = search.ok() && IsTerminal(search->state());
  std::string bytes = progress.SerializeAsString();
  {
    absl::MutexLock lock(&mu_);
    if (!search.ok() || bytes == w->last_sent) {
      w->writing = false;
      if (terminal) w->end = grpc::Status::OK;  // Its end was already sent.
      // A store that cannot be reached is retried at the next poll.
      if (absl::IsNotFound(search.status())) {
        w->end = ToGrpcStatus(search.status());
      }
      signalled_ = signalled_ || w->end.has_value() || w->dirty;
      return;
    }
    w->last_sent = std::move(bytes);
    w->message = std::move(progress);
    if (terminal) watchers_.erase(w);  // The hub lets go of it now.
  }
  if (terminal) {
    w->StartWriteAndFinish(&w->message, grpc::WriteOptions(), grpc::Status::OK);
  } else {
    w->StartWrite(&w->message);
  }
}

}  // namespace nas::controller
