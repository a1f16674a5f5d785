// PgTrialStore's side of the workers' calls: registration, slot counts,
// the pending index, leases (one group-committed statement for many lease
// calls), heartbeats, reports, and the expiry and extension of leases. The
// searches, trials and models are in pg_trial_store.cc. Statements are
// parameterised only; libpqxx exceptions never leave the store.
#include <algorithm>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "controller/store/pg_completions.h"
#include "controller/store/pg_leases.h"
#include "controller/store/pg_pending_trials.h"
#include "controller/store/pg_rows.h"
#include "controller/store/pg_transact.h"
#include "controller/store/pg_trial_store.h"
#include "nlohmann/json.hpp"
#include "pqxx/pqxx"

namespace nas::controller {

absl::StatusOr<int64_t> PgTrialStore::RegisterWorker(const WorkerInfo& worker,
                                                     absl::Time now) {
  return Transact<int64_t>("registering worker",
                           [&](pqxx::transaction_base& txn) {
                             pqxx::row r = txn.exec_params1(
                                 R"sql(
INSERT INTO workers (name, device, slots, memory_bytes, registered_ms,
                     last_seen_ms)
VALUES ($1, $2, $3, $4, $5, $5)
ON CONFLICT (name) DO UPDATE SET device = EXCLUDED.device,
  slots = EXCLUDED.slots, memory_bytes = EXCLUDED.memory_bytes,
  last_seen_ms = EXCLUDED.last_seen_ms
RETURNING id)sql",
                                 worker.name, worker.device, worker.slots,
                                 worker.memory_bytes, Ms(now));
                             return r[0].as<int64_t>();
                           });
}

absl::StatusOr<WorkerInfo> PgTrialStore::GetWorker(int64_t worker_id) {
  return Transact<WorkerInfo>(
      "reading worker",
      [&](pqxx::transaction_base& txn) -> absl::StatusOr<WorkerInfo> {
        pqxx::result r = txn.exec_params(
            "SELECT id, name, device, slots, memory_bytes FROM workers "
            "WHERE id = $1",
            worker_id);
        if (r.empty()) {
          return absl::NotFoundError(absl::StrCat(
              "worker ", worker_id, " is not registered; register first"));
        }
        return WorkerInfo{r[0][0].as<int64_t>(), r[0][1].as<std::string>(),
                          r[0][2].as<std::string>(), r[0][3].as<int32_t>(),
                          r[0][4].as<int64_t>()};
      });
}

absl::StatusOr<SlotCounts> PgTrialStore::CountSlots(absl::Time seen_since) {
  return Transact<SlotCounts>(
      "counting worker slots", [&](pqxx::transaction_base& txn) {
        pqxx::row r = txn.exec_params1(
            R"sql(
SELECT COALESCE(SUM(w.slots), 0),
       (SELECT COUNT(*) FROM trials t JOIN workers v ON v.id = t.worker_id
        WHERE t.state = 2 AND v.last_seen_ms >= $1)
FROM workers w WHERE w.last_seen_ms >= $1)sql",
            Ms(seen_since));
        return SlotCounts{r[0].as<int32_t>(), r[1].as<int32_t>()};
      });
}

absl::Status PgTrialStore::LoadPendingIndex(absl::Time now) {
  if (!pending_.NeedsLoad(now)) return absl::OkStatus();
  NAS_ASSIGN_OR_RETURN(
      std::vector<int64_t> ids,
      Transact<std::vector<int64_t>>(
          "reading the queue", [&](pqxx::transaction_base& txn) {
            std::vector<int64_t> out;
            for (const pqxx::row& r :
                 txn.exec("SELECT id FROM trials WHERE state = 1")) {
              out.push_back(r[0].as<int64_t>());
            }
            return out;
          }));
  pending_.Load(ids, now);
  return absl::OkStatus();
}

bool PgTrialStore::MayHaveQueuedTrials(absl::Time now) {
  return pending_.NeedsLoad(now) || !pending_.empty();
}

// A worker's lease call waiting in the group commit of leases; `result` is
// written by the committing thread.
struct PgTrialStore::LeaseRequest {
  LeaseClaim claim;  // Its lease ids as given; LeaseBatch fills the trials.
  absl::StatusOr<std::vector<LeasedTrial>> result =
      absl::UnknownError("not leased");
};

absl::StatusOr<std::vector<LeasedTrial>> PgTrialStore::LeaseTrials(
    int64_t worker_id, const std::vector<std::string>& lease_ids,
    absl::Time now, absl::Time expires) {
  LeaseRequest request;
  request.claim = LeaseClaim{worker_id, {}, lease_ids, now, expires};
  leases_.Submit(&request);
  return std::move(request.result);
}

