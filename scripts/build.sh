#!/usr/bin/env bash
# Builds everything: TypeScript, the Node addon, the C++ core and its tests,
# and the ATS plugin. Incremental: a second run only rebuilds what changed.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

step "Compiling TypeScript"
# What dist/ holds for a source that is gone (a deleted or moved test) goes
# first, so that it cannot run; then an incremental compile.
if [[ -d dist ]]; then
  find dist -name '*.js' -print0 | while IFS= read -r -d '' js; do
    src="${js#dist/}"
    [[ -f "${src%.js}.ts" ]] || rm -f "$js" "$js.map"
  done
fi
npx tsc -p . --incremental --tsBuildInfoFile dist/.tsbuildinfo
chmod +x dist/src/cli/main.js

step "Building the Node addon (node-gyp)"
gyp_args=()
# Use the headers of the installed Node rather than downloading them.
node_prefix="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
for dir in "$node_prefix" /usr /usr/local; do
  if [[ -f "$dir/include/node/node_api.h" ]]; then gyp_args+=("--nodedir=$dir"); break; fi
done
((${#gyp_args[@]})) || die "no Node.js headers found (include/node/node_api.h under $node_prefix, /usr or /usr/local); install the headers of your Node.js (Debian/NodeSource: they come with the nodejs package)"
if [[ ! -f build/config.gypi || binding.gyp -nt build/config.gypi ]]; then
  npx node-gyp configure "${gyp_args[@]}" --loglevel=warn
fi
npx node-gyp build -j "$JOBS" --loglevel=warn
info "built build/Release/ats_ingress.node"

step "Building the C++ core and its tests (CMake)"
cmake -S native -B native/build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build native/build -j "$JOBS"

if [[ -f ats-plugin/CMakeLists.txt ]]; then
  step "Building the ATS plugin (CMake)"
  cmake -S ats-plugin -B ats-plugin/build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build ats-plugin/build -j "$JOBS"
fi
