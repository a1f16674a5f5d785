#ifndef NAS_WORKER_DATASET_H_
#define NAS_WORKER_DATASET_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/nas.pb.h"
#include "worker/dataset_inputs.h"
#include "worker/dataset_split.h"
#include "worker/normalization.h"

namespace nas::worker {

// The samples of one data file (or IDX file pair) as one data set sees
// them: the stored (raw) inputs, shared with every other data set that reads
// the same file the same way, and the labels as this data set's class
// indices (label texts are mapped over the train and test files together,
// so they are per data set).
//
// Immutable after loading, so one SampleSet is safely shared by every trial
// slot of a worker process without locking.
struct SampleSet {
  std::shared_ptr<const SampleInputs> inputs;  // Never null once loaded.
  std::vector<int32_t> labels;  // Class indices, 0..num_classes-1.
  int num_classes = 0;          // Distinct classes the labels may take.

  int64_t size() const { return static_cast<int64_t>(labels.size()); }
  const std::vector<int64_t>& shape() const { return inputs->shape; }
  int64_t sample_size() const { return inputs->sample_size; }
  int64_t channels() const { return inputs->shape[0]; }
  // Sample `index` as the network takes it: the raw values normalised by
  // the trial's `normalization`, to out[0 .. sample_size). The same values
  // as MakeBatch (dataset_batch.h) gives, bit for bit.
  void CopySample(int64_t index, const InputNormalization& normalization,
                  float* out) const {
    inputs->CopyRaw(index, out);
    normalization.Apply(sample_size() / channels(), out);
  }
};

// The files of one resolved DatasetSpec. `test` is null unless the spec sets
// evaluate_test and names a test file. Immutable; shared read-only between
// trial slots.
struct Dataset {
  std::string description;  // "fashion-mnist (60000 train, 10000 test)".
  std::shared_ptr<const SampleSet> train;
  std::shared_ptr<const SampleSet> test;
  // Class i's label text (spec.summary's class names when it has them).
  std::vector<std::string> class_names;
};

// Loads the files named by a resolved spec (absolute paths, format set) with
// data::ReadSamples (common/data/samples.h: IDX, UCR text, .ts, CSV, NumPy,
// with the spec's layout, length, pad and label column); the test files
// only when spec.evaluate_test is set. Label texts become class indices by
// their position in spec.summary.class_names when the summary has them (as
// the controller read them at submit), else in SortedDistinctLabels over the
// train and test files together. With `inputs` (borrowed; may be null), a
// file whose inputs it already holds (read the same way) shares them instead
// of keeping a second copy, and the inputs read are stored there. Logs one
// line: samples, classes, and for series how many were padded or cut.
// Errors name the file and the problem (the reader's codes: NotFound for a
// missing file, DataLoss for a corrupt compressed stream, InvalidArgument
// for bad content); InvalidArgument naming the file and label for a label
// the summary does not list, and when the content disagrees with
// spec.input_shape or spec.num_classes (when those are set);
// FailedPrecondition when a file changed since the cache read it.
absl::StatusOr<Dataset> LoadDataset(const v1::DatasetSpec& spec,
                                    InputsCache* inputs = nullptr);

}  // namespace nas::worker

#endif  // NAS_WORKER_DATASET_H_
