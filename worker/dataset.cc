#include "worker/dataset.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/data/samples.h"
#include "common/logging.h"
#include "common/status_macros.h"

namespace nas::worker {
namespace {

using data::FileRole;

std::string ShapeText(const std::vector<int64_t>& dims) {
  return absl::StrCat("{", absl::StrJoin(dims, ","), "}");
}

bool WantsTest(const v1::DatasetSpec& spec) {
  return spec.evaluate_test() && !spec.test_path().empty();
}

const std::string& PathOf(const v1::DatasetSpec& spec, FileRole role) {
  return role == FileRole::kTrain ? spec.train_path() : spec.test_path();
}

// The key under which an InputsCache keeps the inputs of one file as `spec`
// reads it: everything ReadSamples reads it by.
std::string InputsKey(const v1::DatasetSpec& spec, FileRole role) {
  return data::ReadingKey(spec, role);
}

// One file as loaded: its inputs (perhaps shared) and what ReadSamples said
// of it besides (label texts, series lengths; no values).
struct LoadedFile {
  std::string path;
  std::shared_ptr<const SampleInputs> inputs;
  data::RawSamples read;
};

// Reads the file of `role`, its values only when `cache` does not hold them.
absl::StatusOr<LoadedFile> LoadFile(const v1::DatasetSpec& spec, FileRole role,
                                    InputsCache* cache) {
  LoadedFile file;
  file.path = PathOf(spec, role);
  const std::string key = InputsKey(spec, role);
  if (cache != nullptr) file.inputs = cache->Find(key);
  data::ReadOptions options;
  options.keep_values = file.inputs == nullptr;
  NAS_ASSIGN_OR_RETURN(file.read, data::ReadSamples(spec, role, options));
  data::RawSamples& read = file.read;
  if (file.inputs == nullptr) {
    SampleInputs inputs;
    inputs.shape = read.shape;
    inputs.sample_size = read.sample_size();
    inputs.pixels = std::move(read.pixels);
    inputs.values = std::move(read.values);
    // A concurrent load of the same file may have stored it first: Intern
    // then returns that copy.
    file.inputs = cache == nullptr
                      ? std::make_shared<const SampleInputs>(std::move(inputs))
                      : cache->Intern(key, std::move(inputs));
  }
  if (file.inputs->count() != read.count || file.inputs->shape != read.shape) {
    return absl::FailedPreconditionError(absl::StrCat(
        file.path, ": changed since this worker loaded it (", file.inputs->count(),
        " samples of shape ", ShapeText(file.inputs->shape), " then, ", read.count,
        " of shape ", ShapeText(read.shape), " now); restart the worker to load it again"));
  }
  read.pixels.clear();
  read.values.clear();
  return file;
}

// The class names: the summary's when it has them, else every label of the
// files in class order.
std::vector<std::string> ClassNames(const v1::DatasetSpec& spec,
                                    const std::vector<LoadedFile>& files) {
  if (spec.summary().class_names_size() > 0) {
    return {spec.summary().class_names().begin(), spec.summary().class_names().end()};
  }
  std::vector<std::string> all;
  for (const LoadedFile& file : files) {
    all.insert(all.end(), file.read.labels.begin(), file.read.labels.end());
  }
  return data::SortedDistinctLabels(all);
}

// The file's label texts as class indices.
absl::StatusOr<std::vector<int32_t>> ClassIndices(
    const LoadedFile& file, const absl::flat_hash_map<std::string, int32_t>& class_of) {
  std::vector<int32_t> indices;
  indices.reserve(file.read.labels.size());
  for (size_t i = 0; i < file.read.labels.size(); ++i) {
    auto it = class_of.find(file.read.labels[i]);
    if (it == class_of.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          file.path, ": sample ", i + 1, " has label '", file.read.labels[i],
          "', which is not one of the ", class_of.size(),
          " classes the data set was submitted with"));
    }
    indices.push_back(it->second);
  }
  return indices;
}

