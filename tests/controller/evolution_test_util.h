#ifndef NAS_TESTS_CONTROLLER_EVOLUTION_TEST_UTIL_H_
#define NAS_TESTS_CONTROLLER_EVOLUTION_TEST_UTIL_H_

// Search specs with rich spaces (1-D on ECG5000, 2-D on Fashion-MNIST), a
// check of what a single mutation changed, and a harness that feeds a policy
// trials: shared by the evolution and mutation tests.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/architecture.h"
#include "common/blocks.h"
#include "common/datasets.h"
#include "common/devices.h"
#include "common/spec.h"
#include "common/status_macros.h"
#include "controller/policy/evolution.h"
#include "controller/policy/mutations.h"
#include "gtest/gtest.h"

namespace nas::testing {

// Conv1D/depthwise/pooling/GAP space on ECG5000 ({1,140}, 5 classes).
inline std::string Rich1dSpecYaml(int max_trials, const std::string& extra) {
  return absl::StrCat(
      "name: evo-1d\n"
      "dataset: {name: ecg5000, train_subset: 200, validation_subset: 100}\n"
      "device: nrf52840\n"
      "space:\n"
      "  layer_types: [CONV1D, DEPTHWISE_CONV1D, MAXPOOL1D, AVGPOOL1D,"
      " GLOBAL_AVGPOOL]\n"
      "  channels: [4, 8, 16]\n"
      "  kernels: [3, 5, 7]\n"
      "  strides: [1, 2]\n"
      "  dense_units: [16, 32, 64]\n"
      "  max_dense_layers: 2\n"
      "  dropout_rates: [0, 0.2, 0.5]\n"
      "  min_layers: 1\n"
      "  max_layers: 6\n"
      "  batch_norm: true\n"
      "  max_consecutive_pooling: 2\n"
      "training: {epochs: 1, batch_size: 32}\n"
      "budget: {max_trials: ",
      max_trials, "}\nseed: 11\n", extra);
}

// Conv2D/depthwise/pointwise/pooling/GAP space with "valid" padding on
// Fashion-MNIST ({1,28,28}, 10 classes): kernels and strides change the
// shapes the later blocks see.
inline std::string Rich2dSpecYaml(int max_trials, const std::string& extra) {
  return absl::StrCat(
      "name: evo-2d\n"
      "dataset: {name: fashion-mnist, train_subset: 200}\n"
      "device: stm32h743\n"
      "space:\n"
      "  layer_types: [CONV2D, DEPTHWISE_CONV2D, POINTWISE_CONV2D, MAXPOOL2D,"
      " AVGPOOL2D, GLOBAL_AVGPOOL]\n"
      "  channels: [8, 16, 32]\n"
      "  kernels: [3, 5]\n"
      "  strides: [1, 2]\n"
      "  dense_units: [32, 64]\n"
      "  max_dense_layers: 1\n"
      "  dropout_rates: [0, 0.25]\n"
      "  padding: valid\n"
      "  min_layers: 2\n"
      "  max_layers: 5\n"
      "training: {epochs: 1, batch_size: 32}\n"
      "budget: {max_trials: ",
      max_trials, "}\nseed: 5\n", extra);
}

inline absl::StatusOr<v1::SearchSpec> CompletedFromYaml(
    const std::string& yaml) {
  NAS_ASSIGN_OR_RETURN(v1::SearchSpec parsed, ParseSearchSpecYaml(yaml));
  return CompleteSearchSpec(parsed, DefaultDataRoot());
}

template <typename T>
int Differences(const std::vector<T>& a, const std::vector<T>& b) {
  int n = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) n += a[i] != b[i];
  return n;
}

// Whether removing one element of `longer` that satisfies `pred` gives
// `shorter`.
template <typename T, typename Pred>
bool OneRemovedGives(const std::vector<T>& longer,
                     const std::vector<T>& shorter, Pred pred) {
  if (longer.size() != shorter.size() + 1) return false;
  for (size_t i = 0; i < longer.size(); ++i) {
    std::vector<T> rest = longer;
    rest.erase(rest.begin() + i);
    if (rest == shorter && pred(longer[i])) return true;
  }
  return false;
}

inline bool IsPoolBlock(const FeatureBlock& b) {
  return IsPoolingLayer(b.type) || b.type == v1::GLOBAL_AVGPOOL;
}
inline bool IsConvBlock(const FeatureBlock& b) { return IsConvLayer(b.type); }

// The one feature block that differs, or nullptr when not exactly one does.
inline const FeatureBlock* OnlyChangedBlock(const BlockNetwork& a,
                                            const BlockNetwork& b) {
  if (a.features.size() != b.features.size() ||
      Differences(a.features, b.features) != 1 || a.dense != b.dense ||
      a.dropout != b.dropout) {
    return nullptr;
  }
  for (size_t i = 0; i < a.features.size(); ++i) {
    if (a.features[i] != b.features[i]) return &a.features[i];
  }
  return nullptr;
}

