#include "mcu/quantizer/model_quantizer.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "mcu/quantizer/quantize_math.h"

namespace nas::mcu {
namespace {

constexpr int kMaxShift = 30;  // The runtime's shift range is -31..30.

bool IsWeighted(v1::Int8Op op) {
  return op == v1::INT8_CONV || op == v1::INT8_DEPTHWISE || op == v1::INT8_LINEAR;
}

std::string LayerName(int index, const Int8PlannedOp& op) {
  return absl::StrCat("int8 layer ", index, " (", v1::Int8Op_Name(op.op), ")");
}

FusedActivation ActivationOf(const Int8PlannedOp& op) {
  if (op.activation == v1::RELU) return FusedActivation::kRelu;
  if (op.activation == v1::RELU6) return FusedActivation::kRelu6;
  return FusedActivation::kNone;
}

bool BufferOk(const Int8Plan& plan, int buffer) {
  return buffer >= 0 && static_cast<size_t>(buffer) < plan.arena.offsets.size();
}

absl::Status CheckOp(const Int8Plan& plan, int i, const OpFloatParams& params) {
  const Int8PlannedOp& op = plan.ops[i];
  if (!BufferOk(plan, op.input_buffer) || !BufferOk(plan, op.output_buffer)) {
    return absl::InvalidArgumentError(
        absl::StrCat(LayerName(i, op), ": buffer outside the arena plan"));
  }
  if (!IsWeighted(op.op)) return absl::OkStatus();
  if (static_cast<int64_t>(params.weights.size()) != op.weights ||
      static_cast<int64_t>(params.biases.size()) != op.channels ||
      op.channels != op.out_c) {
    return absl::InvalidArgumentError(absl::StrCat(
        LayerName(i, op), ": ", params.weights.size(), " weights and ",
        params.biases.size(), " biases given, the plan has ", op.weights,
        " and ", op.channels));
  }
  return absl::OkStatus();
}

absl::Status CheckInput(const Int8Plan& plan, const QuantizerInput& input) {
  if (input.params.size() != plan.ops.size() ||
      input.output_ranges.size() != plan.ops.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "quantizer: ", input.params.size(), " op parameters and ",
        input.output_ranges.size(), " output ranges for ", plan.ops.size(),
        " planned ops"));
  }
  if (plan.ops.empty() || !BufferOk(plan, plan.input_buffer) ||
      !BufferOk(plan, plan.output_buffer)) {
    return absl::InvalidArgumentError("quantizer: an empty or malformed int8 plan");
  }
  for (size_t i = 0; i < plan.ops.size(); ++i) {
    NAS_RETURN_IF_ERROR(CheckOp(plan, static_cast<int>(i), input.params[i]));
  }
  return absl::OkStatus();
}

ActivationParams RangeParams(const FloatRange& range) {
  ActivationParams params = ChooseActivationParams(range.min, range.max);
  // Scales travel as float (Int8Layer, QuantizedModel); computing the
  // multipliers from the same rounded values keeps every consumer exact.
  params.scale = static_cast<float>(params.scale);
  return params;
}

void NoteRange(const std::string& name, const FloatRange& range,
               std::vector<std::string>* notes) {
  if (!std::isfinite(range.min) || !std::isfinite(range.max)) {
    notes->push_back(absl::StrCat(name, ": calibrated range [", range.min, ", ",
                                  range.max, "] is not finite"));
  } else if (range.min == 0 && range.max == 0) {
    notes->push_back(absl::StrCat(name, ": output was 0 on every calibration sample"));
  }
}


// One output channel's bias, multiplier and shift; notes a saturated bias
// or multiplier through the flags.
struct ChannelFlags {
  int saturated_biases = 0;
  int saturated_multipliers = 0;
  int64_t max_abs_bias = 0;
};

void QuantizeChannel(double bias, double in_scale, double weight_scale,
                     double out_scale, v1::Int8Layer* layer, ChannelFlags* flags) {
  bool saturated = false;
  const int32_t q_bias = QuantizeBias(bias, in_scale, weight_scale, &saturated);
  flags->saturated_biases += saturated ? 1 : 0;
  flags->max_abs_bias = std::max(flags->max_abs_bias, std::abs(static_cast<int64_t>(q_bias)));
  QuantizedMultiplier m = QuantizeMultiplier(in_scale * weight_scale / out_scale);
  if (m.shift > kMaxShift) {
    m = {std::numeric_limits<int32_t>::max(), kMaxShift};
    ++flags->saturated_multipliers;
  }
  layer->add_biases(q_bias);
  layer->add_multipliers(m.multiplier);
  layer->add_shifts(m.shift);
  layer->add_weight_scales(static_cast<float>(weight_scale));
}

