// The data set's part of a search spec: the dataset options and the
// validation section, read from YAML and completed against real files.
#include <string>

#include "common/datasets.h"
#include "common/spec.h"
#include "common/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"

namespace nas {
namespace {

using ::nas::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

absl::StatusOr<v1::SearchSpec> CompleteYaml(const std::string& yaml) {
  NAS_ASSIGN_OR_RETURN(v1::SearchSpec parsed, ParseSearchSpecYaml(yaml));
  return CompleteSearchSpec(parsed, DefaultDataRoot());
}

TEST(SpecDatasetTest, ReadsDatasetOptionsAndTheValidationSection) {
  NAS_ASSERT_OK_AND_ASSIGN(v1::SearchSpec spec, ParseSearchSpecYaml(R"y(
dataset: {name: gestures, format: CSV, layout: time-major, length: 50,
          pad: start, label_column: activity, normalization: none}
validation: {folds: 5}
)y"));
  const v1::DatasetSpec& d = spec.dataset();
  EXPECT_EQ(d.format(), v1::CSV);
  EXPECT_EQ(d.layout(), v1::TIME_MAJOR);
  EXPECT_EQ(d.length(), 50);
  EXPECT_EQ(d.pad(), v1::PAD_START);
  EXPECT_EQ(d.label_column(), "activity");
  EXPECT_EQ(d.normalization(), v1::NORMALIZATION_NONE);
  EXPECT_EQ(d.folds(), 5);
  NAS_ASSERT_OK_AND_ASSIGN(
      spec, ParseSearchSpecYaml("validation: {fraction: 0.25}\n"
                                "dataset: {format: npz}"));
  EXPECT_EQ(spec.dataset().validation_fraction(), 0.25);
  EXPECT_EQ(spec.dataset().format(), v1::NUMPY);
  NAS_ASSERT_OK_AND_ASSIGN(spec, ParseSearchSpecYaml("dataset: {format: ts}"));
  EXPECT_EQ(spec.dataset().format(), v1::TS);

  EXPECT_THAT(
      ParseSearchSpecYaml(R"y(
dataset: {format: parquet, layout: diagonal, pad: middle,
          normalization: minmax, validation_fraction: 0.2}
validation: {fraction: 0.3, foldz: 3}
)y"),
      StatusIs(
          absl::StatusCode::kInvalidArgument,
          AllOf(HasSubstr("dataset.format: unknown format 'parquet' (idx, "
                          "ucr_tsv, ts, csv, npy)"),
                HasSubstr("dataset.layout: unknown value 'diagonal' "
                          "(channel_major, time_major)"),
                HasSubstr("dataset.pad: unknown value 'middle' (end, start)"),
                HasSubstr("dataset.normalization: unknown value 'minmax' "
                          "(none, scale, zscore)"),
                HasSubstr("validation.fraction: also given as "
                          "dataset.validation_fraction"),
                HasSubstr("validation.foldz: unknown key"))));
  EXPECT_THAT(ParseSearchSpecYaml("validation: {folds: 5, fraction: 0.2}"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("validation.fraction: unused with 5 folds")));
}

TEST(SpecDatasetTest, CompletesAMultichannelSeriesSpecWithFolds) {
  NAS_ASSERT_OK_AND_ASSIGN(v1::SearchSpec spec, CompleteYaml(R"y(
dataset: {name: japanese-vowels, format: ts, input_shape: [12, 29],
          num_classes: 9}
validation: {folds: 5}
device: nrf52840
space: {layer_types: [CONV1D, MAXPOOL1D], channels: [8], kernels: [3]}
budget: {max_trials: 2}
)y"));
  EXPECT_EQ(spec.dataset().folds(), 5);
  EXPECT_EQ(spec.dataset().summary().train_samples(), 270);
  EXPECT_EQ(spec.dataset().normalization(), v1::NORMALIZATION_ZSCORE);
  EXPECT_THAT(
      CompleteYaml(R"y(
dataset: {name: japanese-vowels, input_shape: [12, 40]}
validation: {folds: 1000}
device: nrf52840
space: {layer_types: [CONV1D], channels: [8], kernels: [3]}
budget: {max_trials: 2}
)y"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("dataset.input_shape: japanese-vowels is "),
                     HasSubstr("validation.folds: must be 0 or 1"))));
}

}  // namespace
}  // namespace nas
