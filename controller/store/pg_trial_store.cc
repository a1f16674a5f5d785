// The controller's SQL lives in this file and its siblings in
// controller/store/ (pg_schema.cc: the migrations; pg_policy_tables.cc: the
// policy tables; pg_worker_calls.cc: what the workers' calls do: register,
// lease, heartbeat, report, and the leases' expiry). Statements are parameterised ($1, $2, ...) only; libpqxx
// exceptions never leave the store.
#include "controller/store/pg_trial_store.h"

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/pareto.h"
#include "common/status_macros.h"
#include "controller/store/pg_pending_trials.h"
#include "controller/store/pg_policy_tables.h"
#include "controller/store/pg_rows.h"
#include "controller/store/pg_schema.h"
#include "controller/store/pg_transact.h"
#include "google/protobuf/util/json_util.h"
#include "nlohmann/json.hpp"
#include "pqxx/pqxx"

namespace nas::controller {
namespace {

// Any number; identifies the migration lock among advisory locks.
constexpr int64_t kMigrationLockKey = 0x74696e796e6173;  // "tinynas"
// Workers' lease calls leased in one statement at most.
constexpr size_t kMaxLeaseBatch = 512;

std::optional<double> Measured(const NewTrial& t, double value) {
  if (t.state != v1::TRIAL_CACHED) return std::nullopt;
  return value;
}

// The counters of final trials and the best trial come from the search's
// row of search_counters (kept by the triggers of schema migration 4);
// PENDING and RUNNING trials are few and counted through
// trials_search_queue_idx. So reading a search costs the same whatever the
// number of its trials.
constexpr char kSearchSelect[] = R"sql(
SELECT s.id, s.name, s.state, s.spec, s.created_ms, s.started_ms,
       s.finished_ms, s.message, s.infeasible_streak, s.max_trials,
       (SELECT COUNT(*) FROM trials t WHERE t.search_id = s.id AND t.state = 1),
       (SELECT COUNT(*) FROM trials t WHERE t.search_id = s.id AND t.state = 2),
       c.n_succeeded, c.n_failed, c.n_infeasible, c.n_cached, c.n_cancelled,
       CASE WHEN c.n_succeeded > 0
            THEN c.succeeded_ms::DOUBLE PRECISION / c.n_succeeded END,
       c.best_accuracy, c.best_trial_id, c.best_reward
FROM searches s JOIN search_counters c ON c.search_id = s.id
)sql";

SearchRecord SearchFromRow(const pqxx::row& r) {
  SearchRecord rec;
  v1::Search& s = rec.search;
  s.set_id(r[0].as<int64_t>());
  s.set_name(r[1].as<std::string>());
  s.set_state(static_cast<v1::SearchState>(r[2].as<int>()));
  *s.mutable_spec() = ParseBytes<v1::SearchSpec>(r[3], "search spec");
  s.set_created_unix_ms(r[4].as<int64_t>());
  s.set_started_unix_ms(Get<int64_t>(r[5]));
  s.set_finished_unix_ms(Get<int64_t>(r[6]));
  s.set_message(r[7].as<std::string>());
  rec.infeasible_streak = r[8].as<int32_t>();
  s.set_trials_total(r[9].as<int32_t>());
  s.set_trials_pending(r[10].as<int32_t>());
  s.set_trials_running(r[11].as<int32_t>());
  rec.succeeded = r[12].as<int32_t>();
  s.set_trials_failed(r[13].as<int32_t>());
  s.set_trials_infeasible(r[14].as<int32_t>());
  s.set_trials_cached(r[15].as<int32_t>());
  rec.cancelled = r[16].as<int32_t>();
  s.set_trials_done(rec.succeeded + s.trials_failed() + s.trials_cached());
  rec.mean_trial_seconds = r[17].is_null() ? -1 : r[17].as<double>() / 1000;
  s.set_best_accuracy(Get<double>(r[18]));
  s.set_best_trial_id(Get<int64_t>(r[19]));
  s.set_best_reward(Get<double>(r[20]));
  s.set_eta_seconds(-1);
  return rec;
}

// Serialises everything about one cache key (insert-if-new vs. result).
void LockCacheKey(pqxx::transaction_base& txn, const std::string& key) {
  txn.exec_params("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", key);
}

}  // namespace

absl::StatusOr<std::unique_ptr<PgTrialStore>> PgTrialStore::Create(
    const std::string& uri, int max_connections) {
  NAS_ASSIGN_OR_RETURN(std::unique_ptr<PgConnectionPool> pool,
                       PgConnectionPool::Create(uri, max_connections));
  return std::unique_ptr<PgTrialStore>(new PgTrialStore(std::move(pool)));
}

