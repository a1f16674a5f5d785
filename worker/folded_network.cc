#include "worker/folded_network.h"

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/architecture.h"
#include "common/status_macros.h"
#include "mcu/quantizer/quantize_math.h"

namespace nas::worker {
namespace {

// Per canonical architecture layer: its type and the index of its module
// among the BuiltModel's children (-1: none), as BuildModel appends them: a
// LINEAR on a rank > 1 input comes after its Flatten, a GLOBAL_AVGPOOL is
// followed by one, a SOFTMAX has no module.
struct LayerModules {
  std::vector<v1::LayerType> types;
  std::vector<int> modules;
};

absl::StatusOr<LayerModules> MapLayers(const BuiltModel& model,
                                       const v1::Architecture& arch,
                                       const v1::TensorShape& input, int num_classes) {
  NAS_ASSIGN_OR_RETURN(std::vector<LayerShape> shapes,
                       InferShapes(arch, input, num_classes));
  LayerModules map;
  int child = 0;
  for (const LayerShape& shape : shapes) {
    const v1::LayerType type = shape.layer.type();
    map.types.push_back(type);
    if (type == v1::SOFTMAX) {
      map.modules.push_back(-1);
      continue;
    }
    if (type == v1::LINEAR && shape.input.dims_size() > 1) ++child;
    map.modules.push_back(child);
    child += type == v1::GLOBAL_AVGPOOL ? 2 : 1;
  }
  if (child != static_cast<int>(model.net->size())) {
    return absl::InternalError(absl::StrCat("int8: the built network has ",
                                            model.net->size(), " modules, the ",
                                            "architecture maps to ", child));
  }
  return map;
}

std::vector<float> ToVector(const torch::Tensor& t) {
  const torch::Tensor c = t.detach().to(torch::kCPU, torch::kFloat).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

torch::Tensor ToTensor(const std::vector<float>& values, std::vector<int64_t> shape) {
  return torch::tensor(values, torch::kFloat).reshape(shape);
}

torch::Tensor Named(const torch::nn::Module& module, const std::string& name) {
  const auto parameters = module.named_parameters(/*recurse=*/false);
  if (const torch::Tensor* p = parameters.find(name)) return *p;
  const auto buffers = module.named_buffers(/*recurse=*/false);
  const torch::Tensor* b = buffers.find(name);
  return b != nullptr ? *b : torch::Tensor();
}

absl::StatusOr<mcu::BatchNormParams> ReadBatchNorm(const torch::nn::Module& module) {
  mcu::BatchNormParams bn;
  if (const auto* bn2 = module.as<torch::nn::BatchNorm2d>()) {
    bn.eps = bn2->options.eps();
  } else if (const auto* bn1 = module.as<torch::nn::BatchNorm1d>()) {
    bn.eps = bn1->options.eps();
  } else {
    return absl::InternalError("int8: a BATCHNORM layer's module is not a BatchNorm");
  }
  bn.gamma = ToVector(Named(module, "weight"));
  bn.beta = ToVector(Named(module, "bias"));
  bn.mean = ToVector(Named(module, "running_mean"));
  bn.var = ToVector(Named(module, "running_var"));
  return bn;
}

std::vector<int64_t> WeightShape(const Int8PlannedOp& op) {
  switch (op.op) {
    case v1::INT8_LINEAR:
      return {op.out_c, op.in_c};
    case v1::INT8_DEPTHWISE:
      return {op.in_c, 1, op.kernel_h, op.kernel_w};
    default:
      return {op.out_c, op.in_c, op.kernel_h, op.kernel_w};
  }
}

torch::Tensor FakeQuantWeights(const torch::Tensor& w) {
  const torch::Tensor max = w.detach().abs().reshape({w.size(0), -1}).amax(1);
  const torch::Tensor scale =
      torch::where(max > 0, max / 127.0, torch::ones_like(max)).to(torch::kFloat);
  const torch::Tensor zero = torch::zeros({w.size(0)}, w.options().dtype(torch::kInt));
  return torch::fake_quantize_per_channel_affine(w, scale, zero, 0, -127, 127);
}

torch::Tensor FakeQuantTensor(const torch::Tensor& x, const mcu::ActivationParams& p) {
  return torch::fake_quantize_per_tensor_affine(x, p.scale, p.zero_point, -128, 127);
}

}  // namespace

absl::StatusOr<FoldedNetwork> FoldedNetwork::Create(const BuiltModel& model,
                                                    const v1::Architecture& arch,
                                                    const v1::TensorShape& input,
                                                    int num_classes, const Int8Plan& plan) {
  NAS_ASSIGN_OR_RETURN(LayerModules map, MapLayers(model, arch, input, num_classes));
  torch::NoGradGuard no_grad;
  std::vector<Step> steps;
  for (const Int8PlannedOp& op : plan.ops) {
    steps.emplace_back();
    if (op.weighted_layer < 0) continue;
    const torch::nn::Module& module = *model.net->ptr(map.modules[op.weighted_layer]);
    std::vector<float> w, b;
    if (map.types[op.weighted_layer] == v1::BATCHNORM) {
      NAS_ASSIGN_OR_RETURN(mcu::BatchNormParams bn, ReadBatchNorm(module));
      mcu::LoneBatchNorm(bn, &w, &b);
    } else {
      w = ToVector(Named(module, "weight"));
      b = ToVector(Named(module, "bias"));
      if (op.folded_batchnorm >= 0) {
        NAS_ASSIGN_OR_RETURN(
            mcu::BatchNormParams bn,
            ReadBatchNorm(*model.net->ptr(map.modules[op.folded_batchnorm])));
        mcu::FoldBatchNorm(bn, &w, &b);
      }
    }
    if (static_cast<int64_t>(w.size()) != op.weights ||
        static_cast<int64_t>(b.size()) != op.channels) {
      return absl::InternalError(absl::StrCat(
          "int8: layer ", op.weighted_layer, " has ", w.size(), " weights and ",
          b.size(), " biases, the int8 plan expects ", op.weights, " and ", op.channels));
    }
    steps.back().weight = ToTensor(w, WeightShape(op)).requires_grad_();
    steps.back().bias = ToTensor(b, {op.channels}).requires_grad_();
  }
  return FoldedNetwork(plan, std::move(steps), num_classes);
}

torch::Tensor FoldedNetwork::RunOp(size_t i, const torch::Tensor& x, bool fake_weights) const {
  const Int8PlannedOp& op = plan_.ops[i];
  const int64_t batch = x.size(0);
  const torch::Tensor in = x.reshape({batch, op.in_c, op.in_h, op.in_w});
  torch::Tensor w = steps_[i].weight;
  if (fake_weights && w.defined()) w = FakeQuantWeights(w);
  const torch::Tensor& b = steps_[i].bias;
  const std::vector<int64_t> kernel = {op.kernel_h, op.kernel_w};
  const std::vector<int64_t> stride = {op.stride_h, op.stride_w};
  const std::vector<int64_t> pad = {op.pad_h, op.pad_w};
  torch::Tensor y;
  switch (op.op) {
    case v1::INT8_CONV:
      y = torch::conv2d(in, w, b, stride, pad);
      break;
    case v1::INT8_DEPTHWISE:
      y = torch::conv2d(in, w, b, stride, pad, {1, 1}, op.in_c);
      break;
    case v1::INT8_LINEAR:
      y = torch::linear(in.reshape({batch, op.in_c}), w, b);
      break;
    case v1::INT8_MAXPOOL:
      y = torch::max_pool2d(in, kernel, stride, pad);
      break;
    case v1::INT8_AVGPOOL:
      y = torch::avg_pool2d(in, kernel, stride, pad, /*ceil_mode=*/false,
                            /*count_include_pad=*/true);
      break;
    case v1::INT8_GLOBAL_AVGPOOL:
      y = in.mean({2, 3});
      break;
    default:  // INT8_CLAMP: the activation below.
      y = in;
      break;
  }
  if (op.activation == v1::RELU) y = torch::relu(y);
  if (op.activation == v1::RELU6) y = torch::clamp(y, 0.0, 6.0);
  return y.reshape({batch, op.out_c, op.out_h, op.out_w});
}

torch::Tensor FoldedNetwork::Forward(const torch::Tensor& x, const FakeQuant* fake_quant,
                                     const Observer& observe) const {
  const int64_t batch = x.size(0);
  torch::Tensor h = x.reshape({batch, -1});
  if (observe) observe(-1, h);
  if (fake_quant != nullptr) h = FakeQuantTensor(h, fake_quant->input);
  for (size_t i = 0; i < plan_.ops.size(); ++i) {
    h = RunOp(i, h, fake_quant != nullptr);
    if (observe) observe(static_cast<int>(i), h);
    if (fake_quant != nullptr) h = FakeQuantTensor(h, fake_quant->outputs[i]);
  }
  return h.reshape({batch, num_classes_});
}

std::vector<torch::Tensor> FoldedNetwork::Parameters() const {
  std::vector<torch::Tensor> params;
  for (const Step& step : steps_) {
    if (!step.weight.defined()) continue;
    params.push_back(step.weight);
    params.push_back(step.bias);
  }
  return params;
}

std::vector<torch::Tensor> FoldedNetwork::Snapshot() const {
  std::vector<torch::Tensor> copies;
  for (const torch::Tensor& p : Parameters()) copies.push_back(p.detach().clone());
  return copies;
}

void FoldedNetwork::Restore(const std::vector<torch::Tensor>& snapshot) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> params = Parameters();
  for (size_t i = 0; i < params.size() && i < snapshot.size(); ++i) {
    params[i].copy_(snapshot[i]);
  }
}

std::vector<mcu::OpFloatParams> FoldedNetwork::FloatParams() const {
  std::vector<mcu::OpFloatParams> out(steps_.size());
  for (size_t i = 0; i < steps_.size(); ++i) {
    if (!steps_[i].weight.defined()) continue;
    out[i].weights = ToVector(steps_[i].weight);
    out[i].biases = ToVector(steps_[i].bias);
  }
  return out;
}

void FoldedNetwork::To(const torch::Device& device) {
  torch::NoGradGuard no_grad;
  for (Step& step : steps_) {
    if (!step.weight.defined()) continue;
    step.weight = step.weight.to(device).detach().requires_grad_();
    step.bias = step.bias.to(device).detach().requires_grad_();
  }
}

}  // namespace nas::worker
