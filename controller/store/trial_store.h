#ifndef NAS_CONTROLLER_STORE_TRIAL_STORE_H_
#define NAS_CONTROLLER_STORE_TRIAL_STORE_H_

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "controller/policy/search_strategy.h"
#include "proto/nas.pb.h"

namespace nas::controller {

// A search as stored, with its trial counters. `search` is filled completely
// except `eta_seconds` (-1 here; the scheduler knows the worker slots).
struct SearchRecord {
  v1::Search search;
  int32_t infeasible_streak = 0;   // Infeasible candidates in a row.
  int32_t succeeded = 0;           // TRIAL_SUCCEEDED trials.
  int32_t cancelled = 0;           // TRIAL_CANCELLED trials.
  double mean_trial_seconds = -1;  // Over SUCCEEDED trials; -1 when none.
};

// A candidate to store as a new trial, numbered next in its search.
struct NewTrial {
  int64_t search_id = 0;
  v1::TrialState state = v1::TRIAL_PENDING;  // PENDING, INFEASIBLE or CACHED.
  v1::Architecture architecture;             // Canonical form.
  std::string arch_hash;
  std::string cache_key;
  v1::Metrics metrics;  // Analytic; plus the copied measured ones if CACHED.
  double reward = 0;    // CACHED only.
  std::vector<std::string> violations;  // INFEASIBLE only.
  int64_t cached_from = 0;              // CACHED only: the source trial.
};

// A trial just leased to a worker.
struct LeasedTrial {
  v1::Trial trial;
  std::string lease_id;
};

// A page of final trials as the Pareto front reads them
// (TrialStore::ListFrontCandidates).
struct FrontCandidatePage {
  // Only number, state, arch_hash and metrics are set.
  std::vector<v1::Trial> trials;
  int last_number = -1;  // Of the page's last trial; -1 when empty.
};

// The final result of a leased trial.
struct TrialOutcome {
  v1::TrialState state = v1::TRIAL_SUCCEEDED;  // SUCCEEDED or FAILED.
  v1::Metrics metrics;
  double reward = 0;
  std::string failure_reason;
  std::string model;  // TorchScript bytes; empty = none.
  std::string int8_model;  // Serialised v1::QuantizedModel; empty = none.
  // FAILED on the data set itself (TrialResult.data_error): recording it
  // also fails the search, see CompleteTrial.
  bool data_error = false;
};

// What CompleteTrial did with a report.
struct CompletionResult {
  bool accepted = false;
  std::string detail;  // Why a report was not accepted.
  double duration_seconds = 0;  // From lease to report, when accepted.
  v1::Trial trial;  // When accepted: the trial as completed and stored.
  // When accepted: the report (a data error) failed the search just now.
  bool search_failed = false;
};

// One worker's report, for CompleteTrials.
struct Completion {
  int64_t trial_id = 0;
  int64_t worker_id = 0;
  std::string lease_id;
  TrialOutcome outcome;
};

// Learns from a trial that an operation has just made final, inside that
// operation's transaction; see "Policy observers" on TrialStore. Returns
// what to store with the trial (nullopt: nothing), or an error that undoes
// the whole operation.
using PolicyObserver =
    std::function<absl::StatusOr<std::optional<PolicyWrite>>(
        const v1::Trial& stored)>;

// A search's stored policy as nasctl shows it.
struct PolicySummary {
  std::string state;      // Serialized v1::PolicyState; empty: none stored.
  int64_t q_entries = 0;  // Size of the Q-table.
  // The highest Q entries, highest q first, ties by state then action
  // (byte order).
  std::vector<v1::QValue> q_top;
};

// What a heartbeat found for one lease.
enum class LeaseStatus {
  kActive,     // Extended.
  kLost,       // Unknown, expired and handed on, finished, or another worker's.
  kCancelled,  // The search is no longer running; the trial was cancelled.
};

// A lease as a heartbeat found it: its status and, unless lost, its trial.
struct HeldLease {
  LeaseStatus status = LeaseStatus::kLost;
  int64_t trial_id = 0;
  int64_t search_id = 0;
  int32_t trial_number = 0;
  std::string worker;  // The holder's name.
};

// A RUNNING trial whose lease ran out, and what became of it.
struct ExpiredLease {
  int64_t trial_id = 0;
  int64_t search_id = 0;
  v1::TrialState new_state = v1::TRIAL_PENDING;  // PENDING, FAILED, CANCELLED.
  int32_t attempts = 0;
  std::string worker;
};

struct WorkerInfo {
  int64_t id = 0;
  std::string name;
  std::string device;
  int32_t slots = 0;
  int64_t memory_bytes = 0;
};

// Trial slots of the workers seen recently.
struct SlotCounts {
  int32_t total = 0;
  int32_t busy = 0;  // RUNNING trials leased by those workers.
};

// Persistent state of searches, trials, workers and search policies: the
// single source of truth of the controller. Every method is one
// transaction; implementations are thread-safe. Errors: kNotFound for
// unknown ids, kUnavailable when the database cannot be reached (retry),
// kAborted on a serialization conflict (retry the operation), kInternal for
// anything else.
//
// Policy observers. InsertTrial and CompleteTrial take a PolicyObserver
// (an empty one is never called). When the operation makes a trial final
// (InsertTrial of an INFEASIBLE or CACHED trial; CompleteTrial of an
// accepted report) the store calls it inside the operation's transaction,
// after the trial row holds its final values (id, number, state, metrics,
// reward, failure reason, finish time), with the trial as stored. The
// PolicyWrite it returns is stored in that same transaction: the trial's
// observed_seq, the search's policy state (replaced) and every Q entry of
// the write (inserted or overwritten). So a result and what the policy
// learnt from it are committed together or not at all:
//  - an error from the observer aborts the transaction (nothing of the
//    operation is stored) and is returned as it is;
//  - a write whose observed_seq is not one more than the search's last
//    stored one is refused with kAborted and nothing is stored: the
//    caller's policy is stale and must be reloaded (LoadPolicy).
// The observer runs while the transaction holds row locks: it must be quick
// and must not call the store. It must be a pure function of the trial (and
// of the policy state it reads): an implementation makes one attempt per
// call, but a caller that retries an operation after kAborted calls it
// again, and only the write of an attempt that committed may be applied.
class TrialStore {
 public:
  virtual ~TrialStore() = default;

