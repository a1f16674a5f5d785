#include "worker/int8_evaluation.h"

#include <algorithm>
#include <chrono>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "mcu/quantizer/quantize_math.h"

namespace nas::worker {
namespace {

constexpr int kLatencyWarmupRuns = 5;
// Below this many samples per thread a thread is not worth starting.
constexpr size_t kMinSamplesPerThread = 64;

}  // namespace

absl::StatusOr<Int8Evaluator> Int8Evaluator::Create(const v1::QuantizedModel& model,
                                                    const SampleSet* set) {
  NAS_ASSIGN_OR_RETURN(mcu::Int8Interpreter interpreter,
                       mcu::Int8Interpreter::Create(model));
  if (interpreter.input_bytes() != set->sample_size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("int8 model takes ", interpreter.input_bytes(),
                     " input values, the data set's samples have ", set->sample_size()));
  }
  InputNormalization normalization = InputNormalization::FromModel(model);
  if (normalization.mean.size() != normalization.std.size() ||
      (!normalization.identity() &&
       static_cast<int64_t>(normalization.mean.size()) != set->channels())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "int8 model has ", normalization.mean.size(), " input means and ",
        normalization.std.size(), " input stds, the data set's samples have ",
        set->channels(), " channels"));
  }
  return Int8Evaluator(std::move(interpreter), model.input_scale(),
                       model.input_zero_point(), std::move(normalization), set);
}

Int8Evaluator::Int8Evaluator(mcu::Int8Interpreter interpreter, double scale,
                             int32_t zero_point, InputNormalization normalization,
                             const SampleSet* set)
    : interpreter_(std::move(interpreter)),
      input_scale_(scale),
      input_zero_point_(zero_point),
      normalization_(std::move(normalization)),
      set_(set),
      sample_(set->sample_size()) {}

void Int8Evaluator::QuantizeSample(int64_t index, std::vector<int8_t>* out) {
  set_->CopySample(index, normalization_, sample_.data());
  out->resize(sample_.size());
  const mcu::ActivationParams params{input_scale_, input_zero_point_};
  for (size_t i = 0; i < sample_.size(); ++i) {
    (*out)[i] = mcu::QuantizeValue(sample_[i], params);
  }
}

absl::Status Int8Evaluator::Run(const std::vector<int8_t>& input,
                                std::vector<int8_t>* output) {
  output->resize(interpreter_.output_bytes());
  return interpreter_.Invoke(input, absl::MakeSpan(*output));
}

absl::Status Int8Evaluator::Predict(const std::vector<int64_t>& indices, size_t begin,
                                    size_t end, std::vector<int>* predicted) {
  std::vector<int8_t> input, output;
  for (size_t i = begin; i < end; ++i) {
    QuantizeSample(indices[i], &input);
    NAS_RETURN_IF_ERROR(Run(input, &output));
    (*predicted)[i] = std::min(ArgMax(output), set_->num_classes - 1);
  }
  return absl::OkStatus();
}

absl::StatusOr<ConfusionMatrix> Int8Evaluator::Evaluate(
    const std::vector<int64_t>& indices, int threads) {
  const size_t n = indices.size();
  const size_t workers =
      std::clamp<size_t>(threads, 1, std::max<size_t>(1, n / kMinSamplesPerThread));
  std::vector<int> predicted(n);
  std::vector<absl::Status> status(workers);
  std::vector<Int8Evaluator> copies(workers - 1, *this);
  std::vector<std::thread> pool;
  const size_t chunk = (n + workers - 1) / workers;
  for (size_t t = 1; t < workers; ++t) {
    pool.emplace_back([&, t] {
      status[t] = copies[t - 1].Predict(indices, std::min(n, t * chunk),
                                        std::min(n, (t + 1) * chunk), &predicted);
    });
  }
  status[0] = Predict(indices, 0, std::min(n, chunk), &predicted);
  for (std::thread& thread : pool) thread.join();
  for (const absl::Status& s : status) NAS_RETURN_IF_ERROR(s);
  ConfusionMatrix matrix(set_->num_classes);
  for (size_t i = 0; i < n; ++i) matrix.Add(set_->labels[indices[i]], predicted[i]);
  return matrix;
}

absl::StatusOr<double> Int8Evaluator::LatencyMs(int64_t index, int runs) {
  std::vector<int8_t> input, output;
  QuantizeSample(index, &input);
  for (int i = 0; i < kLatencyWarmupRuns; ++i) NAS_RETURN_IF_ERROR(Run(input, &output));
  std::vector<double> times;
  for (int i = 0; i < std::max(runs, 1); ++i) {
    const auto start = std::chrono::steady_clock::now();
    NAS_RETURN_IF_ERROR(Run(input, &output));
    times.push_back(std::chrono::duration<double, std::milli>(
                        std::chrono::steady_clock::now() - start)
                        .count());
  }
  std::nth_element(times.begin(), times.begin() + times.size() / 2, times.end());
  return times[times.size() / 2];
}

absl::Status Int8Evaluator::AddTestVectors(const std::vector<int64_t>& indices,
                                           v1::QuantizedModel* model) {
  std::string inputs, outputs;
  model->clear_test_labels();
  std::vector<int8_t> input, output;
  for (int64_t index : indices) {
    QuantizeSample(index, &input);
    NAS_RETURN_IF_ERROR(Run(input, &output));
    inputs.append(reinterpret_cast<const char*>(input.data()), input.size());
    outputs.append(reinterpret_cast<const char*>(output.data()), output.size());
    model->add_test_labels(set_->labels[index]);
  }
  model->set_test_inputs(std::move(inputs));
  model->set_test_outputs(std::move(outputs));
  return absl::OkStatus();
}

int ArgMax(const std::vector<int8_t>& values) {
  return static_cast<int>(std::max_element(values.begin(), values.end()) -
                          values.begin());
}

}  // namespace nas::worker
