// The text readers (UCR text, .ts, CSV) on real data sets and on files
// written here from them.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
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
using ::nas::data::testing::LabelCounts;
using ::nas::data::testing::ParseTsLines;
using ::nas::data::testing::Read;
using ::nas::data::testing::Spec;
using ::nas::data::testing::TempDir;
using ::nas::data::testing::TsLine;
using ::testing::ElementsAre;
using ::testing::Pair;

using Counts = std::vector<std::pair<std::string, int64_t>>;

// Sample i's channel c as read ({C, L} channel-major).
std::vector<float> Channel(const RawSamples& s, int64_t i, int64_t c) {
  const int64_t length = s.shape[1];
  const auto begin = s.values.begin() + i * s.sample_size() + c * length;
  return std::vector<float>(begin, begin + length);
}

// `values` fitted to `length` as PAD_END / PAD_START would.
std::vector<float> Fitted(std::vector<float> values, size_t length,
                          bool pad_start) {
  if (values.size() >= length) {
    const size_t skip = pad_start ? values.size() - length : 0;
    return std::vector<float>(values.begin() + skip,
                              values.begin() + skip + length);
  }
  std::vector<float> zeros(length - values.size(), 0.0f);
  if (pad_start) {
    zeros.insert(zeros.end(), values.begin(), values.end());
    return zeros;
  }
  values.insert(values.end(), zeros.begin(), zeros.end());
  return values;
}

TEST(TsReaderTest, JapaneseVowelsTrainPaddedTo29) {
  const v1::DatasetSpec spec = JapaneseVowelsSpec();
  NAS_ASSERT_OK_AND_ASSIGN(RawSamples s, Read(spec));
  EXPECT_EQ(s.count, 270);
  EXPECT_THAT(s.shape, ElementsAre(12, 29));
  EXPECT_FALSE(s.eight_bit);
  EXPECT_EQ(s.values.size(), 270u * 12 * 29);
  EXPECT_EQ(s.min_length, 7);
  EXPECT_EQ(s.max_length, 26);
  EXPECT_EQ(s.padded, 270);
  EXPECT_EQ(s.cut, 0);
  const Counts thirty = {{"1", 30}, {"2", 30}, {"3", 30}, {"4", 30}, {"5", 30},
                         {"6", 30}, {"7", 30}, {"8", 30}, {"9", 30}};
  EXPECT_EQ(LabelCounts(s.labels), thirty);
  // Every series equals the file's text, zeros after its end.
  const std::vector<TsLine> lines = ParseTsLines(Gunzip(spec.train_path()));
  ASSERT_EQ(lines.size(), 270u);
  for (int64_t i : {0, 1, 100, 269}) {
    EXPECT_EQ(s.labels[i], lines[i].label);
    for (int64_t c : {0, 5, 11}) {
      EXPECT_EQ(Channel(s, i, c), Fitted(lines[i].channels[c], 29, false))
          << "sample " << i << " channel " << c;
    }
  }
}

TEST(TsReaderTest, JapaneseVowelsTestCounts) {
  NAS_ASSERT_OK_AND_ASSIGN(RawSamples s,
                           Read(JapaneseVowelsSpec(), FileRole::kTest, false));
  EXPECT_EQ(s.count, 370);
  EXPECT_THAT(s.shape, ElementsAre(12, 29));
  EXPECT_TRUE(s.values.empty());  // keep_values false.
  EXPECT_EQ(s.min_length, 7);
  EXPECT_EQ(s.max_length, 29);
  EXPECT_EQ(s.padded, 369);
  const Counts expected = {{"1", 31}, {"2", 35}, {"3", 88},
                           {"4", 44}, {"5", 29}, {"6", 24},
                           {"7", 40}, {"8", 50}, {"9", 29}};
  EXPECT_EQ(LabelCounts(s.labels), expected);
}

TEST(TsReaderTest, JapaneseVowelsCutTo20AtEitherEnd) {
  v1::DatasetSpec spec = JapaneseVowelsSpec();
  spec.set_length(20);
  spec.mutable_input_shape()->set_dims(1, 20);
  const std::vector<TsLine> lines = ParseTsLines(Gunzip(spec.train_path()));
  for (v1::PadSide pad : {v1::PAD_END, v1::PAD_START}) {
    spec.set_pad(pad);
    NAS_ASSERT_OK_AND_ASSIGN(RawSamples s, Read(spec));
    EXPECT_THAT(s.shape, ElementsAre(12, 20));
    EXPECT_EQ(s.cut, 35);
    EXPECT_EQ(s.padded, 227);
    int checked_long = 0, checked_short = 0;
    for (size_t i = 0; i < lines.size(); ++i) {
      const size_t length = lines[i].channels[0].size();
      if (length == 20) continue;
      int& checked = length > 20 ? checked_long : checked_short;
      if (checked++ >= 3) continue;
      for (int64_t c : {0, 11}) {
        EXPECT_EQ(Channel(s, i, c),
                  Fitted(lines[i].channels[c], 20, pad == v1::PAD_START))
            << "sample " << i << " of length " << length;
      }
    }
    EXPECT_GT(checked_long, 0);
    EXPECT_GT(checked_short, 0);
  }
}