  // Stores a completed spec as a new RUNNING search and returns its id.
  virtual absl::StatusOr<int64_t> CreateSearch(const v1::SearchSpec& spec,
                                               absl::Time now) = 0;
  virtual absl::StatusOr<SearchRecord> GetSearch(int64_t search_id) = 0;
  // Newest first, at most `limit`.
  virtual absl::StatusOr<std::vector<SearchRecord>> ListSearches(int limit) = 0;
  virtual absl::StatusOr<std::vector<int64_t>> RunningSearchIds() = 0;
  // Advances the search's proposal counter by `count`; returns the first
  // reserved position.
  virtual absl::StatusOr<int64_t> ReserveProposals(int64_t search_id,
                                                   int count) = 0;
  // Moves a RUNNING search to `state` (cancelling its PENDING trials).
  // Returns false, changing nothing, when it was not RUNNING.
  virtual absl::StatusOr<bool> FinishSearch(int64_t search_id,
                                            v1::SearchState state,
                                            const std::string& message,
                                            absl::Time now) = 0;
  // Cancels a PENDING or RUNNING search and its PENDING trials; a cancelled
  // one stays as it is. kFailedPrecondition for a search that has finished.
  virtual absl::Status CancelSearch(int64_t search_id, absl::Time now) = 0;
  // Cancels the PENDING trials of a search; returns how many.
  virtual absl::StatusOr<int> CancelPendingTrials(int64_t search_id,
                                                  absl::Time now) = 0;

  // Stores a candidate of a RUNNING search (kFailedPrecondition once it is
  // not). For a PENDING one, kAlreadyExists when a trial with the same cache
  // key is PENDING or RUNNING, or has already succeeded (in any search): it
  // must not be trained again. An INFEASIBLE or CACHED trial is final:
  // `observe` is called with it as stored (see "Policy observers"); it is
  // not called for a PENDING one.
  virtual absl::StatusOr<v1::Trial> InsertTrial(
      const NewTrial& trial, absl::Time now,
      const PolicyObserver& observe) = 0;
  // InsertTrial for several PENDING candidates of one search in one
  // transaction, stored in order: one answer per candidate, in order
  // (kAlreadyExists for one trained before, in training, or earlier in the
  // batch). kFailedPrecondition, storing nothing, once the search is not
  // RUNNING.
  virtual absl::StatusOr<std::vector<absl::StatusOr<v1::Trial>>>
  InsertPendingTrials(const std::vector<NewTrial>& trials, absl::Time now) = 0;
  // The succeeded trial that holds the result for `cache_key`, if any.
  virtual absl::StatusOr<std::optional<v1::Trial>> FindCachedResult(
      const std::string& cache_key) = 0;
  virtual absl::StatusOr<v1::Trial> GetTrial(int64_t trial_id) = 0;
  // In number order; `state` UNSPECIFIED = all.
  virtual absl::StatusOr<std::vector<v1::Trial>> ListTrials(
      int64_t search_id, v1::TrialState state) = 0;
  // One page of a search's SUCCEEDED and CACHED trials with what the
  // Pareto front's rules read (number, state, arch_hash, metrics): those
  // numbered above `after_number`, in number order, at most `limit`. A scan
  // of the whole search page by page never holds it all in memory.
  virtual absl::StatusOr<FrontCandidatePage> ListFrontCandidates(
      int64_t search_id, int after_number, int limit) = 0;
  // The trained model of a trial (or of the trial it was cached from):
  // TorchScript bytes (TORCHSCRIPT, UNSPECIFIED) or a serialised
  // v1::QuantizedModel (INT8). kFailedPrecondition when it has none.
  virtual absl::StatusOr<std::string> GetModel(
      int64_t trial_id, v1::ModelFormat format = v1::TORCHSCRIPT) = 0;

