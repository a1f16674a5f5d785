#include "common/datasets.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "common/architecture.h"

#ifndef TINYNAS_SOURCE_DATA_DIR
#error "TINYNAS_SOURCE_DATA_DIR must be defined by the build"
#endif

namespace nas {
namespace {

constexpr char kFashionMnistDir[] = "/usr/share/datasets/fashion-mnist";

// Collected problems; `not_found` tells whether every one is a missing file.
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
  if (s == "fashionmnist" || s == "fmnist") return "fashion-mnist";
  if (s == "ecg-5000") return "ecg5000";
  return s;
}

std::string Absolute(const std::string& path, const std::string& root) {
  if (path.empty() || path[0] == '/') return path;
  return absl::StrCat(root, "/", path);
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
void ApplyBuiltin(const std::string& name, const std::string& data_root,
                  v1::DatasetSpec* d, Problems* problems) {
  const bool fashion = name == "fashion-mnist";
  const v1::DatasetFormat format = fashion ? v1::IDX : v1::UCR_TSV;
  const v1::TensorShape shape =
      fashion ? MakeShape({1, 28, 28}) : MakeShape({1, 140});
  const int classes = fashion ? 10 : 5;
  const std::string dir =
      fashion ? kFashionMnistDir : absl::StrCat(data_root, "/ecg5000");
  if (d->format() != v1::DATASET_FORMAT_UNSPECIFIED && d->format() != format) {
    problems->Invalid(absl::StrCat("dataset.format: ", name, " is ",
                                   v1::DatasetFormat_Name(format)));
  }
  if (d->input_shape().dims_size() > 0 &&
      ShapeToString(d->input_shape()) != ShapeToString(shape)) {
    problems->Invalid(absl::StrCat("dataset.input_shape: ", name, " is ",
                                   ShapeToString(shape), ", got ",
                                   ShapeToString(d->input_shape())));
  }
  if (d->num_classes() != 0 && d->num_classes() != classes) {
    problems->Invalid(absl::StrCat("dataset.num_classes: ", name, " has ",
                                   classes, " classes, got ",
                                   d->num_classes()));
  }
  d->set_name(name);
  d->set_format(format);
  *d->mutable_input_shape() = shape;
  d->set_num_classes(classes);
  auto fill = [&](std::string* path, const char* file) {
    if (path->empty()) *path = absl::StrCat(dir, "/", file);
  };
  if (fashion) {
    fill(d->mutable_train_path(), "train-images-idx3-ubyte.gz");
    fill(d->mutable_train_labels_path(), "train-labels-idx1-ubyte.gz");
    fill(d->mutable_test_path(), "t10k-images-idx3-ubyte.gz");
    fill(d->mutable_test_labels_path(), "t10k-labels-idx1-ubyte.gz");
  } else {
    fill(d->mutable_train_path(), "ECG5000_TRAIN.tsv.gz");
    fill(d->mutable_test_path(), "ECG5000_TEST_float32.tsv.gz");
  }
}

void CheckCustom(const v1::DatasetSpec& d, Problems* problems) {
  if (d.format() == v1::DATASET_FORMAT_UNSPECIFIED) {
    problems->Invalid(absl::StrCat(
        "dataset.name: unknown data set '", d.name(),
        "' (built-in: fashion-mnist, ecg5000); a custom data set needs "
        "dataset.format (idx or ucr_tsv), train_path, input_shape and "
        "num_classes"));
    return;
  }
  if (!v1::DatasetFormat_IsValid(d.format())) {
    problems->Invalid(absl::StrCat("dataset.format: unknown format ",
                                   d.format(), " (idx or ucr_tsv)"));
    return;
  }
  if (d.train_path().empty()) problems->Invalid("dataset.train_path: required");
  if (d.format() == v1::IDX && d.train_labels_path().empty()) {
    problems->Invalid("dataset.train_labels_path: required for IDX");
  }
  if (d.input_shape().dims_size() == 0) {
    problems->Invalid("dataset.input_shape: required for a custom data set");
  }
  if (d.num_classes() == 0) {
    problems->Invalid("dataset.num_classes: required for a custom data set");
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
  if (d.evaluate_test() && d.format() == v1::IDX &&
      d.test_labels_path().empty()) {
    problems->Invalid(
        "dataset.test_labels_path: required when evaluate_test is set");
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
  const std::string canonical = CanonicalName(name);
  return canonical == "fashion-mnist" || canonical == "ecg5000";
}

absl::StatusOr<v1::DatasetSpec> ResolveDataset(const v1::DatasetSpec& spec,
                                               const std::string& data_root) {
  v1::DatasetSpec d = spec;
  Problems problems;
  if (d.name().empty()) {
    problems.Invalid(
        "dataset.name: required (fashion-mnist, ecg5000 or a custom name)");
    return problems.ToStatus();
  }
  for (std::string* path :
       {d.mutable_train_path(), d.mutable_train_labels_path(),
        d.mutable_test_path(), d.mutable_test_labels_path()}) {
    *path = Absolute(*path, data_root);
  }
  if (IsBuiltinDataset(d.name())) {
    ApplyBuiltin(CanonicalName(d.name()), data_root, &d, &problems);
  } else {
    CheckCustom(d, &problems);
  }
  CheckCommon(d, &problems);
  CheckFiles(d, &problems);
  if (!problems.lines.empty()) return problems.ToStatus();
  return d;
}

std::string DefaultDataRoot() {
  const char* env = std::getenv("TINYNAS_DATA_ROOT");
  if (env != nullptr && env[0] != '\0') return env;
  return TINYNAS_SOURCE_DATA_DIR;
}

}  // namespace nas
