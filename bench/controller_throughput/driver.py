#!/usr/bin/env python3
"""Measuring half of bench/controller_throughput/run.sh (run.sh starts and
stops the processes; this file submits, counts, samples and reports).

  driver.py prefill ...  submit a search and pre-fill it with stored trials.
  driver.py round   ...  one tinynas round: submit a search (or take the
                         pre-filled one), count the trials committed in
                         PostgreSQL over a steady-state window, optionally
                         sample the controller's memory, cancel.
  driver.py optuna  ...  the peer: Optuna ask/tell with its RDB storage and
                         RandomSampler on a space of the same choices.
  driver.py report  ...  the table of every round, with the ratios.

Every round appends one JSON line to --results.
"""
import argparse
import json
import multiprocessing
import os
import re
import subprocess
import sys
import time
import zlib

import psycopg2
import yaml

# Trials committed through a worker in a window: SUCCEEDED or FAILED (not
# CACHED or INFEASIBLE, which never leave the controller), by the finish
# time the controller gave them (the time of the batch that committed
# them). Counted after the window, so that the count's own reads (the
# pre-filled search has 100,000 rows more) never load the window.
WORKER_DONE = """SELECT count(*) FROM trials WHERE search_id = %s
                 AND state IN (3, 4) AND finished_ms >= %s AND finished_ms < %s"""
# Seconds after a window before its trials are counted: the reports of its
# last group commits are committed by then.
SETTLE_SECONDS = 2
# A round must never run out of budget: the stored budget is lifted past the
# submit limit (100,000 a search); every round is cancelled at its end.
ENDLESS = 1_000_000_000
PREFILL_CHUNK = 1000


def connect(uri):
    conn = psycopg2.connect(uri)
    conn.autocommit = True
    return conn


def scalar(conn, sql, *args):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchone()[0]


def nasctl(binary, *args):
    # Plain text, as run.sh starts the controller (--insecure).
    out = subprocess.run([binary, "--insecure", *args],
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"driver: nasctl {' '.join(args)} failed ({out.returncode}): "
                 f"{out.stderr.strip()}")
    return out.stdout


def prefill(conn, search_id, count):
    """Stores `count` SUCCEEDED trials in the search, with their result-cache
    entries: copies of the real rows of the round with the most succeeded
    trials so far (same arch, metrics, reward sizes), with distinct cache
    keys, numbered -count..-1: below the search's own numbers, which the
    controller keeps giving out meanwhile (from 0 up), so that no insert of
    either side waits on the other's."""
    source = scalar(conn, """
        SELECT search_id FROM trials WHERE state = 3 AND search_id <> %s
        GROUP BY search_id ORDER BY count(*) DESC LIMIT 1""", search_id)
    if source is None:
        sys.exit("driver: no earlier round to copy trials from")
    # In chunks, each its own transaction: every stored final trial updates
    # the search's counters (a row trigger), and one transaction of 100,000
    # such updates of one row costs quadratic time.
    for start in range(0, count, PREFILL_CHUNK):
        prefill_chunk(conn, source, search_id, start, min(count, start + PREFILL_CHUNK), count)
    # The round vacuums the table and checkpoints before its warm-up
    # (run_round): a search that grew to this size trial by trial would
    # have been vacuumed by autovacuum all along, and the bulk load's WAL is
    # not written out in the middle of the measured window.


