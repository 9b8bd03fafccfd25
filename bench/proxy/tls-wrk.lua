-- wrk script for the TLS benchmark: every request on a new connection (so
-- every request costs a full TLS handshake), to 127.0.0.1 whatever the URL's
-- host says, so that the URL's host is only the SNI name wrk sends. At the
-- end, the same WRK_JSON line as wrk-report.lua.
local addr_host = os.getenv('TLS_BENCH_ADDRESS') or '127.0.0.1'

function wrk.resolve(host, service)
  wrk.addrs = wrk.lookup(addr_host, service)
end

request = function()
  return wrk.format(nil, nil, { ['Connection'] = 'close' })
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"durationUs":%d,"bytes":%d,"connectErrors":%d,"readErrors":%d,' ..
    '"writeErrors":%d,"statusErrors":%d,"timeouts":%d,"p50Us":%d,"p90Us":%d,"p99Us":%d,' ..
    '"maxUs":%d,"meanUs":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
