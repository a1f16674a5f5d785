#include "nasctl/report_sections.h"

#include <algorithm>
#include <set>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/architecture.h"
#include "common/cost_model.h"
#include "common/pareto.h"
#include "nasctl/analyze.h"
#include "nasctl/format.h"
#include "nasctl/html.h"
#include "nasctl/views.h"

namespace nas::nasctl {
namespace {

// Layer tables of the first models are shown open; the rest fold.
constexpr int kOpenLayerTables = 3;

// The measured trials by reward (then accuracy, then number), one per
// architecture (a cached copy repeats its source), at most `limit`.
std::vector<const v1::Trial*> RankModels(const ReportData& data, int limit) {
  std::vector<const v1::Trial*> ranked = MeasuredTrials(data);
  std::stable_sort(ranked.begin(), ranked.end(), [](const v1::Trial* a, const v1::Trial* b) {
    if (a->reward() != b->reward()) return a->reward() > b->reward();
    const double accuracy_a = DeployedAccuracy(a->metrics());
    const double accuracy_b = DeployedAccuracy(b->metrics());
    if (accuracy_a != accuracy_b) return accuracy_a > accuracy_b;
    return a->number() < b->number();
  });
  std::vector<const v1::Trial*> top;
  std::set<std::string> seen;
  for (const v1::Trial* t : ranked) {
    if (static_cast<int>(top.size()) >= limit) break;
    const std::string key =
        t->arch_hash().empty() ? ArchitectureToString(t->architecture()) : t->arch_hash();
    if (seen.insert(key).second) top.push_back(t);
  }
  return top;
}

// One model's layer-by-layer cost as a folded table.
std::string LayerCostTable(const v1::Trial& t, const v1::SearchSpec& spec,
                           const v1::DeviceProfile& device, bool open) {
  std::string out = absl::StrCat(open ? "<details class=\"layers\" open>" : "<details class=\"layers\">",
                                 "<summary>trial ", t.id(), " (#", t.number(), "): ",
                                 EscapeHtml(ArchitectureText(t.architecture())), "</summary>\n");
  absl::StatusOr<CostReport> cost = AnalyzeCost(t.architecture(), spec.dataset().input_shape(),
                                                spec.dataset().num_classes(), device);
  if (!cost.ok()) {
    absl::StrAppend(&out, "<p class=\"note\">layer costs unavailable: ",
                    EscapeHtml(cost.status().message()), "</p></details>\n");
    return out;
  }
  HtmlTable table("layer-cost", {{"#", true}, {"layer"}, {"input"}, {"output"},
                                 {"params", true}, {"flash (B)", true}, {"MACs", true},
                                 {"SRAM in+out (B)", true}});
  for (size_t i = 0; i < cost->layers.size(); ++i) {
    const LayerCost& l = cost->layers[i];
    table.AddRow({absl::StrCat(i), LayerText(t.architecture(), i, l.type),
                  ShapeToString(l.input), ShapeToString(l.output), FormatInteger(l.params),
                  FormatInteger(l.flash_bytes), FormatInteger(l.macs),
                  FormatInteger(l.sram_bytes)});
  }
  table.AddRow({"", "total", "", "", FormatInteger(cost->params),
                FormatInteger(cost->flash_bytes), FormatInteger(cost->macs),
                absl::StrCat("peak ", FormatInteger(cost->peak_sram_bytes))},
               "total");
  absl::StrAppend(&out, table.Render(), "<p class=\"note\">arena (greedy lifetime plan) ",
                  EscapeHtml(FormatBytes(cost->arena_bytes)), ", estimated latency ",
                  EscapeHtml(FormatMillis(cost->latency_ms)), " on ",
                  EscapeHtml(device.name()), "</p></details>\n");
  return out;
}

std::string QLearningSection(const ReportData& data) {
  const v1::PolicyState& p = data.policy;
  std::string out = absl::StrCat(
      "<dl class=\"kv\">", HtmlDefinition("epsilon (next proposal)", absl::StrFormat("%.3f", p.epsilon())),
      HtmlDefinition("models proposed", absl::StrCat(p.models())),
      HtmlDefinition("results learnt from", absl::StrCat(p.observed())),
      HtmlDefinition("Q-table entries", absl::StrCat(p.q_entries())), "</dl>\n<h3>Epsilon schedule</h3>\n");
  HtmlTable schedule("schedule", {{"block", true}, {"epsilon", true}, {"models", true},
                                  {"model numbers"}, {"status"}});
  int64_t first = 0;
  const auto& steps = data.search.spec().qlearning().epsilon_schedule();
  for (int i = 0; i < steps.size(); ++i) {
    const int64_t last = first + steps[i].models() - 1;
    const bool current = p.models() >= first && (p.models() <= last || i + 1 == steps.size());
    const std::string status = current ? "current" : p.models() > last ? "done" : "to come";
    schedule.AddRow({absl::StrCat(i + 1), absl::StrFormat("%.2f", steps[i].epsilon()),
                     absl::StrCat(steps[i].models()), absl::StrCat(first, "-", last), status},
                    current ? "current" : "");
    first = last + 1;
  }
  out += schedule.num_rows() > 0 ? schedule.Render() : "<p class=\"empty\">no schedule</p>\n";
  absl::StrAppend(&out, "<h3>Top of the Q-table</h3>\n");
  HtmlTable q("q-table", {{"Q", true}, {"updates", true}, {"state"}, {"action"}});
  for (const v1::QValue& v : p.q_top()) {
    q.AddRow({absl::StrFormat("%.4f", v.q()), absl::StrCat(v.updates()), v.state(), v.action()});
  }
  out += q.num_rows() > 0 ? q.Render() : "<p class=\"empty\">the Q-table is empty</p>\n";
  return out;
}

std::string EvolutionSection(const ReportData& data) {
  const v1::PolicyState& p = data.policy;
  const v1::EvolutionSpec& e = data.search.spec().evolution();
  std::string out = absl::StrCat(
      "<dl class=\"kv\">", HtmlDefinition("population (P)", absl::StrCat(e.population())),
      HtmlDefinition("sample (S)", absl::StrCat(e.sample())),
      HtmlDefinition("removal", e.remove().empty() ? "oldest" : e.remove()),
      HtmlDefinition("results learnt from", absl::StrCat(p.observed())));
  if (e.remove() == "worst") {
    out += HtmlDefinition("mutation rate (next child)", absl::StrFormat("%.3f", p.mutation_rate()));
  }
  absl::StrAppend(&out, "</dl>\n<h3>Population, fittest first</h3>\n");
  std::vector<v1::PopulationMember> members(p.population().begin(), p.population().end());
  std::stable_sort(members.begin(), members.end(),
                   [](const auto& a, const auto& b) { return a.fitness() > b.fitness(); });
  HtmlTable table("population", {{"trial", true}, {"fitness", true}, {"born", true},
                                 {"architecture"}});
  for (const v1::PopulationMember& m : members) {
    table.AddRow({absl::StrCat(m.trial_id()), FormatScore(m.fitness()), absl::StrCat(m.born()),
                  ArchitectureText(m.architecture())});
  }
  out += table.num_rows() > 0 ? table.Render() : "<p class=\"empty\">no member yet</p>\n";
  return out;
}

}  // namespace

std::string RenderTopModels(const ReportData& data, int limit) {
  const std::vector<const v1::Trial*> top = RankModels(data, limit);
  if (top.empty()) return "<p class=\"empty\">No trained model yet.</p>\n";
  HtmlTable table("top-models",
                  {{"rank", true}, {"trial", true}, {"#", true}, {"reward", true},
                   {"accuracy", true}, {"macro-F1", true}, {"float", true}, {"params", true},
                   {"flash", true},
                   {"peak SRAM", true}, {"arena", true}, {"MACs", true},
                   {"latency (est.)", true}, {"architecture"}});
  for (size_t i = 0; i < top.size(); ++i) {
    const v1::Trial& t = *top[i];
    const v1::Metrics& m = t.metrics();
    table.AddRow({absl::StrCat(i + 1), absl::StrCat(t.id()), absl::StrCat(t.number()),
                  FormatScore(t.reward()), FormatScore(DeployedAccuracy(m)),
                  FormatScore(DeployedMacroF1(m)), m.int8() ? FormatScore(m.accuracy()) : "-",
                  FormatInteger(m.params()), FormatBytes(m.flash_bytes()),
                  FormatBytes(m.peak_sram_bytes()), FormatBytes(m.arena_bytes()),
                  FormatCount(m.macs()), FormatMillis(m.latency_ms_estimate()),
                  ArchitectureText(t.architecture())});
  }
  std::string out = table.Render();
  absl::StrAppend(&out, "<h3>Layer-by-layer cost (int8, batch 1)</h3>\n");
  const v1::DeviceProfile device = SearchDevice(data.search.spec());
  for (size_t i = 0; i < top.size(); ++i) {
    out += LayerCostTable(*top[i], data.search.spec(), device,
                          static_cast<int>(i) < kOpenLayerTables);
  }
  return out;
}

std::string RenderPolicySection(const ReportData& data) {
  const std::string policy =
      data.policy.policy().empty() ? data.search.spec().policy() : data.policy.policy();
  if (policy == "qlearning") return QLearningSection(data);
  if (policy == "evolution") return EvolutionSection(data);
  if (policy == "random" || policy.empty()) {
    return "<p>Random search: every architecture is sampled afresh; there is no learnt "
           "state.</p>\n";
  }
  return absl::StrCat("<p>Policy ", EscapeHtml(policy), ": ", data.policy.observed(),
                      " results learnt from.</p>\n");
}

}  // namespace nas::nasctl
