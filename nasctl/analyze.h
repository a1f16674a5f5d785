#ifndef NAS_NASCTL_ANALYZE_H_
#define NAS_NASCTL_ANALYZE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/cost_model.h"
#include "proto/nas.pb.h"

namespace nas::nasctl {

// The outcome of `nasctl analyze`: the analytic cost of an architecture on a
// device and every constraint it breaks. Plain value type.
struct Analysis {
  v1::Architecture architecture;  // Canonical form.
  v1::DeviceProfile device;
  v1::TensorShape input;
  int num_classes = 0;
  CostReport cost;
  std::vector<std::string> violations;  // Empty: fits.
};

// "1x28x28", "1,140" or "784" -> TensorShape; InvalidArgument otherwise.
absl::StatusOr<v1::TensorShape> ParseShape(absl::string_view text);

// `arch` is a file name or the architecture text itself, in any form
// ParseArchitecture accepts (integer encoding, YAML or JSON list of layers).
// InvalidArgument for an unreadable file, a malformed architecture, an
// unknown device or a network that does not fit its input (every problem
// listed).
absl::StatusOr<Analysis> Analyze(const std::string& arch, absl::string_view device,
                                 const v1::TensorShape& input, int num_classes);

// Layer `index` of `arch` as text ("CONV1D(8,k3,s1,p1)"); the bare type
// name of `type` when `index` is past the architecture's layers.
std::string LayerText(const v1::Architecture& arch, size_t index, v1::LayerType type);

// Per-layer table, totals next to the device's limits, and either "fits"
// or every broken constraint.
std::string RenderAnalysis(const Analysis& analysis);
// The same as a JSON document (nlohmann), for scripts.
std::string AnalysisToJson(const Analysis& analysis);

}  // namespace nas::nasctl

#endif  // NAS_NASCTL_ANALYZE_H_
