#ifndef NAS_COMMON_INT8_PLAN_H_
#define NAS_COMMON_INT8_PLAN_H_

// How an architecture runs on the int8 runtime (mcu/runtime): the runtime
// operations it lowers to, the arena they share and the bytes of constant
// data the generated C library holds. The cost model's flash and arena, the
// worker's quantiser and the C exporter all take their layout from here, so
// the figure a user sees before training is what the code declares. Pure
// functions, thread-safe.
//
// Lowering, layer by layer of the canonical architecture:
// - CONV2D, POINTWISE_CONV2D, CONV1D -> INT8_CONV; DEPTHWISE_CONV1D/2D ->
//   INT8_DEPTHWISE; LINEAR -> INT8_LINEAR (a rank > 1 input is flattened in
//   channel-major order, as LibTorch flattens).
// - A BATCHNORM right after one of those folds into it; a RELU/RELU6 right
//   after it (or after its folded BATCHNORM) fuses into its output clamp.
// - Any other BATCHNORM -> INT8_DEPTHWISE with kernel 1, in place (a
//   per-channel int8 scale and int32 offset), which may fuse a following
//   RELU/RELU6 too.
// - Any other RELU/RELU6 -> INT8_CLAMP, in place.
// - MAXPOOL1D/2D -> INT8_MAXPOOL; AVGPOOL1D/2D -> INT8_AVGPOOL;
//   GLOBAL_AVGPOOL -> INT8_GLOBAL_AVGPOOL.
// - DROPOUT, FLATTEN and a final SOFTMAX lower to nothing (the output is the
//   last LINEAR's int8 logits; softmax keeps their argmax).
// Shapes are {C, H, W}: a 1-D {C, L} tensor is {C, 1, L}, a flat {N} one
// {N, 1, 1}.
//
// Arena: buffer 0 is the model input, alive at op 0; every op that is not in
// place gets an output buffer alive from that op to the op that consumes it
// (the last op's output stays alive to the end); an in-place op extends its
// input buffer's lifetime instead. PlanGreedyArena lays them out.
//
// Constant data (what the exporter writes as `const` arrays, i.e. flash):
// per weighted op its int8 weights, and per output channel an int32 bias, an
// int32 multiplier and an int8 shift; per op one layer-table row of
// kInt8LayerRowBytes (the runtime's tn_layer: 21 int32 fields).

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "common/architecture.h"
#include "common/memory_planner.h"
#include "proto/nas.pb.h"

namespace nas {

// sizeof(tn_layer) of mcu/runtime/tinynas_runtime.h on every platform.
inline constexpr int64_t kInt8LayerRowBytes = 21 * 4;

struct Int8PlannedOp {
  v1::Int8Op op = v1::INT8_OP_UNSPECIFIED;
  // Architecture layers this op computes, in order (e.g. {3, 4, 5} for
  // CONV2D BATCHNORM RELU).
  std::vector<int> source_layers;
  int weighted_layer = -1;   // CONV/DEPTHWISE/LINEAR/lone BATCHNORM, or -1.
  int folded_batchnorm = -1; // BATCHNORM folded into weighted_layer, or -1.
  v1::LayerType activation = v1::LAYER_TYPE_UNSPECIFIED;  // RELU, RELU6.
  int32_t in_c = 0, in_h = 1, in_w = 1;
  int32_t out_c = 0, out_h = 1, out_w = 1;
  int32_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1;
  int32_t pad_h = 0, pad_w = 0;
  bool in_place = false;
  int input_buffer = 0;   // Index into Int8Plan::buffers.
  int output_buffer = 0;  // == input_buffer when in place.
  int64_t weights = 0;    // int8 weights (0 for ops without).
  int64_t channels = 0;   // Per-output-channel parameters (0 for ops without).
};

struct Int8Plan {
  std::vector<Int8PlannedOp> ops;
  std::vector<BufferRequest> buffers;
  ArenaPlan arena;
  int input_buffer = 0;
  int output_buffer = 0;
  int64_t input_bytes = 0;   // Elements of the model input (int8).
  int64_t output_bytes = 0;  // num_classes.
  // Constant data of the generated library.
  int64_t weight_bytes = 0;      // Sum of ops' weights.
  int64_t bias_bytes = 0;        // 4 per channel.
  int64_t multiplier_bytes = 0;  // 4 per channel.
  int64_t shift_bytes = 0;       // 1 per channel.
  int64_t table_bytes = 0;       // kInt8LayerRowBytes per op.
  int64_t ConstantBytes() const {
    return weight_bytes + bias_bytes + multiplier_bytes + shift_bytes +
           table_bytes;
  }
};

// InvalidArgument (from InferShapes) for an invalid architecture.
absl::StatusOr<Int8Plan> PlanInt8(const v1::Architecture& arch,
                                  const v1::TensorShape& input,
                                  int num_classes);
// The same from the layers InferShapes(arch, input, num_classes) returned
// (for a caller that has them already, as the cost model does).
Int8Plan PlanInt8(const std::vector<LayerShape>& shapes,
                  const v1::TensorShape& input, int num_classes);

}  // namespace nas

#endif  // NAS_COMMON_INT8_PLAN_H_
