#include "common/architecture.h"

#include <algorithm>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/test_networks.h"
#include "tests/status_matchers.h"

namespace nas {
namespace {

using ::nas::testing::Arch;
using ::nas::testing::EcgNet;
using ::nas::testing::LeNet;
using ::nas::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

const v1::TensorShape kMnist = MakeShape({1, 28, 28});
const v1::TensorShape kEcg = MakeShape({1, 140});

TEST(ArchitectureTest, LayerTypeNamesRoundTrip) {
  EXPECT_EQ(LayerTypeName(v1::CONV2D), "CONV2D");
  EXPECT_EQ(LayerTypeName(static_cast<v1::LayerType>(42)), "TYPE_42");
  EXPECT_EQ(*ParseLayerType("conv2d"), v1::CONV2D);
  EXPECT_EQ(*ParseLayerType("Depthwise-Conv2D"), v1::DEPTHWISE_CONV2D);
  EXPECT_EQ(*ParseLayerType("5"), v1::SOFTMAX);
  EXPECT_EQ(*ParseLayerType("dense"), v1::LINEAR);
  EXPECT_THAT(ParseLayerType("CONV3D"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("unknown layer type 'CONV3D'"),
                             HasSubstr("CONV1D"))));
  EXPECT_THAT(ParseLayerType("0"), StatusIs(absl::StatusCode::kInvalidArgument,
                                            HasSubstr("unknown layer type")));
}

TEST(ArchitectureTest, CanonicalFormFillsDefaultsAndDropsIgnoredFields) {
  v1::Architecture raw;
  v1::Layer* conv = raw.add_layers();
  conv->set_type(v1::CONV2D);
  conv->set_out(8);
  conv->set_kernel(3);
  conv->set_dropout_rate(0.5f);  // ignored by CONV2D
  v1::Layer* relu = raw.add_layers();
  relu->set_type(v1::RELU);
  relu->set_out(99);
  relu->set_kernel(7);
  v1::Layer* pool = raw.add_layers();
  pool->set_type(v1::MAXPOOL2D);
  pool->set_kernel(3);
  pool->set_out(8);
  v1::Layer* pw = raw.add_layers();
  pw->set_type(v1::POINTWISE_CONV2D);
  pw->set_out(4);
  v1::Layer* linear = raw.add_layers();
  linear->set_type(v1::LINEAR);
  linear->set_out(10);
  linear->set_kernel(3);

  const v1::Architecture c = CanonicalArchitecture(raw);
  EXPECT_EQ(c.layers(0).stride(), 1);
  EXPECT_EQ(c.layers(0).dropout_rate(), 0.0f);
  EXPECT_EQ(c.layers(1).out(), 0);
  EXPECT_EQ(c.layers(1).kernel(), 0);
  EXPECT_EQ(c.layers(2).stride(), 3);
  EXPECT_EQ(c.layers(2).out(), 0);
  EXPECT_EQ(c.layers(3).kernel(), 1);
  EXPECT_EQ(c.layers(4).kernel(), 0);
  EXPECT_EQ(
      ArchitectureToString(raw),
      "CONV2D(8,k3,s1,p0) RELU MAXPOOL2D(k3,s3) POINTWISE_CONV2D(4,k1,s1,p0) "
      "LINEAR(10)");
}

TEST(ArchitectureTest, InfersLeNetShapes) {
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<LayerShape> shapes,
                           InferShapes(LeNet(), kMnist, 10));
  std::vector<std::string> outputs;
  for (const LayerShape& s : shapes) outputs.push_back(ShapeToString(s.output));
  EXPECT_THAT(outputs, ElementsAre("6x28x28", "6x28x28", "6x14x14", "16x10x10",
                                   "16x10x10", "16x5x5", "400", "120", "120",
                                   "84", "84", "10"));
  EXPECT_EQ(ShapeToString(shapes[7].input), "400");
}

