#ifndef NAS_MCU_QUANTIZER_MODEL_QUANTIZER_H_
#define NAS_MCU_QUANTIZER_MODEL_QUANTIZER_H_

// Assembles a v1::QuantizedModel from an architecture's int8 plan
// (common/int8_plan.h), the trained float parameters of its ops and the
// calibrated ranges of its activations. Torch-free; the worker feeds it
// after training and the result is what the mcu/ runtime runs. Pure
// function, thread-safe.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/int8_plan.h"
#include "mcu/quantizer/quantize_math.h"
#include "proto/nas.pb.h"

namespace nas::mcu {

// Float parameters of one planned op, BatchNorm already folded (see
// FoldBatchNorm / LoneBatchNorm in quantize_math.h). Weighted ops:
// Int8PlannedOp::weights values in LibTorch's [out][in][kh][kw] order
// (depthwise [C][kh][kw], lone BATCHNORM [C]) and one bias per output
// channel; empty for the other ops.
struct OpFloatParams {
  std::vector<float> weights;
  std::vector<float> biases;
};

// A calibrated float range.
struct FloatRange {
  double min = 0;
  double max = 0;
};

struct QuantizerInput {
  // One per Int8Plan op.
  std::vector<OpFloatParams> params;
  // The network input's range, and per op the range of its output (after
  // its fused activation). Per op rather than per buffer: an in-place op
  // (a lone BATCHNORM) changes the values its buffer holds. The ranges of
  // pooling and CLAMP ops are not used: they keep their input's scale and
  // zero point.
  FloatRange input_range;
  std::vector<FloatRange> output_ranges;
};

// The int8 parameters of every tensor of a plan: the model input's, and
// per op those of the tensor it writes (weighted ops: from their calibrated
// output range; pooling and CLAMP: their input's). Scales are rounded to
// float, as the model stores them. What QuantizeModel uses, and what
// quantisation-aware training fakes. A missing range counts as {0, 0}.
struct PlanActivations {
  ActivationParams input;
  std::vector<ActivationParams> op_inputs;  // One per op: what it reads.
  std::vector<ActivationParams> outputs;    // One per op: what it writes.
};
PlanActivations ChoosePlanActivations(const Int8Plan& plan,
                                      const FloatRange& input_range,
                                      const std::vector<FloatRange>& output_ranges);

// Sets the layer's op, source layers, shapes, window and arena offsets from
// the plan (what QuantizeModel writes for every op before its numbers).
void FillLayerGeometry(const Int8Plan& plan, const Int8PlannedOp& op,
                       v1::Int8Layer* layer);

struct QuantizerOutput {
  v1::QuantizedModel model;
  // What the user should know, one sentence each, e.g. "int8 layer 4
  // (INT8_CONV): accumulator can overflow int32 (fan-in 70000)".
  std::vector<std::string> notes;
};

// Builds the model: per op the plan's shapes and geometry, arena offsets
// (plan.arena.offsets of its input and output buffers), input and output
// scales and zero points, output clamp, and for weighted ops the int8
// weights, int32 biases, per-channel multipliers and shifts and weight
// scales; model-wide the input shape, classes, input/output quantisation,
// arena size and offsets. Metadata (labels, test vectors, calibration,
// dataset, architecture) is the caller's to fill.
// InvalidArgument when `input` does not match the plan (sizes of params or
// ranges, weights or biases of the wrong length).
absl::StatusOr<QuantizerOutput> QuantizeModel(const Int8Plan& plan,
                                              const v1::TensorShape& input_shape,
                                              const QuantizerInput& input);

}  // namespace nas::mcu

#endif  // NAS_MCU_QUANTIZER_MODEL_QUANTIZER_H_
