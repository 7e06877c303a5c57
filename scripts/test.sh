#!/usr/bin/env bash
# The test command (`npm test`): installs what is missing (Node dependencies, the Temporal CLI and
# the Java time-skipping server), typechecks, lints, then runs every test file with Node's test runner.
# Pass file paths to run only those: npm test -- test/unit/config.test.ts
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
bash scripts/setup.sh

# Storage tests run against PGlite and, through TEST_DATABASE_URL, a real PostgreSQL server:
# scripts/postgres.sh starts a local one unless a URL is given, and it is stopped at the end only
# if this run started it.
if [ -z "${TEST_DATABASE_URL:-}" ]; then
  pg_out=$(bash scripts/postgres.sh)
  TEST_DATABASE_URL=$(sed -n 's/^TEST_DATABASE_URL=//p' <<<"$pg_out")
  export TEST_DATABASE_URL
  if grep -qx 'POSTGRES_STARTED=yes' <<<"$pg_out"; then
    trap 'bash scripts/postgres.sh stop' EXIT
  fi
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
