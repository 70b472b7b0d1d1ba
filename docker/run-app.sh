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
# The V8 heap's limit in MB (HEAP_LIMIT_MB, default 512): left to itself, Node sizes it from the
# machine's memory, and on a large machine a busy process lets garbage pile up to hundreds of MB
# before it collects (docs/performance.md, section 5). 0, or a --max-old-space-size of your own
# in NODE_OPTIONS, leaves the sizing to Node (which also reads a container's memory limit).
heap=${HEAP_LIMIT_MB:-512}
case $heap in
  '' | *[!0-9]*) echo "HEAP_LIMIT_MB must be a whole number of MB (0: Node's own sizing), not '$heap'" >&2; exit 2 ;;
esac
case ${NODE_OPTIONS:-} in
  *max-old-space-size*) heap=0 ;;
esac
if [ -f "$apps_dir/$1/src/main.js" ]; then
  app=$1
  shift
  if [ "$heap" -gt 0 ]; then
    exec node --enable-source-maps --max-old-space-size="$heap" "$apps_dir/$app/src/main.js" "$@"
  fi
  exec node --enable-source-maps "$apps_dir/$app/src/main.js" "$@"
fi
case $1 in
  music-*) echo "no app named $1 in this image" >&2; usage ;;
esac
exec "$@"
