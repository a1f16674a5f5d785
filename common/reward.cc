#include "common/reward.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/cost_model.h"
#include "common/pareto.h"

namespace nas {
namespace {

// One resource: its usage, its limit (0 = unlimited) and its name.
struct Resource {
  const char* name;
  double usage;
  double limit;
};

std::vector<Resource> Resources(const v1::Metrics& m,
                                const EffectiveLimits& limits) {
  return {
      {"flash", static_cast<double>(m.flash_bytes()),
       static_cast<double>(limits.flash_bytes)},
      {"sram", static_cast<double>(SramUsage(m)),
       static_cast<double>(limits.sram_bytes)},
      {"macs", static_cast<double>(m.macs()), static_cast<double>(limits.macs)},
      {"latency", m.latency_ms_estimate(), limits.latency_ms}};
}

absl::StatusOr<double> Metric(const v1::RewardSpec& spec,
                              const v1::Metrics& m) {
  if (spec.metric().empty() || spec.metric() == "accuracy") return m.accuracy();
  if (spec.metric() == "macro_f1") return m.macro_f1();
  // A trial without int8 figures has no model that runs on the device: it
  // scores as a model that classifies nothing (its notes say why).
  if (spec.metric() == "accuracy_int8") return m.int8() ? m.accuracy_int8() : 0;
  if (spec.metric() == "macro_f1_int8") return m.int8() ? m.macro_f1_int8() : 0;
  return absl::InvalidArgumentError(
      absl::StrCat("reward.metric: unknown metric '", spec.metric(),
                   "' (accuracy, macro_f1, accuracy_int8 or macro_f1_int8)"));
}

absl::StatusOr<double> WeightedExp(const v1::RewardSpec& spec, double acc,
                                   const std::vector<Resource>& resources) {
  const double weights[] = {spec.weight_flash(), spec.weight_sram(),
                            spec.weight_macs(), spec.weight_latency()};
  const double exps[] = {spec.exp_flash(), spec.exp_sram(), spec.exp_macs(),
                         spec.exp_latency()};
  double sum = spec.weight_accuracy() * acc;
  double norm = std::abs(spec.weight_accuracy());
  for (size_t i = 0; i < resources.size(); ++i) {
    if (weights[i] == 0) continue;
    if (resources[i].limit <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("reward.weight_", resources[i].name, ": the ",
                       resources[i].name, " term needs a limit (constraints)"));
    }
    sum += weights[i] *
           std::exp(exps[i] * resources[i].usage / resources[i].limit);
    norm += std::abs(weights[i]);
  }
  if (norm == 0) {
    return absl::InvalidArgumentError(
        "reward: weighted_exp needs a non-zero weight");
  }
  return sum / norm;
}

absl::StatusOr<double> MaxReward(const v1::RewardSpec& spec, double acc,
                                 const std::vector<Resource>& resources) {
  const double lambdas[] = {spec.lambda_error(), spec.lambda_flash(),
                            spec.lambda_sram(), spec.lambda_macs()};
  for (double lambda : lambdas) {
    if (!(lambda > 0)) {
      return absl::InvalidArgumentError(
          "reward: every lambda must be > 0 for max");
    }
  }
  if (!(spec.error_bound() >= 0 && spec.error_bound() <= 1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "reward.error_bound: ", spec.error_bound(), " must be in [0, 1]"));
  }
  // muNAS: an error within the bound costs nothing.
  const double error = std::max(0.0, (1.0 - acc) - spec.error_bound());
  double worst = std::min(error, 10.0) / lambdas[0];
  // flash and sram always have a limit (the device's); macs whenever
  // constraints.max_macs sets one.
  for (size_t i = 0; i < 3; ++i) {
    if (resources[i].limit <= 0) continue;
    worst = std::max(worst,
                     std::min(resources[i].usage / resources[i].limit, 10.0) /
                         lambdas[i + 1]);
  }
  return -worst;
}

absl::StatusOr<double> Linear(const v1::RewardSpec& spec, double acc,
                              const std::vector<Resource>& resources) {
  if (!(spec.alpha() >= 0 && spec.alpha() <= 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("reward.alpha: ", spec.alpha(), " must be in [0, 1]"));
  }
  double cost = 0;
  int count = 0;
  for (const Resource& r : resources) {
    if (r.limit <= 0) continue;
    cost += r.usage / r.limit;
    ++count;
  }
  if (count > 0) cost /= count;
  return spec.alpha() * acc - (1 - spec.alpha()) * cost;
}

absl::StatusOr<double> Scalarise(const v1::RewardSpec& spec, double acc,
                                 const std::vector<Resource>& resources) {
  const std::string& type = spec.type();
  if (type.empty() || type == "accuracy") return acc;
  if (type == "weighted_exp") return WeightedExp(spec, acc, resources);
  if (type == "max") return MaxReward(spec, acc, resources);
  if (type == "linear") return Linear(spec, acc, resources);
  return absl::InvalidArgumentError(
      absl::StrCat("reward.type: unknown type '", type,
                   "' (accuracy, weighted_exp, max or linear)"));
}

}  // namespace

absl::StatusOr<double> ComputeReward(const v1::RewardSpec& spec,
                                     const v1::Metrics& metrics,
                                     const v1::DeviceProfile& device,
                                     const v1::Constraints& constraints) {
  absl::StatusOr<double> acc = Metric(spec, metrics);
  if (!acc.ok()) return acc.status();
  // Below a floor is a broken constraint: the network scores as an
  // infeasible candidate does (LearningReward), as one that classifies
  // nothing.
  if (!MeetsFloors(constraints.min_accuracy(), constraints.min_macro_f1(),
                   metrics)) {
    acc = 0.0;
  }
  return Scalarise(spec, *acc,
                   Resources(metrics, ComputeLimits(device, constraints)));
}

absl::StatusOr<RewardRange> FeasibleRewardRange(const v1::RewardSpec& spec,
                                                const v1::DeviceProfile& device,
                                                const v1::Constraints& constraints) {
  // Every scalarisation is monotone in ACC and in each usage on its own, so
  // its extremes over the feasible box are at the box's corners: ACC 0 or 1,
  // each limited usage 0 or its limit.
  std::vector<Resource> resources = Resources(v1::Metrics(), ComputeLimits(device, constraints));
  RewardRange range{INFINITY, -INFINITY};
  const size_t corners = size_t{1} << (resources.size() + 1);
  for (size_t corner = 0; corner < corners; ++corner) {
    for (size_t i = 0; i < resources.size(); ++i) {
      resources[i].usage = (corner >> (i + 1)) & 1 ? resources[i].limit : 0;
    }
    absl::StatusOr<double> reward = Scalarise(spec, corner & 1 ? 1.0 : 0.0, resources);
    if (!reward.ok()) return reward.status();
    range.low = std::min(range.low, *reward);
    range.high = std::max(range.high, *reward);
  }
  range.low += 0.0;  // -0 (max's best) shows as 0.
  range.high += 0.0;
  return range;
}

}  // namespace nas
