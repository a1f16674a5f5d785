#include "controller/policy/mutations.h"

#include <map>
#include <random>
#include <set>
#include <string>

#include "common/architecture.h"
#include "common/blocks.h"
#include "common/search_space.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/controller/evolution_test_util.h"
#include "tests/status_matchers.h"

namespace nas::controller {
namespace {

using ::nas::testing::CompletedFromYaml;
using ::nas::testing::IsOk;
using ::nas::testing::IsSingleEdit;

constexpr int kParents = 150;

Mutator MutatorFor(const v1::SearchSpec& spec) {
  return Mutator(spec.space(), spec.dataset().input_shape(),
                 spec.dataset().num_classes());
}

BlockNetwork SampledParent(const v1::SearchSpec& spec, uint64_t seed) {
  std::mt19937_64 rng(seed);
  absl::StatusOr<v1::Architecture> arch =
      SampleArchitecture(spec.space(), spec.dataset().input_shape(),
                         spec.dataset().num_classes(), rng);
  EXPECT_THAT(arch, IsOk());
  absl::StatusOr<BlockNetwork> net = ToBlocks(*arch);
  EXPECT_THAT(net, IsOk()) << ArchitectureToString(*arch);
  // The sampler's networks are the space's: legal block by block.
  EXPECT_THAT(CheckBlocks(*net, spec.space(), spec.dataset().input_shape()),
              IsOk())
      << ArchitectureToString(*arch);
  return *net;
}

// Every kind, many sampled parents and draws: each child the kind produces
// is legal (CheckBlocks, InferShapes) and differs from its parent exactly as
// the kind says; every kind applies to some parent.
void CheckEveryKind(const v1::SearchSpec& spec) {
  const Mutator mutator = MutatorFor(spec);
  for (int k = 0; k < kNumMutationKinds; ++k) {
    const auto kind = static_cast<MutationKind>(k);
    int produced = 0;
    for (int p = 0; p < kParents; ++p) {
      const BlockNetwork parent = SampledParent(spec, 1000 + p);
      std::mt19937_64 rng(p * 31 + k);
      for (int draw = 0; draw < 3; ++draw) {
        std::optional<BlockNetwork> child =
            mutator.TryMutation(kind, parent, rng);
        if (!child.has_value()) continue;
        ++produced;
        const v1::Architecture arch = mutator.ToArchitecture(*child);
        ASSERT_THAT(
            CheckBlocks(*child, spec.space(), spec.dataset().input_shape()),
            IsOk())
            << MutationKindName(kind) << ": " << ArchitectureToString(arch);
        ASSERT_THAT(InferShapes(arch, spec.dataset().input_shape(),
                                spec.dataset().num_classes()),
                    IsOk());
        ASSERT_TRUE(IsSingleEdit(kind, parent, *child))
            << MutationKindName(kind) << ": "
            << ArchitectureToString(mutator.ToArchitecture(parent)) << " -> "
            << ArchitectureToString(arch);
      }
    }
    EXPECT_GT(produced, 0) << MutationKindName(kind) << " never applied";
  }
}

TEST(MutationTest, EveryKindIsLegalAndExact1d) {
  NAS_ASSERT_OK_AND_ASSIGN(const v1::SearchSpec spec,
                           CompletedFromYaml(testing::Rich1dSpecYaml(40, "")));
  CheckEveryKind(spec);
}

TEST(MutationTest, EveryKindIsLegalAndExact2d) {
  NAS_ASSERT_OK_AND_ASSIGN(const v1::SearchSpec spec,
                           CompletedFromYaml(testing::Rich2dSpecYaml(40, "")));
  CheckEveryKind(spec);
}

TEST(MutationTest, MutateGivesALegalDifferentChildAndUsesEveryKind) {
  NAS_ASSERT_OK_AND_ASSIGN(const v1::SearchSpec spec,
                           CompletedFromYaml(testing::Rich2dSpecYaml(40, "")));
  const Mutator mutator = MutatorFor(spec);
  std::map<MutationKind, int> kinds;
  for (int p = 0; p < kParents; ++p) {
    const v1::Architecture parent =
        mutator.ToArchitecture(SampledParent(spec, 77 + p));
    std::mt19937_64 rng(p);
    NAS_ASSERT_OK_AND_ASSIGN(const Mutation m, mutator.Mutate(parent, rng));
    ++kinds[m.kind];
    EXPECT_NE(m.kind, MutationKind::kResample);
    EXPECT_NE(ArchitectureToString(m.child), ArchitectureToString(parent));
    NAS_ASSERT_OK_AND_ASSIGN(const BlockNetwork child, ToBlocks(m.child));
    EXPECT_TRUE(mutator.IsLegal(child)) << ArchitectureToString(m.child);
    NAS_ASSERT_OK_AND_ASSIGN(const BlockNetwork before, ToBlocks(parent));
    EXPECT_TRUE(IsSingleEdit(m.kind, before, child))
        << MutationKindName(m.kind);
  }
  EXPECT_EQ(kinds.size(), static_cast<size_t>(kNumMutationKinds));
}

TEST(MutationTest, SameRngGivesSameChild) {
  NAS_ASSERT_OK_AND_ASSIGN(const v1::SearchSpec spec,
                           CompletedFromYaml(testing::Rich1dSpecYaml(40, "")));
  const Mutator mutator = MutatorFor(spec);
  const v1::Architecture parent =
      mutator.ToArchitecture(SampledParent(spec, 3));
  for (uint64_t seed = 0; seed < 20; ++seed) {
    std::mt19937_64 a(seed);
    std::mt19937_64 b(seed);
    NAS_ASSERT_OK_AND_ASSIGN(const Mutation first, mutator.Mutate(parent, a));
    NAS_ASSERT_OK_AND_ASSIGN(const Mutation second, mutator.Mutate(parent, b));
    EXPECT_EQ(first.kind, second.kind);
    EXPECT_EQ(ArchitectureToString(first.child),
              ArchitectureToString(second.child));
  }
}

TEST(MutationTest, ParentOutsideTheBlockShapeGetsAFreshSample) {
  NAS_ASSERT_OK_AND_ASSIGN(const v1::SearchSpec spec,
                           CompletedFromYaml(testing::Rich1dSpecYaml(40, "")));
  const Mutator mutator = MutatorFor(spec);
  NAS_ASSERT_OK_AND_ASSIGN(
      const v1::Architecture parent,
      ParseArchitecture("CONV1D(4,k3,s1,p1) RELU FLATTEN LINEAR(5)"));
  ASSERT_FALSE(ToBlocks(parent).ok());
  std::mt19937_64 rng(9);
  NAS_ASSERT_OK_AND_ASSIGN(const Mutation m, mutator.Mutate(parent, rng));
  EXPECT_EQ(m.kind, MutationKind::kResample);
  std::mt19937_64 same(9);
  NAS_ASSERT_OK_AND_ASSIGN(
      const v1::Architecture sample,
      SampleArchitecture(spec.space(), spec.dataset().input_shape(),
                         spec.dataset().num_classes(), same));
  EXPECT_EQ(ArchitectureToString(m.child), ArchitectureToString(sample));
}

TEST(MutationTest, NetworkWithNoLegalEditFallsBackToASample) {
  // One conv type, channel, kernel and stride, exactly one feature block, no
  // dense layers or dropout: the space holds a single network, which no
  // edit can change.
  NAS_ASSERT_OK_AND_ASSIGN(
      const v1::SearchSpec spec,
      CompletedFromYaml("dataset: {name: ecg5000}\n"
                        "device: nrf52840\n"
                        "space: {layer_types: [CONV1D], channels: [4], "
                        "kernels: [3], min_layers: 1, max_layers: 1}\n"
                        "budget: {max_trials: 4}\n"));
  const Mutator mutator = MutatorFor(spec);
  const BlockNetwork only = SampledParent(spec, 1);
  std::mt19937_64 rng(4);
  for (int k = 0; k < kNumMutationKinds; ++k) {
    EXPECT_FALSE(mutator.TryMutation(static_cast<MutationKind>(k), only, rng))
        << MutationKindName(static_cast<MutationKind>(k));
  }
  NAS_ASSERT_OK_AND_ASSIGN(const Mutation m,
                           mutator.Mutate(mutator.ToArchitecture(only), rng));
  EXPECT_EQ(m.kind, MutationKind::kResample);
  EXPECT_EQ(ArchitectureToString(m.child),
            ArchitectureToString(mutator.ToArchitecture(only)));
}

TEST(MutationTest, KindNamesAreDistinct) {
  std::set<std::string> names;
  for (int k = 0; k <= kNumMutationKinds; ++k) {
    names.insert(std::string(MutationKindName(static_cast<MutationKind>(k))));
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(kNumMutationKinds + 1));
  EXPECT_EQ(MutationKindName(MutationKind::kResample), "resample");
}

}  // namespace
}  // namespace nas::controller
