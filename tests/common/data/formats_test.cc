// The format registry, and what every format's reader does with files that
// are not of its format: each row is covered here for free.
#include "common/data/formats.h"

#include <sys/stat.h>

#include <random>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/data/test_files.h"
#include "tests/status_matchers.h"

namespace nas::data {
namespace {

using ::nas::data::testing::Read;
using ::nas::data::testing::Spec;
using ::nas::data::testing::TempDir;
using ::nas::testing::StatusIs;
using ::testing::AnyOf;
using ::testing::HasSubstr;

TEST(FormatsTest, LookupsByEnumNameAndAlias) {
  EXPECT_EQ(FormatNames(), "idx, ucr_tsv, ts, csv, npy");
  for (const FormatInfo& info : Formats()) {
    EXPECT_EQ(FindFormat(info.format), &info) << info.name;
    EXPECT_EQ(FindFormat(info.name), &info);
    EXPECT_NE(info.read, nullptr);
    EXPECT_GT(std::string(info.description).size(), 10u);
    for (const char* alias : info.aliases) EXPECT_EQ(FindFormat(alias), &info);
    EXPECT_TRUE(v1::DatasetFormat_IsValid(info.format));
  }
  EXPECT_EQ(FindFormat("UCR-TSV")->format, v1::UCR_TSV);
  EXPECT_EQ(FindFormat(" TSV ")->format, v1::UCR_TSV);
  EXPECT_EQ(FindFormat("txt")->format, v1::UCR_TSV);
  EXPECT_EQ(FindFormat("NPZ")->format, v1::NUMPY);
  EXPECT_EQ(FindFormat("numpy")->format, v1::NUMPY);
  EXPECT_EQ(FindFormat("Ts")->format, v1::TS);
  EXPECT_EQ(FindFormat("parquet"), nullptr);
  EXPECT_EQ(FindFormat(v1::DATASET_FORMAT_UNSPECIFIED), nullptr);
  EXPECT_EQ(FindFormat(v1::IDX)->labels_file, LabelsFile::kRequired);
  EXPECT_EQ(FindFormat(v1::NUMPY)->labels_file, LabelsFile::kOptional);
  EXPECT_EQ(FindFormat(v1::CSV)->labels_file, LabelsFile::kNone);
}

// Every enum value but UNSPECIFIED has a row.
TEST(FormatsTest, EveryDatasetFormatHasARow) {
  const auto* descriptor = v1::DatasetFormat_descriptor();
  for (int i = 0; i < descriptor->value_count(); ++i) {
    const auto format =
        static_cast<v1::DatasetFormat>(descriptor->value(i)->number());
    if (format == v1::DATASET_FORMAT_UNSPECIFIED) continue;
    EXPECT_NE(FindFormat(format), nullptr) << descriptor->value(i)->name();
  }
}

// A spec naming `path` (and `labels` where the format takes a labels file).
v1::DatasetSpec JunkSpec(const FormatInfo& info, const std::string& path,
                         const std::string& labels) {
  v1::DatasetSpec spec = Spec(info.format, path, {1, 28, 28}, 10);
  if (info.labels_file != LabelsFile::kNone) spec.set_train_labels_path(labels);
  return spec;
}

std::string RandomBytes(size_t size, unsigned seed) {
  std::mt19937 random(seed);
  std::string bytes(size, '\0');
  for (char& c : bytes) c = static_cast<char>(random() & 0xff);
  return bytes;
}

class EveryFormatTest : public ::testing::TestWithParam<FormatInfo> {};

TEST_P(EveryFormatTest, RefusesBinaryJunkNamingTheFile) {
  const FormatInfo& info = GetParam();
  TempDir dir;
  for (unsigned seed : {1u, 2u, 3u}) {
    std::string junk = RandomBytes(4096, seed);
    if (seed == 2) junk.replace(0, 4, "PK\x03\x04");  // Like a zip.
    if (seed == 3) junk.replace(0, 6, "\x93NUMPY");   // Like an .npy.
    const std::string path = dir.Write("junk.bin", junk);
    const std::string labels =
        dir.Write("labels.bin", RandomBytes(512, seed + 10));
    const auto result = Read(JunkSpec(info, path, labels));
    EXPECT_THAT(result, StatusIs(absl::StatusCode::kInvalidArgument,
                                 HasSubstr(dir.Path(""))))
        << info.name << " seed " << seed;
  }
  // Gzip junk: a gzip header, then garbage.
  std::string gzip = RandomBytes(4096, 9);
  gzip.replace(0, 4, "\x1f\x8b\x08\x00");
  const std::string path = dir.Write("junk.gz", gzip);
  const auto gzip_result = Read(JunkSpec(info, path, path));
  EXPECT_THAT(
      gzip_result.status().code(),
      AnyOf(absl::StatusCode::kDataLoss, absl::StatusCode::kInvalidArgument))
      << info.name << ": " << gzip_result.status();
  EXPECT_THAT(gzip_result.status().message(), HasSubstr(path));
}

TEST_P(EveryFormatTest, RefusesAnEmptyFile) {
  const FormatInfo& info = GetParam();
  TempDir dir;
  const std::string path = dir.Write("empty", "");
  EXPECT_THAT(Read(JunkSpec(info, path, path)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(path)))
      << info.name;
}

TEST_P(EveryFormatTest, MissingFileIsNotFound) {
  const FormatInfo& info = GetParam();
  TempDir dir;
  const std::string path = dir.Path("absent");
  EXPECT_THAT(Read(JunkSpec(info, path, path)),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(path)))
      << info.name;
}

// A directory, and a FIFO no one writes to (opening it must not hang).
TEST_P(EveryFormatTest, RefusesWhatIsNotARegularFile) {
  const FormatInfo& info = GetParam();
  TempDir dir;
  const std::string fifo = dir.Path("fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  for (const std::string& path : {dir.Path(""), fifo}) {
    const auto result = Read(JunkSpec(info, path, path));
    EXPECT_THAT(
        result.status().code(),
        AnyOf(absl::StatusCode::kInvalidArgument, absl::StatusCode::kNotFound))
        << info.name << ": " << result.status();
    EXPECT_THAT(result.status().message(), HasSubstr(path));
  }
}

INSTANTIATE_TEST_SUITE_P(Registry, EveryFormatTest,
                         ::testing::ValuesIn(Formats()),
                         [](const ::testing::TestParamInfo<FormatInfo>& info) {
                           return std::string(info.param.name);
                         });

TEST(ReadSamplesTest, LabelsFileRules) {
  TempDir dir;
  const std::string path = dir.Write("a.tsv", "1\t2\n");
  v1::DatasetSpec tsv = Spec(v1::UCR_TSV, path, {1, 1});
  tsv.set_train_labels_path(path);
  EXPECT_THAT(Read(tsv), StatusIs(absl::StatusCode::kInvalidArgument,
                                  HasSubstr("dataset.train_labels_path")));
  EXPECT_THAT(Read(Spec(v1::IDX, path, {1, 28, 28})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("train_labels_path: required for idx")));
  EXPECT_THAT(Read(Spec(v1::UCR_TSV, path, {1, 1}), FileRole::kTest),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("dataset.test_path: not set")));
  EXPECT_THAT(Read(Spec(v1::DATASET_FORMAT_UNSPECIFIED, path, {1, 1})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("idx, ucr_tsv, ts, csv, npy")));
}

}  // namespace
}  // namespace nas::data
