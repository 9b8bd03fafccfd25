#!/usr/bin/env bash
# Runs the benchmarks in full. Not part of npm test (which runs a quick mode).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
bash scripts/build.sh >/dev/null
step "Lookup: ns per lookup, route-table core against a naive map-and-scan router"
native/build/lookup_bench "$@"
step "Build and publish: time and memory at 1,000 and 10,000 Ingresses with 100,000 endpoints"
node --expose-gc dist/bench/controller/build-publish-bench.js
step "Manifests: controller --manifests DIR --once at 10,000 Ingresses, time and peak RSS"
node dist/bench/controller/manifests-bench.js
step "Proxy: the plugin against static remap.config and a Lua+Redis lookup, through wrk"
node dist/bench/proxy/proxy-bench.js
step "Controller: time from a write to the API server to the route served through ATS"
node dist/bench/controller/latency-bench.js
step "TLS: handshakes/s with certificates from the plugin against ssl_multicert.config; publishing 1,000 certificates"
node dist/bench/proxy/tls-bench.js