def prefill_chunk(conn, source, search_id, start, end, total):
    with conn.cursor() as cur:
        cur.execute("BEGIN")
        cur.execute("""
            WITH src AS (
              SELECT row_number() OVER (ORDER BY id) - 1 AS k, t.*
              FROM trials t WHERE t.search_id = %(src)s AND t.state = 3),
            n AS (SELECT count(*) AS c FROM src),
            base AS (SELECT -%(count)s AS b)
            INSERT INTO trials (search_id, number, state, arch, arch_hash,
              cache_key, metrics, accuracy, macro_f1, params, flash_bytes,
              peak_sram_bytes, macs, latency_ms_estimate, reward,
              failure_reason, violations, attempts, worker, created_ms,
              started_ms, finished_ms)
            SELECT %(dst)s, base.b + g, 3, s.arch, s.arch_hash,
              s.cache_key || ':prefill:' || %(dst)s || ':' || g, s.metrics,
              s.accuracy, s.macro_f1, s.params, s.flash_bytes,
              s.peak_sram_bytes, s.macs, s.latency_ms_estimate, s.reward,
              '', s.violations, 1, s.worker, s.created_ms, s.started_ms,
              s.finished_ms
            FROM generate_series(%(start)s, %(end)s - 1) g
            CROSS JOIN n CROSS JOIN base
            JOIN src s ON s.k = g %% n.c
            RETURNING id, cache_key, finished_ms""",
                    {"src": source, "dst": search_id, "start": start, "end": end,
                     "count": total})
        rows = cur.fetchall()
        cur.executemany(
            "INSERT INTO result_cache (cache_key, trial_id, created_ms) VALUES (%s, %s, %s)",
            [(key, trial_id, ms) for trial_id, key, ms in rows])
        cur.execute("UPDATE searches SET proposals = proposals + %s WHERE id = %s",
                    (end - start, search_id))
        cur.execute("COMMIT")


def read_memory_kb(pid):
    values = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0])
    return values


def slope_mb_per_min(samples):
    """Least-squares slope of RSS over time, in MB per minute."""
    if len(samples) < 2:
        return 0.0
    ts = [t for t, _ in samples]
    ys = [kb / 1024 for _, kb in samples]
    mt, my = sum(ts) / len(ts), sum(ys) / len(ys)
    var = sum((t - mt) ** 2 for t in ts)
    cov = sum((t - mt) * (y - my) for t, y in zip(ts, ys))
    return 60 * cov / var if var else 0.0


def spec_with_fresh_seed(path, out_dir):
    """A copy of the spec with a seed of its own: the seed fixes the data
    split, and with it the result-cache key, so a round with the seed of an
    earlier one would propose the same networks and find them all cached
    (they never reach a worker)."""
    with open(path) as f:
        text = f.read()
    seed = int(time.time() * 1000) % (1 << 40)
    text, n = re.subn(r"(?m)^seed: .*$", f"seed: {seed}", text)
    if n != 1:
        sys.exit(f"driver: {path} needs one top-level 'seed:' line")
    copy = os.path.join(out_dir, f"search-{seed}.yaml")
    with open(copy, "w") as f:
        f.write(text)
    return copy


def submit_search(args, conn):
    """Submits a copy of the spec with a fresh seed and an endless budget."""
    spec = spec_with_fresh_seed(args.spec, os.path.dirname(os.path.abspath(args.results)))
    out = nasctl(args.nasctl, "submit", spec)
    match = re.search(r"submitted search (\d+)", out)
    if not match:
        sys.exit(f"driver: unexpected nasctl output: {out!r}")
    search_id = int(match.group(1))
    scalar(conn, "UPDATE searches SET max_trials = %s WHERE id = %s RETURNING id",
           ENDLESS, search_id)
    return search_id


def run_prefill(args):
    """Submits a search and pre-fills it; writes its id to --id_file. run.sh
    runs this with no worker connected: the search's own trials would
    otherwise be leased, reported and vacuumed among the pre-filled rows,
    leaving their pages half-written and not all-visible, which a search
    that grew to this size over hours would not have."""
    conn = connect(args.db)
    search_id = submit_search(args, conn)
    started = time.monotonic()
    prefill(conn, search_id, args.count)
    print(f"driver: pre-filled search {search_id} with {args.count} trials "
          f"in {time.monotonic() - started:.1f} s", file=sys.stderr)
    with open(args.id_file, "w") as f:
        f.write(f"{search_id}\n")


