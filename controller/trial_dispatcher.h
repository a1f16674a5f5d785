#ifndef NAS_CONTROLLER_TRIAL_DISPATCHER_H_
#define NAS_CONTROLLER_TRIAL_DISPATCHER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "controller/change_listener.h"
#include "controller/clock.h"
#include "controller/group_commit.h"
#include "controller/controller_metrics.h"
#include "controller/progress_board.h"
#include "controller/search_contexts.h"
#include "controller/store/trial_store.h"
#include "proto/nas.pb.h"

namespace nas::controller {

struct DispatcherOptions {
  absl::Duration lease_ttl = absl::Seconds(30);
  absl::Duration heartbeat_interval = absl::Seconds(2);
};

// How a report was taken.
struct ReportAck {
  bool accepted = false;
  std::string detail;
  std::vector<v1::TrialTask> tasks;  // The reporting slot's next tasks.
};

// The worker side of the queue: registers workers, leases PENDING trials to
// them (oldest first across searches), extends leases on heartbeats and
// records results. Reports are idempotent: only the current lease holder of
// a RUNNING trial completes it; its result, and what the search's policy
// learnt from it, are committed together before Report returns. Thread-safe.
// Borrows everything it is given; those must outlive it. `wake_scheduler` is
// called when the queue may need refilling. `progress` (may be null) gets
// the progress that heartbeats carry.
class TrialDispatcher {
 public:
  TrialDispatcher(TrialStore* store, SearchContexts* contexts,
                  const Clock* clock, ControllerMetrics* metrics,
                  ChangeListener* listener,
                  std::function<void()> wake_scheduler,
                  DispatcherOptions options, ProgressBoard* progress = nullptr);
  TrialDispatcher(const TrialDispatcher&) = delete;
  TrialDispatcher& operator=(const TrialDispatcher&) = delete;

  const DispatcherOptions& options() const { return options_; }

  // Creates or refreshes the worker named `worker.name`; returns its id.
  absl::StatusOr<int64_t> RegisterWorker(const WorkerInfo& worker);
  // Up to `free_slots` tasks (capped by the worker's registered slots),
  // each with a fresh random 128-bit lease id. Empty when nothing is queued.
  // NotFound for an unregistered worker.
  absl::StatusOr<std::vector<v1::TrialTask>> Lease(int64_t worker_id,
                                                   int free_slots);
  // One verdict per lease id, in order: keep_going is false for a lease that
  // is lost (expired and handed on, finished, unknown) or whose search no
  // longer runs (the trial is then cancelled). `progress`, when not empty,
  // has an entry (or null) per lease id: what the worker says of its trial,
  // put on the progress board for the leases still held.
  absl::StatusOr<std::vector<v1::LeaseVerdict>> Heartbeat(
      int64_t worker_id, const std::vector<std::string>& lease_ids,
      const std::vector<const v1::TrialProgress*>& progress = {});
  // Records a worker's result. InvalidArgument for a malformed result,
  // NotFound for an unknown trial; accepted=false (changing nothing) for a
  // duplicate or stale report. A failure with data_error fails the whole
  // search with its reason (TrialStore::CompleteTrial). Then leases up to `lease_next` tasks, as
  // Lease does, whether or not the result was accepted. A report repeated
  // because the answer to its first attempt was lost gets the tasks leased
  // with that answer, those of them its worker still holds, instead of new
  // ones: they would otherwise wait a lease TTL to be handed out again.
  // Once the result is committed a failure to lease is logged, not
  // returned (the worker would report again): the answer has no tasks.
  absl::StatusOr<ReportAck> Report(int64_t worker_id,
                                   const std::string& lease_id,
                                   int64_t trial_id,
                                   const v1::TrialResult& result,
                                   int lease_next = 0);

 private:
  struct PendingReport;
  // What a report needs of its leased trial (id, search, number, analytic
  // metrics), remembered from the lease.
  struct LeasedInfo {
    v1::Trial trial;
    absl::Time leased;
    int64_t worker_id = 0;
    std::string lease_id;
    std::string chained_by;  // The lease of the report that leased it.
  };

  // Lease, for the tasks that answer the report of lease `chained_by`
  // (empty for LeaseTrial).
  absl::StatusOr<std::vector<v1::TrialTask>> LeaseFor(
      int64_t worker_id, int free_slots, const std::string& chained_by);
  // Up to `max` tasks leased with an earlier answer to the report of lease
  // `reported`, which `worker_id` still holds (their leases are extended).
  absl::StatusOr<std::vector<v1::TrialTask>> LeasedBefore(
      int64_t worker_id, const std::string& reported, int max);
  // The tasks that answer a report: LeasedBefore's for a report not
  // accepted, else (or if none) fresh ones.
  std::vector<v1::TrialTask> NextTasks(int64_t worker_id,
                                       const std::string& reported,
                                       int lease_next, bool accepted);

  absl::StatusOr<v1::TrialTask> MakeTask(const LeasedTrial& leased);
  // Puts a held lease's progress on the board and tells the watchers.
  void RecordProgress(const HeldLease& held, const v1::TrialProgress& progress,
                      absl::Time now);
  absl::StatusOr<TrialOutcome> MakeOutcome(const SearchContext& context,
                                           const v1::Trial& trial,
                                           const v1::TrialResult& result,
                                           int64_t worker_id);
  // The reported trial as leased by this controller, else as stored.
  absl::StatusOr<v1::Trial> ReportedTrial(int64_t trial_id);
  void RememberLeased(const std::vector<LeasedTrial>& leased, absl::Time now,
                      int64_t worker_id, const std::string& chained_by);
  // When this controller last stored that the worker was seen.
  void MarkSeen(int64_t worker_id, absl::Time now);
  bool SeenRecently(int64_t worker_id, absl::Time now);

  // Reports are recorded by group commit (GroupCommit): in one transaction
  // with the reports that arrive while another batch commits. A batch takes
  // up to kMaxBatch queued reports, oldest first, at most one per search
  // whose policy learns from results.
  static std::vector<size_t> PickBatch(absl::Span<PendingReport* const> queued);
  // Sets the result of every report of `batch`: retried when aborted, and
  // one at a time after a failure, so one report's trouble (e.g. a policy
  // that cannot learn from it) does not fail the others.
  void RecordBatch(const std::vector<PendingReport*>& batch);
  // One attempt, with the searches' current contexts.
  absl::StatusOr<std::vector<absl::StatusOr<CompletionResult>>> CompleteBatch(
      const std::vector<PendingReport*>& batch);

  TrialStore* const store_;
  SearchContexts* const contexts_;
  const Clock* const clock_;
  ControllerMetrics* const metrics_;
  ChangeListener* const listener_;  // May be null.
  const std::function<void()> wake_scheduler_;
  const DispatcherOptions options_;
  ProgressBoard* const progress_;  // May be null.

  GroupCommit<PendingReport> reports_;

  absl::Mutex leased_mu_;
  // By trial id; an entry leaves on the accepted report, or when older than
  // a few lease TTLs (its lease expired).
  absl::flat_hash_map<int64_t, LeasedInfo> leased_ ABSL_GUARDED_BY(leased_mu_);
  absl::Time pruned_ ABSL_GUARDED_BY(leased_mu_) = absl::InfinitePast();
  absl::flat_hash_map<int64_t, absl::Time> seen_ ABSL_GUARDED_BY(leased_mu_);
};

// A fresh lease id: 128 random bits from OpenSSL as 32 hex digits.
std::string NewLeaseId();

}  // namespace nas::controller

#endif  // NAS_CONTROLLER_TRIAL_DISPATCHER_H_
