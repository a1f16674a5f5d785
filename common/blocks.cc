#include "common/blocks.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/architecture.h"
#include "common/architecture_internal.h"
#include "common/status_macros.h"

namespace nas {
namespace {

using v1::LayerType;

constexpr int kPoolSize = 2;

bool IsActivation(LayerType type) {
  return type == v1::RELU || type == v1::RELU6;
}

bool RankFits(LayerType type, int rank) {
  if (type == v1::GLOBAL_AVGPOOL) return rank == 2 || rank == 3;
  return Is2dLayer(type) ? rank == 3 : rank == 2;
}

absl::Status NotABlock(int index, const v1::Layer& layer,
                       absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("layer ", index, " (", LayerTypeName(layer.type()),
                   "): ", why));
}

// Skips layers of `arch` from *i on that satisfy `pred`, at most `max`.
template <typename Pred>
void SkipWhile(const v1::Architecture& arch, int* i, int max, Pred pred) {
  for (int n = 0; n < max && *i < arch.layers_size() &&
                  pred(arch.layers(*i).type());
       ++n) {
    ++*i;
  }
}

void AppendBlockLayers(const FeatureBlock& block, const v1::SearchSpace& space,
                       v1::Architecture* arch) {
  v1::Layer* layer = arch->add_layers();
  layer->set_type(block.type);
  if (!IsConvLayer(block.type)) {
    layer->set_kernel(block.kernel);
    layer->set_stride(block.stride);
    return;
  }
  if (HasOutField(block.type)) layer->set_out(block.out);
  layer->set_kernel(block.kernel);
  layer->set_stride(block.stride);
  layer->set_padding(space.padding() == "valid" ? 0 : block.kernel / 2);
  if (space.batch_norm()) arch->add_layers()->set_type(v1::BATCHNORM);
  arch->add_layers()->set_type(space.activation());
}

bool PoolAllowed(const v1::SearchSpace& space, const FeatureCursor& cursor) {
  return cursor.blocks > 0 &&
         cursor.pools_in_row < space.max_consecutive_pooling();
}

void AddConvBlocks(LayerType type, const v1::SearchSpace& space,
                   int64_t size, std::vector<FeatureBlock>* out) {
  std::vector<int32_t> kernels;
  if (type == v1::POINTWISE_CONV2D) {
    kernels = {1};
  } else {
    for (int32_t k : space.kernels()) {
      if (k <= size) kernels.push_back(k);
    }
  }
  std::vector<int32_t> strides = {1};
  if (size > 1 && space.strides_size() > 0) {
    strides.assign(space.strides().begin(), space.strides().end());
  }
  std::vector<int32_t> channels = {0};
  if (HasOutField(type)) {
    channels.assign(space.channels().begin(), space.channels().end());
  }
  for (int32_t c : channels) {
    for (int32_t k : kernels) {
      for (int32_t s : strides) out->push_back({type, c, k, s});
    }
  }
}

}  // namespace

absl::StatusOr<BlockNetwork> ToBlocks(const v1::Architecture& any) {
  const v1::Architecture arch = CanonicalArchitecture(any);
  BlockNetwork net;
  const int n = arch.layers_size();
  int last_linear = -1;  // The classifier.
  for (int j = n - 1; j >= 0; --j) {
    if (arch.layers(j).type() == v1::LINEAR) {
      last_linear = j;
      break;
    }
  }
  if (last_linear < 0) {
    return absl::InvalidArgumentError("no classifier LINEAR layer");
  }
  int i = 0;
  bool in_head = false;
  while (i < last_linear) {
    const v1::Layer& layer = arch.layers(i);
    const LayerType type = layer.type();
    if (!in_head && (IsConvLayer(type) || IsPoolingLayer(type) ||
                     type == v1::GLOBAL_AVGPOOL)) {
      const bool conv = IsConvLayer(type);
      net.features.push_back({type, HasOutField(type) ? layer.out() : 0,
                              type == v1::GLOBAL_AVGPOOL ? 0 : layer.kernel(),
                              type == v1::GLOBAL_AVGPOOL ? 0 : layer.stride()});
      ++i;
      if (conv) {
        SkipWhile(arch, &i, 1, [](LayerType t) { return t == v1::BATCHNORM; });
        SkipWhile(arch, &i, 1, IsActivation);
      }
    } else if (type == v1::LINEAR) {
      in_head = true;
      net.dense.push_back(layer.out());
      ++i;
      SkipWhile(arch, &i, 1, IsActivation);
    } else if (type == v1::DROPOUT && i + 1 == last_linear) {
      net.dropout = layer.dropout_rate();
      ++i;
    } else {
      return NotABlock(i, layer, "does not fit the block shape of a space");
    }
  }
  for (int j = last_linear + 1; j < n; ++j) {
    if (arch.layers(j).type() != v1::SOFTMAX) {
      return NotABlock(j, arch.layers(j), "follows the classifier");
    }
  }
  return net;
}

