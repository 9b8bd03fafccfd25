#!/usr/bin/env bash
# The ATS container's entry point: writes a private runroot into a writable
# directory (src/ats/runroot.ts, through `ats-ingress ats-runroot`: the same
# configuration the demo and the tests run ATS with), then runs
# traffic_manager, which runs traffic_server. The manager is what lets the
# controller change records at run time (traffic_ctl, through the runroot's
# socket in a volume both containers share). It sometimes dies at start on a
# busy machine, so it is started again until ATS answers (a few tries), and
# the container ends when it ends, for the kubelet to restart it.
#
# Environment (defaults for the pod in k8s/traffic-server):
#   ATS_RUNROOT      writable directory for the runroot (/run/ats), shared with the controller
#   ATS_HTTP_PORT    8080        ATS_HTTPS_PORT   8443
#   ATS_BIND         address to listen on (0.0.0.0; the tests use 127.0.0.1)
#   ATS_GATEWAY_PORT_RANGE  FIRST-LAST: the Gateways' ports, opened at start (none); the
#                    controller's --gateway-port-range, from the same ConfigMap key
#   ATS_TABLE        route table name, the controller's --table (default)
#   ATS_PLUGIN       the plugin .so (/usr/lib/trafficserver/modules/ats_ingress.so)
#   ATS_SHUTDOWN_TIMEOUT  seconds to drain connections on SIGTERM (25)
#   ATS_CACHE_DIR    where the cache's disk file lives (default: the runroot's cache/;
#                    the pod mounts a volume of its own there)
#   ATS_CACHE_SIZE   the cache on disk, e.g. 256Mi; 0: no cache (256Mi)
#   ATS_RAM_CACHE_SIZE  the RAM cache (64Mi; counts against the container's memory)
#   ATS_START_TRIES  how many times to start the manager before giving up (5)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
APP="${ATS_INGRESS_APP:-$(cd "$HERE/../.." && pwd)}"
RR="${ATS_RUNROOT:-/run/ats}"
PLUGIN="${ATS_PLUGIN:-/usr/lib/trafficserver/modules/ats_ingress.so}"
HTTP_PORT="${ATS_HTTP_PORT:-8080}"
BIND="${ATS_BIND:-0.0.0.0}"
[[ -f "$PLUGIN" ]] || { echo "ats-entry: plugin $PLUGIN not found" >&2; exit 2; }

node "$APP/dist/src/cli/main.js" ats-runroot --dir "$RR" --plugin "$PLUGIN" \
  --table "${ATS_TABLE:-default}" --bind "$BIND" \
  --http-port "$HTTP_PORT" --https-port "${ATS_HTTPS_PORT:-8443}" \
  ${ATS_GATEWAY_PORT_RANGE:+--gateway-port-range "$ATS_GATEWAY_PORT_RANGE"} \
  --shutdown-timeout "${ATS_SHUTDOWN_TIMEOUT:-25}" \
  ${ATS_CACHE_DIR:+--cache-dir "$ATS_CACHE_DIR"} \
  --cache-size "${ATS_CACHE_SIZE:-256Mi}" --ram-cache-size "${ATS_RAM_CACHE_SIZE:-64Mi}" >&2
export TS_RUNROOT="$RR"

probe="$BIND"
[[ "$probe" == 0.0.0.0 ]] && probe=127.0.0.1
answers() { (exec 3<>"/dev/tcp/$probe/$HTTP_PORT") 2>/dev/null; }

pid=""
stop() {
  [[ -n "$pid" ]] && kill -TERM "$pid" 2>/dev/null
}
trap stop TERM INT

tries="${ATS_START_TRIES:-5}"
for ((try = 1; try <= tries; try++)); do
  /usr/bin/traffic_manager --nosyslog --bind_stdout "$RR/log/traffic.out" --bind_stderr "$RR/log/traffic.out" </dev/null &
  pid=$!
  for ((i = 0; i < 300; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    answers && break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null && answers; then
    echo "ats-entry: traffic_manager $pid serves on $probe:$HTTP_PORT (try $try)" >&2
    break
  fi
  echo "ats-entry: traffic_manager did not come up (try $try of $tries); last lines of traffic.out:" >&2
  tail -n 5 "$RR/log/traffic.out" >&2 || true
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=""
done
[[ -n "$pid" ]] || { echo "ats-entry: giving up after $tries tries" >&2; exit 1; }
# Wait for the manager (again after a signal interrupts the wait).
status=0
while kill -0 "$pid" 2>/dev/null; do
  wait "$pid" && status=0 || status=$?
done
exit "$status"