PgTrialStore::PgTrialStore(std::unique_ptr<PgConnectionPool> pool)
    : pool_(std::move(pool)),
      leases_(GroupCommit<LeaseRequest>::TakeUpTo(kMaxLeaseBatch),
              [this](const std::vector<LeaseRequest*>& batch) {
                LeaseBatch(batch);
              }) {}

PgTrialStore::~PgTrialStore() = default;

absl::Status PgTrialStore::Migrate() {
  NAS_ASSIGN_OR_RETURN(PgConnectionPool::Handle conn, pool_->Acquire());
  int known = 0;
  int applied = 0;
  try {
    pqxx::nontransaction(conn.get())
        .exec_params("SELECT pg_advisory_lock($1)", kMigrationLockKey);
    {
      pqxx::work txn(conn.get());
      txn.exec(R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
  version    INTEGER PRIMARY KEY,
  name       TEXT NOT NULL,
  applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
))sql");
      txn.commit();
    }
    for (const Migration& m : SchemaMigrations()) {
      known = m.version;
      pqxx::work txn(conn.get());
      if (!txn.exec_params("SELECT 1 FROM schema_migrations WHERE version = $1",
                           m.version)
               .empty()) {
        continue;
      }
      txn.exec(m.sql);
      txn.exec_params(
          "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
          m.version, std::string(m.name));
      txn.commit();
      LOG(INFO) << "applied schema migration " << m.version << " (" << m.name
                << ")";
    }
    pqxx::nontransaction done(conn.get());
    applied = done.exec1(
                      "SELECT COALESCE(MAX(version), 0) FROM "
                      "schema_migrations")[0]
                  .as<int>();
    done.exec_params("SELECT pg_advisory_unlock($1)", kMigrationLockKey);
  } catch (...) {
    conn.Discard();  // Also drops the session's advisory lock.
    return StatusFromCurrentException("applying schema migrations");
  }
  if (applied > known) {
    return absl::FailedPreconditionError(
        absl::StrCat("database schema version ", applied,
                     " is newer than this controller knows (", known, ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<int> PgTrialStore::SchemaVersion() {
  return Transact<int>(
      "reading schema version", [](pqxx::transaction_base& txn) {
        pqxx::row r = txn.exec1(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
        return r[0].as<int>();
      });
}

absl::StatusOr<int64_t> PgTrialStore::CreateSearch(const v1::SearchSpec& spec,
                                                   absl::Time now) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  if (!google::protobuf::util::MessageToJsonString(spec, &json, options).ok()) {
    return absl::InternalError("cannot render the search spec as JSON");
  }
  const std::string device =
      spec.device().empty() ? spec.custom_device().name() : spec.device();
  return Transact<int64_t>("creating search", [&](pqxx::transaction_base& txn) {
    pqxx::row r = txn.exec_params1(
        R"sql(
WITH s AS (
  INSERT INTO searches (name, state, spec, spec_json, seed, policy, device,
                        dataset, max_trials, max_attempts, max_infeasible,
                        max_duration_s, created_ms, started_ms)
  VALUES ($1, 2, $2, $3::jsonb, $4::numeric, $5, $6, $7, $8, $9, $10, $11,
          $12, $12)
  RETURNING id)
INSERT INTO search_counters (search_id) SELECT id FROM s
RETURNING search_id)sql",
        spec.name(), pqxx::binarystring(spec.SerializeAsString()), json,
        std::to_string(spec.seed()), spec.policy(), device,
        spec.dataset().name(), spec.budget().max_trials(),
        spec.budget().max_attempts(), spec.budget().max_infeasible(),
        spec.budget().max_duration_s(), Ms(now));
    return r[0].as<int64_t>();
  });
}

absl::StatusOr<SearchRecord> PgTrialStore::GetSearch(int64_t search_id) {
  return Transact<SearchRecord>(
      "reading search",
      [&](pqxx::transaction_base& txn) -> absl::StatusOr<SearchRecord> {
        pqxx::result r = txn.exec_params(
            absl::StrCat(kSearchSelect, "WHERE s.id = $1"), search_id);
        if (r.empty()) return NoSuchSearch(search_id);
        return SearchFromRow(r[0]);
      });
}

absl::StatusOr<std::vector<SearchRecord>> PgTrialStore::ListSearches(
    int limit) {
  return Transact<std::vector<SearchRecord>>(
      "listing searches", [&](pqxx::transaction_base& txn) {
        std::vector<SearchRecord> out;
        for (const pqxx::row& row : txn.exec_params(
                 absl::StrCat(kSearchSelect, "ORDER BY s.id DESC LIMIT $1"),
                 limit)) {
          out.push_back(SearchFromRow(row));
        }
        return out;
      });
}

absl::StatusOr<std::vector<int64_t>> PgTrialStore::RunningSearchIds() {
  return Transact<std::vector<int64_t>>(
      "listing running searches", [&](pqxx::transaction_base& txn) {
        std::vector<int64_t> ids;
        for (const pqxx::row& row :
             txn.exec("SELECT id FROM searches WHERE state = 2 ORDER BY id")) {
          ids.push_back(row[0].as<int64_t>());
        }
        return ids;
      });
}

absl::StatusOr<int64_t> PgTrialStore::ReserveProposals(int64_t search_id,
                                                       int count) {
  return Transact<int64_t>(
      "reserving proposals",
      [&](pqxx::transaction_base& txn) -> absl::StatusOr<int64_t> {
        pqxx::result r = txn.exec_params(
            "UPDATE searches SET proposals = proposals + $2 WHERE id = $1 "
            "RETURNING proposals - $2",
            search_id, count);
        if (r.empty()) return NoSuchSearch(search_id);
        return r[0][0].as<int64_t>();
      });
}

namespace {
// The rows are locked in id order, as the lease statement locks them: two
// statements that lock many of the same PENDING rows in different orders
// deadlock (seen with a deep queue being cancelled while leases ran).
int CancelPending(pqxx::transaction_base& txn, int64_t search_id,
                  absl::Time now, const std::string& reason) {
  return txn
      .exec_params(
          "UPDATE trials t SET state = 7, finished_ms = $2, failure_reason = $3 "
          "FROM (SELECT id FROM trials WHERE search_id = $1 AND state = 1 "
          "      ORDER BY id FOR UPDATE) p "
          "WHERE t.id = p.id AND t.state = 1",
          search_id, Ms(now), reason)
      .affected_rows();
}
}  // namespace

absl::StatusOr<bool> PgTrialStore::FinishSearch(int64_t search_id,
                                                v1::SearchState state,
                                                const std::string& message,
                                                absl::Time now) {
  return Transact<bool>("finishing search", [&](pqxx::transaction_base& txn) {
    pqxx::result r = txn.exec_params(
        "UPDATE searches SET state = $2, message = $3, finished_ms = $4 "
        "WHERE id = $1 AND state = 2 RETURNING id",
        search_id, static_cast<int>(state), message, Ms(now));
    if (r.empty()) return false;
    CancelPending(txn, search_id, now, "search finished");
    return true;
  });
}

absl::Status PgTrialStore::CancelSearch(int64_t search_id, absl::Time now) {
  return Transact<bool>(
             "cancelling search",
             [&](pqxx::transaction_base& txn) -> absl::StatusOr<bool> {
               pqxx::result r = txn.exec_params(
                   "SELECT state FROM searches WHERE id = $1 FOR UPDATE",
                   search_id);
               if (r.empty()) return NoSuchSearch(search_id);
               const auto state =
                   static_cast<v1::SearchState>(r[0][0].as<int>());
               if (state == v1::SEARCH_CANCELLED) return true;
               if (state == v1::SEARCH_SUCCEEDED ||
                   state == v1::SEARCH_FAILED) {
                 return absl::FailedPreconditionError(
                     absl::StrCat("search ", search_id, " already ",
                                  v1::SearchState_Name(state)));
               }
               txn.exec_params(
                   "UPDATE searches SET state = 5, finished_ms = $2, "
                   "message = 'cancelled by request' WHERE id = $1",
                   search_id, Ms(now));
               CancelPending(txn, search_id, now, "search cancelled");
               return true;
             })
      .status();
}

absl::StatusOr<int> PgTrialStore::CancelPendingTrials(int64_t search_id,
                                                      absl::Time now) {
  return Transact<int>(
      "cancelling pending trials", [&](pqxx::transaction_base& txn) {
        return CancelPending(txn, search_id, now, "search time budget reached");
      });
}

namespace {
// For a new PENDING trial: kAlreadyExists when the key is trained or in
// flight. The caller holds the key's lock.
absl::Status CheckNotTrained(pqxx::transaction_base& txn,
                             const std::string& key) {
  if (!txn.exec_params("SELECT 1 FROM result_cache WHERE cache_key = $1", key)
           .empty()) {
    return absl::AlreadyExistsError("this network was already trained");
  }
  if (!txn.exec_params(
              "SELECT 1 FROM trials WHERE cache_key = $1 AND state IN (1, 2)",
              key)
           .empty()) {
    return absl::AlreadyExistsError("this network is already being trained");
  }
  return absl::OkStatus();
}

// Inserts the row and returns the stored trial.
v1::Trial InsertTrialRow(pqxx::transaction_base& txn, const NewTrial& t,
                         int number, absl::Time now) {
  const v1::Metrics& m = t.metrics;
  const bool terminal = t.state != v1::TRIAL_PENDING;
  pqxx::row r = txn.exec_params1(
      absl::StrCat(R"sql(
INSERT INTO trials AS t (search_id, number, state, arch, arch_hash, cache_key,
                    metrics, accuracy, macro_f1, params, flash_bytes,
                    peak_sram_bytes, macs, latency_ms_estimate, reward,
                    violations, cached_from, created_ms, finished_ms)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
        $16::jsonb, $17, $18, $19)
RETURNING )sql",
                   kTrialColumns),
      t.search_id, number, static_cast<int>(t.state),
      pqxx::binarystring(t.architecture.SerializeAsString()), t.arch_hash,
      t.cache_key, pqxx::binarystring(m.SerializeAsString()),
      Measured(t, DeployedAccuracy(m)), Measured(t, DeployedMacroF1(m)),
      m.params(),
      m.flash_bytes(), m.peak_sram_bytes(), m.macs(), m.latency_ms_estimate(),
      Measured(t, t.reward), nlohmann::json(t.violations).dump(),
      t.cached_from > 0 ? std::optional<int64_t>(t.cached_from) : std::nullopt,
      Ms(now), terminal ? std::optional<int64_t>(Ms(now)) : std::nullopt);
  return TrialFromRow(r);
}
}  // namespace

