# Shared helpers for the set-up, build and test scripts. Sourced, not run.
step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
info() { printf '    %s\n' "$*"; }
die() { printf '\033[31merror:\033[0m %s\n' "$*" >&2; exit 1; }
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT
# Caches that outlive a checkout (CI works in fresh clones).
CACHE_HOME="${XDG_CACHE_HOME:-$HOME/.cache}/ats-ingress"
export CACHE_HOME
JOBS="$(nproc 2>/dev/null || echo 2)"
export JOBS
