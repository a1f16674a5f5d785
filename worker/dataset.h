#ifndef NAS_WORKER_DATASET_H_
#define NAS_WORKER_DATASET_H_

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/nas.pb.h"
#include "worker/dataset_inputs.h"

namespace nas::worker {

// The samples of one data file (or IDX file pair) as one data set sees
// them: the stored inputs, shared with every other data set that reads the
// same file, and the labels as this data set's class indices (UCR labels are
// mapped over the train and test files together, so they are per data set).
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
  // SampleInputs::CopySample: pixels scaled to [0, 1], values unchanged.
  void CopySample(int64_t index, float* out) const {
    inputs->CopySample(index, out);
  }
};

// The files of one resolved DatasetSpec. `test` is null unless the spec sets
// evaluate_test and names a test file. Immutable; shared read-only between trial slots.
struct Dataset {
  std::string description;  // "fashion-mnist (60000 train, 10000 test)".
  std::shared_ptr<const SampleSet> train;
  std::shared_ptr<const SampleSet> test;
};

// Indices into Dataset::train for one trial.
struct DataSplit {
  std::vector<int64_t> train;
  std::vector<int64_t> validation;
};

// Loads the files named by a resolved spec (absolute paths, format set); the
// test files only when spec.evaluate_test is set. IDX: images idx3-ubyte +
// labels idx1-ubyte, gzip or raw, the images read straight into their byte
// storage. UCR_TSV: one sample a row, "label<TAB>x1<TAB>...<TAB>xL" (commas
// accepted too), gzip or plain; labels are mapped to 0..K-1 in sorted order of
// the distinct labels of the train and test files together (numeric order
// when all are numbers). With `inputs` (borrowed; may be null), a file whose
// inputs it already holds shares them instead of keeping a second copy, and
// the inputs read are stored there.
// Errors name the file and the problem: NotFound for a missing file,
// InvalidArgument (or DataLoss for a corrupt gzip stream) for bad content,
// InvalidArgument when the content disagrees with spec.input_shape or
// spec.num_classes (when those are set).
absl::StatusOr<Dataset> LoadDataset(const v1::DatasetSpec& spec,
                                    InputsCache* inputs = nullptr);

// Fisher-Yates over `indices` driven by the raw engine output (element i-1
// swapped with element rng() % i), so the order is the same with every
// standard library. Used for the train/validation split and for each epoch's
// batch order.
void ShuffleIndices(std::mt19937_64* rng, std::vector<int64_t>* indices);

// Deterministic train/validation split of `train_size` samples: indices are
// shuffled with std::mt19937_64(seed) (an explicit Fisher-Yates, so the result
// does not depend on the standard library), the first
// round(train_size * validation_fraction) become the validation split, the
// rest the training split; then spec.train_subset / spec.validation_subset cap
// each list (0 = no cap). Each list is returned sorted ascending.
// InvalidArgument when the fraction is outside [0, 1) or a split is empty.
absl::StatusOr<DataSplit> SplitTrainValidation(int64_t train_size,
                                               const v1::DatasetSpec& spec,
                                               uint64_t seed);

}  // namespace nas::worker

#endif  // NAS_WORKER_DATASET_H_
