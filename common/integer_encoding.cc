// The reference tutorial's integer encoding (EncodeIntegers/DecodeIntegers).

#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/architecture.h"
#include "common/architecture_internal.h"
#include "common/status_macros.h"

namespace nas {
namespace {

constexpr int kCodesPerLayer = 6;

// Channels of a rank>1 tensor, features of a flat one.
int64_t Width(const v1::TensorShape& shape) {
  return shape.dims_size() == 0 ? 0 : shape.dims(0);
}

// True for layers whose output is a flat vector.
bool FlattensOutput(v1::LayerType type) {
  return type == v1::LINEAR || type == v1::FLATTEN ||
         type == v1::GLOBAL_AVGPOOL;
}

v1::Layer DecodeLayer(const int32_t* c) {
  v1::Layer layer;
  const auto type = static_cast<v1::LayerType>(c[0]);
  layer.set_type(type);
  if (HasOutField(type)) layer.set_out(c[2]);
  if (type == v1::DROPOUT) {
    layer.set_dropout_rate(static_cast<float>(c[3] / 1000.0));
  } else {
    layer.set_kernel(c[3]);
    layer.set_stride(c[4]);
    layer.set_padding(c[5]);
  }
  return layer;
}

// Problems of one 6-tuple given the previous layer's encoded `out` (-1 for the
// first layer) and whether the previous output is flat.
void CheckTuple(int i, const int32_t* c, int64_t previous_out,
                bool previous_flat, std::vector<std::string>* problems) {
  const std::string where = absl::StrCat("layer ", i);
  if (!v1::LayerType_IsValid(c[0]) || c[0] == v1::LAYER_TYPE_UNSPECIFIED) {
    problems->push_back(absl::StrCat(where, ": unknown type code ", c[0]));
    return;
  }
  const auto type = static_cast<v1::LayerType>(c[0]);
  const std::string prefix =
      absl::StrCat(where, " (", LayerTypeName(type), "): ");
  for (int k = 1; k < kCodesPerLayer; ++k) {
    if (c[k] < 0) {
      problems->push_back(absl::StrCat(prefix, "negative value ", c[k]));
      return;
    }
  }
  const bool in_checkable = !(type == v1::LINEAR && !previous_flat);
  if (previous_out >= 0 && in_checkable && c[1] != previous_out) {
    problems->push_back(absl::StrCat(prefix, "input ", c[1],
                                     " does not match the previous layer's "
                                     "output ",
                                     previous_out));
  }
  if (!HasOutField(type) && type != v1::FLATTEN && c[2] != c[1]) {
    problems->push_back(
        absl::StrCat(prefix, "output ", c[2], " must equal its input ", c[1]));
  }
}

}  // namespace

absl::StatusOr<std::vector<int32_t>> EncodeIntegers(
    const v1::Architecture& arch, const v1::TensorShape& input) {
  NAS_ASSIGN_OR_RETURN(
      std::vector<LayerShape> shapes,
      internal::InferShapesImpl(arch, input, 0, /*check_classifier=*/false));
  std::vector<int32_t> codes;
  for (const LayerShape& s : shapes) {
    const v1::Layer& layer = s.layer;
    const int64_t in =
        layer.type() == v1::LINEAR ? NumElements(s.input) : Width(s.input);
    const int64_t out = Width(s.output);
    const int32_t kernel =
        layer.type() == v1::DROPOUT
            ? static_cast<int32_t>(std::llround(layer.dropout_rate() * 1000.0))
            : layer.kernel();
    for (int64_t v :
         {static_cast<int64_t>(layer.type()), in, out,
          static_cast<int64_t>(kernel), static_cast<int64_t>(layer.stride()),
          static_cast<int64_t>(layer.padding())}) {
      if (v > INT32_MAX) {
        return absl::InvalidArgumentError(
            absl::StrCat("layer ", codes.size() / kCodesPerLayer, " (",
                         LayerTypeName(layer.type()), "): value ", v,
                         " does not fit the integer encoding"));
      }
      codes.push_back(static_cast<int32_t>(v));
    }
  }
  return codes;
}

absl::StatusOr<v1::Architecture> DecodeIntegers(
    const std::vector<int32_t>& codes) {
  if (codes.empty() || codes.size() % kCodesPerLayer != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("integer encoding has ", codes.size(),
                     " values; expected a non-empty multiple of 6 "
                     "([type, in, out, kernel, stride, padding] per layer)"));
  }
  std::vector<std::string> problems;
  v1::Architecture arch;
  int64_t previous_out = -1;
  bool previous_flat = false;
  for (size_t i = 0; i < codes.size() / kCodesPerLayer; ++i) {
    const int32_t* c = &codes[i * kCodesPerLayer];
    CheckTuple(static_cast<int>(i), c, previous_out, previous_flat, &problems);
    *arch.add_layers() = DecodeLayer(c);
    previous_out = c[2];
    const auto type = static_cast<v1::LayerType>(c[0]);
    if (FlattensOutput(type)) previous_flat = true;
    if (IsConvLayer(type) || IsPoolingLayer(type)) previous_flat = false;
  }
  if (!problems.empty()) {
    return absl::InvalidArgumentError(absl::StrJoin(problems, "\n"));
  }
  return CanonicalArchitecture(arch);
}

}  // namespace nas
