#ifndef NAS_CONTROLLER_STORE_PG_TRANSACT_H_
#define NAS_CONTROLLER_STORE_PG_TRANSACT_H_

// PgTrialStore::Transact, for the files that define PgTrialStore's methods
// (pg_trial_store.cc, pg_worker_calls.cc). Internal to controller/store/.

#include <type_traits>

#include "common/status_macros.h"
#include "controller/store/pg_connection_pool.h"
#include "controller/store/pg_rows.h"
#include "controller/store/pg_trial_store.h"
#include "pqxx/pqxx"

namespace nas::controller {

template <typename T, bool kOneStatement>
absl::StatusOr<T> PgTrialStore::Transact(
    absl::string_view operation,
    absl::FunctionRef<absl::StatusOr<T>(pqxx::transaction_base&)> body) {
  NAS_ASSIGN_OR_RETURN(PgConnectionPool::Handle conn, pool_->Acquire());
  try {
    std::conditional_t<kOneStatement, pqxx::nontransaction, pqxx::work> txn(
        conn.get());
    absl::StatusOr<T> result = body(txn);
    if (result.ok()) txn.commit();
    return result;
  } catch (...) {
    absl::Status status = StatusFromCurrentException(operation);
    if (absl::IsUnavailable(status) || !conn.get().is_open()) conn.Discard();
    return status;
  }
}

}  // namespace nas::controller

#endif  // NAS_CONTROLLER_STORE_PG_TRANSACT_H_
