#ifndef NAS_COMMON_POLICY_SPEC_H_
#define NAS_COMMON_POLICY_SPEC_H_

// Defaults and checks of the policy sections of a search spec (policy,
// qlearning, evolution). Pure functions, thread-safe; CompleteSearchSpec
// calls them, and the policies use the same defaults.

#include <string>
#include <vector>

#include "proto/nas.pb.h"

namespace nas {

inline constexpr int kMaxPopulation = 10000;
inline constexpr int kMaxReplayPerModel = 100000;

// MetaQNN's schedule shape scaled to `max_trials` models: 5/8 of them at
// epsilon 1.0, the rest in nine equal blocks at 0.9, 0.8, ..., 0.1 (each at
// least one model).
std::vector<v1::EpsilonStep> DefaultEpsilonSchedule(int max_trials);

// 1, 2, 4, ... up to the first power of two >= the input's largest spatial
// size (at least {1}).
std::vector<int32_t> DefaultSizeBins(const v1::TensorShape& input);

// P = clamp(max_trials / 4, 4, 100); S = clamp(P / 4, 2, 25).
int DefaultPopulation(int max_trials);
int DefaultSample(int population);

// Fills every unset field of the section the spec's policy uses
// (qlearning: learning_rate 0.01, discount 1, initial_q the middle of
// FeasibleRewardRange (0.5 for an accuracy reward),
// replay_per_model 128, the default schedule and size bins; evolution:
// population, sample, remove "oldest", mutation_rate 0.5). Needs the
// budget, and the data set's input shape for the size bins ({1} when the
// shape is unknown).
void FillPolicyDefaults(v1::SearchSpec* spec);

// Appends one line per problem: unknown policy, a section given for a
// policy that does not use it, values out of range ("qlearning.
// epsilon_schedule[2].epsilon: must be in [0, 1], got 1.5"), draw_lambdas
// without reward type "max".
void CheckPolicy(const v1::SearchSpec& completed_spec,
                 std::vector<std::string>* problems);

}  // namespace nas

#endif  // NAS_COMMON_POLICY_SPEC_H_
