#include "controller/trial_dispatcher.h"

#include <openssl/rand.h>

#include <algorithm>
#include <random>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/reward.h"
#include "common/status_macros.h"
#include "controller/scheduling_rules.h"

namespace nas::controller {
namespace {

// A report whose recording is aborted (a serialization conflict, or a
// policy that had to be reloaded from the store) is tried again this often
// in all, with a fresh context each time.
constexpr int kCompleteAttempts = 3;
// Reports committed in one transaction at most.
constexpr size_t kMaxBatch = 256;
// A remembered lease is dropped after this many lease TTLs without report.
constexpr int kLeaseMemoryTtls = 4;

}  // namespace

// A report waiting in the group commit; `result` is written by the
// committing thread.
struct TrialDispatcher::PendingReport {
  Completion completion;
  int64_t search_id = 0;
  bool learns = false;  // Its search's policy learns from results.
  absl::StatusOr<CompletionResult> result = absl::UnknownError("not recorded");
};

std::string NewLeaseId() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    std::random_device device;  // OpenSSL's generator failed; fall back.
    for (unsigned char& b : bytes) b = static_cast<unsigned char>(device());
  }
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
}

TrialDispatcher::TrialDispatcher(TrialStore* store, SearchContexts* contexts,
                                 const Clock* clock, ControllerMetrics* metrics,
                                 ChangeListener* listener,
                                 std::function<void()> wake_scheduler,
                                 DispatcherOptions options,
                                 ProgressBoard* progress)
    : store_(store),
      contexts_(contexts),
      clock_(clock),
      metrics_(metrics),
      listener_(listener),
      wake_scheduler_(std::move(wake_scheduler)),
      options_(options),
      progress_(progress),
      reports_(&TrialDispatcher::PickBatch,
               [this](const std::vector<PendingReport*>& batch) {
                 RecordBatch(batch);
               }) {}

absl::StatusOr<int64_t> TrialDispatcher::RegisterWorker(
    const WorkerInfo& worker) {
  NAS_ASSIGN_OR_RETURN(int64_t id,
                       store_->RegisterWorker(worker, clock_->Now()));
  LOG(INFO) << "worker " << id << " (" << worker.name << ", " << worker.device
            << ", " << worker.slots << " slots) registered";
  wake_scheduler_();
  return id;
}

absl::StatusOr<std::vector<v1::TrialTask>> TrialDispatcher::Lease(
    int64_t worker_id, int free_slots) {
  return LeaseFor(worker_id, free_slots, "");
}

absl::StatusOr<std::vector<v1::TrialTask>> TrialDispatcher::LeaseFor(
    int64_t worker_id, int free_slots, const std::string& chained_by) {
  // The store caps the leases at the worker's registered slots and refuses
  // an unknown worker, in the leasing transaction itself. An idle worker
  // seen lately that asks while the queue is empty costs it nothing.
  std::vector<v1::TrialTask> tasks;
  const absl::Time now = clock_->Now();
  if (SeenRecently(worker_id, now) && !store_->MayHaveQueuedTrials(now)) {
    wake_scheduler_();
    return tasks;
  }
  std::vector<std::string> lease_ids;
  for (int i = 0; i < free_slots; ++i) lease_ids.push_back(NewLeaseId());
  NAS_ASSIGN_OR_RETURN(
      std::vector<LeasedTrial> leased,
      store_->LeaseTrials(worker_id, lease_ids, now, now + options_.lease_ttl));
  MarkSeen(worker_id, now);
  RememberLeased(leased, now, worker_id, chained_by);
  if (!leased.empty()) metrics_->SlotsLeased(static_cast<int>(leased.size()));
  for (const LeasedTrial& l : leased) {
    absl::StatusOr<v1::TrialTask> task = MakeTask(l);
    if (!task.ok()) {  // The lease expires and the trial is handed out again.
      LOG(ERROR) << "trial " << l.trial.id() << ": " << task.status();
      continue;
    }
    tasks.push_back(*std::move(task));
    if (listener_ != nullptr) {
      listener_->OnSearchChanged(l.trial.search_id(), l.trial.id());
    }
  }
  if (leased.size() < lease_ids.size()) wake_scheduler_();
  return tasks;
}

