#include "nasctl/report_plots.h"

#include <algorithm>
#include <functional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/cost_model.h"
#include "common/pareto.h"
#include "nasctl/format.h"
#include "nasctl/svg_plot.h"
#include "nasctl/views.h"

namespace nas::nasctl {
namespace {

constexpr char kRewardColor[] = "#1f77b4";
constexpr char kAccuracyColor[] = "#2ca02c";
constexpr char kFaintColor[] = "#7f7f7f";
constexpr char kFrontColor[] = "#d95f02";
constexpr double kFaintOpacity = 0.35;

// Hover text of a trial's circle.
std::string TrialTitle(const v1::Trial& t) {
  const v1::Metrics& m = t.metrics();
  return absl::StrCat("trial ", t.id(), " (#", t.number(), ") acc ", FormatScore(DeployedAccuracy(m)),
                      " F1 ", FormatScore(DeployedMacroF1(m)),
                      m.folds() > 1 ? absl::StrCat(" spread ", FormatScore(m.accuracy_spread()),
                                                   "/", FormatScore(m.macro_f1_spread()))
                                    : "",
                      " reward ", FormatScore(t.reward()), " flash ",
                      FormatBytes(m.flash_bytes()), " SRAM ", FormatBytes(SramUsage(m)),
                      " MACs ", FormatCount(m.macs()), " | ", ArchitectureText(t.architecture()));
}

// The unit of the time axis that suits the search's length.
struct TimeUnit {
  double seconds;
  const char* name;
};
TimeUnit TimeUnitFor(double span_s) {
  if (span_s > 2 * 3600) return {3600, "h"};
  if (span_s > 600) return {60, "min"};
  return {1, "s"};
}

// The convergence plot of `measured` (in the order of the x axis) with x
// given by `x_of`.
std::string ConvergencePlot(const std::string& title, const PlotAxis& x_axis,
                            const std::vector<const v1::Trial*>& measured,
                            const std::function<double(const v1::Trial&)>& x_of) {
  PlotSeries reward{"best reward so far", "best-reward", kRewardColor, PlotSeries::Kind::kSteps};
  PlotSeries accuracy{"best accuracy so far", "best-accuracy", kAccuracyColor,
                      PlotSeries::Kind::kSteps};
  PlotSeries trials{"trial accuracy", "trial", kFaintColor, PlotSeries::Kind::kPoints};
  trials.opacity = kFaintOpacity;
  trials.radius = 2.5;
  trials.max_points = kMaxFaintPoints;
  double best_reward = 0, best_accuracy = 0;
  for (size_t i = 0; i < measured.size(); ++i) {
    const v1::Trial& t = *measured[i];
    best_reward = i == 0 ? t.reward() : std::max(best_reward, t.reward());
    best_accuracy = i == 0 ? DeployedAccuracy(t.metrics())
                           : std::max(best_accuracy, DeployedAccuracy(t.metrics()));
    const double x = x_of(t);
    reward.points.push_back({x, best_reward, ""});
    accuracy.points.push_back({x, best_accuracy, ""});
    trials.points.push_back({x, DeployedAccuracy(t.metrics()), ""});
  }
  SvgPlot plot(title, x_axis, {"reward / accuracy", Scale::kLinear});
  plot.set_empty_message("no trained trial yet");
  plot.AddSeries(std::move(trials));
  plot.AddSeries(std::move(reward));
  plot.AddSeries(std::move(accuracy));
  return plot.Render();
}

// One Pareto scatter plot: the front's quality (the reward's metric)
// against the resource `x_of`.
std::string ParetoPlot(const ReportData& data, const std::string& title, const PlotAxis& x_axis,
                       const std::function<double(const v1::Metrics&)>& x_of,
                       double limit, const std::string& limit_name) {
  const FrontRules rules = FrontRulesFor(data.search.spec());
  PlotSeries all{"all trained trials", "trial", kFaintColor, PlotSeries::Kind::kPoints};
  all.opacity = kFaintOpacity;
  all.radius = 2.5;
  all.max_points = kMaxFaintPoints;
  for (const v1::Trial* t : MeasuredTrials(data)) {
    all.points.push_back({x_of(t->metrics()), FrontQuality(rules, t->metrics()), ""});
  }
  PlotSeries front{"Pareto front", "front", kFrontColor, PlotSeries::Kind::kPoints};
  front.radius = 4.5;
  for (const v1::Trial& t : data.front) {
    front.points.push_back({x_of(t.metrics()), FrontQuality(rules, t.metrics()), TrialTitle(t)});
  }
  SvgPlot plot(title, x_axis,
               {absl::StrCat("validation ", FrontQualityName(rules)), Scale::kLinear});
  plot.set_empty_message("no trained trial yet");
  plot.AddSeries(std::move(all));
  plot.AddSeries(std::move(front));
  if (limit > 0) {
    plot.AddLimit({/*vertical=*/true, limit, absl::StrCat(limit_name, " ", TickLabel(limit))});
  }
  // The floor of the plotted quality: the front holds nothing below it.
  const double floor = rules.macro_f1 ? rules.min_macro_f1 : rules.min_accuracy;
  if (floor > 0) {
    plot.AddLimit({/*vertical=*/false, floor,
                   absl::StrCat(FrontQualityName(rules), " floor ", FormatScore(floor))});
  }
  return plot.Render();
}

}  // namespace

std::string RenderConvergencePlots(const ReportData& data) {
  std::vector<const v1::Trial*> measured = MeasuredTrials(data);
  std::sort(measured.begin(), measured.end(),
            [](const v1::Trial* a, const v1::Trial* b) { return a->number() < b->number(); });
  std::string out = ConvergencePlot("Convergence by trial", {"trial number", Scale::kLinear},
                                    measured, [](const v1::Trial& t) { return t.number(); });

  const v1::Search& s = data.search;
  const int64_t origin = s.started_unix_ms() > 0 ? s.started_unix_ms() : s.created_unix_ms();
  std::vector<const v1::Trial*> timed;
  for (const v1::Trial* t : measured) {
    if (t->finished_unix_ms() > 0) timed.push_back(t);
  }
  std::stable_sort(timed.begin(), timed.end(), [](const v1::Trial* a, const v1::Trial* b) {
    return a->finished_unix_ms() < b->finished_unix_ms();
  });
  const double span_s =
      timed.empty() ? 0 : (timed.back()->finished_unix_ms() - origin) / 1000.0;
  const TimeUnit unit = TimeUnitFor(span_s);
  PlotAxis time_axis{absl::StrCat("time since the search started (", unit.name, ")")};
  time_axis.include_zero = true;
  out += ConvergencePlot(
      "Convergence over time", time_axis, timed,
      [&](const v1::Trial& t) {
        return std::max<double>(0, (t.finished_unix_ms() - origin) / 1000.0) / unit.seconds;
      });
  return out;
}

std::string RenderParetoPlots(const ReportData& data) {
  const EffectiveLimits limits =
      ComputeLimits(SearchDevice(data.search.spec()), data.search.spec().constraints());
  std::string out = ParetoPlot(
      data, "Accuracy vs flash", {"int8 flash (bytes)", Scale::kAuto},
      [](const v1::Metrics& m) { return static_cast<double>(m.flash_bytes()); },
      static_cast<double>(limits.flash_bytes), "flash limit");
  out += ParetoPlot(
      data, "Accuracy vs SRAM", {"SRAM: max(peak, arena) (bytes)", Scale::kAuto},
      [](const v1::Metrics& m) { return static_cast<double>(SramUsage(m)); },
      static_cast<double>(limits.sram_bytes), "SRAM limit");
  out += ParetoPlot(
      data, "Accuracy vs MACs", {"MACs", Scale::kAuto},
      [](const v1::Metrics& m) { return static_cast<double>(m.macs()); },
      static_cast<double>(limits.macs), "MAC limit");
  return out;
}

}  // namespace nas::nasctl
