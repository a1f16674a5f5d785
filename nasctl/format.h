#ifndef NAS_NASCTL_FORMAT_H_
#define NAS_NASCTL_FORMAT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "proto/nas.pb.h"

namespace nas::nasctl {

// A plain-text table with aligned columns: a header row, then one row per
// AddRow(). Cells of right-aligned columns are padded on the left. The last
// column is never padded, so a long architecture string does not drag
// trailing spaces. Value type; not thread-safe.
class Table {
 public:
  struct Column {
    std::string header;
    bool right_align = false;
  };

  explicit Table(std::vector<Column> columns);

  // `cells` must have one entry per column (missing ones print empty, extra
  // ones are dropped).
  void AddRow(std::vector<std::string> cells);
  size_t num_rows() const { return rows_.size(); }

  // Header and rows, two spaces between columns, one line each, '\n' ended.
  std::string Render() const;

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

// 0 -> "0 B", 900 -> "900 B", 12345 -> "12.1 KiB", 3 << 20 -> "3.00 MiB".
std::string FormatBytes(int64_t bytes);
// 950 -> "950", 12345 -> "12.3k", 4560000 -> "4.56M", 1.2e9 -> "1.20G".
std::string FormatCount(int64_t count);
// 61706 -> "61,706".
std::string FormatInteger(int64_t value);
// Seconds as "45s", "3m05s", "1h02m"; negative -> "-".
std::string FormatDuration(double seconds);
// Four decimals: 0.87234 -> "0.8723".
std::string FormatScore(double value);
// Milliseconds with a precision that suits the magnitude: "0.042 ms",
// "3.21 ms", "152 ms".
std::string FormatMillis(double ms);
// Local wall-clock time "2024-05-01 13:45:12"; "-" for 0.
std::string FormatUnixMillis(int64_t unix_ms);

// "RUNNING", "SUCCEEDED", ... (prefixes of the enum names dropped).
std::string SearchStateName(v1::SearchState state);
std::string TrialStateName(v1::TrialState state);
// Accepts "running", "RUNNING" or "TRIAL_RUNNING"; InvalidArgument listing
// the valid names otherwise.
absl::StatusOr<v1::TrialState> ParseTrialState(absl::string_view text);
// True for SUCCEEDED, FAILED and CANCELLED.
bool IsTerminal(v1::SearchState state);

// The proto as JSON with snake_case field names and every field present
// (zeros included), for scripts: indented, or on one line (no newline) when
// `one_line` is set (for streams of JSON lines).
std::string ToJson(const google::protobuf::Message& message, bool one_line = false);

}  // namespace nas::nasctl

#endif  // NAS_NASCTL_FORMAT_H_
