#include "common/datasets.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "common/architecture.h"
#include "common/data/formats.h"
#include "common/dataset_options.h"
#include "common/status_macros.h"

#ifndef TINYNAS_SOURCE_DATA_DIR
#error "TINYNAS_SOURCE_DATA_DIR must be defined by the build"
#endif

namespace nas {
namespace {

constexpr char kFashionMnistDir[] = "/usr/share/datasets/fashion-mnist";

// A data set tinynas knows by name.
struct Builtin {
  const char* name;
  std::vector<std::string> aliases;  // Compared after CanonicalName.
  v1::DatasetFormat format;
  std::vector<int64_t> shape;
  int classes;
  const char* dir;  // Absolute, or relative to the data root.
  const char* train;
  const char* train_labels;  // "" when the format has no labels file.
  const char* test;
  const char* test_labels;
};

const std::vector<Builtin>& Builtins() {
  static const auto* builtins = new std::vector<Builtin>{
      {"fashion-mnist", {"fashionmnist", "fmnist"}, v1::IDX, {1, 28, 28}, 10,
       kFashionMnistDir, "train-images-idx3-ubyte.gz",
       "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
       "t10k-labels-idx1-ubyte.gz"},
      {"ecg5000", {"ecg-5000"}, v1::UCR_TSV, {1, 140}, 5, "ecg5000",
       "ECG5000_TRAIN.tsv.gz", "", "ECG5000_TEST_float32.tsv.gz", ""},
      {"japanese-vowels", {"japanesevowels"}, v1::TS, {12, 29}, 9,
       "japanese-vowels", "JapaneseVowels_TRAIN.ts.gz", "",
       "JapaneseVowels_TEST.ts.gz", ""},
  };
  return *builtins;
}

// Collected problems; `only_missing_files` tells whether every one is a
// missing file.
struct Problems {
  std::vector<std::string> lines;
  bool only_missing_files = true;

  void Invalid(const std::string& line) {
    lines.push_back(line);
    only_missing_files = false;
  }
  absl::Status ToStatus() const {
    if (lines.empty()) return absl::OkStatus();
    const std::string message = absl::StrJoin(lines, "\n");
    return only_missing_files ? absl::NotFoundError(message)
                              : absl::InvalidArgumentError(message);
  }
};

std::string CanonicalName(const std::string& name) {
  std::string s = absl::AsciiStrToLower(absl::StripAsciiWhitespace(name));
  absl::StrReplaceAll({{"_", "-"}}, &s);
  for (const Builtin& b : Builtins()) {
    if (std::find(b.aliases.begin(), b.aliases.end(), s) != b.aliases.end()) {
      return b.name;
    }
  }
  return s;
}

const Builtin* FindBuiltin(const std::string& name) {
  const std::string canonical = CanonicalName(name);
  for (const Builtin& b : Builtins()) {
    if (canonical == b.name) return &b;
  }
  return nullptr;
}

std::string Absolute(const std::string& path, const std::string& root) {
  if (path.empty() || path[0] == '/') return path;
  return absl::StrCat(root, "/", path);
}

std::string FormatText(v1::DatasetFormat format) {
  const data::FormatInfo* info = data::FindFormat(format);
  return info != nullptr ? info->name : absl::StrCat(static_cast<int>(format));
}

// Whether the samples file `path` of `format` needs a second file with its
// labels: always for IDX, for a NumPy .npy (a .npz holds x and y), never
// for the text formats.
bool NeedsLabelsFile(v1::DatasetFormat format, const std::string& path) {
  const data::FormatInfo* info = data::FindFormat(format);
  if (info == nullptr) return false;
  switch (info->labels_file) {
    case data::LabelsFile::kRequired:
      return true;
    case data::LabelsFile::kOptional: {
      std::string name = absl::AsciiStrToLower(path);
      if (absl::EndsWith(name, ".gz")) name.resize(name.size() - 3);
      return !absl::EndsWith(name, ".npz");
    }
    case data::LabelsFile::kNone:
      return false;
  }
  return false;
}

void CheckFile(const std::string& field, const std::string& path,
               Problems* problems) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0) {
    problems->lines.push_back(
        absl::StrCat("dataset.", field, ": file ", path, " not found"));
  } else if (!S_ISREG(info.st_mode) || access(path.c_str(), R_OK) != 0) {
    problems->lines.push_back(absl::StrCat("dataset.", field, ": ", path,
                                           " is not a readable regular file"));
  }
}

