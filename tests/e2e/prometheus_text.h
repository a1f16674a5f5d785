#ifndef NAS_TESTS_E2E_PROMETHEUS_TEXT_H_
#define NAS_TESTS_E2E_PROMETHEUS_TEXT_H_

// What a Prometheus server reads from a /metrics endpoint: the samples of
// the text exposition format (version 0.0.4), parsed, and the metric names a
// PromQL expression refers to, for checking dashboards and queries against
// what the binaries serve.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace nas::testing {

using Labels = std::map<std::string, std::string>;

struct Sample {
  std::string name;  // As exposed: a histogram's name_bucket, _sum, _count.
  Labels labels;
  double value = 0;
};

// The samples of one scrape.
class Exposition {
 public:
  Exposition(std::vector<Sample> samples,
             std::map<std::string, std::string> types)
      : samples_(std::move(samples)), types_(std::move(types)) {}

  const std::vector<Sample>& samples() const { return samples_; }
  // Metric families by name (from the "# TYPE" lines): their type.
  const std::map<std::string, std::string>& types() const { return types_; }
  // Every sample name exposed.
  std::set<std::string> Names() const;
  // The value of the sample `name` whose labels include `labels`; nullopt
  // when none has them, or more than one.
  std::optional<double> Value(const std::string& name,
                              const Labels& labels = {}) const;
  // The sum over the samples `name` whose labels include `labels` (0 when
  // none).
  double Sum(const std::string& name, const Labels& labels = {}) const;
  // The samples of `name` whose labels include `labels`.
  std::vector<Sample> Select(const std::string& name,
                             const Labels& labels = {}) const;

 private:
  std::vector<Sample> samples_;
  std::map<std::string, std::string> types_;
};

// Parses an exposition (an HTTP response is accepted too: the headers up to
// the first blank line are skipped). InvalidArgument quoting the first line
// that does not parse.
absl::StatusOr<Exposition> ParseExposition(absl::string_view text);

// GET http://127.0.0.1:port/metrics, checked for "200 OK", parsed.
absl::StatusOr<Exposition> ScrapeExposition(int port);

// Metric names an expression refers to, i.e. identifiers starting with one
// of `prefixes` outside quoted strings (label values may contain anything).
std::set<std::string> MetricNamesIn(absl::string_view promql,
                                    const std::vector<std::string>& prefixes);

}  // namespace nas::testing

#endif  // NAS_TESTS_E2E_PROMETHEUS_TEXT_H_
