#include "controller/store/pg_completions.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/pareto.h"
#include "common/status_macros.h"
#include "controller/store/pg_policy_tables.h"
#include "controller/store/pg_rows.h"
#include "nlohmann/json.hpp"

namespace nas::controller {
namespace {

// A reported trial's row as locked.
struct LockedTrial {
  v1::TrialState state = v1::TRIAL_STATE_UNSPECIFIED;
  std::optional<std::string> lease_id;
  std::optional<int64_t> worker_id;
  std::optional<int64_t> started_ms;
  std::string cache_key;
};

// Why a report does not complete its trial: a duplicate of one already
// recorded with this lease, or a lease that is no longer the trial's.
std::string RejectionDetail(int64_t trial_id, v1::TrialState state,
                            bool same_lease) {
  if (same_lease && state != v1::TRIAL_RUNNING) {
    return absl::StrCat("duplicate report: trial ", trial_id, " is already ",
                        v1::TrialState_Name(state),
                        "; the stored result stands");
  }
  return absl::StrCat(
      "stale report: the lease is not the current lease of "
      "trial ",
      trial_id, " (now ", v1::TrialState_Name(state), ")");
}

// The reported trials' rows, locked in id order (as every transaction that
// locks several trials does), by id.
absl::flat_hash_map<int64_t, LockedTrial> LockTrials(
    pqxx::transaction_base& txn, const std::vector<Completion>& reports) {
  std::vector<int64_t> ids;
  for (const Completion& c : reports) ids.push_back(c.trial_id);
  absl::flat_hash_map<int64_t, LockedTrial> rows;
  for (const pqxx::row& r : txn.exec_params(
           "SELECT id, state, lease_id, worker_id, started_ms, cache_key "
           "FROM trials WHERE id = ANY($1::BIGINT[]) ORDER BY id FOR UPDATE",
           absl::StrCat("{", absl::StrJoin(ids, ","), "}"))) {
    rows[r[0].as<int64_t>()] = LockedTrial{
        static_cast<v1::TrialState>(r[1].as<int>()),
        r[2].is_null() ? std::nullopt : std::optional(r[2].as<std::string>()),
        r[3].is_null() ? std::nullopt : std::optional(r[3].as<int64_t>()),
        r[4].is_null() ? std::nullopt : std::optional(r[4].as<int64_t>()),
        r[5].as<std::string>()};
  }
  return rows;
}

// The outcome of an accepted report as one row of the batch update.
nlohmann::json OutcomeRow(int64_t trial_id, const TrialOutcome& o) {
  const v1::Metrics& m = o.metrics;
  const bool ok = o.state == v1::TRIAL_SUCCEEDED;
  auto measured = [ok](double v) { return ok ? nlohmann::json(v) : nullptr; };
  return {{"id", trial_id},
          {"state", static_cast<int>(o.state)},
          {"metrics", absl::Base64Escape(m.SerializeAsString())},
          // The columns hold the figures of the model that ships (int8
          // when the search quantises): the front and the best accuracy
          // are computed from them.
          {"accuracy", measured(DeployedAccuracy(m))},
          {"macro_f1", measured(DeployedMacroF1(m))},
          {"params", m.params()},
          {"flash_bytes", m.flash_bytes()},
          {"peak_sram_bytes", m.peak_sram_bytes()},
          {"macs", m.macs()},
          {"latency_ms_estimate", m.latency_ms_estimate()},
          {"reward", measured(o.reward)},
          {"failure_reason", o.failure_reason}};
}

// Stores the accepted outcomes in one statement; the trials as completed,
// by id.
absl::flat_hash_map<int64_t, v1::Trial> StoreOutcomes(
    pqxx::transaction_base& txn, const std::vector<Completion>& reports,
    const std::vector<size_t>& accepted, absl::Time now) {
  nlohmann::json rows = nlohmann::json::array();
  for (size_t i : accepted) {
    const Completion& c = reports[i];
    if (!c.outcome.model.empty()) {  // Tens of kB: a statement of its own.
      txn.exec_params("UPDATE trials SET model = $2 WHERE id = $1", c.trial_id,
                      pqxx::binarystring(c.outcome.model));
    }
    if (!c.outcome.int8_model.empty()) {
      txn.exec_params("UPDATE trials SET int8_model = $2 WHERE id = $1",
                      c.trial_id, pqxx::binarystring(c.outcome.int8_model));
    }
    rows.push_back(OutcomeRow(c.trial_id, c.outcome));
  }
  absl::flat_hash_map<int64_t, v1::Trial> stored;
  for (const pqxx::row& r : txn.exec_params(
           absl::StrCat(R"sql(
UPDATE trials t SET state = r.state, metrics = decode(r.metrics, 'base64'),
  accuracy = r.accuracy, macro_f1 = r.macro_f1, params = r.params,
  flash_bytes = r.flash_bytes, peak_sram_bytes = r.peak_sram_bytes,
  macs = r.macs, latency_ms_estimate = r.latency_ms_estimate,
  reward = r.reward, failure_reason = r.failure_reason, finished_ms = $2,
  lease_expires_ms = NULL
FROM jsonb_to_recordset($1::jsonb) AS r(id BIGINT, state SMALLINT,
  metrics TEXT, accuracy DOUBLE PRECISION, macro_f1 DOUBLE PRECISION,
  params BIGINT, flash_bytes BIGINT, peak_sram_bytes BIGINT, macs BIGINT,
  latency_ms_estimate DOUBLE PRECISION, reward DOUBLE PRECISION,
  failure_reason TEXT)
WHERE t.id = r.id
RETURNING )sql",
                        kTrialColumns),
           rows.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
           Ms(now))) {
    v1::Trial trial = TrialFromRow(r);
    stored[trial.id()] = std::move(trial);
  }
  return stored;
}

// Enters the succeeded trials in the result cache, each key under its lock
// (which serialises it with InsertTrial's check of the key).
void CacheResults(pqxx::transaction_base& txn,
                  const std::vector<std::pair<std::string, int64_t>>& results,
                  absl::Time now) {
  if (results.empty()) return;
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& [key, trial_id] : results) {
    rows.push_back({{"key", key}, {"id", trial_id}});
  }
  const std::string json = rows.dump();
  txn.exec_params(
      "SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM "
      "(SELECT r.key AS k FROM jsonb_to_recordset($1::jsonb) AS r(key TEXT) "
      "ORDER BY 1) keys",
      json);
  txn.exec_params(
      "INSERT INTO result_cache (cache_key, trial_id, created_ms) "
      "SELECT r.key, r.id, $2 FROM jsonb_to_recordset($1::jsonb) "
      "AS r(key TEXT, id BIGINT) ON CONFLICT (cache_key) DO NOTHING",
      json, Ms(now));
}

