#include "worker/int8_convert.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/architecture.h"
#include "common/status_macros.h"
#include "mcu/quantizer/model_quantizer.h"
#include "worker/int8_evaluation.h"
#include "worker/qat.h"

namespace nas::worker {
namespace {

constexpr int kTestVectors = 32;
constexpr double kDropNotePoints = 2.0;
constexpr int kDefaultLatencyRuns = 20;

// Class names: a built-in data set's in label order (their files carry only
// numbers: Fashion-MNIST's README and the UCR archive's ECG5000 page), else
// the data set summary's (the label texts the controller read at submit);
// none when they do not name exactly `classes` classes.
std::vector<std::string> ClassNames(const v1::DatasetSpec& spec, int classes) {
  std::vector<std::string> names;
  if (spec.name() == "fashion-mnist") {
    names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
             "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  } else if (spec.name() == "ecg5000") {
    names = {"Normal", "R-on-T PVC", "PVC", "SP or EB", "UB"};
  } else {
    names.assign(spec.summary().class_names().begin(),
                 spec.summary().class_names().end());
  }
  if (static_cast<int>(names.size()) != classes) names.clear();
  return names;
}

v1::TensorShape InputShape(const SampleSet& set) {
  v1::TensorShape shape;
  for (int64_t d : set.shape()) shape.add_dims(d);
  return shape;
}

std::vector<int64_t> AllIndices(int64_t n) {
  std::vector<int64_t> all(n);
  for (int64_t i = 0; i < n; ++i) all[i] = i;
  return all;
}

}  // namespace

bool QuantizesToInt8(const v1::TrainingRecipe& recipe) {
  return recipe.quantize().empty() || recipe.quantize() == "int8";
}

absl::Status ValidateInt8Recipe(const v1::TrainingRecipe& recipe) {
  std::vector<std::string> problems;
  if (!QuantizesToInt8(recipe) && recipe.quantize() != "none") {
    problems.push_back(absl::StrCat("training.quantize: unknown '", recipe.quantize(),
                                    "' (int8, none)"));
  }
  if (recipe.qat_epochs() < 0 || (recipe.qat_epochs() > 0 && !QuantizesToInt8(recipe))) {
    problems.push_back(absl::StrCat("training.qat_epochs: ", recipe.qat_epochs(),
                                    " must be >= 0, and 0 without int8"));
  }
  if (!recipe.calibration().empty() && recipe.calibration() != "minmax" &&
      recipe.calibration() != "percentile") {
    problems.push_back(absl::StrCat("training.calibration: unknown '",
                                    recipe.calibration(), "' (minmax, percentile)"));
  }
  const double p = recipe.calibration_percentile();
  if (p != 0 && !(p > 50 && p <= 100)) {
    problems.push_back(absl::StrCat("training.calibration_percentile: ", p,
                                    " must be in (50, 100]"));
  }
  if (recipe.calibration_samples() < 0) {
    problems.push_back(absl::StrCat("training.calibration_samples: ",
                                    recipe.calibration_samples(), " must be >= 0"));
  }
  if (problems.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrJoin(problems, "\n"));
}

Int8Converter::Int8Converter(const Context& context, FoldedNetwork net)
    : context_(context), net_(std::move(net)) {}

absl::StatusOr<std::unique_ptr<Int8Converter>> Int8Converter::Create(
    const Context& context, const BuiltModel& model) {
  const v1::TrialTask& task = *context.task;
  const SampleSet& set = *context.data->train;
  const v1::TensorShape input = InputShape(set);
  NAS_ASSIGN_OR_RETURN(Int8Plan plan,
                       PlanInt8(task.architecture(), input, set.num_classes));
  NAS_ASSIGN_OR_RETURN(FoldedNetwork net,
                       FoldedNetwork::Create(model, task.architecture(), input,
                                             set.num_classes, plan));
  net.To(context.device);
  std::unique_ptr<Int8Converter> converter(new Int8Converter(context, std::move(net)));
  converter->calibration_ = CalibrationSettings::FromRecipe(task.training());
  converter->calibration_indices_ = CalibrationIndices(
      context.split->train, converter->calibration_.samples, context.seed);
  return converter;
}

absl::Status Int8Converter::FineTune(TrainProgress* progress, TrialOutcome* outcome) {
  const v1::TrialTask& task = *context_.task;
  if (task.training().qat_epochs() <= 0) return absl::OkStatus();
  QatRun run;
  run.set = context_.data->train.get();
  run.train = &context_.split->train;
  run.calibration = &calibration_indices_;
  run.normalization = context_.normalization;
  run.calibration_settings = calibration_;
  run.recipe = task.training();
  run.device = context_.device;
  run.seed = context_.seed;
  run.stop = context_.options->stop;
  run.on_progress = context_.options->on_progress;
  run.progress = *progress;
  run.epochs_before = context_.epochs_before;
  run.seconds_before = progress->train_seconds;
  NAS_ASSIGN_OR_RETURN(QatOutcome qat, FineTuneQuantized(run, &net_));
  *progress = qat.progress;
  notes_.insert(notes_.end(), qat.notes.begin(), qat.notes.end());
  if (qat.cancelled) {
    outcome->kind = TrialOutcome::Kind::kCancelled;
    outcome->failure_reason = std::move(qat.reason);
  }
  return absl::OkStatus();
}

absl::Status Int8Converter::Convert(TrialOutcome* outcome) {
  const SampleSet& set = *context_.data->train;
  NAS_ASSIGN_OR_RETURN(CalibratedRanges ranges,
                       Calibrate(net_, set, *context_.normalization,
                                 calibration_indices_, calibration_, context_.device));
  mcu::QuantizerInput input{net_.FloatParams(), ranges.input, ranges.outputs};
  NAS_ASSIGN_OR_RETURN(mcu::QuantizerOutput quantized,
                       mcu::QuantizeModel(net_.plan(), InputShape(set), input));
  notes_.insert(notes_.end(), quantized.notes.begin(), quantized.notes.end());
  FillMetadata(&quantized.model);
  v1::Metrics& metrics = outcome->metrics;
  NAS_RETURN_IF_ERROR(Measure(&quantized.model, &metrics));
  const double drop = 100 * (metrics.accuracy() - metrics.accuracy_int8());
  if (drop > kDropNotePoints) {
    notes_.push_back(absl::StrFormat(
        "int8 accuracy %.1f%% is %.1f points below float %.1f%%: try "
        "training.qat_epochs",
        100 * metrics.accuracy_int8(), drop, 100 * metrics.accuracy()));
  }
  for (const std::string& note : notes_) metrics.add_notes(note);
  outcome->int8_model = std::move(quantized.model);
  return absl::OkStatus();
}

absl::Status Int8Converter::Measure(v1::QuantizedModel* model, v1::Metrics* metrics) {
  const v1::TrialTask& task = *context_.task;
  const std::vector<int64_t>& validation = context_.split->validation;
  NAS_ASSIGN_OR_RETURN(Int8Evaluator evaluator,
                       Int8Evaluator::Create(*model, context_.data->train.get()));
  // The trial's share of the cores, as LibTorch was told (SetTorchThreads).
  const int threads = at::get_num_threads();
  NAS_ASSIGN_OR_RETURN(ConfusionMatrix matrix, evaluator.Evaluate(validation, threads));
  metrics->set_accuracy_int8(matrix.Accuracy());
  metrics->set_macro_f1_int8(matrix.MacroF1());
  metrics->set_int8(true);
  if (context_.validation_only) return absl::OkStatus();
  if (task.dataset().evaluate_test() && context_.data->test != nullptr) {
    const SampleSet* test = context_.data->test.get();
    NAS_ASSIGN_OR_RETURN(Int8Evaluator on_test, Int8Evaluator::Create(*model, test));
    NAS_ASSIGN_OR_RETURN(ConfusionMatrix test_matrix,
                         on_test.Evaluate(AllIndices(test->size()), threads));
    metrics->set_test_accuracy_int8(test_matrix.Accuracy());
    metrics->set_test_macro_f1_int8(test_matrix.MacroF1());
  }
  const int runs = task.training().latency_runs() > 0 ? task.training().latency_runs()
                                                      : kDefaultLatencyRuns;
  NAS_ASSIGN_OR_RETURN(const double latency, evaluator.LatencyMs(validation[0], runs));
  metrics->set_latency_ms_int8_cpu(latency);
  const size_t vectors = std::min<size_t>(kTestVectors, validation.size());
  NAS_RETURN_IF_ERROR(evaluator.AddTestVectors(
      std::vector<int64_t>(validation.begin(), validation.begin() + vectors), model));
  return absl::OkStatus();
}

void Int8Converter::FillMetadata(v1::QuantizedModel* model) const {
  const v1::TrialTask& task = *context_.task;
  const SampleSet& set = *context_.data->train;
  model->set_calibration_samples(static_cast<int32_t>(calibration_indices_.size()));
  model->set_calibration(calibration_.Description());
  model->set_qat_epochs(task.training().qat_epochs());
  // What the trial did to the raw samples (the evaluator reads it back).
  context_.normalization->ToModel(model);
  for (std::string& name : ClassNames(task.dataset(), set.num_classes)) {
    model->add_labels(std::move(name));
  }
  model->set_dataset(task.dataset().name());
  model->set_architecture(ArchitectureToString(task.architecture()));
}

}  // namespace nas::worker
