#!/usr/bin/env bash
# `npm start`: the whole system on this machine, in one terminal.
#   - installs what is missing: node_modules (npm ci), the FerretDB binary (built once with Go);
#   - starts Redis when nothing answers on 127.0.0.1:6379, and a persistent store on 27017 when
#     MONGO_URL is not set (data in .data/store, or the PostgreSQL database music_dev);
#     something already answering on 27017 is reused;
#   - runs the five apps and the web console as separate processes with prefixed logs, waits
#     until each answers /health/live and prints where to go: the console, the API docs, the
#     queue dashboard, the demo;
#   - on Ctrl-C or SIGTERM stops what it started: the apps (SIGTERM, then SIGKILL after
#     STOP_TIMEOUT_S), the store, and Redis unless it was already running.
# Settings: the shell's environment, then `.env` (see .env.example), then the defaults below.
set -euo pipefail

# Started in the background by a non-interactive shell (CI, `cmd &` in a script), this script
# inherits SIGINT ignored, and bash cannot trap a signal ignored on entry: restart once with the
# default disposition so SIGINT stops the stack there too.
sigint_ignored() { [ $(( 0x$(awk '/^SigIgn:/ { print $2 }' /proc/$$/status 2>/dev/null || echo 0) & 2 )) -ne 0 ]; }
if [ -z "${STACK_SIGNALS_RESET:-}" ] && sigint_ignored && env --default-signal=INT true 2>/dev/null; then
  STACK_SIGNALS_RESET=1 exec env --default-signal=INT bash "$0" "$@"
fi

cd "$(dirname "$0")/.."

STOP_TIMEOUT_S=${STOP_TIMEOUT_S:-10}
START_TIMEOUT_S=${START_TIMEOUT_S:-120}
STORE_PORT=27017
APPS=(music-config music-auth music-inventory music-integration music-faker music-console)
declare -A PORTS=([music-config]=3000 [music-auth]=3001 [music-inventory]=3002 [music-integration]=3003 [music-faker]=5000 [music-console]=8080)
declare -A COLORS=([music-config]=36 [music-auth]=35 [music-inventory]=32 [music-integration]=33 [music-faker]=34 [music-console]=96)
declare -A APP_PIDS=()

