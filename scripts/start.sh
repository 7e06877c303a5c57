#!/usr/bin/env bash
# The main command (`npm start`): installs what is missing, provides the Temporal CLI, then runs
# Tributary with everything embedded (see README). Configuration comes from the environment.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --cli
exec node --import tsx src/main.ts "$@"
