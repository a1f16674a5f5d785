#include "tests/e2e/prometheus_text.h"

#include <cctype>
#include <cstdlib>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tests/integration/grpc_probe.h"

namespace nas::testing {
namespace {

bool IsNameChar(char c, bool first) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' ||
         c == ':' || (!first && std::isdigit(static_cast<unsigned char>(c)));
}

// Reads a name at `*pos`, advancing it; "" when there is none.
std::string ReadName(absl::string_view line, size_t* pos) {
  const size_t start = *pos;
  while (*pos < line.size() && IsNameChar(line[*pos], *pos == start)) ++*pos;
  return std::string(line.substr(start, *pos - start));
}

// Reads a quoted label value at `*pos` (on the opening quote), unescaping
// \\, \" and \n; false when it is not closed.
bool ReadQuoted(absl::string_view line, size_t* pos, std::string* value) {
  if (*pos >= line.size() || line[*pos] != '"') return false;
  for (++*pos; *pos < line.size(); ++*pos) {
    const char c = line[*pos];
    if (c == '"') {
      ++*pos;
      return true;
    }
    if (c == '\\' && *pos + 1 < line.size()) {
      const char next = line[++*pos];
      value->push_back(next == 'n' ? '\n' : next);
    } else {
      value->push_back(c);
    }
  }
  return false;
}

bool ParseLabels(absl::string_view line, size_t* pos, Labels* labels) {
  ++*pos;  // '{'
  while (*pos < line.size() && line[*pos] != '}') {
    const std::string name = ReadName(line, pos);
    if (name.empty() || *pos >= line.size() || line[*pos] != '=') return false;
    ++*pos;
    std::string value;
    if (!ReadQuoted(line, pos, &value)) return false;
    (*labels)[name] = std::move(value);
    if (*pos < line.size() && line[*pos] == ',') ++*pos;
  }
  if (*pos >= line.size()) return false;
  ++*pos;  // '}'
  return true;
}

std::optional<Sample> ParseSample(absl::string_view line) {
  Sample sample;
  size_t pos = 0;
  sample.name = ReadName(line, &pos);
  if (sample.name.empty()) return std::nullopt;
  if (pos < line.size() && line[pos] == '{' &&
      !ParseLabels(line, &pos, &sample.labels)) {
    return std::nullopt;
  }
  if (pos >= line.size() || line[pos] != ' ') return std::nullopt;
  // The value, then maybe a timestamp.
  const std::string rest(line.substr(pos + 1));
  const std::string value = rest.substr(0, rest.find(' '));
  char* end = nullptr;
  sample.value = std::strtod(value.c_str(), &end);
  if (value.empty() || *end != '\0') return std::nullopt;
  return sample;
}

bool Includes(const Labels& have, const Labels& want) {
  for (const auto& [name, value] : want) {
    auto it = have.find(name);
    if (it == have.end() || it->second != value) return false;
  }
  return true;
}

}  // namespace

std::set<std::string> Exposition::Names() const {
  std::set<std::string> names;
  for (const Sample& s : samples_) names.insert(s.name);
  return names;
}

std::vector<Sample> Exposition::Select(const std::string& name,
                                       const Labels& labels) const {
  std::vector<Sample> selected;
  for (const Sample& s : samples_) {
    if (s.name == name && Includes(s.labels, labels)) selected.push_back(s);
  }
  return selected;
}

std::optional<double> Exposition::Value(const std::string& name,
                                        const Labels& labels) const {
  const std::vector<Sample> selected = Select(name, labels);
  if (selected.size() != 1) return std::nullopt;
  return selected.front().value;
}

double Exposition::Sum(const std::string& name, const Labels& labels) const {
  double sum = 0;
  for (const Sample& s : Select(name, labels)) sum += s.value;
  return sum;
}

absl::StatusOr<Exposition> ParseExposition(absl::string_view text) {
  if (absl::StartsWith(text, "HTTP/")) {
    const size_t body = text.find("\r\n\r\n");
    if (body == absl::string_view::npos) {
      return absl::InvalidArgumentError("HTTP response without a body");
    }
    text.remove_prefix(body + 4);
  }
  std::vector<Sample> samples;
  std::map<std::string, std::string> types;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (absl::ConsumePrefix(&line, "# TYPE ")) {
      const std::vector<std::string> parts = absl::StrSplit(line, ' ');
      if (parts.size() != 2) {
        return absl::InvalidArgumentError(
            absl::StrCat("not a TYPE line: \"", line, "\""));
      }
      types[parts[0]] = parts[1];
      continue;
    }
    if (line.empty() || line.front() == '#') continue;
    std::optional<Sample> sample = ParseSample(line);
    if (!sample.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat("not a sample line: \"", line, "\""));
    }
    samples.push_back(*std::move(sample));
  }
  return Exposition(std::move(samples), std::move(types));
}

absl::StatusOr<Exposition> ScrapeExposition(int port) {
  absl::StatusOr<std::string> response = ScrapeMetrics(port);
  if (!response.ok()) return response.status();
  const std::string status_line = response->substr(0, response->find('\r'));
  if (!absl::StrContains(status_line, "200 OK")) {
    return absl::UnavailableError(
        absl::StrCat("GET /metrics on port ", port, ": ", status_line));
  }
  return ParseExposition(*response);
}

std::set<std::string> MetricNamesIn(absl::string_view promql,
                                    const std::vector<std::string>& prefixes) {
  std::set<std::string> names;
  size_t pos = 0;
  while (pos < promql.size()) {
    const char c = promql[pos];
    if (c == '"' || c == '\'' || c == '`') {  // A string: skipped whole.
      const size_t close = promql.find(c, pos + 1);
      pos = close == absl::string_view::npos ? promql.size() : close + 1;
      continue;
    }
    if (!IsNameChar(c, /*first=*/true)) {
      ++pos;
      continue;
    }
    const std::string name = ReadName(promql, &pos);
    for (const std::string& prefix : prefixes) {
      if (absl::StartsWith(name, prefix)) names.insert(name);
    }
  }
  return names;
}

}  // namespace nas::testing