TEST(ArchitectureTest, InfersEcgShapes) {
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<LayerShape> shapes,
                           InferShapes(EcgNet(), kEcg, 5));
  std::vector<std::string> outputs;
  for (const LayerShape& s : shapes) outputs.push_back(ShapeToString(s.output));
  EXPECT_THAT(outputs, ElementsAre("8x140", "8x140", "8x140", "8x70", "16x70",
                                   "16x70", "16x70", "16", "5", "5"));
}

TEST(ArchitectureTest, StridesAndDepthwiseShapes) {
  // CONV2D k3 s2 p1 on 28: floor((28 + 2 - 3) / 2) + 1 = 14.
  // DEPTHWISE k3 s1 p0 on 14: 12, channels kept (8).
  // AVGPOOL2D k3 s2 on 12: floor((12 - 3) / 2) + 1 = 5.
  NAS_ASSERT_OK_AND_ASSIGN(
      std::vector<LayerShape> shapes,
      InferShapes(Arch("CONV2D(8,k3,s2,p1) DEPTHWISE_CONV2D(k3) "
                       "AVGPOOL2D(k3,s2) GLOBAL_AVGPOOL LINEAR(10)"),
                  kMnist, 10));
  EXPECT_EQ(ShapeToString(shapes[0].output), "8x14x14");
  EXPECT_EQ(ShapeToString(shapes[1].output), "8x12x12");
  EXPECT_EQ(ShapeToString(shapes[2].output), "8x5x5");
  EXPECT_EQ(ShapeToString(shapes[3].output), "8");
}

TEST(ArchitectureTest, KernelLargerThanInputNamesLayerAndSizes) {
  // 28 -> k5 valid 24 -> pool 12 -> pool 6 -> k7 on 6x6 fails.
  EXPECT_THAT(
      InferShapes(Arch("CONV2D(8,k5) MAXPOOL2D(k2) MAXPOOL2D(k2) CONV2D(8,k7) "
                       "LINEAR(10)"),
                  kMnist, 10),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr(
                   "layer 3 (CONV2D): kernel 7 larger than padded input 6x6")));
  EXPECT_THAT(InferShapes(Arch("CONV1D(4,k150) LINEAR(5)"), kEcg, 5),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("layer 0 (CONV1D): kernel 150 larger than "
                                 "padded input 140")));
}

TEST(ArchitectureTest, ReportsEveryProblem) {
  // Five independent problems: the value errors of layers 0, 2 and 3 (shapes
  // are unknown after layer 0, value checks go on), the misplaced SOFTMAX and
  // the classifier's width.
  absl::Status status =
      InferShapes(Arch("CONV2D(0,k3) RELU MAXPOOL2D(k0) DROPOUT(1.5) SOFTMAX "
                       "LINEAR(7)"),
                  kMnist, 10)
          .status();
  EXPECT_THAT(
      status,
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("layer 0 (CONV2D): out 0 must be in 1..4096"),
                     HasSubstr("layer 2 (MAXPOOL2D): kernel 0 must be in 1..1024"),
                     HasSubstr("layer 3 (DROPOUT): dropout_rate 1.5"),
                     HasSubstr("layer 4 (SOFTMAX): only allowed as the last"),
                     HasSubstr("layer 5 (LINEAR): the classifier must have "
                               "out = 10"))));
  // One problem per line.
  EXPECT_EQ(std::count(status.message().begin(), status.message().end(), '\n'),
            4);
}

// Found by fuzz/architecture_fuzz: twice a padding near INT32_MAX overflowed
// (undefined behaviour) before it was compared with the kernel; windows
// larger than any input are now refused by value.
TEST(ArchitectureTest, HugeWindowValuesAreProblemsNotOverflows) {
  EXPECT_THAT(InferShapes(Arch("MAXPOOL2D(k3,p2000000000) LINEAR(10)"), kMnist,
                          10),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("padding 2000000000 must be at most half the "
                                 "kernel 3")));
  EXPECT_THAT(
      InferShapes(Arch("CONV2D(8,k2147483647,s2000000000,p2000000000) "
                       "LINEAR(10)"),
                  kMnist, 10),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("kernel 2147483647 must be in 1..1024"),
                     HasSubstr("stride 2000000000 must be in 0..1024"))));
}

