#include "controller/policy/random_search.h"

#include <random>

#include "common/search_space.h"
#include "common/status_macros.h"

namespace nas::controller {

RandomSearch::RandomSearch(const v1::SearchSpec& completed_spec)
    : spec_(completed_spec) {}

absl::StatusOr<std::vector<v1::Architecture>> RandomSearch::Propose(
    const ProposalContext& context, int count) {
  return ProposeEach(spec_, context, count, [this](std::mt19937_64& rng) {
    return ProposeFresh(rng);
  });
}

absl::StatusOr<std::optional<PolicyWrite>> RandomSearch::PrepareObservation(
    const v1::Trial& /*trial*/) const {
  return std::nullopt;
}

absl::Status RandomSearch::ApplyObservation(const v1::Trial& /*trial*/,
                                            const PolicyWrite& /*write*/) {
  return absl::OkStatus();
}

absl::Status RandomSearch::Restore(const StoredPolicy& /*stored*/) {
  return absl::OkStatus();
}

v1::PolicyState RandomSearch::Describe(int /*top_q*/) const {
  v1::PolicyState state;
  state.set_policy("random");
  return state;
}

absl::StatusOr<v1::Architecture> RandomSearch::ProposeFresh(
    std::mt19937_64& rng) const {
  return SampleArchitecture(spec_.space(), spec_.dataset().input_shape(),
                            spec_.dataset().num_classes(), rng);
}

}  // namespace nas::controller
