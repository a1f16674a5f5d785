#include "controller/policy/mutations.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "common/architecture.h"
#include "common/search_space.h"
#include "common/status_macros.h"

namespace nas::controller {
namespace {

bool IsPoolBlock(v1::LayerType type) {
  return IsPoolingLayer(type) || type == v1::GLOBAL_AVGPOOL;
}

template <typename T>
const T& Pick(const std::vector<T>& items, std::mt19937_64& rng) {
  return items[UniformIndex(rng, items.size())];
}

template <typename Pred>
std::vector<size_t> PositionsWhere(const std::vector<FeatureBlock>& blocks,
                                   Pred pred) {
  std::vector<size_t> out;
  for (size_t i = 0; i < blocks.size(); ++i) {
    if (pred(blocks[i])) out.push_back(i);
  }
  return out;
}

// Whether a ReplaceBlock edit of `kind` may target `block`.
bool Targets(MutationKind kind, const FeatureBlock& block) {
  const bool conv = IsConvLayer(block.type);
  switch (kind) {
    case MutationKind::kChangeType:
      return conv || IsPoolBlock(block.type);
    case MutationKind::kChangeChannels:
      return conv && HasOutField(block.type);
    case MutationKind::kChangeKernel:
      return conv && block.type != v1::POINTWISE_CONV2D;
    case MutationKind::kChangeStride:
      return conv;
    default:
      return false;
  }
}

// Whether `to` replaces `from` by an edit of `kind`: exactly the edited
// field differs (the type, for kChangeType, within conv or pooling).
bool Replaces(MutationKind kind, const FeatureBlock& from,
              const FeatureBlock& to) {
  const bool same_type = to.type == from.type;
  const bool same_out = to.out == from.out;
  const bool same_kernel = to.kernel == from.kernel;
  const bool same_stride = to.stride == from.stride;
  switch (kind) {
    case MutationKind::kChangeType:
      return !same_type && IsConvLayer(to.type) == IsConvLayer(from.type);
    case MutationKind::kChangeChannels:
      return same_type && same_kernel && same_stride && !same_out;
    case MutationKind::kChangeKernel:
      return same_type && same_out && same_stride && !same_kernel;
    case MutationKind::kChangeStride:
      return same_type && same_out && same_kernel && !same_stride;
    default:
      return false;
  }
}

// The options that keep most of `from`'s channels, kernel and stride.
std::vector<FeatureBlock> MostAlike(const FeatureBlock& from,
                                    const std::vector<FeatureBlock>& options) {
  auto kept = [&from](const FeatureBlock& b) {
    return (b.out == from.out) + (b.kernel == from.kernel) +
           (b.stride == from.stride);
  };
  int best = -1;
  std::vector<FeatureBlock> out;
  for (const FeatureBlock& b : options) {
    const int k = kept(b);
    if (k > best) {
      best = k;
      out.clear();
    }
    if (k == best) out.push_back(b);
  }
  return out;
}

}  // namespace

absl::string_view MutationKindName(MutationKind kind) {
  switch (kind) {
    case MutationKind::kAddConv:
      return "add_conv";
    case MutationKind::kRemoveConv:
      return "remove_conv";
    case MutationKind::kChangeType:
      return "change_type";
    case MutationKind::kChangeChannels:
      return "change_channels";
    case MutationKind::kChangeKernel:
      return "change_kernel";
    case MutationKind::kChangeStride:
      return "change_stride";
    case MutationKind::kInsertPooling:
      return "insert_pooling";
    case MutationKind::kRemovePooling:
      return "remove_pooling";
    case MutationKind::kChangeDenseWidth:
      return "change_dense_width";
    case MutationKind::kAddDense:
      return "add_dense";
    case MutationKind::kRemoveDense:
      return "remove_dense";
    case MutationKind::kChangeDropout:
      return "change_dropout";
    case MutationKind::kResample:
      return "resample";
  }
  return "unknown";
}

Mutator::Mutator(const v1::SearchSpace& space, const v1::TensorShape& input,
                 int num_classes)
    : space_(space), input_(input), num_classes_(num_classes) {}

absl::StatusOr<Mutation> Mutator::Mutate(const v1::Architecture& parent,
                                         std::mt19937_64& rng) const {
  // A parent outside the block shape (a user's seed architecture) cannot be
  // edited block by block: its child is a fresh sample.
  absl::StatusOr<BlockNetwork> net = ToBlocks(parent);
  for (int attempt = 0; net.ok() && attempt < kMaxAttempts; ++attempt) {
    const auto kind =
        static_cast<MutationKind>(UniformIndex(rng, kNumMutationKinds));
    std::optional<BlockNetwork> child = TryMutation(kind, *net, rng);
    if (child.has_value()) return Mutation{ToArchitecture(*child), kind};
  }
  NAS_ASSIGN_OR_RETURN(v1::Architecture sample,
                       SampleArchitecture(space_, input_, num_classes_, rng));
  return Mutation{std::move(sample), MutationKind::kResample};
}

std::optional<BlockNetwork> Mutator::TryMutation(MutationKind kind,
                                                 const BlockNetwork& parent,
                                                 std::mt19937_64& rng) const {
  std::optional<BlockNetwork> child;
  switch (kind) {
    case MutationKind::kChangeDenseWidth:
    case MutationKind::kAddDense:
    case MutationKind::kRemoveDense:
    case MutationKind::kChangeDropout:
      child = EditHead(kind, parent, rng);
      break;
    case MutationKind::kResample:
      return std::nullopt;
    default:
      child = EditFeatures(kind, parent, rng);
  }
  if (!child.has_value() || !IsLegal(*child)) return std::nullopt;
  return child;
}

bool Mutator::IsLegal(const BlockNetwork& net) const {
  return CheckBlocks(net, space_, input_).ok() &&
         InferShapes(ToArchitecture(net), input_, num_classes_).ok();
}

v1::Architecture Mutator::ToArchitecture(const BlockNetwork& net) const {
  return FromBlocks(net, space_, num_classes_);
}

std::optional<BlockNetwork> Mutator::EditFeatures(MutationKind kind,
                                                  const BlockNetwork& parent,
                                                  std::mt19937_64& rng) const {
  switch (kind) {
    case MutationKind::kAddConv:
      return InsertBlock(/*pooling=*/false, parent, rng);
    case MutationKind::kInsertPooling:
      return InsertBlock(/*pooling=*/true, parent, rng);
    case MutationKind::kRemoveConv:
    case MutationKind::kRemovePooling: {
      const bool pooling = kind == MutationKind::kRemovePooling;
      const std::vector<size_t> targets =
          PositionsWhere(parent.features, [pooling](const FeatureBlock& b) {
            return pooling ? IsPoolBlock(b.type) : IsConvLayer(b.type);
          });
      if (targets.empty()) return std::nullopt;
      BlockNetwork child = parent;
      child.features.erase(child.features.begin() + Pick(targets, rng));
      return child;
    }
    default:
      return ReplaceBlock(kind, parent, rng);
  }
}

std::optional<BlockNetwork> Mutator::ReplaceBlock(MutationKind kind,
                                                  const BlockNetwork& parent,
                                                  std::mt19937_64& rng) const {
  const std::vector<size_t> targets = PositionsWhere(
      parent.features,
      [kind](const FeatureBlock& b) { return Targets(kind, b); });
  if (targets.empty()) return std::nullopt;
  const size_t i = Pick(targets, rng);
  const FeatureBlock& from = parent.features[i];
  std::vector<FeatureBlock> options;
  for (const FeatureBlock& to : LegalAt(parent, i)) {
    if (Replaces(kind, from, to)) options.push_back(to);
  }
  if (kind == MutationKind::kChangeType) options = MostAlike(from, options);
  if (options.empty()) return std::nullopt;
  BlockNetwork child = parent;
  child.features[i] = Pick(options, rng);
  return child;
}

std::optional<BlockNetwork> Mutator::InsertBlock(bool pooling,
                                                 const BlockNetwork& parent,
                                                 std::mt19937_64& rng) const {
  const size_t position = UniformIndex(rng, parent.features.size() + 1);
  std::vector<FeatureBlock> options;
  for (const FeatureBlock& b : LegalAt(parent, position)) {
    if (pooling ? IsPoolBlock(b.type) : IsConvLayer(b.type)) {
      options.push_back(b);
    }
  }
  if (options.empty()) return std::nullopt;
  BlockNetwork child = parent;
  child.features.insert(child.features.begin() + position, Pick(options, rng));
  return child;
}

std::optional<BlockNetwork> Mutator::EditHead(MutationKind kind,
                                              const BlockNetwork& parent,
                                              std::mt19937_64& rng) const {
  BlockNetwork child = parent;
  std::vector<int32_t> widths(space_.dense_units().begin(),
                              space_.dense_units().end());
  const size_t dense = parent.dense.size();
  if (kind == MutationKind::kChangeDenseWidth && dense > 0) {
    const size_t i = UniformIndex(rng, dense);
    widths.erase(std::remove(widths.begin(), widths.end(), parent.dense[i]),
                 widths.end());
    if (widths.empty()) return std::nullopt;
    child.dense[i] = Pick(widths, rng);
  } else if (kind == MutationKind::kAddDense && !widths.empty() &&
             static_cast<int>(dense) < space_.max_dense_layers()) {
    const size_t position = UniformIndex(rng, dense + 1);
    child.dense.insert(child.dense.begin() + position, Pick(widths, rng));
  } else if (kind == MutationKind::kRemoveDense && dense > 0) {
    child.dense.erase(child.dense.begin() + UniformIndex(rng, dense));
  } else if (kind == MutationKind::kChangeDropout) {
    std::vector<float> rates;
    for (float r : space_.dropout_rates()) {
      if (r != parent.dropout &&
          std::find(rates.begin(), rates.end(), r) == rates.end()) {
        rates.push_back(r);
      }
    }
    if (rates.empty()) return std::nullopt;
    child.dropout = Pick(rates, rng);
  } else {
    return std::nullopt;
  }
  return child;
}

std::vector<FeatureBlock> Mutator::LegalAt(const BlockNetwork& net,
                                           size_t position) const {
  FeatureCursor cursor = StartCursor(input_);
  for (size_t i = 0; i < position; ++i) {
    absl::StatusOr<FeatureCursor> next =
        Advance(cursor, net.features[i], space_);
    if (!next.ok()) return {};
    cursor = *std::move(next);
  }
  return LegalFeatureBlocks(space_, cursor);
}

}  // namespace nas::controller
