// ResolveDataset's submit check on real files: the built-in data sets, small
// files written here, and files that must be refused (naming file and line).
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/datasets.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "google/protobuf/util/message_differencer.h"
#include "tests/status_matchers.h"

namespace nas {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::nas::testing::IsOk;
using ::nas::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class DatasetFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/nasdfXXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& bytes) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

  // UCR text: `rows` rows of `values` values, labels cycling through
  // `labels`.
  std::string Tsv(const std::string& name, int rows, int values,
                  const std::vector<std::string>& labels) {
    std::string text;
    for (int r = 0; r < rows; ++r) {
      text += labels[r % labels.size()];
      for (int i = 0; i < values; ++i) {
        text += "\t" + std::to_string(0.5 * r - 0.25 * i);
      }
      text += "\n";
    }
    return Write(name, text);
  }

  // A custom UCR data set of {channels, length} series.
  v1::DatasetSpec Custom(const std::string& train, int channels, int length,
                         int classes) {
    v1::DatasetSpec spec;
    spec.set_name("mine");
    spec.set_format(v1::UCR_TSV);
    spec.set_train_path(train);
    spec.mutable_input_shape()->add_dims(channels);
    spec.mutable_input_shape()->add_dims(length);
    spec.set_num_classes(classes);
    return spec;
  }

  std::string dir_;
};

TEST_F(DatasetFilesTest, JapaneseVowelsIsBuiltInAndSummarised) {
  v1::DatasetSpec spec;
  spec.set_name("JapaneseVowels");
  spec.set_evaluate_test(true);
  NAS_ASSERT_OK_AND_ASSIGN(v1::DatasetSpec d,
                           ResolveDataset(spec, DefaultDataRoot()));
  EXPECT_EQ(d.name(), "japanese-vowels");
  EXPECT_EQ(d.format(), v1::TS);
  EXPECT_THAT(d.input_shape().dims(), ElementsAre(12, 29));
  EXPECT_EQ(d.num_classes(), 9);
  EXPECT_EQ(d.train_path(), DefaultDataRoot() +
                                "/japanese-vowels/JapaneseVowels_TRAIN.ts.gz");
  // What the workers will do, said in the stored spec.
  EXPECT_EQ(d.layout(), v1::CHANNEL_MAJOR);
  EXPECT_EQ(d.pad(), v1::PAD_END);
  EXPECT_EQ(d.length(), 29);
  EXPECT_EQ(d.normalization(), v1::NORMALIZATION_ZSCORE);
  const v1::DatasetSummary& s = d.summary();
  EXPECT_EQ(s.train_samples(), 270);
  EXPECT_EQ(s.test_samples(), 370);
  EXPECT_THAT(s.class_names(),
              ElementsAre("1", "2", "3", "4", "5", "6", "7", "8", "9"));
  EXPECT_EQ(s.min_length(), 7);
  EXPECT_EQ(s.max_length(), 29);
  EXPECT_EQ(s.cut(), 0);
  EXPECT_GT(s.padded(), 600);  // Nearly every series is shorter than 29.
  NAS_ASSERT_OK_AND_ASSIGN(v1::DatasetSpec again,
                           ResolveDataset(d, DefaultDataRoot()));
  EXPECT_TRUE(MessageDifferencer::Equals(d, again));
}

TEST_F(DatasetFilesTest, ImagesDefaultToScaleSeriesToZscore) {
  v1::DatasetSpec fashion;
  fashion.set_name("fashion-mnist");
  NAS_ASSERT_OK_AND_ASSIGN(v1::DatasetSpec f,
                           ResolveDataset(fashion, DefaultDataRoot()));
  EXPECT_EQ(f.normalization(), v1::NORMALIZATION_SCALE);
  EXPECT_EQ(f.summary().train_samples(), 60000);
  EXPECT_EQ(f.summary().class_names_size(), 10);
  // Images have no series options.
  EXPECT_EQ(f.layout(), v1::SERIES_LAYOUT_UNSPECIFIED);
  EXPECT_EQ(f.length(), 0);

  v1::DatasetSpec ecg;
  ecg.set_name("ecg5000");
  ecg.set_normalization(v1::NORMALIZATION_NONE);  // The spec's choice stands.
  NAS_ASSERT_OK_AND_ASSIGN(v1::DatasetSpec e,
                           ResolveDataset(ecg, DefaultDataRoot()));
  EXPECT_EQ(e.normalization(), v1::NORMALIZATION_NONE);
  EXPECT_EQ(e.summary().train_samples(), 500);
  EXPECT_EQ(e.length(), 140);
}

