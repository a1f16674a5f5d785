#include "common/data/ts_format.h"

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/data/gz_input.h"
#include "common/data/series.h"
#include "common/data/text_fields.h"
#include "common/status_macros.h"

namespace nas::data {
namespace {

// What the @ lines said.
struct TsHeader {
  int64_t dimensions = 0;     // 0: not given.
  int64_t series_length = 0;  // 0: not given.
  bool equal_length = false;
  bool class_labels = false;
  std::set<std::string> labels;  // Canonical.
  bool data = false;             // @data seen.
};

absl::StatusOr<bool> ParseBool(absl::string_view value, absl::string_view key,
                               const LineReader& lines) {
  const std::string lower = absl::AsciiStrToLower(value);
  if (lower == "true") return true;
  if (lower == "false") return false;
  return LineError(
      lines.path(), lines.line_number(),
      absl::StrCat(key, " must be true or false, got ", Quoted(value)));
}

absl::StatusOr<int64_t> ParseCount(absl::string_view value,
                                   absl::string_view key,
                                   const LineReader& lines) {
  int64_t count = 0;
  if (!absl::SimpleAtoi(value, &count) || count <= 0 || count > (1 << 24)) {
    return LineError(
        lines.path(), lines.line_number(),
        absl::StrCat(key, " must be a positive count, got ", Quoted(value)));
  }
  return count;
}

// Applies one '@' line to `header`.
absl::Status ParseHeaderLine(absl::string_view line, const LineReader& lines,
                             TsHeader* header) {
  std::vector<absl::string_view> words =
      absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
  const std::string key = absl::AsciiStrToLower(words[0]);
  const absl::string_view value = words.size() > 1 ? words[1] : "";
  auto error = [&](absl::string_view message) {
    return LineError(lines.path(), lines.line_number(), message);
  };
  if (key == "@timestamps") {
    NAS_ASSIGN_OR_RETURN(bool stamps, ParseBool(value, words[0], lines));
    if (stamps) return error("@timeStamps true is not supported");
  } else if (key == "@univariate" && header->dimensions == 0) {
    NAS_ASSIGN_OR_RETURN(bool univariate, ParseBool(value, words[0], lines));
    if (univariate) header->dimensions = 1;
  } else if (key == "@dimensions") {
    NAS_ASSIGN_OR_RETURN(header->dimensions,
                         ParseCount(value, words[0], lines));
  } else if (key == "@equallength") {
    NAS_ASSIGN_OR_RETURN(header->equal_length,
                         ParseBool(value, words[0], lines));
  } else if (key == "@serieslength") {
    NAS_ASSIGN_OR_RETURN(header->series_length,
                         ParseCount(value, words[0], lines));
  } else if (key == "@targetlabel") {
    return error(
        "@targetLabel (regression) is not supported: "
        "classification needs @classLabel true and its labels");
  } else if (key == "@classlabel") {
    NAS_ASSIGN_OR_RETURN(header->class_labels,
                         ParseBool(value, words[0], lines));
    if (!header->class_labels) {
      return error("@classLabel false: classification needs labels");
    }
    for (size_t i = 2; i < words.size(); ++i) {
      header->labels.insert(CanonicalLabel(words[i]));
    }
    if (header->labels.empty())
      return error("@classLabel true lists no labels");
  } else if (key == "@data") {
    if (!header->class_labels) {
      return error(
          "@data before @classLabel true: classification needs labels");
    }
    header->data = true;
  }
  return absl::OkStatus();
}

// Parses one data line into channel-major `series`; returns its length.
absl::StatusOr<int64_t> ParseSeries(
    const std::vector<absl::string_view>& channels, const LineReader& lines,
    std::vector<float>* series) {
  auto error = [&](absl::string_view message) {
    return LineError(lines.path(), lines.line_number(), message);
  };
  series->clear();
  int64_t length = 0;
  for (size_t c = 0; c < channels.size(); ++c) {
    int64_t count = 0;
    for (absl::string_view field : absl::StrSplit(channels[c], ',')) {
      ++count;
      float value = 0;
      if (ParseFiniteFloat(field, &value)) {
        series->push_back(value);
        continue;
      }
      const std::string where =
          absl::StrCat("channel ", c + 1, ", value ", count, ": ");
      if (absl::StripAsciiWhitespace(field) == "?") {
        return error(absl::StrCat(where, "missing value '?' is not supported"));
      }
      return error(
          absl::StrCat(where, Quoted(field), " is not a finite number"));
    }
    if (c == 0) length = count;
    if (count != length) {
      return error(absl::StrCat("channel ", c + 1, " has ", count,
                                " values, channel 1 has ", length));
    }
  }
  return length;
}

// Checks a data line's channel count and label against the header and the
// spec.
absl::Status CheckLine(int64_t channels, const std::string& label,
                       const TsHeader& header, const v1::DatasetSpec& spec,
                       const LineReader& lines) {
  auto error = [&](absl::string_view message) {
    return LineError(lines.path(), lines.line_number(), message);
  };
  if (header.dimensions > 0 && channels != header.dimensions) {
    return error(absl::StrCat(channels, " channels, @dimensions says ",
                              header.dimensions));
  }
  if (spec.input_shape().dims_size() > 0 && channels != SeriesChannels(spec)) {
    return error(absl::StrCat(channels, " channels, dataset.input_shape says ",
                              SeriesChannels(spec)));
  }
  if (header.labels.count(label) == 0) {
    return error(absl::StrCat("label ", Quoted(label),
                              " is not in @classLabel (",
                              absl::StrJoin(header.labels, " "), ")"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<RawSamples> ReadTs(const DataFile& file,
                                  const v1::DatasetSpec& spec,
                                  const ReadOptions& options) {
  NAS_ASSIGN_OR_RETURN(std::unique_ptr<LineReader> lines,
                       LineReader::Open(file.path));
  TsHeader header;
  RawSamples samples;
  std::unique_ptr<SeriesBuilder> builder;
  std::vector<float> series;
  int64_t first_length = 0;
  absl::string_view line;
  while (true) {
    NAS_ASSIGN_OR_RETURN(bool more, lines->Next(&line));
    if (!more) break;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    if (line[0] == '@') {
      if (header.data) {
        return LineError(file.path, lines->line_number(),
                         "header line after @data");
      }
      NAS_RETURN_IF_ERROR(ParseHeaderLine(line, *lines, &header));
      continue;
    }
    if (!header.data) {
      return LineError(file.path, lines->line_number(),
                       "data before the @data line (not a .ts file?)");
    }
    std::vector<absl::string_view> fields = absl::StrSplit(line, ':');
    if (fields.size() < 2) {
      return LineError(file.path, lines->line_number(),
                       "no ':' before the label");
    }
    const std::string label = CanonicalLabel(fields.back());
    fields.pop_back();
    const auto channels = static_cast<int64_t>(fields.size());
    NAS_RETURN_IF_ERROR(CheckLine(channels, label, header, spec, *lines));
    NAS_ASSIGN_OR_RETURN(int64_t length, ParseSeries(fields, *lines, &series));
    if (builder == nullptr) {
      first_length = header.series_length > 0 ? header.series_length : length;
      builder = std::make_unique<SeriesBuilder>(
          channels, TargetLength(spec, !header.equal_length), spec.pad(),
          options.keep_values, &samples);
    }
    if (header.equal_length && length != first_length) {
      return LineError(file.path, lines->line_number(),
                       absl::StrCat(length, " values a channel, expected ",
                                    first_length, " (@equalLength true)"));
    }
    builder->Add(series, length, label);
  }
  if (!header.data) {
    return absl::InvalidArgumentError(
        absl::StrCat(file.path, ": no @data line (not a .ts file?)"));
  }
  return samples;
}

}  // namespace nas::data
