#include "worker/model_builder.h"

#include <set>
#include <string>
#include <vector>

#include "common/architecture.h"
#include "common/cost_model.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tests/worker/test_data.h"

namespace nas::worker {
namespace {

using ::nas::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int kClasses = 4;

struct BuilderCase {
  std::vector<int64_t> input;
  std::string arch;
};

// Every layer type, on 2-D ({3,12,12}) and 1-D ({2,40}) inputs, alone (before
// the classifier) and in combinations; DROPOUT, RELU etc. have no params but
// must not disturb the count of what follows.
std::vector<BuilderCase> Cases() {
  const std::vector<int64_t> image = {3, 12, 12}, series = {2, 40}, flat = {24};
  return {
      {image, "CONV2D(8,k3,s1,p1) LINEAR(4)"},
      {image, "CONV2D(5,k5,s2,p0) LINEAR(4)"},
      {image, "DEPTHWISE_CONV2D(k3,s1,p1) LINEAR(4)"},
      {image, "DEPTHWISE_CONV2D(k5,s2,p2) POINTWISE_CONV2D(7) LINEAR(4)"},
      {image, "POINTWISE_CONV2D(6) LINEAR(4)"},
      {image, "MAXPOOL2D(k2,s2) LINEAR(4)"},
      {image, "MAXPOOL2D(k3,s2,p1) LINEAR(4)"},
      {image, "AVGPOOL2D(k3,s2,p1) LINEAR(4)"},
      {image, "GLOBAL_AVGPOOL LINEAR(4)"},
      {image, "BATCHNORM LINEAR(4)"},
      {image, "CONV2D(8,k3,p1) BATCHNORM RELU MAXPOOL2D(k2) CONV2D(16,k3) "
              "BATCHNORM RELU6 GLOBAL_AVGPOOL DROPOUT(0.25) LINEAR(4) SOFTMAX"},
      {image, "RELU LINEAR(4)"},
      {image, "RELU6 LINEAR(4)"},
      {image, "DROPOUT(0.5) LINEAR(4)"},
      {image, "FLATTEN LINEAR(4)"},
      {image, "FLATTEN LINEAR(32) BATCHNORM RELU LINEAR(4) SOFTMAX"},
      {image, "LINEAR(4) SOFTMAX"},
      {series, "CONV1D(8,k5,s1,p2) LINEAR(4)"},
      {series, "CONV1D(6,k3,s2,p0) LINEAR(4)"},
      {series, "DEPTHWISE_CONV1D(k3,s1,p1) LINEAR(4)"},
      {series, "MAXPOOL1D(k2,s2) LINEAR(4)"},
      {series, "AVGPOOL1D(k4,s2,p1) LINEAR(4)"},
      {series, "GLOBAL_AVGPOOL LINEAR(4)"},
      {series, "BATCHNORM LINEAR(4)"},
      {series, "RELU RELU6 DROPOUT(0.1) FLATTEN LINEAR(4)"},
      {series, "CONV1D(8,k5,p2) BATCHNORM RELU MAXPOOL1D(k2) DEPTHWISE_CONV1D(k3,p1) "
               "CONV1D(12,k3) RELU6 GLOBAL_AVGPOOL LINEAR(16) RELU LINEAR(4) SOFTMAX"},
      {flat, "LINEAR(16) BATCHNORM RELU DROPOUT(0.2) LINEAR(4)"},
  };
}

v1::TensorShape Shape(const std::vector<int64_t>& dims) {
  v1::TensorShape shape;
  for (int64_t d : dims) shape.add_dims(d);
  return shape;
}

class ModelBuilderTest : public ::testing::TestWithParam<BuilderCase> {};

TEST_P(ModelBuilderTest, BuiltParamsEqualAnalyticParamsAndShapesAgree) {
  const BuilderCase& c = GetParam();
  const v1::Architecture arch = testing::Arch(c.arch);
  const v1::TensorShape input = Shape(c.input);
  NAS_ASSERT_OK_AND_ASSIGN(BuiltModel model, BuildModel(arch, input, kClasses));
  NAS_ASSERT_OK_AND_ASSIGN(CostReport cost,
                           AnalyzeCost(arch, input, kClasses, v1::DeviceProfile()));
  EXPECT_EQ(CountParameters(*model.net), cost.params) << c.arch;
  EXPECT_EQ(model.script.size(), model.net->size());
  EXPECT_EQ(model.softmax_output, arch.layers(arch.layers_size() - 1).type() == v1::SOFTMAX);

  std::vector<int64_t> batch_dims = {3};
  batch_dims.insert(batch_dims.end(), c.input.begin(), c.input.end());
  model.net->train();
  torch::Tensor logits = model.net->forward(torch::randn(batch_dims));
  EXPECT_THAT(logits.sizes().vec(), ElementsAre(3, kClasses)) << c.arch;
}

INSTANTIATE_TEST_SUITE_P(AllLayerTypes, ModelBuilderTest, ::testing::ValuesIn(Cases()));

TEST(ModelBuilderCoverageTest, CasesCoverEveryLayerTypeIn1dAnd2d) {
  std::set<std::pair<int, int>> covered;  // (layer type, input rank)
  for (const BuilderCase& c : Cases()) {
    const v1::Architecture arch = testing::Arch(c.arch);
    for (const v1::Layer& layer : arch.layers()) {
      covered.insert({layer.type(), static_cast<int>(c.input.size())});
    }
  }
  const google::protobuf::EnumDescriptor* types = v1::LayerType_descriptor();
  for (int i = 0; i < types->value_count(); ++i) {
    const auto type = static_cast<v1::LayerType>(types->value(i)->number());
    if (type == v1::LAYER_TYPE_UNSPECIFIED) continue;
    const bool in_2d = covered.count({type, 3}) > 0, in_1d = covered.count({type, 2}) > 0;
    if (Is2dLayer(type)) {
      EXPECT_TRUE(in_2d) << LayerTypeName(type);
    } else if (Is1dLayer(type)) {
      EXPECT_TRUE(in_1d) << LayerTypeName(type);
    } else {
      EXPECT_TRUE(in_2d && in_1d) << LayerTypeName(type) << " needs 1-D and 2-D cases";
    }
  }
}

TEST(ModelBuilderErrorTest, InvalidArchitectureIsInvalidArgumentNamingTheLayer) {
  EXPECT_THAT(BuildModel(testing::Arch("CONV2D(8,k15) LINEAR(4)"), Shape({3, 12, 12}),
                         kClasses),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("layer 0 (CONV2D)")));
  EXPECT_THAT(BuildModel(testing::Arch("CONV1D(8,k3) LINEAR(4)"), Shape({3, 12, 12}),
                         kClasses),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("layer 0 (CONV1D)")));
}

}  // namespace
}  // namespace nas::worker
