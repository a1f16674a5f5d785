#include "tests/mcu/codegen/synthetic_model.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <utility>

#include "common/architecture.h"
#include "common/int8_plan.h"
#include "common/status_macros.h"
#include "mcu/model_tables.h"
#include "mcu/quantizer/model_quantizer.h"

namespace nas::testing {
namespace {

// std::mt19937's sequence is fixed by the standard (the distributions are
// not), so values are drawn from its raw output.
class Random {
 public:
  explicit Random(uint32_t seed) : engine_(seed) {}
  int32_t Int(int32_t lo, int32_t hi) {  // Inclusive.
    const uint64_t span = static_cast<uint64_t>(int64_t{hi} - lo) + 1;
    return static_cast<int32_t>(lo + static_cast<int64_t>(engine_() % span));
  }
  double Unit() { return static_cast<double>(engine_()) / 4294967296.0; }  // [0, 1).

 private:
  std::mt19937 engine_;
};

struct Activation {
  float scale;
  int32_t zero_point;
};

// Values summed per output of a weighted op.
int64_t AccumulationLength(const Int8PlannedOp& op) {
  if (op.op == v1::INT8_DEPTHWISE) return int64_t{op.kernel_h} * op.kernel_w;
  if (op.op == v1::INT8_LINEAR) return op.in_c;
  return int64_t{op.in_c} * op.kernel_h * op.kernel_w;
}

// Per-channel constants scaled so that outputs spread over the int8 range
// instead of saturating: random weights and inputs give sums of about
// sqrt(K) * 73 * 74 in size, mapped to about 40.
void FillWeighted(const Int8PlannedOp& op, Random& rng, v1::Int8Layer* layer) {
  std::string weights(static_cast<size_t>(op.weights), '\0');
  for (char& w : weights) w = static_cast<char>(rng.Int(-127, 127));
  layer->set_weights(weights);
  const double spread = std::sqrt(static_cast<double>(AccumulationLength(op))) * 73.0 * 74.0;
  for (int64_t c = 0; c < op.channels; ++c) {
    int exponent = 0;
    const double mantissa = std::frexp(40.0 / spread * (0.75 + 0.5 * rng.Unit()), &exponent);
    const auto multiplier =
        static_cast<int32_t>(std::min<double>(std::round(mantissa * 2147483648.0), 2147483647.0));
    layer->add_multipliers(multiplier);
    layer->add_shifts(std::clamp(exponent, -31, 30));
    const auto bias_range = static_cast<int32_t>(spread / 2);
    layer->add_biases(rng.Int(-bias_range, bias_range));
    layer->add_weight_scales(static_cast<float>(0.001 + 0.01 * rng.Unit()));
  }
}

// The output clamp of a fused or lone RELU/RELU6 at `out`'s parameters.
void SetClamp(v1::LayerType activation, const Activation& out, v1::Int8Layer* layer) {
  layer->set_act_min(-128);
  layer->set_act_max(127);
  if (activation != v1::RELU && activation != v1::RELU6) return;
  layer->set_act_min(std::max(-128, out.zero_point));
  if (activation == v1::RELU6) {
    const auto six = static_cast<int32_t>(std::lround(6.0 / out.scale));
    layer->set_act_max(std::min(127, out.zero_point + six));
  }
}

v1::Int8Layer MakeLayer(const Int8PlannedOp& op, const Int8Plan& plan, const Activation& in,
                        const Activation& out, Random& rng) {
  v1::Int8Layer layer;
  mcu::FillLayerGeometry(plan, op, &layer);
  layer.set_input_scale(in.scale);
  layer.set_input_zero_point(in.zero_point);
  layer.set_output_scale(out.scale);
  layer.set_output_zero_point(out.zero_point);
  SetClamp(op.activation, out, &layer);
  if (op.weights > 0) FillWeighted(op, rng, &layer);
  return layer;
}

absl::Status AddTestVectors(int count, Random& rng, v1::QuantizedModel* model) {
  NAS_ASSIGN_OR_RETURN(mcu::Int8Interpreter interpreter, mcu::Int8Interpreter::Create(*model));
  std::vector<int8_t> input(interpreter.input_bytes());
  std::vector<int8_t> output(interpreter.output_bytes());
  for (int i = 0; i < count; ++i) {
    for (int8_t& v : input) v = static_cast<int8_t>(rng.Int(-128, 127));
    NAS_RETURN_IF_ERROR(interpreter.Invoke(input, absl::MakeSpan(output)));
    model->mutable_test_inputs()->append(reinterpret_cast<const char*>(input.data()), input.size());
    model->mutable_test_outputs()->append(reinterpret_cast<const char*>(output.data()),
                                          output.size());
    const int best = Argmax(output.data(), static_cast<int>(output.size()));
    model->add_test_labels(i % 4 == 3 ? (best + 1) % model->num_classes() : best);
  }
  return absl::OkStatus();
}

}  // namespace

int Argmax(const int8_t* values, int n) {
  int best = 0;
  for (int i = 1; i < n; ++i) {
    if (values[i] > values[best]) best = i;
  }
  return best;
}

int CorrectTestVectors(const v1::QuantizedModel& model) {
  const int n = model.test_labels_size();
  const int classes = model.num_classes();
  const auto* outputs = reinterpret_cast<const int8_t*>(model.test_outputs().data());
  int correct = 0;
  for (int i = 0; i < n; ++i) {
    if (Argmax(outputs + int64_t{i} * classes, classes) == model.test_labels(i)) ++correct;
  }
  return correct;
}

absl::StatusOr<v1::QuantizedModel> SyntheticQuantizedModel(const v1::Architecture& arch,
                                                           const v1::TensorShape& input,
                                                           int num_classes,
                                                           const SyntheticOptions& options) {
  NAS_ASSIGN_OR_RETURN(Int8Plan plan, PlanInt8(arch, input, num_classes));
  Random rng(options.seed);
  v1::QuantizedModel model;
  model.set_format_version(1);
  *model.mutable_input_shape() = input;
  model.set_num_classes(num_classes);
  for (const std::string& label : options.labels) model.add_labels(label);
  Activation current{static_cast<float>(0.01 + 0.05 * rng.Unit()), rng.Int(-20, 20)};
  model.set_input_scale(current.scale);
  model.set_input_zero_point(current.zero_point);
  for (const Int8PlannedOp& op : plan.ops) {
    Activation out = current;  // Pooling and CLAMP keep their input's.
    if (op.weights > 0) out = {static_cast<float>(0.02 + 0.1 * rng.Unit()), rng.Int(-40, 40)};
    *model.add_layers() = MakeLayer(op, plan, current, out, rng);
    current = out;
  }
  model.set_output_scale(current.scale);
  model.set_output_zero_point(current.zero_point);
  model.set_arena_bytes(static_cast<int32_t>(plan.arena.arena_bytes));
  model.set_input_offset(static_cast<int32_t>(plan.arena.offsets[plan.input_buffer]));
  model.set_output_offset(static_cast<int32_t>(plan.arena.offsets[plan.output_buffer]));
  model.set_calibration_samples(1000);
  model.set_calibration("minmax");
  for (float m : options.input_mean) model.add_input_mean(m);
  for (float s : options.input_std) model.add_input_std(s);
  model.set_dataset(options.dataset);
  model.set_architecture(ArchitectureToString(arch));
  NAS_RETURN_IF_ERROR(AddTestVectors(options.test_vectors, rng, &model));
  return model;
}

}  // namespace nas::testing
