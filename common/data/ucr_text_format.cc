#include "common/data/ucr_text_format.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/data/gz_input.h"
#include "common/data/series.h"
#include "common/data/text_fields.h"
#include "common/status_macros.h"

namespace nas::data {
namespace {

// Splits a row at tabs if it has any, else at commas, else at runs of
// blanks.
void SplitRow(absl::string_view line, std::vector<absl::string_view>* fields) {
  if (line.find('\t') != absl::string_view::npos) {
    *fields = absl::StrSplit(line, '\t');
  } else if (line.find(',') != absl::string_view::npos) {
    *fields = absl::StrSplit(line, ',');
  } else {
    *fields = absl::StrSplit(line, absl::ByAnyChar(" \f\v"), absl::SkipEmpty());
  }
}

}  // namespace

absl::StatusOr<RawSamples> ReadUcrText(const DataFile& file,
                                       const v1::DatasetSpec& spec,
                                       const ReadOptions& options) {
  NAS_ASSIGN_OR_RETURN(std::unique_ptr<LineReader> lines,
                       LineReader::Open(file.path));
  RawSamples samples;
  RowCollector rows(spec, options, &samples);
  std::vector<absl::string_view> fields;
  std::vector<float> values;
  absl::string_view line;
  while (true) {
    NAS_ASSIGN_OR_RETURN(bool more, lines->Next(&line));
    if (!more) break;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) continue;
    const int64_t number = lines->line_number();
    SplitRow(line, &fields);
    const std::string label = CanonicalLabel(fields[0]);
    if (label.empty()) return LineError(file.path, number, "empty label");
    values.clear();
    for (size_t i = 1; i < fields.size(); ++i) {
      float value = 0;
      if (!ParseFiniteFloat(fields[i], &value)) {
        return LineError(file.path, number,
                         absl::StrCat("field ", i + 1, ": ", Quoted(fields[i]),
                                      " is not a finite number"));
      }
      values.push_back(value);
    }
    if (values.empty()) {
      return LineError(file.path, number, "no values after the label");
    }
    NAS_RETURN_IF_ERROR(rows.Add(values, label, file.path, number));
  }
  return samples;
}

}  // namespace nas::data
