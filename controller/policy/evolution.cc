#include "controller/policy/evolution.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/architecture.h"
#include "common/policy_spec.h"
#include "common/reward.h"
#include "common/search_space.h"
#include "common/status_macros.h"

namespace nas::controller {
namespace {

constexpr char kPolicy[] = "evolution";

// The spec with every evolution default filled (a spec that did not go
// through CompleteSearchSpec still works).
v1::SearchSpec WithEvolutionDefaults(v1::SearchSpec spec) {
  spec.set_policy(kPolicy);
  FillPolicyDefaults(&spec);
  return spec;
}

// Uniform in (0, 1]: a lambda is never 0.
double PositiveUnit(std::mt19937_64& rng) { return 1.0 - UniformUnit(rng); }

// The member that leaves a population over its size: the oldest (smallest
// born) or, with `worst`, the least fit (ties: the oldest).
int Victim(const v1::PolicyState& state, bool worst) {
  int victim = 0;
  for (int i = 1; i < state.population_size(); ++i) {
    const v1::PopulationMember& m = state.population(i);
    const v1::PopulationMember& v = state.population(victim);
    const bool older = m.born() < v.born();
    const bool less_fit = m.fitness() < v.fitness();
    const bool as_fit = m.fitness() == v.fitness();
    if (worst ? less_fit || (as_fit && older) : older) victim = i;
  }
  return victim;
}

}  // namespace

EvolutionSearch::EvolutionSearch(const v1::SearchSpec& completed_spec,
                                 const v1::DeviceProfile& device)
    : spec_(WithEvolutionDefaults(completed_spec)),
      device_(device),
      mutator_(spec_.space(), spec_.dataset().input_shape(),
               spec_.dataset().num_classes()),
      population_size_(spec_.evolution().population()),
      sample_size_(spec_.evolution().sample()),
      removes_worst_(spec_.evolution().remove() == "worst"),
      mutation_rate_(spec_.evolution().mutation_rate()),
      state_(FreshState()) {}

absl::StatusOr<std::vector<v1::Architecture>> EvolutionSearch::Propose(
    const ProposalContext& context, int count) {
  return ProposeEach(spec_, context, count, [this](std::mt19937_64& rng) {
    return ProposeFresh(rng);
  });
}

absl::StatusOr<std::optional<PolicyWrite>> EvolutionSearch::PrepareObservation(
    const v1::Trial& trial) const {
  const std::optional<double> fitness = LearningReward(trial, spec_, device_);
  if (!fitness.has_value()) return std::nullopt;
  v1::PolicyState next = state_;
  const int64_t seq = state_.observed() + 1;
  next.set_observed(seq);
  if (trial.state() != v1::TRIAL_INFEASIBLE) {
    next.set_models(next.models() + 1);
    v1::PopulationMember* member = next.add_population();
    member->set_trial_id(trial.id());
    *member->mutable_architecture() = trial.architecture();
    member->set_fitness(*fitness);
    member->set_born(seq);
    while (next.population_size() > population_size_) {
      next.mutable_population()->erase(next.population().begin() +
                                       Victim(next, removes_worst_));
    }
  }
  if (removes_worst_) next.set_mutation_rate(RateAfter(next.models()));
  PolicyWrite write;
  write.observed_seq = seq;
  next.SerializeToString(&write.state);
  return write;
}

absl::Status EvolutionSearch::ApplyObservation(const v1::Trial& trial,
                                               const PolicyWrite& write) {
  if (write.observed_seq != state_.observed() + 1) {
    return absl::FailedPreconditionError(absl::StrCat(
        "evolution: write for trial ", trial.id(), " is observation ",
        write.observed_seq, ", the next one is ", state_.observed() + 1));
  }
  v1::PolicyState next;
  if (!next.ParseFromString(write.state) || next.policy() != kPolicy ||
      next.observed() != write.observed_seq) {
    return absl::InvalidArgumentError(absl::StrCat(
        "evolution: write for trial ", trial.id(),
        " is not an evolution state at observation ", write.observed_seq));
  }
  state_ = std::move(next);
  if (DrawsLambdas()) {
    metrics_[trial.id()] = trial.metrics();
    DropFormerMembers();
  }
  learnt_.insert(ArchitectureHash(trial.architecture()));
  return absl::OkStatus();
}

absl::Status EvolutionSearch::Restore(const StoredPolicy& stored) {
  v1::PolicyState state = FreshState();
  if (!stored.state.empty() &&
      (!state.ParseFromString(stored.state) || state.policy() != kPolicy)) {
    return absl::DataLossError(
        "evolution: the stored policy state is not an evolution state");
  }
  absl::flat_hash_map<int64_t, v1::Metrics> metrics;
  absl::flat_hash_set<std::string> learnt;
  for (const v1::Trial& trial : stored.observed) {
    if (DrawsLambdas()) metrics[trial.id()] = trial.metrics();
    learnt.insert(ArchitectureHash(trial.architecture()));
  }
  for (const v1::PopulationMember& member : state.population()) {
    if (DrawsLambdas() && !metrics.contains(member.trial_id())) {
      return absl::DataLossError(absl::StrCat(
          "evolution: population member trial ", member.trial_id(),
          " is not among the observed trials (its metrics are needed to "
          "draw lambdas)"));
    }
  }
  state_ = std::move(state);
  metrics_ = std::move(metrics);
  learnt_ = std::move(learnt);
  if (DrawsLambdas()) DropFormerMembers();
  return absl::OkStatus();
}

v1::PolicyState EvolutionSearch::Describe(int /*top_q*/) const {
  v1::PolicyState out = state_;
  std::vector<v1::PopulationMember> members(state_.population().begin(),
                                            state_.population().end());
  std::stable_sort(
      members.begin(), members.end(),
      [](const v1::PopulationMember& a, const v1::PopulationMember& b) {
        if (a.fitness() != b.fitness()) {
          return a.fitness() > b.fitness();
        }
        return a.born() < b.born();
      });
  out.clear_population();
  for (v1::PopulationMember& m : members) {
    *out.add_population() = std::move(m);
  }
  return out;
}

absl::StatusOr<v1::Architecture> EvolutionSearch::ProposeFresh(
    std::mt19937_64& rng) const {
  NAS_ASSIGN_OR_RETURN(v1::Architecture arch, Draw(rng));
  for (int draw = 1;
       draw < kMaxDraws && learnt_.contains(ArchitectureHash(arch)); ++draw) {
    NAS_ASSIGN_OR_RETURN(arch, Draw(rng));
  }
  return arch;
}

absl::StatusOr<v1::Architecture> EvolutionSearch::Draw(
    std::mt19937_64& rng) const {
  if (state_.population_size() < population_size_) {
    return SampleArchitecture(spec_.space(), spec_.dataset().input_shape(),
                              spec_.dataset().num_classes(), rng);
  }
  return Evolve(rng);
}

absl::StatusOr<v1::Architecture> EvolutionSearch::Evolve(
    std::mt19937_64& rng) const {
  const int n = state_.population_size();
  std::vector<int> candidates;
  if (removes_worst_) {
    for (int i = 0; i < n; ++i) candidates.push_back(i);
  } else {
    for (int i = 0; i < sample_size_; ++i) {
      candidates.push_back(static_cast<int>(UniformIndex(rng, n)));
    }
  }
  NAS_ASSIGN_OR_RETURN(const int parent, Fittest(candidates, rng));
  NAS_ASSIGN_OR_RETURN(
      Mutation mutation,
      mutator_.Mutate(state_.population(parent).architecture(), rng));
  if (removes_worst_) {
    const double rate = state_.mutation_rate();
    for (int k = 0; k < kMaxExtraMutations && UniformUnit(rng) < rate; ++k) {
      NAS_ASSIGN_OR_RETURN(mutation, mutator_.Mutate(mutation.child, rng));
    }
  }
  return std::move(mutation.child);
}

absl::StatusOr<int> EvolutionSearch::Fittest(const std::vector<int>& candidates,
                                             std::mt19937_64& rng) const {
  std::vector<double> scores;
  if (DrawsLambdas()) {
    v1::RewardSpec drawn = spec_.reward();
    drawn.set_lambda_error(PositiveUnit(rng));
    drawn.set_lambda_flash(PositiveUnit(rng));
    drawn.set_lambda_sram(PositiveUnit(rng));
    drawn.set_lambda_macs(PositiveUnit(rng));
    for (int c : candidates) {
      const int64_t id = state_.population(c).trial_id();
      auto it = metrics_.find(id);
      if (it == metrics_.end()) {
        return absl::InternalError(absl::StrCat(
            "evolution: no metrics for population member trial ", id));
      }
      NAS_ASSIGN_OR_RETURN(
          double score,
          ComputeReward(drawn, it->second, device_, spec_.constraints()));
      scores.push_back(score);
    }
  } else {
    for (int c : candidates) scores.push_back(state_.population(c).fitness());
  }
  size_t best = 0;
  for (size_t i = 1; i < scores.size(); ++i) {
    if (scores[i] > scores[best]) best = i;
  }
  return candidates[best];
}

v1::PolicyState EvolutionSearch::FreshState() const {
  v1::PolicyState state;
  state.set_policy(kPolicy);
  if (removes_worst_) state.set_mutation_rate(RateAfter(0));
  return state;
}

double EvolutionSearch::RateAfter(int64_t models) const {
  const int64_t budget = spec_.budget().max_trials();
  if (budget <= 0) return mutation_rate_;
  const double left = 1.0 - static_cast<double>(models) / budget;
  return mutation_rate_ * std::max(0.0, left);
}

bool EvolutionSearch::DrawsLambdas() const {
  return spec_.reward().type() == "max" && spec_.reward().draw_lambdas();
}

void EvolutionSearch::DropFormerMembers() {
  absl::flat_hash_set<int64_t> members;
  for (const v1::PopulationMember& member : state_.population()) {
    members.insert(member.trial_id());
  }
  absl::erase_if(metrics_, [&members](const auto& entry) {
    return !members.contains(entry.first);
  });
}

}  // namespace nas::controller
