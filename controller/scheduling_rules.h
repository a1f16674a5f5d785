#ifndef NAS_CONTROLLER_SCHEDULING_RULES_H_
#define NAS_CONTROLLER_SCHEDULING_RULES_H_

// The scheduler's decisions as pure functions of stored state, so that they
// can be tested without a database: how many candidates to propose, when a
// search ends, ETA, seeds, metric merging and input validation. Thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/pareto.h"
#include "controller/store/trial_store.h"
#include "proto/nas.pb.h"

namespace nas::controller {

// PENDING trials kept beyond the free worker slots, so that a worker asking
// for work right after finishing one finds some.
inline constexpr int kQueueBuffer = 2;

// The least buffer of a search whose policy does not learn from results.
inline constexpr int kUnlearnedQueueBuffer = 8;

// The buffer a search keeps: kQueueBuffer for a policy that learns from
// results (its proposals should see the latest ones), else two trials per
// worker slot (`total_slots`; at least kUnlearnedQueueBuffer). Every report
// asks for the reporting slot's next task at once, and reports arrive in
// group-committed batches of up to every slot: the queue must still hold a
// task for each report of the batch that comes while the scheduler is
// refilling after the one before.
int QueueBuffer(bool learns_from_results, int total_slots);

// Limits on what a worker may report (what a client may submit is bounded
// by common/spec_limits.h, through CompleteSearchSpec).
inline constexpr size_t kMaxFailureReasonLength = 2000;
inline constexpr int kMaxNotes = 32;  // Metrics.notes entries.
// A serialised QuantizedModel, test vectors included (it is stored in
// PostgreSQL with its trial and travels in one gRPC message).
inline constexpr size_t kMaxInt8ModelBytes = 32u << 20;

// What to do with a RUNNING search now.
struct SearchPlan {
  int proposals = 0;            // New candidates to propose.
  bool cancel_pending = false;  // Its PENDING trials will never run.
  // Set when the search ends now, with the state it ends in.
  std::optional<v1::SearchState> finish;
  std::string message;  // Why it stops proposing or ends.
};

// Plans a RUNNING search: it stops proposing once its budget of trials is
// proposed, its time budget has passed or budget.max_infeasible candidates
// in a row were infeasible; it ends when, in addition, nothing is running or
// queued (queued trials are cancelled when the time is up). It ends
// SUCCEEDED when some trial succeeded (or was cached), else FAILED. Until
// then it keeps `free_slots` + `queue_buffer` trials PENDING, never beyond
// budget.max_trials.
SearchPlan PlanSearch(const SearchRecord& record, absl::Time now,
                      int free_slots, int queue_buffer = kQueueBuffer);

// Seconds until a RUNNING search is expected to end: the remaining trials in
// waves of `slots` (at least 1) at the mean trial duration, capped by the
// time budget. 0 for a search that has ended; -1 when no trial has finished.
double EstimateEtaSeconds(const SearchRecord& record, absl::Time now,
                          int slots);

// Seed for a trial's weight initialisation and batch order, fixed by the
// search seed and the trial number.
uint64_t TrialSeed(uint64_t search_seed, int32_t number);

// The worker's measured metrics with the analytic ones (params, flash, SRAM,
// arena, MACs, latency estimate) taken from the controller's cost model.
v1::Metrics MergeMeasuredMetrics(const v1::Metrics& analytic,
                                 const v1::Metrics& measured);

// InvalidArgument naming every problem of a worker's result: no outcome,
// an empty failure reason, or metrics out of range (accuracies, F1 and
// their spreads in [0, 1], times and rates finite and >= 0).
absl::Status ValidateTrialResult(const v1::TrialResult& result);

// A failure reason fit to store: NUL bytes removed, at most
// kMaxFailureReasonLength bytes (cut at a UTF-8 boundary).
std::string SanitizeReason(const std::string& reason);

// The trials on the Pareto front under `rules` (common/pareto.h), best
// FrontQuality first (ties: smaller spread, then lower number).
std::vector<v1::Trial> ParetoTrials(const std::vector<v1::Trial>& trials,
                                    const FrontRules& rules);

}  // namespace nas::controller

#endif  // NAS_CONTROLLER_SCHEDULING_RULES_H_
