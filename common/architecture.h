#ifndef NAS_COMMON_ARCHITECTURE_H_
#define NAS_COMMON_ARCHITECTURE_H_

// Architectures: canonical form, shape inference and validation, stable hash,
// text forms and the reference tutorial's integer encoding.
//
// All functions are pure and thread-safe. Layers are numbered from 0 in every
// message ("layer 3 (CONV2D): ...").

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/nas.pb.h"

namespace nas {

// Limits beyond which a value is rejected as absurd.
inline constexpr int kMaxLayers = 64;
inline constexpr int kMaxChannels = 4096;   // conv `out`
inline constexpr int kMaxFeatures = 65536;  // LINEAR `out`
inline constexpr int kMaxWindow = 1024;     // kernel and stride

// One layer with the shapes around it (no batch dimension). `layer` is in
// canonical form.
struct LayerShape {
  v1::Layer layer;
  v1::TensorShape input;
  v1::TensorShape output;
};

// Fills defaults (stride 0 -> 1 for conv, -> kernel for pooling; kernel of
// POINTWISE_CONV2D -> 1), zeroes fields a type ignores (e.g. `out` of
// RELU/BN/pooling/DEPTHWISE_*, kernel of LINEAR, dropout_rate of everything
// but DROPOUT), so equal networks compare equal.
v1::Architecture CanonicalArchitecture(const v1::Architecture& arch);

// Shape inference + validation against the data set's input shape ({C,H,W}
// or {C,L}; {N} is accepted for dense-only networks) and class count.
// InvalidArgument listing EVERY problem, one per line, each naming the layer,
// e.g. "layer 3 (CONV2D): kernel 7 larger than padded input 5x5". Rules:
// 2-D layers need rank-3 input, 1-D layers rank-2; LINEAR implicitly flattens
// a rank>1 input; output size is floor((in + 2p - k) / s) + 1; the network
// must end with LINEAR(out=num_classes) optionally followed by SOFTMAX;
// SOFTMAX only last; at most kMaxLayers layers; 0 < out <= kMaxChannels
// (conv) / kMaxFeatures (LINEAR); 0 < kernel <= kMaxWindow; 0 <= stride <=
// kMaxWindow; 0 <= padding <
// kernel (pooling: padding <= kernel / 2, as LibTorch requires);
// dropout_rate in [0, 1); DEPTHWISE_* `out` must be 0 or the input channels.
// After a layer whose output shape cannot be computed, later layers are still
// checked for value errors but not for shape errors.
absl::StatusOr<std::vector<LayerShape>> InferShapes(
    const v1::Architecture& arch, const v1::TensorShape& input,
    int num_classes);

// The exact bytes ArchitectureHash digests: "tinynas-arch-v1" followed by one
// ";T,O,K,S,P,D" group per layer of the canonical form, where T is the
// LayerType number, O/K/S/P are out/kernel/stride/padding and D is
// llround(dropout_rate * 1e6). E.g. "tinynas-arch-v1;13,0,0,0,0,0;2,10,0,0,0,0"
// for RELU LINEAR(10).
std::string CanonicalSerialization(const v1::Architecture& arch);

// Lowercase sha256 hex (64 chars) of CanonicalSerialization(arch): stable
// across runs, machines and versions of this code.
std::string ArchitectureHash(const v1::Architecture& arch);

// Human form of the canonical architecture, one token per layer:
// "CONV2D(8,k3,s1,p1) RELU MAXPOOL2D(k2,s2) DROPOUT(0.2) LINEAR(10)".
// Convolutions print (out,kK,sS,pP) (depthwise without out); pooling
// (kK,sS) plus ",pP" when P > 0. ParseArchitecture reads it back.
std::string ArchitectureToString(const v1::Architecture& arch);

// "1x28x28" ("?" for an empty shape).
std::string ShapeToString(const v1::TensorShape& shape);
v1::TensorShape MakeShape(std::initializer_list<int64_t> dims);
int64_t NumElements(const v1::TensorShape& shape);  // 0 for an empty shape.
// Smallest spatial size (dims after the channel dim); 0 for a flat shape.
int64_t MinSpatialSize(const v1::TensorShape& shape);

// Tutorial integer encoding: 6 ints per layer [type, in, out, kernel, stride,
// padding] of the canonical form. `in`/`out` are channels for rank>1 tensors
// and features for flat ones (FLATTEN: in = channels, out = features; LINEAR
// after a spatial layer: in = flattened features). Layers that keep the width
// repeat it in `out`. DROPOUT carries llround(rate * 1000) in the kernel slot.
// InvalidArgument when the shapes cannot be inferred (see InferShapes; the
// classifier rules are not checked here).
absl::StatusOr<std::vector<int32_t>> EncodeIntegers(
    const v1::Architecture& arch, const v1::TensorShape& input);
// Inverse of EncodeIntegers (canonical form). InvalidArgument when the count
// is not a multiple of 6, a type code is unknown, a value is negative, or a
// layer's `in` does not match the previous layer's `out` (where it can be
// checked without the input shape); every problem listed.
absl::StatusOr<v1::Architecture> DecodeIntegers(
    const std::vector<int32_t>& codes);

// Parses an architecture given as text:
//  - integer encoding: "1,1,8,3,1,1, 3,8,8,2,2,0, ..." (commas/whitespace);
//  - the ArchitectureToString form: "CONV2D(8,k3,p1) RELU LINEAR(10)";
//  - YAML/JSON: a list (or a map with a `layers` list) whose entries are maps
//    {type, out, kernel, stride, padding, dropout_rate} or tokens of the
//    string form ("RELU", "CONV2D(8,k3)"), or a flat list of integers.
// Not validated against any input shape (use InferShapes). InvalidArgument
// naming the entry and the problem.
absl::StatusOr<v1::Architecture> ParseArchitecture(absl::string_view text);

// "conv2d", "CONV2D", "Conv2D", "1" -> CONV2D. InvalidArgument listing the
// known names otherwise.
absl::StatusOr<v1::LayerType> ParseLayerType(absl::string_view name);
std::string LayerTypeName(
    v1::LayerType type);  // "CONV2D"; "TYPE_42" if unknown.

// Layer families.
bool IsConvLayer(v1::LayerType type);  // CONV2D, DEPTHWISE_*, POINTWISE, CONV1D
bool IsPoolingLayer(v1::LayerType type);  // MAX/AVG POOL 1-D/2-D (not global)
bool Is2dLayer(v1::LayerType type);       // needs {C,H,W}
bool Is1dLayer(v1::LayerType type);       // needs {C,L}
bool IsInPlaceLayer(
    v1::LayerType type);               // BATCHNORM RELU RELU6 DROPOUT FLATTEN
bool HasOutField(v1::LayerType type);  // CONV2D POINTWISE CONV1D LINEAR

}  // namespace nas

#endif  // NAS_COMMON_ARCHITECTURE_H_
