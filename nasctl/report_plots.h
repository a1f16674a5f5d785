#ifndef NAS_NASCTL_REPORT_PLOTS_H_
#define NAS_NASCTL_REPORT_PLOTS_H_

#include <string>

#include "nasctl/report_data.h"

namespace nas::nasctl {

// The plots of `nasctl report`, each an inline <svg> (SvgPlot). Pure
// functions of the data; a search without trained trials gets plots that
// say so instead of empty axes.

// At most this many faint per-trial circles per plot (thinned beyond), so
// that the page of a search of thousands of trials stays small.
inline constexpr int kMaxFaintPoints = 1500;

// Convergence: best reward and best accuracy so far (step lines) with each
// trained trial's accuracy (faint), against the trial number and against
// the time since the search started.
std::string RenderConvergencePlots(const ReportData& data);

// The Pareto front (data.front, GetParetoFront's): the front's quality
// (FrontQuality: the reward's metric) against int8 flash, against SRAM (the
// larger of peak and arena, as the device limit is checked) and against
// MACs; every trained trial faint (class "trial"), the front highlighted
// (class "front", one circle per front trial in each plot), and the
// device's limits (with the spec's constraints) and the quality's floor
// (constraints.min_accuracy or min_macro_f1) as dashed lines.
std::string RenderParetoPlots(const ReportData& data);

}  // namespace nas::nasctl

#endif  // NAS_NASCTL_REPORT_PLOTS_H_
