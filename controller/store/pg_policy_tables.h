#ifndef NAS_CONTROLLER_STORE_PG_POLICY_TABLES_H_
#define NAS_CONTROLLER_STORE_PG_POLICY_TABLES_H_

// The SQL of the search-policy tables (trials.observed_seq, search_policies,
// q_values), run inside PgTrialStore's transactions. Internal to
// controller/store/; libpqxx exceptions pass through to PgTrialStore, which
// maps them to statuses.

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "controller/store/trial_store.h"
#include "pqxx/pqxx"
#include "proto/nas.pb.h"

namespace nas::controller {

// Calls `observe` (unless empty) with `stored`, a trial `txn` has just made
// final, and stores the write it returns in `txn`: the trial's observed_seq,
// the search's state and the write's Q entries. Returns the observer's
// error as it is; kAborted, storing nothing, when the write's observed_seq
// does not follow the search's last one; kInternal for a non-finite Q value.
// Locks the search's row, so writes of one search are serialised; callers
// lock a trial row before (never after) a search row, and a cache key only
// after this.
absl::Status ObserveFinalTrial(pqxx::transaction_base& txn,
                               const v1::Trial& stored,
                               const PolicyObserver& observe, absl::Time now);

// LoadPolicy's and GetPolicySummary's reads. Make the transaction a
// read-only snapshot before calling (BeginSnapshot). kNotFound for an
// unknown search.
absl::StatusOr<StoredPolicy> ReadStoredPolicy(pqxx::transaction_base& txn,
                                              int64_t search_id);
absl::StatusOr<PolicySummary> ReadPolicySummary(pqxx::transaction_base& txn,
                                                int64_t search_id, int top);

// Makes the just-begun transaction REPEATABLE READ and READ ONLY, so that
// several statements read one consistent snapshot. Must come first.
void BeginSnapshot(pqxx::transaction_base& txn);

}  // namespace nas::controller

#endif  // NAS_CONTROLLER_STORE_PG_POLICY_TABLES_H_
