#include "controller/store/pg_leases.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "controller/store/pg_rows.h"
#include "nlohmann/json.hpp"

namespace nas::controller {

LeaseGrants LeaseClaimedIn(pqxx::transaction_base& txn,
                           const std::vector<LeaseClaim>& claims) {
  nlohmann::json workers = nlohmann::json::array();
  nlohmann::json rows = nlohmann::json::array();
  for (const LeaseClaim& c : claims) {
    workers.push_back({{"w", c.worker_id},
                       {"seen", Ms(c.now)},
                       {"stale", Ms(c.now - SeenResolution(c.now, c.expires))}});
    for (size_t i = 0; i < c.trial_ids.size(); ++i) {
      rows.push_back({{"w", c.worker_id},
                      {"id", c.trial_ids[i]},
                      {"lease", c.lease_ids[i]},
                      {"seen", Ms(c.now)},
                      {"exp", Ms(c.expires)}});
    }
  }
  // One row per (registered worker, attempted trial): the leased trial's
  // columns and its lease (NULL when it was no longer PENDING or its search
  // no longer runs), then the worker and the attempted trial's id (NULL
  // when the worker attempted none). The attempted trials are locked by
  // index probes (= ANY): as a join with `picked` the planner read the
  // whole PENDING index, whose dead entries (every trial queued since the
  // last vacuum) made that ~1,000 blocks a call. The running searches are
  // read once (an InitPlan), not once a trial: as EXISTS it was planned as
  // a bitmap scan of the searches by state for every leased trial, 100
  // blocks each while the search rows' updates wait for a vacuum.
  const pqxx::result result = txn.exec_params(
      absl::StrCat(R"sql(
WITH req AS (
  SELECT r.w, MAX(r.seen) AS seen, MAX(r.stale) AS stale
  FROM jsonb_to_recordset($1::jsonb) AS r(w BIGINT, seen BIGINT, stale BIGINT)
  GROUP BY r.w),
w AS (
  SELECT workers.id, workers.name, workers.slots FROM workers
  JOIN req ON workers.id = req.w),
seen AS (
  UPDATE workers SET last_seen_ms = req.seen FROM req
  WHERE workers.id = req.w AND workers.last_seen_ms < req.stale),
picked AS (
  SELECT c.w, c.id, c.lease, c.seen, c.exp, w.name FROM (
    SELECT c.*, row_number() OVER (PARTITION BY c.w ORDER BY c.id) AS rank
    FROM jsonb_to_recordset($2::jsonb)
      AS c(w BIGINT, id BIGINT, lease TEXT, seen BIGINT, exp BIGINT)) c
  JOIN w ON w.id = c.w WHERE c.rank <= w.slots),
locked AS (
  SELECT t.id FROM trials t
  WHERE t.id = ANY(ARRAY(SELECT id FROM picked)) AND t.state = 1
  ORDER BY t.id FOR UPDATE OF t),
leased AS (
  UPDATE trials t SET state = 2, lease_id = p.lease, lease_expires_ms = p.exp,
    worker_id = p.w, worker = p.name, attempts = t.attempts + 1,
    started_ms = p.seen
  FROM picked p JOIN locked l ON l.id = p.id
  WHERE t.id = p.id AND t.state = 1
    AND t.search_id = ANY(ARRAY(SELECT id FROM searches WHERE state = 2))
  RETURNING )sql",
                   kTrialColumns, R"sql(, p.lease)
SELECT leased.*, w.id, p.id FROM w
  LEFT JOIN picked p ON p.w = w.id
  LEFT JOIN leased ON leased.id = p.id)sql"),
      workers.dump(), rows.dump());
  LeaseGrants grants;
  for (const pqxx::row& r : result) {
    const int n = r.size();
    grants.known_workers.insert(r[n - 2].as<int64_t>());
    if (r[n - 1].is_null()) continue;  // The worker attempted none.
    grants.attempted.insert(r[n - 1].as<int64_t>());
    if (r[0].is_null()) continue;  // Attempted, not leased.
    v1::Trial trial = TrialFromRow(r);
    const int64_t id = trial.id();
    grants.leased.emplace(
        id, LeasedTrial{std::move(trial), r[n - 3].as<std::string>()});
  }
  return grants;
}

}  // namespace nas::controller
