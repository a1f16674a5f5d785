#ifndef NAS_COMMON_DATASETS_H_
#define NAS_COMMON_DATASETS_H_

// Data set descriptions (no LibTorch, no loading: see worker/ for that).
// Pure functions apart from file-system checks; thread-safe.

#include <string>

#include "absl/status/statusor.h"
#include "proto/nas.pb.h"

namespace nas {

// Built-in names: "fashion-mnist" (IDX, {1,28,28}, 10 classes) and "ecg5000"
// (UCR_TSV, {1,140}, 5 classes, labels 1..5 mapped to 0..4). Fills format,
// absolute paths (data_root for ecg5000, /usr/share/datasets/fashion-mnist for
// fashion-mnist; paths the spec gives win, relative ones are taken relative to
// data_root), shape, classes; checks every file exists and is readable.
// Other names are custom data sets and need format, train_path (and
// train_labels_path for IDX), input_shape and num_classes. Test files are
// required only when evaluate_test is set. Does not fill training defaults
// such as validation_fraction (CompleteSearchSpec does).
// NotFound (a missing/unreadable file) or InvalidArgument (anything else)
// naming the field and path; every problem listed, one per line.
absl::StatusOr<v1::DatasetSpec> ResolveDataset(const v1::DatasetSpec& spec,
                                               const std::string& data_root);

// $TINYNAS_DATA_ROOT, else the source tree's data/ (compile definition
// TINYNAS_SOURCE_DATA_DIR).
std::string DefaultDataRoot();

// "fashion-mnist", "ecg5000".
bool IsBuiltinDataset(const std::string& name);

}  // namespace nas

#endif  // NAS_COMMON_DATASETS_H_
