#!/usr/bin/env bash
# Runs the benchmarks in full. Not part of npm test (which runs a quick mode).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
bash scripts/build.sh >/dev/null
step "Lookup: ns per lookup, route-table core against a naive map-and-scan router"
native/build/lookup_bench "$@"