void QuantizeWeighted(const std::string& name, const OpFloatParams& params,
                      const ActivationParams& in, const ActivationParams& out,
                      v1::Int8Layer* layer, std::vector<std::string>* notes) {
  const auto channels = static_cast<int64_t>(params.biases.size());
  const ChannelWeights weights = QuantizeWeightsPerChannel(params.weights, channels);
  layer->set_weights(reinterpret_cast<const char*>(weights.values.data()),
                     weights.values.size());
  ChannelFlags flags;
  for (int64_t c = 0; c < channels; ++c) {
    const double weight_scale = static_cast<float>(weights.scales[c]);
    QuantizeChannel(params.biases[c], in.scale, weight_scale, out.scale, layer, &flags);
  }
  const int64_t fan_in = channels > 0 ? params.weights.size() / channels : 0;
  const double worst = flags.max_abs_bias + 255.0 * 127.0 * fan_in;
  if (worst > std::numeric_limits<int32_t>::max()) {
    notes->push_back(absl::StrCat(name, ": accumulator can overflow int32 (fan-in ",
                                  fan_in, ")"));
  }
  if (flags.saturated_biases > 0) {
    notes->push_back(absl::StrCat(name, ": ", flags.saturated_biases,
                                  " bias(es) saturate int32"));
  }
  if (flags.saturated_multipliers > 0) {
    notes->push_back(absl::StrCat(name, ": ", flags.saturated_multipliers,
                                  " requantisation multiplier(s) above 2^30 saturate"
                                  " (output range far narrower than input)"));
  }
}

void FillModel(const Int8Plan& plan, const v1::TensorShape& input_shape,
               const ActivationParams& in, const ActivationParams& out,
               v1::QuantizedModel* model) {
  model->set_format_version(1);
  *model->mutable_input_shape() = input_shape;
  model->set_num_classes(static_cast<int32_t>(plan.output_bytes));
  model->set_input_scale(static_cast<float>(in.scale));
  model->set_input_zero_point(in.zero_point);
  model->set_output_scale(static_cast<float>(out.scale));
  model->set_output_zero_point(out.zero_point);
  model->set_arena_bytes(static_cast<int32_t>(plan.arena.arena_bytes));
  model->set_input_offset(static_cast<int32_t>(plan.arena.offsets[plan.input_buffer]));
  model->set_output_offset(static_cast<int32_t>(plan.arena.offsets[plan.output_buffer]));
}

}  // namespace

void FillLayerGeometry(const Int8Plan& plan, const Int8PlannedOp& op,
                       v1::Int8Layer* layer) {
  layer->set_op(op.op);
  for (int source : op.source_layers) layer->add_source_layers(source);
  layer->set_in_c(op.in_c);
  layer->set_in_h(op.in_h);
  layer->set_in_w(op.in_w);
  layer->set_out_c(op.out_c);
  layer->set_out_h(op.out_h);
  layer->set_out_w(op.out_w);
  layer->set_kernel_h(op.kernel_h);
  layer->set_kernel_w(op.kernel_w);
  layer->set_stride_h(op.stride_h);
  layer->set_stride_w(op.stride_w);
  layer->set_pad_h(op.pad_h);
  layer->set_pad_w(op.pad_w);
  layer->set_in_offset(static_cast<int32_t>(plan.arena.offsets[op.input_buffer]));
  layer->set_out_offset(static_cast<int32_t>(plan.arena.offsets[op.output_buffer]));
}

PlanActivations ChoosePlanActivations(const Int8Plan& plan,
                                      const FloatRange& input_range,
                                      const std::vector<FloatRange>& output_ranges) {
  PlanActivations out;
  out.input = RangeParams(input_range);
  // What each buffer holds now: ops run in order, and an in-place op
  // rewrites its buffer's parameters.
  std::vector<ActivationParams> buffer(plan.buffers.size() + 1);
  if (static_cast<size_t>(plan.input_buffer) < buffer.size()) {
    buffer[plan.input_buffer] = out.input;
  }
  for (size_t i = 0; i < plan.ops.size(); ++i) {
    const Int8PlannedOp& op = plan.ops[i];
    const ActivationParams in = buffer[op.input_buffer];
    out.op_inputs.push_back(in);
    const FloatRange range = i < output_ranges.size() ? output_ranges[i] : FloatRange{};
    out.outputs.push_back(IsWeighted(op.op) ? RangeParams(range) : in);
    buffer[op.output_buffer] = out.outputs.back();
  }
  return out;
}

absl::StatusOr<QuantizerOutput> QuantizeModel(const Int8Plan& plan,
                                              const v1::TensorShape& input_shape,
                                              const QuantizerInput& input) {
  NAS_RETURN_IF_ERROR(CheckInput(plan, input));
  QuantizerOutput out;
  const PlanActivations params =
      ChoosePlanActivations(plan, input.input_range, input.output_ranges);
  NoteRange("model input", input.input_range, &out.notes);
  for (size_t i = 0; i < plan.ops.size(); ++i) {
    const Int8PlannedOp& op = plan.ops[i];
    const std::string name = LayerName(static_cast<int>(i), op);
    const ActivationParams& in = params.op_inputs[i];
    const ActivationParams& result = params.outputs[i];
    v1::Int8Layer* layer = out.model.add_layers();
    FillLayerGeometry(plan, op, layer);
    layer->set_input_scale(static_cast<float>(in.scale));
    layer->set_input_zero_point(in.zero_point);
    layer->set_output_scale(static_cast<float>(result.scale));
    layer->set_output_zero_point(result.zero_point);
    const ClampRange clamp = FusedClamp(ActivationOf(op), result);
    layer->set_act_min(clamp.min);
    layer->set_act_max(clamp.max);
    if (IsWeighted(op.op)) {
      NoteRange(name, input.output_ranges[i], &out.notes);
      QuantizeWeighted(name, input.params[i], in, result, layer, &out.notes);
    }
  }
  FillModel(plan, input_shape, params.input, params.outputs.back(), &out.model);
  return out;
}

}  // namespace nas::mcu
