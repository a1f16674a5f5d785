#include "common/int8_plan.h"

#include <algorithm>
#include <cstddef>
#include <limits>
#include <utility>

#include "common/status_macros.h"

namespace nas {
namespace {

// {C, H, W} of a tensor: {C, L} -> {C, 1, L}, {N} -> {N, 1, 1}.
struct Dims {
  int32_t c = 0, h = 1, w = 1;
};

Dims ToDims(const v1::TensorShape& shape) {
  Dims d;
  if (shape.dims_size() >= 1) d.c = static_cast<int32_t>(shape.dims(0));
  if (shape.dims_size() == 2) d.w = static_cast<int32_t>(shape.dims(1));
  if (shape.dims_size() == 3) {
    d.h = static_cast<int32_t>(shape.dims(1));
    d.w = static_cast<int32_t>(shape.dims(2));
  }
  return d;
}

bool IsActivation(v1::LayerType type) {
  return type == v1::RELU || type == v1::RELU6;
}

// The runtime op of a layer that carries weights (and absorbs a following
// BATCHNORM), or INT8_OP_UNSPECIFIED for any other layer.
v1::Int8Op WeightedOp(v1::LayerType type) {
  switch (type) {
    case v1::CONV2D:
    case v1::POINTWISE_CONV2D:
    case v1::CONV1D:
      return v1::INT8_CONV;
    case v1::DEPTHWISE_CONV2D:
    case v1::DEPTHWISE_CONV1D:
      return v1::INT8_DEPTHWISE;
    case v1::LINEAR:
      return v1::INT8_LINEAR;
    default:
      return v1::INT8_OP_UNSPECIFIED;
  }
}

// The runtime op of a layer without weights; INT8_OP_UNSPECIFIED for the
// layers that lower to nothing (DROPOUT, FLATTEN, SOFTMAX).
v1::Int8Op UnweightedOp(v1::LayerType type) {
  switch (type) {
    case v1::BATCHNORM:
      return v1::INT8_DEPTHWISE;
    case v1::RELU:
    case v1::RELU6:
      return v1::INT8_CLAMP;
    case v1::MAXPOOL1D:
    case v1::MAXPOOL2D:
      return v1::INT8_MAXPOOL;
    case v1::AVGPOOL1D:
    case v1::AVGPOOL2D:
      return v1::INT8_AVGPOOL;
    case v1::GLOBAL_AVGPOOL:
      return v1::INT8_GLOBAL_AVGPOOL;
    default:
      return v1::INT8_OP_UNSPECIFIED;
  }
}

// Kernel, stride and padding of a sliding-window layer (1-D layers slide
// along W only); GLOBAL_AVGPOOL's window is the whole input.
void SetWindow(const v1::Layer& layer, Int8PlannedOp* op) {
  if (layer.type() == v1::GLOBAL_AVGPOOL) {
    op->kernel_h = op->in_h;
    op->kernel_w = op->in_w;
    return;
  }
  if (!IsConvLayer(layer.type()) && !IsPoolingLayer(layer.type())) return;
  op->kernel_w = layer.kernel();
  op->stride_w = layer.stride();
  op->pad_w = layer.padding();
  if (Is2dLayer(layer.type())) {
    op->kernel_h = layer.kernel();
    op->stride_h = layer.stride();
    op->pad_h = layer.padding();
  }
}

// int8 weights and per-output-channel parameters of a weighted op; a
// LINEAR's inputs are counted from its input shape (in int64).
void CountWeights(const v1::TensorShape& input, Int8PlannedOp* op) {
  const int64_t kernel = int64_t{op->kernel_h} * op->kernel_w;
  if (op->op == v1::INT8_CONV) {
    op->weights = int64_t{op->out_c} * op->in_c * kernel;
    op->channels = op->out_c;
  } else if (op->op == v1::INT8_DEPTHWISE) {
    op->weights = int64_t{op->in_c} * kernel;  // kernel 1 for a lone BN.
    op->channels = op->in_c;
  } else if (op->op == v1::INT8_LINEAR) {
    op->weights = NumElements(input) * op->out_c;
    op->channels = op->out_c;
  }
}

// Input and output {C, H, W}; LINEAR reads its input flattened.
void SetShapes(const v1::TensorShape& input, const v1::TensorShape& output,
               Int8PlannedOp* op) {
  const Dims in = ToDims(input);
  const Dims out = ToDims(output);
  op->in_c = in.c;
  op->in_h = in.h;
  op->in_w = in.w;
  op->out_c = out.c;
  op->out_h = out.h;
  op->out_w = out.w;
  if (op->op == v1::INT8_LINEAR) {
    // Saturated: an input of 2^31 elements or more fits no device anyway.
    op->in_c = static_cast<int32_t>(std::min<int64_t>(
        NumElements(input), std::numeric_limits<int32_t>::max()));
    op->in_h = 1;
    op->in_w = 1;
  }
}

// Lowers the layer at shapes[*i] (with the BATCHNORM and activation it
// absorbs) to one op and advances *i past them.
Int8PlannedOp LowerOne(const std::vector<LayerShape>& shapes, size_t* i) {
  const LayerShape& first = shapes[*i];
  const v1::LayerType type = first.layer.type();
  Int8PlannedOp op;
  op.source_layers.push_back(static_cast<int>(*i));
  op.op = WeightedOp(type);
  const bool weighted = op.op != v1::INT8_OP_UNSPECIFIED;
  if (!weighted) op.op = UnweightedOp(type);
  if (weighted || type == v1::BATCHNORM) {
    op.weighted_layer = op.source_layers[0];
  }
  op.in_place = type == v1::BATCHNORM || IsActivation(type);
  if (IsActivation(type)) op.activation = type;
  ++*i;
  auto next_is = [&](auto predicate) {
    return *i < shapes.size() && predicate(shapes[*i].layer.type());
  };
  if (weighted && next_is([](v1::LayerType t) { return t == v1::BATCHNORM; })) {
    op.folded_batchnorm = static_cast<int>(*i);
    op.source_layers.push_back(static_cast<int>((*i)++));
  }
  if (op.weighted_layer >= 0 && next_is(IsActivation)) {
    op.activation = shapes[*i].layer.type();
    op.source_layers.push_back(static_cast<int>((*i)++));
  }
  SetShapes(first.input, shapes[op.source_layers.back()].output, &op);
  SetWindow(first.layer, &op);
  CountWeights(first.input, &op);
  return op;
}

std::vector<Int8PlannedOp> LowerLayers(const std::vector<LayerShape>& shapes) {
  std::vector<Int8PlannedOp> ops;
  size_t i = 0;
  while (i < shapes.size()) {
    const v1::LayerType type = shapes[i].layer.type();
    if (WeightedOp(type) == v1::INT8_OP_UNSPECIFIED &&
        UnweightedOp(type) == v1::INT8_OP_UNSPECIFIED) {
      ++i;  // DROPOUT, FLATTEN, SOFTMAX: nothing to run.
      continue;
    }
    ops.push_back(LowerOne(shapes, &i));
  }
  return ops;
}

// Buffer 0 is the model input; each op not in place adds its output buffer,
// alive to its consumer (the next op); an in-place op extends its input's.
void AssignBuffers(int64_t input_elements, Int8Plan* plan) {
  plan->buffers.push_back({input_elements, 0, 0});
  const int n = static_cast<int>(plan->ops.size());
  int current = 0;
  for (int k = 0; k < n; ++k) {
    Int8PlannedOp& op = plan->ops[k];
    const int consumer = std::min(k + 1, n - 1);
    op.input_buffer = current;
    if (op.in_place) {
      BufferRequest& buffer = plan->buffers[current];
      buffer.last_use = std::max(buffer.last_use, consumer);
    } else {
      const int64_t size = int64_t{op.out_c} * op.out_h * op.out_w;
      plan->buffers.push_back({size, k, consumer});
      current = static_cast<int>(plan->buffers.size()) - 1;
    }
    op.output_buffer = current;
  }
  plan->input_buffer = 0;
  plan->output_buffer = current;
}

void CountConstants(Int8Plan* plan) {
  for (const Int8PlannedOp& op : plan->ops) {
    plan->weight_bytes += op.weights;
    plan->bias_bytes += 4 * op.channels;
    plan->multiplier_bytes += 4 * op.channels;
    plan->shift_bytes += op.channels;
    plan->table_bytes += kInt8LayerRowBytes;
  }
}

}  // namespace

absl::StatusOr<Int8Plan> PlanInt8(const v1::Architecture& arch,
                                  const v1::TensorShape& input,
                                  int num_classes) {
  // InferShapes checks the raw architecture and hands back each layer in
  // canonical form (pooling stride 0 -> kernel, POINTWISE kernel 1, ...).
  NAS_ASSIGN_OR_RETURN(std::vector<LayerShape> shapes,
                       InferShapes(arch, input, num_classes));
  return PlanInt8(shapes, input, num_classes);
}

Int8Plan PlanInt8(const std::vector<LayerShape>& shapes,
                  const v1::TensorShape& input, int num_classes) {
  Int8Plan plan;
  plan.ops = LowerLayers(shapes);
  plan.input_bytes = NumElements(input);
  plan.output_bytes = num_classes;
  AssignBuffers(plan.input_bytes, &plan);
  plan.arena = PlanGreedyArena(plan.buffers);
  CountConstants(&plan);
  return plan;
}

}  // namespace nas
