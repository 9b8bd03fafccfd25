#!/usr/bin/env bash
# Installs what the runtime image needs beyond Node.js: Debian's Traffic
# Server and openssl. Used by the Dockerfile; idempotent, so CI runs it too.
set -euo pipefail
PKGS=(trafficserver openssl ca-certificates)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  [[ $(id -u) -eq 0 ]] || { echo "install-runtime: need root to install: ${missing[*]}" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
version="$(dpkg-query -W -f='${Version}' trafficserver)"
[[ "$version" == 9.2.* ]] || { echo "install-runtime: trafficserver $version; the plugin is built for 9.2" >&2; exit 1; }
echo "runtime packages present: ${PKGS[*]} (trafficserver $version)"