absl::StatusOr<v1::TrialTask> TrialDispatcher::MakeTask(
    const LeasedTrial& leased) {
  const v1::Trial& trial = leased.trial;
  NAS_ASSIGN_OR_RETURN(std::shared_ptr<SearchContext> context,
                       contexts_->Get(trial.search_id()));
  const v1::SearchSpec& spec = context->spec();
  v1::TrialTask task;
  task.set_trial_id(trial.id());
  task.set_search_id(trial.search_id());
  task.set_lease_id(leased.lease_id);
  *task.mutable_architecture() = trial.architecture();
  *task.mutable_dataset() = spec.dataset();
  *task.mutable_training() = spec.training();
  task.set_seed(spec.seed());
  task.set_trial_seed(TrialSeed(spec.seed(), trial.number()));
  task.set_attempt(trial.attempts());
  return task;
}

absl::StatusOr<std::vector<v1::LeaseVerdict>> TrialDispatcher::Heartbeat(
    int64_t worker_id, const std::vector<std::string>& lease_ids,
    const std::vector<const v1::TrialProgress*>& progress) {
  const absl::Time now = clock_->Now();
  // Without leases a heartbeat only says that the worker lives; that is
  // written at most every half lease TTL (workers count as gone after three
  // TTLs), so idle workers cost the database nothing in between.
  if (lease_ids.empty() && SeenRecently(worker_id, now)) {
    return std::vector<v1::LeaseVerdict>();
  }
  NAS_ASSIGN_OR_RETURN(
      std::vector<HeldLease> held,
      store_->Heartbeat(worker_id, lease_ids, now, now + options_.lease_ttl));
  MarkSeen(worker_id, now);
  std::vector<v1::LeaseVerdict> verdicts;
  for (size_t i = 0; i < lease_ids.size(); ++i) {
    v1::LeaseVerdict& verdict = verdicts.emplace_back();
    verdict.set_lease_id(lease_ids[i]);
    verdict.set_keep_going(held[i].status == LeaseStatus::kActive);
    if (verdict.keep_going() && i < progress.size() && progress[i] != nullptr) {
      RecordProgress(held[i], *progress[i], now);
    }
  }
  return verdicts;
}

void TrialDispatcher::RecordProgress(const HeldLease& held,
                                     const v1::TrialProgress& progress,
                                     absl::Time now) {
  if (progress_ == nullptr) return;
  progress_->Update(held, progress, now);
  if (listener_ != nullptr) listener_->OnSearchChanged(held.search_id, 0);
}

void TrialDispatcher::RememberLeased(const std::vector<LeasedTrial>& leased,
                                     absl::Time now, int64_t worker_id,
                                     const std::string& chained_by) {
  absl::MutexLock lock(&leased_mu_);
  for (const LeasedTrial& l : leased) {
    LeasedInfo& info = leased_[l.trial.id()];
    info.trial.set_id(l.trial.id());
    info.trial.set_search_id(l.trial.search_id());
    info.trial.set_number(l.trial.number());
    *info.trial.mutable_metrics() = l.trial.metrics();
    info.leased = now;
    info.worker_id = worker_id;
    info.lease_id = l.lease_id;
    info.chained_by = chained_by;
  }
  const absl::Duration ttl = kLeaseMemoryTtls * options_.lease_ttl;
  if (now < pruned_ + ttl) return;
  pruned_ = now;
  absl::erase_if(leased_, [&](const auto& entry) {
    return entry.second.leased < now - ttl;
  });
}

void TrialDispatcher::MarkSeen(int64_t worker_id, absl::Time now) {
  absl::MutexLock lock(&leased_mu_);
  seen_[worker_id] = now;
}

bool TrialDispatcher::SeenRecently(int64_t worker_id, absl::Time now) {
  absl::MutexLock lock(&leased_mu_);
  auto it = seen_.find(worker_id);
  return it != seen_.end() && now < it->second + options_.lease_ttl / 2;
}

absl::StatusOr<v1::Trial> TrialDispatcher::ReportedTrial(int64_t trial_id) {
  {
    absl::MutexLock lock(&leased_mu_);
    auto it = leased_.find(trial_id);
    if (it != leased_.end()) return it->second.trial;
  }
  return store_->GetTrial(trial_id);  // Leased before a restart, or stale.
}

