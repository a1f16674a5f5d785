#ifndef NAS_CONTROLLER_TRIAL_DISPATCHER_H_
#define NAS_CONTROLLER_TRIAL_DISPATCHER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "controller/change_listener.h"
#include "controller/clock.h"
#include "controller/controller_metrics.h"
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
};

// The worker side of the queue: registers workers, leases PENDING trials to
// them (oldest first across searches), extends leases on heartbeats and
// records results. Reports are idempotent: only the current lease holder of
// a RUNNING trial completes it; its result, and what the search's policy
// learnt from it, are committed together before Report returns. Thread-safe.
// Borrows everything it is given; those must outlive it. `wake_scheduler` is
// called when the queue may need refilling.
class TrialDispatcher {
 public:
  TrialDispatcher(TrialStore* store, SearchContexts* contexts,
                  const Clock* clock, ControllerMetrics* metrics,
                  ChangeListener* listener,
                  std::function<void()> wake_scheduler,
                  DispatcherOptions options);
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
  // longer runs (the trial is then cancelled).
  absl::StatusOr<std::vector<v1::LeaseVerdict>> Heartbeat(
      int64_t worker_id, const std::vector<std::string>& lease_ids);
  // Records a worker's result. InvalidArgument for a malformed result,
  // NotFound for an unknown trial; accepted=false (changing nothing) for a
  // duplicate or stale report.
  absl::StatusOr<ReportAck> Report(int64_t worker_id,
                                   const std::string& lease_id,
                                   int64_t trial_id,
                                   const v1::TrialResult& result);

 private:
  absl::StatusOr<v1::TrialTask> MakeTask(const LeasedTrial& leased);
  // Records the outcome with the search's policy observing; one attempt,
  // with the search's current context (a fresh one after a drop).
  absl::StatusOr<CompletionResult> Complete(const v1::Trial& trial,
                                            int64_t worker_id,
                                            const std::string& lease_id,
                                            const TrialOutcome& outcome);
  absl::StatusOr<TrialOutcome> MakeOutcome(const SearchContext& context,
                                           const v1::Trial& trial,
                                           const v1::TrialResult& result,
                                           int64_t worker_id);

  TrialStore* const store_;
  SearchContexts* const contexts_;
  const Clock* const clock_;
  ControllerMetrics* const metrics_;
  ChangeListener* const listener_;  // May be null.
  const std::function<void()> wake_scheduler_;
  const DispatcherOptions options_;
};

// A fresh lease id: 128 random bits from OpenSSL as 32 hex digits.
std::string NewLeaseId();

}  // namespace nas::controller

#endif  // NAS_CONTROLLER_TRIAL_DISPATCHER_H_
