#ifndef NAS_CONTROLLER_STORE_PG_TRIAL_STORE_H_
#define NAS_CONTROLLER_STORE_PG_TRIAL_STORE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "controller/group_commit.h"
#include "controller/store/pending_index.h"
#include "controller/store/pg_connection_pool.h"
#include "controller/store/trial_store.h"

namespace pqxx {
class transaction_base;
}  // namespace pqxx

namespace nas::controller {

// TrialStore on PostgreSQL through libpqxx. Every method runs in one
// transaction on a pooled connection (READ COMMITTED; the policy reads in a
// REPEATABLE READ snapshot), with parameterised statements only, and makes
// one attempt: a serialization failure or deadlock comes back as kAborted
// for the caller to retry. libpqxx exceptions are caught here and mapped to
// statuses (see StatusFromCurrentException). Thread-safe. Call Migrate()
// once before use.
class PgTrialStore : public TrialStore {
 public:
  // Connects to `uri` (a libpq URI). kUnavailable naming the URI (password
  // redacted) and the reason when the database cannot be reached.
  static absl::StatusOr<std::unique_ptr<PgTrialStore>> Create(
      const std::string& uri, int max_connections = 16);

  PgTrialStore(const PgTrialStore&) = delete;
  PgTrialStore& operator=(const PgTrialStore&) = delete;
  ~PgTrialStore() override;

  // Applies the schema migrations not yet applied, each in its own
  // transaction, under an advisory lock so that controllers starting at once
  // do not race. Idempotent. kFailedPrecondition when the database has a
  // newer schema than this binary knows.
  absl::Status Migrate();
  // The highest applied migration (0 = none).
  absl::StatusOr<int> SchemaVersion();

  absl::StatusOr<int64_t> CreateSearch(const v1::SearchSpec& spec,
                                       absl::Time now) override;
  absl::StatusOr<SearchRecord> GetSearch(int64_t search_id) override;
  absl::StatusOr<std::vector<SearchRecord>> ListSearches(int limit) override;
  absl::StatusOr<std::vector<int64_t>> RunningSearchIds() override;
  absl::StatusOr<int64_t> ReserveProposals(int64_t search_id,
                                           int count) override;
  absl::StatusOr<bool> FinishSearch(int64_t search_id, v1::SearchState state,
                                    const std::string& message,
                                    absl::Time now) override;
  absl::Status CancelSearch(int64_t search_id, absl::Time now) override;
  absl::StatusOr<int> CancelPendingTrials(int64_t search_id,
                                          absl::Time now) override;

  absl::StatusOr<v1::Trial> InsertTrial(const NewTrial& trial, absl::Time now,
                                        const PolicyObserver& observe) override;
  absl::StatusOr<std::vector<absl::StatusOr<v1::Trial>>> InsertPendingTrials(
      const std::vector<NewTrial>& trials, absl::Time now) override;
  absl::StatusOr<std::optional<v1::Trial>> FindCachedResult(
      const std::string& cache_key) override;
  absl::StatusOr<v1::Trial> GetTrial(int64_t trial_id) override;
  absl::StatusOr<std::vector<v1::Trial>> ListTrials(
      int64_t search_id, v1::TrialState state) override;
  absl::StatusOr<FrontCandidatePage> ListFrontCandidates(int64_t search_id,
                                                         int after_number,
                                                         int limit) override;
  absl::StatusOr<std::string> GetModel(
      int64_t trial_id, v1::ModelFormat format = v1::TORCHSCRIPT) override;

  absl::StatusOr<int64_t> RegisterWorker(const WorkerInfo& worker,
                                         absl::Time now) override;
  absl::StatusOr<WorkerInfo> GetWorker(int64_t worker_id) override;
  absl::StatusOr<SlotCounts> CountSlots(absl::Time seen_since) override;
  bool MayHaveQueuedTrials(absl::Time now) override;
  absl::StatusOr<std::vector<LeasedTrial>> LeaseTrials(
      int64_t worker_id, const std::vector<std::string>& lease_ids,
      absl::Time now, absl::Time expires) override;
  absl::StatusOr<std::vector<HeldLease>> Heartbeat(
      int64_t worker_id, const std::vector<std::string>& lease_ids,
      absl::Time now, absl::Time expires) override;
  absl::StatusOr<CompletionResult> CompleteTrial(
      int64_t trial_id, int64_t worker_id, const std::string& lease_id,
      const TrialOutcome& outcome, absl::Time now,
      const PolicyObserver& observe) override;
  absl::StatusOr<std::vector<absl::StatusOr<CompletionResult>>> CompleteTrials(
      const std::vector<Completion>& reports, absl::Time now,
      const PolicyObserver& observe) override;
  absl::StatusOr<std::vector<ExpiredLease>> ExpireLeases(
      absl::Time now) override;
  absl::StatusOr<int> ExtendLeases(absl::Time until) override;

  absl::StatusOr<StoredPolicy> LoadPolicy(int64_t search_id) override;
  absl::StatusOr<PolicySummary> GetPolicySummary(int64_t search_id,
                                                 int top) override;

 private:
  explicit PgTrialStore(std::unique_ptr<PgConnectionPool> pool);

  // Runs `body` in one transaction, committing when it returns OK. A body
  // of one statement may run with kOneStatement: the statement is then its
  // own transaction, without the round trips of BEGIN and COMMIT.
  template <typename T, bool kOneStatement = false>
  absl::StatusOr<T> Transact(
      absl::string_view operation,
      absl::FunctionRef<absl::StatusOr<T>(pqxx::transaction_base&)> body);

  // Reads the PENDING trial ids into pending_ when it needs them.
  absl::Status LoadPendingIndex(absl::Time now);

  // Lease calls are leased by group commit: concurrent calls (of different
  // workers) in one statement.
  struct LeaseRequest;
  void LeaseBatch(const std::vector<LeaseRequest*>& batch);

  std::unique_ptr<PgConnectionPool> pool_;
  // Read again when empty for this long (another controller's trials).
  PendingIndex pending_{absl::Seconds(5)};
  GroupCommit<LeaseRequest> leases_;
};

}  // namespace nas::controller

#endif  // NAS_CONTROLLER_STORE_PG_TRIAL_STORE_H_
