// SampleArchitecture: the reference tutorial's Algorithm 1 (naive NAS).

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/architecture.h"
#include "common/architecture_internal.h"
#include "common/search_space.h"
#include "common/status_macros.h"

namespace nas {
namespace {

using v1::LayerType;

constexpr int kPoolSize = 2;

// Where the sampler stands in the feature part.
struct SamplerState {
  v1::TensorShape shape;
  int feature_layers = 0;
  int pools_in_row = 0;
};

template <typename T, typename Container>
T Pick(const Container& items, std::mt19937_64& rng) {
  return items[static_cast<int>(UniformIndex(rng, items.size()))];
}

std::vector<int32_t> FittingKernels(const v1::SearchSpace& space,
                                    const SamplerState& state) {
  std::vector<int32_t> kernels;
  for (int32_t k : space.kernels()) {
    if (k <= MinSpatialSize(state.shape)) kernels.push_back(k);
  }
  return kernels;
}

bool Fits(LayerType type, const v1::SearchSpace& space,
          const SamplerState& state, bool last) {
  const int rank = state.shape.dims_size();
  const bool rank_ok = type == v1::GLOBAL_AVGPOOL
                           ? rank == 2 || rank == 3
                           : (Is2dLayer(type) ? rank == 3 : rank == 2);
  if (!rank_ok) return false;
  const bool pool_ok = state.feature_layers > 0 &&
                       state.pools_in_row < space.max_consecutive_pooling();
  if (type == v1::GLOBAL_AVGPOOL) return pool_ok && last;
  if (IsPoolingLayer(type))
    return pool_ok && MinSpatialSize(state.shape) >= kPoolSize;
  if (type == v1::POINTWISE_CONV2D) return true;
  return !FittingKernels(space, state).empty();
}

void AppendConv(LayerType type, const v1::SearchSpace& space,
                const SamplerState& state, std::mt19937_64& rng,
                v1::Architecture* arch) {
  v1::Layer* layer = arch->add_layers();
  layer->set_type(type);
  if (HasOutField(type)) layer->set_out(Pick<int32_t>(space.channels(), rng));
  const int32_t kernel = type == v1::POINTWISE_CONV2D
                             ? 1
                             : Pick<int32_t>(FittingKernels(space, state), rng);
  layer->set_kernel(kernel);
  // No downsampling once the spatial size is 1.
  const bool can_stride =
      MinSpatialSize(state.shape) > 1 && space.strides_size() > 0;
  layer->set_stride(can_stride ? Pick<int32_t>(space.strides(), rng) : 1);
  layer->set_padding(space.padding() == "same" ? kernel / 2 : 0);
  if (space.batch_norm()) arch->add_layers()->set_type(v1::BATCHNORM);
  arch->add_layers()->set_type(space.activation());
}

void AppendFeatureLayer(LayerType type, const v1::SearchSpace& space,
                        SamplerState* state, std::mt19937_64& rng,
                        v1::Architecture* arch) {
  if (IsConvLayer(type)) {
    AppendConv(type, space, *state, rng, arch);
    state->pools_in_row = 0;
  } else {
    v1::Layer* layer = arch->add_layers();
    layer->set_type(type);
    if (type != v1::GLOBAL_AVGPOOL) {
      layer->set_kernel(kPoolSize);
      layer->set_stride(kPoolSize);
    }
    ++state->pools_in_row;
  }
  ++state->feature_layers;
}

// Shape after the layers sampled so far.
absl::StatusOr<v1::TensorShape> CurrentShape(const v1::Architecture& arch,
                                             const v1::TensorShape& input) {
  NAS_ASSIGN_OR_RETURN(
      std::vector<LayerShape> shapes,
      internal::InferShapesImpl(arch, input, 0, /*check_classifier=*/false));
  return shapes.back().output;
}

void AppendHead(const v1::SearchSpace& space, int num_classes,
                std::mt19937_64& rng, v1::Architecture* arch) {
  const int dense =
      static_cast<int>(UniformIndex(rng, space.max_dense_layers() + 1));
  for (int i = 0; i < dense; ++i) {
    v1::Layer* layer = arch->add_layers();
    layer->set_type(v1::LINEAR);
    layer->set_out(Pick<int32_t>(space.dense_units(), rng));
    arch->add_layers()->set_type(space.activation());
  }
  if (space.dropout_rates_size() > 0) {
    const float rate = Pick<float>(space.dropout_rates(), rng);
    if (rate > 0) {
      v1::Layer* layer = arch->add_layers();
      layer->set_type(v1::DROPOUT);
      layer->set_dropout_rate(rate);
    }
  }
  v1::Layer* classifier = arch->add_layers();
  classifier->set_type(v1::LINEAR);
  classifier->set_out(num_classes);
}

}  // namespace

absl::StatusOr<v1::Architecture> SampleArchitecture(
    const v1::SearchSpace& space, const v1::TensorShape& input, int num_classes,
    std::mt19937_64& rng) {
  NAS_RETURN_IF_ERROR(ValidateSearchSpace(space, input, num_classes));
  const int depth = space.min_layers() +
                    static_cast<int>(UniformIndex(
                        rng, space.max_layers() - space.min_layers() + 1));
  v1::Architecture arch;
  SamplerState state{input};
  for (int i = 0; i < depth; ++i) {
    std::vector<LayerType> candidates;
    for (int t : space.layer_types()) {
      const auto type = static_cast<LayerType>(t);
      if (Fits(type, space, state, i == depth - 1)) candidates.push_back(type);
    }
    if (candidates.empty()) break;
    AppendFeatureLayer(Pick<LayerType>(candidates, rng), space, &state, rng,
                       &arch);
    NAS_ASSIGN_OR_RETURN(state.shape, CurrentShape(arch, input));
  }
  AppendHead(space, num_classes, rng, &arch);
  arch = CanonicalArchitecture(arch);
  absl::Status valid = InferShapes(arch, input, num_classes).status();
  if (!valid.ok()) {  // A sampler bug, not a user error.
    return absl::InternalError(absl::StrCat("sampled an invalid architecture ",
                                            ArchitectureToString(arch), ": ",
                                            valid.message()));
  }
  return arch;
}

}  // namespace nas
