#ifndef NAS_COMMON_COST_MODEL_H_
#define NAS_COMMON_COST_MODEL_H_

// Analytic cost of an architecture deployed int8 at batch 1 (DESIGN.md
// "Metrics of a candidate"). Pure functions, thread-safe.
//
// - params: exactly what LibTorch's parameters() holds for the built model:
//   conv weight Co*Ci*k*k (+ bias Co; depthwise C*k*k + C; 1-D analogues),
//   LINEAR in*out + out, BATCHNORM 2*C (gamma, beta), others 0.
// - flash: what the generated C library holds, Int8Plan::ConstantBytes()
//   of PlanInt8 (common/int8_plan.h) + kRuntimeFlashBytes. Per runtime op:
//   its int8 weights (1 B each) and per output channel an int32 bias, an
//   int32 multiplier and an int8 shift (9 B), plus one layer-table row of
//   kInt8LayerRowBytes (84 B) for every op, weighted or not. A BATCHNORM
//   right after a conv or LINEAR folds into it and a RELU/RELU6 after those
//   fuses into its clamp (0 B of their own); any other BATCHNORM is a
//   depthwise op of kernel 1 (C weights, C channels); any other RELU/RELU6
//   and every pooling op is a row only; DROPOUT, FLATTEN and SOFTMAX are
//   nothing. A layer's LayerCost::flash_bytes is the constant bytes of the
//   op whose weighted layer (else first source layer) it is, so the layers
//   sum to flash_bytes - kRuntimeFlashBytes.
// - MACs: conv Ho*Wo*Co*Kh*Kw*Ci, depthwise Ho*Wo*C*Kh*Kw, dense in*out,
//   pooling Ho*Wo*C*Kh*Kw, GLOBAL_AVGPOOL H*W*C (1-D analogues); BN,
//   activations, dropout, flatten, softmax 0.
// - peak SRAM (MCUNet): max over layers of input + output activation bytes
//   (int8, 1 B per element). In-place layers (BATCHNORM, RELU, RELU6,
//   DROPOUT, FLATTEN) need no second buffer: they count their input once.
// - arena: Int8Plan::arena.arena_bytes of PlanInt8: PlanGreedyArena over the
//   runtime's activation buffers, i.e. the model input (alive at op 0) and
//   the output of every op that is not in place (alive from that op to the
//   next one, which consumes it); an in-place op (lone BATCHNORM, RELU,
//   RELU6) extends its input buffer's lifetime. This is the arena the
//   generated code declares.
// - latency_ms = cycles_per_mac * MACs / clock_hz * 1000.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/nas.pb.h"

namespace nas {

// Flash of the int8 runtime's code (mcu/runtime, every kernel) that each
// model carries: what the runtime adds to a Cortex-M4 image built with
// arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -Os, newlib-nano and
// --gc-sections (5,380 B of its own code plus newlib's memcpy), measured
// with arm-none-eabi-size; see bench/README.md.
inline constexpr int64_t kRuntimeFlashBytes = 5532;

struct LayerCost {
  v1::LayerType type;
  v1::TensorShape input, output;
  int64_t params, flash_bytes, macs, sram_bytes /*input+output act bytes*/;
};

struct CostReport {
  std::vector<LayerCost> layers;
  int64_t params, flash_bytes, macs, peak_sram_bytes, arena_bytes;
  double latency_ms;
};

// params count exactly what LibTorch's parameters() holds for the built model:
// conv/linear weights + bias (bias always on), BATCHNORM 2*C (gamma, beta),
// others 0. InvalidArgument (from InferShapes) for an invalid architecture.
absl::StatusOr<CostReport> AnalyzeCost(const v1::Architecture& arch,
                                       const v1::TensorShape& input,
                                       int num_classes,
                                       const v1::DeviceProfile& device);

// The limits a candidate must respect: device flash/SRAM minus reserved,
// tightened by the spec's Constraints (0 = no limit for macs/latency/params).
struct EffectiveLimits {
  int64_t flash_bytes = 0;
  int64_t sram_bytes = 0;
  int64_t macs = 0;
  double latency_ms = 0;
  int64_t params = 0;
};
EffectiveLimits ComputeLimits(const v1::DeviceProfile& device,
                              const v1::Constraints& constraints);

// SRAM a candidate needs: max(peak_sram_bytes, arena_bytes).
int64_t SramUsage(const CostReport& report);
int64_t SramUsage(const v1::Metrics& metrics);

// Every broken limit (device flash/SRAM minus reserved, plus the spec's
// Constraints), with numbers: "flash 1203456 B > limit 946176 B (device
// nrf52840: 1048576 B - 102400 B reserved)". SRAM compares SramUsage.
// Empty = fits.
std::vector<std::string> CheckConstraints(const CostReport& report,
                                          const v1::DeviceProfile& device,
                                          const v1::Constraints& constraints);

// Sets params, flash_bytes, peak_sram_bytes, arena_bytes, macs and
// latency_ms_estimate; leaves the measured fields alone.
void FillAnalyticMetrics(const CostReport& report, v1::Metrics* metrics);

}  // namespace nas

#endif  // NAS_COMMON_COST_MODEL_H_
