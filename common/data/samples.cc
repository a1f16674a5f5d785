#include "common/data/samples.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/data/formats.h"
#include "common/status_macros.h"

namespace nas::data {

int64_t RawSamples::sample_size() const {
  if (shape.empty()) return 0;
  int64_t size = 1;
  for (int64_t dim : shape) size *= dim;
  return size;
}

absl::StatusOr<RawSamples> ReadSamples(const v1::DatasetSpec& spec,
                                       FileRole role,
                                       const ReadOptions& options) {
  const FormatInfo* format = FindFormat(spec.format());
  if (format == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "dataset.format: unknown format ",
        v1::DatasetFormat_Name(spec.format()), " (", FormatNames(), ")"));
  }
  const bool train = role == FileRole::kTrain;
  const char* field = train ? "train" : "test";
  const DataFile file{
      train ? spec.train_path() : spec.test_path(),
      train ? spec.train_labels_path() : spec.test_labels_path()};
  if (file.path.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("dataset.", field, "_path: not set"));
  }
  if (format->labels_file == LabelsFile::kRequired &&
      file.labels_path.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "dataset.", field, "_labels_path: required for ", format->name));
  }
  if (format->labels_file == LabelsFile::kNone && !file.labels_path.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "dataset.", field, "_labels_path: ", format->name,
        " keeps the labels in the data file; give no labels file"));
  }
  NAS_ASSIGN_OR_RETURN(RawSamples samples, format->read(file, spec, options));
  if (samples.count == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(file.path, ": no samples (an empty file?)"));
  }
  if (static_cast<int64_t>(samples.labels.size()) != samples.count) {
    return absl::InternalError(absl::StrCat(file.path, ": ", samples.count,
                                            " samples but ",
                                            samples.labels.size(), " labels"));
  }
  return samples;
}

std::string ReadingKey(const v1::DatasetSpec& spec, FileRole role) {
  const bool train = role == FileRole::kTrain;
  return absl::StrCat(
      v1::DatasetFormat_Name(spec.format()), "\n",
      train ? spec.train_path() : spec.test_path(), "\n",
      train ? spec.train_labels_path() : spec.test_labels_path(), "\nshape ",
      absl::StrJoin(spec.input_shape().dims(), ","), "\nlayout ",
      static_cast<int>(spec.layout()), "\nlength ", spec.length(), "\npad ",
      static_cast<int>(spec.pad()), "\nlabel ", spec.label_column());
}

std::vector<std::string> SortedDistinctLabels(
    const std::vector<std::string>& labels) {
  const std::set<std::string> distinct(labels.begin(), labels.end());
  std::vector<std::pair<double, std::string>> numeric;
  for (const std::string& label : distinct) {
    double value = 0;
    if (!absl::SimpleAtod(label, &value) || !std::isfinite(value)) {
      return std::vector<std::string>(distinct.begin(), distinct.end());
    }
    numeric.emplace_back(value, label);
  }
  std::sort(numeric.begin(), numeric.end());
  std::vector<std::string> sorted;
  sorted.reserve(numeric.size());
  for (auto& entry : numeric) sorted.push_back(std::move(entry.second));
  return sorted;
}

}  // namespace nas::data
