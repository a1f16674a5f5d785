// Bounds on text and specs from outside, and on error messages sent back.
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/datasets.h"
#include "common/grpc_status.h"
#include "common/spec.h"
#include "common/spec_limits.h"
#include "common/text_check.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"

namespace nas {
namespace {

using ::nas::testing::IsOk;
using ::nas::testing::StatusIs;
using ::testing::AllOf;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

TEST(TextCheckTest, BoundsLengthAndRefusesControlCharacters) {
  EXPECT_THAT(CheckText("name", "O'Brien; DROP TABLE x; -- ☃", 100, true),
              IsOk());
  EXPECT_THAT(CheckText("name", "", 100, true),
              StatusIs(absl::StatusCode::kInvalidArgument, "name is required"));
  EXPECT_THAT(CheckText("name", "", 100, false), IsOk());
  EXPECT_THAT(CheckText("name", std::string(101, 'x'), 100, false),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "name: 101 bytes, at most 100 allowed"));
  EXPECT_THAT(CheckText("name", std::string("a\0b", 3), 100, false),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "name contains a control character (byte 0x00 at "
                       "offset 1)"));
  EXPECT_THAT(CheckText("name", "x\x7f", 100, false),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("byte 0x7f at offset 1")));
}

TEST(GrpcStatusTest, LongMessagesAreCutAtALineAndCounted) {
  EXPECT_EQ(ToGrpcStatus(absl::InvalidArgumentError("short")).error_message(),
            "short");
  std::string lines;
  for (int i = 0; i < 500; ++i) absl::StrAppend(&lines, "problem ", i, "\n");
  const grpc::Status status = ToGrpcStatus(absl::InvalidArgumentError(lines));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_LE(status.error_message().size(), kMaxGrpcMessageBytes + 64);
  EXPECT_THAT(status.error_message(),
              AllOf(HasSubstr("problem 0\nproblem 1\n"),
                    Not(HasSubstr("problem 499")),
                    EndsWith(" more line breaks)")));
  const std::string one_line(10000, 'x');
  EXPECT_THAT(
      ToGrpcStatus(absl::InternalError(one_line)).error_message(),
      AllOf(SizeIs(::testing::Le(kMaxGrpcMessageBytes + 64)),
            HasSubstr("(7952 more bytes, 0 more line breaks)")));
}

constexpr char kSpec[] = R"y(
name: limits
dataset: {name: ecg5000}
device: nrf52840
space: {layer_types: [CONV1D], channels: [4], kernels: [3], max_layers: 2}
budget: {max_trials: 3}
)y";

TEST(SpecLimitsTest, AValidSpecIsWithinEveryBound) {
  EXPECT_THAT(ParseAndCompleteSearchSpecYaml(kSpec, DefaultDataRoot()),
              IsOk());
}

TEST(SpecLimitsTest, EveryBrokenBoundIsNamed) {
  v1::SearchSpec spec;
  spec.set_name(std::string("a\nb"));
  spec.set_device(std::string(101, 'd'));
  spec.mutable_dataset()->set_train_path(std::string(4097, 'p'));
  for (int i = 0; i <= kMaxChoices; ++i) spec.mutable_space()->add_kernels(3);
  for (int i = 0; i <= kMaxSeedArchitectures; ++i) {
    spec.add_seed_architectures();
  }
  spec.mutable_training()->set_epochs(kMaxEpochs + 1);
  spec.mutable_training()->set_learning_rate(INFINITY);
  spec.mutable_budget()->set_max_trials(kMaxTrials + 1);
  spec.mutable_reward()->set_weight_flash(NAN);
  spec.mutable_custom_device()->set_clock_hz(-INFINITY);
  std::vector<std::string> problems;
  CheckSpecLimits(spec, &problems);
  EXPECT_THAT(problems,
              ::testing::ElementsAre(
                  "name contains a control character (byte 0x0a at offset 1)",
                  "device: 101 bytes, at most 100 allowed",
                  "dataset.train_path: 4097 bytes, at most 4096 allowed",
                  "space.kernels: 65 entries, at most 64 allowed",
                  "seed_architectures: 101 entries, at most 100 allowed",
                  "training.epochs: at most 10000, got 10001",
                  "training.learning_rate: must be a finite number, got inf",
                  "budget.max_trials: at most 100000, got 100001",
                  "reward.weight_flash: must be a finite number, got nan",
                  "device.clock_hz: must be a finite number, got -inf"));
  // CompleteSearchSpec refuses with them before anything else.
  EXPECT_THAT(CompleteSearchSpec(spec, DefaultDataRoot()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("space.kernels: 65 entries")));
}

TEST(SpecLimitsTest, EachLimitHoldsAtExactlyItsValue) {
  // The one table: at the value nothing, one over a problem naming it.
  const auto problems_of = [](const v1::SearchSpec& spec) {
    std::vector<std::string> problems;
    CheckSpecLimits(spec, &problems);
    return problems;
  };
  v1::SearchSpec at;
  at.set_name(std::string(kMaxSpecNameLength, 'n'));
  for (int i = 0; i < kMaxChoices; ++i) at.mutable_space()->add_channels(i + 1);
  for (int i = 0; i < kMaxSeedArchitectures; ++i) at.add_seed_architectures();
  at.mutable_budget()->set_max_trials(kMaxTrials);
  EXPECT_THAT(problems_of(at), IsEmpty());
  EXPECT_EQ(kMaxSpecNameLength, 200u);
  EXPECT_EQ(kMaxChoices, 64);
  EXPECT_EQ(kMaxSeedArchitectures, 100);
  EXPECT_EQ(kMaxTrials, 100000);

  v1::SearchSpec over = at;
  over.set_name(std::string(kMaxSpecNameLength + 1, 'n'));
  EXPECT_THAT(problems_of(over),
              ::testing::ElementsAre("name: 201 bytes, at most 200 allowed"));
  over = at;
  over.mutable_space()->add_channels(1);
  EXPECT_THAT(
      problems_of(over),
      ::testing::ElementsAre("space.channels: 65 entries, at most 64 allowed"));
  over = at;
  over.add_seed_architectures();
  EXPECT_THAT(problems_of(over),
              ::testing::ElementsAre(
                  "seed_architectures: 101 entries, at most 100 allowed"));
  over = at;
  over.mutable_budget()->set_max_trials(kMaxTrials + 1);
  EXPECT_THAT(
      problems_of(over),
      ::testing::ElementsAre("budget.max_trials: at most 100000, got 100001"));
}

}  // namespace
}  // namespace nas
