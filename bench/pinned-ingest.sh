#!/usr/bin/env bash
# The ingest part with the store on a core of its own (docs/performance.md, "1. Ingest"): PostgreSQL
# and a FerretDB started here on CPU 0, the benchmark and its worker processes on CPU 1, so the
# worker's own work on the records (fetching, mapping, hashing, encoding) does not take the store's
# CPU, as where the store runs on its own machine. Needs a local PostgreSQL it may re-pin (run as
# root or as its owner), `taskset`, and two CPUs; puts PostgreSQL back on every CPU at the end.
#   bash bench/pinned-ingest.sh [RUNS] [RECORDS]     (default 3 runs of 100,000 records; each run's
#   figures in $TMPDIR/pinned-ingest-N.json, bench/results.json left as it is)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
runs=${1:-3} records=${2:-100000} port=${PINNED_STORE_PORT:-27040}
db="music_pinned_$$"
ensure_redis
ensure_ferretdb
pg_pids() { pgrep -u postgres || true; }
unpin() {
  [ -n "${store_pid:-}" ] && kill "$store_pid" 2>/dev/null || true
  for p in $(pg_pids); do taskset -a -cp "0-$(($(nproc) - 1))" "$p" >/dev/null || true; done
  psql -h 127.0.0.1 -U postgres -d postgres -qc "drop database if exists \"$db\" with (force)" >/dev/null 2>&1 || true
}
trap unpin EXIT
psql -h 127.0.0.1 -U postgres -d postgres -qc "create database \"$db\"" >/dev/null
for p in $(pg_pids); do taskset -a -cp 0 "$p" >/dev/null; done
taskset -c 0 "$FERRETDB_BIN" --listen-addr="127.0.0.1:$port" --telemetry=disable --state-dir=- --debug-addr=- --log-level=warn \
  --handler=postgresql --postgresql-url="postgres://postgres@127.0.0.1:5432/$db?pool_max_conns=20" >/dev/null 2>&1 &
store_pid=$!
wait_port "$port" 30 FerretDB "$store_pid"
for i in $(seq 1 "$runs"); do
  BENCH_MONGO_URL="mongodb://127.0.0.1:$port/" taskset -c 1 bash bench/run.sh --quick --only ingest \
    --records "$records" --repoll-budget 120 --out "${TMPDIR:-/tmp}/pinned-ingest-$i.json"
done
