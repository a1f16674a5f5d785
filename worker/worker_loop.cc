#include "worker/worker_loop.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace nas::worker {
namespace {

// Codes after which the same call may succeed later.
bool IsTransient(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status) ||
         absl::IsAborted(status);
}

// The first wait after a lease that found nothing.
constexpr absl::Duration kFirstEmptyWait = absl::Milliseconds(10);

v1::ReportTrialRequest BuildReport(const v1::TrialTask& task,
                                   const absl::StatusOr<TrialOutcome>& outcome) {
  v1::ReportTrialRequest request;
  request.set_lease_id(task.lease_id());
  request.set_trial_id(task.trial_id());
  v1::TrialResult* result = request.mutable_result();
  if (!outcome.ok()) {
    result->set_failure_reason(outcome.status().ToString());
  } else if (outcome->succeeded()) {
    *result->mutable_metrics() = outcome->metrics;
    result->set_torchscript(outcome->torchscript);
    if (outcome->metrics.int8()) *result->mutable_int8_model() = outcome->int8_model;
  } else {
    result->set_failure_reason(outcome->failure_reason);
    result->set_data_error(outcome->data_error);
  }
  return request;
}

}  // namespace

// One slot running trials, one after another while each report brings the
// next task. `task` and `started` are written by the slot thread under mu_
// (NextTask), so that thread may read them without it; `thread` is fixed
// after StartSlot. `progress` is written by the slot thread after every
// training step and read by the heartbeat thread, under progress_mu.
struct WorkerLoop::Slot {
  v1::TrialTask task;
  std::atomic<bool> stop{false};
  absl::Mutex progress_mu;
  TrainProgress progress ABSL_GUARDED_BY(progress_mu);
  absl::Time started;
  std::thread thread;
};

namespace {

// What a heartbeat says of a trial `elapsed` after it started; the time
// left is the training still to do at the rate so far (-1: unknown).
v1::TrialProgress ToProto(const TrainProgress& p, absl::Duration elapsed) {
  v1::TrialProgress out;
  out.set_phase(p.evaluating ? v1::TrialProgress::EVALUATING
                             : v1::TrialProgress::TRAINING);
  out.set_epoch(p.epoch);
  out.set_epochs(std::max(p.epochs, p.epoch));
  out.set_batches_done(p.batches_done);
  out.set_batches_per_epoch(std::max(p.batches_per_epoch, p.batches_done));
  out.set_loss(std::isfinite(p.loss) && p.loss > 0 ? p.loss : 0);
  out.set_samples_per_second(p.train_seconds > 0 ? p.samples_seen / p.train_seconds : 0);
  out.set_elapsed_seconds(std::max(0.0, absl::ToDoubleSeconds(elapsed)));
  const int64_t done = (p.epoch - 1) * p.batches_per_epoch + p.batches_done;
  const int64_t total = static_cast<int64_t>(p.epochs) * p.batches_per_epoch;
  out.set_remaining_seconds(-1);
  if (!p.evaluating && done > 0 && total >= done && p.train_seconds > 0) {
    out.set_remaining_seconds(p.train_seconds * (total - done) / done);
  }
  return out;
}

}  // namespace

WorkerLoop::WorkerLoop(ControllerClient* client, TrialRunner runner,
                       WorkerMetrics* metrics, WorkerLoopOptions options)
    : client_(client),
      runner_(std::move(runner)),
      metrics_(metrics),
      options_(std::move(options)),
      heartbeat_interval_(options_.default_heartbeat),
      empty_backoff_(std::min(options_.idle_poll, kFirstEmptyWait),
                     options_.idle_poll) {}

WorkerLoop::~WorkerLoop() = default;

void WorkerLoop::RequestShutdown() {
  absl::MutexLock lock(&mu_);
  if (shutdown_) return;
  shutdown_ = true;
  shutdown_at_ = absl::Now();
  LOG(INFO) << "shutdown requested: no more leases";
}

int64_t WorkerLoop::reports_answered() const {
  absl::MutexLock lock(&mu_);
  return reports_answered_;
}

int64_t WorkerLoop::worker_id() const {
  absl::MutexLock lock(&mu_);
  return worker_id_;
}

absl::Duration WorkerLoop::heartbeat_interval() const {
  absl::MutexLock lock(&mu_);
  return heartbeat_interval_;
}

bool WorkerLoop::GivenUp(absl::Duration grace) const {
  absl::MutexLock lock(&mu_);
  return (shutdown_ && absl::Now() >= shutdown_at_ + grace) || IdleTooLong();
}