// Fills what a built-in data set defines and the spec left empty.
void ApplyBuiltin(const Builtin& b, const std::string& data_root,
                  v1::DatasetSpec* d, Problems* problems) {
  v1::TensorShape shape;
  for (int64_t dim : b.shape) shape.add_dims(dim);
  if (d->format() != v1::DATASET_FORMAT_UNSPECIFIED && d->format() != b.format) {
    problems->Invalid(absl::StrCat("dataset.format: ", b.name, " is ",
                                   FormatText(b.format), ", got ",
                                   FormatText(d->format())));
  }
  if (d->input_shape().dims_size() > 0 &&
      ShapeToString(d->input_shape()) != ShapeToString(shape)) {
    problems->Invalid(absl::StrCat("dataset.input_shape: ", b.name, " is ",
                                   ShapeToString(shape), ", got ",
                                   ShapeToString(d->input_shape())));
  }
  if (d->num_classes() != 0 && d->num_classes() != b.classes) {
    problems->Invalid(absl::StrCat("dataset.num_classes: ", b.name, " has ",
                                   b.classes, " classes, got ",
                                   d->num_classes()));
  }
  d->set_name(b.name);
  d->set_format(b.format);
  *d->mutable_input_shape() = shape;
  d->set_num_classes(b.classes);
  const std::string dir = Absolute(b.dir, data_root);
  auto fill = [&](std::string* path, const char* file) {
    if (path->empty() && file[0] != '\0') *path = absl::StrCat(dir, "/", file);
  };
  fill(d->mutable_train_path(), b.train);
  fill(d->mutable_train_labels_path(), b.train_labels);
  fill(d->mutable_test_path(), b.test);
  fill(d->mutable_test_labels_path(), b.test_labels);
}

std::string BuiltinNames() {
  std::vector<std::string> names;
  for (const Builtin& b : Builtins()) names.push_back(b.name);
  return absl::StrJoin(names, ", ");
}

void CheckCustom(const v1::DatasetSpec& d, Problems* problems) {
  if (d.format() == v1::DATASET_FORMAT_UNSPECIFIED) {
    problems->Invalid(absl::StrCat(
        "dataset.name: unknown data set '", d.name(), "' (built-in: ",
        BuiltinNames(), "); a custom data set needs dataset.format (",
        data::FormatNames(), "), train_path, input_shape and num_classes"));
    return;
  }
  if (data::FindFormat(d.format()) == nullptr) {
    problems->Invalid(absl::StrCat("dataset.format: unknown format ",
                                   d.format(), " (", data::FormatNames(), ")"));
    return;
  }
  if (d.train_path().empty()) problems->Invalid("dataset.train_path: required");
  if (d.input_shape().dims_size() == 0) {
    problems->Invalid("dataset.input_shape: required for a custom data set");
  }
  if (d.num_classes() == 0) {
    problems->Invalid("dataset.num_classes: required for a custom data set");
  }
}

// Labels files: required where the format keeps the labels apart from the
// samples, refused where it does not (they would be silently ignored).
void CheckLabelsFile(const v1::DatasetSpec& d, const std::string& role,
                     const std::string& path, const std::string& labels,
                     Problems* problems) {
  if (path.empty()) return;
  const bool needs = NeedsLabelsFile(d.format(), path);
  if (needs && labels.empty()) {
    problems->Invalid(absl::StrCat("dataset.", role, "_labels_path: required ",
                                   "for ", FormatText(d.format()), " (", path,
                                   " holds the samples only)"));
  } else if (!needs && !labels.empty()) {
    problems->Invalid(absl::StrCat("dataset.", role, "_labels_path: the ",
                                   FormatText(d.format()), " file ", path,
                                   " holds its labels; leave it out"));
  }
}

