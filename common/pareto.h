#ifndef NAS_COMMON_PARETO_H_
#define NAS_COMMON_PARETO_H_

// Pareto fronts under minimisation. Pure functions, thread-safe.

#include <cstddef>
#include <vector>

#include "proto/nas.pb.h"

namespace nas {

// Indices (ascending) of the non-dominated points. A point is dominated when
// another is <= in every objective and < in at least one; equal points do not
// dominate each other, so duplicates are all kept. O(n^2 * d). Points must
// all have the same dimension.
std::vector<size_t> ParetoFrontIndices(
    const std::vector<std::vector<double>>& points);

// {1 - DeployedAccuracy(m), flash_bytes, peak_sram_bytes, macs}.
std::vector<double> TrialObjectives(const v1::Metrics& m);

// The figures of the model that ships: the int8 model's when the trial was
// quantised (m.int8()), else the float model's.
double DeployedAccuracy(const v1::Metrics& m);
double DeployedMacroF1(const v1::Metrics& m);
double DeployedTestAccuracy(const v1::Metrics& m);

}  // namespace nas

#endif  // NAS_COMMON_PARETO_H_
