#!/bin/sh
# The image's entrypoint: runs one app of the build, chosen by the first argument.
#   docker run <image> music-auth        # music-config, music-auth, music-inventory,
#                                        # music-integration, music-console, music-faker
# exec: the app becomes the container's main process and receives its SIGTERM (graceful shutdown).
# Anything else runs as given (`docker run -it <image> sh`).
set -eu
apps_dir="$(cd "$(dirname "$0")/.." && pwd)/dist/apps"

usage() {
  echo "usage: <image> <app> (one of: $(ls "$apps_dir" | tr '\n' ' '))" >&2
  exit 2
}

[ $# -gt 0 ] || usage
# The V8 heap's limit in MB (HEAP_LIMIT_MB): left to itself, Node sizes the heap from the memory it
# may use, and on a large machine a busy process lets garbage pile up to hundreds of MB before it
# collects (docs/performance.md, section 5). Unset: 512, or, in a container with a memory limit,
# Node's own sizing from that limit. 0, or a heap limit of your own in NODE_OPTIONS: Node's sizing.
DEFAULT_HEAP_LIMIT_MB=512
heap_limit() {
  case ${NODE_OPTIONS:-} in
    *max[-_]old[-_]space[-_]size*) echo 0; return ;;
  esac
  if [ -n "${HEAP_LIMIT_MB:-}" ]; then
    case $HEAP_LIMIT_MB in
      *[!0-9]* | ????????*) echo "HEAP_LIMIT_MB must be a whole number of MB (0: Node's own sizing), not '$HEAP_LIMIT_MB'" >&2; return 1 ;;
    esac
    echo "$HEAP_LIMIT_MB"
    return
  fi
  # A container's memory limit: cgroup v2, then v1 (which says "none" with a huge number).
  limit=$(cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || true)
  case $limit in
    '' | max | *[!0-9]* | ????????????????*) echo "$DEFAULT_HEAP_LIMIT_MB" ;;
    *) echo 0 ;;
  esac
}

if [ -f "$apps_dir/$1/src/main.js" ]; then
  app=$1
  shift
  heap=$(heap_limit) || exit 2
  if [ "$heap" -gt 0 ]; then
    exec node --enable-source-maps --max-old-space-size="$heap" "$apps_dir/$app/src/main.js" "$@"
  fi
  exec node --enable-source-maps "$apps_dir/$app/src/main.js" "$@"
fi
case $1 in
  music-*) echo "no app named $1 in this image" >&2; usage ;;
esac
exec "$@"
