#!/usr/bin/env bash
# npm run demo: set up what is missing, build, then run the local demo.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
bash scripts/setup.sh
bash scripts/build.sh
step "Starting the demo"
exec node dist/src/demo/run-demo.js "$@"
