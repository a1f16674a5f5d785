#ifndef NAS_COMMON_DATASET_OPTIONS_H_
#define NAS_COMMON_DATASET_OPTIONS_H_

// ResolveDataset's (common/datasets.h) checks of how samples become inputs
// (layout, length, pad, label_column, normalization, folds) and its reading
// of the data files. Internal to common/; thread-safe.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "proto/nas.pb.h"

namespace nas::internal {

// Appends one line per problem of the options of `d`, whose input_shape is
// valid, naming the field ("dataset.layout: ...", "validation.folds: ...").
void CheckDatasetOptions(const v1::DatasetSpec& d,
                         std::vector<std::string>* problems);

// For a data set whose fields are checked and whose files exist: fills the
// option defaults (layout, pad, length, label_column, normalization; see
// ResolveDataset), reads every file the spec names (nas::data::
// CheckDataFiles) and sets `summary`; with folds > 1, checks that the
// training file has at least `folds` samples. InvalidArgument with one
// line per problem, each naming the file (and line) for its contents.
absl::Status ReadDatasetFiles(v1::DatasetSpec* d);

}  // namespace nas::internal

#endif  // NAS_COMMON_DATASET_OPTIONS_H_
