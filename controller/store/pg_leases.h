#ifndef NAS_CONTROLLER_STORE_PG_LEASES_H_
#define NAS_CONTROLLER_STORE_PG_LEASES_H_

// How PgTrialStore leases trials: the claims of several workers' lease
// calls in one statement (a group commit of leases). Internal to
// controller/store/; throws libpqxx or std exceptions like the statements
// themselves, which PgTrialStore maps to statuses.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/time/time.h"
#include "controller/store/trial_store.h"
#include "pqxx/pqxx"

namespace nas::controller {

// One worker's lease call: the queued trials it claimed from the store's
// pending index (lowest ids first), a lease id each.
struct LeaseClaim {
  int64_t worker_id = 0;
  std::vector<int64_t> trial_ids;
  std::vector<std::string> lease_ids;  // Same size as trial_ids.
  absl::Time now;
  absl::Time expires;
};

// What one statement did with a group of claims.
struct LeaseGrants {
  // The registered workers among the claims' (marked as seen).
  absl::flat_hash_set<int64_t> known_workers;
  // The claimed trials the statement tried to lease: for each worker, its
  // lowest claimed ids up to its registered slots. The other claimed trials
  // were not touched and are still PENDING.
  absl::flat_hash_set<int64_t> attempted;
  // The trials leased (attempted, and still PENDING in a RUNNING search),
  // by trial id.
  absl::flat_hash_map<int64_t, LeasedTrial> leased;
};

// How stale a worker's last_seen_ms may be before a call writes it again:
// an eighth of the lease TTL (`expires - now`), far below the three TTLs
// after which a worker counts as gone. Writing it on every call made a busy
// fleet update each worker row several times a second.
inline absl::Duration SeenResolution(absl::Time now, absl::Time expires) {
  return (expires - now) / 8;
}

// Leases the claimed trials in one statement: every claiming worker marked
// as seen (when its last_seen_ms is older than SeenResolution), and each
// worker's lowest claimed trials up to its registered
// slots leased to it if still PENDING and of a RUNNING search.
LeaseGrants LeaseClaimedIn(pqxx::transaction_base& txn,
                           const std::vector<LeaseClaim>& claims);

}  // namespace nas::controller

#endif  // NAS_CONTROLLER_STORE_PG_LEASES_H_
