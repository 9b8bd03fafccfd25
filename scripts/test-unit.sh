#!/usr/bin/env bash
# npm run test:unit: the fast loop. Builds what changed, lints, and runs the
# tests that need no Traffic Server and no API server: the C++ core and plugin
# logic (ctest) and the TypeScript unit tests. Seconds once built; set-up is
# npm test's (run it once first on a new machine).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
started=$SECONDS
bash scripts/build.sh
step "Lint (ESLint: layers, promises)"
npx eslint .
step "C++ tests (ctest: the core, the plugin's logic)"
ctest --test-dir native/build --output-on-failure -j "$JOBS" | tail -3
ctest --test-dir ats-plugin/build --output-on-failure -j "$JOBS" | tail -3
step "TypeScript unit tests"
# Tests that start an API server are named *.apiserver.test.ts; test/ holds
# the ones that run Traffic Server.
mapfile -t unit < <(find dist/src -name '*.test.js' ! -name '*.apiserver.test.js' | sort)
node --test --test-reporter=dot "${unit[@]}"
info "unit tests passed in $((SECONDS - started)) s"
