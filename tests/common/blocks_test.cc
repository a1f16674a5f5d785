#include "common/blocks.h"

#include <random>
#include <string>

#include "common/architecture.h"
#include "common/search_space.h"
#include "common/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"

namespace nas {
namespace {

using ::nas::testing::IsOk;
using ::nas::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

v1::SearchSpace EcgSpace() {
  v1::SearchSpace space;
  space.add_layer_types(v1::CONV1D);
  space.add_layer_types(v1::MAXPOOL1D);
  space.add_layer_types(v1::GLOBAL_AVGPOOL);
  space.add_channels(4);
  space.add_channels(8);
  space.add_kernels(3);
  space.add_kernels(5);
  space.add_strides(1);
  space.add_strides(2);
  space.add_dense_units(16);
  space.set_min_layers(1);
  space.set_max_layers(4);
  space.set_max_dense_layers(1);
  space.set_batch_norm(true);
  space.set_activation(v1::RELU);
  space.add_dropout_rates(0);
  space.add_dropout_rates(0.25f);
  space.set_padding("same");
  space.set_max_consecutive_pooling(1);
  return space;
}

std::string Text(const v1::Architecture& arch) {
  return ArchitectureToString(arch);
}

TEST(BlocksTest, RoundTripsSampledArchitectures) {
  const v1::SearchSpace space = EcgSpace();
  const v1::TensorShape input = MakeShape({1, 140});
  for (uint64_t seed = 0; seed < 200; ++seed) {
    std::mt19937_64 rng(seed);
    NAS_ASSERT_OK_AND_ASSIGN(v1::Architecture arch,
                             SampleArchitecture(space, input, 5, rng));
    NAS_ASSERT_OK_AND_ASSIGN(BlockNetwork net, ToBlocks(arch));
    EXPECT_EQ(Text(FromBlocks(net, space, 5)), Text(arch)) << "seed " << seed;
    EXPECT_THAT(CheckBlocks(net, space, input), IsOk()) << Text(arch);
  }
}

TEST(BlocksTest, ReadsEachPartOfTheNetwork) {
  NAS_ASSERT_OK_AND_ASSIGN(
      v1::Architecture arch,
      ParseArchitecture("CONV1D(8,k5,s2,p2) BATCHNORM RELU MAXPOOL1D(k2,s2) "
                        "GLOBAL_AVGPOOL LINEAR(16) RELU DROPOUT(0.25) "
                        "LINEAR(5) SOFTMAX"));
  NAS_ASSERT_OK_AND_ASSIGN(BlockNetwork net, ToBlocks(arch));
  ASSERT_EQ(net.features.size(), 3u);
  EXPECT_EQ(net.features[0], (FeatureBlock{v1::CONV1D, 8, 5, 2}));
  EXPECT_EQ(net.features[1], (FeatureBlock{v1::MAXPOOL1D, 0, 2, 2}));
  EXPECT_EQ(net.features[2], (FeatureBlock{v1::GLOBAL_AVGPOOL, 0, 0, 0}));
  EXPECT_EQ(net.dense, std::vector<int32_t>{16});
  EXPECT_FLOAT_EQ(net.dropout, 0.25f);
}

TEST(BlocksTest, RejectsLayersOutsideTheBlockShape) {
  NAS_ASSERT_OK_AND_ASSIGN(v1::Architecture arch,
                           ParseArchitecture("CONV1D(8,k3) FLATTEN LINEAR(5)"));
  EXPECT_THAT(ToBlocks(arch), StatusIs(absl::StatusCode::kInvalidArgument,
                                       HasSubstr("layer 1 (FLATTEN)")));
}

TEST(BlocksTest, LegalBlocksFollowTheSamplerRules) {
  const v1::SearchSpace space = EcgSpace();
  FeatureCursor cursor = StartCursor(MakeShape({1, 140}));
  // First block: convolutions only (no pooling first): 2 channels x 2
  // kernels x 2 strides.
  std::vector<FeatureBlock> first = LegalFeatureBlocks(space, cursor);
  EXPECT_EQ(first.size(), 8u);
  for (const FeatureBlock& b : first) EXPECT_EQ(b.type, v1::CONV1D);
  NAS_ASSERT_OK_AND_ASSIGN(cursor,
                           Advance(cursor, {v1::CONV1D, 4, 3, 2}, space));
  EXPECT_EQ(ShapeToString(cursor.shape), ShapeToString(MakeShape({4, 70})));
  EXPECT_TRUE(IsLegalFeatureBlock(space, cursor, {v1::MAXPOOL1D, 0, 2, 2}));
  NAS_ASSERT_OK_AND_ASSIGN(cursor,
                           Advance(cursor, {v1::MAXPOOL1D, 0, 2, 2}, space));
  // max_consecutive_pooling 1: no second pool, no global pool now.
  EXPECT_FALSE(IsLegalFeatureBlock(space, cursor, {v1::MAXPOOL1D, 0, 2, 2}));
  EXPECT_FALSE(
      IsLegalFeatureBlock(space, cursor, {v1::GLOBAL_AVGPOOL, 0, 0, 0}));
  NAS_ASSERT_OK_AND_ASSIGN(cursor,
                           Advance(cursor, {v1::CONV1D, 8, 5, 1}, space));
  NAS_ASSERT_OK_AND_ASSIGN(
      cursor, Advance(cursor, {v1::GLOBAL_AVGPOOL, 0, 0, 0}, space));
  EXPECT_TRUE(cursor.ended);
  EXPECT_TRUE(LegalFeatureBlocks(space, cursor).empty());
  EXPECT_TRUE(CanEndFeatures(space, cursor));
}

TEST(BlocksTest, KernelsLargerThanTheRepresentationAreNotOffered) {
  v1::SearchSpace space = EcgSpace();
  space.set_max_layers(10);
  FeatureCursor cursor = StartCursor(MakeShape({1, 4}));
  NAS_ASSERT_OK_AND_ASSIGN(cursor,
                           Advance(cursor, {v1::CONV1D, 4, 3, 1}, space));
  for (const FeatureBlock& b : LegalFeatureBlocks(space, cursor)) {
    EXPECT_LE(b.kernel, 4) << LayerTypeName(b.type);
  }
  NAS_ASSERT_OK_AND_ASSIGN(cursor,
                           Advance(cursor, {v1::CONV1D, 4, 3, 2}, space));
  NAS_ASSERT_OK_AND_ASSIGN(cursor,
                           Advance(cursor, {v1::CONV1D, 4, 3, 2}, space));
  ASSERT_EQ(MinSpatialSize(cursor.shape), 1);
  // Size 1: like the sampler, no kernel larger than the size, no stride and
  // no pooling; only the global pool is left.
  for (const FeatureBlock& b : LegalFeatureBlocks(space, cursor)) {
    EXPECT_EQ(b.stride, b.type == v1::GLOBAL_AVGPOOL ? 0 : 1);
    EXPECT_NE(b.type, v1::MAXPOOL1D);
  }
}

TEST(BlocksTest, CheckBlocksNamesTheOffence) {
  const v1::SearchSpace space = EcgSpace();
  const v1::TensorShape input = MakeShape({1, 140});
  BlockNetwork pool_first{{{v1::MAXPOOL1D, 0, 2, 2}}, {}, 0};
  EXPECT_THAT(CheckBlocks(pool_first, space, input),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("feature block 0 (MAXPOOL1D)")));
  BlockNetwork wide{{{v1::CONV1D, 4, 3, 1}}, {32}, 0};
  EXPECT_THAT(CheckBlocks(wide, space, input),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("dense width 32")));
  BlockNetwork empty{{}, {}, 0};
  EXPECT_THAT(CheckBlocks(empty, space, input), Not(IsOk()));
  BlockNetwork dropout{{{v1::CONV1D, 4, 3, 1}}, {}, 0.5f};
  EXPECT_THAT(CheckBlocks(dropout, space, input),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("dropout rate 0.5")));
}

}  // namespace
}  // namespace nas
