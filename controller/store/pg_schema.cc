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
    {3, "search counters kept by a trigger, leaner trial indexes", R"sql(
-- Trial counters and the best trial of every search, kept up to date by a
-- row trigger on trials that fires only when a trial enters or leaves a
-- final state, so that reading a search costs the same at 100 trials as at
-- 100,000 (no COUNT over its trials). PENDING and RUNNING trials are few and
-- counted through trials_search_state_idx. Final trials never become
-- PENDING or RUNNING again, so the best ones only ever improve.
ALTER TABLE searches
  ADD COLUMN n_succeeded   INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN n_failed      INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN n_infeasible  INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN n_cached      INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN n_cancelled   INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN succeeded_ms  BIGINT NOT NULL DEFAULT 0,  -- sum of their durations
  ADD COLUMN best_accuracy DOUBLE PRECISION,
  ADD COLUMN best_trial_id BIGINT,
  ADD COLUMN best_reward   DOUBLE PRECISION;

UPDATE searches s SET
  n_succeeded = c.succeeded, n_failed = c.failed, n_infeasible = c.infeasible,
  n_cached = c.cached, n_cancelled = c.cancelled, succeeded_ms = c.ms,
  best_accuracy = c.best_accuracy
FROM (SELECT search_id,
        COUNT(*) FILTER (WHERE state = 3) AS succeeded,
        COUNT(*) FILTER (WHERE state = 4) AS failed,
        COUNT(*) FILTER (WHERE state = 5) AS infeasible,
        COUNT(*) FILTER (WHERE state = 6) AS cached,
        COUNT(*) FILTER (WHERE state = 7) AS cancelled,
        COALESCE(SUM(finished_ms - started_ms) FILTER (WHERE state = 3), 0) AS ms,
        MAX(accuracy) FILTER (WHERE state IN (3, 6)) AS best_accuracy
      FROM trials GROUP BY search_id) c
WHERE s.id = c.search_id;
UPDATE searches s SET best_trial_id = b.id, best_reward = b.reward
FROM (SELECT DISTINCT ON (search_id) search_id, id, reward FROM trials
      WHERE state IN (3, 6) ORDER BY search_id, reward DESC NULLS LAST, id) b
WHERE s.id = b.search_id;

CREATE FUNCTION count_final_trial() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.state >= 3 THEN
    UPDATE searches SET
      n_succeeded = n_succeeded - (OLD.state = 3)::INTEGER,
      n_failed = n_failed - (OLD.state = 4)::INTEGER,
      n_infeasible = n_infeasible - (OLD.state = 5)::INTEGER,
      n_cached = n_cached - (OLD.state = 6)::INTEGER,
      n_cancelled = n_cancelled - (OLD.state = 7)::INTEGER,
      succeeded_ms = succeeded_ms - CASE WHEN OLD.state = 3
        THEN COALESCE(OLD.finished_ms - OLD.started_ms, 0) ELSE 0 END
    WHERE id = OLD.search_id;
  END IF;
  IF NEW.state >= 3 THEN
    UPDATE searches s SET
      n_succeeded = s.n_succeeded + (NEW.state = 3)::INTEGER,
      n_failed = s.n_failed + (NEW.state = 4)::INTEGER,
      n_infeasible = s.n_infeasible + (NEW.state = 5)::INTEGER,
      n_cached = s.n_cached + (NEW.state = 6)::INTEGER,
      n_cancelled = s.n_cancelled + (NEW.state = 7)::INTEGER,
      succeeded_ms = s.succeeded_ms + CASE WHEN NEW.state = 3
        THEN COALESCE(NEW.finished_ms - NEW.started_ms, 0) ELSE 0 END,
      best_accuracy = CASE WHEN NEW.state IN (3, 6)
        THEN GREATEST(s.best_accuracy, NEW.accuracy) ELSE s.best_accuracy END,
      best_trial_id = CASE WHEN NEW.state IN (3, 6) AND (s.best_trial_id IS NULL
          OR (NEW.reward IS NOT NULL AND (s.best_reward IS NULL
              OR NEW.reward > s.best_reward
              OR (NEW.reward = s.best_reward AND NEW.id < s.best_trial_id))))
        THEN NEW.id ELSE s.best_trial_id END,
      best_reward = CASE WHEN NEW.state IN (3, 6) AND (s.best_trial_id IS NULL
          OR (NEW.reward IS NOT NULL AND (s.best_reward IS NULL
              OR NEW.reward > s.best_reward
              OR (NEW.reward = s.best_reward AND NEW.id < s.best_trial_id))))
        THEN NEW.reward ELSE s.best_reward END
    WHERE s.id = NEW.search_id;
  END IF;
  RETURN NULL;
END
$fn$;

CREATE TRIGGER trials_count_inserted AFTER INSERT ON trials
  FOR EACH ROW WHEN (NEW.state >= 3) EXECUTE FUNCTION count_final_trial();
CREATE TRIGGER trials_count_updated AFTER UPDATE OF state ON trials
  FOR EACH ROW WHEN (OLD.state <> NEW.state AND (OLD.state >= 3 OR NEW.state >= 3))
  EXECUTE FUNCTION count_final_trial();

-- Fewer index entries a trial row version: leases are only looked up while
-- RUNNING, and in-flight keys through trials_in_flight_key_idx (results
-- through result_cache), so trials_cache_key_idx served no query.
DROP INDEX trials_lease_id_idx;
CREATE INDEX trials_lease_id_idx ON trials (lease_id) WHERE state = 2;
DROP INDEX trials_cache_key_idx;
)sql"},
    {4, "search counters in their own table, kept by statement", R"sql(
-- The counters of migration 3 move to a table of their own, kept by
-- statement-level triggers instead of row triggers: a statement that
-- finishes N trials of a search (a group commit of reports) updates the
-- search's counters once, not N times, and never waits for the search row,
-- which the scheduler holds locked while it queues candidates.
DROP TRIGGER trials_count_inserted ON trials;
DROP TRIGGER trials_count_updated ON trials;
DROP FUNCTION count_final_trial();

CREATE TABLE search_counters (
  search_id     BIGINT PRIMARY KEY REFERENCES searches (id) ON DELETE CASCADE,
  n_succeeded   INTEGER NOT NULL DEFAULT 0,
  n_failed      INTEGER NOT NULL DEFAULT 0,
  n_infeasible  INTEGER NOT NULL DEFAULT 0,
  n_cached      INTEGER NOT NULL DEFAULT 0,
  n_cancelled   INTEGER NOT NULL DEFAULT 0,
  succeeded_ms  BIGINT NOT NULL DEFAULT 0,  -- sum of their durations
  best_accuracy DOUBLE PRECISION,
  best_trial_id BIGINT,
  best_reward   DOUBLE PRECISION
);
INSERT INTO search_counters
SELECT id, n_succeeded, n_failed, n_infeasible, n_cached, n_cancelled,
       succeeded_ms, best_accuracy, best_trial_id, best_reward FROM searches;
ALTER TABLE searches
  DROP COLUMN n_succeeded, DROP COLUMN n_failed, DROP COLUMN n_infeasible,
  DROP COLUMN n_cached, DROP COLUMN n_cancelled, DROP COLUMN succeeded_ms,
  DROP COLUMN best_accuracy, DROP COLUMN best_trial_id,
  DROP COLUMN best_reward;

-- What the counters need of a trial that enters (or leaves) a final state.
CREATE TYPE final_trial AS (
  search_id BIGINT, id BIGINT, state SMALLINT, accuracy DOUBLE PRECISION,
  reward DOUBLE PRECISION, ms BIGINT);

-- Adds (p_sign = 1) or takes off (p_sign = -1) the trials' counts; the
-- best trial and accuracy only ever improve (final trials stay final).
-- The best of the added trials is the one of highest reward, then lowest
-- id, and replaces the search's best as the row trigger did.
CREATE FUNCTION apply_final_trials(p_rows final_trial[], p_sign INTEGER)
RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  IF cardinality(p_rows) = 0 THEN RETURN; END IF;
  UPDATE search_counters s SET
    n_succeeded = s.n_succeeded + p_sign * d.succeeded,
    n_failed = s.n_failed + p_sign * d.failed,
    n_infeasible = s.n_infeasible + p_sign * d.infeasible,
    n_cached = s.n_cached + p_sign * d.cached,
    n_cancelled = s.n_cancelled + p_sign * d.cancelled,
    succeeded_ms = s.succeeded_ms + p_sign * d.ms,
    best_accuracy = CASE WHEN p_sign > 0
      THEN GREATEST(s.best_accuracy, d.best_accuracy) ELSE s.best_accuracy END,
    best_trial_id = CASE WHEN p_sign > 0 AND d.best_id IS NOT NULL AND (
        s.best_trial_id IS NULL OR (d.best_reward IS NOT NULL AND (
          s.best_reward IS NULL OR d.best_reward > s.best_reward OR
          (d.best_reward = s.best_reward AND d.best_id < s.best_trial_id))))
      THEN d.best_id ELSE s.best_trial_id END,
    best_reward = CASE WHEN p_sign > 0 AND d.best_id IS NOT NULL AND (
        s.best_trial_id IS NULL OR (d.best_reward IS NOT NULL AND (
          s.best_reward IS NULL OR d.best_reward > s.best_reward OR
          (d.best_reward = s.best_reward AND d.best_id < s.best_trial_id))))
      THEN d.best_reward ELSE s.best_reward END
  FROM (SELECT r.search_id,
          COUNT(*) FILTER (WHERE r.state = 3) AS succeeded,
          COUNT(*) FILTER (WHERE r.state = 4) AS failed,
          COUNT(*) FILTER (WHERE r.state = 5) AS infeasible,
          COUNT(*) FILTER (WHERE r.state = 6) AS cached,
          COUNT(*) FILTER (WHERE r.state = 7) AS cancelled,
          COALESCE(SUM(r.ms) FILTER (WHERE r.state = 3), 0) AS ms,
          MAX(r.accuracy) FILTER (WHERE r.state IN (3, 6)) AS best_accuracy,
          (array_agg(r.id ORDER BY r.reward DESC NULLS LAST, r.id)
             FILTER (WHERE r.state IN (3, 6)))[1] AS best_id,
          (array_agg(r.reward ORDER BY r.reward DESC NULLS LAST, r.id)
             FILTER (WHERE r.state IN (3, 6)))[1] AS best_reward
        FROM unnest(p_rows) AS r GROUP BY r.search_id) d
  WHERE s.search_id = d.search_id;
END
$fn$;

CREATE FUNCTION count_final_trials() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM apply_final_trials(ARRAY(
      SELECT ROW(n.search_id, n.id, n.state, n.accuracy, n.reward,
                 COALESCE(n.finished_ms - n.started_ms, 0))::final_trial
      FROM new_rows n WHERE n.state >= 3), 1);
  ELSE
    PERFORM apply_final_trials(ARRAY(
      SELECT ROW(o.search_id, o.id, o.state, o.accuracy, o.reward,
                 COALESCE(o.finished_ms - o.started_ms, 0))::final_trial
      FROM old_rows o JOIN new_rows n ON n.id = o.id
      WHERE o.state >= 3 AND o.state <> n.state), -1);
    PERFORM apply_final_trials(ARRAY(
      SELECT ROW(n.search_id, n.id, n.state, n.accuracy, n.reward,
                 COALESCE(n.finished_ms - n.started_ms, 0))::final_trial
      FROM old_rows o JOIN new_rows n ON n.id = o.id
      WHERE n.state >= 3 AND o.state <> n.state), 1);
  END IF;
  RETURN NULL;
END
$fn$;

CREATE TRIGGER trials_count_inserted AFTER INSERT ON trials
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION count_final_trials();
CREATE TRIGGER trials_count_updated AFTER UPDATE ON trials
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION count_final_trials();
)sql"},
    {5, "worker rows updated in place, trials vacuumed sooner", R"sql(
-- A worker's last_seen_ms is written by its leases and heartbeats. Indexed,
-- every such update put a new row version and new index entries in place
-- of the old ones, and a busy fleet bloated workers (16,000 dead versions
-- for 512 workers within a minute), slowing every lookup of a worker until
-- autovacuum came. Unindexed, the update is a HOT update, pruned within its
-- page; the free space of the fillfactor keeps room for it. Workers are few
-- and read whole (CountSlots), so the index served no query worth it.
DROP INDEX workers_last_seen_idx;
ALTER TABLE workers SET (fillfactor = 50);
-- The queue's partial indexes (PENDING, RUNNING) hold an entry for every
-- row version that was once PENDING or RUNNING until a vacuum removes the
-- dead ones; with the default threshold (a fifth of the table) that was
-- tens of thousands of entries in a search of 100,000 trials. A fixed
-- threshold keeps the dead entries bounded whatever the table's size.
ALTER TABLE trials SET (autovacuum_vacuum_scale_factor = 0,
                        autovacuum_vacuum_threshold = 20000);
)sql"},
    {6, "fewer index entries a trial", R"sql(
-- A trial's row goes through three versions (PENDING, RUNNING, final), and
-- none of its updates is HOT (state is indexed), so every version put an
-- entry in every index whose predicate it met: 18 entries a trial, 14 of
-- them dead once it is final, and every vacuum of trials scans every
-- index whole, so the indexes over all trials made each vacuum cost more
-- as the search grew. Indexes over all trials are now only the primary key
-- and (search_id, number); the others hold only queued, running or
-- observed rows: 12 entries a trial.
--
-- PENDING and RUNNING trials of a search (counted by every read of it,
-- cancelled with it); final trials are listed along (search_id, number).
DROP INDEX trials_search_state_idx;
CREATE INDEX trials_search_queue_idx ON trials (search_id, state)
  WHERE state IN (1, 2);
-- Heartbeats find their leases among the worker's RUNNING trials, and the
-- expiry pass reads every RUNNING trial (at most one a worker slot), so
-- one index of RUNNING trials serves both.
DROP INDEX trials_lease_id_idx;
DROP INDEX trials_lease_expiry_idx;
-- Only trials a learning policy observed have a sequence number.
DROP INDEX trials_observed_seq_idx;
CREATE UNIQUE INDEX trials_observed_seq_idx ON trials (search_id, observed_seq)
  WHERE observed_seq IS NOT NULL;
)sql"},
    {7, "trial numbers from a counter", R"sql(
-- A search's next trial number, kept in its row (which every insertion of
-- trials locks anyway). Read as MAX(number) + 1 over its trials, it was
-- planned, for a search newer than the table's statistics, as a scan of
-- all the search's trials: 7,500 blocks a batch at 37,000 trials.
ALTER TABLE searches ADD COLUMN next_number INTEGER NOT NULL DEFAULT 0;
UPDATE searches s SET next_number = n.next
FROM (SELECT search_id, MAX(number) + 1 AS next FROM trials
      GROUP BY search_id) n
