#include "nasctl/report.h"

#include <algorithm>
#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/cost_model.h"
#include "common/pareto.h"
#include "nasctl/format.h"
#include "nasctl/html.h"
#include "nasctl/report_plots.h"
#include "nasctl/report_sections.h"
#include "nasctl/views.h"

namespace nas::nasctl {
namespace {

// The page's whole style sheet: no font, image or script is fetched.
constexpr char kStyle[] = R"css(
body { font-family: sans-serif; margin: 24px auto; max-width: 1320px; color: #222;
       padding: 0 16px; line-height: 1.4; }
h1 { font-size: 22px; margin-bottom: 4px; }
h2 { font-size: 18px; border-bottom: 1px solid #ddd; padding-bottom: 4px; margin-top: 32px; }
h3 { font-size: 15px; margin-top: 18px; }
.meta, .note { color: #666; font-size: 13px; }
.empty { color: #666; font-style: italic; }
dl.kv { display: grid; grid-template-columns: max-content auto; gap: 2px 16px; }
dl.kv dt { font-weight: bold; } dl.kv dd { margin: 0; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
th, td { border-bottom: 1px solid #e4e4e4; padding: 3px 8px; text-align: left;
         vertical-align: top; }
th { background: #f4f4f4; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.total td { font-weight: bold; border-top: 1px solid #999; }
tr.current td { background: #fff4d6; }
.plots { display: flex; flex-wrap: wrap; gap: 12px; }
svg.plot { border: 1px solid #eee; background: #fff; }
details.layers { margin: 6px 0 12px; }
details.layers summary { cursor: pointer; font-family: monospace; }
pre.spec { background: #f7f7f7; border: 1px solid #e4e4e4; padding: 12px; overflow-x: auto;
           font-size: 12px; }
)css";

const v1::Trial* FindTrial(const ReportData& data, int64_t id) {
  for (const v1::Trial& t : data.trials) {
    if (t.id() == id) return &t;
  }
  return nullptr;
}

std::string Summary(const ReportData& data) {
  const v1::Search& s = data.search;
  const v1::SearchSpec& spec = s.spec();
  const v1::DeviceProfile device = SearchDevice(spec);
  std::string out = absl::StrCat(
      "<dl class=\"kv summary\">", HtmlDefinition("state", SearchStateName(s.state())),
      HtmlDefinition("policy", spec.policy()), HtmlDefinition("dataset", DatasetSummary(spec.dataset())),
      HtmlDefinition("device", absl::StrCat(device.name().empty() ? spec.device() : device.name(), " (",
                                   FormatBytes(device.sram_bytes()), " SRAM, ",
                                   FormatBytes(device.flash_bytes()), " flash)")),
      HtmlDefinition("budget", absl::StrCat(s.trials_total(), " trials")),
      HtmlDefinition("progress", absl::StrCat(s.trials_done(), "/", s.trials_total(), " done")),
      HtmlDefinition("created", FormatUnixMillis(s.created_unix_ms())),
      HtmlDefinition("finished", FormatUnixMillis(s.finished_unix_ms())),
      HtmlDefinition("elapsed", FormatDuration(ElapsedSeconds(s, data.generated_unix_ms))));
  if (!s.message().empty()) out += HtmlDefinition("message", s.message());
  const v1::Trial* best = s.best_trial_id() > 0 ? FindTrial(data, s.best_trial_id()) : nullptr;
  if (best != nullptr) {
    out += HtmlDefinition("best trial",
                 absl::StrCat(best->id(), " (#", best->number(), "): accuracy ",
                              FormatScore(DeployedAccuracy(best->metrics())),
                              best->metrics().int8() ? " (int8)" : "", ", reward ",
                              FormatScore(best->reward()), ", flash ",
                              FormatBytes(best->metrics().flash_bytes()), ", ",
                              ArchitectureText(best->architecture())));
  } else {
    out += HtmlDefinition("best trial", "none yet");
  }
  out += "</dl>\n";
  std::map<v1::TrialState, int> by_state;
  for (const v1::Trial& t : data.trials) ++by_state[t.state()];
  if (by_state.empty()) return out + "<p class=\"empty\">This search has no trials yet.</p>\n";
  HtmlTable states("trial-states", {{"trial state"}, {"trials", true}});
  for (const auto& [state, count] : by_state) {
    states.AddRow({TrialStateName(state), absl::StrCat(count)});
  }
  states.AddRow({"all", absl::StrCat(data.trials.size())}, "total");
  return out + states.Render();
}

std::string FrontTable(const ReportData& data) {
  if (data.front.empty()) return "";
  const FrontRules rules = FrontRulesFor(data.search.spec());
  HtmlTable table("front-table", {{"trial", true}, {"#", true}, {FrontQualityName(rules), true},
                                  {"spread", true}, {"float", true}, {"flash", true},
                                  {"SRAM", true}, {"MACs", true}, {"latency (est.)", true},
                                  {"architecture"}});
  for (const v1::Trial& t : data.front) {
    const v1::Metrics& m = t.metrics();
    const double float_quality = rules.macro_f1 ? m.macro_f1() : m.accuracy();
    table.AddRow({absl::StrCat(t.id()), absl::StrCat(t.number()),
                  FormatScore(FrontQuality(rules, m)),
                  m.folds() > 1 ? absl::StrCat(FormatScore(FrontSpread(rules, m)), " (", m.folds(),
                                               " folds)")
                                : "-",
                  m.int8() ? FormatScore(float_quality) : "-", FormatBytes(m.flash_bytes()),
                  FormatBytes(SramUsage(m)), FormatCount(m.macs()),
                  FormatMillis(m.latency_ms_estimate()), ArchitectureText(t.architecture())});
  }
  return absl::StrCat("<h3>Trials on the front (", data.front.size(), ")</h3>\n",
                      table.Render());
}

// How the front was chosen, in one paragraph.
std::string FrontRulesNote(const ReportData& data) {
  const FrontRules rules = FrontRulesFor(data.search.spec());
  std::string out = absl::StrCat(
      "<p class=\"note\">Every trained trial in grey, the front (validation ",
      FrontQualityName(rules),
      ", the reward's metric, against flash, SRAM and MACs) highlighted, the device's limits "
      "dashed. One point per architecture (a cached repeat is not a second point); of two "
      "networks equal in every objective, the one with the smaller spread over the folds is "
      "kept");
  if (rules.min_accuracy > 0) {
    absl::StrAppend(&out, "; networks below accuracy ", FormatScore(rules.min_accuracy),
                    " (constraints.min_accuracy)");
  }
  if (rules.min_macro_f1 > 0) {
    absl::StrAppend(&out, rules.min_accuracy > 0 ? " or" : "; networks", " below macro-F1 ",
                    FormatScore(rules.min_macro_f1), " (constraints.min_macro_f1)");
  }
  if (rules.min_accuracy > 0 || rules.min_macro_f1 > 0) {
    absl::StrAppend(&out, " are kept off it");
  }
  return out + ".</p>\n";
}

// The most recent trials that did not train, with why.
std::string Failures(const ReportData& data) {
  std::vector<const v1::Trial*> failed;
  for (const v1::Trial& t : data.trials) {
    if (t.state() == v1::TRIAL_FAILED || t.state() == v1::TRIAL_INFEASIBLE ||
        t.state() == v1::TRIAL_CANCELLED) {
      failed.push_back(&t);
    }
  }
  if (failed.empty()) return "<p class=\"empty\">No trial failed.</p>\n";
  const size_t shown = std::min<size_t>(failed.size(), kReportFailures);
  HtmlTable table("failures", {{"trial", true}, {"#", true}, {"state"}, {"attempts", true},
                               {"why"}, {"architecture"}});
  for (size_t i = failed.size() - shown; i < failed.size(); ++i) {
    const v1::Trial& t = *failed[i];
    table.AddRow({absl::StrCat(t.id()), absl::StrCat(t.number()), TrialStateName(t.state()),
                  absl::StrCat(t.attempts()), TrialNote(t), ArchitectureText(t.architecture())});
  }
  return absl::StrCat("<p>", failed.size(), " trial", failed.size() == 1 ? "" : "s",
                      " did not train; the last ", shown, ":</p>\n", table.Render());
}

}  // namespace

std::string RenderReportHtml(const ReportData& data) {
  const v1::Search& s = data.search;
  const std::string title =
      EscapeHtml(absl::StrCat("tinynas search ", s.id(), ": ", s.name()));
  std::string out = absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>", title,
      "</title>\n<style>", kStyle, "</style>\n</head>\n<body>\n<h1>", title, "</h1>\n",
      "<p class=\"meta\">Report written by nasctl at ",
      EscapeHtml(FormatUnixMillis(data.generated_unix_ms)), ".</p>\n");
  absl::StrAppend(&out, "<section id=\"summary\">\n<h2>Summary</h2>\n", Summary(data),
                  "</section>\n");
  absl::StrAppend(&out, "<section id=\"convergence\">\n<h2>Convergence</h2>\n",
                  "<div class=\"plots\">\n", RenderConvergencePlots(data), "</div>\n</section>\n");
  absl::StrAppend(&out, "<section id=\"pareto\">\n<h2>Pareto front</h2>\n",
                  FrontRulesNote(data),
                  "<div class=\"plots\">\n", RenderParetoPlots(data), "</div>\n",
                  FrontTable(data), "</section>\n");
  absl::StrAppend(&out, "<section id=\"top-models\">\n<h2>Top models</h2>\n",
                  RenderTopModels(data, kReportTopModels), "</section>\n");
  absl::StrAppend(&out, "<section id=\"policy\">\n<h2>Policy</h2>\n", RenderPolicySection(data),
                  "</section>\n");
  absl::StrAppend(&out, "<section id=\"failures\">\n<h2>Failures</h2>\n", Failures(data),
                  "</section>\n");
  absl::StrAppend(&out, "<section id=\"spec\">\n<h2>Spec</h2>\n",
                  "<p class=\"note\">The spec as the controller stored it, defaults filled in "
                  "(JSON).</p>\n<pre class=\"spec\">", EscapeHtml(ToJson(s.spec())),
                  "</pre>\n</section>\n</body>\n</html>\n");
  return out;
}

}  // namespace nas::nasctl
