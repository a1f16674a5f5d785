#ifndef NAS_CONTROLLER_POLICY_EVOLUTION_H_
#define NAS_CONTROLLER_POLICY_EVOLUTION_H_

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "controller/policy/mutations.h"
#include "controller/policy/search_strategy.h"

namespace nas::controller {

// The tutorial's Algorithm 3 (EVO NAS): regularized (aging) evolution (Real
// et al. 2019) and, with evolution.remove "worst", the tutorial's variant.
//
// Proposals. Position i < seed_architectures_size proposes that seed (warm
// start, as RandomSearch does). Otherwise, while the population holds fewer
// than P members, position i proposes SampleArchitecture with the RNG seeded
// DeriveSeed(spec seed, i). Once it is full:
// - "oldest" (default, aging evolution): S members drawn with replacement,
//   parent = the fittest of them (ties: the first drawn), child = one
//   mutation (Mutator: add/remove a conv block, change a block's type, a
//   conv's channels, kernel or stride, insert/remove pooling, change, add or
//   remove a hidden dense layer, change dropout; a fresh sample when no edit
//   is legal or the parent does not fit the block shape).
// - "worst" (variant): parent = the fittest member (ties: the oldest), one
//   mutation and then further ones, each with probability rate (at most
//   kMaxExtraMutations); rate decays linearly from mutation_rate (default
//   0.5) at 0 models to 0 at budget.max_trials models.
// New networks first: a fresh sample or a child whose architecture the
// search has already learnt from (a repeat would only replay its stored
// result as a CACHED trial, spending budget on nothing new) is drawn again,
// up to kMaxDraws draws in all; the last draw stands. All randomness comes
// from DeriveSeed(spec seed, i), so a proposal depends only on the spec, the
// position, the population and the set of architectures learnt from. Proposals are
// asynchronous: every proposal made while children are still training comes
// from the current population.
//
// Fitness is LearningReward. With reward type "max" and draw_lambdas, the
// parent is chosen by the muNAS scalarisation with the four lambdas drawn
// afresh, uniform in (0, 1], from the proposal's RNG for that one selection
// (computed on each candidate's stored metrics); removal and Describe use
// the stored fitness (fixed lambdas).
//
// Learning. A SUCCEEDED or CACHED result joins the population (born = its
// observation number); when the population then exceeds P, the oldest
// member (smallest born) or, for "worst", the least fit one (ties: the
// oldest) leaves. An INFEASIBLE result is only counted (observed): it was
// never trained, and a member scored at zero accuracy would only crowd out
// trained ones. FAILED and CANCELLED results teach nothing (no write).
//
// State. Everything lives in one v1::PolicyState (policy "evolution",
// observed, models, population with trial ids, architectures, fitness and
// ages, and for "worst" the mutation rate of the next child), written with
// the result that changed it. The members' metrics, needed only to draw
// lambdas, and the hashes of every observed architecture are kept in memory
// and rebuilt by Restore from the observed trials. Not thread-safe (see SearchStrategy); holds copies of
// the spec and the device profile.
class EvolutionSearch : public SearchStrategy {
 public:
  EvolutionSearch(const v1::SearchSpec& completed_spec,
                  const v1::DeviceProfile& device);

  absl::StatusOr<std::vector<v1::Architecture>> Propose(
      const ProposalContext& context, int count) override;
  absl::StatusOr<std::optional<PolicyWrite>> PrepareObservation(
      const v1::Trial& trial) const override;
  // FailedPrecondition when `write` is not the next observation;
  // InvalidArgument when its state is not an evolution state.
  absl::Status ApplyObservation(const v1::Trial& trial,
                                const PolicyWrite& write) override;
  // kDataLoss when the state is not an evolution state, or (draw_lambdas)
  // a member's trial is missing from stored.observed.
  absl::Status Restore(const StoredPolicy& stored) override;
  // The state with the population sorted by fitness, best first (ties: the
  // oldest first); top_q is ignored (no Q-table).
  v1::PolicyState Describe(int top_q) const override;

  // The settings in force, unset ones defaulted: P = clamp(max_trials / 4,
  // 4, 100), S = clamp(P / 4, 2, 25), remove "oldest", mutation_rate 0.5.
  int population_size() const { return population_size_; }
  int sample_size() const { return sample_size_; }
  bool removes_worst() const { return removes_worst_; }

  static constexpr int kMaxExtraMutations = 16;
  // Draws per proposal while they repeat a learnt architecture.
  static constexpr int kMaxDraws = 8;

 private:
  // A proposal past the seed architectures (see ProposeEach).
  absl::StatusOr<v1::Architecture> ProposeFresh(std::mt19937_64& rng) const;
  // One draw: a sample while the population fills, else a child.
  absl::StatusOr<v1::Architecture> Draw(std::mt19937_64& rng) const;
  absl::StatusOr<v1::Architecture> Evolve(std::mt19937_64& rng) const;
  // Index in the population of the fittest of `candidates` (indices).
  absl::StatusOr<int> Fittest(const std::vector<int>& candidates,
                              std::mt19937_64& rng) const;
  // The state before anything was learnt.
  v1::PolicyState FreshState() const;
  // Mutation rate of the variant's next child after `models` models.
  double RateAfter(int64_t models) const;
  bool DrawsLambdas() const;
  // Keeps metrics_ to the members of state_.
  void DropFormerMembers();

  const v1::SearchSpec spec_;
  const v1::DeviceProfile device_;
  const Mutator mutator_;
  const int population_size_;
  const int sample_size_;
  const bool removes_worst_;
  const double mutation_rate_;
  v1::PolicyState state_;
  // Metrics of the current members, by trial id (filled with draw_lambdas
  // only: nothing else reads them).
  absl::flat_hash_map<int64_t, v1::Metrics> metrics_;
  // ArchitectureHash of every observed trial's architecture.
  absl::flat_hash_set<std::string> learnt_;
};

}  // namespace nas::controller

#endif  // NAS_CONTROLLER_POLICY_EVOLUTION_H_
