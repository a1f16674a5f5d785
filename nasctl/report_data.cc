#include "nasctl/report_data.h"

#include "absl/status/statusor.h"
#include "common/devices.h"
#include "nasctl/views.h"

namespace nas::nasctl {

v1::DeviceProfile SearchDevice(const v1::SearchSpec& spec) {
  if (spec.custom_device().sram_bytes() > 0) return spec.custom_device();
  absl::StatusOr<v1::DeviceProfile> profile = FindDeviceProfile(spec.device());
  return profile.ok() ? *profile : v1::DeviceProfile();
}

std::vector<const v1::Trial*> MeasuredTrials(const ReportData& data) {
  std::vector<const v1::Trial*> measured;
  for (const v1::Trial& trial : data.trials) {
    if (HasMeasuredMetrics(trial)) measured.push_back(&trial);
  }
  return measured;
}

}  // namespace nas::nasctl
