#ifndef NAS_TESTS_E2E_METRIC_REFERENCES_H_
#define NAS_TESTS_E2E_METRIC_REFERENCES_H_

// Where the deployment refers to metrics by name, outside the binaries that
// serve them: the Grafana dashboards (deploy/grafana/dashboards/*.json), the
// Prometheus configuration (deploy/prometheus/*.yml), the Kubernetes
// manifests (the KEDA query in deploy/k8s/*.yaml) and the table of
// docs/metrics.md. A name there that no binary serves is a dead panel, a
// scaler that never fires or a wrong document.

#include <map>
#include <set>
#include <string>
#include <vector>

namespace nas::testing {

// The prefixes of this project's metric names.
const std::vector<std::string>& MetricPrefixes();

// Every metric name with one of MetricPrefixes() in the string values of
// the deployment files under `source_dir`, by file (relative to
// `source_dir`). A file that cannot be read or parsed is listed with the
// name "<unreadable: why>".
std::map<std::string, std::set<std::string>> DeploymentMetricReferences(
    const std::string& source_dir);

// The metric families in the first column of docs/metrics.md's tables
// (`name` in backquotes).
std::set<std::string> DocumentedMetrics(const std::string& source_dir);

}  // namespace nas::testing

#endif  // NAS_TESTS_E2E_METRIC_REFERENCES_H_
