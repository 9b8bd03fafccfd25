#!/usr/bin/env bash
# npm run demo: set up what is missing, build, then run the local demo.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
ATSI_SETUP_PROFILE=demo bash scripts/setup.sh
bash scripts/build.sh
step "Starting the demo"
exec node dist/demo/run-demo.js "$@"
