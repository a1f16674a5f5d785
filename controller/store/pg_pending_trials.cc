#include "controller/store/pg_pending_trials.h"

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "controller/store/pg_rows.h"
#include "nlohmann/json.hpp"

namespace nas::controller {
namespace {

// The keys of `keys` that are trained (in the result cache) or in flight
// (a PENDING or RUNNING trial has them), after locking every key in a
// fixed order: the lock serialises a key's check here with the recording of
// its result (CompleteTrials) and with other inserts.
absl::flat_hash_set<std::string> LockAndFindTaken(
    pqxx::transaction_base& txn, const nlohmann::json& keys) {
  const std::string json = keys.dump();
  txn.exec_params(
      "SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM "
      "(SELECT k FROM jsonb_array_elements_text($1::jsonb) AS k ORDER BY 1) "
      "keys",
      json);
  absl::flat_hash_set<std::string> taken;
  // Index probes for the keys (`= ANY` of an array): written as EXISTS per
  // key, the planner chose hashed subplans, reading all of result_cache and
  // every in-flight entry of trials for each batch, a cost that grew with
  // the search.
  for (const pqxx::row& r : txn.exec_params(R"sql(
WITH keys AS (SELECT ARRAY(SELECT jsonb_array_elements_text($1::jsonb)) AS a)
SELECT c.cache_key FROM result_cache c, keys WHERE c.cache_key = ANY(keys.a)
UNION
SELECT t.cache_key FROM trials t, keys
WHERE t.cache_key = ANY(keys.a) AND t.state IN (1, 2))sql",
                                            json)) {
    taken.insert(r[0].as<std::string>());
  }
  return taken;
}

nlohmann::json TrialRow(const NewTrial& t, int number, absl::Time now) {
  const v1::Metrics& m = t.metrics;
  return {{"number", number},
          {"arch", absl::Base64Escape(t.architecture.SerializeAsString())},
          {"arch_hash", t.arch_hash},
          {"cache_key", t.cache_key},
          {"metrics", absl::Base64Escape(m.SerializeAsString())},
          {"params", m.params()},
          {"flash_bytes", m.flash_bytes()},
          {"peak_sram_bytes", m.peak_sram_bytes()},
          {"macs", m.macs()},
          {"latency_ms_estimate", m.latency_ms_estimate()},
          {"created_ms", Ms(now)}};
}

}  // namespace

absl::StatusOr<std::vector<absl::StatusOr<v1::Trial>>> InsertPendingTrialsIn(
    pqxx::transaction_base& txn, const std::vector<NewTrial>& trials,
    absl::Time now) {
  std::vector<absl::StatusOr<v1::Trial>> out;
  if (trials.empty()) return out;
  const int64_t search_id = trials.front().search_id;
  for (const NewTrial& t : trials) {
    if (t.search_id != search_id || t.state != v1::TRIAL_PENDING) {
      return absl::InternalError("a batch of new trials must all be PENDING "
                                 "candidates of one search");
    }
  }
  NAS_RETURN_IF_ERROR(LockRunningSearch(txn, search_id));
  nlohmann::json keys = nlohmann::json::array();
  for (const NewTrial& t : trials) keys.push_back(t.cache_key);
  const absl::flat_hash_set<std::string> taken = LockAndFindTaken(txn, keys);
  // Which trials go in; a key twice in the batch is in flight the second
  // time.
  absl::flat_hash_set<std::string> queued;
  std::vector<size_t> inserted;
  for (size_t i = 0; i < trials.size(); ++i) {
    const NewTrial& t = trials[i];
    if (taken.contains(t.cache_key)) {
      out.push_back(absl::AlreadyExistsError(
          "this network was already trained or is being trained"));
    } else if (!queued.insert(t.cache_key).second) {
      out.push_back(
          absl::AlreadyExistsError("this network is already being trained"));
    } else {
      out.push_back(absl::UnknownError("not inserted"));
      inserted.push_back(i);
    }
  }
  if (inserted.empty()) return out;
  int number = TakeTrialNumbers(txn, search_id,
                                static_cast<int>(inserted.size()), false);
  absl::flat_hash_map<int, size_t> by_number;
  nlohmann::json rows = nlohmann::json::array();
  for (size_t i : inserted) {
    by_number[number] = i;
    rows.push_back(TrialRow(trials[i], number++, now));
  }
  for (const pqxx::row& r : txn.exec_params(absl::StrCat(R"sql(
INSERT INTO trials AS t (search_id, number, state, arch, arch_hash, cache_key,
  metrics, params, flash_bytes, peak_sram_bytes, macs, latency_ms_estimate,
  created_ms)
SELECT $2, r.number, 1, decode(r.arch, 'base64'), r.arch_hash, r.cache_key,
  decode(r.metrics, 'base64'), r.params, r.flash_bytes, r.peak_sram_bytes,
  r.macs, r.latency_ms_estimate, r.created_ms
FROM jsonb_to_recordset($1::jsonb) AS r(number INTEGER, arch TEXT,
  arch_hash TEXT, cache_key TEXT, metrics TEXT, params BIGINT,
  flash_bytes BIGINT, peak_sram_bytes BIGINT, macs BIGINT,
  latency_ms_estimate DOUBLE PRECISION, created_ms BIGINT)
ORDER BY r.number
RETURNING )sql",
                                                         kTrialColumns),
                                            rows.dump(), search_id)) {
    v1::Trial stored = TrialFromRow(r);
    out[by_number.at(stored.number())] = std::move(stored);
  }
  return out;
}

}  // namespace nas::controller