// Whether `child` is `parent` changed exactly as an edit of `kind` changes
// a network, and in nothing else.
inline bool IsSingleEdit(controller::MutationKind kind,
                         const BlockNetwork& parent,
                         const BlockNetwork& child) {
  using controller::MutationKind;
  const bool same_features = parent.features == child.features;
  const bool same_head =
      parent.dense == child.dense && parent.dropout == child.dropout;
  const FeatureBlock* from = OnlyChangedBlock(parent, child);
  const FeatureBlock* to = OnlyChangedBlock(child, parent);
  switch (kind) {
    case MutationKind::kAddConv:
      return same_head &&
             OneRemovedGives(child.features, parent.features, IsConvBlock);
    case MutationKind::kRemoveConv:
      return same_head &&
             OneRemovedGives(parent.features, child.features, IsConvBlock);
    case MutationKind::kInsertPooling:
      return same_head &&
             OneRemovedGives(child.features, parent.features, IsPoolBlock);
    case MutationKind::kRemovePooling:
      return same_head &&
             OneRemovedGives(parent.features, child.features, IsPoolBlock);
    case MutationKind::kChangeType:
      return from && from->type != to->type &&
             IsConvBlock(*from) == IsConvBlock(*to);
    case MutationKind::kChangeChannels:
      return from && from->type == to->type && from->kernel == to->kernel &&
             from->stride == to->stride;
    case MutationKind::kChangeKernel:
      return from && from->type == to->type && from->out == to->out &&
             from->stride == to->stride;
    case MutationKind::kChangeStride:
      return from && from->type == to->type && from->out == to->out &&
             from->kernel == to->kernel;
    case MutationKind::kChangeDenseWidth:
      return same_features && parent.dropout == child.dropout &&
             parent.dense.size() == child.dense.size() &&
             Differences(parent.dense, child.dense) == 1;
    case MutationKind::kAddDense:
      return same_features && parent.dropout == child.dropout &&
             OneRemovedGives(child.dense, parent.dense,
                             [](int32_t) { return true; });
    case MutationKind::kRemoveDense:
      return same_features && parent.dropout == child.dropout &&
             OneRemovedGives(parent.dense, child.dense,
                             [](int32_t) { return true; });
    case MutationKind::kChangeDropout:
      return same_features && parent.dense == child.dense &&
             parent.dropout != child.dropout;
    case MutationKind::kResample:
      return false;
  }
  return false;
}

// Whether `child` is one edit (of any kind) away from `parent`.
inline bool IsAnySingleEdit(const v1::Architecture& parent,
                            const v1::Architecture& child) {
  absl::StatusOr<BlockNetwork> p = ToBlocks(parent);
  absl::StatusOr<BlockNetwork> c = ToBlocks(child);
  if (!p.ok() || !c.ok()) return false;
  for (int k = 0; k < controller::kNumMutationKinds; ++k) {
    if (IsSingleEdit(static_cast<controller::MutationKind>(k), *p, *c)) {
      return true;
    }
  }
  return false;
}

// Policy harness: a policy fed trials as the store would feed them.
//
// A completed 1-D spec with policy evolution; `extra` is appended YAML.
inline absl::StatusOr<v1::SearchSpec> EvoSpec(int max_trials,
                                              const std::string& extra = "") {
  return CompletedFromYaml(
      Rich1dSpecYaml(max_trials, absl::StrCat("policy: evolution\n", extra)));
}

inline std::unique_ptr<controller::EvolutionSearch> NewSearch(
    const v1::SearchSpec& spec) {
  absl::StatusOr<v1::DeviceProfile> device = ResolveDevice(spec);
  EXPECT_TRUE(device.ok()) << device.status();
  return std::make_unique<controller::EvolutionSearch>(spec, *device);
}

inline v1::Trial Result(int64_t id, const v1::Architecture& arch, double reward,
                        v1::TrialState state = v1::TRIAL_SUCCEEDED) {
  v1::Trial trial;
  trial.set_id(id);
  trial.set_number(static_cast<int32_t>(id - 1));
  trial.set_state(state);
  *trial.mutable_architecture() = arch;
  trial.set_reward(reward);
  trial.mutable_metrics()->set_accuracy(reward);
  return trial;
}

// Prepare + Apply, as the store does around its transaction.
inline std::optional<controller::PolicyWrite> Observe(
    controller::SearchStrategy& search, const v1::Trial& trial) {
  absl::StatusOr<std::optional<controller::PolicyWrite>> write =
      search.PrepareObservation(trial);
  EXPECT_TRUE(write.ok()) << write.status();
  if (!write.ok()) return std::nullopt;
  if (write->has_value()) {
    const absl::Status applied = search.ApplyObservation(trial, **write);
    EXPECT_TRUE(applied.ok()) << applied;
  }
  return *write;
}

inline std::vector<std::string> Texts(
    const std::vector<v1::Architecture>& archs) {
  std::vector<std::string> out;
  for (const v1::Architecture& a : archs)
    out.push_back(ArchitectureToString(a));
  return out;
}

inline std::string StateBytes(const controller::SearchStrategy& search) {
  return search.Describe(0).SerializeAsString();
}

}  // namespace nas::testing

#endif  // NAS_TESTS_CONTROLLER_EVOLUTION_TEST_UTIL_H_