v1::Architecture FromBlocks(const BlockNetwork& net,
                            const v1::SearchSpace& space, int num_classes) {
  v1::Architecture arch;
  for (const FeatureBlock& block : net.features) {
    AppendBlockLayers(block, space, &arch);
  }
  for (int32_t width : net.dense) {
    v1::Layer* layer = arch.add_layers();
    layer->set_type(v1::LINEAR);
    layer->set_out(width);
    arch.add_layers()->set_type(space.activation());
  }
  if (net.dropout > 0) {
    v1::Layer* layer = arch.add_layers();
    layer->set_type(v1::DROPOUT);
    layer->set_dropout_rate(net.dropout);
  }
  v1::Layer* classifier = arch.add_layers();
  classifier->set_type(v1::LINEAR);
  classifier->set_out(num_classes);
  return CanonicalArchitecture(arch);
}

FeatureCursor StartCursor(const v1::TensorShape& input) {
  FeatureCursor cursor;
  cursor.shape = input;
  return cursor;
}

absl::StatusOr<FeatureCursor> Advance(const FeatureCursor& cursor,
                                      const FeatureBlock& block,
                                      const v1::SearchSpace& space) {
  v1::Architecture one;
  AppendBlockLayers(block, space, &one);
  NAS_ASSIGN_OR_RETURN(std::vector<LayerShape> shapes,
                       internal::InferShapesImpl(one, cursor.shape, 0,
                                                 /*check_classifier=*/false));
  FeatureCursor next = cursor;
  next.shape = shapes.back().output;
  ++next.blocks;
  const bool pool = IsPoolingLayer(block.type);
  next.pools_in_row = pool ? cursor.pools_in_row + 1 : 0;
  if (block.type == v1::GLOBAL_AVGPOOL) {
    next.pools_in_row = cursor.pools_in_row + 1;
    next.ended = true;
  }
  return next;
}

std::vector<FeatureBlock> LegalFeatureBlocks(const v1::SearchSpace& space,
                                             const FeatureCursor& cursor) {
  std::vector<FeatureBlock> out;
  if (cursor.ended || cursor.blocks >= space.max_layers()) return out;
  const int rank = cursor.shape.dims_size();
  const int64_t size = MinSpatialSize(cursor.shape);
  for (int t : space.layer_types()) {
    const auto type = static_cast<LayerType>(t);
    if (!RankFits(type, rank)) continue;
    if (type == v1::GLOBAL_AVGPOOL) {
      if (PoolAllowed(space, cursor)) out.push_back({type, 0, 0, 0});
    } else if (IsPoolingLayer(type)) {
      if (PoolAllowed(space, cursor) && size >= kPoolSize) {
        out.push_back({type, 0, kPoolSize, kPoolSize});
      }
    } else if (IsConvLayer(type)) {
      AddConvBlocks(type, space, size, &out);
    }
  }
  return out;
}

bool IsLegalFeatureBlock(const v1::SearchSpace& space,
                         const FeatureCursor& cursor,
                         const FeatureBlock& block) {
  for (const FeatureBlock& legal : LegalFeatureBlocks(space, cursor)) {
    if (legal == block) return true;
  }
  return false;
}

bool CanEndFeatures(const v1::SearchSpace& space,
                    const FeatureCursor& cursor) {
  return cursor.blocks >= space.min_layers() ||
         LegalFeatureBlocks(space, cursor).empty();
}

absl::Status CheckBlocks(const BlockNetwork& net, const v1::SearchSpace& space,
                         const v1::TensorShape& input) {
  FeatureCursor cursor = StartCursor(input);
  for (size_t i = 0; i < net.features.size(); ++i) {
    if (!IsLegalFeatureBlock(space, cursor, net.features[i])) {
      return absl::InvalidArgumentError(absl::StrCat(
          "feature block ", i, " (", LayerTypeName(net.features[i].type),
          ") is not allowed there by the space"));
    }
    NAS_ASSIGN_OR_RETURN(cursor, Advance(cursor, net.features[i], space));
  }
  if (!CanEndFeatures(space, cursor)) {
    return absl::InvalidArgumentError(
        absl::StrCat("only ", cursor.blocks, " feature blocks; the space "
                     "needs at least ", space.min_layers()));
  }
  if (static_cast<int>(net.dense.size()) > space.max_dense_layers()) {
    return absl::InvalidArgumentError(
        absl::StrCat(net.dense.size(), " hidden dense layers; the space "
                     "allows ", space.max_dense_layers()));
  }
  for (int32_t width : net.dense) {
    if (std::find(space.dense_units().begin(), space.dense_units().end(),
                  width) == space.dense_units().end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("dense width ", width, " is not in space.dense_units"));
    }
  }
  const bool rate_ok =
      net.dropout == 0 ||
      std::find(space.dropout_rates().begin(), space.dropout_rates().end(),
                net.dropout) != space.dropout_rates().end();
  if (!rate_ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        "dropout rate ", net.dropout, " is not in space.dropout_rates"));
  }
  return absl::OkStatus();
}

}  // namespace nas
