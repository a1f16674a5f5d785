#ifndef NAS_CONTROLLER_POLICY_RANDOM_SEARCH_H_
#define NAS_CONTROLLER_POLICY_RANDOM_SEARCH_H_

#include <vector>

#include "controller/policy/search_strategy.h"

namespace nas::controller {

// The tutorial's Algorithm 1 (naive NAS). Position i proposes the spec's
// seed_architectures[i] while there are any (warm start), then an
// architecture sampled by SampleArchitecture with an RNG seeded from (search
// seed, i), so proposals depend on nothing but the spec and the position.
// Learns nothing. Not thread-safe (see SearchStrategy); holds a copy of the
// spec.
class RandomSearch : public SearchStrategy {
 public:
  explicit RandomSearch(const v1::SearchSpec& completed_spec);

  absl::StatusOr<std::vector<v1::Architecture>> Propose(
      const ProposalContext& context, int count) override;
  // Random search learns nothing: no write, nothing to apply or restore.
  absl::StatusOr<std::optional<PolicyWrite>> PrepareObservation(
      const v1::Trial& trial) const override;
  absl::Status ApplyObservation(const v1::Trial& trial,
                                const PolicyWrite& write) override;
  absl::Status Restore(const StoredPolicy& stored) override;
  v1::PolicyState Describe(int top_q) const override;

 private:
  // A proposal past the seed architectures (see ProposeEach).
  absl::StatusOr<v1::Architecture> ProposeFresh(std::mt19937_64& rng) const;

  const v1::SearchSpec spec_;
};

}  // namespace nas::controller

#endif  // NAS_CONTROLLER_POLICY_RANDOM_SEARCH_H_
