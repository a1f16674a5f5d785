#include "common/spec.h"

#include <functional>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/architecture.h"
#include "common/datasets.h"
#include "common/status_macros.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"

namespace nas {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::nas::testing::IsOk;
using ::nas::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kFullSpec[] = R"y(
name: fmnist-nrf
dataset:
  name: fashion-mnist
  validation_fraction: 0.2
  train_subset: 6000
  validation_subset: 1000
  evaluate_test: true
device: nano33ble
space:
  layer_types: [CONV2D, depthwise_conv2d, MAXPOOL2D, GLOBAL_AVGPOOL]
  channels: [8, 16, 32]
  kernels: [3, 5]
  strides: [1, 2]
  dense_units: [32, 64]
  min_layers: 2
  max_layers: 6
  max_dense_layers: 1
  batch_norm: false
  activation: relu6
  dropout_rates: [0, 0.2]
  padding: valid
  max_consecutive_pooling: 2
training:
  optimizer: SGD
  learning_rate: 0.05
  momentum: 0.9
  weight_decay: 1e-4
  epochs: 3
  batch_size: 128
  latency_runs: 10
budget:
  max_trials: 40
  max_duration: 1h30m
  max_infeasible: 200
  max_attempts: 2
policy: random
reward:
  type: weighted_exp
  metric: macro_f1
  weight_accuracy: 1
  weight_flash: 0.5
  exp_flash: -2
constraints:
  max_flash_bytes: 512KiB
  max_sram_bytes: 100kB
  max_macs: 5000000
  max_latency_ms: 250
  max_params: 200000
seed: 1234
seed_architectures:
  - "CONV2D(8,k3) RELU MAXPOOL2D(k2) LINEAR(10)"
  - [1,1,8,3,1,1, 3,8,8,2,2,0, 2,1568,10,0,0,0]
  - [{type: CONV2D, out: 4, kernel: 5}, {type: LINEAR, out: 10}]
)y";

TEST(SpecTest, ParsesEveryField) {
  NAS_ASSERT_OK_AND_ASSIGN(v1::SearchSpec spec, ParseSearchSpecYaml(kFullSpec));
  EXPECT_EQ(spec.name(), "fmnist-nrf");
  EXPECT_EQ(spec.dataset().name(), "fashion-mnist");
  EXPECT_EQ(spec.dataset().validation_fraction(), 0.2);
  EXPECT_EQ(spec.dataset().train_subset(), 6000);
  EXPECT_TRUE(spec.dataset().evaluate_test());
  EXPECT_EQ(spec.device(), "nano33ble");
  EXPECT_THAT(spec.space().layer_types(),
              ElementsAre(v1::CONV2D, v1::DEPTHWISE_CONV2D, v1::MAXPOOL2D,
                          v1::GLOBAL_AVGPOOL));
  EXPECT_THAT(spec.space().channels(), ElementsAre(8, 16, 32));
  EXPECT_THAT(spec.space().dropout_rates(), ElementsAre(0.0f, 0.2f));
  EXPECT_FALSE(spec.space().batch_norm());
  EXPECT_EQ(spec.space().activation(), v1::RELU6);
  EXPECT_EQ(spec.space().padding(), "valid");
  EXPECT_EQ(spec.training().optimizer(), "sgd");
  EXPECT_EQ(spec.training().weight_decay(), 1e-4);
  EXPECT_EQ(spec.budget().max_duration_s(), 5400);
  EXPECT_EQ(spec.reward().type(), "weighted_exp");
  EXPECT_EQ(spec.reward().exp_flash(), -2);
  EXPECT_EQ(spec.constraints().max_flash_bytes(), 512 * 1024);
  EXPECT_EQ(spec.constraints().max_sram_bytes(), 100000);
  EXPECT_EQ(spec.constraints().max_latency_ms(), 250);
  EXPECT_EQ(spec.seed(), 1234u);
  ASSERT_EQ(spec.seed_architectures_size(), 3);
  EXPECT_EQ(ArchitectureToString(spec.seed_architectures(1)),
            "CONV2D(8,k3,s1,p1) MAXPOOL2D(k2,s2) LINEAR(10)");
  EXPECT_EQ(ArchitectureToString(spec.seed_architectures(2)),
            "CONV2D(4,k5,s1,p0) LINEAR(10)");
}

