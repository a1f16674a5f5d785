#ifndef NAS_CONTROLLER_STORE_PG_COMPLETIONS_H_
#define NAS_CONTROLLER_STORE_PG_COMPLETIONS_H_

// How PgTrialStore records workers' reports, one or a batch in a
// transaction. Internal to controller/store/; throws libpqxx or std
// exceptions like the statements themselves, which PgTrialStore maps to
// statuses.

#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "controller/store/trial_store.h"
#include "pqxx/pqxx"

namespace nas::controller {

// Records `reports` in `txn` as TrialStore::CompleteTrials describes, with a
// fixed number of statements whatever their number (trained models apart):
// the trial rows locked in id order, the accepted ones updated at once, the
// policy observing each, then the result cache.
absl::StatusOr<std::vector<absl::StatusOr<CompletionResult>>> CompleteTrialsIn(
    pqxx::transaction_base& txn, const std::vector<Completion>& reports,
    absl::Time now, const PolicyObserver& observe);

}  // namespace nas::controller

#endif  // NAS_CONTROLLER_STORE_PG_COMPLETIONS_H_
