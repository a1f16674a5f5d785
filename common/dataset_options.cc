#include "common/dataset_options.h"

#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/architecture.h"
#include "common/data/formats.h"
#include "common/data/samples.h"
#include "common/datasets.h"
#include "common/spec_limits.h"
#include "common/text_check.h"

namespace nas::internal {
namespace {

// Problems, one line each.
struct Problems {
  std::vector<std::string>* lines;

  void Invalid(const std::string& line) { lines->push_back(line); }
  // Each line of `status`'s message, prefixed.
  void Add(const absl::Status& status, const std::string& prefix) {
    for (absl::string_view line : absl::StrSplit(status.message(), '\n')) {
      Invalid(absl::StrCat(prefix, line));
    }
  }
};

std::string FormatText(v1::DatasetFormat format) {
  const data::FormatInfo* info = data::FindFormat(format);
  return info != nullptr ? info->name : absl::StrCat(static_cast<int>(format));
}

bool IsSeries(const v1::DatasetSpec& d) {
  return d.input_shape().dims_size() == 2;
}

// The series, CSV, normalisation and fold options.
void CheckOptions(const v1::DatasetSpec& d, Problems* problems) {
  const bool series = IsSeries(d);
  const std::string not_series =
      absl::StrCat(" applies to series (input_shape [C, L]), not ",
                   ShapeToString(d.input_shape()));
  if (!v1::SeriesLayout_IsValid(d.layout())) {
    problems->Invalid(absl::StrCat("dataset.layout: unknown value ", d.layout(),
                                   " (channel_major or time_major)"));
  } else if (d.layout() != v1::SERIES_LAYOUT_UNSPECIFIED && !series) {
    problems->Invalid(absl::StrCat("dataset.layout:", not_series));
  }
  if (!v1::PadSide_IsValid(d.pad())) {
    problems->Invalid(absl::StrCat("dataset.pad: unknown value ", d.pad(),
                                   " (end or start)"));
  } else if (d.pad() != v1::PAD_SIDE_UNSPECIFIED && !series) {
    problems->Invalid(absl::StrCat("dataset.pad:", not_series));
  }
  if (d.length() < 0) {
    problems->Invalid(
        absl::StrCat("dataset.length: must be >= 1, got ", d.length()));
  } else if (d.length() > 0 && !series) {
    problems->Invalid(absl::StrCat("dataset.length:", not_series));
  } else if (d.length() > 0 && d.length() != d.input_shape().dims(1)) {
    problems->Invalid(absl::StrCat(
        "dataset.length: ", d.length(), " differs from input_shape's length ",
        d.input_shape().dims(1), " (the network's input; series are padded "
        "or cut to it): give the same value or leave length out"));
  }
  if (!d.label_column().empty()) {
    if (absl::Status s = CheckText("dataset.label_column", d.label_column(),
                                   kMaxNameLength, /*required=*/false);
        !s.ok()) {
      problems->Invalid(std::string(s.message()));
    } else if (d.format() != v1::CSV) {
      problems->Invalid(absl::StrCat(
          "dataset.label_column: only for the csv format, not ",
          FormatText(d.format())));
    }
  }
  if (!v1::Normalization_IsValid(d.normalization())) {
    problems->Invalid(absl::StrCat("dataset.normalization: unknown value ",
                                   d.normalization(),
                                   " (none, scale or zscore)"));
  }
  if (d.folds() < 0 || d.folds() > kMaxFolds) {
    problems->Invalid(absl::StrCat(
        "validation.folds: must be 0 or 1 (one hold-out split) or 2..",
        kMaxFolds, ", got ", d.folds()));
  } else if (d.folds() > 1 && d.validation_subset() > 0) {
    problems->Invalid(absl::StrCat(
        "dataset.validation_subset: not with validation.folds (", d.folds(),
        " folds score every training sample once; a subset would score a "
        "fraction of them): leave one out"));
  } else if (d.folds() > 1 && d.train_subset() > 0 &&
             d.folds() > d.train_subset()) {
    problems->Invalid(absl::StrCat("validation.folds: ", d.folds(),
                                   " folds of a train_subset of ",
                                   d.train_subset(), " samples"));
  }
}

// Defaults that change what the workers compute, so that the stored spec
// (and the result-cache key) says it. `eight_bit`: the training samples are
// bytes.
void FillOptionDefaults(bool eight_bit, v1::DatasetSpec* d) {
  if (IsSeries(*d)) {
    if (d->layout() == v1::SERIES_LAYOUT_UNSPECIFIED) {
      d->set_layout(v1::CHANNEL_MAJOR);
    }
    if (d->pad() == v1::PAD_SIDE_UNSPECIFIED) d->set_pad(v1::PAD_END);
    if (d->length() == 0) d->set_length(d->input_shape().dims(1));
  }
  if (d->format() == v1::CSV && d->label_column().empty()) {
    d->set_label_column("label");
  }
  if (d->normalization() == v1::NORMALIZATION_UNSPECIFIED) {
    d->set_normalization(eight_bit ? v1::NORMALIZATION_SCALE
                                   : v1::NORMALIZATION_ZSCORE);
  }
}

// Reads the files (the submit check) and fills the summary and the
// defaults that depend on the samples.
void CheckData(v1::DatasetSpec* d, Problems* problems) {
  // Whether a NumPy file holds bytes decides its default normalisation.
  bool eight_bit = d->format() == v1::IDX;
  if (d->format() == v1::NUMPY &&
      d->normalization() == v1::NORMALIZATION_UNSPECIFIED) {
    data::ReadOptions options;
    options.keep_values = false;
    absl::StatusOr<data::RawSamples> train =
        data::ReadSamples(*d, data::FileRole::kTrain, options);
    if (!train.ok()) {
      problems->Add(train.status(), "dataset: ");
      return;
    }
    eight_bit = train->eight_bit;
  }
  FillOptionDefaults(eight_bit, d);
  absl::StatusOr<v1::DatasetSummary> summary = data::CheckDataFiles(*d);
  if (!summary.ok()) {
    problems->Add(summary.status(), "dataset: ");
    return;
  }
  // Each fold validates on at least one sample. A class with fewer samples
  // than folds is missing from some folds' validation splits: allowed (tiny
  // data sets are what folds are for), its figures are only noisier.
  const int64_t samples = summary->train_samples();
  if (d->folds() > 1 && d->folds() > samples) {
    problems->Invalid(absl::StrCat("validation.folds: ", d->folds(),
                                   " folds of a training file of ", samples,
                                   " samples (", d->train_path(), ")"));
    return;
  }
  *d->mutable_summary() = *std::move(summary);
}

}  // namespace

void CheckDatasetOptions(const v1::DatasetSpec& d,
                         std::vector<std::string>* problems) {
  Problems p{problems};
  CheckOptions(d, &p);
}

absl::Status ReadDatasetFiles(v1::DatasetSpec* d) {
  std::vector<std::string> lines;
  Problems p{&lines};
  CheckData(d, &p);
  if (lines.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrJoin(lines, "\n"));
}

}  // namespace nas::internal