TEST(SpecTest, CompletesAValidSpecIdempotently) {
  NAS_ASSERT_OK_AND_ASSIGN(v1::SearchSpec parsed,
                           ParseSearchSpecYaml(kFullSpec));
  NAS_ASSERT_OK_AND_ASSIGN(v1::SearchSpec spec,
                           CompleteSearchSpec(parsed, DefaultDataRoot()));
  EXPECT_EQ(spec.device(), "nrf52840");
  EXPECT_EQ(spec.custom_device().sram_bytes(), 256 * 1024);
  EXPECT_EQ(spec.dataset().format(), v1::IDX);
  EXPECT_EQ(spec.dataset().num_classes(), 10);
  EXPECT_EQ(spec.dataset().train_path(),
            "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz");
  EXPECT_EQ(spec.budget().max_trials(), 40);
  NAS_ASSERT_OK_AND_ASSIGN(v1::SearchSpec again,
                           CompleteSearchSpec(spec, DefaultDataRoot()));
  EXPECT_TRUE(MessageDifferencer::Equals(spec, again));
}

TEST(SpecTest, FillsDocumentedDefaults) {
  NAS_ASSERT_OK_AND_ASSIGN(v1::SearchSpec parsed, ParseSearchSpecYaml(R"y(
dataset: {name: ecg5000}
device: stm32f746
space: {layer_types: [CONV1D, MAXPOOL1D], channels: [8], kernels: [3]}
budget: {max_trials: 5}
)y"));
  EXPECT_TRUE(parsed.space().batch_norm());
  NAS_ASSERT_OK_AND_ASSIGN(v1::SearchSpec spec,
                           CompleteSearchSpec(parsed, DefaultDataRoot()));
  EXPECT_EQ(spec.name(), "search");
  EXPECT_EQ(spec.policy(), "random");
  EXPECT_EQ(spec.seed(), 1u);
  EXPECT_EQ(spec.dataset().validation_fraction(), 0.1);
  EXPECT_THAT(spec.space().strides(), ElementsAre(1));
  EXPECT_EQ(spec.space().min_layers(), 1);
  EXPECT_EQ(spec.space().max_layers(), 6);
  EXPECT_EQ(spec.space().activation(), v1::RELU);
  EXPECT_EQ(spec.space().padding(), "same");
  EXPECT_EQ(spec.space().max_consecutive_pooling(), 1);
  EXPECT_EQ(spec.training().optimizer(), "adam");
  EXPECT_EQ(spec.training().learning_rate(), 1e-3);
  EXPECT_EQ(spec.training().epochs(), 2);
  EXPECT_EQ(spec.training().batch_size(), 64);
  EXPECT_EQ(spec.training().latency_runs(), 20);
  EXPECT_EQ(spec.budget().max_infeasible(), 1000);
  EXPECT_EQ(spec.budget().max_attempts(), 3);
  EXPECT_EQ(spec.reward().type(), "accuracy");
  // The search quantises by default, and scores the int8 model.
  EXPECT_EQ(spec.training().quantize(), "int8");
  EXPECT_EQ(spec.training().calibration_samples(), 1000);
  EXPECT_EQ(spec.training().calibration(), "minmax");
  EXPECT_EQ(spec.training().qat_epochs(), 0);
  EXPECT_EQ(spec.reward().metric(), "accuracy_int8");
}

TEST(SpecTest, ParseErrorsNameTheFieldPath) {
  EXPECT_THAT(
      ParseSearchSpecYaml(R"y(
space: {kernel: [3]}
training: {epochs: ten, batch_size: [1]}
budget: {max_trials: 3, max_duration: soon}
dataset: {name: ecg5000, evaluate_test: maybe}
constraints: {max_flash_bytes: 12 parsecs}
colour: red
)y"),
      StatusIs(
          absl::StatusCode::kInvalidArgument,
          AllOf(
              HasSubstr("space.kernel: unknown key (did you mean 'kernels'?)"),
              HasSubstr("training.epochs: expected an integer, got 'ten'"),
              HasSubstr("training.batch_size: expected an integer, got a list"),
              HasSubstr("budget.max_duration: expected a duration"),
              HasSubstr(
                  "dataset.evaluate_test: expected true or false, got 'maybe'"),
              HasSubstr(
                  "constraints.max_flash_bytes: expected a size in bytes"),
              HasSubstr("colour: unknown key"))));
  EXPECT_THAT(
      ParseSearchSpecYaml("space: {layer_types: [CONV2D, CONV3D]}"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("space.layer_types[1]: unknown layer type 'CONV3D'")));
  EXPECT_THAT(ParseSearchSpecYaml("space: {channels: []}"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("space.channels: must not be empty")));
  EXPECT_THAT(
      ParseSearchSpecYaml("seed_architectures: [\"CONV2D(8,k3) BOGUS\"]"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("seed_architectures[0]: layer 1: unknown layer type "
                         "'BOGUS'")));
  EXPECT_THAT(ParseSearchSpecYaml("name: [unclosed"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("YAML syntax error")));
  EXPECT_THAT(ParseSearchSpecYaml("- just a list"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("must be a YAML map")));
}

TEST(SpecTest, CustomDeviceAndSizes) {
  NAS_ASSERT_OK_AND_ASSIGN(v1::SearchSpec spec, ParseSearchSpecYaml(R"y(
device: {name: my-board, sram_bytes: 128KiB, flash_bytes: 1 MiB, clock_hz: 8e7,
         cycles_per_mac: 4, core: cortex-m33}
budget: {max_duration_s: 600}
)y"));
  EXPECT_EQ(spec.device(), "my-board");
  EXPECT_EQ(spec.custom_device().sram_bytes(), 131072);
  EXPECT_EQ(spec.custom_device().flash_bytes(), 1048576);
  EXPECT_EQ(spec.custom_device().clock_hz(), 8e7);
  EXPECT_EQ(spec.budget().max_duration_s(), 600);
}

// A spec where every section has a problem: each must be reported.
TEST(SpecTest, CompleteCollectsEveryProblem) {
  NAS_ASSERT_OK_AND_ASSIGN(v1::SearchSpec parsed, ParseSearchSpecYaml(R"y(
dataset: {name: fashion-mnist, validation_fraction: 1.5}
device: esp32
space: {layer_types: [CONV2D, MAXPOOL2D], channels: [8], kernels: [3, 31],
        min_layers: 4, max_layers: 2}
training: {optimizer: rmsprop, learning_rate: -0.1, epochs: -1, batch_size: -8}
budget: {max_trials: -5, max_duration_s: -1}
policy: annealing
reward: {type: weighted_exp, weight_macs: 1}
seed_architectures: ["CONV2D(8,k3) RELU MAXPOOL2D(k2) CONV2D(8,k30) LINEAR(10)"]
)y"));
  EXPECT_THAT(
      CompleteSearchSpec(parsed, DefaultDataRoot()),
      StatusIs(
          absl::StatusCode::kInvalidArgument,
          AllOf(
              HasSubstr(
                  "dataset.validation_fraction: must be in (0, 1), got 1.5"),
              HasSubstr("device: unknown device 'esp32'"),
              HasSubstr(
                  "space.kernels[1]: kernel 31 larger than the input 1x28x28"),
              HasSubstr("space.max_layers: 2 is smaller than min_layers 4"),
              HasSubstr("training.optimizer: unknown optimizer 'rmsprop'"),
              HasSubstr("training.learning_rate: must be > 0, got -0.1"),
              HasSubstr("training.epochs: must be > 0, got -1"),
              HasSubstr("training.batch_size: must be > 0, got -8"),
              HasSubstr("budget.max_trials: must be > 0, got -5"),
              HasSubstr("budget.max_duration_s: must be >= 0"),
              HasSubstr("policy: unknown policy 'annealing' (random, "
                        "qlearning or evolution)"),
              HasSubstr("reward.weight_macs: needs constraints.max_macs"),
              HasSubstr(
                  "seed_architectures[0]: layer 3 (CONV2D): kernel 30 larger "
                  "than padded input 13x13"))));
}

TEST(SpecTest, ParseAndCompleteNamesYamlAndSemanticProblemsTogether) {
  constexpr char kYaml[] = R"y(
dataset: {name: fashion-mnist}
device: esp32
space: {layer_types: [CONV2D, CONV3D], channels: [8], kernels: [3]}
training: {epochs: ten}
budget: {max_trials: -5}
)y";
  ASSERT_THAT(ParseSearchSpecYaml(kYaml), Not(IsOk()));
  auto result = ParseAndCompleteSearchSpecYaml(kYaml, DefaultDataRoot());
  EXPECT_THAT(
      result,
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("space.layer_types[1]: unknown layer type"),
                     HasSubstr("training.epochs: expected an integer"),
                     HasSubstr("device: unknown device 'esp32'"),
                     HasSubstr("budget.max_trials: must be > 0, got -5"),
                     // A field with a YAML problem is named once, not again
                     // by the semantic checks of its default.
                     Not(HasSubstr("training.epochs: must be")))));
}

