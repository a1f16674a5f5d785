#include "controller/controller_metrics.h"

#include <algorithm>
#include <cctype>

#include "absl/strings/str_cat.h"

namespace nas::controller {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;
using prometheus::Histogram;

// "TRIAL_SUCCEEDED" -> "succeeded".
std::string StateLabel(v1::TrialState state) {
  std::string name = v1::TrialState_Name(state);
  if (name.rfind("TRIAL_", 0) == 0) name = name.substr(6);
  for (char& c : name) c = static_cast<char>(std::tolower(c));
  return name;
}

const Histogram::BucketBoundaries& TrialBuckets() {
  static const auto* buckets = new Histogram::BucketBoundaries{
      1, 5, 10, 30, 60, 120, 300, 600, 1200, 3600};
  return *buckets;
}

// Rewards are mostly in [0, 1] (accuracy, weighted_exp, linear); "max"
// rewards are negative.
const Histogram::BucketBoundaries& RewardBuckets() {
  static const auto* buckets = new Histogram::BucketBoundaries{
      -5,  -2,  -1,  -0.5, -0.25, 0,   0.1,  0.2, 0.3,
      0.4, 0.5, 0.6, 0.7,  0.8,   0.85, 0.9, 0.95, 1};
  return *buckets;
}

const Histogram::BucketBoundaries& RpcBuckets() {
  static const auto* buckets = new Histogram::BucketBoundaries{
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5};
  return *buckets;
}

std::string Key(const prometheus::Labels& labels) {
  std::string key;
  for (const auto& [name, value] : labels) {
    absl::StrAppend(&key, name, "=", value, ";");
  }
  return key;
}

}  // namespace

ControllerMetrics::ControllerMetrics(prometheus::Registry* registry)
    : trials_(BuildGauge()
                  .Name("nas_trials")
                  .Help("Trials of a search by state")
                  .Register(*registry)),
      best_reward_(BuildGauge()
                       .Name("nas_search_best_reward")
                       .Help("Best reward of a search so far")
                       .Register(*registry)),
      best_accuracy_(BuildGauge()
                         .Name("nas_search_best_accuracy")
                         .Help("Best validation accuracy of a search so far (of the int8 models when it quantises)")
                         .Register(*registry)),
      pareto_size_(BuildGauge()
                       .Name("nas_search_pareto_front_size")
                       .Help("Trials on the Pareto front of a search")
                       .Register(*registry)),
      epsilon_(BuildGauge()
                   .Name("nas_search_epsilon")
                   .Help("Exploration rate of a Q-learning search's latest "
                         "proposals")
                   .Register(*registry)),
      rewards_(BuildHistogram()
                   .Name("nas_trial_reward")
                   .Help("Rewards of a search's SUCCEEDED and CACHED trials")
                   .Register(*registry)),
      queue_depth_(BuildGauge()
                       .Name("nas_queue_depth")
                       .Help("PENDING trials waiting for a worker")
                       .Register(*registry)
                       .Add({})),
      slots_(BuildGauge()
                 .Name("nas_worker_slots")
                 .Help("Trial slots of live workers by state")
                 .Register(*registry)),
      slots_busy_(slots_.Add({{"state", "busy"}})),
      slots_free_(slots_.Add({{"state", "free"}})),
      leases_expired_(BuildCounter()
                          .Name("nas_leases_expired_total")
                          .Help("Leases that expired without a report")
                          .Register(*registry)
                          .Add({})),
      cache_hits_(BuildCounter()
                      .Name("nas_cache_hits_total")
                      .Help("Candidates answered from the result cache")
                      .Register(*registry)
                      .Add({})),
      infeasible_(BuildCounter()
                      .Name("nas_infeasible_rejected_total")
                      .Help("Candidates rejected for breaking a constraint")
                      .Register(*registry)
                      .Add({})),
      duplicates_(BuildCounter()
                      .Name("nas_duplicate_proposals_skipped_total")
                      .Help("Candidates skipped: the same network was in "
                            "training")
                      .Register(*registry)
                      .Add({})),
      trial_seconds_(BuildHistogram()
                         .Name("nas_trial_duration_seconds")
                         .Help("From lease to report, by final trial state")
                         .Register(*registry)),
      rpcs_(BuildCounter()
                .Name("nas_rpc_requests_total")
                .Help("Finished RPCs by method and status code")
                .Register(*registry)),
      rpc_seconds_(BuildHistogram()
                       .Name("nas_rpc_latency_seconds")
                       .Help("RPC handling time by method")
                       .Register(*registry)) {}