void PgTrialStore::LeaseBatch(const std::vector<LeaseRequest*>& batch) {
  // Read here, by the one thread that leases, so that no trial a batch has
  // claimed and not yet leased can be read back into pending_ as PENDING.
  const absl::Status loaded = LoadPendingIndex(batch.front()->claim.now);
  if (!loaded.ok()) {
    for (LeaseRequest* r : batch) r->result = loaded;
    return;
  }
  // Each call claims its trials from pending_ (oldest first, in call
  // order); the statement leases at most each worker's slots of them, and
  // what it does not lease goes back. Take removes what it returns, so a
  // trial is claimed by one call only.
  std::vector<LeaseClaim> claims;
  std::vector<int64_t> claimed;
  for (LeaseRequest* r : batch) {
    LeaseClaim& c = r->claim;
    c.trial_ids = pending_.Take(c.lease_ids.size());
    c.lease_ids.resize(c.trial_ids.size());
    claimed.insert(claimed.end(), c.trial_ids.begin(), c.trial_ids.end());
    claims.push_back(c);
  }
  // Asynchronous commit: a lease lost in a database crash only makes its
  // worker's report stale (the trial is leased again later), and a report's
  // synchronous commit flushes the WAL of its lease first, so every result
  // acknowledged is durable with its lease.
  absl::StatusOr<LeaseGrants> grants = Transact<LeaseGrants>(
      "leasing trials",
      [&](pqxx::transaction_base& txn) -> absl::StatusOr<LeaseGrants> {
        txn.exec("SET LOCAL synchronous_commit TO OFF");
        return LeaseClaimedIn(txn, claims);
      });
  std::vector<int64_t> back;  // Not attempted: still PENDING.
  for (int64_t id : claimed) {
    if (!grants.ok() || !grants->attempted.contains(id)) back.push_back(id);
  }
  pending_.Add(back);
  for (LeaseRequest* r : batch) {
    if (!grants.ok()) {
      r->result = grants.status();
      continue;
    }
    const int64_t worker_id = r->claim.worker_id;
    if (!grants->known_workers.contains(worker_id)) {
      r->result = absl::NotFoundError(absl::StrCat(
          "worker ", worker_id, " is not registered; register first"));
      continue;
    }
    std::vector<LeasedTrial> leased;
    for (int64_t id : r->claim.trial_ids) {  // Ascending ids.
      auto it = grants->leased.find(id);
      if (it != grants->leased.end()) leased.push_back(std::move(it->second));
    }
    r->result = std::move(leased);
  }
}

absl::StatusOr<std::vector<HeldLease>> PgTrialStore::Heartbeat(
    int64_t worker_id, const std::vector<std::string>& lease_ids,
    absl::Time now, absl::Time expires) {
  using Held = std::vector<HeldLease>;
  // One statement: the worker marked as seen; of its leases, those of a
  // RUNNING search extended, the others' trials cancelled. One row per
  // lease kept (1, with its trial) or cancelled (2), or one row with NULLs;
  // none when the worker is unknown.
  return Transact<Held, /*kOneStatement=*/true>(
      "extending leases",
      [&](pqxx::transaction_base& txn) -> absl::StatusOr<Held> {
        const pqxx::result r = txn.exec_params(
            R"sql(
WITH w AS (SELECT id FROM workers WHERE id = $2),
seen AS (
  UPDATE workers SET last_seen_ms = $3 WHERE id = $2 AND last_seen_ms < $5),
held AS (
  SELECT t.id, s.state AS search_state FROM trials t
    JOIN searches s ON s.id = t.search_id
  WHERE t.lease_id IN (SELECT jsonb_array_elements_text($1::jsonb))
    AND t.state = 2 AND t.worker_id = (SELECT id FROM w)
  FOR UPDATE OF t),
kept AS (
  UPDATE trials t SET lease_expires_ms = $4 FROM held
  WHERE t.id = held.id AND held.search_state = 2
  RETURNING t.lease_id, t.id, t.search_id, t.number, t.worker),
cancelled AS (
  UPDATE trials t SET state = 7, finished_ms = $3, lease_expires_ms = NULL,
    failure_reason = 'search cancelled'
  FROM held WHERE t.id = held.id AND held.search_state <> 2
  RETURNING t.lease_id, t.id, t.search_id, t.number, t.worker)
SELECT l.lease_id, l.verdict, l.id, l.search_id, l.number, l.worker
FROM w LEFT JOIN (
  SELECT *, 1 AS verdict FROM kept
  UNION ALL SELECT *, 2 FROM cancelled) l ON true)sql",
            nlohmann::json(lease_ids).dump(), worker_id, Ms(now),
            Ms(expires), Ms(now - SeenResolution(now, expires)));
        if (r.empty()) {
          return absl::NotFoundError(absl::StrCat(
              "worker ", worker_id, " is not registered; register first"));
        }
        absl::flat_hash_map<std::string, HeldLease> found;
        for (const pqxx::row& row : r) {
          if (row[0].is_null()) continue;
          HeldLease& held = found[row[0].as<std::string>()];
          held.status = row[1].as<int>() == 1 ? LeaseStatus::kActive
                                              : LeaseStatus::kCancelled;
          held.trial_id = row[2].as<int64_t>();
          held.search_id = row[3].as<int64_t>();
          held.trial_number = row[4].as<int32_t>();
          held.worker = row[5].as<std::string>();
        }
        Held out;
        for (const std::string& lease_id : lease_ids) {
          auto it = found.find(lease_id);
          out.push_back(it == found.end() ? HeldLease{} : it->second);
        }
        return out;
      });
}

