#ifndef NAS_CONTROLLER_STORE_PG_ROWS_H_
#define NAS_CONTROLLER_STORE_PG_ROWS_H_

// Row mapping shared by the PostgreSQL store's files (pg_trial_store.cc,
// pg_policy_tables.cc): how a trial row is selected and read back, and the
// small conversions every statement needs. Internal to controller/store/;
// functions here throw libpqxx or std exceptions like the statements
// themselves, which PgTrialStore maps to statuses.

#include <cstdint>
#include <stdexcept>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "pqxx/pqxx"
#include "proto/nas.pb.h"

namespace nas::controller {

// The SQL spells states as numbers; they are the proto enum values.
static_assert(v1::TRIAL_PENDING == 1 && v1::TRIAL_RUNNING == 2 &&
              v1::TRIAL_SUCCEEDED == 3 && v1::TRIAL_FAILED == 4 &&
              v1::TRIAL_INFEASIBLE == 5 && v1::TRIAL_CACHED == 6 &&
              v1::TRIAL_CANCELLED == 7);
static_assert(v1::SEARCH_RUNNING == 2 && v1::SEARCH_SUCCEEDED == 3 &&
              v1::SEARCH_FAILED == 4 && v1::SEARCH_CANCELLED == 5);

// The columns TrialFromRow reads, of a trial aliased `t` (for SELECT and
// RETURNING lists).
extern const char kTrialColumns[];

// "SELECT <kTrialColumns> FROM trials t <tail>".
std::string TrialSelect(absl::string_view tail);

// A row holding kTrialColumns as a trial. Throws std::runtime_error when a
// stored message is corrupt.
v1::Trial TrialFromRow(const pqxx::row& r);

// Stored times are Unix milliseconds.
inline int64_t Ms(absl::Time t) { return absl::ToUnixMillis(t); }

// The field's value, or `fallback` when it is NULL.
template <typename T>
T Get(const pqxx::field& f, T fallback = T()) {
  return f.is_null() ? fallback : f.as<T>();
}

// A BYTEA field's bytes ("" for NULL).
inline std::string Bytes(const pqxx::field& f) {
  return f.is_null() ? std::string() : pqxx::binarystring(f).str();
}

// A BYTEA field holding a serialized `Message`; throws std::runtime_error
// naming `what` when it does not parse.
template <typename Message>
Message ParseBytes(const pqxx::field& f, const char* what) {
  Message message;
  if (!message.ParseFromString(Bytes(f))) {
    throw std::runtime_error(absl::StrCat("stored ", what, " is corrupt"));
  }
  return message;
}

inline absl::Status NoSuchSearch(int64_t id) {
  return absl::NotFoundError(absl::StrCat("search ", id, " not found"));
}

// Locks the search's row for the rest of the transaction. kNotFound for an
// unknown search, kFailedPrecondition when it is no longer RUNNING.
absl::Status LockRunningSearch(pqxx::transaction_base& txn, int64_t search_id);

// Takes the search's next `count` trial numbers from its counter and
// returns the first; the infeasible streak grows by one for an INFEASIBLE
// trial (`infeasible`) and restarts at 0 otherwise.
int TakeTrialNumbers(pqxx::transaction_base& txn, int64_t search_id, int count,
                     bool infeasible);

}  // namespace nas::controller

#endif  // NAS_CONTROLLER_STORE_PG_ROWS_H_
