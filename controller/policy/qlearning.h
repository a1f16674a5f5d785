#ifndef NAS_CONTROLLER_POLICY_QLEARNING_H_
#define NAS_CONTROLLER_POLICY_QLEARNING_H_

#include <cstdint>
#include <optional>
#include <random>
#include <vector>

#include "controller/policy/q_states.h"
#include "controller/policy/q_table.h"
#include "controller/policy/search_strategy.h"

namespace nas::controller {

// The tutorial's Algorithm 2 (RL NAS) after MetaQNN (Baker et al. 2017).
//
// A network is built by a trajectory of decisions: feature blocks one by
// one, then hidden dense widths, then TERMINATE carrying the dropout rate
// (states, actions and their legality: QStateSpace in q_states.h; keys such
// as state "d2 CONV1D c8 k3 s1 |64", action "MAXPOOL1D k2 s2").
//
// Proposing: position i < seed_architectures_size() proposes that seed
// architecture (warm start). Otherwise, with an RNG seeded from
// DeriveSeed(spec seed, i), every decision is epsilon-greedy: with
// probability epsilon a uniform legal action, else the legal action of
// highest Q (unseen pairs count as initial_q; ties broken uniformly with the
// same RNG). Epsilon comes from spec.qlearning().epsilon_schedule at the
// count of models observed so far (after the schedule its last epsilon
// stays); without a schedule, DefaultEpsilonSchedule(budget.max_trials).
// A batch of proposals all uses the current Q-table and epsilon.
//
// Learning from a final trial: reward r = LearningReward (failed and
// cancelled trials teach nothing: no write). `observed` counts every trial
// learnt from, `models` the feasible ones (SUCCEEDED and CACHED; an
// INFEASIBLE trial learns the zero-accuracy reward but does not move
// epsilon). The trajectory is that of ToBlocks(architecture); an
// architecture that is not exactly one the policy could build (a user's seed
// outside the space or the block shape) counts as observed but updates no
// Q entry and stays out of the replay memory. Otherwise the trajectory is
// updated in reverse: Q(s_T, a_T) <- (1-a)Q + a r for TERMINATE, then
// Q(s_t, a_t) <- (1-a)Q + a g max_a' Q(s_t+1, a') over the actions legal in
// s_t+1 (a = learning_rate, g = discount; defaults 0.01, 1, Q init 0.5).
// Then experience replay: replay_per_model (default 128) trajectories drawn
// uniformly with replacement from the replay memory (every learnable
// observed trajectory with its reward, this one included), updated the same
// way in draw order, with an RNG seeded from
// DeriveSeed(spec seed ^ kReplayStream, observation number).
//
// The replay memory is the observed trials in observation order, which the
// store keeps (observed_seq); the Q-table and counters are in the write. So
// Restore(stored) rebuilds exactly the state that feeding the same trials
// one by one builds, and a policy resumed that way proposes the same.
//
// Not thread-safe (see SearchStrategy). Holds copies of the spec and device.
class QLearningSearch : public SearchStrategy {
 public:
  // Seeds the replay RNG stream apart from the proposal stream.
  static constexpr uint64_t kReplayStream = 0x5245504c4159ULL;  // "REPLAY"

  QLearningSearch(const v1::SearchSpec& completed_spec,
                  const v1::DeviceProfile& device);

  absl::StatusOr<std::vector<v1::Architecture>> Propose(
      const ProposalContext& context, int count) override;
  absl::StatusOr<std::optional<PolicyWrite>> PrepareObservation(
      const v1::Trial& trial) const override;
  // FailedPrecondition when `write` is not the next observation;
  // InvalidArgument when its state does not parse.
  absl::Status ApplyObservation(const v1::Trial& trial,
                                const PolicyWrite& write) override;
  // kDataLoss when the state does not parse, is not a qlearning state, or
  // disagrees with the observed trials.
  absl::Status Restore(const StoredPolicy& stored) override;
  v1::PolicyState Describe(int top_q) const override;
  std::optional<double> Epsilon() const override { return EpsilonAt(models_); }

 private:
  // A learnable observed trial.
  struct Memory {
    std::vector<QStep> trajectory;
    double reward = 0;
  };

  // A proposal past the seed architectures (see ProposeEach).
  absl::StatusOr<v1::Architecture> ProposeFresh(std::mt19937_64& rng) const;
  absl::StatusOr<QDecision> Choose(const QPosition& position, double epsilon,
                                   std::mt19937_64& rng) const;
  // The trajectory of `arch`; nullopt when the policy could not build it.
  std::optional<std::vector<QStep>> LearnableTrajectory(
      const v1::Architecture& arch) const;
  void UpdateAlong(const std::vector<QStep>& trajectory, double reward,
                   QTableOverlay* overlay) const;
  double EpsilonAt(int64_t models) const;
  // The stored state (q_top empty) for these counters.
  v1::PolicyState StateWith(int64_t observed, int64_t models,
                            int64_t q_entries) const;
  void Remember(const v1::Trial& trial);

  const v1::SearchSpec spec_;
  const v1::DeviceProfile device_;
  const QStateSpace states_;
  const std::vector<v1::EpsilonStep> schedule_;
  const double alpha_;
  const double gamma_;
  const double initial_q_;
  const int replay_per_model_;

  QTable table_;
  std::vector<Memory> memory_;
  int64_t observed_ = 0;
  int64_t models_ = 0;
};

}  // namespace nas::controller

#endif  // NAS_CONTROLLER_POLICY_QLEARNING_H_