WHERE s.id = n.search_id;
)sql"},
    {8, "search rows updated in place", R"sql(
-- A running search's row is updated by every batch of candidates (its
-- proposals, infeasible streak and next trial number), and it carries the
-- whole spec. Packed several to a page, its new versions soon found no room
-- on their page, so the updates stopped being HOT: every one added an
-- entry to searches_state_idx, and a lookup of the running searches read
-- a hundred pages until the next vacuum. Searches are few; a page each
-- keeps room for the new versions.
ALTER TABLE searches SET (fillfactor = 10);
)sql"},
    {9, "trial rows updated on their own page", R"sql(
-- A trial's row is updated twice (leased, then final), and neither update
-- is HOT (state is in the queue indexes' predicates). Packed full, a page
-- had no room for the new versions, which went to whatever page the free
-- space map offered: pages freed by vacuum anywhere in the table, so the
-- writes of a larger table touched more distinct pages, each logged whole
-- after a checkpoint. With room left on the page, the new versions stay
-- beside the old, whose space the page's own pruning takes back. (A
-- vacuum pass still reads most of the table: new trials also fill the
-- space it freed in older pages.)
ALTER TABLE trials SET (fillfactor = 70);
)sql"},
    {10, "int8 models", R"sql(
-- The quantised model a worker measured (serialized nas.v1.QuantizedModel,
-- test vectors included): what `nasctl export --format c` writes out.
ALTER TABLE trials ADD COLUMN int8_model BYTEA;
)sql"},
};

}  // namespace

absl::Span<const Migration> SchemaMigrations() { return kMigrations; }

}  // namespace nas::controller
