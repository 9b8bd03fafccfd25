#!/usr/bin/env bash
# The ATS container's entry point: writes a private runroot (records, plugin
# and TLS configuration) into a writable directory, then runs traffic_server
# in the foreground. The image's root filesystem stays read-only. The
# configuration itself is src/ats/runroot.ts (`ats-ingress ats-runroot`), the
# same the demo and the tests run ATS with.
#
# Environment (defaults for the pod in k8s/traffic-server):
#   ATS_RUNROOT      writable directory for the runroot (/run/ats)
#   ATS_HTTP_PORT    8080        ATS_HTTPS_PORT   8443
#   ATS_BIND         address to listen on (0.0.0.0; the tests use 127.0.0.1)
#   ATS_TABLE        route table name, the controller's --table (default)
#   ATS_PLUGIN       the plugin .so (/usr/lib/trafficserver/modules/ats_ingress.so)
#   ATS_SHUTDOWN_TIMEOUT  seconds to drain connections on SIGTERM (25)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
APP="${ATS_INGRESS_APP:-$(cd "$HERE/../.." && pwd)}"
RR="${ATS_RUNROOT:-/run/ats}"
PLUGIN="${ATS_PLUGIN:-/usr/lib/trafficserver/modules/ats_ingress.so}"
[[ -f "$PLUGIN" ]] || { echo "ats-entry: plugin $PLUGIN not found" >&2; exit 2; }

node "$APP/dist/src/cli/main.js" ats-runroot --dir "$RR" --plugin "$PLUGIN" \
  --table "${ATS_TABLE:-default}" --bind "${ATS_BIND:-0.0.0.0}" \
  --http-port "${ATS_HTTP_PORT:-8080}" --https-port "${ATS_HTTPS_PORT:-8443}" \
  --shutdown-timeout "${ATS_SHUTDOWN_TIMEOUT:-25}" >/dev/null

# A default certificate so that the https port answers before any Ingress
# brings one.
if [[ ! -f "$RR/etc/ssl/default.pem" ]]; then
  openssl req -x509 -sha256 -nodes -days 3650 -newkey rsa:2048 -subj "/CN=ats-ingress-default" \
    -keyout "$RR/etc/ssl/default.key" -out "$RR/etc/ssl/default.pem" 2>/dev/null
fi
echo "dest_ip=* ssl_cert_name=default.pem ssl_key_name=default.key" > "$RR/etc/ssl_multicert.config"

export TS_RUNROOT="$RR"
exec /usr/bin/traffic_server
