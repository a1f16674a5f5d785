#ifndef NAS_COMMON_SEARCH_SPACE_H_
#define NAS_COMMON_SEARCH_SPACE_H_

// Search spaces: validation and the random sampler (tutorial Algorithm 1).
// Pure functions, thread-safe (the rng is the caller's).

#include <cstdint>
#include <random>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/nas.pb.h"

namespace nas {

// Checks a space whose defaults are filled (see CompleteSearchSpec): non-empty
// layer types that are feature-extractor layers (conv, pooling,
// GLOBAL_AVGPOOL) of the input's rank, at least one convolution, channels in
// 1..kMaxChannels, kernels > 0 and none larger than the input's spatial size,
// strides > 0, dense units in 1..kMaxFeatures, 0 <= min_layers <= max_layers,
// worst-case depth within kMaxLayers, activation RELU or RELU6, dropout rates
// in [0, 1), padding "same" or "valid". InvalidArgument naming each field
// ("space.kernels[1]: kernel 31 larger than the input 1x28x28"), one per
// line. An empty input shape (data set unknown) skips the checks that need it.
absl::Status ValidateSearchSpace(const v1::SearchSpace& space,
                                 const v1::TensorShape& input, int num_classes);

// Tutorial Algorithm 1: depth drawn in [min_layers, max_layers], then feature
// layers one by one from space.layer_types among those that fit the current
// shape (no pooling first, at most max_consecutive_pooling pools in a row,
// kernel <= current size, no stride/pooling once the spatial size is 1,
// GLOBAL_AVGPOOL only as the last feature layer); each conv is followed by
// BATCHNORM (if batch_norm) and the activation. Pooling is kernel 2, stride 2.
// Conv padding: "same" -> kernel / 2, "valid" -> 0. Then 0..max_dense_layers
// hidden LINEAR(dense_units) + activation, a DROPOUT drawn from dropout_rates
// (none when the rate is 0) and the classifier LINEAR(num_classes). When no
// layer type fits any more the feature part ends early.
// Always passes InferShapes (may still break device limits). Deterministic for
// a given rng state (does not use std distributions, whose output differs
// between standard libraries). InvalidArgument if ValidateSearchSpace fails.
absl::StatusOr<v1::Architecture> SampleArchitecture(
    const v1::SearchSpace& space, const v1::TensorShape& input, int num_classes,
    std::mt19937_64& rng);

// Uniform integer in [0, n) from rng, the same on every platform (n > 0).
uint64_t UniformIndex(std::mt19937_64& rng, uint64_t n);

// Uniform double in [0, 1) from the top 53 bits of one draw, the same on
// every platform.
double UniformUnit(std::mt19937_64& rng);

}  // namespace nas

#endif  // NAS_COMMON_SEARCH_SPACE_H_
