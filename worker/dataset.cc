#include "worker/dataset.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "worker/dataset_readers.h"

namespace nas::worker {
namespace {

std::string ShapeText(const std::vector<int64_t>& dims) {
  return absl::StrCat("{", absl::StrJoin(dims, ","), "}");
}

bool WantsTest(const v1::DatasetSpec& spec) {
  return spec.evaluate_test() && !spec.test_path().empty();
}

// The sample sets of one spec while they are being loaded (still mutable).
struct LoadedFiles {
  std::shared_ptr<SampleSet> train;
  std::shared_ptr<SampleSet> test;
};

// The key under which an InputsCache keeps the inputs of a file.
std::string InputsKey(v1::DatasetFormat format, const std::string& path) {
  return absl::StrCat(v1::DatasetFormat_Name(format), ":", path);
}

// `inputs` shared: the cache's copy when there is a cache, else its own.
std::shared_ptr<const SampleInputs> Keep(InputsCache* cache, const std::string& key,
                                         SampleInputs inputs) {
  if (cache == nullptr) return std::make_shared<const SampleInputs>(std::move(inputs));
  return cache->Intern(key, std::move(inputs));
}

// The pixels of an IDX image file, read only when `cache` does not hold them.
absl::StatusOr<std::shared_ptr<const SampleInputs>> IdxInputs(
    const std::string& path, InputsCache* cache) {
  const std::string key = InputsKey(v1::IDX, path);
  if (cache != nullptr) {
    if (std::shared_ptr<const SampleInputs> found = cache->Find(key)) return found;
  }
  NAS_ASSIGN_OR_RETURN(IdxImages images, ReadIdxImages(path));
  SampleInputs inputs;
  inputs.shape = {1, images.rows, images.cols};
  inputs.sample_size = images.rows * images.cols;
  inputs.pixels = std::move(images.pixels);
  return Keep(cache, key, std::move(inputs));
}

absl::StatusOr<SampleSet> LoadIdxPair(const std::string& images_path,
                                      const std::string& labels_path,
                                      InputsCache* cache) {
  SampleSet set;
  NAS_ASSIGN_OR_RETURN(set.inputs, IdxInputs(images_path, cache));
  NAS_ASSIGN_OR_RETURN(std::string label_bytes, ReadMaybeGzipFile(labels_path));
  NAS_ASSIGN_OR_RETURN(set.labels, ParseIdxLabels(label_bytes, labels_path));
  if (set.size() != set.inputs->count()) {
    return absl::InvalidArgumentError(
        absl::StrCat(labels_path, ": ", set.size(), " labels but ", images_path,
                     " has ", set.inputs->count(), " images"));
  }
  set.num_classes = *std::max_element(set.labels.begin(), set.labels.end()) + 1;
  return set;
}

// The values of a parsed UCR file, shared with an earlier load of the same
// file when `cache` holds one.
absl::StatusOr<std::shared_ptr<const SampleInputs>> UcrInputs(
    const std::string& path, UcrRows* rows, InputsCache* cache) {
  SampleInputs parsed;
  parsed.shape = {1, rows->length};
  parsed.sample_size = rows->length;
  parsed.values = std::move(rows->values);
  std::shared_ptr<const SampleInputs> inputs =
      Keep(cache, InputsKey(v1::UCR_TSV, path), std::move(parsed));
  const auto count = static_cast<int64_t>(rows->labels.size());
  if (inputs->count() != count || inputs->sample_size != rows->length) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, ": changed since this worker loaded it (", inputs->count(),
        " series of length ", inputs->sample_size, " then, ", count, " of length ",
        rows->length, " now); restart the worker to load it again"));
  }
  return inputs;
}

// Loads the UCR train file and (optional) test file with one label mapping.
absl::Status LoadUcrFiles(const v1::DatasetSpec& spec, InputsCache* cache,
                          LoadedFiles* loaded) {
  std::vector<UcrRows> files;
  std::vector<std::string> all_labels;
  for (const std::string* path : {&spec.train_path(), &spec.test_path()}) {
    if (path->empty() || (path != &spec.train_path() && !WantsTest(spec))) continue;
    NAS_ASSIGN_OR_RETURN(std::string text, ReadMaybeGzipFile(*path));
    NAS_ASSIGN_OR_RETURN(UcrRows rows, ParseUcrTsv(text, *path));
    all_labels.insert(all_labels.end(), rows.labels.begin(), rows.labels.end());
    files.push_back(std::move(rows));
  }
  if (files.size() == 2 && files[0].length != files[1].length) {
    return absl::InvalidArgumentError(absl::StrCat(
        spec.test_path(), ": series of length ", files[1].length, ", but ",
        spec.train_path(), " has length ", files[0].length));
  }
  const std::vector<std::string> classes = SortedDistinctLabels(all_labels);
  absl::flat_hash_map<std::string, int32_t> class_of;
  for (size_t i = 0; i < classes.size(); ++i) class_of[classes[i]] = i;
  const std::string* paths[] = {&spec.train_path(), &spec.test_path()};
  for (size_t f = 0; f < files.size(); ++f) {
    auto set = std::make_shared<SampleSet>();
    NAS_ASSIGN_OR_RETURN(set->inputs, UcrInputs(*paths[f], &files[f], cache));
    for (const std::string& label : files[f].labels) {
      set->labels.push_back(class_of[label]);
    }
    set->num_classes = static_cast<int>(classes.size());
    (f == 0 ? loaded->train : loaded->test) = std::move(set);
  }
  return absl::OkStatus();
}

