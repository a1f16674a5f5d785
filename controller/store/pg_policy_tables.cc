#include "controller/store/pg_policy_tables.h"

#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "controller/store/pg_rows.h"
#include "nlohmann/json.hpp"

namespace nas::controller {
namespace {

// The entries of a write as one JSON array parameter for jsonb_to_recordset
// (a statement of fixed text whatever the count). A pair that occurs twice
// keeps its last value, as if the updates had been applied in order.
absl::StatusOr<std::string> QValuesJson(const std::vector<v1::QValue>& values) {
  absl::flat_hash_map<std::pair<std::string, std::string>, size_t> last;
  for (size_t i = 0; i < values.size(); ++i) {
    const v1::QValue& v = values[i];
    if (!std::isfinite(v.q())) {
      return absl::InternalError(absl::StrCat("Q value of state '", v.state(),
                                              "', action '", v.action(),
                                              "' is not finite: ", v.q()));
    }
    last[{v.state(), v.action()}] = i;
  }
  nlohmann::json rows = nlohmann::json::array();
  for (size_t i = 0; i < values.size(); ++i) {
    const v1::QValue& v = values[i];
    if (last[{v.state(), v.action()}] != i) continue;
    rows.push_back({{"state", v.state()},
                    {"action", v.action()},
                    {"q", v.q()},
                    {"updates", v.updates()}});
  }
  return rows.dump();
}

absl::Status UpsertQValues(pqxx::transaction_base& txn, int64_t search_id,
                           const std::vector<v1::QValue>& values) {
  if (values.empty()) return absl::OkStatus();
  NAS_ASSIGN_OR_RETURN(std::string json, QValuesJson(values));
  txn.exec_params(R"sql(
INSERT INTO q_values (search_id, state, action, q, updates)
SELECT $1, r.state, r.action, r.q, r.updates
FROM jsonb_to_recordset($2::jsonb)
  AS r(state TEXT, action TEXT, q DOUBLE PRECISION, updates INTEGER)
ON CONFLICT (search_id, state, action)
DO UPDATE SET q = EXCLUDED.q, updates = EXCLUDED.updates)sql",
                  search_id, json);
  return absl::OkStatus();
}

// kAborted unless `seq` follows the search's last stored observation. The
// caller holds the search row's lock, so no other write can slip between.
absl::Status CheckNextSeq(pqxx::transaction_base& txn, int64_t search_id,
                          int64_t seq) {
  const int64_t last =
      txn.exec_params1(
             "SELECT COALESCE(MAX(observed_seq), 0) FROM trials "
             "WHERE search_id = $1",
             search_id)[0]
          .as<int64_t>();
  if (seq == last + 1) return absl::OkStatus();
  return absl::AbortedError(absl::StrCat(
      "stale policy of search ", search_id, ": it learnt observation ", seq,
      " but ", last, " are stored; reload it from the store"));
}

absl::Status StoreWrite(pqxx::transaction_base& txn, const v1::Trial& trial,
                        const PolicyWrite& write, absl::Time now) {
  const int64_t search_id = trial.search_id();
  txn.exec_params("SELECT 1 FROM searches WHERE id = $1 FOR UPDATE", search_id);
  NAS_RETURN_IF_ERROR(CheckNextSeq(txn, search_id, write.observed_seq));
  txn.exec_params("UPDATE trials SET observed_seq = $2 WHERE id = $1",
                  trial.id(), write.observed_seq);
  txn.exec_params(R"sql(
INSERT INTO search_policies (search_id, state, updated_ms) VALUES ($1, $2, $3)
ON CONFLICT (search_id)
DO UPDATE SET state = EXCLUDED.state, updated_ms = EXCLUDED.updated_ms)sql",
                  search_id, pqxx::binarystring(write.state), Ms(now));
  return UpsertQValues(txn, search_id, write.q_values);
}

v1::QValue QValueFromRow(const pqxx::row& r) {
  v1::QValue v;
  v.set_state(r[0].as<std::string>());
  v.set_action(r[1].as<std::string>());
  v.set_q(r[2].as<double>());
  v.set_updates(r[3].as<int32_t>());
  return v;
}

absl::Status CheckSearchExists(pqxx::transaction_base& txn, int64_t search_id) {
  if (txn.exec_params("SELECT 1 FROM searches WHERE id = $1", search_id)
          .empty()) {
    return NoSuchSearch(search_id);
  }
  return absl::OkStatus();
}

std::string ReadState(pqxx::transaction_base& txn, int64_t search_id) {
  pqxx::result r = txn.exec_params(
      "SELECT state FROM search_policies WHERE search_id = $1", search_id);
  return r.empty() ? std::string() : Bytes(r[0][0]);
}

}  // namespace

absl::Status ObserveFinalTrial(pqxx::transaction_base& txn,
                               const v1::Trial& stored,
                               const PolicyObserver& observe, absl::Time now) {
  if (!observe) return absl::OkStatus();
  NAS_ASSIGN_OR_RETURN(std::optional<PolicyWrite> write, observe(stored));
  if (!write.has_value()) return absl::OkStatus();
  return StoreWrite(txn, stored, *write, now);
}

void BeginSnapshot(pqxx::transaction_base& txn) {
  txn.exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
}

absl::StatusOr<StoredPolicy> ReadStoredPolicy(pqxx::transaction_base& txn,
                                              int64_t search_id) {
  NAS_RETURN_IF_ERROR(CheckSearchExists(txn, search_id));
  StoredPolicy out;
  out.state = ReadState(txn, search_id);
  for (const pqxx::row& row :
       txn.exec_params("SELECT state, action, q, updates FROM q_values "
                       "WHERE search_id = $1 ORDER BY state, action",
                       search_id)) {
    out.q_values.push_back(QValueFromRow(row));
  }
  for (const pqxx::row& row : txn.exec_params(
           TrialSelect("WHERE t.search_id = $1 AND t.observed_seq IS NOT NULL "
                       "ORDER BY t.observed_seq"),
           search_id)) {
    out.observed.push_back(TrialFromRow(row));
  }
  return out;
}

absl::StatusOr<PolicySummary> ReadPolicySummary(pqxx::transaction_base& txn,
                                                int64_t search_id, int top) {
  NAS_RETURN_IF_ERROR(CheckSearchExists(txn, search_id));
  PolicySummary out;
  out.state = ReadState(txn, search_id);
  out.q_entries =
      txn.exec_params1("SELECT COUNT(*) FROM q_values WHERE search_id = $1",
                       search_id)[0]
          .as<int64_t>();
  for (const pqxx::row& row : txn.exec_params(
           "SELECT state, action, q, updates FROM q_values "
           "WHERE search_id = $1 ORDER BY q DESC, state, action LIMIT $2",
           search_id, top)) {
    out.q_top.push_back(QValueFromRow(row));
  }
  return out;
}

}  // namespace nas::controller
