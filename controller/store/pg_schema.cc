// The controller's database schema, as an append-only list of migrations.
#include "controller/store/pg_schema.h"

namespace nas::controller {
namespace {

// Never edit an applied migration; append a new one.
constexpr Migration kMigrations[] = {
    {1, "initial schema", R"sql(
CREATE TABLE searches (
  id                BIGSERIAL PRIMARY KEY,
  name              TEXT NOT NULL,
  state             SMALLINT NOT NULL,
  spec              BYTEA NOT NULL,          -- serialized nas.v1.SearchSpec
  spec_json         JSONB NOT NULL,          -- the same, for humans
  seed              NUMERIC(20, 0) NOT NULL,
  policy            TEXT NOT NULL,
  device            TEXT NOT NULL,
  dataset           TEXT NOT NULL,
  max_trials        INTEGER NOT NULL,
  max_attempts      INTEGER NOT NULL,
  max_infeasible    INTEGER NOT NULL,
  max_duration_s    BIGINT NOT NULL,
  proposals         BIGINT NOT NULL DEFAULT 0,
  infeasible_streak INTEGER NOT NULL DEFAULT 0,
  message           TEXT NOT NULL DEFAULT '',
  created_ms        BIGINT NOT NULL,
  started_ms        BIGINT,
  finished_ms       BIGINT
);
CREATE INDEX searches_state_idx ON searches (state);

CREATE TABLE workers (
  id            BIGSERIAL PRIMARY KEY,
  name          TEXT NOT NULL UNIQUE,
  device        TEXT NOT NULL,
  slots         INTEGER NOT NULL,
  memory_bytes  BIGINT NOT NULL DEFAULT 0,
  registered_ms BIGINT NOT NULL,
  last_seen_ms  BIGINT NOT NULL
);
CREATE INDEX workers_last_seen_idx ON workers (last_seen_ms);

CREATE TABLE trials (
  id                  BIGSERIAL PRIMARY KEY,
  search_id           BIGINT NOT NULL REFERENCES searches (id) ON DELETE CASCADE,
  number              INTEGER NOT NULL,
  state               SMALLINT NOT NULL,
  arch                BYTEA NOT NULL,        -- serialized nas.v1.Architecture
  arch_hash           TEXT NOT NULL,
  cache_key           TEXT NOT NULL,
  metrics             BYTEA NOT NULL,        -- serialized nas.v1.Metrics
  accuracy            DOUBLE PRECISION,
  macro_f1            DOUBLE PRECISION,
  params              BIGINT,
  flash_bytes         BIGINT,
  peak_sram_bytes     BIGINT,
  macs                BIGINT,
  latency_ms_estimate DOUBLE PRECISION,
  reward              DOUBLE PRECISION,
  failure_reason      TEXT NOT NULL DEFAULT '',
  violations          JSONB NOT NULL DEFAULT '[]',
  attempts            INTEGER NOT NULL DEFAULT 0,
  worker_id           BIGINT REFERENCES workers (id),
  worker              TEXT NOT NULL DEFAULT '',
  lease_id            TEXT,
  lease_expires_ms    BIGINT,
  created_ms          BIGINT NOT NULL,
  started_ms          BIGINT,
  finished_ms         BIGINT,
  cached_from         BIGINT REFERENCES trials (id),
  model               BYTEA,                 -- TorchScript
  UNIQUE (search_id, number)
);
CREATE INDEX trials_search_state_idx ON trials (search_id, state);
CREATE INDEX trials_pending_idx ON trials (id) WHERE state = 1;
CREATE INDEX trials_lease_expiry_idx ON trials (lease_expires_ms) WHERE state = 2;
CREATE INDEX trials_lease_id_idx ON trials (lease_id);
CREATE INDEX trials_worker_running_idx ON trials (worker_id) WHERE state = 2;
CREATE INDEX trials_cache_key_idx ON trials (cache_key);
-- A network is never trained twice at once: one PENDING/RUNNING trial a key.
CREATE UNIQUE INDEX trials_in_flight_key_idx ON trials (cache_key)
  WHERE state IN (1, 2);

CREATE TABLE result_cache (
  cache_key  TEXT PRIMARY KEY,
  trial_id   BIGINT NOT NULL REFERENCES trials (id) ON DELETE CASCADE,
  created_ms BIGINT NOT NULL
);
)sql"},
    {2, "learning policy state", R"sql(
-- Order in which a search's policy learnt from its final trials (1, 2, ...);
-- NULL for trials it did not learn from. The observed trials in this order
-- are the policy's replay memory.
ALTER TABLE trials ADD COLUMN observed_seq INTEGER;
CREATE UNIQUE INDEX trials_observed_seq_idx ON trials (search_id, observed_seq);

-- A search's policy state apart from the Q-table, replaced by every write.
CREATE TABLE search_policies (
  search_id  BIGINT PRIMARY KEY REFERENCES searches (id) ON DELETE CASCADE,
  state      BYTEA NOT NULL,                 -- serialized nas.v1.PolicyState
  updated_ms BIGINT NOT NULL
);

-- Q-learning's table: the value of taking `action` in `state`. Byte order
-- (COLLATE "C") so that ties sort the same on every server.
CREATE TABLE q_values (
  search_id BIGINT NOT NULL REFERENCES searches (id) ON DELETE CASCADE,
  state     TEXT COLLATE "C" NOT NULL,
  action    TEXT COLLATE "C" NOT NULL,
  q         DOUBLE PRECISION NOT NULL,
  updates   INTEGER NOT NULL,
  PRIMARY KEY (search_id, state, action)
);
-- "The top N entries of a search": highest q first, ties by state, action.
CREATE INDEX q_values_top_idx ON q_values (search_id, q DESC, state, action);
)sql"},
};

}  // namespace

absl::Span<const Migration> SchemaMigrations() { return kMigrations; }

}  // namespace nas::controller