TEST(TsReaderTest, StringLabelsUnequalLengthsGzip) {
  TempDir dir;
  const std::string text =
      "# An IMU-like set with string labels.\n"
      "@problemName Moves\n@timeStamps false\n@missing false\n"
      "@univariate false\n@dimensions 2\n@equalLength false\n"
      "@classLabel true walk run sit\n@data\n"
      "1,2,3:4,5,6:walk\n"
      "1.5e+00,-2e-1:3,4:run\n"
      "7,8,9,10:1,2,3,4:sit\n";
  for (bool gzip : {false, true}) {
    v1::DatasetSpec spec =
        Spec(v1::TS, dir.Write(gzip ? "moves.ts.gz" : "moves.ts", text, gzip),
             {2, 3}, 3);
    NAS_ASSERT_OK_AND_ASSIGN(RawSamples s, Read(spec));
    EXPECT_EQ(s.count, 3);
    EXPECT_THAT(s.labels, ElementsAre("walk", "run", "sit"));
    EXPECT_THAT(s.values, ElementsAre(1, 2, 3, 4, 5, 6,         //
                                      1.5f, -0.2f, 0, 3, 4, 0,  //
                                      7, 8, 9, 1, 2, 3));
    EXPECT_EQ(s.padded, 1);
    EXPECT_EQ(s.cut, 1);
    EXPECT_THAT(SortedDistinctLabels(s.labels),
                ElementsAre("run", "sit", "walk"));
  }
}

TEST(UcrTextReaderTest, Ecg5000Tsv) {
  const v1::DatasetSpec spec = Ecg5000Spec();
  NAS_ASSERT_OK_AND_ASSIGN(RawSamples train, Read(spec));
  EXPECT_EQ(train.count, 500);
  EXPECT_THAT(train.shape, ElementsAre(1, 140));
  EXPECT_EQ(train.values.size(), 500u * 140);
  EXPECT_EQ(train.padded + train.cut, 0);
  const Counts expected = {
      {"1", 292}, {"2", 177}, {"3", 10}, {"4", 19}, {"5", 2}};
  EXPECT_EQ(LabelCounts(train.labels), expected);
  // The first row as text: label, then the values.
  const std::string text = Gunzip(spec.train_path());
  const std::string first = text.substr(0, text.find('\n'));
  std::vector<std::string> fields = absl::StrSplit(first, '\t');
  ASSERT_EQ(fields.size(), 141u);
  EXPECT_EQ(train.labels[0], absl::StrCat(std::stoi(fields[0])));
  for (int i : {1, 70, 140}) {
    EXPECT_EQ(train.values[i - 1], std::strtof(fields[i].c_str(), nullptr));
  }
  NAS_ASSERT_OK_AND_ASSIGN(RawSamples test, Read(spec, FileRole::kTest, false));
  EXPECT_EQ(test.count, 4500);
  EXPECT_EQ(
      LabelCounts(test.labels),
      (Counts{{"1", 2627}, {"2", 1590}, {"3", 86}, {"4", 175}, {"5", 22}}));
}

// The archive's older .txt form: blanks between fields, numbers (labels
// too) in scientific notation, as written here from the real file.
TEST(UcrTextReaderTest, Ecg5000AsWhitespaceScientificText) {
  NAS_ASSERT_OK_AND_ASSIGN(RawSamples tsv, Read(Ecg5000Spec()));
  std::string text;
  for (int64_t i = 0; i < tsv.count; ++i) {
    absl::StrAppend(&text, "  ",
                    absl::StrFormat("%.7e", std::stod(tsv.labels[i])));
    for (int64_t j = 0; j < 140; ++j) {
      absl::StrAppend(&text, j % 2 ? "   " : " ",
                      absl::StrFormat("%.8e", tsv.values[i * 140 + j]));
    }
    absl::StrAppend(&text, "\n");
  }
  TempDir dir;
  const std::string path = dir.Write("ECG5000_TRAIN.txt", text);
  ASSERT_NE(text.find("1.0000000e+00"), std::string::npos);
  NAS_ASSERT_OK_AND_ASSIGN(RawSamples txt,
                           Read(Spec(v1::UCR_TSV, path, {140}, 5)));
  EXPECT_THAT(txt.shape, ElementsAre(1, 140));
  EXPECT_EQ(txt.labels, tsv.labels);  // "1.0000000e+00" is class "1".
  EXPECT_EQ(txt.values, tsv.values);
}

