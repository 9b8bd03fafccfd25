#!/usr/bin/env bash
# Builds kube-apiserver, etcd, kubectl and kube-controller-manager from the Go
# module in tools/kubebin into a per-machine cache outside the checkout, keyed
# by the Kubernetes version and a hash of the module's inputs, and only when
# they are missing:
#
#   ${XDG_CACHE_HOME:-$HOME/.cache}/ats-ingress/kubebin/<k8s-version>-<hash>/
#
# Progress goes to stderr; the last (and only) line on stdout is that folder,
# so callers can do: bin="$(bash scripts/kubebin.sh)".
#
# The first build on a machine compiles Kubernetes from source: many minutes
# on two cores. Later builds of a new version reuse the Go build cache
# (~/.cache/go-build) and module cache. kube-controller-manager is built by a
# second `go build` after the other three, so that its link (the peak of the
# build: 1.9 GB resident, of which about 0.4 GB anonymous and the rest the
# object files it maps) never runs beside another; measured on 2 cores with
# the API server's packages already compiled, it adds 69 s cold and 1 s warm.
#
# Updating Kubernetes (in tools/kubebin), with K8S=1.35.4 STG=0.35.4:
#   modfile=$(go mod download -json k8s.io/kubernetes@v$K8S | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
#   for m in $(sed -n '/^replace/,/^)/p' "$modfile" | awk '$2=="=>"{print $1}'); do
#     go mod edit -replace=$m=$m@v$STG; done
#   go get k8s.io/kubernetes@v$K8S go.etcd.io/etcd/server/v3@<the etcd version it pins>
#   go mod tidy
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Progress to stderr: stdout carries only the result.
exec 3>&1 1>&2

MOD="$ROOT/tools/kubebin"
[[ -f "$MOD/go.mod" ]] || die "missing $MOD/go.mod"

GO="$(command -v go || true)"
[[ -n "$GO" ]] || { [[ -x /usr/local/go/bin/go ]] && GO=/usr/local/go/bin/go; }
[[ -n "$GO" ]] || die "go not found: install Go 1.25 or later (https://go.dev/dl) and put it on PATH"

K8S="$(awk '$1=="k8s.io/kubernetes" && $2 ~ /^v/ {print $2; exit}' "$MOD/go.mod")"
[[ -n "$K8S" ]] || die "cannot read the k8s.io/kubernetes version from $MOD/go.mod"
# Stamp the version as upstream's hack/lib/version.sh does (else the server
# reports v0.0.0-master and kubectl warns about skew).
MINOR="${K8S#v*.}"; MINOR="${MINOR%%.*}"
LDFLAGS="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  LDFLAGS+=" -X $pkg.gitVersion=$K8S -X $pkg.gitMajor=1 -X $pkg.gitMinor=$MINOR -X $pkg.gitTreeState=clean"
done
# Key: go.sum (every dependency version) plus go.mod, the mains and the flags.
HASH="$( (cd "$MOD" && cat go.sum go.mod cmd/*/main.go; echo "$LDFLAGS") | sha256sum | cut -c1-12)"
BASE="$CACHE_HOME/kubebin"
DIR="$BASE/$K8S-$HASH"
BINS=(kube-apiserver etcd kubectl kube-controller-manager)

have_all() {
  local b
  for b in "${BINS[@]}"; do [[ -x "$1/$b" ]] || return 1; done
}

if have_all "$DIR"; then
  info "kubebin: using cached $DIR"
  echo "$DIR" >&3
  exit 0
fi

mkdir -p "$BASE"
# One build at a time per machine; a second caller waits, then finds the result.
exec 9>"$BASE/.lock"
if ! flock -n 9; then
  info "kubebin: another build is running; waiting for it (lock $BASE/.lock)"
  flock 9
fi
if have_all "$DIR"; then
  info "kubebin: using cached $DIR"
  echo "$DIR" >&3
  exit 0
fi

# A folder may hold only some of them (one published before a binary joined
# BINS): build just the missing ones and add them to it.
missing=()
for b in "${BINS[@]}"; do [[ -x "$DIR/$b" ]] || missing+=("$b"); done
first=()
for b in "${missing[@]}"; do [[ "$b" == kube-controller-manager ]] || first+=("./cmd/$b"); done

step "Building ${missing[*]} (Kubernetes $K8S) into $DIR"
info "The first build on a machine compiles Kubernetes from source: expect 10 to 20 minutes"
info "on 2 cores and up to 2 GB of memory. Later runs use the cache and take no time."
info "$("$GO" version)"

TMP="$(mktemp -d "$BASE/.build.XXXXXX")"
chmod 755 "$TMP"
trap 'rm -rf "$TMP"' EXIT
START=$SECONDS
(
  cd "$MOD"
  # Static binaries (no C compiler needed); -mod=mod tolerates a go.mod the
  # local toolchain wants to touch; -buildvcs=false as the checkout may be a
  # shallow clone or owned by another user.
  export CGO_ENABLED=0 GOFLAGS="-mod=mod -buildvcs=false"
  if ((${#first[@]})); then
    "$GO" build -p 2 -trimpath -ldflags="$LDFLAGS" -o "$TMP/" "${first[@]}"
    info "${first[*]} built after $((SECONDS - START)) s"
  fi
  if [[ " ${missing[*]} " == *" kube-controller-manager "* ]]; then
    info "building kube-controller-manager (about 70 s more when cold)"
    "$GO" build -p 2 -trimpath -ldflags="$LDFLAGS" -o "$TMP/" ./cmd/kube-controller-manager
  fi
) || die "kubebin: go build failed (see above)"
for b in "${missing[@]}"; do [[ -x "$TMP/$b" ]] || die "kubebin: go build did not produce $b in $TMP"; done
# Atomic publish: rename the finished folder into place, or each missing
# binary into the folder that is there.
if [[ ! -d "$DIR" ]] && mv -T "$TMP" "$DIR" 2>/dev/null; then
  trap - EXIT
else
  for b in "${missing[@]}"; do
    [[ -x "$DIR/$b" ]] || mv -f "$TMP/$b" "$DIR/$b" || die "kubebin: cannot move $TMP/$b to $DIR"
  done
fi
have_all "$DIR" || die "kubebin: $DIR still lacks some of ${BINS[*]}"
info "built in $((SECONDS - START)) s:"
for b in "${BINS[@]}"; do info "  $(du -h "$DIR/$b" | cut -f1)  $b"; done
echo "$DIR" >&3
