#!/usr/bin/env bash
# The benchmark (docs/performance.md): real Redis and a real store, started like the tests do
# (scripts/services.sh), then bench/main.ts with every argument (`npm run bench -- --quick`).
# BENCH_MONGO_URL points it at a running store instead (its own database is created and dropped).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh

ensure_redis
if [ -z "${BENCH_MONGO_URL:-}" ]; then
  BENCH_DATA=$(mktemp -d)
  BENCH_DB="music_bench_$$"
  trap 'stop_started; [ "$STORE_BACKEND_USED" = postgresql ] && psql -h 127.0.0.1 -U postgres -qc "drop database if exists \"$BENCH_DB\" with (force)" >/dev/null 2>&1; rm -rf "$BENCH_DATA"' EXIT
  port=${BENCH_STORE_PORT:-27019}
  # A store of its own on the first free port from 27019, so other stores on this machine are left alone.
  while port_open "$port"; do port=$((port + 1)); done
  # Not in $(...): the store's pid must stay in this shell's STARTED_PIDS so the trap stops it.
  start_store "$port" "$BENCH_DB" "$BENCH_DATA" >/dev/null
  export BENCH_MONGO_URL=$STORE_URL BENCH_STORE_BACKEND=$STORE_BACKEND_USED
fi
export BENCH_REDIS_URL="${BENCH_REDIS_URL:-redis://127.0.0.1:6379}"
node --import tsx bench/main.ts "$@"
