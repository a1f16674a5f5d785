// Shape inference and validation of architectures (InferShapes).

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/architecture.h"
#include "common/architecture_internal.h"

namespace nas {
namespace {

using v1::LayerType;

constexpr int64_t kMaxInputDim = 1 << 20;

// Collects problems, one line per problem, each prefixed with its layer.
class Problems {
 public:
  void Add(int index, LayerType type, const std::string& message) {
    lines_.push_back(absl::StrCat("layer ", index, " (", LayerTypeName(type),
                                  "): ", message));
  }
  void AddGlobal(const std::string& message) { lines_.push_back(message); }
  bool empty() const { return lines_.empty(); }
  std::string Joined() const { return absl::StrJoin(lines_, "\n"); }

 private:
  std::vector<std::string> lines_;
};

// Kernel, stride and padding of a conv or pooling layer.
void CheckWindowValues(int i, const v1::Layer& layer, Problems* problems) {
  const LayerType type = layer.type();
  if (layer.kernel() <= 0 || layer.kernel() > kMaxWindow) {
    problems->Add(i, type,
                  absl::StrCat("kernel ", layer.kernel(), " must be in 1..",
                               kMaxWindow));
  }
  if (layer.stride() < 0 || layer.stride() > kMaxWindow) {
    problems->Add(i, type,
                  absl::StrCat("stride ", layer.stride(), " must be in 0..",
                               kMaxWindow, " (0 = default)"));
  }
  if (layer.padding() < 0) {
    problems->Add(i, type,
                  absl::StrCat("padding ", layer.padding(), " must be >= 0"));
  } else if (IsPoolingLayer(type) && layer.kernel() > 0 &&
             int64_t{2} * layer.padding() > layer.kernel()) {
    // LibTorch refuses pooling padding above half the kernel.
    problems->Add(
        i, type,
        absl::StrCat("padding ", layer.padding(),
                     " must be at most half the kernel ", layer.kernel()));
  } else if (layer.kernel() > 0 && layer.padding() >= layer.kernel()) {
    problems->Add(
        i, type,
        absl::StrCat("padding ", layer.padding(),
                     " must be smaller than the kernel ", layer.kernel()));
  }
}

// Checks of a layer's own values, independent of its input shape.
void CheckValues(int i, const v1::Layer& raw, const v1::Layer& layer,
                 Problems* problems) {
  const LayerType type = layer.type();
  if (!v1::LayerType_IsValid(type) || type == v1::LAYER_TYPE_UNSPECIFIED) {
    problems->Add(i, type, "unknown layer type");
    return;
  }
  if (HasOutField(type)) {
    const int max = type == v1::LINEAR ? kMaxFeatures : kMaxChannels;
    if (layer.out() <= 0 || layer.out() > max) {
      problems->Add(i, type,
                    absl::StrCat("out ", layer.out(), " must be in 1..", max));
    }
  }
  if (type == v1::POINTWISE_CONV2D && raw.kernel() != 0 && raw.kernel() != 1) {
    problems->Add(
        i, type,
        absl::StrCat("kernel ", raw.kernel(), " must be 1 (or unset)"));
  }
  if (IsConvLayer(type) || IsPoolingLayer(type)) {
    CheckWindowValues(i, layer, problems);
  }
  if (type == v1::DROPOUT &&
      !(layer.dropout_rate() >= 0 && layer.dropout_rate() < 1)) {
    problems->Add(i, type,
                  absl::StrCat("dropout_rate ", layer.dropout_rate(),
                               " must be in [0, 1)"));
  }
}

bool ValuesOk(const v1::Layer& layer) {
  Problems problems;
  CheckValues(0, layer, layer, &problems);
  return problems.empty();
}

// Spatial output of a conv/pooling layer over `in` (all dims but the first),
// or nullopt with a problem when the kernel does not fit.
std::optional<v1::TensorShape> SlidingWindowShape(int i, const v1::Layer& layer,
                                                  const v1::TensorShape& in,
                                                  int64_t channels,
                                                  Problems* problems) {
  v1::TensorShape out;
  out.add_dims(channels);
  std::vector<int64_t> padded;
  for (int d = 1; d < in.dims_size(); ++d) {
    padded.push_back(in.dims(d) + int64_t{2} * layer.padding());
  }
  for (int64_t size : padded) {
    if (size < layer.kernel()) {
      problems->Add(
          i, layer.type(),
          absl::StrCat("kernel ", layer.kernel(), " larger than padded input ",
                       absl::StrJoin(padded, "x")));
      return std::nullopt;
    }
    out.add_dims((size - layer.kernel()) / layer.stride() + 1);
  }
  return out;
}

std::optional<v1::TensorShape> WindowLayerShape(int i, const v1::Layer& raw,
                                                const v1::Layer& layer,
                                                const v1::TensorShape& in,
                                                Problems* problems) {
  const bool two_d = Is2dLayer(layer.type());
  const int rank = two_d ? 3 : 2;
  if (in.dims_size() != rank) {
    problems->Add(
        i, layer.type(),
        absl::StrCat("needs a ", rank, "-D input ", two_d ? "{C,H,W}" : "{C,L}",
                     ", got ", ShapeToString(in)));
    return std::nullopt;
  }
  int64_t channels = in.dims(0);
  if (HasOutField(layer.type())) channels = layer.out();
  const bool depthwise = layer.type() == v1::DEPTHWISE_CONV2D ||
                         layer.type() == v1::DEPTHWISE_CONV1D;
  if (depthwise && raw.out() != 0 && raw.out() != in.dims(0)) {
    problems->Add(
        i, layer.type(),
        absl::StrCat("out ", raw.out(), " must equal the input channels ",
                     in.dims(0), " (or be unset)"));
    return std::nullopt;
  }
  return SlidingWindowShape(i, layer, in, channels, problems);
}

// Output shape of layer i, or nullopt (with a problem) when it cannot be
// computed.
std::optional<v1::TensorShape> OutputShape(int i, const v1::Layer& raw,
                                           const v1::Layer& layer,
                                           const v1::TensorShape& in,
                                           Problems* problems) {
  const LayerType type = layer.type();
  if (IsConvLayer(type) || IsPoolingLayer(type)) {
    return WindowLayerShape(i, raw, layer, in, problems);
  }
  switch (type) {
    case v1::GLOBAL_AVGPOOL:
      if (in.dims_size() != 2 && in.dims_size() != 3) {
        problems->Add(i, type,
                      absl::StrCat("needs a {C,H,W} or {C,L} input, got ",
                                   ShapeToString(in)));
        return std::nullopt;
      }
      return MakeShape({in.dims(0)});
    case v1::FLATTEN:
      return MakeShape({NumElements(in)});
    case v1::LINEAR:
      return MakeShape({layer.out()});
    default:  // BATCHNORM, activations, DROPOUT, SOFTMAX keep the shape.
      return in;
  }
}

void CheckInput(const v1::TensorShape& input, Problems* problems) {
  bool ok = input.dims_size() >= 1 && input.dims_size() <= 3;
  for (int64_t d : input.dims()) ok = ok && d > 0 && d <= kMaxInputDim;
  if (!ok) {
    problems->AddGlobal(absl::StrCat(
        "input shape ", ShapeToString(input),
        " must be {C,H,W}, {C,L} or {N} with every size in 1..", kMaxInputDim));
  }
}

// The network must end with LINEAR(num_classes) [SOFTMAX]; SOFTMAX only last.
void CheckClassifier(const v1::Architecture& arch, int num_classes,
                     Problems* problems) {
  const int n = arch.layers_size();
  for (int i = 0; i + 1 < n; ++i) {
    if (arch.layers(i).type() == v1::SOFTMAX) {
      problems->Add(i, v1::SOFTMAX,
                    "only allowed as the last layer, after the classifier");
    }
  }
  int classifier = n - 1;
  if (n > 0 && arch.layers(n - 1).type() == v1::SOFTMAX) --classifier;
  if (classifier < 0 || arch.layers(classifier).type() != v1::LINEAR) {
    const std::string last =
        classifier < 0 ? "nothing"
                       : LayerTypeName(arch.layers(classifier).type());
    problems->AddGlobal(absl::StrCat(
        "the network must end with the classifier LINEAR(", num_classes,
        "), optionally followed by SOFTMAX; it ends with ", last));
    return;
  }
  if (arch.layers(classifier).out() != num_classes) {
    problems->Add(classifier, v1::LINEAR,
                  absl::StrCat("the classifier must have out = ", num_classes,
                               " (the data set's classes), got ",
                               arch.layers(classifier).out()));
  }
}

}  // namespace

namespace internal {

absl::StatusOr<std::vector<LayerShape>> InferShapesImpl(
    const v1::Architecture& arch, const v1::TensorShape& input, int num_classes,
    bool check_classifier) {
  Problems problems;
  CheckInput(input, &problems);
  if (check_classifier && num_classes < 2) {
    problems.AddGlobal(
        absl::StrCat("num_classes ", num_classes, " must be at least 2"));
  }
  if (arch.layers_size() == 0)
    problems.AddGlobal("the architecture has no layers");
  if (arch.layers_size() > kMaxLayers) {
    problems.AddGlobal(absl::StrCat("the architecture has ", arch.layers_size(),
                                    " layers; at most ", kMaxLayers));
  }
  const v1::Architecture canonical = CanonicalArchitecture(arch);
  std::vector<LayerShape> shapes;
  std::optional<v1::TensorShape> current;
  if (problems.empty()) current = input;
  for (int i = 0; i < canonical.layers_size(); ++i) {
    const v1::Layer& layer = canonical.layers(i);
    CheckValues(i, arch.layers(i), layer, &problems);
    if (!current.has_value()) continue;
    if (!ValuesOk(layer)) {
      current.reset();
      continue;
    }
    std::optional<v1::TensorShape> out =
        OutputShape(i, arch.layers(i), layer, *current, &problems);
    if (out.has_value()) shapes.push_back({layer, *current, *out});
    current = out;
  }
  if (check_classifier && arch.layers_size() > 0)
    CheckClassifier(canonical, num_classes, &problems);
  if (!problems.empty()) return absl::InvalidArgumentError(problems.Joined());
  return shapes;
}

}  // namespace internal

absl::StatusOr<std::vector<LayerShape>> InferShapes(
    const v1::Architecture& arch, const v1::TensorShape& input,
    int num_classes) {
  return internal::InferShapesImpl(arch, input, num_classes,
                                   /*check_classifier=*/true);
}

}  // namespace nas
