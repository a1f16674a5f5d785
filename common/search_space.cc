#include "common/search_space.h"

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/architecture.h"

namespace nas {
namespace {

using v1::LayerType;

bool IsFeatureLayer(LayerType type) {
  return IsConvLayer(type) || IsPoolingLayer(type) ||
         type == v1::GLOBAL_AVGPOOL;
}

bool RankMatches(LayerType type, int rank) {
  if (type == v1::GLOBAL_AVGPOOL) return rank == 2 || rank == 3;
  return (Is2dLayer(type) && rank == 3) || (Is1dLayer(type) && rank == 2);
}

// Conv/activation/dense layers one feature layer can expand to (conv +
// BATCHNORM + activation) and the layers after the feature part.
int WorstCaseLayers(const v1::SearchSpace& space) {
  const int per_feature = 2 + (space.batch_norm() ? 1 : 0);
  const int dropout = space.dropout_rates_size() > 0 ? 1 : 0;
  return space.max_layers() * per_feature + 2 * space.max_dense_layers() +
         dropout + 1;
}

void CheckLayerTypes(const v1::SearchSpace& space, const v1::TensorShape& input,
                     std::vector<std::string>* problems) {
  const int rank = input.dims_size();
  if (space.layer_types_size() == 0 && rank != 1) {
    problems->push_back(
        "space.layer_types: empty search space: no layer types");
  }
  bool has_conv = false;
  for (int i = 0; i < space.layer_types_size(); ++i) {
    const LayerType type = space.layer_types(i);
    const std::string path = absl::StrCat("space.layer_types[", i, "]: ");
    if (!IsFeatureLayer(type)) {
      problems->push_back(absl::StrCat(
          path, LayerTypeName(type),
          " is not a feature-extractor layer (convolution, pooling or "
          "GLOBAL_AVGPOOL); BATCHNORM, activations, dropout and dense layers "
          "come from batch_norm, activation, dropout_rates and dense_units"));
    } else if (rank > 0 && !RankMatches(type, rank)) {
      problems->push_back(absl::StrCat(
          path, LayerTypeName(type), " is a ", Is2dLayer(type) ? "2-D" : "1-D",
          " layer but the input ", ShapeToString(input), " is ",
          rank == 3   ? "2-D {C,H,W}"
          : rank == 2 ? "1-D {C,L}"
                      : "flat"));
    }
    has_conv = has_conv || IsConvLayer(type);
  }
  if (space.layer_types_size() > 0 && !has_conv) {
    problems->push_back(
        "space.layer_types: needs at least one convolution (pooling cannot "
        "come first)");
  }
}

bool NeedsChannels(const v1::SearchSpace& space) {
  return std::any_of(
      space.layer_types().begin(), space.layer_types().end(),
      [](int t) { return HasOutField(static_cast<LayerType>(t)); });
}

bool NeedsKernels(const v1::SearchSpace& space) {
  return std::any_of(space.layer_types().begin(), space.layer_types().end(),
                     [](int t) {
                       auto type = static_cast<LayerType>(t);
                       return IsConvLayer(type) && type != v1::POINTWISE_CONV2D;
                     });
}

// Reports every value of `values` (the list at `path`) outside [lo, hi].
void CheckRange(const std::string& path,
                const google::protobuf::RepeatedField<int32_t>& values,
                int64_t lo, int64_t hi, std::vector<std::string>* problems) {
  for (int i = 0; i < values.size(); ++i) {
    if (values[i] < lo || values[i] > hi) {
      problems->push_back(
          absl::StrCat(path, "[", i, "]: ", values[i],
                       hi == std::numeric_limits<int32_t>::max()
                           ? absl::StrCat(" must be >= ", lo)
                           : absl::StrCat(" must be in ", lo, "..", hi)));
    }
  }
}

void CheckKernels(const v1::SearchSpace& space, const v1::TensorShape& input,
                  std::vector<std::string>* problems) {
  if (NeedsKernels(space) && space.kernels_size() == 0) {
    problems->push_back("space.kernels: empty search space: no kernel choices");
  }
  CheckRange("space.kernels", space.kernels(), 1,
             std::numeric_limits<int32_t>::max(), problems);
  const int64_t spatial = MinSpatialSize(input);
  for (int i = 0; i < space.kernels_size(); ++i) {
    const int k = space.kernels(i);
    if (k >= 1 && input.dims_size() > 1 && k > spatial) {
      problems->push_back(absl::StrCat("space.kernels[", i, "]: kernel ", k,
                                       " larger than the input ",
                                       ShapeToString(input)));
    }
  }
}

void CheckChoices(const v1::SearchSpace& space, const v1::TensorShape& input,
                  std::vector<std::string>* problems) {
  if (NeedsChannels(space) && space.channels_size() == 0) {
    problems->push_back(
        "space.channels: empty search space: no channel choices");
  }
  CheckRange("space.channels", space.channels(), 1, kMaxChannels, problems);
  CheckKernels(space, input, problems);
  CheckRange("space.strides", space.strides(), 1,
             std::numeric_limits<int32_t>::max(), problems);
  CheckRange("space.dense_units", space.dense_units(), 1, kMaxFeatures,
             problems);
  for (int i = 0; i < space.dropout_rates_size(); ++i) {
    const float rate = space.dropout_rates(i);
    if (!(rate >= 0 && rate < 1)) {
      problems->push_back(absl::StrCat("space.dropout_rates[", i, "]: ", rate,
                                       " must be in [0, 1)"));
    }
  }
}

void CheckDepth(const v1::SearchSpace& space,
                std::vector<std::string>* problems) {
  if (space.min_layers() < 0)
    problems->push_back("space.min_layers: must be >= 0");
  if (space.max_layers() < space.min_layers()) {
    problems->push_back(absl::StrCat("space.max_layers: ", space.max_layers(),
                                     " is smaller than min_layers ",
                                     space.min_layers()));
  }
  if (space.max_dense_layers() < 0) {
    problems->push_back("space.max_dense_layers: must be >= 0");
  }
  if (space.max_dense_layers() > 0 && space.dense_units_size() == 0) {
    problems->push_back(
        absl::StrCat("space.dense_units: empty but max_dense_layers is ",
                     space.max_dense_layers()));
  }
  if (WorstCaseLayers(space) > kMaxLayers) {
    problems->push_back(absl::StrCat(
        "space.max_layers: ", space.max_layers(), " feature layers (each with ",
        space.batch_norm() ? "BATCHNORM and " : "", "an activation) and ",
        space.max_dense_layers(), " dense layers can exceed ", kMaxLayers,
        " layers"));
  }
  if (space.max_consecutive_pooling() < 0) {
    problems->push_back("space.max_consecutive_pooling: must be >= 0");
  }
}

void CheckKnobs(const v1::SearchSpace& space,
                std::vector<std::string>* problems) {
  if (space.activation() != v1::RELU && space.activation() != v1::RELU6) {
    problems->push_back(
        absl::StrCat("space.activation: must be RELU or RELU6, got ",
                     LayerTypeName(space.activation())));
  }
  if (space.padding() != "same" && space.padding() != "valid") {
    problems->push_back(absl::StrCat(
        "space.padding: must be same or valid, got '", space.padding(), "'"));
  }
}

}  // namespace

double UniformUnit(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

uint64_t UniformIndex(std::mt19937_64& rng, uint64_t n) {
  // Rejection sampling keeps the draw unbiased and platform-independent.
  const uint64_t limit = std::numeric_limits<uint64_t>::max() -
                         std::numeric_limits<uint64_t>::max() % n;
  uint64_t value = rng();
  while (value >= limit) value = rng();
  return value % n;
}

absl::Status ValidateSearchSpace(const v1::SearchSpace& space,
                                 const v1::TensorShape& input,
                                 int num_classes) {
  std::vector<std::string> problems;
  if (num_classes < 2) {
    problems.push_back(
        absl::StrCat("num_classes ", num_classes, " must be at least 2"));
  }
  CheckLayerTypes(space, input, &problems);
  CheckChoices(space, input, &problems);
  CheckDepth(space, &problems);
  CheckKnobs(space, &problems);
  if (problems.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrJoin(problems, "\n"));
}

}  // namespace nas
