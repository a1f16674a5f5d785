#ifndef NAS_WORKER_INT8_CONVERT_H_
#define NAS_WORKER_INT8_CONVERT_H_

// Internal to the worker's LibTorch files: this header pulls in LibTorch.

#include <memory>

#include <torch/torch.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/int8_plan.h"
#include "proto/nas.pb.h"
#include "worker/calibration.h"
#include "worker/dataset.h"
#include "worker/folded_network.h"
#include "worker/model_builder.h"
#include "worker/trainer.h"

namespace nas::worker {

// True for recipe quantize "int8" or "" (the default).
bool QuantizesToInt8(const v1::TrainingRecipe& recipe);

// InvalidArgument naming each bad int8 field of a recipe (quantize,
// calibration, calibration_percentile, qat_epochs), with the spec's rules.
absl::Status ValidateInt8Recipe(const v1::TrainingRecipe& recipe);

// Turns one trained trial into its int8 model: folds the trained network
// (FoldedNetwork), optionally fine-tunes it with fake quantisation (QAT),
// calibrates its activation ranges on training samples, quantises it
// (mcu::QuantizeModel) and measures it with the mcu/ runtime's kernels.
// Everything in the context is borrowed for the converter's lifetime. Not
// thread-safe; one trial owns one.
class Int8Converter {
 public:
  struct Context {
    const v1::TrialTask* task = nullptr;
    const Dataset* data = nullptr;
    const DataSplit* split = nullptr;
    const TrainOptions* options = nullptr;
    torch::Device device = torch::kCPU;
    // The fold being trained (the trial when it has one split): its input
    // normalisation (stored in the int8 model), its seed (calibration
    // sample and QAT batch order) and the epochs reported before its QAT.
    const InputNormalization* normalization = nullptr;
    uint64_t seed = 0;
    int epochs_before = 0;
    // Only the validation figures (the folds after the first): no test
    // split, latency or test vectors.
    bool validation_only = false;
  };

  // Plans and folds `model` (trained, as built for the task; not modified).
  // InvalidArgument for an architecture the int8 runtime cannot run.
  static absl::StatusOr<std::unique_ptr<Int8Converter>> Create(const Context& context,
                                                               const BuiltModel& model);

  // recipe.qat_epochs of quantisation-aware fine-tuning (nothing when 0),
  // reported through options->on_progress as epochs after `progress`'s
  // (whose `epochs` the caller has counted them in), and left in *progress.
  // A stop request makes `outcome` cancelled; a divergence is noted and
  // QAT's weights dropped.
  absl::Status FineTune(TrainProgress* progress, TrialOutcome* outcome);

  // Calibrates, quantises and measures: fills outcome->int8_model (with the
  // input normalisation, and the class names of a built-in data set, else of
  // the data set's summary) and the int8 metrics (accuracy_int8,
  // macro_f1_int8, the test figures when the data set evaluates the test
  // split, latency_ms_int8_cpu, int8 = true), and adds the quantiser's notes
  // and a note on a large int8 drop (call after the float accuracy is
  // measured).
  absl::Status Convert(TrialOutcome* outcome);

 private:
  Int8Converter(const Context& context, FoldedNetwork net);
  absl::Status Measure(v1::QuantizedModel* model, v1::Metrics* metrics);
  void FillMetadata(v1::QuantizedModel* model) const;

  Context context_;
  FoldedNetwork net_;
  CalibrationSettings calibration_;
  std::vector<int64_t> calibration_indices_;
  std::vector<std::string> notes_;
};

}  // namespace nas::worker

#endif  // NAS_WORKER_INT8_CONVERT_H_
