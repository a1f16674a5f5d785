#ifndef NAS_COMMON_BLOCKS_H_
#define NAS_COMMON_BLOCKS_H_

// Networks of the shape a search space describes, one decision a block: what
// the learning policies (Q-learning, evolution) reason about. Pure
// functions, thread-safe.

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/nas.pb.h"

namespace nas {

// One feature-extractor step: a convolution (followed in the architecture
// by BATCHNORM when the space has batch_norm, and by the activation), a
// pooling layer, or GLOBAL_AVGPOOL (which ends the feature part).
struct FeatureBlock {
  v1::LayerType type = v1::LAYER_TYPE_UNSPECIFIED;
  int32_t out = 0;     // Conv channels; 0 where the type keeps its input's.
  int32_t kernel = 0;  // 0 for GLOBAL_AVGPOOL.
  int32_t stride = 1;  // 0 for GLOBAL_AVGPOOL.

  bool operator==(const FeatureBlock& o) const {
    return type == o.type && out == o.out && kernel == o.kernel &&
           stride == o.stride;
  }
  bool operator!=(const FeatureBlock& o) const { return !(*this == o); }
};

// A whole network: feature blocks, hidden dense widths (each LINEAR followed
// by the activation), a dropout rate before the classifier (0 = none), then
// LINEAR(num_classes).
struct BlockNetwork {
  std::vector<FeatureBlock> features;
  std::vector<int32_t> dense;
  float dropout = 0;

  bool operator==(const BlockNetwork& o) const {
    return features == o.features && dense == o.dense && dropout == o.dropout;
  }
};

// Where a prefix of feature blocks leaves the representation.
struct FeatureCursor {
  v1::TensorShape shape;  // After the prefix ({C,H,W} / {C,L}; {C} after GAP).
  int blocks = 0;         // Feature blocks so far.
  int pools_in_row = 0;   // Pooling blocks at the end of the prefix.
  bool ended = false;     // GLOBAL_AVGPOOL seen: no feature block may follow.
};

// Reads an architecture back into blocks: conv [BATCHNORM] [RELU|RELU6],
// pooling, GLOBAL_AVGPOOL, hidden LINEAR [RELU|RELU6], at most one DROPOUT,
// the classifier LINEAR [SOFTMAX]. InvalidArgument naming the first layer
// that does not fit that shape (FLATTEN, a lone BATCHNORM, ...).
absl::StatusOr<BlockNetwork> ToBlocks(const v1::Architecture& arch);

// The canonical architecture of `net` in the space's style: conv padding
// kernel/2 for "same" and 0 for "valid", BATCHNORM when space.batch_norm,
// space.activation after each conv and hidden LINEAR; pooling blocks keep
// their kernel and stride. Not checked: see CheckBlocks.
v1::Architecture FromBlocks(const BlockNetwork& net,
                            const v1::SearchSpace& space, int num_classes);

// The cursor at the start of the feature part.
FeatureCursor StartCursor(const v1::TensorShape& input);

// The cursor after appending `block`. InvalidArgument when the block does
// not fit the shape (shape inference fails).
absl::StatusOr<FeatureCursor> Advance(const FeatureCursor& cursor,
                                      const FeatureBlock& block,
                                      const v1::SearchSpace& space);

// Every feature block the space allows after `cursor`, by the sampler's
// rules (SampleArchitecture): a type of space.layer_types of the input's
// rank; pooling (kernel 2, stride 2) never first, at most
// max_consecutive_pooling in a row and only while the size is >= 2;
// GLOBAL_AVGPOOL never first and not after max_consecutive_pooling pools;
// conv kernels from space.kernels no larger than the current size (1 for
// POINTWISE_CONV2D), strides from space.strides while the size is > 1 (else
// 1), channels from space.channels for types with an `out`; nothing once
// the cursor has ended or holds max_layers blocks. In a stable order
// (layer_types, then channels, kernels, strides as listed).
std::vector<FeatureBlock> LegalFeatureBlocks(const v1::SearchSpace& space,
                                             const FeatureCursor& cursor);

// Whether `block` is one of LegalFeatureBlocks(space, cursor).
bool IsLegalFeatureBlock(const v1::SearchSpace& space,
                         const FeatureCursor& cursor, const FeatureBlock& block);

// Whether the feature part may end at `cursor`: at least min_layers blocks,
// or no legal block left.
bool CanEndFeatures(const v1::SearchSpace& space, const FeatureCursor& cursor);

// Checks that `net` is a network the space can produce: every feature block
// legal after its prefix, the feature part allowed to end where it does, at
// most max_dense_layers hidden widths from space.dense_units, the dropout
// rate one of space.dropout_rates (or 0 when the space has none).
// InvalidArgument naming the first offence.
absl::Status CheckBlocks(const BlockNetwork& net, const v1::SearchSpace& space,
                         const v1::TensorShape& input);

}  // namespace nas

#endif  // NAS_COMMON_BLOCKS_H_
