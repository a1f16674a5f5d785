#include "worker/model_builder.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/architecture.h"
#include "common/status_macros.h"
#include "worker/gemm_linear.h"

namespace nas::worker {
namespace {

namespace nn = torch::nn;

// "[3, 3]" for 2-D layers, "[3]" for 1-D ones: TorchScript int lists.
std::string IntList(int64_t value, int rank) {
  return rank == 2 ? absl::StrCat("[", value, ", ", value, "]")
                   : absl::StrCat("[", value, "]");
}

// Appends a child module and the TorchScript expression equal to it.
template <typename Module>
void Append(Module module, std::string script, BuiltModel* model) {
  model->net->push_back(std::move(module));
  model->script.push_back(std::move(script));
}

void AppendFlatten(BuiltModel* model) {
  Append(nn::Flatten(), "torch.flatten(x, 1, -1)", model);
}

// Convolutions of every kind. The canonical layer and the inferred shapes
// already carry the derived values: kernel 1 for POINTWISE_CONV2D, output
// channels = input channels for depthwise ones.
void AppendConv(const LayerShape& shape, BuiltModel* model) {
  const v1::Layer& layer = shape.layer;
  const int rank = Is2dLayer(layer.type()) ? 2 : 1;
  const int64_t in_channels = shape.input.dims(0);
  const int64_t out = shape.output.dims(0);
  const bool depthwise = layer.type() == v1::DEPTHWISE_CONV2D ||
                         layer.type() == v1::DEPTHWISE_CONV1D;
  const int64_t groups = depthwise ? in_channels : 1;
  const int64_t kernel = layer.kernel();
  const std::string script = absl::StrCat(
      "torch.conv", rank, "d(x, self.$weight, self.$bias, ",
      IntList(layer.stride(), rank), ", ", IntList(layer.padding(), rank), ", ",
      IntList(1, rank), ", ", groups, ")");
  if (rank == 2) {
    Append(nn::Conv2d(nn::Conv2dOptions(in_channels, out, kernel)
                          .stride(layer.stride())
                          .padding(layer.padding())
                          .groups(groups)
                          .bias(true)),
           script, model);
  } else {
    Append(nn::Conv1d(nn::Conv1dOptions(in_channels, out, kernel)
                          .stride(layer.stride())
                          .padding(layer.padding())
                          .groups(groups)
                          .bias(true)),
           script, model);
  }
}

void AppendPooling(const v1::Layer& layer, BuiltModel* model) {
  const int64_t k = layer.kernel(), s = layer.stride(), p = layer.padding();
  const int rank = Is2dLayer(layer.type()) ? 2 : 1;
  const std::string args = absl::StrCat(IntList(k, rank), ", ", IntList(s, rank),
                                        ", ", IntList(p, rank));
  switch (layer.type()) {
    case v1::MAXPOOL2D:
      Append(nn::MaxPool2d(nn::MaxPool2dOptions(k).stride(s).padding(p)),
             absl::StrCat("torch.max_pool2d(x, ", args, ", [1, 1], False)"), model);
      break;
    case v1::MAXPOOL1D:
      Append(nn::MaxPool1d(nn::MaxPool1dOptions(k).stride(s).padding(p)),
             absl::StrCat("torch.max_pool1d(x, ", args, ", [1], False)"), model);
      break;
    case v1::AVGPOOL2D:
      Append(nn::AvgPool2d(nn::AvgPool2dOptions(k).stride(s).padding(p)),
             absl::StrCat("torch.avg_pool2d(x, ", args, ", False, True, None)"),
             model);
      break;
    default:  // AVGPOOL1D
      Append(nn::AvgPool1d(nn::AvgPool1dOptions(k).stride(s).padding(p)),
             absl::StrCat("torch.avg_pool1d(x, ", args, ", False, True)"), model);
      break;
  }
}

void AppendGlobalAvgPool(int rank, BuiltModel* model) {
  if (rank == 3) {
    Append(nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions(1)),
           "torch.adaptive_avg_pool2d(x, [1, 1])", model);
  } else {
    Append(nn::AdaptiveAvgPool1d(nn::AdaptiveAvgPool1dOptions(1)),
           "torch.adaptive_avg_pool1d(x, [1])", model);
  }
  AppendFlatten(model);
}

void AppendBatchNorm(const v1::TensorShape& input, BuiltModel* model) {
  const int64_t features = input.dims(0);
  const std::string script =
      "torch.batch_norm(x, self.$weight, self.$bias, self.$running_mean, "
      "self.$running_var, False, 0.1, 1e-05, False)";
  if (input.dims_size() == 3) {
    Append(nn::BatchNorm2d(features), script, model);
  } else {
    Append(nn::BatchNorm1d(features), script, model);
  }
}

void AppendLinear(const v1::Layer& layer, const v1::TensorShape& input,
                  BuiltModel* model) {
  if (input.dims_size() > 1) AppendFlatten(model);
  Append(GemmLinear(NumElements(input), layer.out()),
         "torch.linear(x, self.$weight, self.$bias)", model);
}

void AppendLayer(const LayerShape& shape, BuiltModel* model) {
  const v1::Layer& layer = shape.layer;
  const int rank = shape.input.dims_size();
  switch (layer.type()) {
    case v1::CONV2D:
    case v1::DEPTHWISE_CONV2D:
    case v1::POINTWISE_CONV2D:
    case v1::CONV1D:
    case v1::DEPTHWISE_CONV1D:
      AppendConv(shape, model);
      break;
    case v1::MAXPOOL2D:
    case v1::MAXPOOL1D:
    case v1::AVGPOOL2D:
    case v1::AVGPOOL1D:
      AppendPooling(layer, model);
      break;
    case v1::GLOBAL_AVGPOOL:
      AppendGlobalAvgPool(rank, model);
      break;
    case v1::BATCHNORM:
      AppendBatchNorm(shape.input, model);
      break;
    case v1::RELU:
      Append(nn::ReLU(), "torch.relu(x)", model);
      break;
    case v1::RELU6:
      Append(nn::ReLU6(), "torch.hardtanh(x, 0.0, 6.0)", model);
      break;
    case v1::DROPOUT:
      Append(nn::Dropout(layer.dropout_rate()), "", model);
      break;
    case v1::FLATTEN:
      AppendFlatten(model);
      break;
    case v1::LINEAR:
      AppendLinear(layer, shape.input, model);
      break;
    case v1::SOFTMAX:
      model->softmax_output = true;  // Training uses logits; export adds it.
      break;
    default:  // InferShapes rejects every other type.
      break;
  }
}

}  // namespace

absl::StatusOr<BuiltModel> BuildModel(const v1::Architecture& arch,
                                      const v1::TensorShape& input,
                                      int num_classes) {
  NAS_ASSIGN_OR_RETURN(std::vector<LayerShape> shapes,
                       InferShapes(arch, input, num_classes));
  BuiltModel model;
  model.input_shape.assign(input.dims().begin(), input.dims().end());
  try {
    for (const LayerShape& shape : shapes) AppendLayer(shape, &model);
  } catch (const c10::Error& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("LibTorch rejected the architecture ",
                     ArchitectureToString(arch), ": ", e.what_without_backtrace()));
  }
  return model;
}

int64_t CountParameters(const torch::nn::Module& module) {
  int64_t count = 0;
  for (const torch::Tensor& p : module.parameters()) count += p.numel();
  return count;
}

}  // namespace nas::worker
