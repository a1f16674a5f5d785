// CheckDataFiles, the submit check: summaries of the real data sets, the
// problems it refuses, and its per-file cache.
#include <sys/stat.h>
#include <utime.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "common/data/samples.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/data/test_files.h"
#include "tests/status_matchers.h"

namespace nas::data {
namespace {

using ::nas::data::testing::Ecg5000Spec;
using ::nas::data::testing::Gunzip;
using ::nas::data::testing::JapaneseVowelsSpec;
using ::nas::data::testing::Spec;
using ::nas::data::testing::TempDir;
using ::nas::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(CheckDataFilesTest, JapaneseVowelsSummary) {
  NAS_ASSERT_OK_AND_ASSIGN(v1::DatasetSummary s,
                           CheckDataFiles(JapaneseVowelsSpec()));
  EXPECT_EQ(s.train_samples(), 270);
  EXPECT_EQ(s.test_samples(), 370);
  EXPECT_THAT(s.class_names(),
              ElementsAre("1", "2", "3", "4", "5", "6", "7", "8", "9"));
  EXPECT_EQ(s.padded(), 270 + 369);
  EXPECT_EQ(s.cut(), 0);
  EXPECT_EQ(s.min_length(), 7);
  EXPECT_EQ(s.max_length(), 29);
}

TEST(CheckDataFilesTest, Ecg5000Summary) {
  NAS_ASSERT_OK_AND_ASSIGN(v1::DatasetSummary s, CheckDataFiles(Ecg5000Spec()));
  EXPECT_EQ(s.train_samples(), 500);
  EXPECT_EQ(s.test_samples(), 4500);
  EXPECT_THAT(s.class_names(), ElementsAre("1", "2", "3", "4", "5"));
  EXPECT_EQ(s.padded(), 0);
  EXPECT_EQ(s.cut(), 0);
  EXPECT_EQ(s.min_length(), 140);
  EXPECT_EQ(s.max_length(), 140);
  // Without evaluate_test the test file is not read.
  v1::DatasetSpec train_only = Ecg5000Spec();
  train_only.set_evaluate_test(false);
  NAS_ASSERT_OK_AND_ASSIGN(s, CheckDataFiles(train_only));
  EXPECT_EQ(s.test_samples(), 0);
}

TEST(CheckDataFilesTest, ShapeMismatchNamesFileAndShapes) {
  v1::DatasetSpec spec = JapaneseVowelsSpec();
  spec.set_length(29);
  spec.mutable_input_shape()->set_dims(1, 30);
  EXPECT_THAT(CheckDataFiles(spec),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(absl::StrCat(
                           spec.train_path(),
                           ": samples are {12,29}, dataset.input_shape says "
                           "{12,30}"))));
  v1::DatasetSpec ecg = Ecg5000Spec();
  ecg.mutable_input_shape()->set_dims(1, 141);
  EXPECT_THAT(
      CheckDataFiles(ecg),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("samples are {1,140}, dataset.input_shape says "
                         "{1,141}")));
  // A one-dimension shape {L} is {1, L}.
  ecg.mutable_input_shape()->Clear();
  ecg.mutable_input_shape()->add_dims(140);
  NAS_EXPECT_OK(CheckDataFiles(ecg));
}

TEST(CheckDataFilesTest, LabelsBeyondNumClasses) {
  v1::DatasetSpec spec = Ecg5000Spec();
  spec.set_num_classes(3);
  EXPECT_THAT(CheckDataFiles(spec),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("labels span 5 classes (1, 2, 3, 4, 5), "
                                 "dataset.num_classes says 3")));
  // Classes only the test file has count too.
  TempDir dir;
  v1::DatasetSpec split =
      Spec(v1::UCR_TSV, dir.Write("train.tsv", "a\t1\nb\t2\n"), {1, 1}, 2);
  split.set_test_path(dir.Write("test.tsv", "c\t1\n"));
  NAS_EXPECT_OK(CheckDataFiles(split));
  split.set_evaluate_test(true);
  EXPECT_THAT(CheckDataFiles(split),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("labels span 3 classes (a, b, c), "
                                 "dataset.num_classes says 2")));
}

TEST(CheckDataFilesTest, EmptyAndMissingFiles) {
  TempDir dir;
  const std::string empty = dir.Write("empty.tsv", "\n\n");
  EXPECT_THAT(CheckDataFiles(Spec(v1::UCR_TSV, empty, {1, 3}, 2)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(absl::StrCat(empty, ": no samples"))));
  EXPECT_THAT(
      CheckDataFiles(Spec(v1::UCR_TSV, dir.Path("none.tsv"), {1, 3}, 2)),
      StatusIs(absl::StatusCode::kNotFound, HasSubstr("none.tsv")));
}

TEST(CheckDataFilesTest, SecondCheckOfTheSameFilesIsCached) {
  TempDir dir;
  v1::DatasetSpec spec = JapaneseVowelsSpec();
  spec.set_train_path(dir.Write("train.ts", Gunzip(spec.train_path())));
  NAS_ASSERT_OK_AND_ASSIGN(v1::DatasetSummary first, CheckDataFiles(spec));
  const int64_t hits = CheckDataFilesCacheHitsForTest();
  NAS_ASSERT_OK_AND_ASSIGN(v1::DatasetSummary second, CheckDataFiles(spec));
  EXPECT_EQ(CheckDataFilesCacheHitsForTest(), hits + 2);  // Train and test.
  EXPECT_EQ(second.SerializeAsString(), first.SerializeAsString());
  // Other reading options are another entry.
  spec.set_length(20);
  spec.mutable_input_shape()->set_dims(1, 20);
  NAS_ASSERT_OK_AND_ASSIGN(v1::DatasetSummary cut, CheckDataFiles(spec));
  EXPECT_EQ(CheckDataFilesCacheHitsForTest(), hits + 2);
  EXPECT_EQ(cut.cut(), 35 + 38);
  // A changed file is read again: a label beyond num_classes now.
  std::string text = Gunzip(JapaneseVowelsSpec().train_path());
  text.replace(text.find("@classLabel true 1"), 18, "@classLabel true 0 1");
  if (text.back() != '\n') text.push_back('\n');
  std::string line = text.substr(text.rfind('\n', text.size() - 2) + 1);
  line.replace(line.rfind(':'), std::string::npos, ":0\n");
  text += line;  // The last series again, labelled 0.
  const std::string changed = dir.Write("train.ts", text);
  struct utimbuf times = {1, 1};  // Another mtime, whatever the clock says.
  ASSERT_EQ(utime(changed.c_str(), &times), 0);
  EXPECT_THAT(CheckDataFiles(spec),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("labels span 10 classes")));
}

}  // namespace
}  // namespace nas::data