TEST(ArchitectureTest, RankAndEndingErrors) {
  EXPECT_THAT(
      InferShapes(Arch("CONV1D(4,k3) LINEAR(10)"), kMnist, 10),
      StatusIs(
          absl::StatusCode::kInvalidArgument,
          HasSubstr("layer 0 (CONV1D): needs a 2-D input {C,L}, got 1x28x28")));
  EXPECT_THAT(
      InferShapes(Arch("CONV2D(4,k3) LINEAR(5)"), kEcg, 5),
      StatusIs(
          absl::StatusCode::kInvalidArgument,
          HasSubstr("layer 0 (CONV2D): needs a 3-D input {C,H,W}, got 1x140")));
  EXPECT_THAT(
      InferShapes(Arch("CONV2D(4,k3) RELU"), kMnist, 10),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("must end with the classifier LINEAR(10), "
                         "optionally followed by SOFTMAX; it ends with RELU")));
  EXPECT_THAT(
      InferShapes(v1::Architecture(), kMnist, 10),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no layers")));
  EXPECT_THAT(InferShapes(Arch("DEPTHWISE_CONV2D(k3) LINEAR(10)"), kMnist, 10),
              nas::testing::IsOk());
  v1::Architecture wrong_dw = Arch("DEPTHWISE_CONV2D(k3) LINEAR(10)");
  wrong_dw.mutable_layers(0)->set_out(4);
  EXPECT_THAT(InferShapes(wrong_dw, kMnist, 10),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("out 4 must equal the input channels 1")));
}

TEST(ArchitectureTest, AbsurdValuesAreErrors) {
  EXPECT_THAT(
      InferShapes(Arch("CONV2D(5000,k3) LINEAR(10)"), kMnist, 10),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("layer 0 (CONV2D): out 5000 must be in 1..4096")));
  EXPECT_THAT(
      InferShapes(Arch("CONV2D(8,k3,p3) LINEAR(10)"), kMnist, 10),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("padding 3 must be smaller than the kernel 3")));
  EXPECT_THAT(
      InferShapes(Arch("CONV2D(8,k3) MAXPOOL2D(k2,p2) LINEAR(10)"), kMnist, 10),
      StatusIs(
          absl::StatusCode::kInvalidArgument,
          HasSubstr("layer 1 (MAXPOOL2D): padding 2 must be at most half")));
  EXPECT_THAT(
      InferShapes(Arch("LINEAR(70000) LINEAR(10)"), kMnist, 10),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("layer 0 (LINEAR): out 70000 must be in 1..65536")));
  v1::Architecture deep;
  for (int i = 0; i < 65; ++i) deep.add_layers()->set_type(v1::RELU);
  deep.mutable_layers(64)->set_type(v1::LINEAR);
  deep.mutable_layers(64)->set_out(10);
  EXPECT_THAT(InferShapes(deep, kMnist, 10),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("65 layers; at most 64")));
}

