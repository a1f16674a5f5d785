#include "common/spec_limits.h"

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/text_check.h"

namespace nas {
namespace {

using Problems = std::vector<std::string>;

void Text(const std::string& field, const std::string& text, size_t max_length,
          Problems* problems) {
  const absl::Status status =
      CheckText(field, text, max_length, /*required=*/false);
  if (!status.ok()) problems->push_back(std::string(status.message()));
}

void Count(const std::string& field, int count, int max, Problems* problems) {
  if (count > max) {
    problems->push_back(absl::StrCat(field, ": ", count,
                                     " entries, at most ", max, " allowed"));
  }
}

void AtMost(const std::string& field, int64_t value, int64_t max,
            Problems* problems) {
  if (value > max) {
    problems->push_back(
        absl::StrCat(field, ": at most ", max, ", got ", value));
  }
}

void Finite(const std::string& field, double value, Problems* problems) {
  if (!std::isfinite(value)) {
    problems->push_back(absl::StrCat(field, ": must be a finite number, got ",
                                     value));
  }
}

void CheckTexts(const v1::SearchSpec& spec, Problems* p) {
  Text("name", spec.name(), kMaxSpecNameLength, p);
  Text("device", spec.device(), kMaxNameLength, p);
  Text("device.name", spec.custom_device().name(), kMaxNameLength, p);
  Text("device.core", spec.custom_device().core(), kMaxNameLength, p);
  Text("policy", spec.policy(), kMaxNameLength, p);
  const v1::DatasetSpec& d = spec.dataset();
  Text("dataset.name", d.name(), kMaxNameLength, p);
  const std::pair<const char*, const std::string*> paths[] = {
      {"dataset.train_path", &d.train_path()},
      {"dataset.train_labels_path", &d.train_labels_path()},
      {"dataset.test_path", &d.test_path()},
      {"dataset.test_labels_path", &d.test_labels_path()}};
  for (const auto& [field, path] : paths) Text(field, *path, kMaxPathLength, p);
  Text("training.optimizer", spec.training().optimizer(), kMaxNameLength, p);
  Text("space.padding", spec.space().padding(), kMaxNameLength, p);
  Text("reward.type", spec.reward().type(), kMaxNameLength, p);
  Text("reward.metric", spec.reward().metric(), kMaxNameLength, p);
  Text("evolution.remove", spec.evolution().remove(), kMaxNameLength, p);
}

void CheckCounts(const v1::SearchSpec& spec, Problems* p) {
  const v1::SearchSpace& s = spec.space();
  Count("space.layer_types", s.layer_types_size(), kMaxChoices, p);
  Count("space.channels", s.channels_size(), kMaxChoices, p);
  Count("space.kernels", s.kernels_size(), kMaxChoices, p);
  Count("space.strides", s.strides_size(), kMaxChoices, p);
  Count("space.dense_units", s.dense_units_size(), kMaxChoices, p);
  Count("space.dropout_rates", s.dropout_rates_size(), kMaxChoices, p);
  Count("seed_architectures", spec.seed_architectures_size(),
        kMaxSeedArchitectures, p);
  Count("qlearning.epsilon_schedule", spec.qlearning().epsilon_schedule_size(),
        kMaxEpsilonSteps, p);
  Count("qlearning.size_bins", spec.qlearning().size_bins_size(), kMaxSizeBins,
        p);
}

void CheckNumbers(const v1::SearchSpec& spec, Problems* p) {
  const v1::TrainingRecipe& t = spec.training();
  AtMost("training.epochs", t.epochs(), kMaxEpochs, p);
  AtMost("training.batch_size", t.batch_size(), kMaxBatchSize, p);
  AtMost("training.latency_runs", t.latency_runs(), kMaxLatencyRuns, p);
  AtMost("training.qat_epochs", t.qat_epochs(), kMaxEpochs, p);
  AtMost("training.calibration_samples", t.calibration_samples(),
         kMaxCalibrationSamples, p);
  Finite("training.calibration_percentile", t.calibration_percentile(), p);
  Finite("training.learning_rate", t.learning_rate(), p);
  Finite("training.weight_decay", t.weight_decay(), p);
  AtMost("budget.max_trials", spec.budget().max_trials(), kMaxTrials, p);
  AtMost("budget.max_attempts", spec.budget().max_attempts(), kMaxAttempts, p);
  const v1::RewardSpec& r = spec.reward();
  const std::pair<const char*, double> reward_numbers[] = {
      {"weight_accuracy", r.weight_accuracy()},
      {"weight_flash", r.weight_flash()},
      {"weight_sram", r.weight_sram()},
      {"weight_macs", r.weight_macs()},
      {"weight_latency", r.weight_latency()},
      {"exp_flash", r.exp_flash()},
      {"exp_sram", r.exp_sram()},
      {"exp_macs", r.exp_macs()},
      {"exp_latency", r.exp_latency()},
      {"alpha", r.alpha()},
      {"lambda_error", r.lambda_error()},
      {"lambda_flash", r.lambda_flash()},
      {"lambda_sram", r.lambda_sram()},
      {"lambda_macs", r.lambda_macs()},
      {"error_bound", r.error_bound()}};
  for (const auto& [field, value] : reward_numbers) {
    Finite(absl::StrCat("reward.", field), value, p);
  }
  const v1::DeviceProfile& d = spec.custom_device();
  Finite("device.clock_hz", d.clock_hz(), p);
  Finite("device.cycles_per_mac", d.cycles_per_mac(), p);
  Finite("constraints.max_latency_ms", spec.constraints().max_latency_ms(), p);
  Finite("constraints.min_accuracy", spec.constraints().min_accuracy(), p);
  Finite("constraints.min_macro_f1", spec.constraints().min_macro_f1(), p);
}

}  // namespace

void CheckSpecLimits(const v1::SearchSpec& spec, Problems* problems) {
  CheckTexts(spec, problems);
  CheckCounts(spec, problems);
  CheckNumbers(spec, problems);
}

}  // namespace nas
