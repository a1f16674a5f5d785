#ifndef NAS_CONTROLLER_POLICY_MUTATIONS_H_
#define NAS_CONTROLLER_POLICY_MUTATIONS_H_

#include <cstdint>
#include <optional>
#include <random>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/blocks.h"
#include "proto/nas.pb.h"

namespace nas::controller {

// The edits evolution applies to a network (as blocks, common/blocks.h).
// Every kind changes the network: a value is only ever replaced by a
// different one.
enum class MutationKind {
  kAddConv,           // Insert a convolution block at some position.
  kRemoveConv,        // Remove a convolution block.
  kChangeType,        // Another conv type for a conv block, or another
                      // pooling type (GLOBAL_AVGPOOL included) for a pooling
                      // block; keeps as many of channels, kernel and stride
                      // as the new type allows.
  kChangeChannels,    // A conv block's channels (nothing else).
  kChangeKernel,      // A conv block's kernel (nothing else).
  kChangeStride,      // A conv block's stride (nothing else).
  kInsertPooling,     // Insert a pooling or GLOBAL_AVGPOOL block.
  kRemovePooling,     // Remove a pooling or GLOBAL_AVGPOOL block.
  kChangeDenseWidth,  // A hidden dense layer's width.
  kAddDense,          // Insert a hidden dense layer.
  kRemoveDense,       // Remove a hidden dense layer.
  kChangeDropout,     // Another rate from space.dropout_rates.
  kResample,          // Not an edit: the fallback, a fresh sample.
};

// The edits (every kind but kResample), in enum order.
inline constexpr int kNumMutationKinds = 12;

// "add_conv", "change_kernel", ... for logs and test messages.
absl::string_view MutationKindName(MutationKind kind);

// A child and how it was made from its parent.
struct Mutation {
  v1::Architecture child;
  MutationKind kind = MutationKind::kResample;
};

// One random legal mutation of a network in a search space. Legal means the
// child passes CheckBlocks (every block allowed where it stands, depth,
// dense widths and dropout from the space) and its architecture
// (FromBlocks, in the space's style) passes InferShapes; so children are
// networks the space's sampler could have produced. Randomness comes only
// from the caller's rng through nas::UniformIndex, so a mutation is
// reproducible on every platform. Immutable after construction and
// thread-safe; holds copies of the space and the input shape.
class Mutator {
 public:
  Mutator(const v1::SearchSpace& space, const v1::TensorShape& input,
          int num_classes);

  // Draws a kind and a position, up to kMaxAttempts times, until one edit
  // is legal, and returns the child with that kind. Falls back to a fresh
  // SampleArchitecture (kind kResample) when no draw was legal, and at once
  // when the parent does not fit the block shape (ToBlocks fails, e.g. a
  // seed architecture with FLATTEN). Errors only from SampleArchitecture
  // (an invalid space).
  absl::StatusOr<Mutation> Mutate(const v1::Architecture& parent,
                                  std::mt19937_64& rng) const;

  // One draw of an edit of `kind` (not kResample) on `parent`: the child
  // when it is legal, nullopt when the kind does not apply to this parent
  // or the drawn edit breaks the space's rules.
  std::optional<BlockNetwork> TryMutation(MutationKind kind,
                                          const BlockNetwork& parent,
                                          std::mt19937_64& rng) const;

  // Whether `net` is legal in this space (see the class comment).
  bool IsLegal(const BlockNetwork& net) const;

  // The child's architecture in the space's style.
  v1::Architecture ToArchitecture(const BlockNetwork& net) const;

  static constexpr int kMaxAttempts = 64;

 private:
  std::optional<BlockNetwork> EditFeatures(MutationKind kind,
                                           const BlockNetwork& parent,
                                           std::mt19937_64& rng) const;
  std::optional<BlockNetwork> EditHead(MutationKind kind,
                                       const BlockNetwork& parent,
                                       std::mt19937_64& rng) const;
  std::optional<BlockNetwork> ReplaceBlock(MutationKind kind,
                                           const BlockNetwork& parent,
                                           std::mt19937_64& rng) const;
  std::optional<BlockNetwork> InsertBlock(bool pooling,
                                          const BlockNetwork& parent,
                                          std::mt19937_64& rng) const;
  // Legal blocks after features[0, position); empty when that prefix does
  // not fit the input.
  std::vector<FeatureBlock> LegalAt(const BlockNetwork& net,
                                    size_t position) const;

  const v1::SearchSpace space_;
  const v1::TensorShape input_;
  const int num_classes_;
};

}  // namespace nas::controller

#endif  // NAS_CONTROLLER_POLICY_MUTATIONS_H_
