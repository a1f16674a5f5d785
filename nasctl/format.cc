#include "nasctl/format.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"

namespace nas::nasctl {

namespace {

// Terminal columns of UTF-8 text: its code points ("\u00b1" is one).
size_t DisplayWidth(const std::string& text) {
  return std::count_if(text.begin(), text.end(),
                       [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
}

}  // namespace

Table::Table(std::vector<Column> columns) : columns_(std::move(columns)) {}

void Table::AddRow(std::vector<std::string> cells) {
  cells.resize(columns_.size());
  rows_.push_back(std::move(cells));
}

std::string Table::Render() const {
  std::vector<size_t> widths(columns_.size(), 0);
  for (size_t c = 0; c < columns_.size(); ++c) {
    widths[c] = DisplayWidth(columns_[c].header);
    for (const auto& row : rows_) widths[c] = std::max(widths[c], DisplayWidth(row[c]));
  }
  auto render_row = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (size_t c = 0; c < cells.size(); ++c) {
      const bool last = c + 1 == cells.size();
      const std::string pad(widths[c] - DisplayWidth(cells[c]), ' ');
      if (c > 0) line += "  ";
      if (columns_[c].right_align) {
        line += pad + cells[c];
      } else {
        line += cells[c];
        if (!last) line += pad;
      }
    }
    // Right-aligned last column or empty trailing cells may leave spaces.
    while (!line.empty() && line.back() == ' ') line.pop_back();
    return line + "\n";
  };
  std::vector<std::string> headers;
  for (const Column& column : columns_) headers.push_back(column.header);
  std::string out = render_row(headers);
  for (const auto& row : rows_) out += render_row(row);
  return out;
}

std::string FormatBytes(int64_t bytes) {
  const double b = static_cast<double>(bytes);
  if (std::llabs(bytes) < 1024) return absl::StrCat(bytes, " B");
  if (std::llabs(bytes) < (int64_t{1} << 20)) return absl::StrFormat("%.1f KiB", b / 1024);
  if (std::llabs(bytes) < (int64_t{1} << 30)) {
    return absl::StrFormat("%.2f MiB", b / (1 << 20));
  }
  return absl::StrFormat("%.2f GiB", b / (1 << 30));
}

std::string FormatCount(int64_t count) {
  const double c = static_cast<double>(count);
  if (std::llabs(count) < 1000) return absl::StrCat(count);
  if (std::llabs(count) < 1000000) return absl::StrFormat("%.1fk", c / 1e3);
  if (std::llabs(count) < 1000000000) return absl::StrFormat("%.2fM", c / 1e6);
  return absl::StrFormat("%.2fG", c / 1e9);
}

std::string FormatInteger(int64_t value) {
  std::string digits = absl::StrCat(value < 0 ? -value : value);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return value < 0 ? "-" + out : out;
}

std::string FormatDuration(double seconds) {
  if (seconds < 0 || !std::isfinite(seconds)) return "-";
  const int64_t s = static_cast<int64_t>(std::llround(seconds));
  if (s < 60) return absl::StrCat(s, "s");
  if (s < 3600) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  return absl::StrFormat("%dh%02dm", s / 3600, (s % 3600) / 60);
}

std::string FormatScore(double value) { return absl::StrFormat("%.4f", value); }

std::string FormatMillis(double ms) {
  if (ms < 1) return absl::StrFormat("%.3f ms", ms);
  if (ms < 100) return absl::StrFormat("%.2f ms", ms);
  return absl::StrFormat("%.0f ms", ms);
}

std::string FormatUnixMillis(int64_t unix_ms) {
  if (unix_ms <= 0) return "-";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", absl::FromUnixMillis(unix_ms),
                          absl::LocalTimeZone());
}

namespace {

// An enum value's proto name without `prefix`; "STATE_<n>" for an unknown
// value (whose name is empty).
std::string ShortStateName(const std::string& name, absl::string_view prefix, int value) {
  if (name.empty()) return absl::StrCat("STATE_", value);
  return std::string(absl::StripPrefix(name, prefix));
}

}  // namespace

std::string SearchStateName(v1::SearchState state) {
  return ShortStateName(v1::SearchState_Name(state), "SEARCH_", state);
}

std::string TrialStateName(v1::TrialState state) {
  return ShortStateName(v1::TrialState_Name(state), "TRIAL_", state);
}

absl::StatusOr<v1::TrialState> ParseTrialState(absl::string_view text) {
  std::string upper = absl::AsciiStrToUpper(text);
  if (!absl::StartsWith(upper, "TRIAL_")) upper = "TRIAL_" + upper;
  v1::TrialState state;
  if (upper != "TRIAL_STATE_UNSPECIFIED" && v1::TrialState_Parse(upper, &state)) {
    return state;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown trial state '", text,
      "' (one of pending, running, succeeded, failed, infeasible, cached, "
      "cancelled)"));
}

bool IsTerminal(v1::SearchState state) {
  return state == v1::SEARCH_SUCCEEDED || state == v1::SEARCH_FAILED ||
         state == v1::SEARCH_CANCELLED;
}

std::string ToJson(const google::protobuf::Message& message, bool one_line) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = !one_line;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string out;
  auto status = google::protobuf::util::MessageToJsonString(message, &out, options);
  if (!status.ok()) {
    // Only messages with unresolvable Any fields fail; nas.v1 has none.
    return absl::StrCat("{\"error\": \"", status.ToString(), "\"}\n");
  }
  return out;
}

}  // namespace nas::nasctl