template <typename T, typename... Args>
T& ControllerMetrics::Get(Cache<T>& cache, prometheus::Family<T>& family,
                          const prometheus::Labels& labels, Args&&... args) {
  T*& metric = cache[{&family, Key(labels)}];
  if (metric == nullptr) {
    metric = &family.Add(labels, std::forward<Args>(args)...);
  }
  return *metric;
}

void ControllerMetrics::SetSearch(const v1::Search& search) {
  const std::string id = absl::StrCat(search.id());
  const std::pair<v1::TrialState, int> counts[] = {
      {v1::TRIAL_PENDING, search.trials_pending()},
      {v1::TRIAL_RUNNING, search.trials_running()},
      {v1::TRIAL_FAILED, search.trials_failed()},
      {v1::TRIAL_INFEASIBLE, search.trials_infeasible()},
      {v1::TRIAL_CACHED, search.trials_cached()},
      {v1::TRIAL_SUCCEEDED,
       search.trials_done() - search.trials_failed() - search.trials_cached()}};
  absl::MutexLock lock(&mu_);
  for (const auto& [state, count] : counts) {
    Get(gauges_, trials_, {{"search", id}, {"state", StateLabel(state)}})
        .Set(count);
  }
  if (search.best_trial_id() > 0) {
    Get(gauges_, best_reward_, {{"search", id}}).Set(search.best_reward());
    Get(gauges_, best_accuracy_, {{"search", id}}).Set(search.best_accuracy());
  }
}

void ControllerMetrics::SetParetoSize(int64_t search_id, int size) {
  absl::MutexLock lock(&mu_);
  Get(gauges_, pareto_size_, {{"search", absl::StrCat(search_id)}}).Set(size);
}

void ControllerMetrics::SetEpsilon(int64_t search_id, double epsilon) {
  absl::MutexLock lock(&mu_);
  Get(gauges_, epsilon_, {{"search", absl::StrCat(search_id)}}).Set(epsilon);
}

void ControllerMetrics::SetQueueDepth(int pending) { queue_depth_.Set(pending); }

void ControllerMetrics::SetSlots(int busy_slots, int free_slots) {
  absl::MutexLock lock(&slots_mu_);
  busy_slots_ = busy_slots;
  total_slots_ = busy_slots + free_slots;
  PublishSlots();
}

void ControllerMetrics::SlotsLeased(int count) {
  absl::MutexLock lock(&slots_mu_);
  busy_slots_ = std::min(total_slots_, busy_slots_ + count);
  PublishSlots();
}

void ControllerMetrics::PublishSlots() {
  slots_busy_.Set(busy_slots_);
  slots_free_.Set(total_slots_ - busy_slots_);
}

void ControllerMetrics::LeasesExpired(int count) {
  leases_expired_.Increment(count);
}
void ControllerMetrics::CacheHit(const v1::Trial& trial) {
  cache_hits_.Increment();
  absl::MutexLock lock(&mu_);
  ObserveReward(trial);
}

void ControllerMetrics::InfeasibleRejected() { infeasible_.Increment(); }
void ControllerMetrics::DuplicateSkipped() { duplicates_.Increment(); }

void ControllerMetrics::TrialFinished(const v1::Trial& trial,
                                      double seconds) {
  {
    absl::MutexLock lock(&slots_mu_);
    busy_slots_ = std::max(0, busy_slots_ - 1);
    PublishSlots();
  }
  absl::MutexLock lock(&mu_);
  Get(histograms_, trial_seconds_, {{"state", StateLabel(trial.state())}},
      TrialBuckets())
      .Observe(seconds);
  if (trial.state() == v1::TRIAL_SUCCEEDED) ObserveReward(trial);
}

void ControllerMetrics::ObserveReward(const v1::Trial& trial) {
  Get(histograms_, rewards_, {{"search", absl::StrCat(trial.search_id())}},
      RewardBuckets())
      .Observe(trial.reward());
}

void ControllerMetrics::RpcFinished(absl::string_view method, int code,
                                    double seconds) {
  const std::string name(method);
  absl::MutexLock lock(&mu_);
  Get(counters_, rpcs_, {{"method", name}, {"code", absl::StrCat(code)}})
      .Increment();
  Get(histograms_, rpc_seconds_, {{"method", name}}, RpcBuckets())
      .Observe(seconds);
}

}  // namespace nas::controller
