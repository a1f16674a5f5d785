#include "nasctl/analyze.h"

#include <filesystem>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/architecture.h"
#include "common/devices.h"
#include "common/status_macros.h"
#include "nasctl/format.h"
#include "nasctl/spec_file.h"
#include "nlohmann/json.hpp"

namespace nas::nasctl {
namespace {

// A file name when such a file exists, else the architecture text itself.
absl::StatusOr<std::string> ReadArchitectureArg(const std::string& arch) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(arch, ec)) return ReadTextFile(arch);
  return arch;
}

std::string Limit(int64_t used, int64_t limit) {
  if (limit <= 0) return FormatBytes(used);
  return absl::StrFormat("%s of %s available (%.1f%%)", FormatBytes(used), FormatBytes(limit),
                         100.0 * static_cast<double>(used) / static_cast<double>(limit));
}

std::vector<int64_t> Dims(const v1::TensorShape& shape) {
  return std::vector<int64_t>(shape.dims().begin(), shape.dims().end());
}

// The totals block of RenderAnalysis, each figure next to its limit.
std::string RenderTotals(const Analysis& a) {
  const CostReport& c = a.cost;
  const EffectiveLimits limits = ComputeLimits(a.device, v1::Constraints());
  return absl::StrCat(
      "\ntotals (int8, batch 1)\n", "  params      ", FormatInteger(c.params), "\n",
      "  flash       ", FormatInteger(c.flash_bytes), " B = ",
      Limit(c.flash_bytes, limits.flash_bytes), "\n", "  peak SRAM   ",
      FormatInteger(c.peak_sram_bytes), " B (max input+output of a layer)\n", "  arena       ",
      FormatInteger(c.arena_bytes), " B (greedy lifetime plan)\n", "  SRAM used   ",
      Limit(SramUsage(c), limits.sram_bytes), "\n", "  MACs        ", FormatInteger(c.macs),
      " (", FormatCount(c.macs), ")\n", "  latency     ", FormatMillis(c.latency_ms),
      " estimated on ", a.device.name(), "\n\n");
}

}  // namespace

std::string LayerText(const v1::Architecture& arch, size_t index, v1::LayerType type) {
  if (index >= static_cast<size_t>(arch.layers_size())) return LayerTypeName(type);
  v1::Architecture single;
  *single.add_layers() = arch.layers(static_cast<int>(index));
  return ArchitectureToString(single);
}

absl::StatusOr<v1::TensorShape> ParseShape(absl::string_view text) {
  v1::TensorShape shape;
  for (absl::string_view part : absl::StrSplit(text, absl::ByAnyChar("x,X"))) {
    int64_t dim = 0;
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(part), &dim) || dim <= 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "bad --input '", text, "': expected positive dimensions like 1x28x28 or 1x140"));
    }
    shape.add_dims(dim);
  }
  if (shape.dims_size() > 3) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad --input '", text, "': at most 3 dimensions (C, H, W)"));
  }
  return shape;
}

absl::StatusOr<Analysis> Analyze(const std::string& arch, absl::string_view device,
                                 const v1::TensorShape& input, int num_classes) {
  Analysis analysis;
  NAS_ASSIGN_OR_RETURN(std::string text, ReadArchitectureArg(arch));
  absl::StatusOr<v1::Architecture> parsed = ParseArchitecture(text);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad architecture: ", parsed.status().message()));
  }
  analysis.architecture = CanonicalArchitecture(*parsed);
  absl::StatusOr<v1::DeviceProfile> profile = FindDeviceProfile(device);
  if (!profile.ok()) return absl::InvalidArgumentError(profile.status().message());
  analysis.device = *profile;
  analysis.input = input;
  analysis.num_classes = num_classes;
  absl::StatusOr<CostReport> cost =
      AnalyzeCost(analysis.architecture, input, num_classes, analysis.device);
  if (!cost.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "architecture does not fit input ", ShapeToString(input), " with ", num_classes,
        " classes:\n", cost.status().message()));
  }
  analysis.cost = *std::move(cost);
  analysis.violations = CheckConstraints(analysis.cost, analysis.device, v1::Constraints());
  return analysis;
}

std::string RenderAnalysis(const Analysis& a) {
  const v1::DeviceProfile& d = a.device;
  std::string out = absl::StrCat(
      "architecture  ", ArchitectureToString(a.architecture), "\n", "input         ",
      ShapeToString(a.input), ", ", a.num_classes, " classes\n", "device        ", d.name(),
      " (", d.core(), " @ ", absl::StrFormat("%.0f", d.clock_hz() / 1e6), " MHz, ",
      FormatBytes(d.sram_bytes()), " SRAM, ", FormatBytes(d.flash_bytes()), " flash, ",
      d.cycles_per_mac(), " cycles/MAC)\n\n");
  Table table({{"#", true}, {"LAYER"}, {"INPUT"}, {"OUTPUT"}, {"PARAMS", true},
               {"FLASH", true}, {"MACS", true}, {"SRAM", true}});
  for (size_t i = 0; i < a.cost.layers.size(); ++i) {
    const LayerCost& l = a.cost.layers[i];
    table.AddRow({absl::StrCat(i), LayerText(a.architecture, i, l.type),
                  ShapeToString(l.input), ShapeToString(l.output), FormatInteger(l.params),
                  FormatInteger(l.flash_bytes), FormatInteger(l.macs),
                  FormatInteger(l.sram_bytes)});
  }
  out += table.Render() + RenderTotals(a);
  if (a.violations.empty()) {
    absl::StrAppend(&out, "fits ", d.name(), "\n");
  } else {
    absl::StrAppend(&out, "does NOT fit ", d.name(), ": ", a.violations.size(),
                    " broken constraint", a.violations.size() == 1 ? "" : "s", "\n");
    for (const std::string& v : a.violations) absl::StrAppend(&out, "  - ", v, "\n");
  }
  return out;
}

std::string AnalysisToJson(const Analysis& a) {
  const CostReport& c = a.cost;
  nlohmann::json layers = nlohmann::json::array();
  for (size_t i = 0; i < c.layers.size(); ++i) {
    const LayerCost& l = c.layers[i];
    layers.push_back({{"index", i},
                      {"layer", LayerText(a.architecture, i, l.type)},
                      {"type", LayerTypeName(l.type)},
                      {"input", Dims(l.input)},
                      {"output", Dims(l.output)},
                      {"params", l.params},
                      {"flash_bytes", l.flash_bytes},
                      {"macs", l.macs},
                      {"sram_bytes", l.sram_bytes}});
  }
  const EffectiveLimits limits = ComputeLimits(a.device, v1::Constraints());
  nlohmann::json doc = {
      {"architecture", ArchitectureToString(a.architecture)},
      {"device", nlohmann::json::parse(ToJson(a.device))},
      {"input", Dims(a.input)},
      {"num_classes", a.num_classes},
      {"layers", layers},
      {"totals",
       {{"params", c.params},
        {"flash_bytes", c.flash_bytes},
        {"macs", c.macs},
        {"peak_sram_bytes", c.peak_sram_bytes},
        {"arena_bytes", c.arena_bytes},
        {"sram_usage_bytes", SramUsage(c)},
        {"latency_ms", c.latency_ms}}},
      {"limits", {{"flash_bytes", limits.flash_bytes}, {"sram_bytes", limits.sram_bytes}}},
      {"violations", a.violations},
      {"fits", a.violations.empty()},
  };
  return doc.dump(2) + "\n";
}

}  // namespace nas::nasctl
