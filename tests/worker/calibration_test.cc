#include "worker/calibration.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include <torch/torch.h>

#include "common/int8_plan.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tests/worker/test_data.h"
#include "worker/folded_network.h"
#include "worker/model_builder.h"

namespace nas::worker {
namespace {

using ::testing::ElementsAreArray;
using ::testing::Not;

// 300 samples of 4 values: a skewed spread of positives and negatives.
SampleSet Samples(std::vector<float>* all) {
  auto inputs = std::make_shared<SampleInputs>();
  inputs->shape = {4};
  inputs->sample_size = 4;
  for (int i = 0; i < 1200; ++i) {
    const float v = (i % 7 == 0) ? -0.0001f * i : 0.001f * ((i * 37) % 1009);
    inputs->values.push_back(i % 50 == 0 ? 0.0f : v);
  }
  *all = inputs->values;
  SampleSet set;
  set.inputs = inputs;
  set.labels.assign(300, 0);
  set.num_classes = 2;
  return set;
}

FoldedNetwork Network() {
  v1::TensorShape input;
  input.add_dims(4);
  const v1::Architecture arch = testing::Arch("LINEAR(3) RELU LINEAR(2)");
  torch::manual_seed(3);
  absl::StatusOr<BuiltModel> model = BuildModel(arch, input, 2);
  absl::StatusOr<Int8Plan> plan = PlanInt8(arch, input, 2);
  absl::StatusOr<FoldedNetwork> net =
      FoldedNetwork::Create(*model, arch, input, 2, *plan);
  EXPECT_TRUE(net.ok()) << net.status();
  return *std::move(net);
}

// Nearest-rank percentile of the values of `all` that `keep` selects.
double NearestRank(std::vector<float> values, double p) {
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<size_t>(std::ceil(p / 100 * values.size()));
  return values[std::max<size_t>(rank, 1) - 1];
}

TEST(CalibrationTest, MinMaxAndExactPercentiles) {
  std::vector<float> all;
  const SampleSet set = Samples(&all);
  std::vector<int64_t> indices(300);
  for (int i = 0; i < 300; ++i) indices[i] = i;
  const FoldedNetwork net = Network();
  NAS_ASSERT_OK_AND_ASSIGN(CalibratedRanges minmax,
                           Calibrate(net, set, InputNormalization::None(), indices,
                                     CalibrationSettings(), torch::kCPU));
  EXPECT_DOUBLE_EQ(minmax.input.min, *std::min_element(all.begin(), all.end()));
  EXPECT_DOUBLE_EQ(minmax.input.max, *std::max_element(all.begin(), all.end()));
  ASSERT_EQ(minmax.outputs.size(), 2u);
  EXPECT_GE(minmax.outputs[0].min, 0);  // After the fused ReLU.
  CalibrationSettings settings;
  settings.percentile = true;
  settings.percentile_value = 99;
  NAS_ASSERT_OK_AND_ASSIGN(CalibratedRanges p99,
                           Calibrate(net, set, InputNormalization::None(), indices,
                                     settings, torch::kCPU));
  std::vector<float> positives, magnitudes;
  for (float v : all) {
    if (v > 0) positives.push_back(v);
    if (v < 0) magnitudes.push_back(-v);
  }
  EXPECT_FLOAT_EQ(p99.input.max, NearestRank(positives, 99));
  EXPECT_FLOAT_EQ(p99.input.min, -NearestRank(magnitudes, 99));
  EXPECT_LT(p99.input.max, minmax.input.max);
  EXPECT_GT(p99.input.min, minmax.input.min);
  settings.percentile_value = 100;
  NAS_ASSERT_OK_AND_ASSIGN(CalibratedRanges p100,
                           Calibrate(net, set, InputNormalization::None(), indices,
                                     settings, torch::kCPU));
  EXPECT_DOUBLE_EQ(p100.input.max, minmax.input.max);
  EXPECT_DOUBLE_EQ(p100.input.min, minmax.input.min);
  EXPECT_EQ(settings.Description(), "percentile 100");
  EXPECT_EQ(CalibrationSettings().Description(), "minmax");
}

TEST(CalibrationTest, IndicesComeFromTheSeed) {
  std::vector<int64_t> train(5000);
  for (int i = 0; i < 5000; ++i) train[i] = 2 * i;
  const std::vector<int64_t> a = CalibrationIndices(train, 1000, 11);
  EXPECT_EQ(a.size(), 1000u);
  EXPECT_TRUE(std::is_sorted(a.begin(), a.end()));
  EXPECT_THAT(CalibrationIndices(train, 1000, 11), ElementsAreArray(a));
  EXPECT_THAT(CalibrationIndices(train, 1000, 12), Not(ElementsAreArray(a)));
  EXPECT_EQ(CalibrationIndices(train, 9000, 11).size(), 5000u);  // Fewer there.
}

TEST(CalibrationTest, SettingsFromTheRecipeWithDefaults) {
  v1::TrainingRecipe recipe;
  CalibrationSettings s = CalibrationSettings::FromRecipe(recipe);
  EXPECT_EQ(s.samples, 1000);
  EXPECT_FALSE(s.percentile);
  recipe.set_calibration("percentile");
  recipe.set_calibration_samples(200);
  s = CalibrationSettings::FromRecipe(recipe);
  EXPECT_EQ(s.samples, 200);
  EXPECT_TRUE(s.percentile);
  EXPECT_EQ(s.percentile_value, 99.99);
  EXPECT_EQ(s.Description(), "percentile 99.99");
}

}  // namespace
}  // namespace nas::worker
