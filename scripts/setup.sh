#!/usr/bin/env bash
# Shared set-up of the two README commands: Node dependencies, then the Temporal servers.
# Idempotent and quick when nothing changed. Arguments go to scripts/temporal-tools.mjs.
set -euo pipefail
cd "$(dirname "$0")/.."

need() {
  command -v "$1" >/dev/null 2>&1 || { echo "error: $1 is required ($2)" >&2; exit 1; }
}
need node "Node.js 20 or later: https://nodejs.org or apt-get install nodejs"
need npm "it comes with Node.js"
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  echo "error: Node.js 20 or later is required (found $(node --version))" >&2
  exit 1
fi

# Install when the lockfile changed since the last install. `npm install` follows the lockfile as
# `npm ci` would, but tolerates the platform-specific optional packages (@swc/core-*) that the lock
# records without entries, which make `npm ci` refuse.
stamp=node_modules/.tributary-lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  echo "[setup] installing Node dependencies…" >&2
  t0=$(date +%s)
  npm install --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
  echo "[setup] Node dependencies installed in $(( $(date +%s) - t0 )) s" >&2
fi

node scripts/temporal-tools.mjs "$@"
