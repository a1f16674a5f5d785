#ifndef NAS_TESTS_CONTROLLER_QLEARNING_TEST_UTIL_H_
#define NAS_TESTS_CONTROLLER_QLEARNING_TEST_UTIL_H_

// Specs, trials and a search loop for the Q-learning policy's tests.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/architecture.h"
#include "common/datasets.h"
#include "common/devices.h"
#include "common/spec.h"
#include "common/status_macros.h"
#include "controller/policy/qlearning.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/controller/test_specs.h"
#include "tests/status_matchers.h"

namespace nas::testing {

// Q-learning settings on top of a completed spec (CompleteSearchSpec leaves
// the qlearning section to the policy when the YAML has none).
inline absl::StatusOr<v1::SearchSpec> QSpec(const std::string& yaml,
                                            const v1::QLearningSpec& q) {
  NAS_ASSIGN_OR_RETURN(v1::SearchSpec parsed, ParseSearchSpecYaml(yaml));
  NAS_ASSIGN_OR_RETURN(v1::SearchSpec spec,
                       CompleteSearchSpec(parsed, DefaultDataRoot()));
  spec.set_policy("qlearning");
  spec.mutable_qlearning()->MergeFrom(q);
  return spec;
}

inline absl::StatusOr<v1::SearchSpec> EcgQSpec(const v1::QLearningSpec& q = {},
                                               bool seed_architecture = false) {
  EcgSpecOptions options;
  options.seed_architecture = seed_architecture;
  options.max_trials = 24;
  return QSpec(EcgSpecYaml(options), q);
}

// A 2-D space with every kind of block, dense layers, dropout, "valid"
// padding, strides and two pools in a row.
inline absl::StatusOr<v1::SearchSpec> FashionQSpec(
    const v1::QLearningSpec& q = {}) {
  return QSpec(
      "name: fm\n"
      "dataset: {name: fashion-mnist, train_subset: 100, "
      "validation_subset: 50}\n"
      "device: stm32h743\n"
      "space:\n"
      "  layer_types: [CONV2D, DEPTHWISE_CONV2D, POINTWISE_CONV2D, MAXPOOL2D,"
      " AVGPOOL2D, GLOBAL_AVGPOOL]\n"
      "  channels: [4, 8, 16]\n"
      "  kernels: [3, 5, 7]\n"
      "  strides: [1, 2]\n"
      "  dense_units: [16, 32]\n"
      "  max_dense_layers: 2\n"
      "  min_layers: 2\n"
      "  max_layers: 6\n"
      "  batch_norm: true\n"
      "  dropout_rates: [0, 0.25]\n"
      "  padding: valid\n"
      "  max_consecutive_pooling: 2\n"
      "training: {epochs: 1}\n"
      "budget: {max_trials: 40}\n"
      "seed: 3\n",
      q);
}

inline v1::QLearningSpec Schedule(std::vector<std::pair<double, int>> steps) {
  v1::QLearningSpec q;
  for (const auto& [epsilon, models] : steps) {
    v1::EpsilonStep* step = q.add_epsilon_schedule();
    step->set_epsilon(epsilon);
    step->set_models(models);
  }
  return q;
}

inline v1::Trial MakeTrial(const v1::Architecture& arch, v1::TrialState state,
                           double reward) {
  v1::Trial trial;
  trial.set_state(state);
  *trial.mutable_architecture() = arch;
  trial.set_reward(reward);
  trial.mutable_metrics()->set_accuracy(reward);
  return trial;
}

inline v1::Architecture Arch(const std::string& text) {
  absl::StatusOr<v1::Architecture> arch = ParseArchitecture(text);
  EXPECT_THAT(arch, IsOk()) << text;
  return arch.ok() ? *arch : v1::Architecture();
}

// Prepare + Apply, as the scheduler does around the store's commit.
inline absl::StatusOr<std::optional<controller::PolicyWrite>> Observe(
    controller::QLearningSearch* policy, const v1::Trial& trial) {
  NAS_ASSIGN_OR_RETURN(std::optional<controller::PolicyWrite> write,
                       policy->PrepareObservation(trial));
  if (write.has_value()) {
    NAS_RETURN_IF_ERROR(policy->ApplyObservation(trial, *write));
  }
  return write;
}

// A reward that depends only on the architecture.
inline double PseudoReward(const v1::Architecture& arch) {
  return (std::hash<std::string>{}(ArchitectureToString(arch)) % 1000) / 1e3;
}

// The smallest network of the ECG space (batch_norm is on by default).
inline constexpr char kConvNet[] =
    "CONV1D(4,k3,s1,p1) BATCHNORM RELU LINEAR(5)";

inline bool HasMaxPool(const v1::Architecture& arch) {
  for (const v1::Layer& layer : arch.layers()) {
    if (layer.type() == v1::MAXPOOL1D || layer.type() == v1::MAXPOOL2D) {
      return true;
    }
  }
  return false;
}

// Everything the policy would show, including the whole Q-table.
inline std::string Snapshot(const controller::QLearningSearch& policy) {
  return policy.Describe(1 << 30).SerializeAsString();
}

inline std::vector<std::string> Texts(
    const std::vector<v1::Architecture>& archs) {
  std::vector<std::string> out;
  for (const v1::Architecture& a : archs) {
    out.push_back(ArchitectureToString(a));
  }
  return out;
}

// A policy for `spec` on its resolved device.
inline absl::StatusOr<std::unique_ptr<controller::QLearningSearch>> NewPolicy(
    const absl::StatusOr<v1::SearchSpec>& spec) {
  NAS_RETURN_IF_ERROR(spec.status());
  NAS_ASSIGN_OR_RETURN(v1::DeviceProfile device, ResolveDevice(*spec));
  return std::make_unique<controller::QLearningSearch>(*spec, device);
}

// Feeds `n` proposals back one batch at a time with rewards that depend on
// the architecture; every 7th is infeasible and every 11th failed. Returns
// the store's view: latest state, merged Q-table, observed trials.
inline controller::StoredPolicy RunSearch(controller::QLearningSearch* policy,
                                          int n, int batch) {
  controller::StoredPolicy stored;
  std::map<std::pair<std::string, std::string>, v1::QValue> table;
  for (int first = 0; first < n; first += batch) {
    absl::StatusOr<std::vector<v1::Architecture>> archs =
        policy->Propose({1, first}, batch);
    EXPECT_THAT(archs, IsOk());
    if (!archs.ok()) return stored;
    for (int i = 0; i < batch; ++i) {
      const int number = first + i;
      v1::TrialState state = number % 11 == 10 ? v1::TRIAL_FAILED
                             : number % 7 == 6 ? v1::TRIAL_INFEASIBLE
                                               : v1::TRIAL_SUCCEEDED;
      v1::Trial trial =
          MakeTrial((*archs)[i], state, PseudoReward((*archs)[i]));
      trial.set_number(number);
      absl::StatusOr<std::optional<controller::PolicyWrite>> write =
          Observe(policy, trial);
      EXPECT_THAT(write, IsOk());
      if (!write.ok() || !write->has_value()) continue;
      stored.state = (*write)->state;
      for (const v1::QValue& v : (*write)->q_values) {
        table[{v.state(), v.action()}] = v;
      }
      stored.observed.push_back(trial);
    }
  }
  for (const auto& [key, value] : table) stored.q_values.push_back(value);
  return stored;
}

}  // namespace nas::testing

#endif  // NAS_TESTS_CONTROLLER_QLEARNING_TEST_UTIL_H_
