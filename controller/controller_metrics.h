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
  // PENDING trials of the running searches, after a scheduler round.
  void SetQueueDepth(int pending);
  // The slots as a scheduler round counted them in the store.
  void SetSlots(int busy_slots, int free_slots);
  // Slots taken by new leases since that count (and freed by
  // TrialFinished): the slot gauges follow them between rounds, which run
  // just after reports, when slots are free; kept within the counted total.
  void SlotsLeased(int count);
  void LeasesExpired(int count);
  // A candidate answered from the result cache: `trial` as stored (CACHED,
  // with its reward).
  void CacheHit(const v1::Trial& trial);
  void InfeasibleRejected();
  void DuplicateSkipped();
  // A report made `trial` final (as stored) `seconds` after its lease: its
  // duration by state, its reward when it SUCCEEDED, and its slot freed.
  void TrialFinished(const v1::Trial& trial, double seconds);
  // One finished RPC; `code` is the gRPC status code number.
  void RpcFinished(absl::string_view method, int code, double seconds);

 private:
  void ObserveReward(const v1::Trial& trial) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Sets both slot gauges from busy_slots_ and total_slots_.
  void PublishSlots() ABSL_EXCLUSIVE_LOCKS_REQUIRED(slots_mu_);

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

  absl::Mutex slots_mu_;
  int busy_slots_ ABSL_GUARDED_BY(slots_mu_) = 0;
  int total_slots_ ABSL_GUARDED_BY(slots_mu_) = 0;

  absl::Mutex mu_;
  // Metrics already added to their family, by (family, labels) key.
  Cache<prometheus::Gauge> gauges_ ABSL_GUARDED_BY(mu_);
  Cache<prometheus::Counter> counters_ ABSL_GUARDED_BY(mu_);
  Cache<prometheus::Histogram> histograms_ ABSL_GUARDED_BY(mu_);
};

}  // namespace nas::controller

#endif  // NAS_CONTROLLER_CONTROLLER_METRICS_H_