absl::StatusOr<v1::Trial> PgTrialStore::InsertTrial(
    const NewTrial& trial, absl::Time now, const PolicyObserver& observe) {
  absl::StatusOr<v1::Trial> stored = Transact<v1::Trial>(
      "storing trial",
      [&](pqxx::transaction_base& txn) -> absl::StatusOr<v1::Trial> {
        NAS_RETURN_IF_ERROR(LockRunningSearch(txn, trial.search_id));
        if (trial.state == v1::TRIAL_PENDING) {
          LockCacheKey(txn, trial.cache_key);
          NAS_RETURN_IF_ERROR(CheckNotTrained(txn, trial.cache_key));
        }
        const int number = TakeTrialNumbers(
            txn, trial.search_id, 1, trial.state == v1::TRIAL_INFEASIBLE);
        v1::Trial stored = InsertTrialRow(txn, trial, number, now);
        if (trial.state != v1::TRIAL_PENDING) {
          NAS_RETURN_IF_ERROR(ObserveFinalTrial(txn, stored, observe, now));
        }
        return stored;
      });
  if (stored.ok() && stored->state() == v1::TRIAL_PENDING) {
    pending_.Add({stored->id()});
  }
  return stored;
}

absl::StatusOr<std::vector<absl::StatusOr<v1::Trial>>>
PgTrialStore::InsertPendingTrials(const std::vector<NewTrial>& trials,
                                  absl::Time now) {
  using Stored = std::vector<absl::StatusOr<v1::Trial>>;
  absl::StatusOr<Stored> stored =
      Transact<Stored>("queueing trials", [&](pqxx::transaction_base& txn) {
        return InsertPendingTrialsIn(txn, trials, now);
      });
  if (stored.ok()) {
    std::vector<int64_t> ids;
    for (const absl::StatusOr<v1::Trial>& t : *stored) {
      if (t.ok()) ids.push_back(t->id());
    }
    pending_.Add(ids);
  }
  return stored;
}

