// Fuzzes the cost model: the first byte picks an input shape and a device,
// the rest is architecture text. Any network that parses must be costed or
// refused with InvalidArgument; a costed one must have sane, consistent
// figures (no negative counts, totals equal to the sum of the layers, the
// peak at least every layer's activations).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/architecture.h"
#include "common/cost_model.h"
#include "common/devices.h"

namespace {

const std::vector<nas::v1::DeviceProfile>& Devices() {
  static const auto* const devices = [] {
    auto* out = new std::vector<nas::v1::DeviceProfile>;
    for (const char* name : {"nrf52840", "stm32h743"}) {
      absl::StatusOr<nas::v1::DeviceProfile> d = nas::FindDeviceProfile(name);
      if (!d.ok()) std::abort();
      out->push_back(*d);
    }
    return out;
  }();
  return *devices;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t pick = data[0];
  const nas::v1::TensorShape inputs[] = {nas::MakeShape({1, 28, 28}),
                                         nas::MakeShape({1, 140}),
                                         nas::MakeShape({3, 32, 32}),
                                         nas::MakeShape({2, 7})};
  const nas::v1::TensorShape& input = inputs[pick % 4];
  const nas::v1::DeviceProfile& device = Devices()[(pick / 4) % 2];
  const int num_classes = 2 + (pick / 8) % 9;
  absl::StatusOr<nas::v1::Architecture> arch = nas::ParseArchitecture(
      absl::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  if (!arch.ok()) return 0;
  absl::StatusOr<nas::CostReport> cost =
      nas::AnalyzeCost(*arch, input, num_classes, device);
  if (!cost.ok()) {
    if (cost.status().code() != absl::StatusCode::kInvalidArgument) {
      std::abort();
    }
    return 0;
  }
  int64_t params = 0, macs = 0;
  for (const nas::LayerCost& layer : cost->layers) {
    if (layer.params < 0 || layer.macs < 0 || layer.flash_bytes < 0 ||
        layer.sram_bytes < 0 || layer.sram_bytes > cost->peak_sram_bytes) {
      std::abort();
    }
    params += layer.params;
    macs += layer.macs;
  }
  if (params != cost->params || macs != cost->macs ||
      cost->flash_bytes < 0 || cost->arena_bytes < 0 ||
      !(cost->latency_ms >= 0)) {
    std::abort();
  }
  return 0;
}