// Fails the RUNNING search of a trial that failed on its data set, with
// the reason, and cancels its queued trials (locked in id order, as the
// lease statement locks them). Returns whether this call failed it.
bool FailSearchOnDataError(pqxx::transaction_base& txn, int64_t search_id,
                           const std::string& reason, absl::Time now) {
  const std::string message = absl::StrCat("data: ", reason);
  if (txn.exec_params("UPDATE searches SET state = 4, message = $2, "
                      "finished_ms = $3 WHERE id = $1 AND state = 2 "
                      "RETURNING id",
                      search_id, message, Ms(now))
          .empty()) {
    return false;
  }
  txn.exec_params(
      "UPDATE trials t SET state = 7, finished_ms = $2, failure_reason = $3 "
      "FROM (SELECT id FROM trials WHERE search_id = $1 AND state = 1 "
      "      ORDER BY id FOR UPDATE) p "
      "WHERE t.id = p.id AND t.state = 1",
      search_id, Ms(now), absl::StrCat("search failed: ", message));
  return true;
}

}  // namespace

absl::StatusOr<std::vector<absl::StatusOr<CompletionResult>>> CompleteTrialsIn(
    pqxx::transaction_base& txn, const std::vector<Completion>& reports,
    absl::Time now, const PolicyObserver& observe) {
  std::vector<absl::StatusOr<CompletionResult>> out;
  if (reports.empty()) return out;
  absl::flat_hash_map<int64_t, LockedTrial> rows = LockTrials(txn, reports);
  std::vector<size_t> accepted;
  for (size_t i = 0; i < reports.size(); ++i) {
    const Completion& c = reports[i];
    auto it = rows.find(c.trial_id);
    if (it == rows.end()) {
      out.push_back(absl::NotFoundError(
          absl::StrCat("trial ", c.trial_id, " not found")));
      continue;
    }
    LockedTrial& row = it->second;
    const bool same_lease =
        row.lease_id == c.lease_id && row.worker_id == c.worker_id;
    if (row.state != v1::TRIAL_RUNNING || !same_lease) {
      out.push_back(CompletionResult{
          false, RejectionDetail(c.trial_id, row.state, same_lease)});
      continue;
    }
    row.state = c.outcome.state;  // A later report of it is a duplicate.
    accepted.push_back(i);
    out.push_back(CompletionResult{true});
  }
  if (accepted.empty()) return out;
  absl::flat_hash_map<int64_t, v1::Trial> stored =
      StoreOutcomes(txn, reports, accepted, now);
  std::vector<std::pair<std::string, int64_t>> results;
  for (size_t i : accepted) {
    const Completion& c = reports[i];
    auto it = stored.find(c.trial_id);
    if (it == stored.end()) {
      return absl::InternalError(
          absl::StrCat("trial ", c.trial_id, " vanished while recorded"));
    }
    // Before the cache keys' locks: locks go trial, search, cache key.
    NAS_RETURN_IF_ERROR(ObserveFinalTrial(txn, it->second, observe, now));
    const LockedTrial& row = rows[c.trial_id];
    if (c.outcome.state == v1::TRIAL_SUCCEEDED) {
      results.emplace_back(row.cache_key, c.trial_id);
    }
    CompletionResult& result = *out[i];
    result.trial = it->second;
    result.duration_seconds =
        (Ms(now) - row.started_ms.value_or(Ms(now))) / 1000.0;
    // Locks go trial, search: the search row after its trial's.
    if (c.outcome.state == v1::TRIAL_FAILED && c.outcome.data_error) {
      result.search_failed = FailSearchOnDataError(
          txn, result.trial.search_id(), c.outcome.failure_reason, now);
    }
  }
  CacheResults(txn, results, now);
  return out;
}

}  // namespace nas::controller
