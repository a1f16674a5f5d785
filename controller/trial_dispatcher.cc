#include "controller/trial_dispatcher.h"

#include <openssl/rand.h>

#include <algorithm>
#include <random>
#include <utility>

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

}  // namespace

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
                                 DispatcherOptions options)
    : store_(store),
      contexts_(contexts),
      clock_(clock),
      metrics_(metrics),
      listener_(listener),
      wake_scheduler_(std::move(wake_scheduler)),
      options_(options) {}

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
  NAS_ASSIGN_OR_RETURN(WorkerInfo worker, store_->GetWorker(worker_id));
  const int wanted = std::min(free_slots, worker.slots);
  std::vector<v1::TrialTask> tasks;
  if (wanted <= 0) return tasks;
  std::vector<std::string> lease_ids;
  for (int i = 0; i < wanted; ++i) lease_ids.push_back(NewLeaseId());
  const absl::Time now = clock_->Now();
  NAS_ASSIGN_OR_RETURN(
      std::vector<LeasedTrial> leased,
      store_->LeaseTrials(worker_id, lease_ids, now, now + options_.lease_ttl));
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
  if (static_cast<int>(leased.size()) < wanted) wake_scheduler_();
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
    int64_t worker_id, const std::vector<std::string>& lease_ids) {
  const absl::Time now = clock_->Now();
  NAS_ASSIGN_OR_RETURN(
      std::vector<LeaseStatus> statuses,
      store_->Heartbeat(worker_id, lease_ids, now, now + options_.lease_ttl));
  std::vector<v1::LeaseVerdict> verdicts;
  for (size_t i = 0; i < lease_ids.size(); ++i) {
    v1::LeaseVerdict& verdict = verdicts.emplace_back();
    verdict.set_lease_id(lease_ids[i]);
    verdict.set_keep_going(statuses[i] == LeaseStatus::kActive);
  }
  return verdicts;
}

absl::StatusOr<ReportAck> TrialDispatcher::Report(
    int64_t worker_id, const std::string& lease_id, int64_t trial_id,
    const v1::TrialResult& result) {
  NAS_RETURN_IF_ERROR(ValidateTrialResult(result));
  NAS_ASSIGN_OR_RETURN(v1::Trial trial, store_->GetTrial(trial_id));
  // The outcome depends only on the spec and the device, which a reloaded
  // context shares: computed once for every attempt.
  NAS_ASSIGN_OR_RETURN(std::shared_ptr<SearchContext> context,
                       contexts_->Get(trial.search_id()));
  NAS_ASSIGN_OR_RETURN(const TrialOutcome outcome,
                       MakeOutcome(*context, trial, result, worker_id));
  context.reset();
  absl::StatusOr<CompletionResult> completed;
  for (int attempt = 1; attempt <= kCompleteAttempts; ++attempt) {
    completed = Complete(trial, worker_id, lease_id, outcome);
    if (!absl::IsAborted(completed.status())) break;
    LOG(WARNING) << "trial " << trial_id << ": recording attempt " << attempt
                 << " aborted: " << completed.status();
  }
  NAS_RETURN_IF_ERROR(completed.status());
  const CompletionResult& done = *completed;
  if (!done.accepted) {
    LOG(INFO) << "report for trial " << trial_id << " from worker " << worker_id
              << " not accepted: " << done.detail;
    return ReportAck{false, done.detail};
  }
  const v1::TrialState state = done.trial.state();
  metrics_->TrialFinished(state, done.duration_seconds);
  LOG(INFO) << "trial " << trial_id << " of search " << trial.search_id() << " "
            << v1::TrialState_Name(state) << " after " << done.duration_seconds
            << " s (worker " << worker_id << ")";
  if (listener_ != nullptr) {
    listener_->OnSearchChanged(trial.search_id(), trial_id);
  }
  wake_scheduler_();
  return ReportAck{true, "result recorded"};
}

absl::StatusOr<CompletionResult> TrialDispatcher::Complete(
    const v1::Trial& trial, int64_t worker_id, const std::string& lease_id,
    const TrialOutcome& outcome) {
  NAS_ASSIGN_OR_RETURN(std::shared_ptr<SearchContext> context,
                       contexts_->Get(trial.search_id()));
  // The result and what the policy learns from it commit together.
  return context->RunObserved<CompletionResult>(
      [&](const PolicyObserver& observe) {
        return store_->CompleteTrial(trial.id(), worker_id, lease_id, outcome,
                                     clock_->Now(), observe);
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
  return outcome;
}

}  // namespace nas::controller
