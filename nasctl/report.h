#ifndef NAS_NASCTL_REPORT_H_
#define NAS_NASCTL_REPORT_H_

#include <string>

#include "nasctl/report_data.h"

namespace nas::nasctl {

// At most this many models in the "top models" section, each with its
// layer-by-layer cost.
inline constexpr int kReportTopModels = 10;
// At most this many failed, infeasible or cancelled trials listed.
inline constexpr int kReportFailures = 20;

// `nasctl report`: one self-contained HTML page (inline CSS and SVG, no
// script, no external resource) about a search: summary, convergence,
// Pareto front with the device limits, the top models with their
// layer-by-layer cost, the policy's state and the spec. Every string from
// the search is HTML-escaped. Pure function of `data`.
std::string RenderReportHtml(const ReportData& data);

}  // namespace nas::nasctl

#endif  // NAS_NASCTL_REPORT_H_
