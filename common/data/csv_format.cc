#include "common/data/csv_format.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/data/gz_input.h"
#include "common/data/series.h"
#include "common/data/text_fields.h"
#include "common/status_macros.h"

namespace nas::data {
namespace {

constexpr char kDefaultLabelColumn[] = "label";

// The index of the label column in `header`; the error lists the columns.
absl::StatusOr<size_t> FindLabelColumn(const std::vector<std::string>& header,
                                       const std::string& wanted,
                                       const LineReader& lines) {
  for (size_t i = 0; i < header.size(); ++i) {
    if (absl::StripAsciiWhitespace(header[i]) == wanted) return i;
  }
  constexpr size_t kShown = 8;
  std::vector<std::string> shown;
  for (size_t i = 0; i < header.size() && i < kShown; ++i) {
    shown.push_back(Quoted(header[i]));
  }
  if (header.size() > kShown) {
    shown.push_back(absl::StrCat("... (", header.size(), " in all)"));
  }
  return LineError(
      lines.path(), lines.line_number(),
      absl::StrCat("no column ", Quoted(wanted),
                   " in the header (dataset.label_column); its columns: ",
                   absl::StrJoin(shown, ", ")));
}

}  // namespace

absl::Status SplitCsvLine(absl::string_view line, absl::string_view path,
                          int64_t line_number,
                          std::vector<std::string>* fields) {
  fields->clear();
  std::string field;
  size_t i = 0;
  while (true) {
    field.clear();
    if (i < line.size() && line[i] == '"') {
      ++i;
      while (true) {
        if (i >= line.size()) {
          return LineError(path, line_number, "unterminated quoted field");
        }
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            field.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field.push_back(line[i++]);
      }
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      if (i < line.size() && line[i] != ',') {
        return LineError(path, line_number,
                         absl::StrCat("field ", fields->size() + 1,
                                      ": text after the closing quote"));
      }
    } else {
      const size_t end = std::min(line.find(',', i), line.size());
      field.assign(line.data() + i, end - i);
      i = end;
    }
    fields->push_back(field);
    if (i >= line.size()) return absl::OkStatus();
    ++i;  // The comma.
  }
}

absl::StatusOr<RawSamples> ReadCsv(const DataFile& file,
                                   const v1::DatasetSpec& spec,
                                   const ReadOptions& options) {
  NAS_ASSIGN_OR_RETURN(std::unique_ptr<LineReader> lines,
                       LineReader::Open(file.path));
  const std::string wanted =
      spec.label_column().empty() ? kDefaultLabelColumn : spec.label_column();
  RawSamples samples;
  RowCollector rows(spec, options, &samples);
  std::vector<std::string> fields;
  std::vector<float> values;
  size_t columns = 0;
  size_t label_column = 0;
  absl::string_view line;
  while (true) {
    NAS_ASSIGN_OR_RETURN(bool more, lines->Next(&line));
    if (!more) break;
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    const int64_t number = lines->line_number();
    NAS_RETURN_IF_ERROR(SplitCsvLine(line, file.path, number, &fields));
    if (columns == 0) {
      NAS_ASSIGN_OR_RETURN(label_column,
                           FindLabelColumn(fields, wanted, *lines));
      columns = fields.size();
      continue;
    }
    if (fields.size() != columns) {
      return LineError(
          file.path, number,
          absl::StrCat(fields.size(), " fields, the header has ", columns));
    }
    const std::string label = CanonicalLabel(fields[label_column]);
    if (label.empty()) return LineError(file.path, number, "empty label");
    values.clear();
    for (size_t i = 0; i < fields.size(); ++i) {
      if (i == label_column) continue;
      float value = 0;
      if (!ParseFiniteFloat(fields[i], &value)) {
        return LineError(file.path, number,
                         absl::StrCat("field ", i + 1, ": ", Quoted(fields[i]),
                                      " is not a finite number"));
      }
      values.push_back(value);
    }
    NAS_RETURN_IF_ERROR(rows.Add(values, label, file.path, number));
  }
  return samples;
}

}  // namespace nas::data
