#include "tests/common/data/test_files.h"

#include <stdlib.h>
#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

#ifndef TINYNAS_TEST_SOURCE_DATA_DIR
#error "TINYNAS_TEST_SOURCE_DATA_DIR must be defined by the build"
#endif

namespace nas::data::testing {

std::string SourceData(const std::string& relative) {
  return absl::StrCat(TINYNAS_TEST_SOURCE_DATA_DIR, "/", relative);
}

TempDir::TempDir() {
  std::string pattern =
      absl::StrCat(::testing::TempDir(), "/nas_data_test_XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp failed for " << pattern;
  }
  dir_ = pattern;
}

TempDir::~TempDir() {
  std::error_code error;
  std::filesystem::remove_all(dir_, error);
}

std::string TempDir::Path(const std::string& name) const {
  return absl::StrCat(dir_, "/", name);
}

std::string TempDir::Write(const std::string& name, const std::string& contents,
                           bool gzip) const {
  const std::string path = Path(name);
  if (gzip) {
    gzFile file = gzopen(path.c_str(), "wb9");
    EXPECT_NE(file, nullptr) << path;
    if (file == nullptr) return path;
    EXPECT_EQ(gzwrite(file, contents.data(), contents.size()),
              static_cast<int>(contents.size()));
    gzclose(file);
  } else {
    std::ofstream out(path, std::ios::binary);
    out << contents;
    EXPECT_TRUE(out.good()) << path;
  }
  return path;
}

std::string RunPython(const TempDir& dir, const std::string& script) {
  const std::string script_path = dir.Write("script.py", script);
  const std::string log = dir.Path("python.log");
  const std::string command =
      absl::StrCat("cd '", dir.Path(""), "' && /usr/bin/python3 '", script_path,
                   "' > '", log, "' 2>&1");
  const int status = std::system(command.c_str());
  if (status == 0) return "";
  std::ifstream in(log);
  std::string output((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
  return absl::StrCat("python3 exited with ", status, ": ", output);
}

v1::DatasetSpec Spec(v1::DatasetFormat format, const std::string& train_path,
                     const std::vector<int64_t>& shape, int classes) {
  v1::DatasetSpec spec;
  spec.set_name("custom");
  spec.set_format(format);
  spec.set_train_path(train_path);
  for (int64_t dim : shape) spec.mutable_input_shape()->add_dims(dim);
  spec.set_num_classes(classes);
  return spec;
}

v1::DatasetSpec JapaneseVowelsSpec() {
  v1::DatasetSpec spec =
      Spec(v1::TS, SourceData("japanese-vowels/JapaneseVowels_TRAIN.ts.gz"),
           {12, 29}, 9);
  spec.set_test_path(SourceData("japanese-vowels/JapaneseVowels_TEST.ts.gz"));
  spec.set_evaluate_test(true);
  return spec;
}

v1::DatasetSpec Ecg5000Spec() {
  v1::DatasetSpec spec = Spec(
      v1::UCR_TSV, SourceData("ecg5000/ECG5000_TRAIN.tsv.gz"), {1, 140}, 5);
  spec.set_test_path(SourceData("ecg5000/ECG5000_TEST_float32.tsv.gz"));
  spec.set_evaluate_test(true);
  return spec;
}

absl::StatusOr<RawSamples> Read(const v1::DatasetSpec& spec, FileRole role,
                                bool keep_values) {
  ReadOptions options;
  options.keep_values = keep_values;
  return ReadSamples(spec, role, options);
}

std::string Gunzip(const std::string& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  EXPECT_NE(file, nullptr) << path;
  if (file == nullptr) return "";
  std::string text;
  char buffer[1 << 16];
  int n = 0;
  while ((n = gzread(file, buffer, sizeof(buffer))) > 0) text.append(buffer, n);
  gzclose(file);
  return text;
}

std::vector<TsLine> ParseTsLines(const std::string& text) {
  std::vector<TsLine> lines;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#' || line[0] == '@') continue;
    std::vector<std::string> parts = absl::StrSplit(line, ':');
    TsLine parsed;
    parsed.label = parts.back();
    parts.pop_back();
    for (const std::string& part : parts) {
      std::vector<float> values;
      for (const std::string& field :
           std::vector<std::string>(absl::StrSplit(part, ','))) {
        values.push_back(std::strtof(field.c_str(), nullptr));
      }
      parsed.channels.push_back(values);
    }
    lines.push_back(parsed);
  }
  return lines;
}

std::vector<std::pair<std::string, int64_t>> LabelCounts(
    const std::vector<std::string>& labels) {
  std::map<std::string, int64_t> counts;
  for (const std::string& label : labels) ++counts[label];
  return {counts.begin(), counts.end()};
}

}  // namespace nas::data::testing