absl::StatusOr<ReportAck> TrialDispatcher::Report(
    int64_t worker_id, const std::string& lease_id, int64_t trial_id,
    const v1::TrialResult& result, int lease_next) {
  NAS_RETURN_IF_ERROR(ValidateTrialResult(result));
  NAS_ASSIGN_OR_RETURN(v1::Trial trial, ReportedTrial(trial_id));
  PendingReport pending;
  {
    // The outcome depends only on the spec and the device, which a
    // reloaded context shares: computed once for every attempt.
    NAS_ASSIGN_OR_RETURN(std::shared_ptr<SearchContext> context,
                         contexts_->Get(trial.search_id()));
    NAS_ASSIGN_OR_RETURN(TrialOutcome outcome,
                         MakeOutcome(*context, trial, result, worker_id));
    pending.completion =
        Completion{trial_id, worker_id, lease_id, std::move(outcome)};
    pending.search_id = trial.search_id();
    pending.learns = context->learns_from_results();
  }
  reports_.Submit(&pending);
  NAS_ASSIGN_OR_RETURN(const CompletionResult done, pending.result);
  if (!done.accepted) {
    LOG(INFO) << "report for trial " << trial_id << " from worker " << worker_id
              << " not accepted: " << done.detail;
    return ReportAck{false, done.detail,
                     NextTasks(worker_id, lease_id, lease_next, false)};
  }
  {
    absl::MutexLock lock(&leased_mu_);
    leased_.erase(trial_id);
  }
  if (progress_ != nullptr) progress_->Remove(trial_id);
  const v1::TrialState state = done.trial.state();
  metrics_->TrialFinished(done.trial, done.duration_seconds);
  VLOG(1) << "trial " << trial_id << " of search " << trial.search_id() << " "
          << v1::TrialState_Name(state) << " after " << done.duration_seconds
          << " s (worker " << worker_id << ")";
  if (done.search_failed) {
    LOG(WARNING) << "search " << trial.search_id() << " FAILED: data: "
                 << done.trial.failure_reason() << " (trial " << trial_id
                 << ", worker " << worker_id << ")";
    contexts_->Forget(trial.search_id());
  }
  if (listener_ != nullptr) {
    listener_->OnSearchChanged(trial.search_id(), trial_id);
  }
  wake_scheduler_();
  return ReportAck{true, "result recorded",
                   NextTasks(worker_id, lease_id, lease_next, true)};
}

std::vector<v1::TrialTask> TrialDispatcher::NextTasks(
    int64_t worker_id, const std::string& reported, int lease_next,
    bool accepted) {
  if (lease_next <= 0) return {};
  absl::StatusOr<std::vector<v1::TrialTask>> tasks =
      std::vector<v1::TrialTask>();
  if (!accepted) tasks = LeasedBefore(worker_id, reported, lease_next);
  if (tasks.ok() && tasks->empty()) {
    tasks = LeaseFor(worker_id, lease_next, reported);
  }
  if (!tasks.ok()) {
    LOG(WARNING) << "worker " << worker_id
                 << ": leasing after its report failed: " << tasks.status();
    return {};
  }
  return *std::move(tasks);
}

absl::StatusOr<std::vector<v1::TrialTask>> TrialDispatcher::LeasedBefore(
    int64_t worker_id, const std::string& reported, int max) {
  std::vector<std::pair<int64_t, std::string>> chained;  // Trial, lease.
  {
    absl::MutexLock lock(&leased_mu_);
    for (const auto& [trial_id, info] : leased_) {
      if (info.chained_by == reported && info.worker_id == worker_id) {
        chained.emplace_back(trial_id, info.lease_id);
      }
    }
  }
  std::sort(chained.begin(), chained.end());
  if (chained.size() > static_cast<size_t>(max)) chained.resize(max);
  std::vector<v1::TrialTask> tasks;
  if (chained.empty()) return tasks;
  std::vector<std::string> lease_ids;
  for (const auto& c : chained) lease_ids.push_back(c.second);
  NAS_ASSIGN_OR_RETURN(std::vector<v1::LeaseVerdict> verdicts,
                       Heartbeat(worker_id, lease_ids));
  for (size_t i = 0; i < chained.size(); ++i) {
    if (!verdicts[i].keep_going()) continue;  // Lost or cancelled meanwhile.
    absl::StatusOr<v1::Trial> trial = store_->GetTrial(chained[i].first);
    absl::StatusOr<v1::TrialTask> task =
        trial.ok() ? MakeTask(LeasedTrial{*trial, chained[i].second})
                   : trial.status();
    if (!task.ok()) {  // The lease expires and the trial is handed out again.
      LOG(ERROR) << "trial " << chained[i].first << ": " << task.status();
      continue;
    }
    LOG(INFO) << "trial " << chained[i].first << " (lease " << chained[i].second
              << ") handed again to worker " << worker_id
              << ": the answer that carried it was lost";
    tasks.push_back(*std::move(task));
  }
  return tasks;
}

