#include "controller/policy/qlearning.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/architecture.h"
#include "common/policy_spec.h"
#include "common/search_space.h"
#include "common/status_macros.h"
#include "google/protobuf/util/message_differencer.h"

namespace nas::controller {
namespace {

constexpr char kPolicyName[] = "qlearning";

// The spec with every qlearning default filled (a spec that did not go
// through CompleteSearchSpec still works).
v1::SearchSpec WithQLearningDefaults(v1::SearchSpec spec) {
  spec.set_policy(kPolicyName);
  FillPolicyDefaults(&spec);
  return spec;
}

bool IsFeasibleResult(const v1::Trial& trial) {
  return trial.state() == v1::TRIAL_SUCCEEDED ||
         trial.state() == v1::TRIAL_CACHED;
}

}  // namespace

QLearningSearch::QLearningSearch(const v1::SearchSpec& completed_spec,
                                 const v1::DeviceProfile& device)
    : spec_(WithQLearningDefaults(completed_spec)),
      device_(device),
      states_(spec_.space(), spec_.dataset().input_shape(),
              {spec_.qlearning().size_bins().begin(),
               spec_.qlearning().size_bins().end()}),
      schedule_(spec_.qlearning().epsilon_schedule().begin(),
                spec_.qlearning().epsilon_schedule().end()),
      alpha_(spec_.qlearning().learning_rate()),
      gamma_(spec_.qlearning().discount()),
      initial_q_(spec_.qlearning().initial_q()),
      replay_per_model_(std::max(0, spec_.qlearning().replay_per_model())) {}

absl::StatusOr<std::vector<v1::Architecture>> QLearningSearch::Propose(
    const ProposalContext& context, int count) {
  return ProposeEach(spec_, context, count, [this](std::mt19937_64& rng) {
    return ProposeFresh(rng);
  });
}

absl::StatusOr<v1::Architecture> QLearningSearch::ProposeFresh(
    std::mt19937_64& rng) const {
  const double epsilon = EpsilonAt(models_);
  QPosition position = states_.Start();
  BlockNetwork net;
  for (;;) {
    NAS_ASSIGN_OR_RETURN(QDecision decision, Choose(position, epsilon, rng));
    AddDecision(decision, &net);
    if (decision.kind == QDecision::Kind::kTerminate) break;
    NAS_ASSIGN_OR_RETURN(position, states_.Next(position, decision));
  }
  return FromBlocks(net, spec_.space(), spec_.dataset().num_classes());
}

absl::StatusOr<QDecision> QLearningSearch::Choose(const QPosition& position,
                                                  double epsilon,
                                                  std::mt19937_64& rng) const {
  std::vector<QDecision> legal = states_.LegalDecisions(position);
  if (legal.empty()) {  // The state space guarantees TERMINATE or a block.
    return absl::InternalError(
        absl::StrCat("no legal action in state ", states_.StateKey(position)));
  }
  if (UniformUnit(rng) < epsilon) {
    return std::move(legal[UniformIndex(rng, legal.size())]);
  }
  const std::string state = states_.StateKey(position);
  std::vector<size_t> best;
  double best_q = 0;
  for (size_t i = 0; i < legal.size(); ++i) {
    const double q = table_.Value(state, legal[i].action, initial_q_);
    if (best.empty() || q > best_q) {
      best = {i};
      best_q = q;
    } else if (q == best_q) {
      best.push_back(i);
    }
  }
  return std::move(legal[best[UniformIndex(rng, best.size())]]);
}

std::optional<std::vector<QStep>> QLearningSearch::LearnableTrajectory(
    const v1::Architecture& arch) const {
  absl::StatusOr<BlockNetwork> net = ToBlocks(arch);
  if (!net.ok()) return std::nullopt;
  // ToBlocks ignores what blocks do not carry (padding, BATCHNORM, the
  // activation): learn only from the very network the blocks stand for.
  const v1::Architecture rebuilt =
      FromBlocks(*net, spec_.space(), spec_.dataset().num_classes());
  if (!google::protobuf::util::MessageDifferencer::Equals(
          rebuilt, CanonicalArchitecture(arch))) {
    return std::nullopt;
  }
  absl::StatusOr<std::vector<QStep>> trajectory = states_.Trajectory(*net);
  if (!trajectory.ok()) return std::nullopt;
  return *std::move(trajectory);
}

void QLearningSearch::UpdateAlong(const std::vector<QStep>& trajectory,
                                  double reward, QTableOverlay* overlay) const {
  for (size_t t = trajectory.size(); t-- > 0;) {
    const double target =
        t + 1 == trajectory.size()
            ? reward
            : gamma_ * overlay->MaxValue(trajectory[t + 1].state,
                                         trajectory[t + 1].legal);
    overlay->Update(trajectory[t].state, trajectory[t].action, target, alpha_);
  }
}

absl::StatusOr<std::optional<PolicyWrite>> QLearningSearch::PrepareObservation(
    const v1::Trial& trial) const {
  const std::optional<double> reward = LearningReward(trial, spec_, device_);
  if (!reward.has_value()) return std::nullopt;
  PolicyWrite write;
  write.observed_seq = observed_ + 1;
  QTableOverlay overlay(&table_, initial_q_);
  const std::optional<std::vector<QStep>> trajectory =
      LearnableTrajectory(trial.architecture());
  if (trajectory.has_value()) {
    UpdateAlong(*trajectory, *reward, &overlay);
    std::mt19937_64 rng(DeriveSeed(spec_.seed() ^ kReplayStream,
                                   static_cast<uint64_t>(write.observed_seq)));
    const uint64_t memory_size = memory_.size() + 1;  // This one included.
    for (int k = 0; k < replay_per_model_; ++k) {
      const uint64_t j = UniformIndex(rng, memory_size);
      if (j == memory_.size()) {
        UpdateAlong(*trajectory, *reward, &overlay);
      } else {
        UpdateAlong(memory_[j].trajectory, memory_[j].reward, &overlay);
      }
    }
  }
  write.state =
      StateWith(write.observed_seq, models_ + (IsFeasibleResult(trial) ? 1 : 0),
                overlay.size())
          .SerializeAsString();
  write.q_values = overlay.Changes();
  return write;
}

absl::Status QLearningSearch::ApplyObservation(const v1::Trial& trial,
                                               const PolicyWrite& write) {
  if (write.observed_seq != observed_ + 1) {
    return absl::FailedPreconditionError(
        absl::StrCat("observation ", write.observed_seq, " applied after ",
                     observed_, " (expected ", observed_ + 1, ")"));
  }
  v1::PolicyState state;
  if (!state.ParseFromString(write.state)) {
    return absl::InvalidArgumentError("policy state does not parse");
  }
  for (const v1::QValue& value : write.q_values) {
    table_.Set(value.state(), value.action(), {value.q(), value.updates()});
  }
  Remember(trial);
  observed_ = state.observed();
  models_ = state.models();
  return absl::OkStatus();
}

void QLearningSearch::Remember(const v1::Trial& trial) {
  const std::optional<double> reward = LearningReward(trial, spec_, device_);
  if (!reward.has_value()) return;
  std::optional<std::vector<QStep>> trajectory =
      LearnableTrajectory(trial.architecture());
  if (!trajectory.has_value()) return;
  memory_.push_back({*std::move(trajectory), *reward});
}

absl::Status QLearningSearch::Restore(const StoredPolicy& stored) {
  v1::PolicyState state;
  if (!stored.state.empty()) {
    if (!state.ParseFromString(stored.state) || state.policy() != kPolicyName) {
      return absl::DataLossError(
          "stored policy state is not a qlearning "
          "state");
    }
  }
  if (state.observed() != static_cast<int64_t>(stored.observed.size()) ||
      state.q_entries() != static_cast<int64_t>(stored.q_values.size())) {
    return absl::DataLossError(
        absl::StrCat("stored policy state counts ", state.observed(),
                     " observed trials "
                     "and ",
                     state.q_entries(), " Q entries; the store holds ",
                     stored.observed.size(), " and ", stored.q_values.size()));
  }
  for (const v1::Trial& trial : stored.observed) {
    if (!LearningReward(trial, spec_, device_).has_value()) {
      return absl::DataLossError(absl::StrCat(
          "trial ", trial.number(), " is observed but has no reward (",
          v1::TrialState_Name(trial.state()), ")"));
    }
  }
  table_.Clear();
  for (const v1::QValue& value : stored.q_values) {
    table_.Set(value.state(), value.action(), {value.q(), value.updates()});
  }
  memory_.clear();
  for (const v1::Trial& trial : stored.observed) Remember(trial);
  observed_ = state.observed();
  models_ = state.models();
  return absl::OkStatus();
}

double QLearningSearch::EpsilonAt(int64_t models) const {
  int64_t end = 0;
  for (const v1::EpsilonStep& step : schedule_) {
    end += step.models();
    if (models < end) return step.epsilon();
  }
  return schedule_.empty() ? 1.0 : schedule_.back().epsilon();
}

v1::PolicyState QLearningSearch::StateWith(int64_t observed, int64_t models,
                                           int64_t q_entries) const {
  v1::PolicyState state;
  state.set_policy(kPolicyName);
  state.set_observed(observed);
  state.set_models(models);
  state.set_epsilon(EpsilonAt(models));
  state.set_q_entries(q_entries);
  return state;
}

v1::PolicyState QLearningSearch::Describe(int top_q) const {
  v1::PolicyState state = StateWith(observed_, models_, table_.size());
  for (v1::QValue& value : table_.Top(top_q)) {
    *state.add_q_top() = std::move(value);
  }
  return state;
}

}  // namespace nas::controller
