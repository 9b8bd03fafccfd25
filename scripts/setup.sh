#!/usr/bin/env bash
# Installs what is missing, for one of three uses:
#   ATSI_SETUP_PROFILE=test    (default) everything npm test needs: Debian
#                              packages, npm packages, and the test API server
#                              (kube-apiserver, etcd, kubectl,
#                              kube-controller-manager) built from Go
#                              modules into a cache outside the checkout
#   ATSI_SETUP_PROFILE=demo    what npm run demo needs (no Go, no API server)
#   ATSI_SETUP_PROFILE=build   only what building needs (the Dockerfile's builder)
# Traffic Server must be Debian's 9.2 (the plugin is built against its API);
# other packages are taken at the version Debian 12 has.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
PROFILE="${ATSI_SETUP_PROFILE:-test}"
case "$PROFILE" in test | demo | build) ;; *) die "ATSI_SETUP_PROFILE=$PROFILE: expected test, demo or build" ;; esac

ATS_VERSION_PREFIX="9.2."
DEBS=(
  trafficserver trafficserver-dev libssl-dev    # the proxy and its plugin API
  cmake ninja-build make g++ pkg-config python3 # the C++ core, plugin and addon
  googletest libgtest-dev                       # C++ unit tests (built with the core)
)
if [[ "$PROFILE" != build ]]; then
  DEBS+=(
    clang libclang-rt-14-dev llvm               # sanitizers and libFuzzer
    curl openssl procps iproute2                # tests and the demo (iproute2: test network namespaces)
    wrk redis-server lua-redis lua-socket nginx  # the benchmarks (quick mode runs in the tests)
  )
fi
if [[ "$PROFILE" == test ]]; then DEBS+=(valgrind); fi # callgrind: the plugin's instructions-per-request test

step "Checking Debian packages"
missing=()
for p in "${DEBS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  info "missing: ${missing[*]}"
  if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
    die "cannot install packages here (need root and apt-get). Install them and run again:
    sudo apt-get install -y ${missing[*]}"
  fi
  info "installing with apt-get (about a minute)"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The packages start system-wide services where systemd runs (traffic_manager
  # on 8080, nginx on 80); ours run privately, on ports of their own.
  for unit in trafficserver nginx redis-server; do
    if command -v systemctl >/dev/null && systemctl is-active --quiet "$unit" 2>/dev/null; then
      systemctl disable --now "$unit" >/dev/null 2>&1 || true
    fi
  done
else
  info "all ${#DEBS[@]} present"
fi
ats_version="$(dpkg-query -W -f='${Version}' trafficserver)"
[[ "$ats_version" == ${ATS_VERSION_PREFIX}* ]] || die "trafficserver $ats_version is installed; this project is built and tested against ${ATS_VERSION_PREFIX}x (Debian 12)"
info "trafficserver $ats_version"

step "Checking Node.js"
command -v node >/dev/null || die "node is not installed: install Node.js 20 or later"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
((node_major >= 20)) || die "Node.js $(node --version) is too old: install Node.js 20 or later"
info "node $(node --version)"

step "Installing npm packages"
cd "$ROOT"
if [[ -d node_modules && node_modules/.package-lock.json -nt package-lock.json ]]; then
  info "node_modules is up to date"
else
  npm ci --no-audit --no-fund --loglevel=error
fi

if [[ "$PROFILE" == test ]]; then
  step "Checking Go (it builds the test API server; the product does not use it)"
  GO="$(command -v go || true)"
  [[ -n "$GO" ]] || { [[ -x /usr/local/go/bin/go ]] && GO=/usr/local/go/bin/go; }
  [[ -n "$GO" ]] || die "go is not installed: install Go 1.25 or later (https://go.dev/dl) and put it on PATH"
  info "$("$GO" version)"
  step "The test cluster's binaries (kube-apiserver, etcd, kubectl, kube-controller-manager)"
  PATH="$(dirname "$GO"):$PATH" bash "$ROOT/scripts/kubebin.sh" >/dev/null
  step "The Gateway API conformance suite (go test -c of tools/conformance; needs Go 1.26)"
  PATH="$(dirname "$GO"):$PATH" bash "$ROOT/scripts/conformance-bin.sh" >/dev/null
fi
