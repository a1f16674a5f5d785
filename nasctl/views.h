#ifndef NAS_NASCTL_VIEWS_H_
#define NAS_NASCTL_VIEWS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "nasctl/dataset_view.h"  // DatasetLines, DatasetSummary.
#include "proto/nas.pb.h"

namespace nas::nasctl {

// Human-readable renderings of searches and trials. Pure functions: the
// current time comes in as `now_ms` (Unix milliseconds) so output is
// reproducible in tests.

// `nasctl list`: one row per search (ID, NAME, STATE, TRIALS, RUNNING,
// BEST ACC, BEST REWARD, CREATED, ELAPSED).
std::string RenderSearchList(const std::vector<v1::Search>& searches, int64_t now_ms);

// `nasctl show`: the search's state, spec summary and counts, and the best
// trial's metrics when `best` is not null.
std::string RenderSearchDetails(const v1::Search& search, const v1::Trial* best,
                                int64_t now_ms);

// `nasctl trials`: one row per trial with its state, metrics, attempts,
// worker, a note (failure reason, violations, cache source) and the
// architecture.
std::string RenderTrialTable(const std::vector<v1::Trial>& trials);

// `nasctl pareto`: trial, accuracy, macro-F1, their spreads over the folds
// ("0.0120/0.0150", "-" with one split), float accuracy, params, flash, peak
// SRAM, arena, MACs, estimated latency and architecture, in the order given
// (GetParetoFront's: the front's quality, best first).
std::string RenderParetoTable(const std::vector<v1::Trial>& trials);

// `nasctl policy`: what search `search_id`'s policy has learnt: policy,
// results observed, models, epsilon (qlearning), mutation rate (evolution
// "worst"), the Q-table's size and its top entries as sent (Q, UPDATES,
// STATE, ACTION), and the population fittest first (TRIAL, FITNESS, BORN,
// ARCHITECTURE).
std::string RenderPolicyState(int64_t search_id, const v1::PolicyState& state);

// One-line progress of a search for `watch`: state, trials done/total,
// running, best accuracy and reward, elapsed and ETA. No newline.
std::string RenderProgressLine(const v1::Search& search, int64_t now_ms);

// One line (no newline) announcing a trial that reached a final state, e.g.
// "trial 12 (#4) SUCCEEDED acc 0.8612 flash 20.1 KiB ... CONV2D(8,k3,...)".
std::string RenderTrialEvent(const v1::Trial& trial);

// A running trial's progress: "epoch 3/15 batch 120/469, loss 0.412, 8,400
// samples/s, 1m 5s in, 4m 2s left" (or "evaluating after 15 epoch(s), ...").
std::string RenderTrialProgress(const v1::TrialProgress& progress);
// One line of `watch` for a running trial: "trial 41 (#12) on w1: " + the above.
std::string RenderRunningTrial(const v1::TrialProgress& progress);

// Seconds since the search started (or was created) until it finished or
// `now_ms`; and the ETA: the server's when known, else extrapolated from the
// pace so far; -1 when unknown.
double ElapsedSeconds(const v1::Search& search, int64_t now_ms);
double EtaSeconds(const v1::Search& search, int64_t now_ms);

// The trial was trained (SUCCEEDED) or took a trained result (CACHED), so
// its measured metrics are set.
bool HasMeasuredMetrics(const v1::Trial& trial);

// Why a trial did not train: its violations (INFEASIBLE), failure reason
// (FAILED, CANCELLED) or cache source (CACHED); empty otherwise.
std::string TrialNote(const v1::Trial& trial);

// "CONV2D(8,k3,s1,p1) RELU ... LINEAR(10)".
std::string ArchitectureText(const v1::Architecture& arch);

}  // namespace nas::nasctl

#endif  // NAS_NASCTL_VIEWS_H_
