#ifndef NAS_COMMON_DATA_FORMATS_H_
#define NAS_COMMON_DATA_FORMATS_H_

// The registry of data-file formats, one row per format, in the manner of
// tflite-micro's memory planners: a new format is one file pair (its read
// function) plus one row in formats.cc. Nothing outside this registry
// compares format names. The table is constant; thread-safe.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/data/samples.h"
#include "proto/nas.pb.h"

namespace nas::data {

// The file(s) of one role (train or test) of a spec.
struct DataFile {
  std::string path;         // Absolute.
  std::string labels_path;  // Empty when the spec names none.
};

// Reads one data file under a resolved spec (input_shape, layout, length,
// pad, label_column). Errors as ReadSamples's (samples.h).
using FormatReader = absl::StatusOr<RawSamples> (*)(const DataFile& file,
                                                    const v1::DatasetSpec& spec,
                                                    const ReadOptions& options);

enum class LabelsFile {
  kNone,      // The labels are in the data file.
  kOptional,  // In the data file, or in a second file (NumPy: .npz or .npy x +
              // .npy y).
  kRequired,  // Always a second file (IDX).
};

struct FormatInfo {
  v1::DatasetFormat format;
  const char* name;  // As a spec writes it: "idx", "ucr_tsv", ...
  std::vector<const char*> aliases;
  LabelsFile labels_file;
  FormatReader read;
  const char* description;  // One line, for help and error messages.
};

// Every format, in the order help lists them.
const std::vector<FormatInfo>& Formats();

// The row of `format`; nullptr for one no row has.
const FormatInfo* FindFormat(v1::DatasetFormat format);

// The row whose name or alias is `name`, compared case-insensitively with
// '-' and '_' alike ("UCR-TSV", "npz"); nullptr for none.
const FormatInfo* FindFormat(absl::string_view name);

// The names, for error messages: "idx, ucr_tsv, ts, csv, npy".
std::string FormatNames();

}  // namespace nas::data

#endif  // NAS_COMMON_DATA_FORMATS_H_
