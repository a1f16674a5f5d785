#include "nasctl/dataset_view.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/architecture.h"
#include "common/data/formats.h"
#include "nasctl/format.h"

namespace nas::nasctl {
namespace {

constexpr int kAllClassesUpTo = 12;
constexpr int kFirstClasses = 8;
constexpr int kLastClasses = 2;
constexpr size_t kMaxClassNameLength = 24;

// A label as the terminal may show it.
std::string Printable(const std::string& text) {
  std::string out;
  for (char c : text.substr(0, kMaxClassNameLength)) {
    const unsigned char u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u == 0x7f ? '?' : c);
  }
  if (text.size() > kMaxClassNameLength) out += "...";
  return out;
}

std::string FormatName(v1::DatasetFormat format) {
  const data::FormatInfo* info = data::FindFormat(format);
  return info != nullptr ? info->name : "";
}

std::string SamplesText(const v1::DatasetSpec& d) {
  std::string text = d.name().empty() ? "(custom)" : d.name();
  const std::string format = FormatName(d.format());
  if (!format.empty()) absl::StrAppend(&text, " (", format, ")");
  const v1::DatasetSummary& s = d.summary();
  if (s.train_samples() > 0) {
    absl::StrAppend(&text, ", ", FormatInteger(s.train_samples()), " train");
    if (s.test_samples() > 0) {
      absl::StrAppend(&text, " / ", FormatInteger(s.test_samples()), " test");
    }
    absl::StrAppend(&text, " samples");
  }
  if (d.train_subset() > 0) {
    absl::StrAppend(&text, ", train subset ", d.train_subset());
  }
  return text;
}

std::string InputText(const v1::DatasetSpec& d) {
  const v1::TensorShape& shape = d.input_shape();
  if (shape.dims_size() != 2) {
    return shape.dims_size() == 1
               ? absl::StrCat(shape.dims(0), " features")
               : absl::StrCat(ShapeToString(shape), " (channels x height x width)");
  }
  std::string text = absl::StrCat(shape.dims(0), shape.dims(0) == 1 ? " channel" : " channels",
                                  " x ", shape.dims(1));
  const v1::DatasetSummary& s = d.summary();
  if (s.padded() > 0 || s.cut() > 0) {
    std::string stored;
    if (s.max_length() > 0) {
      stored = s.min_length() == s.max_length()
                   ? absl::StrCat("stored ", s.min_length(), " long: ")
                   : absl::StrCat("stored ", s.min_length(), "..", s.max_length(), " long: ");
    }
    absl::StrAppend(&text, " (", stored, "padded ", s.padded(), ", cut ", s.cut(),
                    " to length ", d.length() > 0 ? d.length() : shape.dims(1),
                    d.pad() == v1::PAD_START ? ", at the start" : ", at the end", ")");
  }
  if (d.layout() == v1::TIME_MAJOR) absl::StrAppend(&text, ", rows time-major");
  return text;
}

std::string NormalizationText(v1::Normalization n) {
  switch (n) {
    case v1::NORMALIZATION_NONE:
      return "none (raw values)";
    case v1::NORMALIZATION_SCALE:
      return "scale (x / 255)";
    case v1::NORMALIZATION_ZSCORE:
      return "zscore per channel (training split's mean and std)";
    default:
      return "";
  }
}

std::string ValidationText(const v1::DatasetSpec& d) {
  std::string text =
      d.folds() > 1
          ? absl::StrCat(d.folds(), " stratified folds (mean ", "\xC2\xB1", " spread)")
          : absl::StrFormat("hold-out %g%% (stratified)", d.validation_fraction() * 100);
  if (d.validation_subset() > 0) {
    absl::StrAppend(&text, ", validation subset ", d.validation_subset());
  }
  if (d.evaluate_test()) absl::StrAppend(&text, ", test file scored");
  return text;
}

}  // namespace

std::string ClassNamesText(const v1::DatasetSummary& summary) {
  const int n = summary.class_names_size();
  std::vector<std::string> shown;
  for (int i = 0; i < n; ++i) {
    const bool all = n <= kAllClassesUpTo;
    if (all || i < kFirstClasses || i >= n - kLastClasses) {
      shown.push_back(Printable(summary.class_names(i)));
    } else if (i == kFirstClasses) {
      shown.push_back("...");
    }
  }
  return absl::StrJoin(shown, ", ");
}

std::vector<std::pair<std::string, std::string>> DatasetLines(const v1::DatasetSpec& d) {
  std::vector<std::pair<std::string, std::string>> lines;
  lines.emplace_back("dataset", SamplesText(d));
  if (d.input_shape().dims_size() > 0) lines.emplace_back("input", InputText(d));
  if (d.summary().class_names_size() > 0) {
    lines.emplace_back("classes", absl::StrCat(d.num_classes(), ": ", ClassNamesText(d.summary())));
  } else if (d.num_classes() > 0) {
    lines.emplace_back("classes", absl::StrCat(d.num_classes()));
  }
  const std::string normalization = NormalizationText(d.normalization());
  if (!normalization.empty()) lines.emplace_back("normalise", normalization);
  if (d.folds() > 1 || d.validation_fraction() > 0) {
    lines.emplace_back("validation", ValidationText(d));
  }
  return lines;
}

std::string DatasetSummary(const v1::DatasetSpec& dataset) {
  std::vector<std::string> parts;
  for (const auto& [key, value] : DatasetLines(dataset)) {
    parts.push_back(key == "dataset" ? value : absl::StrCat(key, " ", value));
  }
  return absl::StrJoin(parts, "; ");
}

std::string ScoreWithSpread(double value, double spread, int folds) {
  if (folds <= 1) return FormatScore(value);
  return absl::StrCat(FormatScore(value), " \xC2\xB1 ", FormatScore(spread));
}

}  // namespace nas::nasctl
