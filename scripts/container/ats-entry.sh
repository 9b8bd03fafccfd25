#!/usr/bin/env bash
# The ATS container's entry point: writes a private runroot (records, plugin
# and TLS configuration) into a writable directory, then runs traffic_server
# in the foreground. The image's root filesystem stays read-only.
#
# Environment (defaults for the pod in k8s/traffic-server):
#   ATS_RUNROOT      writable directory for the runroot (/run/ats)
#   ATS_HTTP_PORT    8080        ATS_HTTPS_PORT   8443
#   ATS_BIND         address to listen on (0.0.0.0; the tests use 127.0.0.1)
#   ATS_TABLE        route table name, the controller's --table (default)
#   ATS_PLUGIN       the plugin .so (/usr/lib/trafficserver/modules/ats_ingress.so)
#   ATS_SHUTDOWN_TIMEOUT  seconds to drain connections on SIGTERM (25)
set -euo pipefail

RR="${ATS_RUNROOT:-/run/ats}"
HTTP_PORT="${ATS_HTTP_PORT:-8080}"
HTTPS_PORT="${ATS_HTTPS_PORT:-8443}"
BIND="${ATS_BIND:-0.0.0.0}"
TABLE="${ATS_TABLE:-default}"
PLUGIN="${ATS_PLUGIN:-/usr/lib/trafficserver/modules/ats_ingress.so}"
SHUTDOWN="${ATS_SHUTDOWN_TIMEOUT:-25}"

[[ "$TABLE" =~ ^[A-Za-z0-9_-]{1,64}$ ]] || { echo "ats-entry: ATS_TABLE \"$TABLE\" is not a table name" >&2; exit 2; }
[[ -f "$PLUGIN" ]] || { echo "ats-entry: plugin $PLUGIN not found" >&2; exit 2; }

mkdir -p "$RR"/{etc/ssl,cache,run,log}
cat > "$RR/runroot.yaml" <<YAML
prefix: $RR
exec_prefix: /usr
bindir: /usr/bin
sbindir: /usr/sbin
sysconfdir: $RR/etc
datadir: $RR/cache
includedir: /usr/include
libdir: /usr/lib/trafficserver
libexecdir: /usr/lib/trafficserver/modules
localstatedir: $RR
runtimedir: $RR/run
logdir: $RR/log
cachedir: $RR/cache
YAML

cat > "$RR/etc/records.config" <<REC
CONFIG proxy.config.http.server_ports STRING ${HTTP_PORT}:ip-in=${BIND} ${HTTPS_PORT}:ssl:ip-in=${BIND}
CONFIG proxy.config.admin.user_id STRING #-1
CONFIG proxy.config.url_remap.remap_required INT 1
CONFIG proxy.config.url_remap.pristine_host_hdr INT 1
CONFIG proxy.config.reverse_proxy.enabled INT 1
CONFIG proxy.config.http.cache.http INT 0
CONFIG proxy.config.stop.shutdown_timeout INT ${SHUTDOWN}
CONFIG proxy.config.ssl.server.cert.path STRING $RR/etc/ssl
CONFIG proxy.config.ssl.server.private_key.path STRING $RR/etc/ssl
CONFIG proxy.config.log.logging_enabled INT 0
CONFIG proxy.config.diags.output.status STRING E
CONFIG proxy.config.diags.output.note STRING E
CONFIG proxy.config.diags.output.warning STRING E
CONFIG proxy.config.diags.output.error STRING E
CONFIG proxy.config.raw_stat_sync_interval_ms INT 500
REC

# Every client may use the proxy; the plugin decides what is routed.
cat > "$RR/etc/ip_allow.yaml" <<'YAML'
ip_allow:
  - apply: in
    ip_addrs: [0.0.0.0-255.255.255.255, "::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"]
    action: allow
    methods: ALL
YAML
: > "$RR/etc/storage.config"
: > "$RR/etc/remap.config"

# The controller reads the generation ATS serves from stats_over_http, on
# loopback only (the pod's own network namespace).
cat > "$RR/etc/stats_over_http.config" <<'CFG'
path=_ats_ingress_stats
allow_ip=127.0.0.1
allow_ip6=::1
CFG
cat > "$RR/etc/plugin.config" <<PLUGINS
stats_over_http.so $RR/etc/stats_over_http.config
$PLUGIN --table $TABLE
PLUGINS

# A default certificate so that the https port answers before any Ingress
# brings one.
if [[ ! -f "$RR/etc/ssl/default.pem" ]]; then
  openssl req -x509 -sha256 -nodes -days 3650 -newkey rsa:2048 -subj "/CN=ats-ingress-default" \
    -keyout "$RR/etc/ssl/default.key" -out "$RR/etc/ssl/default.pem" 2>/dev/null
fi
echo "dest_ip=* ssl_cert_name=default.pem ssl_key_name=default.key" > "$RR/etc/ssl_multicert.config"

export TS_RUNROOT="$RR"
exec /usr/bin/traffic_server
