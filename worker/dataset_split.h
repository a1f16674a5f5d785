#ifndef NAS_WORKER_DATASET_SPLIT_H_
#define NAS_WORKER_DATASET_SPLIT_H_

// Which training-file samples a trial trains and validates on: one
// stratified hold-out split, or K stratified folds. Torch-free; stateless
// functions, thread-safe.

#include <cstdint>
#include <random>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/nas.pb.h"

namespace nas::worker {

// Indices into Dataset::train for one trial (or one fold of it), each list
// sorted ascending and disjoint from the other.
struct DataSplit {
  std::vector<int64_t> train;
  std::vector<int64_t> validation;
};

// Fisher-Yates over `indices` driven by the raw engine output (element i-1
// swapped with element rng() % i), so the order is the same with every
// standard library. Used for the splits and for each epoch's batch order.
void ShuffleIndices(std::mt19937_64* rng, std::vector<int64_t>* indices);

// Deterministic stratified train/validation split of the samples whose
// class indices are `labels`: with one std::mt19937_64(seed), each class's
// indices (in class order) are shuffled (ShuffleIndices) and the first
// round(n_c * validation_fraction) of class c go to validation, the rest to
// training, leaving at least one training sample in every class that has
// one. Then spec.train_subset / spec.validation_subset cap each list
// (0 = no cap), stratified too: class c keeps its share of the cap (largest
// remainder, ties to the lower class), its first ones in shuffled order.
// InvalidArgument when the fraction is outside [0, 1) or a list is empty.
absl::StatusOr<DataSplit> SplitTrainValidation(const std::vector<int32_t>& labels,
                                               const v1::DatasetSpec& spec,
                                               uint64_t seed);

// K = spec.folds > 1 stratified folds: each class's indices shuffled as
// above, then the classes' shuffled lists, one after another in class
// order, dealt to folds 0, 1, ..., K-1, 0, 1, ... (so every fold holds
// floor or ceil of n_c / K of class c); a class with a single sample is
// never validated (it always trains). Split k validates on fold k and
// trains on the others; the subset caps apply to each split as above.
// InvalidArgument when a split is empty (K larger than the samples) or
// spec.folds < 2.
absl::StatusOr<std::vector<DataSplit>> SplitFolds(const std::vector<int32_t>& labels,
                                                  const v1::DatasetSpec& spec,
                                                  uint64_t seed);

// The splits a trial trains on: SplitFolds unless spec.folds is 0 or 1,
// then the one SplitTrainValidation.
absl::StatusOr<std::vector<DataSplit>> TrialSplits(const std::vector<int32_t>& labels,
                                                   const v1::DatasetSpec& spec,
                                                   uint64_t seed);

}  // namespace nas::worker

#endif  // NAS_WORKER_DATASET_SPLIT_H_
