#ifndef NAS_TESTS_COMMON_DATA_TEST_FILES_H_
#define NAS_TESTS_COMMON_DATA_TEST_FILES_H_

// Files for the reader tests: the real data sets' paths, a per-test
// temporary directory, files written there (plain or gzip), Python scripts
// run with Debian's python3-numpy, and specs for them.

#include <cstdint>
#include <string>
#include <vector>

#include "common/data/samples.h"
#include "proto/nas.pb.h"

namespace nas::data::testing {

constexpr char kFashionDir[] = "/usr/share/datasets/fashion-mnist";

// data/<relative> in the source tree.
std::string SourceData(const std::string& relative);

// A fresh directory for one test; removed with its files on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // dir/name.
  std::string Path(const std::string& name) const;
  // Writes `contents` to dir/name (gzip-compressed when `gzip`); returns
  // the path.
  std::string Write(const std::string& name, const std::string& contents,
                    bool gzip = false) const;

 private:
  std::string dir_;
};

// Runs `script` with /usr/bin/python3 (Debian's, with numpy) in `dir`;
// returns "" on success, else the exit status and output.
std::string RunPython(const TempDir& dir, const std::string& script);

// A spec for one file of `format` with `shape` and `classes`.
v1::DatasetSpec Spec(v1::DatasetFormat format, const std::string& train_path,
                     const std::vector<int64_t>& shape, int classes = 0);

// The JapaneseVowels spec (.ts, {12, 29}, 9 classes, train and test).
v1::DatasetSpec JapaneseVowelsSpec();
// The ECG5000 spec (gzip TSV, {1, 140}, 5 classes, train and test).
v1::DatasetSpec Ecg5000Spec();

// Reads `spec`'s file of `role`, keeping the values unless told not to.
absl::StatusOr<RawSamples> Read(const v1::DatasetSpec& spec,
                                FileRole role = FileRole::kTrain,
                                bool keep_values = true);

// The text of a gzip file, decompressed with zlib here (not the readers).
std::string Gunzip(const std::string& path);

// The data lines of a .ts text (no '#', '@' or empty lines), each split
// into its channels' values (as parsed by strtof) and its label.
struct TsLine {
  std::vector<std::vector<float>> channels;
  std::string label;
};
std::vector<TsLine> ParseTsLines(const std::string& text);

// Occurrences of each label.
std::vector<std::pair<std::string, int64_t>> LabelCounts(
    const std::vector<std::string>& labels);

}  // namespace nas::data::testing

#endif  // NAS_TESTS_COMMON_DATA_TEST_FILES_H_