say() { printf '[stack] %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# KEY=value lines; quotes are stripped, `#` starts a comment. Nothing is evaluated. A variable
# already set (non-empty) in the shell's environment keeps its value.
load_env_file() {
  local file=$1 line key value
  local assignment='^[[:space:]]*(export[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*=[[:space:]]*(.*)$'
  local double_quoted='^"(.*)"[[:space:]]*(#.*)?$' single_quoted="^'(.*)'[[:space:]]*(#.*)?$"
  [ -f "$file" ] || return 0
  while IFS= read -r line || [ -n "$line" ]; do
    line=${line%$'\r'}
    [[ $line =~ $assignment ]] || continue
    key=${BASH_REMATCH[2]} value=${BASH_REMATCH[3]}
    if [[ $value =~ $double_quoted || $value =~ $single_quoted ]]; then
      value=${BASH_REMATCH[1]}
    else
      value=${value%%[[:space:]]#*}
      [[ $value == \#* ]] && value=""
      value=${value%"${value##*[![:space:]]}"}
    fi
    [ -n "${!key:-}" ] || export "$key=$value"
  done <"$file"
}

# --- prerequisites -------------------------------------------------------------------------
# The lines package.json's engines accept: ^20.19.0 || ^22.13.0 || >=24 (26 is what the image runs).
command -v node >/dev/null || die "Node.js 26 (or 24, 22.13+, 20.19+) is needed (https://nodejs.org)"
node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a >= 24 || (a === 22 && b >= 13) || (a === 20 && b >= 19) ? 0 : 1)' ||
  die "Node.js 26 (or 24, 22.13+, 20.19+) is needed; this is $(node --version)"
(source scripts/services.sh && ensure_node_modules)

# Before services.sh, so FERRETDB_BIN / STORE_BACKEND from .env apply there too.
load_env_file .env
source scripts/services.sh

taken=()
for app in "${APPS[@]}"; do
  port=${PORTS[$app]}
  if port_open "$port"; then
    owner=$(ss -Hltnp "sport = :$port" 2>/dev/null | grep -o 'users:(("[^"]*",pid=[0-9]*' | head -1 | sed 's/users:(("\(.*\)",pid=\(.*\)/\1, pid \2/' || true)
    taken+=("port $port ($app) is already in use${owner:+ by $owner}")
  fi
done
if [ ${#taken[@]} -gt 0 ]; then
  for t in "${taken[@]}"; do say "$t"; done
  die "free those ports (is another \`npm start\` running?) and try again"
fi

# --- stopping ------------------------------------------------------------------------------
STOPPING="" CLEANED="" FIRST_SIGNAL_US=0 FORCE=""

now_us() { echo "${EPOCHREALTIME/./}"; }

stop_apps() {
  local app pid waited=0 alive
  for app in "${!APP_PIDS[@]}"; do
    pid=${APP_PIDS[$app]}
    # Each app leads its own process group (set -m below): signal the group, the app and any child.
    kill -0 "$pid" 2>/dev/null && { kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true; }
  done
  while :; do
    alive=()
    for app in "${!APP_PIDS[@]}"; do kill -0 "${APP_PIDS[$app]}" 2>/dev/null && alive+=("$app"); done
    [ ${#alive[@]} -eq 0 ] && break
    if [ -n "$FORCE" ] || [ "$waited" -ge $((STOP_TIMEOUT_S * 10)) ]; then
      say "still running after ${STOP_TIMEOUT_S} s or a second signal: SIGKILL ${alive[*]}"
      for app in "${alive[@]}"; do kill -KILL -- "-${APP_PIDS[$app]}" 2>/dev/null || kill -KILL "${APP_PIDS[$app]}" 2>/dev/null || true; done
      break
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  for app in "${!APP_PIDS[@]}"; do wait "${APP_PIDS[$app]}" 2>/dev/null || true; done
  APP_PIDS=()
}

cleanup() {
  local status=$?
  [ -n "$CLEANED" ] && return
  CLEANED=1 STOPPING=1
  set +e
  [ "$FIRST_SIGNAL_US" -eq 0 ] && FIRST_SIGNAL_US=$(now_us)
  if [ ${#APP_PIDS[@]} -gt 0 ]; then say "stopping the apps"; stop_apps; fi
  if [ ${#STARTED_PIDS[@]} -gt 0 ]; then say "stopping the store"; stop_started; fi
  if [ -n "$REDIS_STARTED" ]; then
    say "stopping the Redis this script started"
    redis-cli -h 127.0.0.1 -p 6379 shutdown nosave >/dev/null 2>&1 || true
  fi
  sleep 0.2 # let the log prefixers flush the apps' last lines
  say "stopped"
  exit "$status"
}

# The first INT/TERM starts the shutdown. Under `npm start` a Ctrl-C arrives twice (from the
# terminal, and forwarded by npm): a repeat within a second is the same request; a later one
# means "hurry" and SIGKILLs what is left.
on_signal() { # name exit-status
  if [ -n "$STOPPING" ]; then
    [ $(( $(now_us) - FIRST_SIGNAL_US )) -gt 1000000 ] && FORCE=1
    return 0
  fi
  STOPPING=1 FIRST_SIGNAL_US=$(now_us)
  echo >&2
  say "$1: stopping everything this script started"
  exit "$2"
}
trap cleanup EXIT
trap 'on_signal SIGINT 130' INT
trap 'on_signal SIGTERM 143' TERM

# --- stores --------------------------------------------------------------------------------
if [ -z "${REDIS_URL:-}" ]; then
  ensure_redis || die "Redis is not available on 127.0.0.1:6379"
  export REDIS_URL=redis://127.0.0.1:6379
fi

if [ -z "${MONGO_URL:-}" ]; then
  if port_open "$STORE_PORT"; then
    say "something already answers on 127.0.0.1:$STORE_PORT: using it as the store"
    # directConnection: when that is the replica set of docker-compose.dev.yml, its member is named
    # mongo:27017, a name only the compose network resolves; talk to this address as given.
    MONGO_URL="mongodb://127.0.0.1:$STORE_PORT/?directConnection=true"
  else
    mkdir -p .data/store
    start_store "$STORE_PORT" music_dev "$PWD/.data/store" >/dev/null || die "the store did not start (see .data/store/*.log)"
    MONGO_URL=$STORE_URL
  fi
  export MONGO_URL
fi

export MONGO_DB=${MONGO_DB:-music}
export NODE_ENV=${NODE_ENV:-development}
export LOG_FORMAT=${LOG_FORMAT:-pretty}
# The local stack talks to the faker on loopback, which outbound calls refuse unless allowed.
export OUTBOUND_ALLOW_LIST=${OUTBOUND_ALLOW_LIST:-127.0.0.1,localhost,::1}

# --- apps ----------------------------------------------------------------------------------
DEFAULT_HEAP_LIMIT_MB=512
color=""
[ -t 1 ] && [ -z "${NO_COLOR:-}" ] && color=1

start_app() {
  local app=$1 name=${1#music-} prefix
  if [ -n "$color" ]; then prefix=$'\e['"${COLORS[$app]}m[$name]"$'\e[0m '; else prefix="[$name] "; fi
  # Job control gives each app its own process group: the terminal's Ctrl-C reaches this script
  # only, which then stops every app once, in order. The prefixer ignores INT/TERM and ends when
  # the app's output closes, so shutdown lines still get printed.
  set -m
  # The heap's limit as the image sets it (docker/run-app.sh): HEAP_LIMIT_MB, 0 = Node's own sizing.
  local heap=() mb=${HEAP_LIMIT_MB:-$DEFAULT_HEAP_LIMIT_MB}
  [[ $mb =~ ^[0-9]{1,7}$ ]] || die "HEAP_LIMIT_MB must be a whole number of MB (0: Node's own sizing), not '$mb'"
  [[ $mb != 0 && ${NODE_OPTIONS:-} != *max[-_]old[-_]space[-_]size* ]] && heap=(--max-old-space-size="$mb")
  PORT=${PORTS[$app]} node --enable-source-maps "${heap[@]}" --import tsx "apps/$app/src/main.ts" </dev/null \
    > >(trap '' INT TERM; exec awk -v p="$prefix" '{ print p $0; fflush() }') 2>&1 &
  APP_PIDS[$app]=$!
  set +m
}

http_status() { # port path
  curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://127.0.0.1:$1$2" 2>/dev/null || true
}

say "store $MONGO_URL (db $MONGO_DB), redis $REDIS_URL"
for app in "${APPS[@]}"; do start_app "$app"; done

deadline=$((SECONDS + START_TIMEOUT_S))
for app in "${APPS[@]}"; do
  until [ "$(http_status "${PORTS[$app]}" /health/live)" = 200 ]; do
    kill -0 "${APP_PIDS[$app]}" 2>/dev/null || die "$app exited during start-up (its [${app#music-}] lines above say why)"
    [ $SECONDS -lt $deadline ] || die "$app did not answer /health/live on port ${PORTS[$app]} within $START_TIMEOUT_S s"
    sleep 0.3
  done
done

# Live is enough to go on; readiness (stores reachable) is shown, given a few seconds to settle.
declare -A READY=()
for app in "${APPS[@]}"; do
  for _ in $(seq 1 20); do
    READY[$app]=$(http_status "${PORTS[$app]}" /health/ready)
    [ "${READY[$app]}" = 200 ] && break
    sleep 0.25
  done
done

dashboard_login="admin / admin, the development login"
[ -n "${ADMIN_USER:-}" ] && dashboard_login="the ADMIN_USER / ADMIN_PASSWORD login"
{
  echo
  printf '  %-19s %-24s %s\n' app url ready
  for app in "${APPS[@]}"; do
    printf '  %-19s %-24s %s\n' "$app" "http://localhost:${PORTS[$app]}" "$([ "${READY[$app]}" = 200 ] && echo yes || echo "no (${READY[$app]}: see /health/ready)")"
  done
  echo
  printf '  %-10s %s\n' console "http://localhost:${PORTS[music-console]}  (sign up, create an organization, sync it, read its runs)"
  printf '  %-10s %s\n' "API docs" "http://localhost:3000/docs  :3001/docs  :3002/docs  :3003/docs  :5000/docs"
  printf '  %-10s %s\n' dashboard "http://localhost:3003/admin/queues  (queues; $dashboard_login)"
  printf '  %-10s %s\n' demo "npm run demo  (in another terminal: the walkthrough, step by step)"
  printf '\n  store %s  redis %s\n  ready. Ctrl-C stops everything this script started.\n\n' "$MONGO_URL" "$REDIS_URL"
} >&2

# One app dying takes the stack down: a half-running system is harder to reason about than none.
while :; do
  for app in "${APPS[@]}"; do
    if ! kill -0 "${APP_PIDS[$app]}" 2>/dev/null; then
      code=0
      wait "${APP_PIDS[$app]}" || code=$?
      unset "APP_PIDS[$app]"
      die "$app exited (status $code); stopping the rest"
    fi
  done
  sleep 1
done
