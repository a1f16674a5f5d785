#include "nasctl/views.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/architecture.h"
#include "common/pareto.h"
#include "nasctl/format.h"

namespace nas::nasctl {
namespace {

using Column = Table::Column;

// The analytic cost model fills these before training, so they are shown
// for every trial that got that far.
bool HasAnalyticMetrics(const v1::Trial& trial) {
  return trial.metrics().params() > 0 || trial.metrics().flash_bytes() > 0;
}

std::string ScoreOrDash(bool known, double value) {
  return known ? FormatScore(value) : "-";
}

void AppendField(std::string* out, absl::string_view key, absl::string_view value) {
  absl::StrAppend(out, "  ", key, std::string(key.size() < 13 ? 13 - key.size() : 1, ' '),
                  value, "\n");
}

// A deployed figure of `m`, with its spread over the folds when there were.
std::string Deployed(double value, double spread, const v1::Metrics& m) {
  return ScoreWithSpread(value, spread, m.folds());
}

void AppendBestTrial(std::string* out, const v1::Trial& best) {
  const v1::Metrics& m = best.metrics();
  absl::StrAppend(out, "best model: trial ", best.id(), " (#", best.number(), ")\n");
  AppendField(out, "architecture", ArchitectureText(best.architecture()));
  if (m.int8()) {
    std::string int8 = absl::StrCat(Deployed(m.accuracy_int8(), m.accuracy_spread(), m),
                                    " (macro-F1 ",
                                    Deployed(m.macro_f1_int8(), m.macro_f1_spread(), m), ")");
    if (m.test_accuracy_int8() > 0) {
      absl::StrAppend(&int8, ", test ", FormatScore(m.test_accuracy_int8()), " (macro-F1 ",
                      FormatScore(m.test_macro_f1_int8()), ")");
    }
    AppendField(out, "accuracy", absl::StrCat(int8, ", int8 runtime"));
  }
  const int float_folds = m.int8() ? 0 : m.folds();  // The spread is the deployed model's.
  std::string accuracy =
      absl::StrCat(ScoreWithSpread(m.accuracy(), m.accuracy_spread(), float_folds),
                   " (macro-F1 ", ScoreWithSpread(m.macro_f1(), m.macro_f1_spread(), float_folds),
                   ")");
  if (m.test_accuracy() > 0) {
    absl::StrAppend(&accuracy, ", test ", FormatScore(m.test_accuracy()), " (macro-F1 ",
                    FormatScore(m.test_macro_f1()), ")");
  }
  AppendField(out, m.int8() ? "float" : "accuracy", accuracy);
  if (m.folds() > 1) {
    AppendField(out, "folds", absl::StrCat("mean \xC2\xB1 spread over ", m.folds(),
                                           " folds (validation figures)"));
  }
  for (const std::string& note : m.notes()) AppendField(out, "note", note);
  AppendField(out, "reward", FormatScore(best.reward()));
  AppendField(out, "params", FormatInteger(m.params()));
  AppendField(out, "flash",
              absl::StrCat(FormatBytes(m.flash_bytes()), " (int8 constants + runtime)"));
  AppendField(out, "peak SRAM", FormatBytes(m.peak_sram_bytes()));
  AppendField(out, "arena", FormatBytes(m.arena_bytes()));
  AppendField(out, "MACs", FormatInteger(m.macs()));
  AppendField(out, "latency", absl::StrCat(FormatMillis(m.latency_ms_estimate()),
                                            " estimated on the device, ",
                                            FormatMillis(m.latency_ms_cpu()),
                                            " measured on the worker CPU",
                                            m.int8() ? absl::StrCat(" (int8 runtime ",
                                                                    FormatMillis(
                                                                        m.latency_ms_int8_cpu()),
                                                                    ")")
                                                     : ""));
  AppendField(out, "training",
              absl::StrCat(m.epochs_run(), " epochs in ", FormatDuration(m.train_seconds()),
                           ", ", static_cast<int64_t>(m.samples_per_second()),
                           " samples/s, final loss ", FormatScore(m.final_loss())));
  AppendField(out, "worker", absl::StrCat(best.worker().empty() ? "-" : best.worker(),
                                          ", attempts ", best.attempts()));
}

}  // namespace

bool HasMeasuredMetrics(const v1::Trial& trial) {
  return trial.state() == v1::TRIAL_SUCCEEDED || trial.state() == v1::TRIAL_CACHED;
}

std::string TrialNote(const v1::Trial& trial) {
  switch (trial.state()) {
    case v1::TRIAL_INFEASIBLE:
      return absl::StrJoin(trial.violations(), "; ");
    case v1::TRIAL_FAILED:
    case v1::TRIAL_CANCELLED:
      return trial.failure_reason();
    case v1::TRIAL_CACHED:
      return absl::StrCat("cached from trial ", trial.cached_from_trial_id());
    case v1::TRIAL_RUNNING:
      return trial.has_progress() ? RenderTrialProgress(trial.progress()) : "";
    default:
      return absl::StrJoin(trial.metrics().notes(), "; ");
  }
}


std::string RenderTrialProgress(const v1::TrialProgress& p) {
  std::string text;
  if (p.phase() == v1::TrialProgress::EVALUATING) {
    text = absl::StrCat("evaluating after ", p.epochs(), " epoch(s)");
  } else {
    text = absl::StrCat("epoch ", p.epoch(), "/", p.epochs(), " batch ", p.batches_done(), "/",
                        p.batches_per_epoch(), ", loss ", FormatScore(p.loss()));
  }
  absl::StrAppend(&text, ", ", FormatInteger(static_cast<int64_t>(p.samples_per_second())),
                  " samples/s, ", FormatDuration(p.elapsed_seconds()), " in");
  if (p.remaining_seconds() >= 0) {
    absl::StrAppend(&text, ", ", FormatDuration(p.remaining_seconds()), " left");
  }
  return text;
}

std::string ArchitectureText(const v1::Architecture& arch) {
  if (arch.layers().empty()) return "-";
  return ArchitectureToString(arch);
}

double ElapsedSeconds(const v1::Search& search, int64_t now_ms) {
  const int64_t start =
      search.started_unix_ms() > 0 ? search.started_unix_ms() : search.created_unix_ms();
  if (start <= 0) return -1;
  const int64_t end = search.finished_unix_ms() > 0 ? search.finished_unix_ms() : now_ms;
  return std::max<int64_t>(0, end - start) / 1000.0;
}

double EtaSeconds(const v1::Search& search, int64_t now_ms) {
  if (IsTerminal(search.state())) return 0;
  // The server reports -1 when unknown; 0 is also treated as unknown because
  // an unset proto3 field reads 0.
  if (search.eta_seconds() > 0) return search.eta_seconds();
  const double elapsed = ElapsedSeconds(search, now_ms);
  const int done = search.trials_done();
  if (done <= 0 || elapsed <= 0 || search.trials_total() <= 0) return -1;
  return elapsed / done * std::max(0, search.trials_total() - done);
}

std::string RenderSearchList(const std::vector<v1::Search>& searches, int64_t now_ms) {
  Table table({{"ID", true}, {"NAME"}, {"STATE"}, {"TRIALS", true}, {"RUNNING", true},
               {"BEST ACC", true}, {"BEST REWARD", true}, {"CREATED"}, {"ELAPSED", true}});
  for (const v1::Search& s : searches) {
    const bool has_best = s.best_trial_id() > 0;
    table.AddRow({absl::StrCat(s.id()), s.name(), SearchStateName(s.state()),
                  absl::StrCat(s.trials_done(), "/", s.trials_total()),
                  absl::StrCat(s.trials_running()), ScoreOrDash(has_best, s.best_accuracy()),
                  ScoreOrDash(has_best, s.best_reward()), FormatUnixMillis(s.created_unix_ms()),
                  FormatDuration(ElapsedSeconds(s, now_ms))});
  }
  return table.Render();
}

std::string RenderSearchDetails(const v1::Search& search, const v1::Trial* best,
                                int64_t now_ms) {
  const v1::SearchSpec& spec = search.spec();
  std::string out = absl::StrCat("search ", search.id(), ": ", search.name(), "\n");
  AppendField(&out, "state", SearchStateName(search.state()));
  if (!search.message().empty()) AppendField(&out, "message", search.message());
  for (const auto& [key, value] : DatasetLines(spec.dataset())) {
    AppendField(&out, key, value);
  }
  AppendField(&out, "device", spec.device().empty() ? spec.custom_device().name() : spec.device());
  AppendField(&out, "policy", absl::StrCat(spec.policy().empty() ? "random" : spec.policy(),
                                           ", seed ", spec.seed()));
  AppendField(&out, "trials",
              absl::StrCat(search.trials_done(), "/", search.trials_total(), " done (running ",
                           search.trials_running(), ", pending ", search.trials_pending(),
                           ", cached ", search.trials_cached(), ", failed ",
                           search.trials_failed(), ", infeasible ", search.trials_infeasible(),
                           ")"));
  if (search.best_trial_id() > 0) {
    AppendField(&out, "best", absl::StrCat("trial ", search.best_trial_id(), ", accuracy ",
                                           FormatScore(search.best_accuracy()), ", reward ",
                                           FormatScore(search.best_reward())));
  }
  AppendField(&out, "created", FormatUnixMillis(search.created_unix_ms()));
  if (search.finished_unix_ms() > 0) {
    AppendField(&out, "finished", FormatUnixMillis(search.finished_unix_ms()));
  }
  std::string elapsed = FormatDuration(ElapsedSeconds(search, now_ms));
  if (!IsTerminal(search.state())) {
    absl::StrAppend(&elapsed, " (ETA ", FormatDuration(EtaSeconds(search, now_ms)), ")");
  }
  AppendField(&out, "elapsed", elapsed);
  if (best != nullptr) AppendBestTrial(&out, *best);
  return out;
}

namespace {

// Training time of a finished trial; time so far of a running one.
std::string TrialTime(const v1::Trial& t) {
  if (t.metrics().train_seconds() > 0) return FormatDuration(t.metrics().train_seconds());
  if (t.has_progress()) return FormatDuration(t.progress().elapsed_seconds());
  return "-";
}

}  // namespace

std::string RenderTrialTable(const std::vector<v1::Trial>& trials) {
  Table table({{"#", true}, {"ID", true}, {"STATE"}, {"ACC", true}, {"F1", true},
               {"FLOAT", true}, {"REWARD", true}, {"PARAMS", true}, {"FLASH", true}, {"SRAM", true},
               {"MACS", true}, {"TRY", true}, {"WORKER"}, {"TIME", true}, {"NOTE"},
               {"ARCHITECTURE"}});
  for (const v1::Trial& t : trials) {
    const v1::Metrics& m = t.metrics();
    const bool measured = HasMeasuredMetrics(t);
    const bool analytic = HasAnalyticMetrics(t);
    table.AddRow({absl::StrCat(t.number()), absl::StrCat(t.id()), TrialStateName(t.state()),
                  measured ? Deployed(DeployedAccuracy(m), m.accuracy_spread(), m) : "-",
                  measured ? Deployed(DeployedMacroF1(m), m.macro_f1_spread(), m) : "-",
                  ScoreOrDash(measured && m.int8(), m.accuracy()),
                  ScoreOrDash(measured, t.reward()),
                  analytic ? FormatInteger(m.params()) : "-",
                  analytic ? FormatBytes(m.flash_bytes()) : "-",
                  analytic ? FormatBytes(m.peak_sram_bytes()) : "-",
                  analytic ? FormatCount(m.macs()) : "-", absl::StrCat(t.attempts()),
                  t.worker().empty() ? "-" : t.worker(), TrialTime(t), TrialNote(t),
                  ArchitectureText(t.architecture())});
  }
  return table.Render();
}

std::string RenderParetoTable(const std::vector<v1::Trial>& trials) {
  Table table({{"TRIAL", true}, {"#", true}, {"ACCURACY", true}, {"MACRO-F1", true},
               {"SPREAD", true}, {"FLOAT", true}, {"PARAMS", true}, {"FLASH", true},
               {"PEAK SRAM", true}, {"ARENA", true}, {"MACS", true}, {"EST. LATENCY", true},
               {"ARCHITECTURE"}});
  for (const v1::Trial& t : trials) {
    const v1::Metrics& m = t.metrics();
    table.AddRow({absl::StrCat(t.id()), absl::StrCat(t.number()),
                  FormatScore(DeployedAccuracy(m)), FormatScore(DeployedMacroF1(m)),
                  m.folds() > 1 ? absl::StrCat(FormatScore(m.accuracy_spread()), "/",
                                               FormatScore(m.macro_f1_spread()))
                                : "-",
                  m.int8() ? FormatScore(m.accuracy()) : "-", FormatInteger(m.params()),
                  FormatBytes(m.flash_bytes()), FormatBytes(m.peak_sram_bytes()),
                  FormatBytes(m.arena_bytes()), FormatCount(m.macs()),
                  FormatMillis(m.latency_ms_estimate()), ArchitectureText(t.architecture())});
  }
  return table.Render();
}

std::string RenderPolicyState(int64_t search_id, const v1::PolicyState& state) {
  std::string out = absl::StrCat("search ", search_id, ": ", state.policy(), " policy\n");
  AppendField(&out, "observed", absl::StrCat(state.observed(), " results (", state.models(),
                                             " models)"));
  if (state.policy() == "qlearning") {
    AppendField(&out, "epsilon", FormatScore(state.epsilon()));
  }
  if (state.mutation_rate() > 0) {
    AppendField(&out, "mutation rate", FormatScore(state.mutation_rate()));
  }
  if (state.q_entries() > 0 || state.policy() == "qlearning") {
    AppendField(&out, "Q-table", absl::StrCat(state.q_entries(), " entries"));
  }
  if (state.q_top_size() > 0) {
    Table table({{"Q", true}, {"UPDATES", true}, {"STATE"}, {"ACTION"}});
    for (const v1::QValue& q : state.q_top()) {
      table.AddRow({FormatScore(q.q()), absl::StrCat(q.updates()), q.state(), q.action()});
    }
    absl::StrAppend(&out, "top ", state.q_top_size(), " Q entries:\n", table.Render());
  }
  if (state.population_size() > 0) {
    std::vector<v1::PopulationMember> members(state.population().begin(),
                                              state.population().end());
    std::stable_sort(members.begin(), members.end(),
                     [](const v1::PopulationMember& a, const v1::PopulationMember& b) {
                       return a.fitness() > b.fitness();
                     });
    Table table({{"TRIAL", true}, {"FITNESS", true}, {"BORN", true}, {"ARCHITECTURE"}});
    for (const v1::PopulationMember& m : members) {
      table.AddRow({absl::StrCat(m.trial_id()), FormatScore(m.fitness()), absl::StrCat(m.born()),
                    ArchitectureText(m.architecture())});
    }
    absl::StrAppend(&out, "population (", members.size(), ", fittest first):\n",
                    table.Render());
  }
  return out;
}

std::string RenderProgressLine(const v1::Search& search, int64_t now_ms) {
  std::string line = absl::StrCat("search ", search.id(), " ", SearchStateName(search.state()),
                                  " | trials ", search.trials_done(), "/",
                                  search.trials_total(), " done, ", search.trials_running(),
                                  " running");
  if (search.trials_infeasible() > 0) {
    absl::StrAppend(&line, ", ", search.trials_infeasible(), " infeasible");
  }
  if (search.trials_failed() > 0) absl::StrAppend(&line, ", ", search.trials_failed(), " failed");
  if (search.best_trial_id() > 0) {
    absl::StrAppend(&line, " | best acc ", FormatScore(search.best_accuracy()), " reward ",
                    FormatScore(search.best_reward()));
  } else {
    absl::StrAppend(&line, " | best -");
  }
  absl::StrAppend(&line, " | elapsed ", FormatDuration(ElapsedSeconds(search, now_ms)));
  if (!IsTerminal(search.state())) {
    absl::StrAppend(&line, " | ETA ", FormatDuration(EtaSeconds(search, now_ms)));
  }
  return line;
}

std::string RenderRunningTrial(const v1::TrialProgress& p) {
  return absl::StrCat("trial ", p.trial_id(), " (#", p.trial_number(), ") on ",
                      p.worker().empty() ? "?" : p.worker(), ": ", RenderTrialProgress(p));
}

std::string RenderTrialEvent(const v1::Trial& trial) {
  std::string line = absl::StrCat("trial ", trial.id(), " (#", trial.number(), ") ",
                                  TrialStateName(trial.state()));
  const v1::Metrics& m = trial.metrics();
  if (HasMeasuredMetrics(trial)) {
    absl::StrAppend(&line, m.int8() ? " int8 acc " : " acc ",
                    Deployed(DeployedAccuracy(m), m.accuracy_spread(), m),
                    " reward ",
                    FormatScore(trial.reward()));
  }
  if (HasAnalyticMetrics(trial)) {
    absl::StrAppend(&line, " flash ", FormatBytes(m.flash_bytes()), " sram ",
                    FormatBytes(m.peak_sram_bytes()), " macs ", FormatCount(m.macs()));
  }
  const std::string note = TrialNote(trial);
  if (!note.empty()) absl::StrAppend(&line, " (", note, ")");
  absl::StrAppend(&line, " ", ArchitectureText(trial.architecture()));
  return line;
}

}  // namespace nas::nasctl
