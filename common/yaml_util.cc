#include "common/yaml_util.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace nas::internal {
namespace {

// The scalar as written, or "" for a non-scalar.
std::string Text(const YAML::Node& node) {
  if (node.IsScalar()) return node.Scalar();
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a map";
  return "nothing";
}

void WrongType(const YAML::Node& node, const std::string& path,
               const std::string& expected, YamlErrors* errors) {
  const std::string got =
      node.IsScalar() ? absl::StrCat("'", node.Scalar(), "'") : Text(node);
  errors->Add(path, absl::StrCat("expected ", expected, ", got ", got));
}

size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                         diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// Splits "1h30m" / "256 KiB" into (number, unit) pairs.
bool SplitQuantities(absl::string_view text,
                     std::vector<std::pair<double, std::string>>* parts) {
  std::string s(absl::StripAsciiWhitespace(text));
  size_t i = 0;
  while (i < s.size()) {
    size_t start = i;
    while (i < s.size() && (absl::ascii_isdigit(s[i]) || s[i] == '.')) ++i;
    double value = 0;
    if (!absl::SimpleAtod(s.substr(start, i - start), &value)) return false;
    while (i < s.size() && s[i] == ' ') ++i;
    start = i;
    while (i < s.size() && absl::ascii_isalpha(s[i])) ++i;
    parts->emplace_back(value, s.substr(start, i - start));
    while (i < s.size() && s[i] == ' ') ++i;
  }
  return !parts->empty();
}

std::optional<int64_t> ToInt64(double value) {
  if (!(value >= 0) || value > 9e18 || value != std::floor(value)) {
    return std::nullopt;
  }
  return static_cast<int64_t>(value);
}

}  // namespace

void YamlErrors::Add(const std::string& path, const std::string& message) {
  lines_.push_back(path.empty() ? message : absl::StrCat(path, ": ", message));
}

absl::Status YamlErrors::ToStatus() const {
  if (lines_.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrJoin(lines_, "\n"));
}

absl::StatusOr<YAML::Node> LoadYaml(absl::string_view text) {
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("YAML syntax error at line ", e.mark.line + 1, ", column ",
                     e.mark.column + 1, ": ", e.msg));
  }
}

std::string JoinPath(const std::string& path, const std::string& key) {
  return path.empty() ? key : absl::StrCat(path, ".", key);
}

std::string IndexPath(const std::string& path, size_t index) {
  return absl::StrCat(path, "[", index, "]");
}

