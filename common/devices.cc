#include "common/devices.h"

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"

namespace nas {
namespace {

constexpr int64_t kKiB = 1024;
constexpr int64_t kMiB = 1024 * 1024;

struct BuiltinDevice {
  const char* name;
  std::vector<const char*> aliases;
  int64_t sram_bytes;
  int64_t flash_bytes;
  const char* core;
  double clock_hz;
  double cycles_per_mac;
};

// Cycles per MAC: ~5 on Cortex-M4 and ~3 on Cortex-M7 with CMSIS-NN int8
// kernels (DESIGN.md); ~10 on the Cortex-M0+, which has no SIMD/DSP
// instructions and a single-cycle 32-bit multiplier.
const std::vector<BuiltinDevice>& Builtins() {
  static const auto* devices = new std::vector<BuiltinDevice>{
      {"nrf52840",
       {"arduino-nano-33-ble", "nano33ble"},
       256 * kKiB,
       1 * kMiB,
       "cortex-m4",
       64e6,
       5},
      {"stm32f412", {}, 256 * kKiB, 1 * kMiB, "cortex-m4", 100e6, 5},
      {"stm32f746", {}, 320 * kKiB, 1 * kMiB, "cortex-m7", 216e6, 3},
      {"stm32h743", {}, 512 * kKiB, 2 * kMiB, "cortex-m7", 480e6, 3},
      {"rp2040",
       {"raspberry-pi-pico", "pico"},
       264 * kKiB,
       2 * kMiB,
       "cortex-m0+",
       133e6,
       10},
  };
  return *devices;
}

v1::DeviceProfile ToProfile(const BuiltinDevice& d) {
  v1::DeviceProfile profile;
  profile.set_name(d.name);
  profile.set_sram_bytes(d.sram_bytes);
  profile.set_flash_bytes(d.flash_bytes);
  profile.set_core(d.core);
  profile.set_clock_hz(d.clock_hz);
  profile.set_cycles_per_mac(d.cycles_per_mac);
  profile.set_flash_reserved_bytes(kDefaultFlashReservedBytes);
  profile.set_sram_reserved_bytes(kDefaultSramReservedBytes);
  return profile;
}

std::string NormalizeName(absl::string_view name) {
  std::string s = absl::AsciiStrToLower(absl::StripAsciiWhitespace(name));
  absl::StrReplaceAll({{"_", "-"}}, &s);
  return s;
}

bool HasAnyField(const v1::DeviceProfile& d) {
  return !d.name().empty() || d.sram_bytes() != 0 || d.flash_bytes() != 0 ||
         !d.core().empty() || d.clock_hz() != 0 || d.cycles_per_mac() != 0 ||
         d.flash_reserved_bytes() != 0 || d.sram_reserved_bytes() != 0;
}

// Checks one byte budget and its reserve; fills the default reserve.
void CheckBytes(int64_t total, int64_t* reserved, int64_t default_reserved,
                const std::string& field, const std::string& reserve_field,
                std::vector<std::string>* problems) {
  if (total <= 0) {
    problems->push_back(absl::StrCat(
        "device.", field,
        total == 0 ? ": required for a custom device" : ": must be > 0"));
    return;
  }
  if (*reserved < 0) {
    problems->push_back(
        absl::StrCat("device.", reserve_field, ": must be >= 0"));
    return;
  }
  if (*reserved == 0) *reserved = default_reserved;
  if (*reserved >= total) {
    problems->push_back(
        absl::StrCat("device.", reserve_field, ": ", *reserved,
                     " B reserved leaves nothing of ", field, " ", total,
                     " B for the model; set a smaller ", reserve_field));
  }
}

absl::StatusOr<v1::DeviceProfile> ResolveCustom(const v1::SearchSpec& spec) {
  v1::DeviceProfile d = spec.custom_device();
  std::vector<std::string> problems;
  if (d.name().empty()) {
    problems.push_back("device.name: required for a custom device");
  } else if (!spec.device().empty() && spec.device() != d.name()) {
    problems.push_back(absl::StrCat("device: '", spec.device(),
                                    "' does not match custom device name '",
                                    d.name(), "'"));
  }
  int64_t flash_reserved = d.flash_reserved_bytes();
  int64_t sram_reserved = d.sram_reserved_bytes();
  CheckBytes(d.sram_bytes(), &sram_reserved, kDefaultSramReservedBytes,
             "sram_bytes", "sram_reserved_bytes", &problems);
  CheckBytes(d.flash_bytes(), &flash_reserved, kDefaultFlashReservedBytes,
             "flash_bytes", "flash_reserved_bytes", &problems);
  d.set_flash_reserved_bytes(flash_reserved);
  d.set_sram_reserved_bytes(sram_reserved);
  if (!(d.clock_hz() > 0)) {
    problems.push_back(d.clock_hz() == 0
                           ? "device.clock_hz: required for a custom device"
                           : "device.clock_hz: must be > 0");
  }
  if (!(d.cycles_per_mac() > 0)) {
    problems.push_back(
        d.cycles_per_mac() == 0
            ? "device.cycles_per_mac: required for a custom device"
            : "device.cycles_per_mac: must be > 0");
  }
  if (!problems.empty()) {
    return absl::InvalidArgumentError(absl::StrJoin(problems, "\n"));
  }
  return d;
}

}  // namespace

std::vector<v1::DeviceProfile> BuiltinDeviceProfiles() {
  std::vector<v1::DeviceProfile> profiles;
  for (const BuiltinDevice& d : Builtins()) profiles.push_back(ToProfile(d));
  return profiles;
}

absl::StatusOr<v1::DeviceProfile> FindDeviceProfile(absl::string_view name) {
  const std::string wanted = NormalizeName(name);
  std::vector<std::string> known;
  for (const BuiltinDevice& d : Builtins()) {
    if (wanted == d.name) return ToProfile(d);
    for (const char* alias : d.aliases) {
      if (wanted == alias) return ToProfile(d);
    }
    known.push_back(d.name);
    for (const char* alias : d.aliases) known.push_back(alias);
  }
  return absl::NotFoundError(absl::StrCat(
      "unknown device '", name, "' (known: ", absl::StrJoin(known, ", "), ")"));
}

absl::StatusOr<v1::DeviceProfile> ResolveDevice(const v1::SearchSpec& spec) {
  if (HasAnyField(spec.custom_device())) return ResolveCustom(spec);
  if (spec.device().empty()) {
    std::vector<std::string> known;
    for (const BuiltinDevice& d : Builtins()) known.push_back(d.name);
    return absl::InvalidArgumentError(absl::StrCat(
        "device: required (a built-in name: ", absl::StrJoin(known, ", "),
        "; or a custom device map)"));
  }
  absl::StatusOr<v1::DeviceProfile> profile = FindDeviceProfile(spec.device());
  if (!profile.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("device: ", profile.status().message()));
  }
  return profile;
}

}  // namespace nas
