#!/usr/bin/env bash
# Fetches the standard-channel CRDs of the Gateway API release pinned in
# tools/gateway-api/go.mod (checked against its go.sum) through the Go module
# proxy, into a per-machine cache outside the checkout, keyed by version:
#
#   ${XDG_CACHE_HOME:-$HOME/.cache}/ats-ingress/gateway-api/<version>/*.yaml
#
# Only the CustomResourceDefinitions of config/crd/standard are copied (not
# the ValidatingAdmissionPolicy that guards upgrades). Progress goes to
# stderr; the last (and only) line on stdout is that folder, so callers can
# do: crds="$(bash scripts/gateway-crds.sh)". Seconds on a fresh machine
# (one zip of a few MB); nothing when cached.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
exec 3>&1 1>&2

MOD="$ROOT/tools/gateway-api"
[[ -f "$MOD/go.mod" ]] || die "missing $MOD/go.mod"
GO="$(command -v go || true)"
[[ -n "$GO" ]] || { [[ -x /usr/local/go/bin/go ]] && GO=/usr/local/go/bin/go; }
[[ -n "$GO" ]] || die "go not found: install Go 1.24 or later (https://go.dev/dl) and put it on PATH"

VERSION="$(awk '$1=="require" && $2=="sigs.k8s.io/gateway-api" {print $3; exit}' "$MOD/go.mod")"
[[ -n "$VERSION" ]] || die "cannot read the sigs.k8s.io/gateway-api version from $MOD/go.mod"
BASE="$CACHE_HOME/gateway-api"
DIR="$BASE/$VERSION"
if [[ -f "$DIR/.complete" ]]; then
  info "gateway-api: using cached $DIR"
  echo "$DIR" >&3
  exit 0
fi
mkdir -p "$BASE"
exec 9>"$BASE/.lock"
flock 9
if [[ -f "$DIR/.complete" ]]; then echo "$DIR" >&3; exit 0; fi

step "Fetching the Gateway API $VERSION standard-channel CRDs into $DIR"
SRC="$(cd "$MOD" && GOFLAGS=-mod=mod "$GO" mod download -json sigs.k8s.io/gateway-api | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')"
[[ -n "$SRC" && -d "$SRC/config/crd/standard" ]] || die "gateway-api: go mod download gave no module folder with config/crd/standard"
TMP="$(mktemp -d "$BASE/.fetch.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
for f in "$SRC"/config/crd/standard/gateway.networking.k8s.io_*.yaml; do
  grep -q '^kind: CustomResourceDefinition' "$f" && cp "$f" "$TMP/"
done
ls "$TMP"/*.yaml >/dev/null 2>&1 || die "gateway-api: no CRDs in $SRC/config/crd/standard"
chmod 755 "$TMP"; chmod 644 "$TMP"/*.yaml
touch "$TMP/.complete"
rm -rf "$DIR"
mv -T "$TMP" "$DIR"
trap - EXIT
info "$(ls "$DIR" | wc -l) CRDs"
echo "$DIR" >&3
