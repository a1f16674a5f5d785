#ifndef NAS_CONTROLLER_CONTROLLER_METRICS_H_
#define NAS_CONTROLLER_CONTROLLER_METRICS_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "proto/nas.pb.h"

namespace nas::controller {

// The controller's Prometheus metrics (docs/metrics.md lists them). Families
// are built once, in the constructor; labels stay low-cardinality (search
// id, trial state, RPC method and code; never a trial id). Thread-safe. The
// registry is borrowed and must outlive this object.
//
// Series of a search are never removed: once it has ended they keep their
// final values (the scheduler sets them one last time, and again while
// trials it left running are still being cancelled).
class ControllerMetrics {
 public:
  explicit ControllerMetrics(prometheus::Registry* registry);
  ControllerMetrics(const ControllerMetrics&) = delete;
  ControllerMetrics& operator=(const ControllerMetrics&) = delete;

  // Trials by state, best reward/accuracy and Pareto-front size of a search.
  void SetSearch(const v1::Search& search);
  void SetParetoSize(int64_t search_id, int size);
  // The exploration rate of a Q-learning search's latest proposals.
  void SetEpsilon(int64_t search_id, double epsilon);
  void SetQueue(int pending, int busy_slots, int free_slots);
  void LeasesExpired(int count);
  // A candidate answered from the result cache: `trial` as stored (CACHED,
  // with its reward).
  void CacheHit(const v1::Trial& trial);
  void InfeasibleRejected();
  void DuplicateSkipped();
  // A report made `trial` final (as stored) `seconds` after its lease: its
  // duration by state, and its reward when it SUCCEEDED.
  void TrialFinished(const v1::Trial& trial, double seconds);
  // One finished RPC; `code` is the gRPC status code number.
  void RpcFinished(absl::string_view method, int code, double seconds);

 private:
  void ObserveReward(const v1::Trial& trial) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  template <typename T>
  using Cache = std::map<std::pair<const void*, std::string>, T*>;

  // The metric of `family` with `labels`, added on first use only.
  template <typename T, typename... Args>
  T& Get(Cache<T>& cache, prometheus::Family<T>& family,
         const prometheus::Labels& labels, Args&&... args)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  prometheus::Family<prometheus::Gauge>& trials_;
  prometheus::Family<prometheus::Gauge>& best_reward_;
  prometheus::Family<prometheus::Gauge>& best_accuracy_;
  prometheus::Family<prometheus::Gauge>& pareto_size_;
  prometheus::Family<prometheus::Gauge>& epsilon_;
  prometheus::Family<prometheus::Histogram>& rewards_;
  prometheus::Gauge& queue_depth_;
  prometheus::Family<prometheus::Gauge>& slots_;
  prometheus::Gauge& slots_busy_;
  prometheus::Gauge& slots_free_;
  prometheus::Counter& leases_expired_;
  prometheus::Counter& cache_hits_;
  prometheus::Counter& infeasible_;
  prometheus::Counter& duplicates_;
  prometheus::Family<prometheus::Histogram>& trial_seconds_;
  prometheus::Family<prometheus::Counter>& rpcs_;
  prometheus::Family<prometheus::Histogram>& rpc_seconds_;

  absl::Mutex mu_;
  // Metrics already added to their family, by (family, labels) key.
  Cache<prometheus::Gauge> gauges_ ABSL_GUARDED_BY(mu_);
  Cache<prometheus::Counter> counters_ ABSL_GUARDED_BY(mu_);
  Cache<prometheus::Histogram> histograms_ ABSL_GUARDED_BY(mu_);
};

}  // namespace nas::controller

#endif  // NAS_CONTROLLER_CONTROLLER_METRICS_H_
