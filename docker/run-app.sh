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
if [ -f "$apps_dir/$1/src/main.js" ]; then
  app=$1
  shift
  exec node --enable-source-maps "$apps_dir/$app/src/main.js" "$@"
fi
case $1 in
  music-*) echo "no app named $1 in this image" >&2; usage ;;
esac
exec "$@"