std::string SuggestKey(const std::string& key,
                       const std::vector<std::string>& known) {
  std::string best;
  size_t best_distance = 3;
  for (const std::string& candidate : known) {
    const size_t distance = EditDistance(absl::AsciiStrToLower(key), candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  if (!best.empty()) return best;
  for (const std::string& candidate : known) {
    const size_t n = std::min(key.size(), candidate.size());
    if (n >= 4 && key.compare(0, n, candidate, 0, n) == 0) return candidate;
  }
  return "";
}

bool ExpectMap(const YAML::Node& node, const std::string& path,
               YamlErrors* errors) {
  if (node.IsMap()) return true;
  WrongType(node, path, "a map", errors);
  return false;
}

void CheckKeys(const YAML::Node& map, const std::string& path,
               const std::vector<std::string>& known, YamlErrors* errors) {
  for (const auto& entry : map) {
    const std::string key = entry.first.IsScalar() ? entry.first.Scalar() : "?";
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    const std::string suggestion = SuggestKey(key, known);
    errors->Add(
        JoinPath(path, key),
        suggestion.empty()
            ? absl::StrCat("unknown key (known: ", absl::StrJoin(known, ", "),
                           ")")
            : absl::StrCat("unknown key (did you mean '", suggestion, "'?)"));
  }
}

std::optional<int64_t> ReadInt(const YAML::Node& node, const std::string& path,
                               YamlErrors* errors) {
  int64_t value = 0;
  if (node.IsScalar() && absl::SimpleAtoi(node.Scalar(), &value)) return value;
  WrongType(node, path, "an integer", errors);
  return std::nullopt;
}

std::optional<double> ReadDouble(const YAML::Node& node,
                                 const std::string& path, YamlErrors* errors) {
  double value = 0;
  if (node.IsScalar() && absl::SimpleAtod(node.Scalar(), &value) &&
      std::isfinite(value)) {
    return value;
  }
  WrongType(node, path, "a number", errors);
  return std::nullopt;
}

std::optional<bool> ReadBool(const YAML::Node& node, const std::string& path,
                             YamlErrors* errors) {
  if (node.IsScalar()) {
    const std::string s = absl::AsciiStrToLower(node.Scalar());
    if (s == "true" || s == "yes" || s == "on") return true;
    if (s == "false" || s == "no" || s == "off") return false;
  }
  WrongType(node, path, "true or false", errors);
  return std::nullopt;
}

std::optional<std::string> ReadString(const YAML::Node& node,
                                      const std::string& path,
                                      YamlErrors* errors) {
  if (node.IsScalar()) return node.Scalar();
  WrongType(node, path, "a string", errors);
  return std::nullopt;
}

std::optional<int64_t> ParseByteSize(absl::string_view text) {
  std::vector<std::pair<double, std::string>> parts;
  if (!SplitQuantities(text, &parts) || parts.size() != 1) return std::nullopt;
  const std::string unit = absl::AsciiStrToLower(parts[0].second);
  double scale = 0;
  if (unit.empty() || unit == "b") scale = 1;
  if (unit == "kb" || unit == "k") scale = 1e3;
  if (unit == "mb" || unit == "m") scale = 1e6;
  if (unit == "gb" || unit == "g") scale = 1e9;
  if (unit == "kib") scale = 1024;
  if (unit == "mib") scale = 1024.0 * 1024;
  if (unit == "gib") scale = 1024.0 * 1024 * 1024;
  if (scale == 0) return std::nullopt;
  return ToInt64(std::round(parts[0].first * scale));
}

std::optional<int64_t> ParseDurationSeconds(absl::string_view text) {
  std::vector<std::pair<double, std::string>> parts;
  if (!SplitQuantities(text, &parts)) return std::nullopt;
  double seconds = 0;
  for (const auto& [value, unit_text] : parts) {
    const std::string unit = absl::AsciiStrToLower(unit_text);
    double scale = 0;
    if (unit.empty() || unit == "s") scale = 1;
    if (unit == "m" || unit == "min") scale = 60;
    if (unit == "h") scale = 3600;
    if (unit == "d") scale = 86400;
    if (scale == 0 || (unit.empty() && parts.size() > 1)) return std::nullopt;
    seconds += value * scale;
  }
  return ToInt64(std::round(seconds));
}

std::optional<int64_t> ReadBytes(const YAML::Node& node,
                                 const std::string& path, YamlErrors* errors) {
  int64_t value = 0;
  if (node.IsScalar() && absl::SimpleAtoi(node.Scalar(), &value)) return value;
  if (node.IsScalar()) {
    if (std::optional<int64_t> bytes = ParseByteSize(node.Scalar()))
      return bytes;
  }
  WrongType(node, path, "a size in bytes (e.g. 262144 or \"256KiB\")", errors);
  return std::nullopt;
}

std::optional<int64_t> ReadDurationSeconds(const YAML::Node& node,
                                           const std::string& path,
                                           YamlErrors* errors) {
  int64_t value = 0;
  if (node.IsScalar() && absl::SimpleAtoi(node.Scalar(), &value)) return value;
  if (node.IsScalar()) {
    if (std::optional<int64_t> s = ParseDurationSeconds(node.Scalar()))
      return s;
  }
  WrongType(node, path, "a duration (seconds, or e.g. \"10m\", \"1h30m\")",
            errors);
  return std::nullopt;
}

std::optional<std::vector<YAML::Node>> ReadList(const YAML::Node& node,
                                                const std::string& path,
                                                YamlErrors* errors) {
  std::vector<YAML::Node> items;
  if (node.IsScalar()) {
    items.push_back(node);
    return items;
  }
  if (!node.IsSequence()) {
    WrongType(node, path, "a list", errors);
    return std::nullopt;
  }
  if (node.size() > kMaxYamlListItems) {
    errors->Add(path, absl::StrCat(node.size(), " items, at most ",
                                   kMaxYamlListItems, " allowed"));
    return std::nullopt;
  }
  for (const YAML::Node& item : node) items.push_back(item);
  return items;
}

}  // namespace nas::internal
