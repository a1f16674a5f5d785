#include "worker/load_test_runner.h"

#include <cmath>
#include <random>

namespace nas::worker {

v1::Metrics LoadTestMetrics(const v1::TrialTask& task) {
  std::mt19937_64 rng(task.trial_seed());
  std::uniform_real_distribution<double> uniform(0, 1);
  const double draws[5] = {uniform(rng), uniform(rng), uniform(rng),
                           uniform(rng), uniform(rng)};
  v1::Metrics m;
  m.set_accuracy(0.5 + 0.45 * draws[0]);
  m.set_macro_f1(m.accuracy() * (0.9 + 0.1 * draws[1]));
  if (task.dataset().evaluate_test()) {
    m.set_test_accuracy(m.accuracy() * (0.95 + 0.05 * draws[2]));
    m.set_test_macro_f1(m.macro_f1() * (0.95 + 0.05 * draws[3]));
  }
  m.set_train_seconds(0);
  m.set_latency_ms_cpu(0.05 + 0.5 * draws[4]);
  m.set_final_loss(-std::log(m.accuracy()));
  m.set_epochs_run(task.training().epochs());
  return m;
}

TrialRunner MakeLoadTestRunner() {
  return [](const v1::TrialTask& task,
            const TrialControl&) -> absl::StatusOr<TrialOutcome> {
    TrialOutcome outcome;
    outcome.kind = TrialOutcome::Kind::kSucceeded;
    outcome.metrics = LoadTestMetrics(task);
    return outcome;
  };
}

}  // namespace nas::worker