absl::Status LoadIdxFiles(const v1::DatasetSpec& spec, InputsCache* cache,
                          LoadedFiles* loaded) {
  if (spec.train_labels_path().empty()) {
    return absl::InvalidArgumentError(
        "dataset.train_labels_path: required for IDX data");
  }
  NAS_ASSIGN_OR_RETURN(SampleSet train,
                       LoadIdxPair(spec.train_path(), spec.train_labels_path(), cache));
  loaded->train = std::make_shared<SampleSet>(std::move(train));
  if (!WantsTest(spec)) return absl::OkStatus();
  NAS_ASSIGN_OR_RETURN(SampleSet test,
                       LoadIdxPair(spec.test_path(), spec.test_labels_path(), cache));
  if (test.shape() != loaded->train->shape()) {
    return absl::InvalidArgumentError(absl::StrCat(
        spec.test_path(), ": images of shape ", ShapeText(test.shape()),
        ", train images are ", ShapeText(loaded->train->shape())));
  }
  loaded->test = std::make_shared<SampleSet>(std::move(test));
  return absl::OkStatus();
}

// Checks the loaded files against the shape and class count the spec states.
absl::Status CheckAgainstSpec(const v1::DatasetSpec& spec, const SampleSet& set,
                              const std::string& path) {
  const std::vector<int64_t> expected(spec.input_shape().dims().begin(),
                                      spec.input_shape().dims().end());
  if (!expected.empty() && expected != set.shape()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": samples have shape ", ShapeText(set.shape()),
                     ", dataset.input_shape says ", ShapeText(expected)));
  }
  if (spec.num_classes() > 0 && set.num_classes > spec.num_classes()) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": labels span ", set.num_classes,
        " classes, dataset.num_classes says ", spec.num_classes()));
  }
  return absl::OkStatus();
}

// Train and test agree on the class count: the spec's, else the larger one.
void UnifyClassCount(const v1::DatasetSpec& spec, LoadedFiles* files) {
  int classes = std::max(spec.num_classes(), files->train->num_classes);
  if (files->test != nullptr) {
    classes = std::max(classes, files->test->num_classes);
    files->test->num_classes = classes;
  }
  files->train->num_classes = classes;
}

void CapAndSort(std::vector<int64_t>* indices, int64_t cap) {
  if (cap > 0 && static_cast<int64_t>(indices->size()) > cap) indices->resize(cap);
  std::sort(indices->begin(), indices->end());
}

}  // namespace

void ShuffleIndices(std::mt19937_64* rng, std::vector<int64_t>* indices) {
  for (size_t i = indices->size(); i > 1; --i) {
    std::swap((*indices)[i - 1], (*indices)[(*rng)() % i]);
  }
}

absl::StatusOr<Dataset> LoadDataset(const v1::DatasetSpec& spec,
                                    InputsCache* inputs) {
  if (spec.train_path().empty()) {
    return absl::InvalidArgumentError("dataset.train_path: empty");
  }
  LoadedFiles files;
  switch (spec.format()) {
    case v1::IDX:
      NAS_RETURN_IF_ERROR(LoadIdxFiles(spec, inputs, &files));
      break;
    case v1::UCR_TSV:
      NAS_RETURN_IF_ERROR(LoadUcrFiles(spec, inputs, &files));
      break;
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          "dataset.format: unsupported format ",
          v1::DatasetFormat_Name(spec.format()), " for ", spec.train_path()));
  }
  NAS_RETURN_IF_ERROR(CheckAgainstSpec(spec, *files.train, spec.train_path()));
  if (files.test != nullptr) {
    NAS_RETURN_IF_ERROR(CheckAgainstSpec(spec, *files.test, spec.test_path()));
  }
  UnifyClassCount(spec, &files);
  Dataset dataset;
  dataset.description = absl::StrCat(
      spec.name().empty() ? spec.train_path() : spec.name(), " (",
      files.train->size(), " train, ",
      files.test == nullptr ? 0 : files.test->size(), " test)");
  dataset.train = std::move(files.train);
  dataset.test = std::move(files.test);
  return dataset;
}

absl::StatusOr<DataSplit> SplitTrainValidation(int64_t train_size,
                                               const v1::DatasetSpec& spec,
                                               uint64_t seed) {
  const double fraction = spec.validation_fraction();
  if (!(fraction >= 0.0 && fraction < 1.0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "dataset.validation_fraction: ", fraction, " is outside [0, 1)"));
  }
  std::vector<int64_t> order(train_size);
  for (int64_t i = 0; i < train_size; ++i) order[i] = i;
  std::mt19937_64 rng(seed);
  ShuffleIndices(&rng, &order);
  const auto held_out = static_cast<int64_t>(std::llround(train_size * fraction));
  DataSplit split;
  split.validation.assign(order.begin(), order.begin() + held_out);
  split.train.assign(order.begin() + held_out, order.end());
  CapAndSort(&split.train, spec.train_subset());
  CapAndSort(&split.validation, spec.validation_subset());
  if (split.train.empty() || split.validation.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "dataset: empty split (", split.train.size(), " training, ",
        split.validation.size(), " validation samples from ", train_size,
        " with validation_fraction ", fraction, ")"));
  }
  return split;
}

}  // namespace nas::worker
