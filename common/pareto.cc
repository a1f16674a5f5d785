#include "common/pareto.h"

namespace nas {
namespace {

// True when `a` dominates `b`: no worse everywhere, better somewhere.
bool Dominates(const std::vector<double>& a, const std::vector<double>& b) {
  bool strictly_better = false;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (a[i] > b[i]) return false;
    if (a[i] < b[i]) strictly_better = true;
  }
  return strictly_better;
}

}  // namespace

std::vector<size_t> ParetoFrontIndices(
    const std::vector<std::vector<double>>& points) {
  std::vector<size_t> front;
  for (size_t i = 0; i < points.size(); ++i) {
    bool dominated = false;
    for (size_t j = 0; j < points.size() && !dominated; ++j) {
      dominated = j != i && Dominates(points[j], points[i]);
    }
    if (!dominated) front.push_back(i);
  }
  return front;
}

std::vector<double> TrialObjectives(const v1::Metrics& m) {
  return {1.0 - DeployedAccuracy(m), static_cast<double>(m.flash_bytes()),
          static_cast<double>(m.peak_sram_bytes()),
          static_cast<double>(m.macs())};
}

double DeployedAccuracy(const v1::Metrics& m) {
  return m.int8() ? m.accuracy_int8() : m.accuracy();
}

double DeployedMacroF1(const v1::Metrics& m) {
  return m.int8() ? m.macro_f1_int8() : m.macro_f1();
}

double DeployedTestAccuracy(const v1::Metrics& m) {
  return m.int8() ? m.test_accuracy_int8() : m.test_accuracy();
}

}  // namespace nas
