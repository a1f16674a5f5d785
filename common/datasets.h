#ifndef NAS_COMMON_DATASETS_H_
#define NAS_COMMON_DATASETS_H_

// Data set descriptions and the submit check of their files (no LibTorch:
// the workers load the samples, see worker/). Thread-safe.

#include <string>

#include "absl/status/statusor.h"
#include "proto/nas.pb.h"

namespace nas {

// Built-in names: "fashion-mnist" (IDX, {1,28,28}, 10 classes, from
// /usr/share/datasets/fashion-mnist), "ecg5000" (UCR_TSV, {1,140}, 5
// classes, data_root/ecg5000) and "japanese-vowels" (TS, {12,29}, 9 classes,
// data_root/japanese-vowels). A built-in fills format, absolute paths (paths
// the spec gives win), shape and classes; the spec may repeat them, not
// contradict them. Other names are custom data sets and need format,
// train_path (and a labels file where the format has one: IDX, NumPy .npy),
// input_shape and num_classes. Relative paths are taken relative to
// data_root. Test files are required only when evaluate_test is set.
//
// Then checks the series options (layout, length, pad: {C, L} inputs only;
// label_column: CSV only; normalization; folds 0, 1 or 2..20, not with
// validation_subset), fills their defaults (series: CHANNEL_MAJOR, PAD_END,
// length = input_shape's last dimension; CSV: label_column "label";
// normalization SCALE for IDX and 8-bit NumPy samples, ZSCORE otherwise),
// and reads every data file the spec names (nas::data::CheckDataFiles):
// its shape against input_shape, its labels against num_classes. `summary`
// is replaced by what was read (a client's value is ignored). With
// folds > 1 the training file needs at least `folds` samples (a class with
// fewer is allowed: it is missing from some folds' validation splits).
// Resolving a resolved spec again gives the same spec.
//
// Does not fill training defaults such as validation_fraction
// (CompleteSearchSpec does). NotFound when every problem is a missing or
// unreadable file, InvalidArgument otherwise, naming the field (and for
// file contents the file and line); every problem listed, one per line.
absl::StatusOr<v1::DatasetSpec> ResolveDataset(const v1::DatasetSpec& spec,
                                               const std::string& data_root);

// $TINYNAS_DATA_ROOT, else the source tree's data/ (compile definition
// TINYNAS_SOURCE_DATA_DIR).
std::string DefaultDataRoot();

// "fashion-mnist", "ecg5000", "japanese-vowels" (and their aliases).
bool IsBuiltinDataset(const std::string& name);

// The largest validation.folds a spec may ask for.
inline constexpr int kMaxFolds = 20;

}  // namespace nas

#endif  // NAS_COMMON_DATASETS_H_
