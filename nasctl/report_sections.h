#ifndef NAS_NASCTL_REPORT_SECTIONS_H_
#define NAS_NASCTL_REPORT_SECTIONS_H_

#include <string>

#include "nasctl/report_data.h"

namespace nas::nasctl {

// Sections of the report page that are tables (HTML fragments, every
// string escaped). Pure functions of the data.

// The best trained models by reward (at most `limit`), one row each, then
// each one's layer-by-layer cost from the analytic cost model (layer,
// input and output shape, params, int8 flash, MACs, input+output SRAM) with
// its totals.
std::string RenderTopModels(const ReportData& data, int limit);

// What the policy has learnt: epsilon, its schedule and the top of the
// Q-table (qlearning); the population (evolution); one line otherwise.
std::string RenderPolicySection(const ReportData& data);

}  // namespace nas::nasctl

#endif  // NAS_NASCTL_REPORT_SECTIONS_H_
