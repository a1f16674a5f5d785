#include "common/spec.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "common/architecture.h"
#include "common/datasets.h"
#include "common/devices.h"
#include "common/hashing.h"
#include "common/policy_spec.h"
#include "common/search_space.h"
#include "common/spec_limits.h"

namespace nas {
namespace {

using Problems = std::vector<std::string>;

void AddLines(const absl::Status& status, const std::string& prefix,
              Problems* problems) {
  if (status.ok()) return;
  for (absl::string_view line : absl::StrSplit(status.message(), '\n')) {
    problems->push_back(absl::StrCat(prefix, line));
  }
}

void FillSpaceDefaults(v1::SearchSpace* s) {
  if (s->strides_size() == 0) s->add_strides(1);
  if (s->min_layers() == 0) s->set_min_layers(1);
  if (s->max_layers() == 0) s->set_max_layers(std::max(6, s->min_layers()));
  if (s->activation() == v1::LAYER_TYPE_UNSPECIFIED)
    s->set_activation(v1::RELU);
  if (s->padding().empty()) s->set_padding("same");
  if (s->max_consecutive_pooling() == 0) s->set_max_consecutive_pooling(1);
}

void FillTrainingDefaults(v1::TrainingRecipe* t) {
  if (t->optimizer().empty()) t->set_optimizer("adam");
  if (t->learning_rate() == 0) t->set_learning_rate(1e-3);
  if (t->epochs() == 0) t->set_epochs(2);
  if (t->batch_size() == 0) t->set_batch_size(64);
  if (t->latency_runs() == 0) t->set_latency_runs(20);
  if (t->quantize().empty()) t->set_quantize("int8");
  if (t->quantize() == "int8") {
    if (t->calibration_samples() == 0) t->set_calibration_samples(1000);
    if (t->calibration().empty()) t->set_calibration("minmax");
    if (t->calibration() == "percentile" && t->calibration_percentile() == 0) {
      t->set_calibration_percentile(99.99);
    }
  }
}

// The reward scores the model that ships: the int8 one when the search
// quantises.
void FillRewardDefaults(const v1::TrainingRecipe& t, v1::RewardSpec* r) {
  if (r->type().empty()) r->set_type("accuracy");
  if (r->metric().empty()) {
    r->set_metric(t.quantize() == "int8" ? "accuracy_int8" : "accuracy");
  }
  if (r->type() == "weighted_exp") {
    if (r->weight_accuracy() == 0) r->set_weight_accuracy(1);
    if (r->weight_flash() != 0 && r->exp_flash() == 0) r->set_exp_flash(-1);
    if (r->weight_sram() != 0 && r->exp_sram() == 0) r->set_exp_sram(-1);
    if (r->weight_macs() != 0 && r->exp_macs() == 0) r->set_exp_macs(-1);
    if (r->weight_latency() != 0 && r->exp_latency() == 0)
      r->set_exp_latency(-1);
  }
  if (r->type() == "linear" && r->alpha() == 0) r->set_alpha(0.5);
  if (r->type() == "max") {
    if (r->lambda_error() == 0) r->set_lambda_error(1);
    if (r->lambda_flash() == 0) r->set_lambda_flash(1);
    if (r->lambda_sram() == 0) r->set_lambda_sram(1);
    if (r->lambda_macs() == 0) r->set_lambda_macs(1);
  }
}

void FillDefaults(v1::SearchSpec* spec) {
  if (spec->name().empty()) spec->set_name("search");
  if (spec->policy().empty()) spec->set_policy("random");
  if (spec->seed() == 0) spec->set_seed(1);
  if (spec->dataset().validation_fraction() == 0) {
    spec->mutable_dataset()->set_validation_fraction(0.1);
  }
  FillSpaceDefaults(spec->mutable_space());
  FillTrainingDefaults(spec->mutable_training());
  v1::Budget* b = spec->mutable_budget();
  if (b->max_infeasible() == 0) b->set_max_infeasible(1000);
  if (b->max_attempts() == 0) b->set_max_attempts(3);
  FillRewardDefaults(spec->training(), spec->mutable_reward());
}

void CheckQuantization(const v1::TrainingRecipe& t, Problems* p) {
  if (t.quantize() != "int8" && t.quantize() != "none") {
    p->push_back(absl::StrCat("quantize: unknown form '", t.quantize(),
                              "' (int8 or none)"));
    return;
  }
  if (t.qat_epochs() < 0) {
    p->push_back(absl::StrCat("training.qat_epochs: must be >= 0, got ",
                              t.qat_epochs()));
  }
  if (t.quantize() == "none") {
    if (t.qat_epochs() > 0) {
      p->push_back("training.qat_epochs: needs quantize: int8");
    }
    return;
  }
  if (t.calibration_samples() <= 0) {
    p->push_back(absl::StrCat("training.calibration_samples: must be > 0, got ",
                              t.calibration_samples()));
  }
  if (t.calibration() != "minmax" && t.calibration() != "percentile") {
    p->push_back(absl::StrCat("training.calibration: unknown method '",
                              t.calibration(), "' (minmax or percentile)"));
  }
  if (t.calibration() == "percentile" &&
      !(t.calibration_percentile() > 50 && t.calibration_percentile() <= 100)) {
    p->push_back(absl::StrCat(
        "training.calibration_percentile: must be in (50, 100], got ",
        t.calibration_percentile()));
  }
}

void CheckTraining(const v1::TrainingRecipe& t, Problems* p) {
  if (t.optimizer() != "adam" && t.optimizer() != "sgd" &&
      t.optimizer() != "adamw") {
    p->push_back(absl::StrCat("training.optimizer: unknown optimizer '",
                              t.optimizer(), "' (adam, adamw or sgd)"));
  }
  if (!(t.learning_rate() > 0)) {
    p->push_back(absl::StrCat("training.learning_rate: must be > 0, got ",
                              t.learning_rate()));
  }
  if (!(t.momentum() >= 0 && t.momentum() < 1)) {
    p->push_back(absl::StrCat("training.momentum: must be in [0, 1), got ",
                              t.momentum()));
  }
  if (!(t.weight_decay() >= 0)) {
    p->push_back(absl::StrCat("training.weight_decay: must be >= 0, got ",
                              t.weight_decay()));
  }
  if (t.epochs() <= 0) {
    p->push_back(
        absl::StrCat("training.epochs: must be > 0, got ", t.epochs()));
  }
  if (t.batch_size() <= 0) {
    p->push_back(
        absl::StrCat("training.batch_size: must be > 0, got ", t.batch_size()));
  }
  if (t.latency_runs() < 0) {
    p->push_back(absl::StrCat("training.latency_runs: must be >= 0, got ",
                              t.latency_runs()));
  }
  CheckQuantization(t, p);
}

void CheckBudget(const v1::Budget& b, Problems* p) {
  if (b.max_trials() <= 0) {
    p->push_back(
        absl::StrCat("budget.max_trials: must be > 0, got ", b.max_trials()));
  }
  if (b.max_duration_s() < 0) {
    p->push_back(
        absl::StrCat("budget.max_duration_s: must be >= 0 (0 = no limit), got ",
                     b.max_duration_s()));
  }
  if (b.max_infeasible() < 0) {
    p->push_back(absl::StrCat("budget.max_infeasible: must be > 0, got ",
                              b.max_infeasible()));
  }
  if (b.max_attempts() < 0) {
    p->push_back(absl::StrCat("budget.max_attempts: must be > 0, got ",
                              b.max_attempts()));
  }
}

void CheckConstraintValues(const v1::Constraints& c, Problems* p) {
  const std::pair<const char*, double> values[] = {
      {"max_flash_bytes", static_cast<double>(c.max_flash_bytes())},
      {"max_sram_bytes", static_cast<double>(c.max_sram_bytes())},
      {"max_macs", static_cast<double>(c.max_macs())},
      {"max_latency_ms", c.max_latency_ms()},
      {"max_params", static_cast<double>(c.max_params())}};
  for (const auto& [field, value] : values) {
    if (!(value >= 0)) {
      p->push_back(absl::StrCat("constraints.", field,
                                ": must be >= 0 (0 = no limit), got ", value));
    }
  }
  const std::pair<const char*, double> floors[] = {
      {"min_accuracy", c.min_accuracy()}, {"min_macro_f1", c.min_macro_f1()}};
  for (const auto& [field, value] : floors) {
    if (!(value >= 0 && value <= 1)) {
      p->push_back(absl::StrCat("constraints.", field,
                                ": must be in [0, 1] (0 = no floor), got ",
                                value));
    }
  }
}

void CheckReward(const v1::RewardSpec& r, const v1::Constraints& c,
                 const v1::TrainingRecipe& t, Problems* p) {
  const std::string& type = r.type();
  if (type != "accuracy" && type != "weighted_exp" && type != "max" &&
      type != "linear") {
    p->push_back(absl::StrCat("reward.type: unknown type '", type,
                              "' (accuracy, weighted_exp, max or linear)"));
  }
  if (r.metric() != "accuracy" && r.metric() != "macro_f1" &&
      r.metric() != "accuracy_int8" && r.metric() != "macro_f1_int8") {
    p->push_back(absl::StrCat(
        "reward.metric: unknown metric '", r.metric(),
        "' (accuracy, macro_f1, accuracy_int8 or macro_f1_int8)"));
  } else if (absl::EndsWith(r.metric(), "_int8") && t.quantize() == "none") {
    p->push_back(absl::StrCat("reward.metric: ", r.metric(),
                              " needs quantize: int8 (the spec says none)"));
  }
  if (type == "weighted_exp" && r.weight_macs() != 0 && c.max_macs() <= 0) {
    p->push_back("reward.weight_macs: needs constraints.max_macs");
  }
  if (type == "weighted_exp" && r.weight_latency() != 0 &&
      c.max_latency_ms() <= 0) {
    p->push_back("reward.weight_latency: needs constraints.max_latency_ms");
  }
  if (type == "linear" && !(r.alpha() >= 0 && r.alpha() <= 1)) {
    p->push_back(
        absl::StrCat("reward.alpha: must be in [0, 1], got ", r.alpha()));
  }
  const std::pair<const char*, double> lambdas[] = {
      {"lambda_error", r.lambda_error()},
      {"lambda_flash", r.lambda_flash()},
      {"lambda_sram", r.lambda_sram()},
      {"lambda_macs", r.lambda_macs()}};
  for (const auto& [field, value] : lambdas) {
    if (type == "max" && !(value > 0)) {
      p->push_back(
          absl::StrCat("reward.", field, ": must be > 0, got ", value));
    }
  }
  if (!(r.error_bound() >= 0 && r.error_bound() <= 1)) {
    p->push_back(absl::StrCat("reward.error_bound: must be in [0, 1], got ",
                              r.error_bound()));
  }
}

// Space and seed architectures against the data set's shape (or without it
// when the data set could not be resolved).
void CheckArchitectures(v1::SearchSpec* spec, bool dataset_ok, Problems* p) {
  const v1::TensorShape input =
      dataset_ok ? spec->dataset().input_shape() : v1::TensorShape();
  const int classes = dataset_ok ? spec->dataset().num_classes() : 2;
  AddLines(ValidateSearchSpace(spec->space(), input, classes), "", p);
  for (int i = 0; i < spec->seed_architectures_size(); ++i) {
    v1::Architecture* arch = spec->mutable_seed_architectures(i);
    if (dataset_ok) {
      AddLines(InferShapes(*arch, input, classes).status(),
               absl::StrCat("seed_architectures[", i, "]: "), p);
    }
    *arch = CanonicalArchitecture(*arch);
  }
}

}  // namespace

absl::StatusOr<v1::SearchSpec> CompleteSearchSpec(
    const v1::SearchSpec& spec, const std::string& data_root) {
  v1::SearchSpec out = spec;
  Problems problems;
  // Bounds first: the checks below may walk the lists and open the paths.
  CheckSpecLimits(out, &problems);
  if (!problems.empty()) {
    return absl::InvalidArgumentError(absl::StrJoin(problems, "\n"));
  }
  FillDefaults(&out);
  absl::StatusOr<v1::DatasetSpec> dataset =
      ResolveDataset(out.dataset(), data_root);
  AddLines(dataset.status(), "", &problems);
  if (dataset.ok()) *out.mutable_dataset() = *dataset;
  const double fraction = out.dataset().validation_fraction();
  if (!(fraction > 0 && fraction < 1)) {
    problems.push_back(absl::StrCat(
        "dataset.validation_fraction: must be in (0, 1), got ", fraction));
  }
  absl::StatusOr<v1::DeviceProfile> device = ResolveDevice(out);
  AddLines(device.status(), "", &problems);
  if (device.ok()) {
    out.set_device(device->name());
    *out.mutable_custom_device() = *device;
  }
  FillPolicyDefaults(&out);
  CheckPolicy(out, &problems);
  CheckTraining(out.training(), &problems);
  CheckBudget(out.budget(), &problems);
  CheckConstraintValues(out.constraints(), &problems);
  CheckReward(out.reward(), out.constraints(), out.training(), &problems);
  CheckArchitectures(&out, dataset.ok(), &problems);
  if (!problems.empty()) {
    return absl::InvalidArgumentError(absl::StrJoin(problems, "\n"));
  }
  return out;
}

std::string ResultCacheKey(const v1::Architecture& arch,
                           const v1::SearchSpec& completed_spec) {
  const v1::TrainingRecipe& t = completed_spec.training();
  const v1::DatasetSpec& d = completed_spec.dataset();
  const std::string recipe = absl::StrFormat(
      "recipe:%s|%.17g|%.17g|%.17g|%d|%d|%s|%d|%d|%s|%.17g", t.optimizer(),
      t.learning_rate(), t.momentum(), t.weight_decay(), t.epochs(),
      t.batch_size(), t.quantize(), t.qat_epochs(), t.calibration_samples(),
      t.calibration(), t.calibration_percentile());
  const std::string data = absl::StrFormat(
      "data:%s|%d|%s|%s|%s|%s|%s|%d|%.17g|%d|%d|%d", d.name(),
      static_cast<int>(d.format()), d.train_path(), d.train_labels_path(),
      d.test_path(), d.test_labels_path(), ShapeToString(d.input_shape()),
      d.num_classes(), d.validation_fraction(), d.train_subset(),
      d.validation_subset(), d.evaluate_test() ? 1 : 0);
  // How samples become inputs, and how candidates are validated.
  const std::string samples = absl::StrFormat(
      "samples:%d|%d|%d|%s|%d|%d", static_cast<int>(d.layout()), d.length(),
      static_cast<int>(d.pad()), absl::CEscape(d.label_column()),
      static_cast<int>(d.normalization()), d.folds());
  return Sha256Hex(absl::StrCat("tinynas-result-v3\n",
                                CanonicalSerialization(arch), "\n", recipe,
                                "\n", data, "\n", samples,
                                "\nseed:", completed_spec.seed()));
}

}  // namespace nas