TEST(ArchitectureTest, HashIsStableAndCanonical) {
  // Documented serialisation of LeNet() (CanonicalSerialization):
  const std::string serial =
      "tinynas-arch-v1;1,6,5,1,2,0;13,0,0,0,0,0;3,0,2,2,0,0;1,16,5,1,0,0;"
      "13,0,0,0,0,0;3,0,2,2,0,0;16,0,0,0,0,0;2,120,0,0,0,0;13,0,0,0,0,0;"
      "2,84,0,0,0,0;13,0,0,0,0,0;2,10,0,0,0,0";
  EXPECT_EQ(CanonicalSerialization(LeNet()), serial);
  // printf '%s' "<serial>" | sha256sum
  EXPECT_EQ(ArchitectureHash(LeNet()),
            "f1850373db272bf9aae1f85f25331be58fd02f02e65c9d2988181e214c0cf2e7");
  // Spelled differently, same network.
  EXPECT_EQ(
      ArchitectureHash(Arch("conv2d(6,k5,s1,p2) relu maxpool2d(k2,s2) "
                            "conv2d(16,k5) relu maxpool2d(k2) flatten "
                            "dense(120) relu linear(84) relu linear(10)")),
      ArchitectureHash(LeNet()));
  EXPECT_NE(ArchitectureHash(Arch("CONV2D(6,k5,p2) LINEAR(10)")),
            ArchitectureHash(Arch("CONV2D(6,k5,p1) LINEAR(10)")));
  EXPECT_NE(ArchitectureHash(Arch("CONV2D(6,k3) DROPOUT(0.2) LINEAR(10)")),
            ArchitectureHash(Arch("CONV2D(6,k3) DROPOUT(0.3) LINEAR(10)")));
}

TEST(ArchitectureTest, StringFormRoundTrips) {
  for (const v1::Architecture& arch : {LeNet(), EcgNet()}) {
    const std::string text = ArchitectureToString(arch);
    EXPECT_EQ(ArchitectureToString(Arch(text)), text);
  }
  EXPECT_EQ(ArchitectureToString(Arch("DROPOUT(0.25) LINEAR(3)")),
            "DROPOUT(0.25) LINEAR(3)");
}

TEST(ArchitectureTest, IntegerEncodingMatchesTutorialCodes) {
  // CONV2D(8,k3,s1,p1) BN RELU MAXPOOL2D(k2,s2) LINEAR(10) SOFTMAX on 1x28x28:
  // LINEAR's input is 8*14*14 = 1568.
  const v1::Architecture arch = Arch(
      "CONV2D(8,k3,s1,p1) BATCHNORM RELU MAXPOOL2D(k2,s2) LINEAR(10) SOFTMAX");
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<int32_t> codes,
                           EncodeIntegers(arch, kMnist));
  EXPECT_THAT(codes, ElementsAre(1, 1, 8, 3, 1, 1,      //
                                 4, 8, 8, 0, 0, 0,      //
                                 13, 8, 8, 0, 0, 0,     //
                                 3, 8, 8, 2, 2, 0,      //
                                 2, 1568, 10, 0, 0, 0,  //
                                 5, 10, 10, 0, 0, 0));
  NAS_ASSERT_OK_AND_ASSIGN(v1::Architecture decoded, DecodeIntegers(codes));
  EXPECT_EQ(ArchitectureHash(decoded), ArchitectureHash(arch));
}

TEST(ArchitectureTest, IntegerEncodingRoundTripsEveryType) {
  const v1::Architecture arch = Arch(
      "CONV1D(8,k5,p2) DEPTHWISE_CONV1D(k3,p1) BATCHNORM RELU6 AVGPOOL1D(k2) "
      "MAXPOOL1D(k2) FLATTEN LINEAR(32) DROPOUT(0.2) LINEAR(5) SOFTMAX");
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<int32_t> codes,
                           EncodeIntegers(arch, kEcg));
  // FLATTEN: in = 8 channels, out = 8 * 35 = 280 features; DROPOUT: 200 per
  // mille.
  EXPECT_THAT(std::vector<int32_t>(codes.begin() + 36, codes.begin() + 42),
              ElementsAre(16, 8, 280, 0, 0, 0));
  EXPECT_THAT(std::vector<int32_t>(codes.begin() + 48, codes.begin() + 54),
              ElementsAre(15, 32, 32, 200, 0, 0));
  NAS_ASSERT_OK_AND_ASSIGN(v1::Architecture decoded, DecodeIntegers(codes));
  EXPECT_EQ(ArchitectureToString(decoded), ArchitectureToString(arch));
  EXPECT_EQ(ArchitectureHash(decoded), ArchitectureHash(arch));
}

