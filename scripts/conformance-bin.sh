#!/usr/bin/env bash
# Prebuilds the Gateway API conformance suite (the module in
# tools/conformance, which runs sigs.k8s.io/gateway-api/conformance
# unchanged) as a test binary (`go test -c`) into a per-machine cache outside
# the checkout, keyed by version and a hash of the module's inputs, and only
# when it is missing, so that a run never compiles:
#
#   ${XDG_CACHE_HOME:-$HOME/.cache}/ats-ingress/conformance/<version>-<hash>/conformance.test
#
# Progress goes to stderr; the last (and only) line on stdout is that folder,
# so callers can do: bin="$(bash scripts/conformance-bin.sh)".
# Measured on 2 cores: 1 min 56 s and 0.75 GB peak cold (controller-runtime
# and client-go are most of it); nothing when cached.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
exec 3>&1 1>&2

MOD="$ROOT/tools/conformance"
[[ -f "$MOD/go.mod" ]] || die "missing $MOD/go.mod"
GO="$(command -v go || true)"
[[ -n "$GO" ]] || { [[ -x /usr/local/go/bin/go ]] && GO=/usr/local/go/bin/go; }
[[ -n "$GO" ]] || die "go not found: install Go 1.26 or later (https://go.dev/dl) and put it on PATH"

# The version, from "require M vX" or a line "M vX" of a require block.
VERSION="$(awk '{ if ($1=="require") { $1=""; $0=$0 } } $1=="sigs.k8s.io/gateway-api/conformance" && $2 ~ /^v/ {print $2; exit}' "$MOD/go.mod")"
[[ -n "$VERSION" ]] || die "cannot read the sigs.k8s.io/gateway-api/conformance version from $MOD/go.mod"
# The CRDs the tests install come from tools/gateway-api: the suite checks
# their bundle-version against its own, so the two must move together.
PINNED="$(awk '$1=="require" && $2=="sigs.k8s.io/gateway-api" {print $3; exit}' "$ROOT/tools/gateway-api/go.mod")"
[[ "$VERSION" == "$PINNED" ]] || die "tools/conformance has conformance $VERSION but tools/gateway-api pins $PINNED: move them together"
LDFLAGS="-s -w"
HASH="$( (cd "$MOD" && cat go.mod go.sum ./*.go; echo "$LDFLAGS") | sha256sum | cut -c1-12)"
BASE="$CACHE_HOME/conformance"
DIR="$BASE/$VERSION-$HASH"
if [[ -x "$DIR/conformance.test" ]]; then
  info "conformance: using cached $DIR"
  echo "$DIR" >&3
  exit 0
fi
mkdir -p "$BASE"
exec 9>"$BASE/.lock"
if ! flock -n 9; then
  info "conformance: another build is running; waiting for it (lock $BASE/.lock)"
  flock 9
fi
if [[ -x "$DIR/conformance.test" ]]; then echo "$DIR" >&3; exit 0; fi

step "Building the Gateway API conformance suite ($VERSION) into $DIR"
info "about 2 minutes the first time on a machine (2 cores, 0.75 GB)"
TMP="$(mktemp -d "$BASE/.build.XXXXXX")"
chmod 755 "$TMP"
trap 'rm -rf "$TMP"' EXIT
START=$SECONDS
(
  cd "$MOD"
  # Static (no C compiler); -mod=mod as in scripts/kubebin.sh; -buildvcs=false
  # as the checkout may be shallow or another user's.
  export CGO_ENABLED=0 GOFLAGS="-mod=mod -buildvcs=false"
  "$GO" test -c -p 2 -trimpath -ldflags="$LDFLAGS" -o "$TMP/conformance.test" .
) || die "conformance: go test -c failed (see above)"
[[ -x "$TMP/conformance.test" ]] || die "conformance: go test -c produced no $TMP/conformance.test"
if mv -T "$TMP" "$DIR" 2>/dev/null; then trap - EXIT; else [[ -x "$DIR/conformance.test" ]] || die "conformance: cannot move $TMP to $DIR"; fi
info "built in $((SECONDS - START)) s ($(du -h "$DIR/conformance.test" | cut -f1))"
echo "$DIR" >&3
