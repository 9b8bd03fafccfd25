#!/usr/bin/env bash
# npm run conformance [-- OPTIONS]: builds what is missing, then runs the
# upstream Gateway API conformance suite, unchanged, against ats-ingress on
# this machine (test/conformance/run.ts lists the options; README, "Gateway
# API conformance"). Needs root: Traffic Server on ports 80 and 443, network
# namespaces for the Pods, an unreachable route for the Service range.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
[[ "$(id -u)" == 0 ]] || die "the conformance run needs root (ports 80 and 443, ip netns, ip route)"
bash scripts/setup.sh
bash scripts/build.sh
step "Gateway API conformance suite"
exec node dist/test/conformance/run.js "$@"
