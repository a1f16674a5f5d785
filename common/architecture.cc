#include "common/architecture.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "common/hashing.h"

namespace nas {
namespace {

using v1::LayerType;

struct TypeName {
  LayerType type;
  const char* name;
};

constexpr TypeName kTypeNames[] = {
    {v1::CONV2D, "CONV2D"},
    {v1::LINEAR, "LINEAR"},
    {v1::MAXPOOL2D, "MAXPOOL2D"},
    {v1::BATCHNORM, "BATCHNORM"},
    {v1::SOFTMAX, "SOFTMAX"},
    {v1::DEPTHWISE_CONV2D, "DEPTHWISE_CONV2D"},
    {v1::POINTWISE_CONV2D, "POINTWISE_CONV2D"},
    {v1::CONV1D, "CONV1D"},
    {v1::MAXPOOL1D, "MAXPOOL1D"},
    {v1::AVGPOOL2D, "AVGPOOL2D"},
    {v1::AVGPOOL1D, "AVGPOOL1D"},
    {v1::GLOBAL_AVGPOOL, "GLOBAL_AVGPOOL"},
    {v1::RELU, "RELU"},
    {v1::RELU6, "RELU6"},
    {v1::DROPOUT, "DROPOUT"},
    {v1::FLATTEN, "FLATTEN"},
    {v1::DEPTHWISE_CONV1D, "DEPTHWISE_CONV1D"},
};

// Other spellings users reach for.
constexpr TypeName kTypeAliases[] = {
    {v1::BATCHNORM, "BN"},
    {v1::LINEAR, "DENSE"},
    {v1::BATCHNORM, "BATCHNORM2D"},
    {v1::BATCHNORM, "BATCHNORM1D"},
    {v1::DEPTHWISE_CONV2D, "DWCONV2D"},
    {v1::POINTWISE_CONV2D, "PWCONV2D"},
    {v1::GLOBAL_AVGPOOL, "GAP"},
};

v1::Layer CanonicalLayer(const v1::Layer& in) {
  v1::Layer out;
  const LayerType type = in.type();
  out.set_type(type);
  if (HasOutField(type)) out.set_out(in.out());
  if (IsConvLayer(type) || IsPoolingLayer(type)) {
    out.set_kernel(in.kernel());
    out.set_padding(in.padding());
    int32_t stride = in.stride();
    if (stride == 0) stride = IsPoolingLayer(type) ? in.kernel() : 1;
    out.set_stride(stride);
  }
  if (type == v1::POINTWISE_CONV2D) out.set_kernel(1);
  if (type == v1::DROPOUT) out.set_dropout_rate(in.dropout_rate());
  return out;
}

std::string ConvArgs(const v1::Layer& layer) {
  std::string args = HasOutField(layer.type()) ? absl::StrCat(layer.out(), ",")
                                               : std::string();
  return absl::StrCat(args, "k", layer.kernel(), ",s", layer.stride(), ",p",
                      layer.padding());
}

std::string LayerToString(const v1::Layer& layer) {
  const std::string name = LayerTypeName(layer.type());
  if (IsConvLayer(layer.type())) {
    return absl::StrCat(name, "(", ConvArgs(layer), ")");
  }
  if (IsPoolingLayer(layer.type())) {
    std::string padding =
        layer.padding() != 0 ? absl::StrCat(",p", layer.padding()) : "";
    return absl::StrCat(name, "(k", layer.kernel(), ",s", layer.stride(),
                        padding, ")");
  }
  if (layer.type() == v1::LINEAR)
    return absl::StrCat(name, "(", layer.out(), ")");
  if (layer.type() == v1::DROPOUT) {
    return absl::StrCat(name, "(", layer.dropout_rate(), ")");
  }
  return name;
}

}  // namespace

std::string LayerTypeName(LayerType type) {
  for (const TypeName& entry : kTypeNames) {
    if (entry.type == type) return entry.name;
  }
  return absl::StrCat("TYPE_", static_cast<int>(type));
}

absl::StatusOr<LayerType> ParseLayerType(absl::string_view name) {
  std::string upper = absl::AsciiStrToUpper(absl::StripAsciiWhitespace(name));
  absl::StrReplaceAll({{"-", "_"}}, &upper);
  int code = 0;
  if (absl::SimpleAtoi(upper, &code)) {
    if (v1::LayerType_IsValid(code) && code != v1::LAYER_TYPE_UNSPECIFIED) {
      return static_cast<LayerType>(code);
    }
  }
  for (const TypeName& entry : kTypeNames) {
    if (upper == entry.name) return entry.type;
  }
  for (const TypeName& entry : kTypeAliases) {
    if (upper == entry.name) return entry.type;
  }
  std::vector<std::string> known;
  for (const TypeName& entry : kTypeNames) known.push_back(entry.name);
  return absl::InvalidArgumentError(
      absl::StrCat("unknown layer type '", name,
                   "' (known: ", absl::StrJoin(known, ", "), ")"));
}

bool IsConvLayer(LayerType type) {
  return type == v1::CONV2D || type == v1::DEPTHWISE_CONV2D ||
         type == v1::POINTWISE_CONV2D || type == v1::CONV1D ||
         type == v1::DEPTHWISE_CONV1D;
}

bool IsPoolingLayer(LayerType type) {
  return type == v1::MAXPOOL2D || type == v1::AVGPOOL2D ||
         type == v1::MAXPOOL1D || type == v1::AVGPOOL1D;
}

bool Is2dLayer(LayerType type) {
  return type == v1::CONV2D || type == v1::DEPTHWISE_CONV2D ||
         type == v1::POINTWISE_CONV2D || type == v1::MAXPOOL2D ||
         type == v1::AVGPOOL2D;
}

bool Is1dLayer(LayerType type) {
  return type == v1::CONV1D || type == v1::DEPTHWISE_CONV1D ||
         type == v1::MAXPOOL1D || type == v1::AVGPOOL1D;
}

bool IsInPlaceLayer(LayerType type) {
  return type == v1::BATCHNORM || type == v1::RELU || type == v1::RELU6 ||
         type == v1::DROPOUT || type == v1::FLATTEN;
}

bool HasOutField(LayerType type) {
  return type == v1::CONV2D || type == v1::POINTWISE_CONV2D ||
         type == v1::CONV1D || type == v1::LINEAR;
}

v1::Architecture CanonicalArchitecture(const v1::Architecture& arch) {
  v1::Architecture canonical;
  for (const v1::Layer& layer : arch.layers()) {
    *canonical.add_layers() = CanonicalLayer(layer);
  }
  return canonical;
}

std::string CanonicalSerialization(const v1::Architecture& arch) {
  std::string out = "tinynas-arch-v1";
  const v1::Architecture canonical = CanonicalArchitecture(arch);
  for (const v1::Layer& layer : canonical.layers()) {
    absl::StrAppend(
        &out, ";", static_cast<int>(layer.type()), ",", layer.out(), ",",
        layer.kernel(), ",", layer.stride(), ",", layer.padding(), ",",
        std::llround(static_cast<double>(layer.dropout_rate()) * 1e6));
  }
  return out;
}

std::string ArchitectureHash(const v1::Architecture& arch) {
  return Sha256Hex(CanonicalSerialization(arch));
}

std::string ArchitectureToString(const v1::Architecture& arch) {
  std::vector<std::string> tokens;
  const v1::Architecture canonical = CanonicalArchitecture(arch);
  for (const v1::Layer& layer : canonical.layers()) {
    tokens.push_back(LayerToString(layer));
  }
  return absl::StrJoin(tokens, " ");
}

std::string ShapeToString(const v1::TensorShape& shape) {
  if (shape.dims_size() == 0) return "?";
  return absl::StrJoin(shape.dims(), "x");
}

v1::TensorShape MakeShape(std::initializer_list<int64_t> dims) {
  v1::TensorShape shape;
  for (int64_t d : dims) shape.add_dims(d);
  return shape;
}

int64_t NumElements(const v1::TensorShape& shape) {
  if (shape.dims_size() == 0) return 0;
  int64_t n = 1;
  for (int64_t d : shape.dims()) n *= d;
  return n;
}

int64_t MinSpatialSize(const v1::TensorShape& shape) {
  if (shape.dims_size() < 2) return 0;
  int64_t size = shape.dims(1);
  for (int d = 2; d < shape.dims_size(); ++d) {
    size = std::min(size, shape.dims(d));
  }
  return size;
}

}  // namespace nas
