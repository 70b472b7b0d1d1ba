#!/usr/bin/env bash
# Validates the compose files without a Docker engine: docker-compose.yml alone and with
# docker-compose.dev.yml, each without and with the demo profile (`config` parses, merges,
# interpolates and checks them against the Compose schema). Which services each profile runs is
# checked by tools/deploy/compose.spec.ts. Uses `docker compose` (v2) when present, else
# docker-compose (Debian's 1.29, installed with apt-get when missing and running as root).
set -euo pipefail
cd "$(dirname "$0")/.."

if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
else
  if ! command -v docker-compose >/dev/null; then
    [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null || { echo "[compose] neither docker compose nor docker-compose is installed" >&2; exit 1; }
    echo "[compose] installing docker-compose with apt-get (once)" >&2
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose >/dev/null; } || { echo "[compose] could not install docker-compose" >&2; exit 1; }
  fi
  compose=(docker-compose)
fi

# config refuses to render without the required keys; any value will do here.
export JWT_PRIVATE_KEY=compose-check-only JWT_PUBLIC_KEYS=compose-check-only SECRETS_KEYS=compose-check-only

for files in "-f docker-compose.yml" "-f docker-compose.yml -f docker-compose.dev.yml"; do
  for profile in "" "--profile demo"; do
    # shellcheck disable=SC2086 # the file and profile flags are meant to split into words
    "${compose[@]}" $files $profile config -q
    echo "[compose] valid ($("${compose[@]}" version --short 2>/dev/null || echo "${compose[*]}")): $files ${profile:-(no profile)}"
  done
done