TEST_F(DatasetFilesTest, ClientSummaryIsReplaced) {
  v1::DatasetSpec spec = Custom(Tsv("t.tsv", 6, 8, {"a", "b"}), 1, 8, 2);
  spec.mutable_summary()->set_train_samples(999);
  spec.mutable_summary()->add_class_names("forged");
  NAS_ASSERT_OK_AND_ASSIGN(v1::DatasetSpec d, ResolveDataset(spec, dir_));
  EXPECT_EQ(d.summary().train_samples(), 6);
  EXPECT_THAT(d.summary().class_names(), ElementsAre("a", "b"));
}

TEST_F(DatasetFilesTest, ShapeUnlikeInputShapeNamesFileAndLine) {
  // Two channels of 4: 8 values a row; line 3 has 7.
  const std::string path = Write("bad.tsv",
                                 "1 1 2 3 4 5 6 7 8\n"
                                 "2 1 2 3 4 5 6 7 8\n"
                                 "1 1 2 3 4 5 6 7\n");
  EXPECT_THAT(ResolveDataset(Custom(path, 2, 4, 2), dir_),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(path + ": line 3")));
}

TEST_F(DatasetFilesTest, MoreLabelsThanClassesIsRefused) {
  const std::string path = Tsv("four.tsv", 8, 5, {"1", "2", "3", "4"});
  EXPECT_THAT(ResolveDataset(Custom(path, 1, 5, 3), dir_),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(path), HasSubstr("4"))));
}

TEST_F(DatasetFilesTest, EmptyAndJunkFilesAreRefusedNamingTheFile) {
  const std::string empty = Write("empty.tsv", "");
  EXPECT_THAT(ResolveDataset(Custom(empty, 1, 5, 2), dir_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(empty)));
  std::string bytes;
  for (int i = 0; i < 4096; ++i) bytes.push_back(static_cast<char>(i * 37));
  const std::string junk = Write("junk.tsv", bytes);
  EXPECT_THAT(ResolveDataset(Custom(junk, 1, 5, 2), dir_),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(junk), HasSubstr("line"))));
  v1::DatasetSpec idx;
  idx.set_name("junk-images");
  idx.set_format(v1::IDX);
  idx.set_train_path(junk);
  idx.set_train_labels_path(junk);
  idx.mutable_input_shape()->add_dims(1);
  idx.mutable_input_shape()->add_dims(28);
  idx.mutable_input_shape()->add_dims(28);
  idx.set_num_classes(10);
  EXPECT_THAT(ResolveDataset(idx, dir_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(junk)));
}

TEST_F(DatasetFilesTest, CsvTakesItsLabelColumn) {
  const std::string path = Write("s.csv",
                                 "x1,x2,x3,activity\n"
                                 "0.1,0.2,0.3,walk\n"
                                 "0.4,0.5,0.6,run\n"
                                 "0.7,0.8,0.9,walk\n");
  v1::DatasetSpec spec = Custom(path, 1, 3, 2);
  spec.set_format(v1::CSV);
  EXPECT_THAT(ResolveDataset(spec, dir_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(path)));
  spec.set_label_column("activity");
  NAS_ASSERT_OK_AND_ASSIGN(v1::DatasetSpec d, ResolveDataset(spec, dir_));
  EXPECT_THAT(d.summary().class_names(), ElementsAre("run", "walk"));
  EXPECT_EQ(d.summary().train_samples(), 3);
  // Without one, the column is "label".
  v1::DatasetSpec unnamed = Custom(
      Write("l.csv", "a,b,label\n1,2,x\n3,4,y\n"), 1, 2, 2);
  unnamed.set_format(v1::CSV);
  NAS_ASSERT_OK_AND_ASSIGN(v1::DatasetSpec u, ResolveDataset(unnamed, dir_));
  EXPECT_EQ(u.label_column(), "label");
}