TEST(SpecTest, ParseAndCompleteAcceptsAValidSpec) {
  NAS_ASSERT_OK_AND_ASSIGN(
      v1::SearchSpec spec,
      ParseAndCompleteSearchSpecYaml(kFullSpec, DefaultDataRoot()));
  EXPECT_EQ(spec.dataset().num_classes(), 10);
}

TEST(SpecTest, DatasetProblems) {
  v1::SearchSpec spec;
  spec.set_device("nrf52840");
  spec.mutable_budget()->set_max_trials(1);
  spec.mutable_space()->add_layer_types(v1::CONV2D);
  spec.mutable_space()->add_channels(8);
  spec.mutable_space()->add_kernels(3);
  spec.mutable_dataset()->set_name("imagenet");
  EXPECT_THAT(CompleteSearchSpec(spec, DefaultDataRoot()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("dataset.name: unknown data set 'imagenet'")));
  spec.mutable_dataset()->set_name("ecg5000");
  EXPECT_THAT(
      CompleteSearchSpec(spec, "/nonexistent-root"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("dataset.train_path: file /nonexistent-root/ecg5000/"
                         "ECG5000_TRAIN.tsv.gz not found")));
  // 2-D layer types on a 1-D data set.
  EXPECT_THAT(
      CompleteSearchSpec(spec, DefaultDataRoot()),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("space.layer_types[0]: CONV2D is a 2-D layer but the "
                         "input 1x140 is 1-D")));
  spec.mutable_space()->clear_layer_types();
  EXPECT_THAT(CompleteSearchSpec(spec, DefaultDataRoot()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("space.layer_types: empty search space")));
  spec.mutable_space()->add_layer_types(v1::CONV1D);
  EXPECT_THAT(CompleteSearchSpec(spec, DefaultDataRoot()), IsOk());
}

