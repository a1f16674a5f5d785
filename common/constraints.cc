// CheckConstraints: every broken limit, with its numbers and its source.

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/cost_model.h"

namespace nas {
namespace {

// Where a byte limit comes from: the constraint when it is the tighter one,
// else the device's total minus its reserve.
std::string ByteLimitSource(int64_t device_total, int64_t reserved,
                            int64_t constraint, const std::string& device,
                            const std::string& field) {
  if (constraint > 0 && constraint <= device_total - reserved) {
    return absl::StrCat("constraints.", field);
  }
  return absl::StrCat("device ", device, ": ", device_total, " B - ", reserved,
                      " B reserved");
}

}  // namespace

std::vector<std::string> CheckConstraints(const CostReport& report,
                                          const v1::DeviceProfile& device,
                                          const v1::Constraints& constraints) {
  const EffectiveLimits limits = ComputeLimits(device, constraints);
  std::vector<std::string> broken;
  if (report.flash_bytes > limits.flash_bytes) {
    broken.push_back(absl::StrCat(
        "flash ", report.flash_bytes, " B > limit ", limits.flash_bytes, " B (",
        ByteLimitSource(device.flash_bytes(), device.flash_reserved_bytes(),
                        constraints.max_flash_bytes(), device.name(),
                        "max_flash_bytes"),
        ")"));
  }
  const int64_t sram = SramUsage(report);
  if (sram > limits.sram_bytes) {
    broken.push_back(absl::StrCat(
        "sram ", sram, " B > limit ", limits.sram_bytes, " B (",
        ByteLimitSource(device.sram_bytes(), device.sram_reserved_bytes(),
                        constraints.max_sram_bytes(), device.name(),
                        "max_sram_bytes"),
        ")"));
  }
  if (limits.macs > 0 && report.macs > limits.macs) {
    broken.push_back(absl::StrCat("macs ", report.macs, " > limit ",
                                  limits.macs, " (constraints.max_macs)"));
  }
  if (limits.latency_ms > 0 && report.latency_ms > limits.latency_ms) {
    broken.push_back(absl::StrFormat(
        "latency %.3f ms > limit %.3f ms (constraints.max_latency_ms)",
        report.latency_ms, limits.latency_ms));
  }
  if (limits.params > 0 && report.params > limits.params) {
    broken.push_back(absl::StrCat("params ", report.params, " > limit ",
                                  limits.params, " (constraints.max_params)"));
  }
  return broken;
}

}  // namespace nas
