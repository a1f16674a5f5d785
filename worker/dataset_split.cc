#include "worker/dataset_split.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace nas::worker {
namespace {

using ClassLists = std::vector<std::vector<int64_t>>;

// Each class's sample indices, ascending, then shuffled class by class with
// one engine seeded with `seed`.
ClassLists ShuffledByClass(const std::vector<int32_t>& labels, uint64_t seed) {
  int32_t classes = 0;
  for (int32_t label : labels) classes = std::max(classes, label + 1);
  ClassLists by_class(classes);
  for (size_t i = 0; i < labels.size(); ++i) {
    by_class[labels[i]].push_back(static_cast<int64_t>(i));
  }
  std::mt19937_64 rng(seed);
  for (std::vector<int64_t>& members : by_class) ShuffleIndices(&rng, &members);
  return by_class;
}

// Each class's share of `cap` among `sizes` (summing to min(cap, total)):
// floor of the proportional share, then one more for the largest
// remainders, ties to the lower class.
std::vector<int64_t> Apportion(const std::vector<int64_t>& sizes, int64_t cap) {
  const int64_t total = std::accumulate(sizes.begin(), sizes.end(), int64_t{0});
  if (cap <= 0 || cap >= total) return sizes;
  std::vector<int64_t> share(sizes.size());
  std::vector<std::pair<double, size_t>> remainders;
  int64_t given = 0;
  for (size_t c = 0; c < sizes.size(); ++c) {
    const double exact = static_cast<double>(sizes[c]) * cap / total;
    share[c] = static_cast<int64_t>(std::floor(exact));
    given += share[c];
    remainders.emplace_back(exact - share[c], c);
  }
  std::stable_sort(remainders.begin(), remainders.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (size_t i = 0; given < cap && i < remainders.size(); ++i, ++given) {
    ++share[remainders[i].second];
  }
  return share;
}

// The lists of `parts` (one per class, in shuffled order) capped at `cap`
// in all (0 = none), stratified, merged and sorted.
std::vector<int64_t> CapAndMerge(const ClassLists& parts, int64_t cap) {
  std::vector<int64_t> sizes;
  for (const auto& part : parts) sizes.push_back(static_cast<int64_t>(part.size()));
  const std::vector<int64_t> keep = Apportion(sizes, cap);
  std::vector<int64_t> merged;
  for (size_t c = 0; c < parts.size(); ++c) {
    merged.insert(merged.end(), parts[c].begin(), parts[c].begin() + keep[c]);
  }
  std::sort(merged.begin(), merged.end());
  return merged;
}

absl::Status CheckNotEmpty(const DataSplit& split, int64_t samples,
                           const std::string& how) {
  if (!split.train.empty() && !split.validation.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "dataset: empty split (", split.train.size(), " training, ",
      split.validation.size(), " validation samples from ", samples, " with ", how,
      ")"));
}

}  // namespace

void ShuffleIndices(std::mt19937_64* rng, std::vector<int64_t>* indices) {
  for (size_t i = indices->size(); i > 1; --i) {
    std::swap((*indices)[i - 1], (*indices)[(*rng)() % i]);
  }
}

absl::StatusOr<DataSplit> SplitTrainValidation(const std::vector<int32_t>& labels,
                                               const v1::DatasetSpec& spec,
                                               uint64_t seed) {
  const double fraction = spec.validation_fraction();
  if (!(fraction >= 0.0 && fraction < 1.0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "dataset.validation_fraction: ", fraction, " is outside [0, 1)"));
  }
  const ClassLists by_class = ShuffledByClass(labels, seed);
  ClassLists train(by_class.size()), validation(by_class.size());
  for (size_t c = 0; c < by_class.size(); ++c) {
    const std::vector<int64_t>& members = by_class[c];
    const auto n = static_cast<int64_t>(members.size());
    const int64_t held_out = std::min(static_cast<int64_t>(std::llround(n * fraction)),
                                      std::max<int64_t>(n - 1, 0));
    validation[c].assign(members.begin(), members.begin() + held_out);
    train[c].assign(members.begin() + held_out, members.end());
  }
  DataSplit split;
  split.train = CapAndMerge(train, spec.train_subset());
  split.validation = CapAndMerge(validation, spec.validation_subset());
  const auto samples = static_cast<int64_t>(labels.size());
  if (absl::Status s =
          CheckNotEmpty(split, samples, absl::StrCat("validation_fraction ", fraction));
      !s.ok()) {
    return s;
  }
  return split;
}

absl::StatusOr<std::vector<DataSplit>> SplitFolds(const std::vector<int32_t>& labels,
                                                  const v1::DatasetSpec& spec,
                                                  uint64_t seed) {
  const int folds = spec.folds();
  if (folds < 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "dataset.folds: ", folds, " (2 or more folds, or 0/1 for one hold-out split)"));
  }
  const ClassLists by_class = ShuffledByClass(labels, seed);
  // fold_parts[k][c]: the members of class c in fold k; kept[c]: the
  // sample of a single-sample class, always trained on.
  std::vector<ClassLists> fold_parts(folds, ClassLists(by_class.size()));
  ClassLists kept(by_class.size());
  int64_t dealt = 0;
  for (size_t c = 0; c < by_class.size(); ++c) {
    if (by_class[c].size() == 1) {
      kept[c] = by_class[c];
      continue;
    }
    for (int64_t index : by_class[c]) fold_parts[dealt++ % folds][c].push_back(index);
  }
  std::vector<DataSplit> splits;
  for (int k = 0; k < folds; ++k) {
    ClassLists train = kept;
    for (int other = 0; other < folds; ++other) {
      if (other == k) continue;
      for (size_t c = 0; c < by_class.size(); ++c) {
        train[c].insert(train[c].end(), fold_parts[other][c].begin(),
                        fold_parts[other][c].end());
      }
    }
    DataSplit split;
    split.train = CapAndMerge(train, spec.train_subset());
    split.validation = CapAndMerge(fold_parts[k], spec.validation_subset());
    if (absl::Status s = CheckNotEmpty(split, static_cast<int64_t>(labels.size()),
                                       absl::StrCat(folds, " folds"));
        !s.ok()) {
      return s;
    }
    splits.push_back(std::move(split));
  }
  return splits;
}

absl::StatusOr<std::vector<DataSplit>> TrialSplits(const std::vector<int32_t>& labels,
                                                   const v1::DatasetSpec& spec,
                                                   uint64_t seed) {
  if (spec.folds() > 1 || spec.folds() < 0) return SplitFolds(labels, spec, seed);
  absl::StatusOr<DataSplit> split = SplitTrainValidation(labels, spec, seed);
  if (!split.ok()) return split.status();
  return std::vector<DataSplit>{*std::move(split)};
}

}  // namespace nas::worker