absl::Status WorkerLoop::EnsureRegistered(int64_t stale_id, absl::Duration grace) {
  absl::MutexLock register_lock(&register_mu_);
  if (worker_id() != stale_id) return absl::OkStatus();  // Done by another thread.
  v1::RegisterWorkerRequest request;
  request.set_name(options_.name);
  request.set_device(options_.device);
  request.set_slots(options_.slots);
  request.set_memory_bytes(options_.memory_bytes);
  Backoff backoff(options_.retry_initial, options_.retry_max);
  while (!GivenUp(grace)) {
    absl::StatusOr<v1::RegisterWorkerResponse> reply = client_->RegisterWorker(request);
    if (reply.ok()) {
      absl::MutexLock lock(&mu_);
      last_contact_ = absl::Now();
      worker_id_ = reply->worker_id();
      if (reply->heartbeat_interval_ms() > 0) {
        heartbeat_interval_ = absl::Milliseconds(reply->heartbeat_interval_ms());
      }
      LOG(INFO) << "registered as worker " << worker_id_ << " (" << options_.name
                << ", " << options_.slots << " slots, " << options_.device << ")";
      return absl::OkStatus();
    }
    if (!IsTransient(reply.status())) return reply.status();  // E.g. a bad name.
    LOG(WARNING) << "RegisterWorker failed: " << reply.status();
    SleepUnlessShutdown(backoff.Next());
  }
  return absl::CancelledError("gave up registering (shutdown or idle)");
}

absl::Status WorkerLoop::Run() {
  {
    absl::MutexLock lock(&mu_);
    last_busy_ = absl::Now();
  }
  const absl::Status registered = EnsureRegistered(0, absl::ZeroDuration());
  if (absl::IsCancelled(registered)) {
    LOG(INFO) << "never reached the controller: exiting";
    return absl::OkStatus();
  }
  if (!registered.ok()) {
    return absl::Status(registered.code(),
                        absl::StrCat("RegisterWorker: ", registered.message()));
  }
  std::thread heartbeats(&WorkerLoop::HeartbeatLoop, this);
  Backoff backoff(options_.retry_initial, options_.retry_max);
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (!shutdown_ && IdleTooLong()) {
        LOG(INFO) << "idle for " << options_.exit_when_idle << ": exiting";
        shutdown_ = true;
        shutdown_at_ = absl::Now();
      }
      if (shutdown_) break;
    }
    JoinFinishedThreads();
    if (LeaseOnce()) {
      backoff.Reset();
    } else {
      SleepUnlessShutdown(backoff.Next());
    }
  }
  Drain();
  {
    absl::MutexLock lock(&mu_);
    stopping_heartbeats_ = true;
  }
  heartbeats.join();
  JoinFinishedThreads();
  return absl::OkStatus();
}

bool WorkerLoop::IdleTooLong() const {
  return options_.exit_when_idle > absl::ZeroDuration() && slots_.empty() &&
         absl::Now() - last_busy_ >= options_.exit_when_idle;
}

bool WorkerLoop::LeaseOnce() {
  int free_slots = 0;
  {
    absl::MutexLock lock(&mu_);
    auto slot_free_or_shutdown = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return shutdown_ || static_cast<int>(slots_.size()) < options_.slots;
    };
    mu_.AwaitWithTimeout(absl::Condition(&slot_free_or_shutdown), options_.idle_poll);
    if (shutdown_) return true;
    free_slots = options_.slots - static_cast<int>(slots_.size());
  }
  if (free_slots <= 0) return true;
  v1::LeaseTrialRequest request;
  request.set_worker_id(worker_id());
  request.set_free_slots(free_slots);
  absl::StatusOr<v1::LeaseTrialResponse> reply = client_->LeaseTrial(request);
  if (!reply.ok()) {
    if (absl::IsNotFound(reply.status())) {
      LOG(WARNING) << "controller forgot worker " << request.worker_id()
                   << ": registering again";
      return EnsureRegistered(request.worker_id(), absl::ZeroDuration()).ok();
    }
    if (leases_ok_) LOG(WARNING) << "LeaseTrial failed: " << reply.status();
    leases_ok_ = false;
    return false;
  }
  if (!leases_ok_) LOG(INFO) << "LeaseTrial reaches the controller again";
  leases_ok_ = true;
  Contacted();
  for (const v1::TrialTask& task : reply->tasks()) StartSlot(task);
  if (reply->tasks().empty()) {
    // Soon again at first (the scheduler may be refilling the queue), then
    // every idle_poll.
    SleepUnlessShutdown(empty_backoff_.Next());
  } else {
    empty_backoff_.Reset();
  }
  return true;
}