std::vector<size_t> TrialDispatcher::PickBatch(
    absl::Span<PendingReport* const> queued) {
  std::vector<size_t> batch;
  absl::flat_hash_set<int64_t> learning;  // Searches with a report taken.
  for (size_t i = 0; i < queued.size() && batch.size() < kMaxBatch; ++i) {
    const PendingReport* p = queued[i];
    if (p->learns && !learning.insert(p->search_id).second) continue;
    batch.push_back(i);
  }
  return batch;
}

void TrialDispatcher::RecordBatch(const std::vector<PendingReport*>& batch) {
  absl::StatusOr<std::vector<absl::StatusOr<CompletionResult>>> results;
  for (int attempt = 1; attempt <= kCompleteAttempts; ++attempt) {
    results = CompleteBatch(batch);
    if (!absl::IsAborted(results.status())) break;
    LOG(WARNING) << batch.size() << " report(s) of trials from "
                 << batch.front()->completion.trial_id << ": recording attempt "
                 << attempt << " aborted: " << results.status();
  }
  if (!results.ok() && batch.size() > 1) {
    for (PendingReport* p : batch) RecordBatch({p});
    return;
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    batch[i]->result = results.ok() ? (*results)[i] : results.status();
  }
}

absl::StatusOr<std::vector<absl::StatusOr<CompletionResult>>>
TrialDispatcher::CompleteBatch(const std::vector<PendingReport*>& batch) {
  std::vector<int64_t> search_ids;
  std::vector<Completion> completions;
  for (const PendingReport* p : batch) {
    search_ids.push_back(p->search_id);
    completions.push_back(p->completion);
  }
  std::sort(search_ids.begin(), search_ids.end());
  search_ids.erase(std::unique(search_ids.begin(), search_ids.end()),
                   search_ids.end());
  std::vector<std::shared_ptr<SearchContext>> held;
  std::vector<SearchContext*> contexts;
  for (int64_t id : search_ids) {
    NAS_ASSIGN_OR_RETURN(held.emplace_back(), contexts_->Get(id));
    contexts.push_back(held.back().get());
  }
  // The results and what the policies learn from them commit together.
  using Results = std::vector<absl::StatusOr<CompletionResult>>;
  return SearchContext::RunObservedTogether<Results>(
      contexts, [&](const PolicyObserver& observe) {
        return store_->CompleteTrials(completions, clock_->Now(), observe);
      });
}

absl::StatusOr<TrialOutcome> TrialDispatcher::MakeOutcome(
    const SearchContext& context, const v1::Trial& trial,
    const v1::TrialResult& result, int64_t worker_id) {
  TrialOutcome outcome;
  if (result.has_failure_reason()) {
    outcome.state = v1::TRIAL_FAILED;
    outcome.metrics = trial.metrics();
    outcome.failure_reason = SanitizeReason(result.failure_reason());
    outcome.data_error = result.data_error();
    return outcome;
  }
  const v1::SearchSpec& spec = context.spec();
  outcome.state = v1::TRIAL_SUCCEEDED;
  outcome.metrics = MergeMeasuredMetrics(trial.metrics(), result.metrics());
  const v1::Metrics& m = outcome.metrics;
  if (m.built_params() != 0 && m.built_params() != m.params()) {
    LOG(WARNING) << "trial " << trial.id() << ": worker " << worker_id
                 << " built " << m.built_params() << " params, cost model "
                 << "says " << m.params();
  }
  absl::StatusOr<double> reward =
      ComputeReward(spec.reward(), m, context.device(), spec.constraints());
  if (!reward.ok()) {
    return absl::InternalError(
        absl::StrCat("cannot compute the reward of "
                     "trial ",
                     trial.id(), ": ", reward.status().message()));
  }
  outcome.reward = *reward;
  outcome.model = result.torchscript();
  if (result.has_int8_model()) {
    outcome.int8_model = result.int8_model().SerializeAsString();
  }
  return outcome;
}

}  // namespace nas::controller
