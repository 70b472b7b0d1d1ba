#!/usr/bin/env bash
# The load test at a size that takes minutes (docs/reliability.md): the five apps as processes on
# loopback, LOAD_CLIENTS concurrent clients creating items through the inventory API while the
# faker generates songs and paged polls run; then the inventory and the faker must agree exactly.
# Every LOAD_* setting of e2e/load/load.e2e.spec.ts may be overridden from the environment. Runs
# through scripts/test.sh (a throwaway store unless TEST_MONGO_URL is set; Redis on 6379).
#   bash scripts/load-test.sh
#   LOAD_CLIENTS=40 LOAD_ITEMS_PER_CLIENT=50 bash scripts/load-test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

export LOAD_CLIENTS="${LOAD_CLIENTS:-20}"
export LOAD_ITEMS_PER_CLIENT="${LOAD_ITEMS_PER_CLIENT:-50}"
export LOAD_FAKER_BATCHES="${LOAD_FAKER_BATCHES:-20}"
export LOAD_FAKER_BATCH="${LOAD_FAKER_BATCH:-50}"
export LOAD_PAGE_SIZE="${LOAD_PAGE_SIZE:-100}"
export LOAD_POLL_MINUTE_MS="${LOAD_POLL_MINUTE_MS:-2000}"
export LOAD_CONVERGE_TIMEOUT_MS="${LOAD_CONVERGE_TIMEOUT_MS:-300000}"
export LOAD_REPORT="${LOAD_REPORT:-$(mktemp -t load-report.XXXXXX.json)}"
export SKIP_TYPECHECK="${SKIP_TYPECHECK:-1}"

echo "[load] $LOAD_CLIENTS clients x $LOAD_ITEMS_PER_CLIENT items, faker $LOAD_FAKER_BATCHES x $LOAD_FAKER_BATCH songs, pages of $LOAD_PAGE_SIZE, a poll every $LOAD_POLL_MINUTE_MS ms"
status=0
bash scripts/test.sh e2e/load/load.e2e.spec.ts || status=$?
if [ -s "$LOAD_REPORT" ]; then
  echo "[load] report ($LOAD_REPORT):"
  cat "$LOAD_REPORT"
fi
exit $status