void WorkerLoop::StartSlot(const v1::TrialTask& task) {
  absl::MutexLock lock(&mu_);
  if (slots_.contains(task.lease_id())) {
    LOG(WARNING) << "lease " << task.lease_id() << " is already running";
    return;
  }
  auto slot = std::make_unique<Slot>();
  slot->task = task;
  slot->started = absl::Now();
  Slot* raw = slot.get();
  slots_.emplace(task.lease_id(), std::move(slot));
  last_busy_ = absl::Now();
  metrics_->SlotTaken();
  LogLeased(task);
  // Created under mu_, so FinishSlot (which takes mu_) sees `thread` set.
  raw->thread = std::thread(&WorkerLoop::RunSlot, this, raw);
}

void WorkerLoop::LogLeased(const v1::TrialTask& task) {
  LOG(INFO) << "trial " << task.trial_id() << " (search " << task.search_id()
            << ", attempt " << task.attempt() << ") leased as " << task.lease_id();
}

void WorkerLoop::RunSlot(Slot* slot) {
  TrialControl control;
  control.stop = &slot->stop;
  control.on_progress = [slot](const TrainProgress& progress) {
    absl::MutexLock lock(&slot->progress_mu);
    slot->progress = progress;
  };
  while (true) {
    const absl::StatusOr<TrialOutcome> outcome = runner_(slot->task, control);
    std::vector<v1::TrialTask> next = Report(slot, outcome);
    if (next.empty() || !NextTask(slot, next.front())) break;
    for (size_t i = 1; i < next.size(); ++i) StartSlot(next[i]);
  }
  FinishSlot(slot);
}

std::vector<v1::TrialTask> WorkerLoop::Report(
    Slot* slot, const absl::StatusOr<TrialOutcome>& outcome) {
  const v1::TrialTask& task = slot->task;
  const double seconds = absl::ToDoubleSeconds(absl::Now() - slot->started);
  if (outcome.ok() && outcome->kind == TrialOutcome::Kind::kCancelled) {
    LOG(INFO) << "trial " << task.trial_id() << " stopped: " << outcome->failure_reason;
    metrics_->TrialCancelled();
    return {};  // Cancelled or abandoned: the controller owns the trial's fate.
  }
  v1::ReportTrialRequest request = BuildReport(task, outcome);
  {
    absl::MutexLock lock(&mu_);
    if (!shutdown_) request.set_lease_next(1);  // This slot's next trial.
  }
  if (request.result().has_metrics()) {
    metrics_->TrialSucceeded(seconds, request.result().metrics().samples_per_second());
  } else {
    metrics_->TrialFailed(seconds);
  }
  absl::StatusOr<v1::ReportTrialResponse> reply = DeliverReport(&request);
  if (!reply.ok()) {
    LOG(ERROR) << "report of trial " << task.trial_id() << " given up: " << reply.status()
               << "; its lease will expire and the trial be handed out again";
    return {};
  }
  LOG(INFO) << "trial " << task.trial_id() << " reported"
            << (reply->accepted() ? "" : "; not accepted: " + reply->detail());
  {
    absl::MutexLock lock(&mu_);
    ++reports_answered_;
  }
  return {reply->tasks().begin(), reply->tasks().end()};
}

bool WorkerLoop::NextTask(Slot* slot, const v1::TrialTask& task) {
  absl::MutexLock lock(&mu_);
  if (shutdown_ || slots_.contains(task.lease_id())) {
    // Drain may already have stopped this slot; the lease expires on the
    // controller and the trial is handed out again.
    LOG(WARNING) << "trial " << task.trial_id() << " (lease " << task.lease_id()
                 << ") not started: "
                 << (shutdown_ ? "shutting down" : "lease already running");
    return false;
  }
  auto it = slots_.find(slot->task.lease_id());
  std::unique_ptr<Slot> owned = std::move(it->second);
  slots_.erase(it);
  slot->task = task;
  slot->started = absl::Now();
  slot->stop.store(false);
  {
    absl::MutexLock progress_lock(&slot->progress_mu);
    slot->progress = TrainProgress();
  }
  slots_.emplace(task.lease_id(), std::move(owned));
  last_busy_ = slot->started;
  LogLeased(task);
  return true;
}

absl::StatusOr<v1::ReportTrialResponse> WorkerLoop::DeliverReport(
    v1::ReportTrialRequest* request) {
  Backoff backoff(options_.retry_initial, options_.retry_max);
  bool registered_again = false;
  while (true) {
    request->set_worker_id(worker_id());
    absl::StatusOr<v1::ReportTrialResponse> reply = client_->ReportTrial(*request);
    if (reply.ok()) {
      Contacted();
      return reply;
    }
    // The failed attempt may have reached the controller and leased tasks
    // whose answer was lost; the repeat asks for as many, and the controller
    // answers it with those tasks.
    // NOT_FOUND: maybe a restarted controller that forgot this worker; one
    // re-registration, then it means the trial itself is unknown.
    const bool register_again = absl::IsNotFound(reply.status()) && !registered_again;
    if (!IsTransient(reply.status()) && !register_again) return reply.status();
    LOG(WARNING) << "report of trial " << request->trial_id() << " failed ("
                 << reply.status() << "); keeping the result and retrying";
    metrics_->ReportRetried();
    if (register_again) {
      registered_again = true;
      const absl::Status registered =
          EnsureRegistered(request->worker_id(), options_.report_grace);
      if (!registered.ok()) return registered;
      continue;
    }
    absl::SleepFor(backoff.Next());
    if (GivenUp(options_.report_grace)) return absl::CancelledError("shutting down");
  }
}