def run_round(args):
    conn = connect(args.db)
    search_id = args.search or submit_search(args, conn)
    # Every round starts its warm-up right after a vacuum of the trials and
    # a checkpoint, so that each window pays alike the full-page images that
    # follow a checkpoint and the autovacuum passes that follow a vacuum
    # (autovacuum looks once a minute and takes trials after 20,000 dead
    # rows: only the pre-filled round was vacuumed just before its window,
    # so only its window could miss the pass).
    with conn.cursor() as cur:
        cur.execute("VACUUM (ANALYZE) trials")
        cur.execute("VACUUM (ANALYZE) result_cache")
        cur.execute("CHECKPOINT")
    time.sleep(args.warmup)
    if args.pg_stats:
        scalar(conn, "SELECT 1 FROM pg_stat_statements_reset()")
        scalar(conn, "SELECT 1 FROM pg_stat_reset_shared('wal')")
        vacuums0 = table_vacuums(conn)
    stored0 = scalar(conn, "SELECT count(*) FROM trials WHERE search_id = %s", search_id)
    # Nothing is read from the database during the window: the trials it
    # committed are counted after it, by their finish time.
    t0, wall0 = time.monotonic(), time.time()
    samples, peak_rss = [], 0
    rounds_left = args.window
    while rounds_left > 0:
        step = min(1.0, rounds_left)
        time.sleep(step)
        rounds_left -= step
        if args.controller_pid:
            mem = read_memory_kb(args.controller_pid)
            samples.append((time.monotonic() - t0, mem["VmRSS"]))
            peak_rss = max(peak_rss, mem["VmHWM"])
    t1, wall1 = time.monotonic(), time.time()
    if args.pg_stats:
        stats = read_pg_stats(conn, vacuums0)
    time.sleep(SETTLE_SECONDS)
    trials = scalar(conn, WORKER_DONE, search_id, int(wall0 * 1000), int(wall1 * 1000))
    if args.pg_stats:
        write_pg_stats(f"{args.pg_stats}-{args.name}.txt", trials, stats)
    stored1 = scalar(conn, "SELECT count(*) FROM trials WHERE search_id = %s", search_id)
    state = scalar(conn, "SELECT state FROM searches WHERE id = %s", search_id)
    nasctl(args.nasctl, "cancel", str(search_id))
    result = {
        "kind": "tinynas", "name": args.name, "workers": args.workers,
        "search": search_id, "seconds": round(t1 - t0, 2),
        "trials": trials, "rate": trials / (t1 - t0),
        "stored_start": stored0, "stored_end": stored1,
        "search_state_at_end": state,
    }
    if samples:
        rss = [kb for _, kb in samples]
        result.update({
            "rss_mb_start": rss[0] / 1024, "rss_mb_end": rss[-1] / 1024,
            "rss_mb_max": max(rss) / 1024, "hwm_mb": peak_rss / 1024,
            "rss_slope_mb_per_min": slope_mb_per_min(samples),
            # The second half alone: creep after warm-up, not the ramp.
            "rss_slope_second_half_mb_per_min":
                slope_mb_per_min(samples[len(samples) // 2:]),
        })
        with open(args.rss_samples, "w") as f:
            for t, kb in samples:
                f.write(f"{t:.1f}\t{kb}\n")
    append(args.results, result)
    print(json.dumps(result), file=sys.stderr)


def table_vacuums(conn):
    """Autovacuum passes so far, by table (their durations are in the
    server's log: the bench logs every automatic vacuum with BENCH_PG_STATS)."""
    with conn.cursor() as cur:
        cur.execute("SELECT relname, autovacuum_count FROM pg_stat_user_tables")
        return dict(cur.fetchall())


def read_pg_stats(conn, vacuums0):
    """The window's statements, WAL and autovacuum passes, read as it ends."""
    vacuums = {table: count - vacuums0.get(table, 0)
               for table, count in table_vacuums(conn).items()
               if count > vacuums0.get(table, 0)}
    with conn.cursor() as cur:
        cur.execute("""SELECT wal_records, wal_fpi, wal_bytes, wal_write, wal_sync,
                         wal_write_time, wal_sync_time FROM pg_stat_wal""")
        records, fpi, wal_bytes, writes, syncs, write_ms, sync_ms = cur.fetchone()
        cur.execute("""
            SELECT calls, total_exec_time + total_plan_time, rows,
              shared_blks_hit, shared_blks_read,
              left(regexp_replace(query, '\\s+', ' ', 'g'), 100)
            FROM pg_stat_statements
            ORDER BY total_exec_time + total_plan_time DESC LIMIT 25""")
        rows = cur.fetchall()
    return (records, fpi, wal_bytes, writes, syncs, write_ms, sync_ms), rows, vacuums


def write_pg_stats(path, trials, stats):
    """The window's statements by total time, per trial committed; then its
    WAL (pg_stat_wal) per trial and the autovacuum passes by table."""
    (records, fpi, wal_bytes, writes, syncs, write_ms, sync_ms), rows, vacuums = stats
    n = max(trials, 1)
    with open(path, "w") as f:
        f.write(f"{trials} trials committed in the window\n")
        f.write("calls/trial  ms/trial  rows/call  blks_hit/call  blks_read/call  query\n")
        for calls, ms, nrows, hit, read, query in rows:
            c = max(calls, 1)
            f.write(f"{calls / n:11.3f}  {ms / n:8.4f}  {nrows / c:9.1f}  "
                    f"{hit / c:13.1f}  {read / c:14.1f}  {query}\n")
        f.write(f"WAL per trial: {records / n:.2f} records, {fpi / n:.3f} full-page "
                f"images, {float(wal_bytes) / n:.0f} bytes; {writes / n:.3f} writes "
                f"({write_ms / n:.4f} ms), {syncs / n:.3f} syncs ({sync_ms / n:.4f} ms)\n")
        f.write("autovacuum passes in the window: "
                + (", ".join(f"{t} {c}" for t, c in sorted(vacuums.items())) or "none")
                + "\n")


def append(path, result):
    with open(path, "a") as f:
        f.write(json.dumps(result) + "\n")


# --- Optuna ----------------------------------------------------------------

def suggest(trial, space):
    """Draws the choices the random policy draws for a network of the spec's
    space: the number of feature layers (int), per layer its type, channels,
    kernel and stride; the number of hidden dense layers (int), their widths
    and the dropout rate (categoricals). Returns a made-up accuracy."""
    layers = trial.suggest_int("layers", space["min_layers"], space["max_layers"])
    for i in range(layers):
        trial.suggest_categorical(f"type{i}", space["layer_types"])
        trial.suggest_categorical(f"channels{i}", space["channels"])
        trial.suggest_categorical(f"kernel{i}", space["kernels"])
        trial.suggest_categorical(f"stride{i}", space["strides"])
    dense = trial.suggest_int("dense_layers", 0, space["max_dense_layers"])
    for i in range(dense):
        trial.suggest_categorical(f"units{i}", space["dense_units"])
    trial.suggest_categorical("dropout", space["dropout_rates"])
    # Like the load-test worker's: no training here either.
    return 0.5 + 0.45 * (zlib.crc32(repr(sorted(trial.params.items())).encode()) % 1000) / 1000


def optuna_worker(url, study_name, space, deadline, seed):
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name=study_name, storage=url,
                              sampler=optuna.samplers.RandomSampler(seed=seed))
    while time.monotonic() < deadline:
        trial = study.ask()
        study.tell(trial, suggest(trial, space))


def run_optuna(args):
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with open(args.spec) as f:
        space = yaml.safe_load(f)["space"]
    study_name = f"throughput-{args.processes}-{os.getpid()}"
    optuna.create_study(study_name=study_name, storage=args.url, direction="maximize")
    deadline = time.monotonic() + args.warmup + args.window + 1
    procs = [multiprocessing.Process(target=optuna_worker,
                                     args=(args.url, study_name, space, deadline, i))
             for i in range(args.processes)]
    for p in procs:
        p.start()
    conn = connect(args.db)
    count = ("SELECT count(*) FROM trials t JOIN studies s USING (study_id) "
             "WHERE s.study_name = %s AND t.state = 'COMPLETE'")
    time.sleep(args.warmup)
    t0 = time.monotonic()
    done0 = scalar(conn, count, study_name)
    time.sleep(args.window)
    t1 = time.monotonic()
    trials = scalar(conn, count, study_name) - done0
    for p in procs:
        p.join()
        if p.exitcode != 0:
            sys.exit(f"driver: an Optuna process failed (exit {p.exitcode})")
    result = {"kind": "optuna", "name": f"optuna-{args.processes}",
              "workers": args.processes, "seconds": round(t1 - t0, 2),
              "trials": trials, "rate": trials / (t1 - t0),
              "optuna_version": optuna.__version__}
    append(args.results, result)
    print(json.dumps(result), file=sys.stderr)


# --- Report ----------------------------------------------------------------

def report(args):
    rows = [json.loads(line) for line in open(args.results) if line.strip()]
    optuna_rows = [r for r in rows if r["kind"] == "optuna"]
    peer = max((r["rate"] for r in optuna_rows), default=0)
    print("round                 workers   trials  seconds  trials/s  x Optuna(best)")
    for r in rows:
        ratio = f"{r['rate'] / peer:9.1f}" if peer and r["kind"] == "tinynas" else ""
        print(f"{r['name']:<20} {r['workers']:>8} {r['trials']:>8} {r['seconds']:>8.1f} "
              f"{r['rate']:>9.1f} {ratio}")
    by_name = {r["name"]: r for r in rows}
    small, large = by_name.get("growth-1k"), by_name.get("growth-100k")
    if small and large and large["rate"] > 0:
        print(f"cost per trial at {large['stored_start']} stored vs {small['stored_start']}: "
              f"{small['rate'] / large['rate']:.2f}x (aim < 1.2x)")
    for r in rows:
        if "hwm_mb" in r:
            print(f"controller memory over {r['seconds']:.0f} s ({r['name']}, "
                  f"{r['stored_start']}..{r['stored_end']} trials stored): "
                  f"RSS {r['rss_mb_start']:.1f} -> {r['rss_mb_end']:.1f} MB, "
                  f"max {r['rss_mb_max']:.1f} MB, peak (VmHWM) {r['hwm_mb']:.1f} MB, "
                  f"slope {r['rss_slope_mb_per_min']:+.2f} MB/min "
                  f"(second half {r['rss_slope_second_half_mb_per_min']:+.2f} MB/min)")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("round")
    r.add_argument("--name", required=True)
    r.add_argument("--workers", type=int, required=True)
    r.add_argument("--nasctl", required=True)
    r.add_argument("--spec", required=True)
    r.add_argument("--db", required=True)
    r.add_argument("--warmup", type=float, default=5)
    r.add_argument("--window", type=float, default=15)
    r.add_argument("--search", type=int, default=0,
                   help="measure this search (e.g. pre-filled) instead of a new one")
    r.add_argument("--controller_pid", type=int, default=0)
    r.add_argument("--rss_samples", default="/dev/null")
    r.add_argument("--pg_stats", default="",
                   help="write pg_stat_statements of the window to PREFIX-NAME.txt")
    r.add_argument("--results", required=True)
    o = sub.add_parser("optuna")
    o.add_argument("--url", required=True, help="SQLAlchemy URL of the Optuna database")
    o.add_argument("--db", required=True, help="libpq URI of the same database")
    o.add_argument("--spec", required=True)
    o.add_argument("--processes", type=int, default=1)
    o.add_argument("--warmup", type=float, default=3)
    o.add_argument("--window", type=float, default=15)
    o.add_argument("--results", required=True)
    f = sub.add_parser("prefill")
    f.add_argument("--nasctl", required=True)
    f.add_argument("--spec", required=True)
    f.add_argument("--db", required=True)
    f.add_argument("--count", type=int, required=True)
    f.add_argument("--id_file", required=True)
    f.add_argument("--results", required=True, help="its folder holds the spec's copy")
    p = sub.add_parser("report")
    p.add_argument("--results", required=True)
    args = parser.parse_args()
    {"round": run_round, "prefill": run_prefill, "optuna": run_optuna,
     "report": report}[args.command](args)


if __name__ == "__main__":
    main()