TEST_F(DatasetFilesTest, OptionsAreCheckedWithTheirField) {
  const std::string path = Tsv("ok.tsv", 12, 8, {"1", "2", "3"});
  v1::DatasetSpec spec = Custom(path, 1, 8, 3);
  spec.set_length(10);
  spec.set_label_column("y");
  spec.set_folds(21);
  EXPECT_THAT(
      ResolveDataset(spec, dir_),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("dataset.length: 10 differs from input_shape's "
                               "length 8"),
                     HasSubstr("dataset.label_column: only for the csv format"),
                     HasSubstr("validation.folds: must be 0 or 1"))));

  spec = Custom(path, 1, 8, 3);
  spec.set_layout(static_cast<v1::SeriesLayout>(9));
  spec.set_normalization(static_cast<v1::Normalization>(7));
  spec.set_pad(static_cast<v1::PadSide>(5));
  EXPECT_THAT(ResolveDataset(spec, dir_),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("dataset.layout: unknown value 9"),
                             HasSubstr("dataset.normalization: unknown value 7"),
                             HasSubstr("dataset.pad: unknown value 5"))));

  v1::DatasetSpec image;
  image.set_name("fashion-mnist");
  image.set_layout(v1::TIME_MAJOR);
  image.set_pad(v1::PAD_START);
  EXPECT_THAT(ResolveDataset(image, DefaultDataRoot()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("dataset.layout: applies to series"),
                             HasSubstr("dataset.pad: applies to series"))));

  spec = Custom(path, 1, 8, 3);
  spec.set_folds(3);
  spec.set_validation_subset(4);
  EXPECT_THAT(ResolveDataset(spec, dir_),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("dataset.validation_subset: not with "
                                 "validation.folds")));
}

TEST_F(DatasetFilesTest, LabelsFilesWhereTheFormatHasThem) {
  const std::string path = Tsv("ok.tsv", 6, 8, {"1", "2"});
  v1::DatasetSpec spec = Custom(path, 1, 8, 2);
  spec.set_train_labels_path(path);
  EXPECT_THAT(ResolveDataset(spec, dir_),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("dataset.train_labels_path: the ucr_tsv file")));
  v1::DatasetSpec idx;
  idx.set_name("digits");
  idx.set_format(v1::IDX);
  idx.set_train_path("/usr/share/datasets/fashion-mnist/"
                     "train-images-idx3-ubyte.gz");
  idx.mutable_input_shape()->add_dims(1);
  idx.mutable_input_shape()->add_dims(28);
  idx.mutable_input_shape()->add_dims(28);
  idx.set_num_classes(10);
  EXPECT_THAT(ResolveDataset(idx, dir_),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("dataset.train_labels_path: required for idx")));
}

TEST_F(DatasetFilesTest, FoldsNeedThatManySamples) {
  // ECG5000's class 5 has 2 training beats: it is missing from some folds'
  // validation splits, which is allowed.
  v1::DatasetSpec ecg;
  ecg.set_name("ecg5000");
  ecg.set_folds(5);
  NAS_ASSERT_OK_AND_ASSIGN(v1::DatasetSpec e,
                           ResolveDataset(ecg, DefaultDataRoot()));
  EXPECT_EQ(e.folds(), 5);
  // 4 samples cannot make 5 folds.
  const std::string path = Tsv("four.tsv", 4, 8, {"1", "2"});
  v1::DatasetSpec small = Custom(path, 1, 8, 2);
  small.set_folds(5);
  EXPECT_THAT(ResolveDataset(small, dir_),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("validation.folds: 5 folds of a training "
                                 "file of 4 samples (" + path + ")")));
  small.set_folds(4);
  EXPECT_THAT(ResolveDataset(small, dir_), IsOk());
  // Nor of a subset too small.
  v1::DatasetSpec vowels;
  vowels.set_name("japanese-vowels");
  vowels.set_folds(5);
  vowels.set_train_subset(4);
  EXPECT_THAT(ResolveDataset(vowels, DefaultDataRoot()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("validation.folds: 5 folds of a train_subset "
                                 "of 4 samples")));
}

}  // namespace
}  // namespace nas
