import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parsePortRange, rangePorts } from '../config/gateway.js';
import { isInvalid } from '../validate/invalid.js';
import { IP_ALLOW_YAML, productionRecords, runrootFiles, type RunrootConfig } from './runroot.js';

const base: RunrootConfig = { dir: '/run/ats', bind: '0.0.0.0', httpPort: 8080, httpsPort: 8443, plugin: { path: '/p/ats_ingress.so', args: ['--table', 'default'] } };

describe('the runroot ATS runs in', () => {
  test('the cache is on by default: 256 MiB on disk in the runroot, 64 MiB of RAM, only explicit freshness stored', () => {
    const files = runrootFiles(base);
    assert.equal(files.get('etc/storage.config'), '/run/ats/cache 256M\n');
    const r = productionRecords(base);
    assert.equal(r['proxy.config.http.cache.http'], 1);
    assert.equal(r['proxy.config.cache.ram_cache.size'], 64 * 2 ** 20);
    assert.equal(r['proxy.config.http.cache.required_headers'], 2);
    assert.equal(r['proxy.config.http.cache.ignore_authentication'], 0);
    assert.equal(r['proxy.config.http.negative_caching_enabled'], 0);
    assert.equal(r['proxy.config.http.cache.max_stale_age'], 0, 'stale copies only where a route asks');
    assert.equal(r['proxy.config.http.negative_revalidating_enabled'], 0);
    // Concurrent misses of one URL go to the pod at once (bench/README.md: ATS's defaults cut misses to a quarter).
    assert.equal(r['proxy.config.cache.enable_read_while_writer'], 0);
    assert.equal(r['proxy.config.http.cache.open_read_retry_time'], 1);
  });

  test('a cache of its own size and place; 0 turns it off', () => {
    assert.equal(runrootFiles({ ...base, cache: { dir: '/var/cache/ats', diskBytes: 2 * 2 ** 30, ramBytes: 2 ** 28 } }).get('etc/storage.config'), '/var/cache/ats 2048M\n');
    const off = { ...base, cache: { diskBytes: 0, ramBytes: 2 ** 28 } };
    assert.equal(runrootFiles(off).get('etc/storage.config'), '');
    assert.equal(productionRecords(off)['proxy.config.http.cache.http'], 0);
    assert.equal(productionRecords(off)['proxy.config.cache.ram_cache.size'], 0);
  });

  test('a cache dir that could break storage.config is refused', () => {
    assert.throws(() => runrootFiles({ ...base, cache: { dir: '/a b', diskBytes: 2 ** 28, ramBytes: 0 } }), /cache dir "\/a b" is not an absolute path of plain characters/);
    assert.throws(() => runrootFiles({ ...base, cache: { dir: 'rel', diskBytes: 2 ** 28, ramBytes: 0 } }), /cache dir "rel"/);
  });

  test('several bind addresses: ATS listens on each, http and https', () => {
    const r = productionRecords({ ...base, bind: ['127.0.0.1', '::1'] });
    assert.equal(r['proxy.config.http.server_ports'], '8080:ip-in=127.0.0.1 8443:ssl:ip-in=127.0.0.1 8080:ip-in=[::1] 8443:ssl:ip-in=[::1]');
    assert.throws(() => productionRecords({ ...base, bind: ['127.0.0.1', 'localhost'] }), /bind address "localhost" is not an IP address/);
  });

  test("in a cluster, the Gateways' port range on every bind address: plain on FIRST+2k, TLS on FIRST+2k+1", () => {
    const range = parsePortRange('20000-20003');
    assert.ok(!isInvalid(range));
    const r = productionRecords({ ...base, bind: '0.0.0.0', gatewayPorts: rangePorts(range) });
    assert.equal(r['proxy.config.http.server_ports'], '8080:ip-in=0.0.0.0 8443:ssl:ip-in=0.0.0.0 20000:ip-in=0.0.0.0 20001:ssl:ip-in=0.0.0.0 20002:ip-in=0.0.0.0 20003:ssl:ip-in=0.0.0.0');
    const clash = parsePortRange('8080-8081');
    assert.ok(!isInvalid(clash));
    assert.throws(() => productionRecords({ ...base, gatewayPorts: rangePorts(clash) }), /hold the http or https port 8080/);
  });

  test('PURGE and PUSH only from loopback; every other method from everywhere', () => {
    const rules = IP_ALLOW_YAML.split('  - apply: in').slice(1);
    assert.equal(rules.length, 2);
    assert.match(rules[0]!, /ip_addrs: \[127\.0\.0\.0-127\.255\.255\.255, "::1"\]\s+action: allow\s+methods: ALL/);
    assert.match(rules[1]!, /ip_addrs: \[0\.0\.0\.0-255\.255\.255\.255, "::-ffff(:ffff){7}"\]\s+action: deny\s+methods: \[PURGE, PUSH\]/);
  });
});
