#include "worker/worker_metrics.h"

namespace nas::worker {
namespace {

prometheus::Family<prometheus::Counter>& TrialsFamily(
    prometheus::Registry* registry, const std::string& device) {
  return prometheus::BuildCounter()
      .Name("tinynas_worker_trials_total")
      .Help("Trials this worker finished, by outcome")
      .Labels({{"device", device}})
      .Register(*registry);
}

prometheus::Family<prometheus::Gauge>& GaugeFamily(
    prometheus::Registry* registry, const std::string& device,
    const std::string& name, const std::string& help) {
  return prometheus::BuildGauge()
      .Name(name)
      .Help(help)
      .Labels({{"device", device}})
      .Register(*registry);
}

}  // namespace

WorkerMetrics::WorkerMetrics(prometheus::Registry* registry,
                             const std::string& device, int slots)
    : trials_(TrialsFamily(registry, device)),
      succeeded_(trials_.Add({{"outcome", "succeeded"}})),
      failed_(trials_.Add({{"outcome", "failed"}})),
      cancelled_(trials_.Add({{"outcome", "cancelled"}})),
      report_retries_(prometheus::BuildCounter()
                          .Name("tinynas_worker_report_retries_total")
                          .Help("ReportTrial calls retried after a transient error")
                          .Labels({{"device", device}})
                          .Register(*registry)
                          .Add({})),
      samples_per_second_(
          GaugeFamily(registry, device, "tinynas_worker_training_samples_per_second",
                      "Training throughput of the last finished trial")
              .Add({})),
      running_samples_per_second_(
          GaugeFamily(registry, device, "tinynas_worker_running_samples_per_second",
                      "Training throughput of the trials running now, summed")
              .Add({})),
      busy_slots_(GaugeFamily(registry, device, "tinynas_worker_slots_busy",
                              "Trial slots running a trial")
                      .Add({})),
      slots_(GaugeFamily(registry, device, "tinynas_worker_slots",
                         "Trial slots of this worker")
                 .Add({})),
      trial_seconds_(prometheus::BuildHistogram()
                         .Name("tinynas_worker_trial_duration_seconds")
                         .Help("Wall time of finished trials")
                         .Labels({{"device", device}})
                         .Register(*registry)
                         .Add({}, prometheus::Histogram::BucketBoundaries{
                                      1, 5, 15, 30, 60, 120, 300, 600, 1800})) {
  slots_.Set(slots);
}

void WorkerMetrics::TrialSucceeded(double seconds, double samples_per_second) {
  succeeded_.Increment();
  trial_seconds_.Observe(seconds);
  samples_per_second_.Set(samples_per_second);
}

void WorkerMetrics::TrialFailed(double seconds) {
  failed_.Increment();
  trial_seconds_.Observe(seconds);
}

void WorkerMetrics::TrialCancelled() { cancelled_.Increment(); }

void WorkerMetrics::ReportRetried() { report_retries_.Increment(); }

void WorkerMetrics::SlotTaken() { busy_slots_.Increment(); }

void WorkerMetrics::SlotFreed() { busy_slots_.Decrement(); }

void WorkerMetrics::SetRunningRate(double samples_per_second) {
  running_samples_per_second_.Set(samples_per_second);
}

}  // namespace nas::worker
