#!/usr/bin/env bash
# Builds the Gateway API conformance suite's echo server (the Go package
# sigs.k8s.io/gateway-api/conformance/echo-basic, a `tool` of the module in
# tools/gateway-conformance, at the release tools/gateway-api pins) into a
# per-machine cache outside the checkout, keyed by version and a hash of the
# module's inputs, and only when it is missing:
#
#   ${XDG_CACHE_HOME:-$HOME/.cache}/ats-ingress/echo-basic/<version>-<hash>/echo-basic
#
# The test harness's process kubelet runs it for the suite's backend image.
# Progress goes to stderr; the last (and only) line on stdout is that folder.
# Cold: about 30 s on 2 cores (gRPC is most of it), 0.2 GB; warm: nothing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
exec 3>&1 1>&2

MOD="$ROOT/tools/gateway-conformance"
[[ -f "$MOD/go.mod" ]] || die "missing $MOD/go.mod"
GO="$(command -v go || true)"
[[ -n "$GO" ]] || { [[ -x /usr/local/go/bin/go ]] && GO=/usr/local/go/bin/go; }
[[ -n "$GO" ]] || die "go not found: install Go 1.26 or later (https://go.dev/dl) and put it on PATH"

VERSION="$(awk '$1=="sigs.k8s.io/gateway-api/conformance" && $2 ~ /^v/ {print $2; exit}' "$MOD/go.mod")"
[[ -n "$VERSION" ]] || die "cannot read the sigs.k8s.io/gateway-api/conformance version from $MOD/go.mod"
PINNED="$(awk '$1=="require" && $2=="sigs.k8s.io/gateway-api" {print $3; exit}' "$ROOT/tools/gateway-api/go.mod")"
[[ "$VERSION" == "$PINNED" ]] || die "tools/gateway-conformance has conformance $VERSION but tools/gateway-api pins $PINNED: move them together"
HASH="$( (cd "$MOD" && cat go.mod go.sum) | sha256sum | cut -c1-12)"
BASE="$CACHE_HOME/echo-basic"
DIR="$BASE/$VERSION-$HASH"
if [[ -x "$DIR/echo-basic" ]]; then
  info "echo-basic: using cached $DIR"
  echo "$DIR" >&3
  exit 0
fi
mkdir -p "$BASE"
exec 9>"$BASE/.lock"
flock 9
if [[ -x "$DIR/echo-basic" ]]; then echo "$DIR" >&3; exit 0; fi

step "Building the Gateway API conformance echo server ($VERSION) into $DIR"
info "about 30 s the first time on a machine"
TMP="$(mktemp -d "$BASE/.build.XXXXXX")"
chmod 755 "$TMP"
trap 'rm -rf "$TMP"' EXIT
START=$SECONDS
(
  cd "$MOD"
  export CGO_ENABLED=0 GOFLAGS="-mod=mod -buildvcs=false"
  "$GO" build -p 2 -trimpath -ldflags="-s -w" -o "$TMP/echo-basic" sigs.k8s.io/gateway-api/conformance/echo-basic
) || die "echo-basic: go build failed (see above)"
[[ -x "$TMP/echo-basic" ]] || die "echo-basic: go build produced no $TMP/echo-basic"
mv -T "$TMP" "$DIR" 2>/dev/null && trap - EXIT || [[ -x "$DIR/echo-basic" ]] || die "echo-basic: cannot move $TMP to $DIR"
info "built in $((SECONDS - START)) s"
echo "$DIR" >&3
