#!/usr/bin/env bash
# The convergence test (e2e/convergence, model-based randomized testing of the two-way sync) with
# more sequences than CI runs, or replaying a counterexample it printed:
#   npm run test:convergence -- --runs 10000 [--seed 9009] [--max-commands 30] [--report FILE] [--progress 100]
#   npm run test:convergence -- --mutant no-fencing   (a deliberately broken engine: the run must fail)
#   CONVERGENCE_SEED=.. CONVERGENCE_PATH=.. CONVERGENCE_REPLAY_PATH=.. npm run test:convergence
# Uses the store and Redis like `npm test` (set TEST_MONGO_URL to use a running store). The
# typecheck is skipped unless SKIP_TYPECHECK=0.
set -euo pipefail
cd "$(dirname "$0")/.."
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) export CONVERGENCE_RUNS="$2"; shift 2 ;;
    --seed) export CONVERGENCE_SEED="$2"; shift 2 ;;
    --max-commands) export CONVERGENCE_MAX_COMMANDS="$2"; shift 2 ;;
    --report) export CONVERGENCE_REPORT="$2"; shift 2 ;;
    --progress) export CONVERGENCE_PROGRESS_EVERY="$2"; shift 2 ;;
    --mutant) export CONVERGENCE_MUTANT="$2"; shift 2 ;;
    *) echo "convergence.sh: unknown option $1 (use --runs, --seed, --max-commands, --report, --progress, --mutant)" >&2; exit 2 ;;
  esac
done
export SKIP_TYPECHECK="${SKIP_TYPECHECK:-1}"
exec bash scripts/test.sh e2e/convergence/convergence.e2e.spec.ts
