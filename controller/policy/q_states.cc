#include "controller/policy/q_states.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/architecture.h"
#include "common/status_macros.h"

namespace nas::controller {
namespace {

using Kind = QDecision::Kind;

std::string FeatureKey(const FeatureBlock& block) {
  const std::string type = LayerTypeName(block.type);
  if (block.type == v1::GLOBAL_AVGPOOL) return type;
  const std::string tail = absl::StrCat("k", block.kernel, " s", block.stride);
  if (HasOutField(block.type)) {
    return absl::StrCat(type, " c", block.out, " ", tail);
  }
  return absl::StrCat(type, " ", tail);
}

QDecision Feature(const FeatureBlock& block) {
  QDecision d;
  d.kind = Kind::kFeature;
  d.block = block;
  d.action = FeatureKey(block);
  return d;
}

QDecision Dense(int32_t width) {
  QDecision d;
  d.kind = Kind::kDense;
  d.width = width;
  d.action = absl::StrCat("LINEAR u", width);
  return d;
}

QDecision Terminate(float dropout) {
  QDecision d;
  d.kind = Kind::kTerminate;
  d.dropout = dropout;
  d.action = dropout > 0 ? absl::StrCat("TERMINATE p", dropout) : "TERMINATE";
  return d;
}

// The decisions that build `net`, in order.
std::vector<QDecision> DecisionsOf(const BlockNetwork& net) {
  std::vector<QDecision> out;
  for (const FeatureBlock& block : net.features) out.push_back(Feature(block));
  for (int32_t width : net.dense) out.push_back(Dense(width));
  out.push_back(Terminate(net.dropout));
  return out;
}

}  // namespace

void AddDecision(const QDecision& decision, BlockNetwork* net) {
  switch (decision.kind) {
    case Kind::kFeature:
      net->features.push_back(decision.block);
      break;
    case Kind::kDense:
      net->dense.push_back(decision.width);
      break;
    case Kind::kTerminate:
      net->dropout = decision.dropout;
      break;
  }
}

QStateSpace::QStateSpace(const v1::SearchSpace& space,
                         const v1::TensorShape& input,
                         std::vector<int32_t> size_bins)
    : space_(space), input_(input), size_bins_(std::move(size_bins)) {}

QPosition QStateSpace::Start() const {
  QPosition position;
  position.cursor = StartCursor(input_);
  return position;
}

std::string QStateSpace::Bin(const QPosition& position) const {
  // {C} after GLOBAL_AVGPOOL has no spatial dimension: size 1.
  const int64_t size =
      std::max<int64_t>(1, MinSpatialSize(position.cursor.shape));
  for (int32_t edge : size_bins_) {
    if (size <= edge) return absl::StrCat(edge);
  }
  return size_bins_.empty() ? absl::StrCat(size)
                            : absl::StrCat(">", size_bins_.back());
}

std::string QStateSpace::StateKey(const QPosition& position) const {
  return absl::StrCat("d", position.depth, " ", position.last, " |",
                      Bin(position));
}

void QStateSpace::AddHeadDecisions(const QPosition& position,
                                   std::vector<QDecision>* out) const {
  if (position.dense < space_.max_dense_layers()) {
    for (int32_t width : space_.dense_units()) out->push_back(Dense(width));
  }
  if (space_.dropout_rates_size() == 0) {
    out->push_back(Terminate(0));
    return;
  }
  for (float rate : space_.dropout_rates()) out->push_back(Terminate(rate));
}

std::vector<QDecision> QStateSpace::LegalDecisions(
    const QPosition& position) const {
  std::vector<QDecision> all;
  if (!position.in_head) {
    for (const FeatureBlock& block :
         LegalFeatureBlocks(space_, position.cursor)) {
      all.push_back(Feature(block));
    }
  }
  if (position.in_head || CanEndFeatures(space_, position.cursor)) {
    AddHeadDecisions(position, &all);
  }
  // Repeated values in the space's lists would give repeated actions.
  std::vector<QDecision> out;
  absl::flat_hash_set<std::string> seen;
  for (QDecision& d : all) {
    if (seen.insert(d.action).second) out.push_back(std::move(d));
  }
  return out;
}

absl::StatusOr<QPosition> QStateSpace::Next(const QPosition& position,
                                            const QDecision& decision) const {
  QPosition next = position;
  ++next.depth;
  next.last = decision.action;
  if (decision.kind == Kind::kFeature) {
    NAS_ASSIGN_OR_RETURN(next.cursor,
                         Advance(position.cursor, decision.block, space_));
  } else if (decision.kind == Kind::kDense) {
    next.in_head = true;
    ++next.dense;
  }
  return next;
}

absl::StatusOr<std::vector<QStep>> QStateSpace::Trajectory(
    const BlockNetwork& net) const {
  std::vector<QStep> steps;
  QPosition position = Start();
  for (const QDecision& decision : DecisionsOf(net)) {
    QStep step;
    step.state = StateKey(position);
    for (const QDecision& legal : LegalDecisions(position)) {
      step.legal.push_back(legal.action);
    }
    if (std::find(step.legal.begin(), step.legal.end(), decision.action) ==
        step.legal.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("decision ", steps.size(), " (", decision.action,
                       ") is not a legal action in state ", step.state));
    }
    step.action = decision.action;
    steps.push_back(std::move(step));
    if (decision.kind != Kind::kTerminate) {
      NAS_ASSIGN_OR_RETURN(position, Next(position, decision));
    }
  }
  return steps;
}

}  // namespace nas::controller
