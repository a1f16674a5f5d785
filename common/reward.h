#ifndef NAS_COMMON_REWARD_H_
#define NAS_COMMON_REWARD_H_

// Scalar rewards of a trained candidate (DESIGN.md "Reward and constraints").
// Pure functions, thread-safe. Higher is better.
//
// ACC is the spec's metric: accuracy or macro_f1 of the float model, or
// accuracy_int8 or macro_f1_int8 of the int8 model (0 for a trial that has
// no int8 figures: no model of it runs on the device). A network whose
// deployed figures are below constraints.min_accuracy or min_macro_f1
// breaks a constraint: its ACC is 0, as an infeasible candidate's is.
// Limits come from ComputeLimits(device, constraints); SRAM usage is
// SramUsage(metrics).
// - "accuracy" (default): ACC.
// - "weighted_exp" (Mukhopadhyay et al. 2023):
//     R = (Wa*ACC + sum_i Wi*exp(wi*Pi)) / (|Wa| + sum_i |Wi|),
//   i over flash, sram, macs, latency with Wi != 0, Pi = usage_i / limit_i.
// - "max" (muNAS): R = -max(e / lambda_error, max_i(min(x_i / bound_i, 10)
//   / lambda_i)), each term divided by its lambda (a larger lambda weighs
//   its term less), e = min(max(0, 1 - ACC - error_bound), 10); i over
//   flash, sram, and macs whenever constraints.max_macs bounds them.
// - "linear" (MONAS): R = alpha*ACC - (1-alpha)*cost, cost = mean of
//   usage/limit over flash, sram, and macs and latency when limited.

#include "absl/status/statusor.h"
#include "proto/nas.pb.h"

namespace nas {

// InvalidArgument for an unknown type or metric, a resource term without a
// limit (e.g. weight_macs with no constraints.max_macs), a lambda <= 0 or
// an error_bound outside [0, 1] for "max", or alpha outside [0, 1] for
// "linear". The spec should be completed
// (CompleteSearchSpec) so that defaults are filled.
absl::StatusOr<double> ComputeReward(const v1::RewardSpec& spec,
                                     const v1::Metrics& metrics,
                                     const v1::DeviceProfile& device,
                                     const v1::Constraints& constraints);

// The interval the reward of a feasible trained candidate lies in: ACC in
// [0, 1] and every limited usage within its limit (Pi in [0, 1]).
// "accuracy": [0, 1]; "linear": [-(1 - alpha), alpha] ([0, alpha] when
// nothing is limited); "max": [-max_k(largest term k), 0], the error term's
// largest being min(1 - error_bound, 10) / lambda_error and each limited
// resource's 1 / lambda_i; "weighted_exp": the sum of the terms' intervals
// over the norm. Infeasible candidates score below it. Q-learning's default
// initial_q is its midpoint (an initial_q above it would make every untried
// action the greedy choice). Errors as ComputeReward's for a bad spec.
struct RewardRange {
  double low = 0;
  double high = 0;
};
absl::StatusOr<RewardRange> FeasibleRewardRange(const v1::RewardSpec& spec,
                                                const v1::DeviceProfile& device,
                                                const v1::Constraints& constraints);

}  // namespace nas

#endif  // NAS_COMMON_REWARD_H_
