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

# The real Codecov uploader, pinned, for the drop-in test (test/integration/codecov-cli.test.ts),
# in a virtualenv under the git-ignored tools folder; nothing to do when that version is there.
CODECOV_CLI_VERSION=11.3.1
venv=.tools/venv
if ! "$venv/bin/python3" -c "import importlib.metadata as m, sys; sys.exit(m.version('codecov-cli') != '$CODECOV_CLI_VERSION')" 2>/dev/null; then
  need python3 "Python 3.9 or later with venv: apt-get install python3-venv"
  echo "[setup] installing codecov-cli $CODECOV_CLI_VERSION…" >&2
  [ -x "$venv/bin/python3" ] || python3 -m venv "$venv"
  "$venv/bin/python3" -m pip install --quiet --disable-pip-version-check "codecov-cli==$CODECOV_CLI_VERSION"
fi
