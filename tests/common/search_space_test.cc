#include "common/search_space.h"

#include <random>
#include <set>
#include <string>

#include "common/architecture.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"

namespace nas {
namespace {

using ::nas::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

v1::SearchSpace Space2d() {
  v1::SearchSpace s;
  for (auto t : {v1::CONV2D, v1::DEPTHWISE_CONV2D, v1::POINTWISE_CONV2D,
                 v1::MAXPOOL2D, v1::AVGPOOL2D, v1::GLOBAL_AVGPOOL}) {
    s.add_layer_types(t);
  }
  for (int c : {4, 8, 16}) s.add_channels(c);
  for (int k : {1, 3, 5, 7}) s.add_kernels(k);
  for (int st : {1, 2}) s.add_strides(st);
  for (int u : {16, 32}) s.add_dense_units(u);
  s.set_min_layers(1);
  s.set_max_layers(10);
  s.set_max_dense_layers(2);
  s.set_batch_norm(true);
  s.set_activation(v1::RELU6);
  s.add_dropout_rates(0);
  s.add_dropout_rates(0.25f);
  s.set_padding("valid");
  s.set_max_consecutive_pooling(2);
  return s;
}

v1::SearchSpace Space1d() {
  v1::SearchSpace s;
  for (auto t : {v1::CONV1D, v1::DEPTHWISE_CONV1D, v1::MAXPOOL1D, v1::AVGPOOL1D,
                 v1::GLOBAL_AVGPOOL}) {
    s.add_layer_types(t);
  }
  for (int c : {8, 16}) s.add_channels(c);
  for (int k : {3, 5, 9}) s.add_kernels(k);
  for (int st : {1, 2, 3}) s.add_strides(st);
  s.set_min_layers(2);
  s.set_max_layers(12);
  s.set_activation(v1::RELU);
  s.set_padding("same");
  s.set_max_consecutive_pooling(1);
  return s;
}

// Counts feature layers and checks the sampler's structural promises.
void CheckStructure(const v1::Architecture& arch,
                    const v1::SearchSpace& space) {
  int feature_layers = 0;
  int pools_in_row = 0;
  for (const v1::Layer& layer : arch.layers()) {
    const bool pool =
        IsPoolingLayer(layer.type()) || layer.type() == v1::GLOBAL_AVGPOOL;
    if (IsConvLayer(layer.type())) {
      pools_in_row = 0;
      ++feature_layers;
    } else if (pool) {
      ASSERT_GT(feature_layers, 0)
          << "pooling first: " << ArchitectureToString(arch);
      ++pools_in_row;
      ++feature_layers;
      ASSERT_LE(pools_in_row, space.max_consecutive_pooling())
          << ArchitectureToString(arch);
    }
  }
  ASSERT_LE(feature_layers, space.max_layers());
}

TEST(SearchSpaceTest, ThousandSamples2dAllValid) {
  const v1::SearchSpace space = Space2d();
  const v1::TensorShape input = MakeShape({1, 28, 28});
  std::mt19937_64 rng(7);
  std::set<std::string> distinct;
  std::set<int> types;
  for (int i = 0; i < 1000; ++i) {
    NAS_ASSERT_OK_AND_ASSIGN(v1::Architecture arch,
                             SampleArchitecture(space, input, 10, rng));
    NAS_ASSERT_OK(InferShapes(arch, input, 10));
    CheckStructure(arch, space);
    distinct.insert(ArchitectureHash(arch));
    for (const v1::Layer& l : arch.layers()) types.insert(l.type());
  }
  EXPECT_GT(distinct.size(), 900u);
  // Every layer the space allows shows up, plus BN, RELU6, DROPOUT, LINEAR.
  for (int t : space.layer_types()) EXPECT_TRUE(types.count(t)) << t;
  for (int t : {v1::BATCHNORM, v1::RELU6, v1::DROPOUT, v1::LINEAR}) {
    EXPECT_TRUE(types.count(t)) << t;
  }
  EXPECT_FALSE(types.count(v1::RELU));
}

TEST(SearchSpaceTest, ThousandSamples1dAllValid) {
  const v1::SearchSpace space = Space1d();
  const v1::TensorShape input = MakeShape({1, 140});
  std::mt19937_64 rng(11);
  std::set<int> types;
  for (int i = 0; i < 1000; ++i) {
    NAS_ASSERT_OK_AND_ASSIGN(v1::Architecture arch,
                             SampleArchitecture(space, input, 5, rng));
    NAS_ASSERT_OK(InferShapes(arch, input, 5));
    CheckStructure(arch, space);
    for (const v1::Layer& l : arch.layers()) types.insert(l.type());
  }
  for (int t : space.layer_types()) EXPECT_TRUE(types.count(t)) << t;
  EXPECT_FALSE(types.count(v1::BATCHNORM));  // batch_norm off
  EXPECT_FALSE(types.count(v1::DROPOUT));    // no dropout rates
}

TEST(SearchSpaceTest, SameSeedSameArchitectures) {
  const v1::TensorShape input = MakeShape({1, 28, 28});
  std::mt19937_64 a(42), b(42), c(43);
  std::string from_a, from_b, from_c;
  for (int i = 0; i < 20; ++i) {
    from_a += ArchitectureHash(*SampleArchitecture(Space2d(), input, 10, a));
    from_b += ArchitectureHash(*SampleArchitecture(Space2d(), input, 10, b));
    from_c += ArchitectureHash(*SampleArchitecture(Space2d(), input, 10, c));
  }
  EXPECT_EQ(from_a, from_b);
  EXPECT_NE(from_a, from_c);
}

TEST(SearchSpaceTest, EndsWithClassifierAndRespectsDepth) {
  v1::SearchSpace space = Space2d();
  space.set_min_layers(3);
  space.set_max_layers(3);
  space.clear_layer_types();
  space.add_layer_types(v1::CONV2D);  // always fits: depth is exactly 3
  std::mt19937_64 rng(3);
  for (int i = 0; i < 50; ++i) {
    NAS_ASSERT_OK_AND_ASSIGN(
        v1::Architecture arch,
        SampleArchitecture(space, MakeShape({3, 32, 32}), 7, rng));
    int convs = 0;
    for (const v1::Layer& l : arch.layers()) convs += l.type() == v1::CONV2D;
    EXPECT_EQ(convs, 3);
    const v1::Layer& last = arch.layers(arch.layers_size() - 1);
    EXPECT_EQ(last.type(), v1::LINEAR);
    EXPECT_EQ(last.out(), 7);
  }
}

TEST(SearchSpaceTest, UniformIndexIsInRange) {
  std::mt19937_64 rng(1);
  std::set<uint64_t> seen;
  for (int i = 0; i < 1000; ++i) {
    const uint64_t v = UniformIndex(rng, 5);
    ASSERT_LT(v, 5u);
    seen.insert(v);
  }
  EXPECT_EQ(seen.size(), 5u);
}

TEST(SearchSpaceTest, ValidationNamesEveryProblem) {
  v1::SearchSpace space = Space2d();
  space.add_layer_types(v1::CONV1D);
  space.add_layer_types(v1::RELU);
  space.add_channels(0);
  space.add_kernels(31);
  space.add_strides(0);
  space.set_min_layers(5);
  space.set_max_layers(4);
  space.set_activation(v1::SOFTMAX);
  space.set_padding("full");
  space.add_dropout_rates(1.0f);
  EXPECT_THAT(
      ValidateSearchSpace(space, MakeShape({1, 28, 28}), 10),
      StatusIs(
          absl::StatusCode::kInvalidArgument,
          AllOf(
              HasSubstr("space.layer_types[6]: CONV1D is a 1-D layer but the "
                        "input 1x28x28 is 2-D"),
              HasSubstr(
                  "space.layer_types[7]: RELU is not a feature-extractor"),
              HasSubstr("space.channels[3]: 0 must be in 1..4096"),
              HasSubstr("space.kernels[4]: kernel 31 larger than the input "
                        "1x28x28"),
              HasSubstr("space.strides[2]: 0 must be >= 1"),
              HasSubstr("space.max_layers: 4 is smaller than min_layers 5"),
              HasSubstr("space.activation: must be RELU or RELU6, got SOFTMAX"),
              HasSubstr("space.padding: must be same or valid, got 'full'"),
              HasSubstr("space.dropout_rates[2]: 1 must be in [0, 1)"))));
}

TEST(SearchSpaceTest, EmptySpaces) {
  v1::SearchSpace space = Space2d();
  space.clear_layer_types();
  EXPECT_THAT(ValidateSearchSpace(space, MakeShape({1, 28, 28}), 10),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("space.layer_types: empty search space")));
  space = Space2d();
  space.clear_channels();
  space.clear_kernels();
  space.clear_dense_units();
  EXPECT_THAT(
      ValidateSearchSpace(space, MakeShape({1, 28, 28}), 10),
      StatusIs(
          absl::StatusCode::kInvalidArgument,
          AllOf(HasSubstr("space.channels: empty search space"),
                HasSubstr("space.kernels: empty search space"),
                HasSubstr(
                    "space.dense_units: empty but max_dense_layers is 2"))));
  space = Space2d();
  space.clear_layer_types();
  space.add_layer_types(v1::MAXPOOL2D);
  std::mt19937_64 rng(1);
  EXPECT_THAT(SampleArchitecture(space, MakeShape({1, 28, 28}), 10, rng),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("needs at least one convolution")));
  space = Space2d();
  space.set_max_layers(30);
  EXPECT_THAT(ValidateSearchSpace(space, MakeShape({1, 28, 28}), 10),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("can exceed 64 layers")));
}

}  // namespace
}  // namespace nas
