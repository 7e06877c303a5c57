#!/usr/bin/env bash
# The test command (`npm test`): installs what is missing (Node dependencies, the Temporal CLI and
# the Java time-skipping server), typechecks, lints, then runs every test file with Node's test runner.
# Pass file paths to run only those: npm test -- test/unit/config.test.ts
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
bash scripts/setup.sh

# Servers this run starts are stopped at the end, whatever happens; one EXIT trap for them all.
stop_at_exit=()
stop_servers() {
  local script
  for script in ${stop_at_exit[@]+"${stop_at_exit[@]}"}; do bash "$script" stop || true; done
}
trap stop_servers EXIT

# The web pages' browser tests drive Debian's Chromium (no browser download): installed with
# apt-get when it is missing, unless CHROMIUM_PATH names one.
if [ -z "${CHROMIUM_PATH:-}" ] && ! [ -x /usr/bin/chromium ]; then
  echo "test: no /usr/bin/chromium; installing Debian's 'chromium' package..." >&2
  if [ "$(id -u)" -ne 0 ]; then
    echo "test: installing 'chromium' needs root (apt-get install -y chromium), or set CHROMIUM_PATH" >&2
    exit 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get update >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium >&2
fi

# Storage tests run against PGlite and, through TEST_DATABASE_URL, a real PostgreSQL server:
# scripts/postgres.sh starts a local one unless a URL is given, and it is stopped at the end only
# if this run started it.
if [ -z "${TEST_DATABASE_URL:-}" ]; then
  pg_out=$(bash scripts/postgres.sh)
  TEST_DATABASE_URL=$(sed -n 's/^TEST_DATABASE_URL=//p' <<<"$pg_out")
  export TEST_DATABASE_URL
  if grep -qx 'POSTGRES_STARTED=yes' <<<"$pg_out"; then stop_at_exit+=(scripts/postgres.sh); fi
fi

# The S3 blob store's tests run against a real S3-compatible server (SeaweedFS): scripts/s3.sh
# builds and starts one unless TEST_S3_ENDPOINT is given, and the same rule applies at the end.
if [ -z "${TEST_S3_ENDPOINT:-}" ]; then
  s3_out=$(bash scripts/s3.sh)
  while IFS='=' read -r name value; do
    case "$name" in TEST_S3_*) export "$name=$value" ;; esac
  done <<<"$s3_out"
  if grep -qx 'S3_STARTED=yes' <<<"$s3_out"; then stop_at_exit+=(scripts/s3.sh); fi
fi

echo "[test] typechecking…" >&2
npx tsc -p tsconfig.json --noEmit
echo "[test] linting…" >&2
npx eslint --max-warnings 0 .

if [ "$#" -gt 0 ]; then
  files=("$@")
else
  mapfile -t files < <(find test -name '*.test.ts' | sort)
fi
echo "[test] running ${#files[@]} test files…" >&2
status=0
node --import tsx --test --test-reporter=spec "${files[@]}" || status=$?
echo "[test] finished in $(( $(date +%s) - t0 )) s" >&2
exit $status