TEST(ArchitectureTest, DecodeRejectsInconsistentCodes) {
  EXPECT_THAT(
      DecodeIntegers({1, 1, 8, 3}),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("4 values; expected a non-empty multiple of 6")));
  EXPECT_THAT(
      DecodeIntegers({1, 1, 8, 3, 1, 1, 42, 8, 8, 0, 0, 0, 4, 16, 16, 0, 0, 0}),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("layer 1: unknown type code 42"),
                     HasSubstr("layer 2 (BATCHNORM): input 16 does not match "
                               "the previous layer's output 8"))));
  EXPECT_THAT(
      DecodeIntegers({3, 8, 4, 2, 2, 0}),
      StatusIs(
          absl::StatusCode::kInvalidArgument,
          HasSubstr("layer 0 (MAXPOOL2D): output 4 must equal its input 8")));
}

TEST(ArchitectureTest, ParsesEveryTextForm) {
  const std::string expected = "CONV2D(8,k3,s1,p1) MAXPOOL2D(k2,s2) LINEAR(10)";
  NAS_ASSERT_OK_AND_ASSIGN(
      v1::Architecture from_ints,
      ParseArchitecture("1,1,8,3,1,1, 3,8,8,2,2,0,\n 2,1568,10,0,0,0"));
  EXPECT_EQ(ArchitectureToString(from_ints), expected);
  NAS_ASSERT_OK_AND_ASSIGN(
      v1::Architecture from_yaml,
      ParseArchitecture("- {type: CONV2D, out: 8, kernel: 3, padding: 1}\n"
                        "- MAXPOOL2D(k2)\n- type: linear\n  out: 10\n"));
  EXPECT_EQ(ArchitectureToString(from_yaml), expected);
  NAS_ASSERT_OK_AND_ASSIGN(
      v1::Architecture from_json,
      ParseArchitecture(R"({"layers": [{"type": "CONV2D", "out": 8, "kernel": 3,
          "stride": 1, "padding": 1}, {"type": "MAXPOOL2D", "kernel": 2},
          {"type": "LINEAR", "out": 10}]})"));
  EXPECT_EQ(ArchitectureToString(from_json), expected);
  NAS_ASSERT_OK_AND_ASSIGN(
      v1::Architecture from_list,
      ParseArchitecture("[1,1,8,3,1,1,3,8,8,2,2,0,2,1568,10,0,0,0]"));
  EXPECT_EQ(ArchitectureToString(from_list), expected);
}

TEST(ArchitectureTest, ParseErrorsNameTheEntry) {
  EXPECT_THAT(ParseArchitecture("CONV2D(8,k3) CONV3D(4) LINEAR(10)"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("layer 1: unknown layer type 'CONV3D'")));
  EXPECT_THAT(ParseArchitecture("CONV2D(8,x3)"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("bad argument 'x3' for CONV2D")));
  EXPECT_THAT(
      ParseArchitecture("- {type: CONV2D, out: eight, kernal: 3}"),
      StatusIs(
          absl::StatusCode::kInvalidArgument,
          AllOf(HasSubstr("layers[0].out: expected an integer, got 'eight'"),
                HasSubstr("layers[0].kernal: unknown key (did you mean "
                          "'kernel'?)"))));
  EXPECT_THAT(ParseArchitecture("- {out: 8}"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("layers[0].type: required")));
  EXPECT_THAT(ParseArchitecture("[1, 2"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("YAML syntax error")));
  EXPECT_THAT(ParseArchitecture("  "), Not(nas::testing::IsOk()));
}

// Found by fuzz/architecture_fuzz: separators or an empty list alone parsed
// as a network of no layers, which prints as "" and does not parse back.
TEST(ArchitectureTest, TextWithoutLayersIsRefused) {
  for (const char* text : {",", ",,", " , ", "[]", "layers: []"}) {
    EXPECT_THAT(ParseArchitecture(text),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("architecture: no layers")))
        << "'" << text << "'";
  }
}

}  // namespace
}  // namespace nas
