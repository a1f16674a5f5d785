#include "controller/policy/search_strategy.h"

#include "absl/strings/str_cat.h"
#include "common/devices.h"
#include "common/reward.h"
#include "common/status_macros.h"
#include "controller/policy/evolution.h"
#include "controller/policy/qlearning.h"
#include "controller/policy/random_search.h"

namespace nas::controller {
namespace {

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

uint64_t DeriveSeed(uint64_t seed, uint64_t index) {
  return SplitMix64(SplitMix64(seed) ^ index);
}

std::optional<double> LearningReward(const v1::Trial& trial,
                                     const v1::SearchSpec& completed_spec,
                                     const v1::DeviceProfile& device) {
  switch (trial.state()) {
    case v1::TRIAL_SUCCEEDED:
    case v1::TRIAL_CACHED:
      return trial.reward();
    case v1::TRIAL_INFEASIBLE: {
      v1::Metrics metrics = trial.metrics();
      metrics.set_accuracy(0);
      metrics.set_macro_f1(0);
      absl::StatusOr<double> reward =
          ComputeReward(completed_spec.reward(), metrics, device,
                        completed_spec.constraints());
      return reward.ok() ? *reward : 0.0;
    }
    default:
      return std::nullopt;
  }
}

absl::StatusOr<std::vector<v1::Architecture>> ProposeEach(
    const v1::SearchSpec& spec, const ProposalContext& context, int count,
    absl::FunctionRef<absl::StatusOr<v1::Architecture>(std::mt19937_64&)>
        fresh) {
  std::vector<v1::Architecture> out;
  out.reserve(count > 0 ? count : 0);
  for (int i = 0; i < count; ++i) {
    const int64_t index = context.first_index + i;
    if (index < spec.seed_architectures_size()) {
      out.push_back(spec.seed_architectures(static_cast<int>(index)));
      continue;
    }
    std::mt19937_64 rng(DeriveSeed(spec.seed(), static_cast<uint64_t>(index)));
    NAS_ASSIGN_OR_RETURN(v1::Architecture arch, fresh(rng));
    out.push_back(std::move(arch));
  }
  return out;
}

absl::StatusOr<std::unique_ptr<SearchStrategy>> CreateSearchStrategy(
    const v1::SearchSpec& completed_spec) {
  const std::string& policy = completed_spec.policy();
  if (policy == "random" || policy.empty()) {
    return std::make_unique<RandomSearch>(completed_spec);
  }
  if (policy == "qlearning" || policy == "evolution") {
    NAS_ASSIGN_OR_RETURN(v1::DeviceProfile device,
                         ResolveDevice(completed_spec));
    if (policy == "qlearning") {
      return std::make_unique<QLearningSearch>(completed_spec, device);
    }
    return std::make_unique<EvolutionSearch>(completed_spec, device);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("policy: '", policy,
                   "' is not available (available: random, qlearning, "
                   "evolution)"));
}

}  // namespace nas::controller
