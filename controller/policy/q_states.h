#ifndef NAS_CONTROLLER_POLICY_Q_STATES_H_
#define NAS_CONTROLLER_POLICY_Q_STATES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/blocks.h"
#include "proto/nas.pb.h"

namespace nas::controller {

// One decision while building a network: the next feature block, the next
// hidden dense width, or TERMINATE (which carries the dropout rate before
// the classifier).
struct QDecision {
  enum class Kind { kFeature, kDense, kTerminate };
  Kind kind = Kind::kTerminate;
  FeatureBlock block;  // kFeature.
  int32_t width = 0;   // kDense.
  float dropout = 0;   // kTerminate.
  std::string action;  // The action key, e.g. "MAXPOOL1D k2 s2".
};

// Where a network under construction stands.
struct QPosition {
  FeatureCursor cursor;        // Frozen once the head has begun.
  bool in_head = false;        // A dense width has been chosen.
  int dense = 0;               // Hidden dense layers so far.
  int depth = 0;               // Decisions so far.
  std::string last = "START";  // Action key of the last decision.
};

// One transition of a trajectory: the state key, the keys of every action
// legal there, and the action taken.
struct QStep {
  std::string state;
  std::vector<std::string> legal;
  std::string action;
};

// MetaQNN's state and action space over the blocks of a search space
// (common/blocks.h). A state key is "d<depth> <last action> |<size bin>",
// e.g. "d0 START |256" or "d2 CONV1D c8 k3 s1 |64"; action keys are
//   "CONV1D c8 k3 s1", "DEPTHWISE_CONV2D k3 s2" (no channels where the type
//   keeps its input's), "MAXPOOL1D k2 s2", "GLOBAL_AVGPOOL",
//   "LINEAR u32" (a hidden dense width), "TERMINATE" or "TERMINATE p0.2"
//   (end, with that dropout rate).
// The size bin is the first edge of `size_bins` >= the representation's
// smallest spatial size (1 after GLOBAL_AVGPOOL; the head keeps the bin its
// features ended with), ">last" above the last edge.
// Legal actions: the LegalFeatureBlocks of the exact cursor (not of the
// binned state) while in the feature part; once CanEndFeatures, also the
// dense widths (while fewer than max_dense_layers) and one TERMINATE per
// dropout rate (just "TERMINATE" when the space has none); in the head only
// those. Every trajectory therefore ends in a network the space can produce.
// Immutable, thread-safe; holds copies of the space and input.
class QStateSpace {
 public:
  QStateSpace(const v1::SearchSpace& space, const v1::TensorShape& input,
              std::vector<int32_t> size_bins);

  QPosition Start() const;
  std::string StateKey(const QPosition& position) const;
  // In a stable order, without duplicate keys; never empty.
  std::vector<QDecision> LegalDecisions(const QPosition& position) const;
  // The position after a non-terminal decision. InvalidArgument when the
  // block does not fit the shape.
  absl::StatusOr<QPosition> Next(const QPosition& position,
                                 const QDecision& decision) const;

  // The transitions that build `net`, TERMINATE last. InvalidArgument naming
  // the first decision that is not legal where it is taken.
  absl::StatusOr<std::vector<QStep>> Trajectory(const BlockNetwork& net) const;

 private:
  std::string Bin(const QPosition& position) const;
  void AddHeadDecisions(const QPosition& position,
                        std::vector<QDecision>* out) const;

  const v1::SearchSpace space_;
  const v1::TensorShape input_;
  const std::vector<int32_t> size_bins_;
};

// Applies a decision to the network it builds.
void AddDecision(const QDecision& decision, BlockNetwork* net);

}  // namespace nas::controller

#endif  // NAS_CONTROLLER_POLICY_Q_STATES_H_
