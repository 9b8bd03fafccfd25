#!/usr/bin/env bash
# npm run soak [-- --faults | --resources]: the long soaks (test/soak/), once.
# Not part of npm test, which runs their short versions
# (test/e2e/soak-faults.test.ts, test/e2e/soak-resources.test.ts).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
bash scripts/setup.sh
bash scripts/build.sh >/dev/null
step "Soak ($*): load average $(cut -d' ' -f1-3 /proc/loadavg) on $JOBS cores"
node dist/test/soak/main.js "$@"
