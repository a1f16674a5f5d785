#include "common/cost_model.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/architecture.h"
#include "common/int8_plan.h"
#include "common/status_macros.h"

namespace nas {
namespace {

// Product of the spatial dims (all but the channel dim); 1 for a flat shape.
int64_t Spatial(const v1::TensorShape& shape) {
  int64_t n = 1;
  for (int d = 1; d < shape.dims_size(); ++d) n *= shape.dims(d);
  return n;
}

// Kernel elements: k*k for 2-D layers, k for 1-D ones.
int64_t KernelArea(const v1::Layer& layer) {
  return Is2dLayer(layer.type()) ? int64_t{layer.kernel()} * layer.kernel()
                                 : layer.kernel();
}

// Weights and biases of one layer (0, 0 for layers without parameters).
struct WeightCount {
  int64_t weights = 0;
  int64_t biases = 0;
};

WeightCount CountWeights(const LayerShape& s) {
  const int64_t in_c = s.input.dims(0);
  const int64_t out_c = s.output.dims(0);
  switch (s.layer.type()) {
    case v1::CONV2D:
    case v1::POINTWISE_CONV2D:
    case v1::CONV1D:
      return {out_c * in_c * KernelArea(s.layer), out_c};
    case v1::DEPTHWISE_CONV2D:
    case v1::DEPTHWISE_CONV1D:
      return {in_c * KernelArea(s.layer), in_c};
    case v1::LINEAR:
      return {NumElements(s.input) * out_c, out_c};
    case v1::BATCHNORM:
      return {in_c, in_c};  // gamma, beta
    default:
      return {};
  }
}

int64_t Macs(const LayerShape& s) {
  const v1::Layer& layer = s.layer;
  const int64_t out_positions = Spatial(s.output);
  switch (layer.type()) {
    case v1::CONV2D:
    case v1::POINTWISE_CONV2D:
    case v1::CONV1D:
      return out_positions * s.output.dims(0) * KernelArea(layer) *
             s.input.dims(0);
    case v1::DEPTHWISE_CONV2D:
    case v1::DEPTHWISE_CONV1D:
    case v1::MAXPOOL2D:
    case v1::AVGPOOL2D:
    case v1::MAXPOOL1D:
    case v1::AVGPOOL1D:
      return out_positions * s.output.dims(0) * KernelArea(layer);
    case v1::LINEAR:
      return NumElements(s.input) * s.output.dims(0);
    case v1::GLOBAL_AVGPOOL:
      return NumElements(s.input);
    default:
      return 0;
  }
}

// Params, MACs and SRAM of one layer; flash comes from the int8 plan.
LayerCost CostOf(const LayerShape& s) {
  LayerCost cost{s.layer.type(), s.input, s.output, 0, 0, 0, 0};
  const WeightCount count = CountWeights(s);
  cost.params = count.weights + count.biases;
  cost.macs = Macs(s);
  cost.sram_bytes = NumElements(s.input);
  if (!IsInPlaceLayer(s.layer.type())) cost.sram_bytes += NumElements(s.output);
  return cost;
}

// Constant bytes of one op: its weights, 9 B per output channel (int32
// bias and multiplier, int8 shift) and its layer-table row.
int64_t OpConstantBytes(const Int8PlannedOp& op) {
  return op.weights + 9 * op.channels + kInt8LayerRowBytes;
}

// Charges each op's constant bytes to its weighted layer, else to its first
// source layer.
void ChargeFlash(const Int8Plan& plan, std::vector<LayerCost>* layers) {
  for (const Int8PlannedOp& op : plan.ops) {
    const int layer =
        op.weighted_layer >= 0 ? op.weighted_layer : op.source_layers.front();
    (*layers)[layer].flash_bytes += OpConstantBytes(op);
  }
}

}  // namespace

absl::StatusOr<CostReport> AnalyzeCost(const v1::Architecture& arch,
                                       const v1::TensorShape& input,
                                       int num_classes,
                                       const v1::DeviceProfile& device) {
  NAS_ASSIGN_OR_RETURN(std::vector<LayerShape> shapes,
                       InferShapes(arch, input, num_classes));
  const Int8Plan plan = PlanInt8(shapes, input, num_classes);
  CostReport report{{}, 0, 0, 0, 0, 0, 0.0};
  for (const LayerShape& shape : shapes) {
    LayerCost cost = CostOf(shape);
    report.params += cost.params;
    report.macs += cost.macs;
    report.peak_sram_bytes = std::max(report.peak_sram_bytes, cost.sram_bytes);
    report.layers.push_back(std::move(cost));
  }
  ChargeFlash(plan, &report.layers);
  report.flash_bytes = plan.ConstantBytes() + kRuntimeFlashBytes;
  report.arena_bytes = plan.arena.arena_bytes;
  if (device.clock_hz() > 0) {
    report.latency_ms = device.cycles_per_mac() *
                        static_cast<double>(report.macs) / device.clock_hz() *
                        1000.0;
  }
  return report;
}

EffectiveLimits ComputeLimits(const v1::DeviceProfile& device,
                              const v1::Constraints& constraints) {
  EffectiveLimits limits;
  limits.flash_bytes = device.flash_bytes() - device.flash_reserved_bytes();
  limits.sram_bytes = device.sram_bytes() - device.sram_reserved_bytes();
  if (constraints.max_flash_bytes() > 0) {
    limits.flash_bytes =
        std::min(limits.flash_bytes, constraints.max_flash_bytes());
  }
  if (constraints.max_sram_bytes() > 0) {
    limits.sram_bytes =
        std::min(limits.sram_bytes, constraints.max_sram_bytes());
  }
  limits.macs = constraints.max_macs();
  limits.latency_ms = constraints.max_latency_ms();
  limits.params = constraints.max_params();
  return limits;
}

int64_t SramUsage(const CostReport& report) {
  return std::max(report.peak_sram_bytes, report.arena_bytes);
}

int64_t SramUsage(const v1::Metrics& metrics) {
  return std::max(metrics.peak_sram_bytes(), metrics.arena_bytes());
}

void FillAnalyticMetrics(const CostReport& report, v1::Metrics* metrics) {
  metrics->set_params(report.params);
  metrics->set_flash_bytes(report.flash_bytes);
  metrics->set_peak_sram_bytes(report.peak_sram_bytes);
  metrics->set_arena_bytes(report.arena_bytes);
  metrics->set_macs(report.macs);
  metrics->set_latency_ms_estimate(report.latency_ms);
}

}  // namespace nas
