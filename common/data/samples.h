#ifndef NAS_COMMON_DATA_SAMPLES_H_
#define NAS_COMMON_DATA_SAMPLES_H_

// Data files as tinynas reads them, in every format it accepts (IDX, UCR
// text, sktime/UEA .ts, CSV, NumPy .npy/.npz): one reader per format behind
// one registry (formats.h). Torch-free: the controller checks the files at
// submit with the same readers the workers load them with.
// Stateless functions; thread-safe.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/nas.pb.h"

namespace nas::data {

enum class FileRole { kTrain, kTest };

// One data file (with its labels file where the format has one) as read,
// before labels become class indices.
struct RawSamples {
  // Per sample, after padding or cutting: {C, L} or {C, H, W}.
  std::vector<int64_t> shape;
  int64_t count = 0;
  // 8-bit samples (IDX, a NumPy uint8 array): count * sample_size() bytes;
  // everything else is float in `values`. Channel-major within a sample.
  // Both empty when ReadOptions::keep_values is false.
  std::vector<uint8_t> pixels;
  std::vector<float> values;
  bool eight_bit = false;  // The samples are bytes (set even without values).
  // The label of each sample as text ("3", "walk"): count entries.
  std::vector<std::string> labels;
  // Series only: the lengths as stored, and how many series were padded up
  // to (or cut down to) the length the spec asks for.
  int64_t min_length = 0;
  int64_t max_length = 0;
  int64_t padded = 0;
  int64_t cut = 0;

  int64_t sample_size() const;
};

struct ReadOptions {
  // false: only shapes, counts and labels are kept (the submit check);
  // every value is still parsed and checked in text formats.
  bool keep_values = true;
};

// Reads the train or the test file(s) of a resolved spec (absolute paths,
// format set) with its input_shape (C of a {C, L} text row is
// input_shape[0]), layout, length, pad and label_column.
// Series are padded or cut to spec.length when it is set; otherwise series
// of unequal length (a .ts file without @equalLength true) to input_shape's
// last dimension, while equal-length series keep their own length (so that
// CheckDataFiles can refuse a length unlike input_shape's instead of
// padding every sample silently).
// Errors name the file and the line (text) or the array/offset (binary):
// NotFound for a missing file, DataLoss for a corrupt gzip/zip stream,
// InvalidArgument for content that is not what the format or the spec says.
// Never crashes on hostile files (huge length claims, binary junk, NaN).
absl::StatusOr<RawSamples> ReadSamples(const v1::DatasetSpec& spec,
                                       FileRole role,
                                       const ReadOptions& options = {});

// Everything in `spec` that changes what ReadSamples returns for `role`
// besides the files' contents, as text: the format, the role's data and
// labels paths, input_shape, layout, length, pad and label_column. Every
// cache of read files keys on it, so a reading option added here reaches
// them all.
std::string ReadingKey(const v1::DatasetSpec& spec, FileRole role);

// The distinct label texts in class order: numeric order when every label
// is a number ("2" < "10"), text order otherwise. A label's class index is
// its position in this list.
std::vector<std::string> SortedDistinctLabels(
    const std::vector<std::string>& labels);

// The submit check: reads every file the spec names (keep_values false),
// checks the samples' shape against input_shape and the class count against
// num_classes, and returns what it read (class names over train + test,
// counts, padded/cut). InvalidArgument naming the file (and line) for any
// problem, NotFound for a missing file. Results are remembered per file
// (path, size, modification time and the reading options) for the life of
// the process, so a second submit of the same data costs nothing.
absl::StatusOr<v1::DatasetSummary> CheckDataFiles(const v1::DatasetSpec& spec);

// Test hook: how many file reads CheckDataFiles answered from its cache in
// this process so far.
int64_t CheckDataFilesCacheHitsForTest();

}  // namespace nas::data

#endif  // NAS_COMMON_DATA_SAMPLES_H_