absl::StatusOr<std::optional<v1::Trial>> PgTrialStore::FindCachedResult(
    const std::string& cache_key) {
  return Transact<std::optional<v1::Trial>>(
      "looking up result cache",
      [&](pqxx::transaction_base& txn)
          -> absl::StatusOr<std::optional<v1::Trial>> {
        pqxx::result r = txn.exec_params(
            TrialSelect("JOIN result_cache c ON c.trial_id = t.id "
                        "WHERE c.cache_key = $1"),
            cache_key);
        if (r.empty()) return std::nullopt;
        return TrialFromRow(r[0]);
      });
}

absl::StatusOr<v1::Trial> PgTrialStore::GetTrial(int64_t trial_id) {
  return Transact<v1::Trial>(
      "reading trial",
      [&](pqxx::transaction_base& txn) -> absl::StatusOr<v1::Trial> {
        pqxx::result r =
            txn.exec_params(TrialSelect("WHERE t.id = $1"), trial_id);
        if (r.empty()) {
          return absl::NotFoundError(
              absl::StrCat("trial ", trial_id, " not found"));
        }
        return TrialFromRow(r[0]);
      });
}

absl::StatusOr<std::vector<v1::Trial>> PgTrialStore::ListTrials(
    int64_t search_id, v1::TrialState state) {
  return Transact<std::vector<v1::Trial>>(
      "listing trials", [&](pqxx::transaction_base& txn) {
        std::vector<v1::Trial> out;
        for (const pqxx::row& row : txn.exec_params(
                 TrialSelect(
                     "WHERE t.search_id = $1 AND ($2 = 0 OR t.state = $2) "
                     "ORDER BY t.number"),
                 search_id, static_cast<int>(state))) {
          out.push_back(TrialFromRow(row));
        }
        return out;
      });
}