absl::StatusOr<v1::SearchSpec> CompleteYaml(const std::string& yaml) {
  NAS_ASSIGN_OR_RETURN(v1::SearchSpec parsed, ParseSearchSpecYaml(yaml));
  return CompleteSearchSpec(parsed, DefaultDataRoot());
}

constexpr char kEcgHead[] =
    "dataset: {name: ecg5000}\ndevice: nrf52840\nbudget: {max_trials: 2}\n"
    "space: {layer_types: [CONV1D], channels: [4], kernels: [3]}\n";

TEST(SpecTest, QuantizeNoneScoresTheFloatModel) {
  NAS_ASSERT_OK_AND_ASSIGN(
      v1::SearchSpec spec,
      CompleteYaml(absl::StrCat(kEcgHead, "quantize: none\n")));
  EXPECT_EQ(spec.training().quantize(), "none");
  EXPECT_EQ(spec.reward().metric(), "accuracy");
  EXPECT_EQ(spec.training().calibration_samples(), 0);
}

TEST(SpecTest, QuantizationSettingsAreReadAndChecked) {
  NAS_ASSERT_OK_AND_ASSIGN(
      v1::SearchSpec spec,
      CompleteYaml(absl::StrCat(
          kEcgHead,
          "quantize: INT8\ntraining: {qat_epochs: 2, calibration_samples: 500, "
          "calibration: percentile}\nreward: {metric: macro_f1_int8}\n")));
  EXPECT_EQ(spec.training().quantize(), "int8");
  EXPECT_EQ(spec.training().qat_epochs(), 2);
  EXPECT_EQ(spec.training().calibration_samples(), 500);
  EXPECT_EQ(spec.training().calibration(), "percentile");
  EXPECT_EQ(spec.training().calibration_percentile(), 99.99);
  EXPECT_EQ(spec.reward().metric(), "macro_f1_int8");

  EXPECT_THAT(CompleteYaml(absl::StrCat(kEcgHead, "quantize: int4\n")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("quantize: unknown form 'int4' (int8 or none)")));
  EXPECT_THAT(
      CompleteYaml(absl::StrCat(
          kEcgHead, "quantize: none\nreward: {metric: accuracy_int8}\n")),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("reward.metric: accuracy_int8 needs quantize: int8")));
  EXPECT_THAT(
      CompleteYaml(absl::StrCat(kEcgHead,
                                "quantize: none\ntraining: {qat_epochs: 1}\n")),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("training.qat_epochs: needs quantize: int8")));
  EXPECT_THAT(
      CompleteYaml(absl::StrCat(
          kEcgHead,
          "training: {calibration: kl, calibration_samples: -3, qat_epochs: -1}\n")),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("training.calibration: unknown method 'kl' "
                               "(minmax or percentile)"),
                     HasSubstr("training.calibration_samples: must be > 0"),
                     HasSubstr("training.qat_epochs: must be >= 0"))));
  EXPECT_THAT(
      CompleteYaml(absl::StrCat(kEcgHead,
                                "training: {calibration: percentile, "
                                "calibration_percentile: 30}\n")),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("training.calibration_percentile: must be in (50, 100]")));
}