void WorkerLoop::FinishSlot(Slot* slot) {
  absl::MutexLock lock(&mu_);
  finished_threads_.push_back(std::move(slot->thread));
  slots_.erase(slot->task.lease_id());  // Destroys *slot.
  last_busy_ = absl::Now();
  metrics_->SlotFreed();
}

void WorkerLoop::JoinFinishedThreads() {
  std::vector<std::thread> threads;
  {
    absl::MutexLock lock(&mu_);
    threads.swap(finished_threads_);
  }
  for (std::thread& thread : threads) thread.join();
}

void WorkerLoop::HeartbeatLoop() {
  while (true) {
    const absl::Duration interval = heartbeat_interval();
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stopping_heartbeats_), interval);
      if (stopping_heartbeats_) return;
    }
    HeartbeatOnce();
  }
}

void WorkerLoop::Contacted() {
  absl::MutexLock lock(&mu_);
  last_contact_ = absl::Now();
}

void WorkerLoop::HeartbeatOnce() {
  v1::HeartbeatRequest request;
  {
    absl::MutexLock lock(&mu_);
    request.set_worker_id(worker_id_);
    const absl::Time now = absl::Now();
    double rate = 0;  // Training samples/s of the running trials.
    for (const auto& [lease_id, slot] : slots_) {
      // A lease younger than one interval has its full TTL still ahead.
      if (now - slot->started < heartbeat_interval_) continue;
      v1::LeaseProgress* lease = request.add_leases();
      lease->set_lease_id(lease_id);
      TrainProgress progress;
      {
        absl::MutexLock progress_lock(&slot->progress_mu);
        progress = slot->progress;
      }
      if (progress.epoch == 0) continue;  // No step done yet.
      *lease->mutable_progress() = ToProto(progress, now - slot->started);
      lease->set_epoch(lease->progress().epoch());
      lease->set_loss(lease->progress().loss());
      if (!progress.evaluating) rate += lease->progress().samples_per_second();
    }
    metrics_->SetRunningRate(rate);
    // Nothing to extend, and the controller saw this worker alive lately.
    if (request.leases().empty() && now - last_contact_ < heartbeat_interval_) {
      return;
    }
  }
  absl::StatusOr<v1::HeartbeatResponse> reply = client_->Heartbeat(request);
  if (reply.ok() != heartbeats_ok_) {  // Log changes only, not every beat.
    heartbeats_ok_ = reply.ok();
    if (reply.ok()) {
      LOG(INFO) << "heartbeats reach the controller again";
    } else {
      LOG(WARNING) << "Heartbeat failed: " << reply.status() << " (retrying every "
                   << heartbeat_interval() << ")";
    }
  }
  if (!reply.ok()) {
    if (absl::IsNotFound(reply.status())) {
      EnsureRegistered(request.worker_id(), options_.report_grace).IgnoreError();
    }
    return;
  }
  absl::MutexLock lock(&mu_);
  last_contact_ = absl::Now();
  for (const v1::LeaseVerdict& verdict : reply->verdicts()) {
    auto it = slots_.find(verdict.lease_id());
    if (verdict.keep_going() || it == slots_.end()) continue;
    if (!it->second->stop.exchange(true)) {
      LOG(INFO) << "controller stopped trial " << it->second->task.trial_id()
                << " (lease " << verdict.lease_id() << ")";
    }
  }
}

void WorkerLoop::Drain() {
  absl::MutexLock lock(&mu_);
  auto all_done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return slots_.empty(); };
  if (!slots_.empty() && options_.drain_timeout > absl::ZeroDuration()) {
    LOG(INFO) << "waiting up to " << options_.drain_timeout << " for "
              << slots_.size() << " running trial(s)";
    mu_.AwaitWithTimeout(absl::Condition(&all_done), options_.drain_timeout);
  }
  for (auto& [lease_id, slot] : slots_) {
    LOG(INFO) << "abandoning trial " << slot->task.trial_id() << " (lease " << lease_id
              << ")";
    slot->stop.store(true);
  }
  mu_.Await(absl::Condition(&all_done));
}

bool WorkerLoop::SleepUnlessShutdown(absl::Duration duration) {
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithTimeout(absl::Condition(&shutdown_), duration);
}

}  // namespace nas::worker
