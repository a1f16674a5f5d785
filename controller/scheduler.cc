#include "controller/scheduler.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "common/architecture.h"
#include "common/cost_model.h"
#include "common/logging.h"
#include "common/pareto.h"
#include "common/reward.h"
#include "common/spec.h"
#include "common/status_macros.h"
#include "controller/scheduling_rules.h"

namespace nas::controller {
namespace {

// Proposals one round may make for a search, infeasible ones included, so
// that a space that rarely fits the device cannot stall the loop.
constexpr int kMaxProposalsPerRound = 256;
// A round ends after this many proposals in a row that were being trained
// already (a small space whose networks are all in flight); the next round
// tries again.
constexpr int kMaxSkipsInARow = 16;

// How often a RUNNING search's Pareto-front gauge is brought up to date.
constexpr absl::Duration kParetoInterval = absl::Seconds(30);
// How often failing scheduler rounds are logged, after the first.
constexpr absl::Duration kFailureLogInterval = absl::Seconds(30);
// Final trials read from the store at once for the front.
constexpr int kParetoPage = 4096;

}  // namespace

absl::StatusOr<int> ParetoFrontSize(TrialStore* store, int64_t search_id,
                                    const FrontRules& rules, int page_size) {
  FrontBuilder front(rules);
  int after = -1;
  while (true) {
    NAS_ASSIGN_OR_RETURN(
        FrontCandidatePage page,
        store->ListFrontCandidates(search_id, after, page_size));
    for (const v1::Trial& trial : page.trials) front.Add(trial);
    if (static_cast<int>(page.trials.size()) < page_size) break;
    after = page.last_number;
  }
  return static_cast<int>(front.Front().size());
}

// What became of one proposed architecture.
enum class Scheduler::Fate { kQueued, kCached, kInfeasible, kSkipped };

Scheduler::Scheduler(TrialStore* store, SearchContexts* contexts,
                     const Clock* clock, ControllerMetrics* metrics,
                     ChangeListener* listener, SchedulerOptions options)
    : store_(store),
      contexts_(contexts),
      clock_(clock),
      metrics_(metrics),
      listener_(listener),
      options_(std::move(options)) {}

Scheduler::~Scheduler() { Stop(); }

absl::StatusOr<v1::Search> Scheduler::SubmitSearch(const v1::SearchSpec& spec) {
  // CompleteSearchSpec checks the submission limits (common/spec_limits.h)
  // first.
  std::vector<std::string> problems;
  absl::StatusOr<v1::SearchSpec> completed =
      CompleteSearchSpec(spec, options_.data_root);
  if (!completed.ok()) {
    problems.push_back(std::string(completed.status().message()));
  } else if (auto strategy = CreateSearchStrategy(*completed); !strategy.ok()) {
    problems.push_back(std::string(strategy.status().message()));
  }
  if (!problems.empty()) {
    return absl::InvalidArgumentError(absl::StrJoin(problems, "\n"));
  }
  NAS_ASSIGN_OR_RETURN(int64_t id,
                       store_->CreateSearch(*completed, clock_->Now()));
  LOG(INFO) << "search " << id << " (" << completed->name()
            << ") submitted: " << completed->budget().max_trials()
            << " trials on " << completed->device() << ", policy "
            << completed->policy();
  const v1::DatasetSummary& data = completed->dataset().summary();
  LOG(INFO) << "search " << id << " data set " << completed->dataset().name()
            << ": " << data.train_samples() << " train / "
            << data.test_samples() << " test samples, "
            << data.class_names_size() << " classes"
            << (completed->dataset().length() > 0
                    ? absl::StrCat("; ", data.padded(), " series padded and ",
                                   data.cut(), " cut to length ",
                                   completed->dataset().length())
                    : "");
  Notify(id, 0);
  Wake();
  NAS_ASSIGN_OR_RETURN(SearchRecord record, store_->GetSearch(id));
  return record.search;
}

absl::StatusOr<v1::Search> Scheduler::CancelSearch(int64_t search_id) {
  NAS_RETURN_IF_ERROR(store_->CancelSearch(search_id, clock_->Now()));
  contexts_->Forget(search_id);
  LOG(INFO) << "search " << search_id << " cancelled";
  Notify(search_id, 0);
  NAS_ASSIGN_OR_RETURN(SearchRecord record, store_->GetSearch(search_id));
  SetSearchMetrics(record.search);
  return record.search;
}

absl::Status Scheduler::Tick() {
  absl::MutexLock lock(&tick_mu_);
  const absl::Time now = clock_->Now();
  absl::Status status = GraceLeases(now);
  if (status.ok()) status = Round(now);
  if (absl::IsUnavailable(status) && unreachable_.empty()) {
    unreachable_ = absl::StrCat("the database did not answer from ",
                                absl::FormatTime("%H:%M:%E3S", now,
                                                 absl::LocalTimeZone()));
  }
  return status;
}

absl::Status Scheduler::GraceLeases(absl::Time now) {
  if (unreachable_.empty()) return absl::OkStatus();
  // The database answers again only once a connection is open anew: open
  // it first, then read the clock, so that the grace runs from when the
  // database answered. Otherwise a worker's heartbeat that reached it
  // meanwhile (renewing its leases from a later time) would leave this
  // nothing to extend, and the grace would not be logged.
  NAS_RETURN_IF_ERROR(store_->RunningSearchIds().status());
  now = std::max(now, clock_->Now());
  NAS_ASSIGN_OR_RETURN(const int extended,
                       store_->ExtendLeases(now + options_.lease_ttl));
  if (extended > 0) {
    LOG(WARNING) << unreachable_ << ": " << extended
                 << " running lease(s) now run at least a lease TTL ("
                 << options_.lease_ttl
                 << ") from now, so that their workers can heartbeat";
  }
  unreachable_.clear();
  return absl::OkStatus();
}

absl::Status Scheduler::Round(absl::Time now) {
  NAS_RETURN_IF_ERROR(ExpireLeases(now));
  NAS_ASSIGN_OR_RETURN(SlotCounts slots,
                       store_->CountSlots(now - options_.worker_timeout));
  // Set before proposing: a lease of a trial proposed below moves the
  // gauges on from this count.
  metrics_->SetSlots(slots.busy, std::max(0, slots.total - slots.busy));
  NAS_ASSIGN_OR_RETURN(std::vector<int64_t> ids, store_->RunningSearchIds());
  int pending = 0;
  for (int64_t id : ids) {
    absl::Status status = PlanRunningSearch(id, now, slots, &pending);
    if (!status.ok()) LOG(WARNING) << "search " << id << ": " << status;
  }
  metrics_->SetQueueDepth(pending);
  SettleEndedSearches();
  return absl::OkStatus();
}

void Scheduler::SetSearchMetrics(const v1::Search& search) {
  metrics_->SetSearch(search);
  const bool settling = search.state() != v1::SEARCH_RUNNING &&
                        search.trials_pending() + search.trials_running() > 0;
  absl::MutexLock lock(&settle_mu_);
  if (settling) {
    settling_.insert(search.id());
  } else {
    settling_.erase(search.id());
  }
}

void Scheduler::SettleEndedSearches() {
  std::vector<int64_t> ids;
  {
    absl::MutexLock lock(&settle_mu_);
    ids.assign(settling_.begin(), settling_.end());
  }
  for (int64_t id : ids) {
    absl::StatusOr<SearchRecord> record = store_->GetSearch(id);
    if (record.ok()) {
      SetSearchMetrics(record->search);
    } else {
      LOG(WARNING) << "search " << id << ": " << record.status();
    }
  }
}

absl::Status Scheduler::ExpireLeases(absl::Time now) {
  NAS_ASSIGN_OR_RETURN(std::vector<ExpiredLease> expired,
                       store_->ExpireLeases(now));
  if (expired.empty()) return absl::OkStatus();
  metrics_->LeasesExpired(static_cast<int>(expired.size()));
  for (const ExpiredLease& e : expired) {
    LOG(WARNING) << "trial " << e.trial_id << " of search " << e.search_id
                 << ": lease of worker " << e.worker << " expired (attempt "
                 << e.attempts << "); trial now "
                 << v1::TrialState_Name(e.new_state);
    // A FAILED or CANCELLED trial teaches the policies nothing.
    Notify(e.search_id, e.trial_id);
  }
  return absl::OkStatus();
}

absl::Status Scheduler::PlanRunningSearch(int64_t search_id, absl::Time now,
                                          const SlotCounts& slots,
                                          int* pending) {
  NAS_ASSIGN_OR_RETURN(SearchRecord record, store_->GetSearch(search_id));
  // A search whose context cannot be loaded still gets planned (it may have
  // to end); Propose reports the error.
  absl::StatusOr<std::shared_ptr<SearchContext>> context =
      contexts_->Get(search_id);
  const bool learns = !context.ok() || (*context)->learns_from_results();
  const SearchPlan plan =
      PlanSearch(record, now, std::max(0, slots.total - slots.busy),
                 QueueBuffer(learns, slots.total));
  if (plan.cancel_pending) {
    NAS_ASSIGN_OR_RETURN(int cancelled,
                         store_->CancelPendingTrials(search_id, now));
    LOG(INFO) << "search " << search_id << ": " << plan.message << "; "
              << cancelled << " queued trials cancelled";
    Notify(search_id, 0);
  }
  if (plan.finish.has_value()) {
    NAS_ASSIGN_OR_RETURN(
        bool finished,
        store_->FinishSearch(search_id, *plan.finish, plan.message, now));
    if (finished) {
      LOG(INFO) << "search " << search_id << " "
                << v1::SearchState_Name(*plan.finish) << ": " << plan.message;
      contexts_->Forget(search_id);
      Notify(search_id, 0);
    }
  } else if (plan.proposals > 0) {
    absl::Status proposed = Propose(record, plan.proposals, now);
    // FailedPrecondition: cancelled meanwhile; it stops proposing.
    if (!proposed.ok() && !absl::IsFailedPrecondition(proposed)) {
      return proposed;
    }
  }
  // Read again only when this round changed the search.
  if (plan.cancel_pending || plan.finish.has_value() || plan.proposals > 0) {
    NAS_ASSIGN_OR_RETURN(record, store_->GetSearch(search_id));
  }
  *pending += record.search.trials_pending();
  SetSearchMetrics(record.search);
  return UpdateParetoSize(record.search, now);
}

absl::Status Scheduler::Propose(const SearchRecord& record, int count,
                                absl::Time now) {
  const int64_t id = record.search.id();
  NAS_ASSIGN_OR_RETURN(std::shared_ptr<SearchContext> context,
                       contexts_->Get(id));
  const int max_infeasible = context->spec().budget().max_infeasible();
  int streak = record.infeasible_streak;
  int made = 0;
  int skips = 0;
  const Tally tally = [&](Fate fate) {
    streak = fate == Fate::kInfeasible ? streak + 1
             : fate == Fate::kSkipped  ? streak
                                       : 0;
    skips = fate == Fate::kSkipped ? skips + 1 : 0;
    if (fate == Fate::kQueued || fate == Fate::kCached) --count;
  };
  while (count > 0 && made < kMaxProposalsPerRound && skips < kMaxSkipsInARow &&
         (max_infeasible <= 0 || streak < max_infeasible)) {
    const int batch = std::min(count, kMaxProposalsPerRound - made);
    NAS_ASSIGN_OR_RETURN(int64_t first, store_->ReserveProposals(id, batch));
    NAS_ASSIGN_OR_RETURN(std::vector<v1::Architecture> proposed,
                         context->Propose({id, first}, batch));
    made += batch;
    // Feasible candidates are queued a run at a time, in one transaction;
    // an infeasible one is stored after the run before it, so that trials
    // keep the order of the proposals.
    std::vector<NewTrial> run;
    for (const v1::Architecture& arch : proposed) {
      if (max_infeasible > 0 && streak >= max_infeasible) break;
      NewTrial trial = MakeCandidate(*context, arch);
      if (trial.violations.empty()) {
        run.push_back(std::move(trial));
        continue;
      }
      NAS_RETURN_IF_ERROR(QueueCandidates(*context, &run, now, tally));
      trial.state = v1::TRIAL_INFEASIBLE;
      NAS_ASSIGN_OR_RETURN(v1::Trial stored, InsertFinal(*context, trial, now));
      metrics_->InfeasibleRejected();
      Notify(stored.search_id(), stored.id());
      tally(Fate::kInfeasible);
    }
    NAS_RETURN_IF_ERROR(QueueCandidates(*context, &run, now, tally));
  }
  if (std::optional<double> epsilon = context->Epsilon()) {
    metrics_->SetEpsilon(id, *epsilon);
  }
  return absl::OkStatus();
}

NewTrial Scheduler::MakeCandidate(const SearchContext& context,
                                  const v1::Architecture& proposed) {
  const v1::SearchSpec& spec = context.spec();
  NewTrial trial;
  trial.search_id = context.search_id();
  trial.state = v1::TRIAL_PENDING;
  trial.architecture = CanonicalArchitecture(proposed);
  trial.arch_hash = ArchitectureHash(trial.architecture);
  trial.cache_key = ResultCacheKey(trial.architecture, spec);
  absl::StatusOr<CostReport> cost =
      AnalyzeCost(trial.architecture, spec.dataset().input_shape(),
                  spec.dataset().num_classes(), context.device());
  if (cost.ok()) {
    FillAnalyticMetrics(*cost, &trial.metrics);
    trial.violations =
        CheckConstraints(*cost, context.device(), spec.constraints());
  } else {  // The policy proposed a network that does not even build.
    trial.violations = {std::string(cost.status().message())};
  }
  return trial;
}

absl::Status Scheduler::QueueCandidates(SearchContext& context,
                                        std::vector<NewTrial>* run,
                                        absl::Time now, const Tally& tally) {
  if (run->empty()) return absl::OkStatus();
  // Queued unless trained before or in training now (kAlreadyExists): most
  // proposals are new networks, so the cache is only looked up for those
  // the store refuses.
  NAS_ASSIGN_OR_RETURN(std::vector<absl::StatusOr<v1::Trial>> stored,
                       store_->InsertPendingTrials(*run, now));
  for (size_t i = 0; i < run->size(); ++i) {
    if (stored[i].ok()) {
      Notify(stored[i]->search_id(), stored[i]->id());
      tally(Fate::kQueued);
      continue;
    }
    if (!absl::IsAlreadyExists(stored[i].status())) return stored[i].status();
    NewTrial& trial = (*run)[i];
    NAS_ASSIGN_OR_RETURN(std::optional<v1::Trial> source,
                         store_->FindCachedResult(trial.cache_key));
    if (!source.has_value()) {  // In training right now.
      metrics_->DuplicateSkipped();
      tally(Fate::kSkipped);
      continue;
    }
    NAS_RETURN_IF_ERROR(StoreCached(context, std::move(trial), *source, now));
    tally(Fate::kCached);
  }
  run->clear();
  return absl::OkStatus();
}

absl::Status Scheduler::StoreCached(SearchContext& context, NewTrial trial,
                                    const v1::Trial& source, absl::Time now) {
  const v1::SearchSpec& spec = context.spec();
  trial.state = v1::TRIAL_CACHED;
  trial.cached_from = source.id();
  trial.metrics = MergeMeasuredMetrics(trial.metrics, source.metrics());
  // The reward follows this search's reward spec, not the source's.
  NAS_ASSIGN_OR_RETURN(trial.reward,
                       ComputeReward(spec.reward(), trial.metrics,
                                     context.device(), spec.constraints()));
  NAS_ASSIGN_OR_RETURN(v1::Trial stored, InsertFinal(context, trial, now));
  metrics_->CacheHit(stored);
  Notify(stored.search_id(), stored.id());
  return absl::OkStatus();
}

absl::StatusOr<v1::Trial> Scheduler::InsertFinal(SearchContext& context,
                                                 const NewTrial& trial,
                                                 absl::Time now) {
  return context.RunObserved<v1::Trial>([&](const PolicyObserver& observe) {
    return store_->InsertTrial(trial, now, observe);
  });
}

void Scheduler::Notify(int64_t search_id, int64_t trial_id) {
  if (listener_ != nullptr) listener_->OnSearchChanged(search_id, trial_id);
}

absl::Status Scheduler::UpdateParetoSize(const v1::Search& search,
                                         absl::Time now) {
  // The front needs every final trial: at most once per kParetoInterval (and
  // when the search has ended), not every round, so that rounds cost the
  // same whatever the size of the search.
  ParetoWatch& watch = pareto_.try_emplace(search.id()).first->second;
  const bool ended = search.state() != v1::SEARCH_RUNNING;
  if (search.trials_done() == watch.done ||
      (!ended && now < watch.updated + kParetoInterval)) {
    return absl::OkStatus();
  }
  watch.done = search.trials_done();
  watch.updated = now;
  NAS_ASSIGN_OR_RETURN(
      const int size,
      ParetoFrontSize(store_, search.id(), FrontRulesFor(search.spec()),
                      kParetoPage));
  metrics_->SetParetoSize(search.id(), size);
  if (ended) pareto_.erase(search.id());
  return absl::OkStatus();
}

void Scheduler::Start(absl::Duration interval) {
  loop_ = std::thread([this, interval] { Loop(interval); });
}

void Scheduler::Stop() {
  {
    absl::MutexLock lock(&loop_mu_);
    stop_ = true;
  }
  if (loop_.joinable()) loop_.join();
}

void Scheduler::Wake() {
  absl::MutexLock lock(&loop_mu_);
  wake_ = true;
}

void Scheduler::Loop(absl::Duration interval) {
  // Rounds fail together (a database outage fails every one): the first
  // failure is logged, then one line every kFailureLogInterval with the
  // count, and one when rounds succeed again.
  int failed = 0;
  absl::Time first_failure;
  absl::Time logged;
  while (true) {
    {
      absl::MutexLock lock(&loop_mu_);
      auto woken = [this]() ABSL_SHARED_LOCKS_REQUIRED(loop_mu_) {
        return wake_ || stop_;
      };
      loop_mu_.AwaitWithTimeout(absl::Condition(&woken), interval);
      if (stop_) return;
      wake_ = false;
    }
    const absl::Status status = Tick();
    const absl::Time now = absl::Now();
    if (status.ok()) {
      if (failed > 1) {
        LOG(INFO) << "scheduler rounds succeed again, after " << failed
                  << " failed over "
                  << absl::Trunc(now - first_failure, absl::Milliseconds(1));
      }
      failed = 0;
      continue;
    }
    if (failed++ == 0) first_failure = now;
    if (failed == 1) {
      LOG(WARNING) << "scheduler round failed: " << status;
      logged = now;
    } else if (now >= logged + kFailureLogInterval) {
      LOG(WARNING) << "scheduler rounds still failing (" << failed
                   << " in a row, over "
                   << absl::Trunc(now - first_failure, absl::Seconds(1))
                   << "): " << status;
      logged = now;
    }
  }
}

}  // namespace nas::controller