TEST(SpecTest, ResultCacheKeyCoversArchitectureRecipeDataAndSeed) {
  NAS_ASSERT_OK_AND_ASSIGN(v1::SearchSpec parsed,
                           ParseSearchSpecYaml(kFullSpec));
  NAS_ASSERT_OK_AND_ASSIGN(v1::SearchSpec spec,
                           CompleteSearchSpec(parsed, DefaultDataRoot()));
  const v1::Architecture arch = spec.seed_architectures(0);
  const std::string key = ResultCacheKey(arch, spec);
  EXPECT_EQ(key.size(), 64u);
  EXPECT_EQ(key, ResultCacheKey(arch, spec));

  v1::SearchSpec other = spec;
  other.set_name("renamed");  // not part of the identity
  other.mutable_training()->set_latency_runs(99);
  EXPECT_EQ(ResultCacheKey(arch, other), key);
  other.mutable_training()->set_epochs(4);
  EXPECT_NE(ResultCacheKey(arch, other), key);
  // A float-only result cannot stand in for an int8 one, nor one
  // quantised another way.
  other = spec;
  other.mutable_training()->set_quantize("none");
  EXPECT_NE(ResultCacheKey(arch, other), key);
  other = spec;
  other.mutable_training()->set_qat_epochs(1);
  EXPECT_NE(ResultCacheKey(arch, other), key);
  other = spec;
  other.mutable_training()->set_calibration_samples(10);
  EXPECT_NE(ResultCacheKey(arch, other), key);
  other = spec;
  other.set_seed(7);
  EXPECT_NE(ResultCacheKey(arch, other), key);
  other = spec;
  other.mutable_dataset()->set_train_subset(100);
  EXPECT_NE(ResultCacheKey(arch, other), key);
  // How samples become inputs, and the folds.
  const std::function<void(v1::DatasetSpec*)> changes[] = {
      [](v1::DatasetSpec* d) { d->set_layout(v1::TIME_MAJOR); },
      [](v1::DatasetSpec* d) { d->set_length(27); },
      [](v1::DatasetSpec* d) { d->set_pad(v1::PAD_START); },
      [](v1::DatasetSpec* d) { d->set_label_column("y"); },
      [](v1::DatasetSpec* d) { d->set_normalization(v1::NORMALIZATION_NONE); },
      [](v1::DatasetSpec* d) { d->set_folds(5); },
  };
  for (const auto& change : changes) {
    other = spec;
    change(other.mutable_dataset());
    EXPECT_NE(ResultCacheKey(arch, other), key);
  }
  // The summary is what the files hold, not a choice: not in the key.
  other = spec;
  other.mutable_dataset()->mutable_summary()->set_padded(3);
  EXPECT_EQ(ResultCacheKey(arch, other), key);
  EXPECT_NE(ResultCacheKey(spec.seed_architectures(2), spec), key);
}

}  // namespace
}  // namespace nas
