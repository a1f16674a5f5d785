#!/usr/bin/env bash
# A private PostgreSQL 15 cluster in a folder of the project, listening on a
# Unix socket inside that folder only (no TCP), owned by an unprivileged user.
#
#   scripts/pg_cluster.sh start DIR   -> prints a libpq connection URI on stdout
#   scripts/pg_cluster.sh stop DIR
#   scripts/pg_cluster.sh uri DIR
#
# The database "tinynas" is created on first start. Works as root (the cluster
# runs as the "postgres" system user, which the server package creates) and
# as an ordinary user (the cluster runs as that user).
set -euo pipefail

cmd=${1:?usage: pg_cluster.sh start|stop|uri DIR}
dir=${2:?usage: pg_cluster.sh start|stop|uri DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [[ -z "$bindir" ]]; then
  echo "pg_cluster: PostgreSQL server binaries not found; run scripts/install_deps.sh" >&2
  exit 1
fi

if [[ $(id -u) -eq 0 ]]; then
  pguser=postgres
  run() { runuser -u postgres -- "$@"; }
else
  pguser=$(id -un)
  run() { "$@"; }
fi

data="$dir/data"
sock="$dir/sock"
uri="postgresql:///tinynas?host=$sock&user=$pguser"

case "$cmd" in
  start)
    mkdir -p "$sock"
    if [[ $(id -u) -eq 0 ]]; then
      chown postgres: "$dir" "$sock"
      # The socket folder must be reachable by the postgres user.
      p="$dir"; while [[ "$p" != / ]]; do chmod o+x "$p" 2>/dev/null || true; p=$(dirname "$p"); done
    fi
    if [[ ! -f "$data/PG_VERSION" ]]; then
      run "$bindir/initdb" -D "$data" -U "$pguser" -A trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 ||
        { echo "pg_cluster: initdb failed, see $dir/initdb.log" >&2; exit 1; }
      cat >>"$data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$sock'
max_connections = 200
shared_buffers = 128MB
fsync = on
synchronous_commit = on
CONF
    fi
    if ! run "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
      run "$bindir/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 start >/dev/null ||
        { echo "pg_cluster: server did not start, see $dir/server.log" >&2; exit 1; }
    fi
    if ! run "$bindir/psql" -h "$sock" -U "$pguser" -d postgres -Atqc \
        "SELECT 1 FROM pg_database WHERE datname='tinynas'" | grep -q 1; then
      run "$bindir/createdb" -h "$sock" -U "$pguser" tinynas
    fi
    echo "$uri"
    ;;
  stop)
    if [[ -f "$data/PG_VERSION" ]] && run "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
      run "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null
    fi
    ;;
  uri)
    echo "$uri"
    ;;
  *)
    echo "pg_cluster: unknown command '$cmd' (start|stop|uri)" >&2
    exit 2
    ;;
esac
