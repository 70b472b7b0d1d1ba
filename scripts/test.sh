#!/usr/bin/env bash
# The whole test suite: typecheck, then unit and integration tests against real Redis and a real
# store (a throwaway FerretDB on port 27018 unless TEST_MONGO_URL is set). Extra arguments go to Jest
# (`npm test -- apps/music-auth`, `npm test -- --selectProjects unit`).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh

export CI="${CI:-}" NX_NO_CLOUD=true
ensure_node_modules
ensure_redis
ensure_chromium || true
# The readiness outage test runs a private FerretDB of its own, whatever store the suite uses.
ensure_ferretdb || log "FerretDB is not available: libs/platform/src/readiness.integration.spec.ts will fail"
if [ -z "${TEST_MONGO_URL:-}" ]; then
  TEST_DATA=$(mktemp -d)
  TEST_DB="music_test_$$"
  trap 'stop_started; [ "$STORE_BACKEND_USED" = postgresql ] && psql -h 127.0.0.1 -U postgres -qc "drop database if exists \"$TEST_DB\" with (force)" >/dev/null 2>&1; rm -rf "$TEST_DATA"' EXIT
  # Not in $(...): the store's pid must stay in this shell's STARTED_PIDS so the trap stops it.
  start_store "${TEST_STORE_PORT:-27018}" "$TEST_DB" "$TEST_DATA" >/dev/null
  export TEST_MONGO_URL=$STORE_URL
fi
export TEST_REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379}"

if [ "${SKIP_TYPECHECK:-}" != 1 ]; then
  echo "[test] typecheck"
  npx tsc -p tsconfig.json --noEmit
  npx tsc -p apps/music-console/tsconfig.client.json
fi

echo "[test] jest (store: $TEST_MONGO_URL)"
results=$(mktemp)
status=0
npx jest --ci --json --outputFile="$results" "$@" || status=$?
# A plain closing line CI can read whatever the runner.
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped`);
' "$results" || true
rm -f "$results"
exit $status