  // Creates or refreshes the worker with this name; returns its id.
  virtual absl::StatusOr<int64_t> RegisterWorker(const WorkerInfo& worker,
                                                 absl::Time now) = 0;
  virtual absl::StatusOr<WorkerInfo> GetWorker(int64_t worker_id) = 0;
  virtual absl::StatusOr<SlotCounts> CountSlots(absl::Time seen_since) = 0;
  // False when the store knows without asking the database that no trial
  // is PENDING (a hint for idle workers' lease calls); true when some may
  // be.
  virtual bool MayHaveQueuedTrials(absl::Time now) = 0;
  // Leases up to lease_ids.size() PENDING trials of RUNNING searches (and
  // no more than the worker's registered slots), oldest first, one lease id
  // each, to the worker; attempts is incremented. kNotFound for an
  // unregistered worker.
  virtual absl::StatusOr<std::vector<LeasedTrial>> LeaseTrials(
      int64_t worker_id, const std::vector<std::string>& lease_ids,
      absl::Time now, absl::Time expires) = 0;
  // Extends the worker's leases; one entry per lease id, in order.
  virtual absl::StatusOr<std::vector<HeldLease>> Heartbeat(
      int64_t worker_id, const std::vector<std::string>& lease_ids,
      absl::Time now, absl::Time expires) = 0;
  // Records the outcome of a RUNNING trial if `lease_id` is its current
  // lease held by `worker_id`, and calls `observe` with the completed trial
  // (see "Policy observers"); otherwise changes nothing, does not call
  // `observe`, and says why. A FAILED outcome with data_error also fails
  // its search, if still RUNNING, in the same transaction: SEARCH_FAILED
  // with message "data: <failure reason>", its PENDING trials CANCELLED
  // (so none is leased again; the RUNNING ones are cancelled by their next
  // heartbeat), and search_failed set in the result.
  virtual absl::StatusOr<CompletionResult> CompleteTrial(
      int64_t trial_id, int64_t worker_id, const std::string& lease_id,
      const TrialOutcome& outcome, absl::Time now,
      const PolicyObserver& observe) = 0;
  // CompleteTrial for several reports in one transaction (a group commit):
  // each is taken as CompleteTrial would take it after the ones before it
  // (a second report of a trial is a duplicate), and `observe` is called
  // for each accepted one, in order. One answer per report, in order:
  // kNotFound for an unknown trial. Any other error stores nothing of the
  // batch.
  virtual absl::StatusOr<std::vector<absl::StatusOr<CompletionResult>>>
  CompleteTrials(const std::vector<Completion>& reports, absl::Time now,
                 const PolicyObserver& observe) = 0;
  // Returns RUNNING trials whose lease expired before `now` to PENDING, or
  // fails them after their search's max_attempts leases, or cancels them
  // when their search is no longer running. Takes no observer: policies
  // learn nothing from FAILED and CANCELLED trials (PrepareObservation
  // returns nullopt for them). The same holds for the trials that
  // Heartbeat, FinishSearch, CancelSearch and CancelPendingTrials cancel.
  virtual absl::StatusOr<std::vector<ExpiredLease>> ExpireLeases(
      absl::Time now) = 0;
  // Lets every RUNNING trial's lease run until `until` at least, except
  // those another transaction holds right now (a heartbeat or a report is
  // on them). Returns how many it extended.
  virtual absl::StatusOr<int> ExtendLeases(absl::Time until) = 0;

  // The search's stored policy, read from one snapshot: its state (empty
  // when nothing was learnt), the whole Q-table (ordered by state, then
  // action) and the trials with an observed_seq, in that order.
  virtual absl::StatusOr<StoredPolicy> LoadPolicy(int64_t search_id) = 0;
  // The search's stored policy state, the size of its Q-table and its `top`
  // highest entries (top >= 0), read from one snapshot.
  virtual absl::StatusOr<PolicySummary> GetPolicySummary(int64_t search_id,
                                                         int top) = 0;
};

}  // namespace nas::controller

#endif  // NAS_CONTROLLER_STORE_TRIAL_STORE_H_