// A 6-channel x 100 IMU-like set: the same samples written channel-major
// and time-major read back identically.
TEST(UcrTextReaderTest, SixChannelLayouts) {
  constexpr int kChannels = 6, kLength = 100, kSamples = 4;
  auto value = [](int n, int c, int t) { return n * 10000 + c * 1000 + t; };
  std::string channel_major, time_major;
  std::vector<float> expected;
  for (int n = 0; n < kSamples; ++n) {
    const std::string label = n % 2 ? "wave" : "shake";
    absl::StrAppend(&channel_major, label);
    absl::StrAppend(&time_major, label);
    for (int c = 0; c < kChannels; ++c) {
      for (int t = 0; t < kLength; ++t) {
        absl::StrAppend(&channel_major, "\t", value(n, c, t));
        expected.push_back(value(n, c, t));
      }
    }
    for (int t = 0; t < kLength; ++t) {
      for (int c = 0; c < kChannels; ++c) {
        absl::StrAppend(&time_major, "\t", value(n, c, t));
      }
    }
    absl::StrAppend(&channel_major, "\n");
    absl::StrAppend(&time_major, "\n");
  }
  TempDir dir;
  v1::DatasetSpec spec =
      Spec(v1::UCR_TSV, dir.Write("imu_cm.tsv", channel_major),
           {kChannels, kLength}, 2);
  NAS_ASSERT_OK_AND_ASSIGN(RawSamples cm, Read(spec));
  EXPECT_THAT(cm.shape, ElementsAre(kChannels, kLength));
  EXPECT_EQ(cm.values, expected);
  spec.set_train_path(dir.Write("imu_tm.tsv", time_major));
  spec.set_layout(v1::TIME_MAJOR);
  NAS_ASSERT_OK_AND_ASSIGN(RawSamples tm, Read(spec));
  EXPECT_EQ(tm.values, expected);
  EXPECT_EQ(tm.labels, cm.labels);
}

TEST(CsvReaderTest, LayoutsQuotesAndLabelColumn) {
  // Two channels of three steps; the label column sits in the middle.
  const std::string channel_major =
      "c0t0,c0t1,c0t2,\"activity\",c1t0,c1t1,c1t2\n"
      "1,2,3,\"walk, fast\",4,5,6\n"
      "\"7\",8,9,sit,10,11,1.2e+01\n";
  const std::string time_major =
      "t0c0,t0c1,t1c0,activity,t1c1,t2c0,t2c1\r\n"
      "1,4,2,\"walk, fast\",5,3,6\r\n"
      "7,10,8,sit,11,9,12\r\n";
  TempDir dir;
  v1::DatasetSpec spec =
      Spec(v1::CSV, dir.Write("cm.csv.gz", channel_major, true), {2, 3}, 2);
  spec.set_label_column("activity");
  NAS_ASSERT_OK_AND_ASSIGN(RawSamples cm, Read(spec));
  EXPECT_THAT(cm.labels, ElementsAre("walk, fast", "sit"));
  EXPECT_THAT(cm.values, ElementsAre(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12));
  spec.set_train_path(dir.Write("tm.csv", time_major));
  spec.set_layout(v1::TIME_MAJOR);
  NAS_ASSERT_OK_AND_ASSIGN(RawSamples tm, Read(spec));
  EXPECT_EQ(tm.values, cm.values);
  EXPECT_EQ(tm.labels, cm.labels);
}

TEST(CsvReaderTest, ImagesFlattenedChannelRowColumn) {
  TempDir dir;
  const std::string path = dir.Write(
      "img.csv", "label,p0,p1,p2,p3,p4,p5\n3,0,1,2,3,4,5\n10,5,4,3,2,1,0\n");
  NAS_ASSERT_OK_AND_ASSIGN(RawSamples s,
                           Read(Spec(v1::CSV, path, {1, 2, 3}, 11)));
  EXPECT_THAT(s.shape, ElementsAre(1, 2, 3));
  EXPECT_FALSE(s.eight_bit);
  EXPECT_THAT(s.values, ElementsAre(0, 1, 2, 3, 4, 5, 5, 4, 3, 2, 1, 0));
  EXPECT_THAT(SortedDistinctLabels(s.labels), ElementsAre("3", "10"));
}

TEST(LabelsTest, NumbersAreCanonicalAndSortNumerically) {
  TempDir dir;
  const std::string path = dir.Write(
      "labels.tsv", "1.0000000e+00\t1\n01\t2\n10\t3\n2.0\t4\n-1\t5\n");
  NAS_ASSERT_OK_AND_ASSIGN(RawSamples s, Read(Spec(v1::UCR_TSV, path, {1, 1})));
  EXPECT_THAT(s.labels, ElementsAre("1", "1", "10", "2", "-1"));
  EXPECT_THAT(SortedDistinctLabels(s.labels),
              ElementsAre("-1", "1", "2", "10"));
  EXPECT_THAT(SortedDistinctLabels({"b", "10", "a"}),
              ElementsAre("10", "a", "b"));
}

}  // namespace
}  // namespace nas::data
