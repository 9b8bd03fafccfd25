#!/usr/bin/env bash
# Copies what the runtime needs out of a built checkout into DEST: the
# compiled controller, production npm packages, the addon, the plugin and the
# container scripts. No compilers, no sources. Used by the Dockerfile's
# builder stage; CI runs it and starts the staged controller.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
DEST="${1:?usage: stage-app.sh DEST}"
cd "$ROOT"
for f in build/Release/ats_ingress.node ats-plugin/build/ats_ingress.so; do
  [[ -f "$f" ]] || die "$f is missing: run scripts/build.sh first"
done
mkdir -p "$DEST"
rm -rf "$DEST/dist" "$DEST/build" "$DEST/node_modules"
mkdir -p "$DEST/dist" "$DEST/build/Release" "$DEST/scripts/container" "$DEST/k8s"
# The shipped code only (tsconfig.build.json: no tests, test kits, demo,
# harness or benchmarks), compiled afresh into the staged tree.
npx tsc -p tsconfig.build.json --outDir "$DEST/dist"
chmod +x "$DEST/dist/src/cli/main.js"
cp build/Release/ats_ingress.node "$DEST/build/Release/"
cp ats-plugin/build/ats_ingress.so "$DEST/ats_ingress.so"
cp scripts/container/ats-entry.sh "$DEST/scripts/container/"
cp -r k8s/ingresses "$DEST/k8s/"
cp package.json package-lock.json "$DEST/"
(cd "$DEST" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)
strip --strip-unneeded "$DEST/ats_ingress.so" "$DEST/build/Release/ats_ingress.node" 2>/dev/null || true
info "staged into $DEST ($(du -sh "$DEST" | cut -f1))"
