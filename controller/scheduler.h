#ifndef NAS_CONTROLLER_SCHEDULER_H_
#define NAS_CONTROLLER_SCHEDULER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/pareto.h"
#include "controller/change_listener.h"
#include "controller/clock.h"
#include "controller/controller_metrics.h"
#include "controller/search_contexts.h"
#include "controller/store/trial_store.h"
#include "proto/nas.pb.h"

namespace nas::controller {

struct SchedulerOptions {
  std::string data_root;  // Where built-in data sets live.
  absl::Duration lease_ttl = absl::Seconds(30);
  // A worker not seen for this long no longer counts towards free slots.
  absl::Duration worker_timeout = absl::Seconds(90);
};

// The life of searches: accepts and cancels them, keeps every RUNNING search
// supplied with PENDING trials proposed by its policy (recording infeasible
// and cached candidates instead of queueing them), returns expired leases to
// the queue and ends searches whose budget is spent. All state lives in the
// store, so a restarted controller resumes where the last one stopped.
// Thread-safe; Tick() runs one round at a time. Borrows everything it is
// given; those must outlive it (Stop() before destroying them).
class Scheduler {
 public:
  Scheduler(TrialStore* store, SearchContexts* contexts, const Clock* clock,
            ControllerMetrics* metrics, ChangeListener* listener,
            SchedulerOptions options);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Completes and checks `spec`, then stores it as a RUNNING search.
  // InvalidArgument naming every problem, storing nothing, when the spec is
  // malformed or impossible.
  absl::StatusOr<v1::Search> SubmitSearch(const v1::SearchSpec& spec);

  // Where built-in data sets live (spec completion resolves against it).
  const std::string& data_root() const { return options_.data_root; }
  // Cancels a search and its queued trials; running trials are told to stop
  // at their next heartbeat. NotFound / FailedPrecondition (already ended).
  absl::StatusOr<v1::Search> CancelSearch(int64_t search_id);

  // One round: expire leases, then plan every RUNNING search. Errors of one
  // search are logged and do not stop the others. The first round after
  // workers could not reach a working controller (it had not started, or
  // the database did not answer) first lets every running lease run a lease
  // TTL from now: workers keep training through such an outage, and a
  // lease that ran out meanwhile would hand their trials to others.
  absl::Status Tick();

  // Runs Tick() every `interval`, and soon after Wake(), on a thread of its
  // own until Stop().
  void Start(absl::Duration interval);
  void Stop();
  // Asks the background loop for a round now (after a submit, a report, or a
  // worker finding the queue empty).
  void Wake();

 private:
  enum class Fate;

  absl::Status ExpireLeases(absl::Time now);
  // The grace of Tick, when one is due.
  absl::Status GraceLeases(absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(tick_mu_);
  absl::Status Round(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(tick_mu_);
  absl::Status PlanRunningSearch(int64_t search_id, absl::Time now,
                                 const SlotCounts& slots, int* pending)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(tick_mu_);
  // Counts the fate of one candidate towards a round.
  using Tally = std::function<void(Fate)>;

  // Proposes until `count` candidates are queued or cached, or the round's
  // or the search's infeasible limit is reached.
  absl::Status Propose(const SearchRecord& record, int count, absl::Time now);
  // A proposed architecture as a PENDING candidate, with its analytic
  // metrics and its violations (empty when feasible).
  static NewTrial MakeCandidate(const SearchContext& context,
                                const v1::Architecture& proposed);
  // Stores `run` (feasible candidates, emptied) in one transaction: each is
  // queued, or CACHED when trained before, or skipped when the same network
  // is being trained right now.
  absl::Status QueueCandidates(SearchContext& context,
                               std::vector<NewTrial>* run, absl::Time now,
                               const Tally& tally);
  absl::Status StoreCached(SearchContext& context, NewTrial trial,
                           const v1::Trial& source, absl::Time now);
  // Stores an INFEASIBLE or CACHED trial; the search's policy learns from
  // it in the same transaction.
  absl::StatusOr<v1::Trial> InsertFinal(SearchContext& context,
                                        const NewTrial& trial, absl::Time now);
  void Notify(int64_t search_id, int64_t trial_id);
  absl::Status UpdateParetoSize(const v1::Search& search, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(tick_mu_);
  // Sets the gauges of a search; an ended one with trials still PENDING or
  // RUNNING (being cancelled) is set again every round until it has none,
  // so that its final counts are right.
  void SetSearchMetrics(const v1::Search& search);
  void SettleEndedSearches();
  void Loop(absl::Duration interval);

  TrialStore* const store_;
  SearchContexts* const contexts_;
  const Clock* const clock_;
  ControllerMetrics* const metrics_;
  ChangeListener* const listener_;  // May be null.
  const SchedulerOptions options_;

  absl::Mutex tick_mu_;  // One round at a time.
  // The last Pareto-size update of a search: its trials_done then (-1: not
  // measured yet, so the first round sets the gauge) and when.
  struct ParetoWatch {
    int done = -1;
    absl::Time updated = absl::InfinitePast();
  };
  absl::flat_hash_map<int64_t, ParetoWatch> pareto_ ABSL_GUARDED_BY(tick_mu_);
  // Why workers could not reach a working controller, until a round has
  // given their leases the grace; empty when no grace is due.
  std::string unreachable_ ABSL_GUARDED_BY(tick_mu_) =
      "the controller was not running";

  absl::Mutex settle_mu_;
  absl::flat_hash_set<int64_t> settling_ ABSL_GUARDED_BY(settle_mu_);

  absl::Mutex loop_mu_;
  bool wake_ ABSL_GUARDED_BY(loop_mu_) = false;
  bool stop_ ABSL_GUARDED_BY(loop_mu_) = false;
  std::thread loop_;
};

// The size of a search's Pareto front under `rules` (common/pareto.h: the
// same front GetParetoFront returns), read from `store` `page_size` final
// trials at a time, so that memory stays linear in the front and the
// distinct architectures whatever the size of the search.
absl::StatusOr<int> ParetoFrontSize(TrialStore* store, int64_t search_id,
                                    const FrontRules& rules, int page_size);

}  // namespace nas::controller

#endif  // NAS_CONTROLLER_SCHEDULER_H_
