#ifndef NAS_WORKER_INT8_EVALUATION_H_
#define NAS_WORKER_INT8_EVALUATION_H_

// Measures a quantised model with the mcu/ runtime's integer kernels (the
// code the microcontroller runs), in this process. Torch-free.

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "mcu/model_tables.h"
#include "proto/nas.pb.h"
#include "worker/classification_metrics.h"
#include "worker/dataset.h"

namespace nas::worker {

// Runs samples of a data set through one Int8Interpreter. Not thread-safe
// (one arena); `set` is borrowed and must outlive it.
class Int8Evaluator {
 public:
  // InvalidArgument when the model is malformed (BuildTables), its input
  // size is not the data set's sample size, or its input_mean / input_std
  // do not give one value per channel of the samples.
  static absl::StatusOr<Int8Evaluator> Create(const v1::QuantizedModel& model,
                                              const SampleSet* set);

  // The sample as the model takes it: the raw sample normalised as the
  // model's input_mean / input_std say (SampleSet::CopySample; the trial's
  // InputNormalization, which the converter stores there), then
  // q = clamp(round(x / s) + zp, -128, 127).
  void QuantizeSample(int64_t index, std::vector<int8_t>* out);
  // The int8 outputs (logits) for one quantised input.
  absl::Status Run(const std::vector<int8_t>& input, std::vector<int8_t>* output);
  // Predicted class of each sample (argmax of the int8 outputs, the first
  // on ties) counted against its label; on up to `threads` threads, each
  // with its own copy of the interpreter (the reference kernels run one
  // sample at a time).
  absl::StatusOr<ConfusionMatrix> Evaluate(const std::vector<int64_t>& indices,
                                           int threads = 1);
  // Median wall time of `runs` batch-1 invocations on sample `index`, in ms.
  absl::StatusOr<double> LatencyMs(int64_t index, int runs);
  // Stores the samples `indices` (quantised), the outputs for them and
  // their labels as the model's test vectors (replacing any).
  absl::Status AddTestVectors(const std::vector<int64_t>& indices,
                              v1::QuantizedModel* model);

 private:
  Int8Evaluator(mcu::Int8Interpreter interpreter, double scale, int32_t zero_point,
                InputNormalization normalization, const SampleSet* set);
  // Predictions for indices[begin, end) into predicted[begin, end).
  absl::Status Predict(const std::vector<int64_t>& indices, size_t begin, size_t end,
                       std::vector<int>* predicted);

  mcu::Int8Interpreter interpreter_;
  double input_scale_;
  int32_t input_zero_point_;
  InputNormalization normalization_;
  const SampleSet* set_;
  std::vector<float> sample_;  // Scratch: one float sample.
};

// Index of the largest value, the first of equals.
int ArgMax(const std::vector<int8_t>& values);

}  // namespace nas::worker

#endif  // NAS_WORKER_INT8_EVALUATION_H_
