#include "common/policy_spec.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/reward.h"

namespace nas {
namespace {

using Problems = std::vector<std::string>;

void Need(bool ok, const std::string& field, const std::string& rule,
          double got, Problems* p) {
  if (!ok) p->push_back(absl::StrCat(field, ": must be ", rule, ", got ", got));
}

void CheckQLearning(const v1::QLearningSpec& q, Problems* p) {
  for (int i = 0; i < q.epsilon_schedule_size(); ++i) {
    const v1::EpsilonStep& step = q.epsilon_schedule(i);
    const std::string field =
        absl::StrCat("qlearning.epsilon_schedule[", i, "]");
    Need(step.epsilon() >= 0 && step.epsilon() <= 1, field + ".epsilon",
         "in [0, 1]", step.epsilon(), p);
    Need(step.models() > 0, field + ".models", "> 0", step.models(), p);
  }
  Need(q.learning_rate() > 0 && q.learning_rate() <= 1,
       "qlearning.learning_rate", "in (0, 1]", q.learning_rate(), p);
  Need(q.discount() >= 0 && q.discount() <= 1, "qlearning.discount",
       "in [0, 1]", q.discount(), p);
  Need(std::isfinite(q.initial_q()), "qlearning.initial_q", "finite",
       q.initial_q(), p);
  Need(q.replay_per_model() >= 0 && q.replay_per_model() <= kMaxReplayPerModel,
       "qlearning.replay_per_model",
       absl::StrCat("in [0, ", kMaxReplayPerModel, "]"), q.replay_per_model(),
       p);
  for (int i = 0; i < q.size_bins_size(); ++i) {
    const bool rising = i == 0 || q.size_bins(i) > q.size_bins(i - 1);
    Need(q.size_bins(i) > 0 && rising,
         absl::StrCat("qlearning.size_bins[", i, "]"),
         "> 0 and larger than the bin before", q.size_bins(i), p);
  }
}

// initial_q must lie within the rewards a feasible network can get (a bad
// reward spec is reported by the reward's own checks).
void CheckInitialQ(const v1::SearchSpec& spec, Problems* p) {
  absl::StatusOr<RewardRange> range =
      FeasibleRewardRange(spec.reward(), spec.custom_device(), spec.constraints());
  const double q = spec.qlearning().initial_q();
  if (!range.ok() || !std::isfinite(q)) return;
  if (q < range->low || q > range->high) {
    p->push_back(absl::StrCat(
        "qlearning.initial_q: must be within the rewards a feasible network can get, [",
        range->low, ", ", range->high, "] for reward '",
        spec.reward().type().empty() ? "accuracy" : spec.reward().type(), "', got ", q,
        q > range->high ? " (above every reward, each untried action would look best and the "
                          "policy would walk at random)"
                        : " (below every reward)"));
  }
}

void CheckEvolution(const v1::EvolutionSpec& e, Problems* p) {
  Need(e.population() >= 2 && e.population() <= kMaxPopulation,
       "evolution.population", absl::StrCat("in [2, ", kMaxPopulation, "]"),
       e.population(), p);
  Need(e.sample() >= 1 && e.sample() <= std::max(1, e.population()),
       "evolution.sample", "in [1, population]", e.sample(), p);
  if (e.remove() != "oldest" && e.remove() != "worst") {
    p->push_back(absl::StrCat("evolution.remove: unknown value '", e.remove(),
                              "' (oldest or worst)"));
  }
  Need(e.mutation_rate() >= 0 && e.mutation_rate() <= 1,
       "evolution.mutation_rate", "in [0, 1]", e.mutation_rate(), p);
}

}  // namespace

std::vector<v1::EpsilonStep> DefaultEpsilonSchedule(int max_trials) {
  const int total = std::max(1, max_trials);
  const int first = std::max(1, (total * 5 + 4) / 8);
  const int rest = std::max(0, total - first);
  std::vector<v1::EpsilonStep> schedule;
  v1::EpsilonStep& head = schedule.emplace_back();
  head.set_epsilon(1.0);
  head.set_models(first);
  for (int i = 0; i < 9; ++i) {
    v1::EpsilonStep& step = schedule.emplace_back();
    step.set_epsilon((9 - i) / 10.0);
    step.set_models(std::max(1, rest / 9 + (i < rest % 9 ? 1 : 0)));
  }
  return schedule;
}

std::vector<int32_t> DefaultSizeBins(const v1::TensorShape& input) {
  int64_t largest = 1;
  for (int i = 1; i < input.dims_size(); ++i) {
    largest = std::max<int64_t>(largest, input.dims(i));
  }
  std::vector<int32_t> bins = {1};
  while (bins.back() < largest && bins.back() < (1 << 30)) {
    bins.push_back(bins.back() * 2);
  }
  return bins;
}

int DefaultPopulation(int max_trials) {
  return std::clamp(max_trials / 4, 4, 100);
}

int DefaultSample(int population) { return std::clamp(population / 4, 2, 25); }

void FillPolicyDefaults(v1::SearchSpec* spec) {
  const int budget = spec->budget().max_trials();
  if (spec->policy() == "qlearning") {
    v1::QLearningSpec* q = spec->mutable_qlearning();
    if (q->epsilon_schedule_size() == 0) {
      for (const v1::EpsilonStep& step : DefaultEpsilonSchedule(budget)) {
        *q->add_epsilon_schedule() = step;
      }
    }
    if (!q->has_learning_rate()) q->set_learning_rate(0.01);
    if (!q->has_discount()) q->set_discount(1.0);
    if (!q->has_initial_q()) {
      // The middle of what a feasible network can score: above it, every
      // untried action would look best and the greedy choice would walk at
      // random; 0.5 (MetaQNN's value) for an accuracy reward.
      absl::StatusOr<RewardRange> range =
          FeasibleRewardRange(spec->reward(), spec->custom_device(), spec->constraints());
      q->set_initial_q(range.ok() ? (range->low + range->high) / 2 : 0.5);
    }
    if (!q->has_replay_per_model()) q->set_replay_per_model(128);
    if (q->size_bins_size() == 0) {
      for (int32_t bin : DefaultSizeBins(spec->dataset().input_shape())) {
        q->add_size_bins(bin);
      }
    }
  } else if (spec->policy() == "evolution") {
    v1::EvolutionSpec* e = spec->mutable_evolution();
    if (!e->has_population()) e->set_population(DefaultPopulation(budget));
    if (!e->has_sample()) e->set_sample(DefaultSample(e->population()));
    if (e->remove().empty()) e->set_remove("oldest");
    if (!e->has_mutation_rate()) e->set_mutation_rate(0.5);
  }
}

void CheckPolicy(const v1::SearchSpec& spec, Problems* problems) {
  const std::string& policy = spec.policy();
  if (policy != "random" && policy != "qlearning" && policy != "evolution") {
    problems->push_back(absl::StrCat("policy: unknown policy '", policy,
                                     "' (random, qlearning or evolution)"));
  }
  if (spec.has_qlearning() && policy != "qlearning") {
    problems->push_back(absl::StrCat(
        "qlearning: given but the policy is '", policy, "'"));
  }
  if (spec.has_evolution() && policy != "evolution") {
    problems->push_back(absl::StrCat(
        "evolution: given but the policy is '", policy, "'"));
  }
  if (policy == "qlearning") {
    CheckQLearning(spec.qlearning(), problems);
    CheckInitialQ(spec, problems);
  }
  if (policy == "evolution") CheckEvolution(spec.evolution(), problems);
  if (spec.reward().draw_lambdas() && spec.reward().type() != "max") {
    problems->push_back(absl::StrCat(
        "reward.draw_lambdas: only for reward type 'max', not '",
        spec.reward().type(), "'"));
  }
}

}  // namespace nas