// Checks a file against the shape the spec states and the train file.
absl::Status CheckShape(const v1::DatasetSpec& spec, const LoadedFile& file,
                        const LoadedFile& train) {
  const std::vector<int64_t> expected(spec.input_shape().dims().begin(),
                                      spec.input_shape().dims().end());
  if (!expected.empty() && expected != file.inputs->shape) {
    return absl::InvalidArgumentError(absl::StrCat(
        file.path, ": samples have shape ", ShapeText(file.inputs->shape),
        ", dataset.input_shape says ", ShapeText(expected)));
  }
  if (file.inputs->shape != train.inputs->shape) {
    return absl::InvalidArgumentError(absl::StrCat(
        file.path, ": samples have shape ", ShapeText(file.inputs->shape), ", but ",
        train.path, " has ", ShapeText(train.inputs->shape)));
  }
  return absl::OkStatus();
}

// "ecg5000: 500 train and 4500 test samples, 5 classes; padded 0 and cut 0
// of 5000 series to length 140".
std::string LoadSummary(const v1::DatasetSpec& spec, const std::vector<LoadedFile>& files,
                        size_t classes) {
  int64_t count = 0, padded = 0, cut = 0;
  for (const LoadedFile& file : files) {
    count += file.read.count;
    padded += file.read.padded;
    cut += file.read.cut;
  }
  std::string text = absl::StrCat(
      spec.name().empty() ? spec.train_path() : spec.name(), ": ", files[0].read.count,
      " train and ", files.size() > 1 ? files[1].read.count : 0, " test samples, ",
      classes, " classes");
  const std::vector<int64_t>& shape = files[0].inputs->shape;
  if (shape.size() == 2) {
    absl::StrAppend(&text, "; padded ", padded, " and cut ", cut, " of ", count,
                    " series to length ", shape[1]);
  }
  return text;
}

}  // namespace

absl::StatusOr<Dataset> LoadDataset(const v1::DatasetSpec& spec,
                                    InputsCache* inputs) {
  if (spec.train_path().empty()) {
    return absl::InvalidArgumentError("dataset.train_path: empty");
  }
  std::vector<LoadedFile> files;
  NAS_ASSIGN_OR_RETURN(LoadedFile train, LoadFile(spec, FileRole::kTrain, inputs));
  files.push_back(std::move(train));
  if (WantsTest(spec)) {
    NAS_ASSIGN_OR_RETURN(LoadedFile test, LoadFile(spec, FileRole::kTest, inputs));
    files.push_back(std::move(test));
  }
  for (const LoadedFile& file : files) {
    NAS_RETURN_IF_ERROR(CheckShape(spec, file, files[0]));
  }
  Dataset dataset;
  dataset.class_names = ClassNames(spec, files);
  const int classes = static_cast<int>(dataset.class_names.size());
  if (spec.num_classes() > 0 && classes > spec.num_classes()) {
    return absl::InvalidArgumentError(absl::StrCat(
        spec.train_path(), ": labels span ", classes,
        " classes, dataset.num_classes says ", spec.num_classes()));
  }
  absl::flat_hash_map<std::string, int32_t> class_of;
  for (int i = 0; i < classes; ++i) class_of[dataset.class_names[i]] = i;
  std::vector<std::shared_ptr<const SampleSet>> sets;
  for (const LoadedFile& file : files) {
    auto set = std::make_shared<SampleSet>();
    set->inputs = file.inputs;
    NAS_ASSIGN_OR_RETURN(set->labels, ClassIndices(file, class_of));
    set->num_classes = std::max(spec.num_classes(), classes);
    sets.push_back(std::move(set));
  }
  LOG(INFO) << "loaded data set " << LoadSummary(spec, files, classes);
  dataset.description = absl::StrCat(
      spec.name().empty() ? spec.train_path() : spec.name(), " (", sets[0]->size(),
      " train, ", sets.size() > 1 ? sets[1]->size() : 0, " test)");
  dataset.train = std::move(sets[0]);
  if (sets.size() > 1) dataset.test = std::move(sets[1]);
  return dataset;
}

}  // namespace nas::worker
