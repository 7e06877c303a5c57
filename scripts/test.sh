#!/usr/bin/env bash
# The test command (`npm test`): installs what is missing (Node dependencies, the Temporal CLI and
# the Java time-skipping server), typechecks, then runs every test file with Node's test runner.
# Pass file paths to run only those: npm test -- test/unit/config.test.ts
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
bash scripts/setup.sh

echo "[test] typechecking…" >&2
npx tsc -p tsconfig.json --noEmit

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
