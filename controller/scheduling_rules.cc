#include "controller/scheduling_rules.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/pareto.h"
#include "controller/policy/search_strategy.h"

namespace nas::controller {
namespace {

// Why a search stops proposing, or "" when it goes on.
std::string StopReason(const SearchRecord& record, absl::Time now,
                       bool* time_up) {
  const v1::Search& s = record.search;
  const v1::Budget& budget = s.spec().budget();
  const int64_t limit_s = budget.max_duration_s();
  *time_up = limit_s > 0 && now >= absl::FromUnixMillis(s.started_unix_ms()) +
                                       absl::Seconds(limit_s);
  if (*time_up) {
    return absl::StrCat("time budget of ", limit_s, " s reached after ",
                        s.trials_done(), " trials");
  }
  if (budget.max_infeasible() > 0 &&
      record.infeasible_streak >= budget.max_infeasible()) {
    return absl::StrCat("stopped after ", record.infeasible_streak,
                        " infeasible candidates in a row: the search space "
                        "rarely fits device ",
                        s.spec().device(),
                        "; relax the constraints or shrink the space");
  }
  const int consumed =
      s.trials_pending() + s.trials_running() + s.trials_done();
  if (consumed >= s.trials_total()) {
    return absl::StrCat("all ", s.trials_total(), " trials finished");
  }
  return "";
}

std::string Tally(const SearchRecord& record) {
  const v1::Search& s = record.search;
  return absl::StrCat(record.succeeded, " succeeded, ", s.trials_cached(),
                      " cached, ", s.trials_failed(), " failed, ",
                      s.trials_infeasible(), " infeasible");
}

bool InUnitRange(double v) { return std::isfinite(v) && v >= 0 && v <= 1; }
bool NonNegative(double v) { return std::isfinite(v) && v >= 0; }

}  // namespace

int QueueBuffer(bool learns_from_results, int total_slots) {
  return learns_from_results ? kQueueBuffer
                             : std::max(kUnlearnedQueueBuffer, 2 * total_slots);
}

SearchPlan PlanSearch(const SearchRecord& record, absl::Time now,
                      int free_slots, int queue_buffer) {
  SearchPlan plan;
  const v1::Search& s = record.search;
  bool time_up = false;
  plan.message = StopReason(record, now, &time_up);
  if (plan.message.empty()) {
    const int consumed =
        s.trials_pending() + s.trials_running() + s.trials_done();
    const int wanted = std::max(
        0, std::max(0, free_slots) + queue_buffer - s.trials_pending());
    plan.proposals = std::min(s.trials_total() - consumed, wanted);
    return plan;
  }
  plan.cancel_pending = time_up && s.trials_pending() > 0;
  if (s.trials_running() > 0 || (s.trials_pending() > 0 && !time_up)) {
    return plan;  // Wait for what is queued or running.
  }
  const bool any_result = record.succeeded + s.trials_cached() > 0;
  plan.finish = any_result ? v1::SEARCH_SUCCEEDED : v1::SEARCH_FAILED;
  plan.message = any_result
                     ? absl::StrCat(plan.message, " (", Tally(record), ")")
                     : absl::StrCat("no trial succeeded: ", plan.message, " (",
                                    Tally(record), ")");
  return plan;
}

double EstimateEtaSeconds(const SearchRecord& record, absl::Time now,
                          int slots) {
  const v1::Search& s = record.search;
  if (s.state() != v1::SEARCH_RUNNING) return 0;
  if (record.mean_trial_seconds < 0) return -1;
  const int remaining = std::max(0, s.trials_total() - s.trials_done());
  const int parallel = std::max(1, slots);
  double eta = std::ceil(static_cast<double>(remaining) / parallel) *
               record.mean_trial_seconds;
  const int64_t limit_s = s.spec().budget().max_duration_s();
  if (limit_s > 0) {
    const absl::Time deadline =
        absl::FromUnixMillis(s.started_unix_ms()) + absl::Seconds(limit_s);
    eta = std::min(eta, std::max(0.0, absl::ToDoubleSeconds(deadline - now)));
  }
  return eta;
}

uint64_t TrialSeed(uint64_t search_seed, int32_t number) {
  constexpr uint64_t kTrialStream = 0x545249414c53ULL;  // "TRIALS"
  return DeriveSeed(search_seed ^ kTrialStream, static_cast<uint64_t>(number));
}

v1::Metrics MergeMeasuredMetrics(const v1::Metrics& analytic,
                                 const v1::Metrics& measured) {
  v1::Metrics merged = measured;
  merged.set_params(analytic.params());
  merged.set_flash_bytes(analytic.flash_bytes());
  merged.set_peak_sram_bytes(analytic.peak_sram_bytes());
  merged.set_arena_bytes(analytic.arena_bytes());
  merged.set_macs(analytic.macs());
  merged.set_latency_ms_estimate(analytic.latency_ms_estimate());
  return merged;
}

absl::Status ValidateTrialResult(const v1::TrialResult& result) {
  if (result.outcome_case() == v1::TrialResult::OUTCOME_NOT_SET) {
    return absl::InvalidArgumentError(
        "result: set either metrics or failure_reason");
  }
  if (result.has_failure_reason()) {
    if (result.failure_reason().empty()) {
      return absl::InvalidArgumentError("result.failure_reason is empty");
    }
    return absl::OkStatus();
  }
  const v1::Metrics& m = result.metrics();
  std::vector<std::string> problems;
  const auto unit = [&](const char* name, double v) {
    if (!InUnitRange(v))
      problems.push_back(
          absl::StrCat("result.metrics.", name, ": ", v, " is not in [0, 1]"));
  };
  const auto positive = [&](const char* name, double v) {
    if (!NonNegative(v))
      problems.push_back(absl::StrCat("result.metrics.", name, ": ", v,
                                      " is not a finite value >= 0"));
  };
  unit("accuracy", m.accuracy());
  unit("macro_f1", m.macro_f1());
  unit("test_accuracy", m.test_accuracy());
  unit("test_macro_f1", m.test_macro_f1());
  unit("accuracy_int8", m.accuracy_int8());
  unit("macro_f1_int8", m.macro_f1_int8());
  unit("test_accuracy_int8", m.test_accuracy_int8());
  unit("test_macro_f1_int8", m.test_macro_f1_int8());
  unit("accuracy_spread", m.accuracy_spread());
  unit("macro_f1_spread", m.macro_f1_spread());
  positive("folds", m.folds());
  positive("latency_ms_int8_cpu", m.latency_ms_int8_cpu());
  if (m.notes_size() > kMaxNotes) {
    problems.push_back(absl::StrCat("result.metrics.notes: ", m.notes_size(),
                                    " notes, at most ", kMaxNotes));
  }
  for (const std::string& note : m.notes()) {
    if (note.size() > kMaxFailureReasonLength) {
      problems.push_back(absl::StrCat("result.metrics.notes: a note of ",
                                      note.size(), " bytes, at most ",
                                      kMaxFailureReasonLength));
      break;
    }
  }
  if (result.has_int8_model() && !m.int8()) {
    problems.push_back("result.int8_model: sent without int8 metrics");
  }
  if (result.int8_model().ByteSizeLong() > kMaxInt8ModelBytes) {
    problems.push_back(absl::StrCat("result.int8_model: ",
                                    result.int8_model().ByteSizeLong(),
                                    " bytes, at most ", kMaxInt8ModelBytes));
  }
  positive("train_seconds", m.train_seconds());
  positive("latency_ms_cpu", m.latency_ms_cpu());
  positive("samples_per_second", m.samples_per_second());
  positive("built_params", static_cast<double>(m.built_params()));
  positive("epochs_run", m.epochs_run());
  if (!std::isfinite(m.final_loss())) {
    problems.push_back("result.metrics.final_loss is not finite");
  }
  if (problems.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrJoin(problems, "\n"));
}

std::string SanitizeReason(const std::string& reason) {
  std::string out;
  out.reserve(std::min(reason.size(), kMaxFailureReasonLength));
  for (char c : reason) {
    if (c != '\0') out.push_back(c);
  }
  if (out.size() <= kMaxFailureReasonLength) return out;
  size_t cut = kMaxFailureReasonLength;
  // Step back over UTF-8 continuation bytes (10xxxxxx).
  while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) {
    --cut;
  }
  out.resize(cut);
  return out;
}

std::vector<v1::Trial> ParetoTrials(const std::vector<v1::Trial>& trials,
                                    const FrontRules& rules) {
  std::vector<v1::Trial> front;
  for (size_t i : ParetoFront(rules, trials)) front.push_back(trials[i]);
  std::sort(front.begin(), front.end(),
            [&rules](const v1::Trial& a, const v1::Trial& b) {
              const double qa = FrontQuality(rules, a.metrics());
              const double qb = FrontQuality(rules, b.metrics());
              if (qa != qb) return qa > qb;
              const double sa = FrontSpread(rules, a.metrics());
              const double sb = FrontSpread(rules, b.metrics());
              if (sa != sb) return sa < sb;
              return a.number() < b.number();
            });
  return front;
}

}  // namespace nas::controller
