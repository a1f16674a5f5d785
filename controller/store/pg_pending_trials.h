#ifndef NAS_CONTROLLER_STORE_PG_PENDING_TRIALS_H_
#define NAS_CONTROLLER_STORE_PG_PENDING_TRIALS_H_

// How PgTrialStore queues a batch of new candidates in one transaction.
// Internal to controller/store/; throws libpqxx or std exceptions like the
// statements themselves, which PgTrialStore maps to statuses.

#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "controller/store/trial_store.h"
#include "pqxx/pqxx"

namespace nas::controller {

// Stores `trials` (PENDING candidates of one search) in `txn` as
// TrialStore::InsertPendingTrials describes, with a fixed number of
// statements whatever their number: the search row locked, every cache key
// locked and checked at once, the new trials inserted at once, numbered in
// order.
absl::StatusOr<std::vector<absl::StatusOr<v1::Trial>>> InsertPendingTrialsIn(
    pqxx::transaction_base& txn, const std::vector<NewTrial>& trials,
    absl::Time now);

}  // namespace nas::controller

#endif  // NAS_CONTROLLER_STORE_PG_PENDING_TRIALS_H_
