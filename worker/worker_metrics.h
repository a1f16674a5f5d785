#ifndef NAS_WORKER_WORKER_METRICS_H_
#define NAS_WORKER_WORKER_METRICS_H_

#include <string>

#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace nas::worker {

// The worker's Prometheus metrics (docs/metrics.md lists them; the prefix
// tinynas_worker_ keeps them apart from the controller's nas_*, whose
// nas_worker_slots is the controller's view of all workers). Every family is built once, in the
// constructor, with a constant `device` label ("cpu" | "cuda"); the methods
// only touch the kept metric references.
//
// Thread-safe (prometheus-cpp metrics are). The registry is borrowed and must
// outlive this object.
class WorkerMetrics {
 public:
  WorkerMetrics(prometheus::Registry* registry, const std::string& device,
                int slots);
  WorkerMetrics(const WorkerMetrics&) = delete;
  WorkerMetrics& operator=(const WorkerMetrics&) = delete;

  void TrialSucceeded(double seconds, double samples_per_second);
  void TrialFailed(double seconds);
  void TrialCancelled();
  void ReportRetried();
  // A slot took a trial / became free again. Counted, not set, so that
  // several loops sharing these metrics (load tests) add up.
  void SlotTaken();
  void SlotFreed();
  // Training samples/s of the trials running now, summed (set at every
  // heartbeat; 0 when none trains).
  void SetRunningRate(double samples_per_second);

 private:
  prometheus::Family<prometheus::Counter>& trials_;  // Declared first: the
                                                     // outcomes are its members.
  prometheus::Counter& succeeded_;
  prometheus::Counter& failed_;
  prometheus::Counter& cancelled_;
  prometheus::Counter& report_retries_;
  prometheus::Gauge& samples_per_second_;
  prometheus::Gauge& running_samples_per_second_;
  prometheus::Gauge& busy_slots_;
  prometheus::Gauge& slots_;
  prometheus::Histogram& trial_seconds_;
};

}  // namespace nas::worker

#endif  // NAS_WORKER_WORKER_METRICS_H_
