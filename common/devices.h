#ifndef NAS_COMMON_DEVICES_H_
#define NAS_COMMON_DEVICES_H_

// Microcontroller profiles: built-in ones and user-defined ones from a spec.
// Pure functions, thread-safe.
//
// Every built-in profile reserves kDefaultFlashReservedBytes of flash and
// kDefaultSramReservedBytes of SRAM for the application (its code, stack and
// heap); the model gets the rest. The int8 runtime's code is counted in the
// model's flash (cost_model.h, kRuntimeFlashBytes), not in the reserve.
//
//   name        aliases                         SRAM      flash   core clock
//   cycles/MAC nrf52840    arduino-nano-33-ble, nano33ble  256 KiB   1 MiB
//   cortex-m4   64 MHz   5 stm32f412                                   256 KiB
//   1 MiB   cortex-m4  100 MHz   5 stm32f746 320 KiB   1 MiB   cortex-m7  216
//   MHz   3 stm32h743                                   512 KiB   2 MiB
//   cortex-m7  480 MHz   3 rp2040      raspberry-pi-pico, pico         264 KiB
//   2 MiB   cortex-m0+ 133 MHz  10

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/nas.pb.h"

namespace nas {

inline constexpr int64_t kDefaultFlashReservedBytes = 100 * 1024;
inline constexpr int64_t kDefaultSramReservedBytes = 16 * 1024;

// nrf52840, stm32f412, stm32f746, stm32h743, rp2040 (in that order).
std::vector<v1::DeviceProfile> BuiltinDeviceProfiles();

// Case-insensitive; '_' and '-' are interchangeable; aliases accepted. The
// returned profile carries the canonical name. NotFound listing the known
// names otherwise.
absl::StatusOr<v1::DeviceProfile> FindDeviceProfile(absl::string_view name);

// The spec's device: `custom_device` when any of its fields is set (name,
// sram_bytes, flash_bytes, clock_hz and cycles_per_mac required, each missing
// one named as "device.sram_bytes"; reserved bytes default to the built-in
// reserves and must leave room for a model), else the built-in `device`.
// InvalidArgument naming every problem (NotFound-style "unknown device"
// messages are InvalidArgument here, since they are spec errors).
absl::StatusOr<v1::DeviceProfile> ResolveDevice(const v1::SearchSpec& spec);

}  // namespace nas

#endif  // NAS_COMMON_DEVICES_H_