absl::StatusOr<CompletionResult> PgTrialStore::CompleteTrial(
    int64_t trial_id, int64_t worker_id, const std::string& lease_id,
    const TrialOutcome& outcome, absl::Time now,
    const PolicyObserver& observe) {
  NAS_ASSIGN_OR_RETURN(
      std::vector<absl::StatusOr<CompletionResult>> results,
      CompleteTrials({Completion{trial_id, worker_id, lease_id, outcome}}, now,
                     observe));
  return results.at(0);
}

absl::StatusOr<std::vector<absl::StatusOr<CompletionResult>>>
PgTrialStore::CompleteTrials(const std::vector<Completion>& reports,
                             absl::Time now, const PolicyObserver& observe) {
  using Results = std::vector<absl::StatusOr<CompletionResult>>;
  return Transact<Results>(
      "recording trial results", [&](pqxx::transaction_base& txn) {
        return CompleteTrialsIn(txn, reports, now, observe);
      });
}

absl::StatusOr<std::vector<ExpiredLease>> PgTrialStore::ExpireLeases(
    absl::Time now) {
  using Expired = std::vector<ExpiredLease>;
  absl::StatusOr<Expired> expired = Transact<Expired>(
      "expiring leases", [&](pqxx::transaction_base& txn) {
    Expired out;
    for (const pqxx::row& r : txn.exec_params(
             R"sql(
SELECT t.id, t.search_id, t.attempts, t.worker, s.state, s.max_attempts
FROM trials t JOIN searches s ON s.id = t.search_id
WHERE t.state = 2 AND t.lease_expires_ms < $1
ORDER BY t.id FOR UPDATE OF t SKIP LOCKED)sql",
             Ms(now))) {
      ExpiredLease e{r[0].as<int64_t>(), r[1].as<int64_t>(), v1::TRIAL_PENDING,
                     r[2].as<int32_t>(), r[3].as<std::string>()};
      std::string reason;
      if (r[4].as<int>() != v1::SEARCH_RUNNING) {
        e.new_state = v1::TRIAL_CANCELLED;
        reason = "search no longer running";
      } else if (e.attempts >= r[5].as<int32_t>()) {
        e.new_state = v1::TRIAL_FAILED;
        reason = absl::StrCat("lease expired ", e.attempts,
                              " times (last worker ", e.worker, ")");
      }
      const bool terminal = e.new_state != v1::TRIAL_PENDING;
      txn.exec_params(
          R"sql(
UPDATE trials SET state = $2, failure_reason = $3, lease_id = NULL,
  lease_expires_ms = NULL, worker_id = NULL, finished_ms = $4,
  started_ms = CASE WHEN $5 THEN started_ms ELSE NULL END
WHERE id = $1)sql",
          e.trial_id, static_cast<int>(e.new_state), reason,
          terminal ? std::optional<int64_t>(Ms(now)) : std::nullopt, terminal);
      out.push_back(std::move(e));
    }
    return out;
  });
  if (expired.ok()) {
    std::vector<int64_t> requeued;
    for (const ExpiredLease& e : *expired) {
      if (e.new_state == v1::TRIAL_PENDING) requeued.push_back(e.trial_id);
    }
    pending_.Add(requeued);
  }
  return expired;
}

absl::StatusOr<int> PgTrialStore::ExtendLeases(absl::Time until) {
  // SKIP LOCKED: rows another transaction holds are being heartbeated or
  // reported, and waiting for them in an order of this statement's own
  // could deadlock with a heartbeat of several leases.
  return Transact<int>("extending leases", [&](pqxx::transaction_base& txn) {
    return static_cast<int>(txn.exec_params(R"sql(
UPDATE trials t SET lease_expires_ms = $1
FROM (SELECT id FROM trials WHERE state = 2 AND lease_expires_ms < $1
      ORDER BY id FOR UPDATE SKIP LOCKED) held
WHERE t.id = held.id)sql",
                                            Ms(until))
                                .affected_rows());
  });
}

}  // namespace nas::controller