absl::StatusOr<FrontCandidatePage> PgTrialStore::ListFrontCandidates(
    int64_t search_id, int after_number, int limit) {
  return Transact<FrontCandidatePage>(
      "listing front candidates",
      [&](pqxx::transaction_base& txn) -> absl::StatusOr<FrontCandidatePage> {
        // Keyset pages along the (search_id, number) unique index. The
        // metrics blob holds what the columns do not (macro-F1 of both
        // models, arena, spreads).
        FrontCandidatePage page;
        for (const pqxx::row& r : txn.exec_params(
                 "SELECT number, state, arch_hash, metrics FROM trials "
                 "WHERE search_id = $1 AND number > $2 AND state IN (3, 6) "
                 "ORDER BY number LIMIT $3",
                 search_id, after_number, limit)) {
          v1::Trial& t = page.trials.emplace_back();
          t.set_number(r[0].as<int>());
          t.set_state(static_cast<v1::TrialState>(r[1].as<int>()));
          t.set_arch_hash(r[2].as<std::string>());
          if (!t.mutable_metrics()->ParseFromString(Bytes(r[3]))) {
            return absl::DataLossError(
                absl::StrCat("search ", search_id, ", trial number ",
                             t.number(), ": stored metrics are corrupt"));
          }
          page.last_number = t.number();
        }
        return page;
      });
}

absl::StatusOr<std::string> PgTrialStore::GetModel(int64_t trial_id,
                                                   v1::ModelFormat format) {
  const bool int8 = format == v1::INT8;
  return Transact<std::string>(
      "reading model",
      [&](pqxx::transaction_base& txn) -> absl::StatusOr<std::string> {
        pqxx::result r = txn.exec_params(
            int8 ? "SELECT COALESCE(t.int8_model, m.int8_model), t.state "
                   "FROM trials t LEFT JOIN trials m ON m.id = t.cached_from "
                   "WHERE t.id = $1"
                 : "SELECT COALESCE(t.model, m.model), t.state FROM trials t "
                   "LEFT JOIN trials m ON m.id = t.cached_from WHERE t.id = $1",
            trial_id);
        if (r.empty()) {
          return absl::NotFoundError(
              absl::StrCat("trial ", trial_id, " not found"));
        }
        if (r[0][0].is_null()) {
          const auto state = static_cast<v1::TrialState>(r[0][1].as<int>());
          if (int8 && (state == v1::TRIAL_SUCCEEDED ||
                       state == v1::TRIAL_CACHED)) {
            return absl::FailedPreconditionError(absl::StrCat(
                "trial ", trial_id,
                " has no int8 model (its search ran with quantize: none, or "
                "its quantisation failed: see its notes)"));
          }
          return absl::FailedPreconditionError(
              absl::StrCat("trial ", trial_id, " has no trained model (",
                           v1::TrialState_Name(state), ")"));
        }
        return Bytes(r[0][0]);
      });
}

absl::StatusOr<StoredPolicy> PgTrialStore::LoadPolicy(int64_t search_id) {
  return Transact<StoredPolicy>(
      "loading search policy", [&](pqxx::transaction_base& txn) {
        BeginSnapshot(txn);
        return ReadStoredPolicy(txn, search_id);
      });
}

absl::StatusOr<PolicySummary> PgTrialStore::GetPolicySummary(
    int64_t search_id, int top) {
  return Transact<PolicySummary>(
      "reading search policy", [&](pqxx::transaction_base& txn) {
        BeginSnapshot(txn);
        return ReadPolicySummary(txn, search_id, top);
      });
}

}  // namespace nas::controller
