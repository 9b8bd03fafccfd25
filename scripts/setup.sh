#!/usr/bin/env bash
# Installs what is missing for building and testing, and nothing else.
# Debian packages are pinned where the behaviour we test depends on them (ATS).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

ATS_VERSION_PREFIX="9.2."
DEBS=(
  trafficserver trafficserver-dev libssl-dev    # the proxy and its plugin API
  cmake make g++ pkg-config                     # the C++ core, plugin and tests
  googletest libgtest-dev                       # C++ unit tests
  clang libclang-rt-14-dev llvm                 # sanitizers and libFuzzer
  curl openssl procps                           # tests and the demo
  wrk redis-server lua-redis lua-socket         # the benchmarks (quick mode runs in the tests)
)

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
  # The package starts a system-wide traffic_manager where systemd runs; ours runs privately.
  if command -v systemctl >/dev/null && systemctl is-active --quiet trafficserver 2>/dev/null; then
    systemctl disable --now trafficserver >/dev/null 2>&1 || true
  fi
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