void CheckLabelsFiles(const v1::DatasetSpec& d, Problems* problems) {
  CheckLabelsFile(d, "train", d.train_path(), d.train_labels_path(), problems);
  if (d.evaluate_test()) {  // The test file is read only then.
    CheckLabelsFile(d, "test", d.test_path(), d.test_labels_path(), problems);
  }
}

void CheckCommon(const v1::DatasetSpec& d, Problems* problems) {
  bool shape_ok =
      d.input_shape().dims_size() >= 1 && d.input_shape().dims_size() <= 3;
  for (int64_t dim : d.input_shape().dims()) shape_ok = shape_ok && dim > 0;
  if (d.input_shape().dims_size() > 0 && !shape_ok) {
    problems->Invalid(
        absl::StrCat("dataset.input_shape: ", ShapeToString(d.input_shape()),
                     " must be {C,H,W}, {C,L} or {N}, all > 0"));
  }
  if (d.num_classes() < 0 || d.num_classes() == 1) {
    problems->Invalid(absl::StrCat("dataset.num_classes: ", d.num_classes(),
                                   " must be at least 2"));
  }
  if (d.train_subset() < 0)
    problems->Invalid("dataset.train_subset: must be >= 0");
  if (d.validation_subset() < 0) {
    problems->Invalid("dataset.validation_subset: must be >= 0");
  }
  if (d.evaluate_test() && d.test_path().empty()) {
    problems->Invalid("dataset.test_path: required when evaluate_test is set");
  }
  if (shape_ok) {
    std::vector<std::string> lines;
    internal::CheckDatasetOptions(d, &lines);
    for (const std::string& line : lines) problems->Invalid(line);
  }
}

// Every path the spec names must be a readable file.
void CheckFiles(const v1::DatasetSpec& d, Problems* problems) {
  const std::pair<const char*, const std::string*> files[] = {
      {"train_path", &d.train_path()},
      {"train_labels_path", &d.train_labels_path()},
      {"test_path", &d.test_path()},
      {"test_labels_path", &d.test_labels_path()}};
  for (const auto& [field, path] : files) {
    if (!path->empty()) CheckFile(field, *path, problems);
  }
}

}  // namespace

bool IsBuiltinDataset(const std::string& name) {
  return FindBuiltin(name) != nullptr;
}

absl::StatusOr<v1::DatasetSpec> ResolveDataset(const v1::DatasetSpec& spec,
                                               const std::string& data_root) {
  v1::DatasetSpec d = spec;
  d.clear_summary();  // Output only.
  Problems problems;
  if (d.name().empty()) {
    problems.Invalid(absl::StrCat("dataset.name: required (", BuiltinNames(),
                                  " or a custom name)"));
    return problems.ToStatus();
  }
  for (std::string* path :
       {d.mutable_train_path(), d.mutable_train_labels_path(),
        d.mutable_test_path(), d.mutable_test_labels_path()}) {
    *path = Absolute(*path, data_root);
  }
  if (const Builtin* builtin = FindBuiltin(d.name())) {
    ApplyBuiltin(*builtin, data_root, &d, &problems);
  } else {
    CheckCustom(d, &problems);
  }
  CheckCommon(d, &problems);
  if (problems.lines.empty()) CheckLabelsFiles(d, &problems);
  CheckFiles(d, &problems);
  if (!problems.lines.empty()) return problems.ToStatus();
  NAS_RETURN_IF_ERROR(internal::ReadDatasetFiles(&d));
  return d;
}

std::string DefaultDataRoot() {
  const char* env = std::getenv("TINYNAS_DATA_ROOT");
  if (env != nullptr && env[0] != '\0') return env;
  return TINYNAS_SOURCE_DATA_DIR;
}

}  // namespace nas
