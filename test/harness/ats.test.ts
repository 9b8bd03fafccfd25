// The harness against the real Debian traffic_server.
// Run: npx tsc -p . && node --test dist/test/harness/ats.test.js

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, test } from 'node:test';

import { ATS_MODULES_DIR, AtsStartError, startAts, verifyPlugin, type AtsInstance, type AtsOptions } from './ats.js';
import { closeBackends, ipv6Available, startBackend, startBackends, type Backend, type BackendEcho } from './backends.js';
import { freePort, freePorts } from './ports.js';
import { liveGroupMembers, runCommand } from './processes.js';

// Everything started here is stopped here, whatever happens in a test.
const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  await Promise.allSettled(cleanups.map((c) => c()));
});

async function ats(opts: AtsOptions): Promise<AtsInstance> {
  const instance = await startAts(opts);
  cleanups.push(() => instance.stop());
  return instance;
}

async function backend(service: string, pod: string, host?: string): Promise<Backend> {
  const b = await startBackend({ service, pod, host });
  cleanups.push(() => b.close());
  return b;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('freePorts gives distinct loopback ports', async () => {
  const ports = await freePorts(5);
  assert.equal(new Set(ports).size, 5);
  for (const p of ports) assert.ok(p > 0 && p < 65536);
  assert.ok((await freePort()) > 0);
});

test('static remap: Host preserved, POST body passed, unmapped host 404, stop leaves nothing', async (t) => {
  const be = await backend('static', 'static-0');
  const t0 = performance.now();
  const instance = await ats({ remap: [`map http://static.test/ http://${be.hostPort}/`] });
  const ready = performance.now() - t0;
  let first = await instance.request({ host: 'static.test', path: '/first' });
  while (first.status !== 200 && performance.now() - t0 < 10_000) {
    first = await instance.request({ host: 'static.test', path: '/first' });
  }
  const firstOk = performance.now() - t0;
  assert.equal(first.status, 200, first.body);
  t.diagnostic(
    `spawn -> answers: ${instance.startMs.toFixed(0)} ms; startAts() -> ready: ${ready.toFixed(0)} ms; ` +
      `startAts() -> first proxied 200: ${firstOk.toFixed(0)} ms`,
  );

  const get = await instance.request({ host: 'static.test', path: '/a/b?x=1&y=2', headers: { 'x-test': 'yes' } });
  assert.equal(get.status, 200, get.body);
  assert.match(String(get.headers['content-type']), /application\/json/);
  const echo = JSON.parse(get.body) as BackendEcho;
  assert.equal(echo.service, 'static');
  assert.equal(echo.pod, 'static-0');
  assert.equal(echo.method, 'GET');
  assert.equal(echo.host, 'static.test', 'pristine_host_hdr keeps the client Host header');
  assert.equal(echo.url, '/a/b?x=1&y=2');
  assert.equal(echo.headers['x-test'], 'yes');

  const body = JSON.stringify({ hello: 'world', n: [1, 2, 3] });
  const post = await instance.request({
    host: 'static.test',
    method: 'POST',
    path: '/submit',
    body,
    headers: { 'content-type': 'application/json' },
    fresh: true,
  });
  assert.equal(post.status, 200, post.body);
  const postEcho = JSON.parse(post.body) as BackendEcho;
  assert.equal(postEcho.method, 'POST');
  assert.equal(postEcho.body, body);
  assert.equal(postEcho.url, '/submit');

  const unmapped = await instance.request({ host: 'nobody.test', path: '/' });
  assert.equal(unmapped.status, 404);
  assert.match(String(unmapped.headers.server), /^ATS\//);

  assert.ok(be.requests >= 3);
  assert.match(await instance.logs(), /traffic server running|fully initialized/);

  const pid = instance.pid;
  const dir = instance.dir;
  assert.ok(isAlive(pid));
  await instance.stop();
  assert.equal(isAlive(pid), false, `pid ${pid} still exists after stop()`);
  assert.deepEqual(liveGroupMembers(pid), [], 'nothing left in the process group');
  assert.equal(existsSync(dir), process.env.ATS_INGRESS_KEEP_TMP ? true : false);
  assert.equal(instance.running, false);
  await instance.stop(); // idempotent
});

test('restart keeps the ports and applies a new remap.config', async () => {
  const [a, b] = await Promise.all([backend('svc-a', 'svc-a-0'), backend('svc-b', 'svc-b-0')]);
  const instance = await ats({ remap: [`map http://r.test/ http://${a.hostPort}/`] });
  const first = JSON.parse((await instance.request({ host: 'r.test' })).body) as BackendEcho;
  assert.equal(first.service, 'svc-a');
  const oldPid = instance.pid;
  const port = instance.httpPort;

  await instance.restart({ remap: [`map http://r.test/ http://${b.hostPort}/`] });
  assert.notEqual(instance.pid, oldPid);
  assert.equal(isAlive(oldPid), false);
  assert.equal(instance.httpPort, port);
  const second = await instance.request({ host: 'r.test' });
  assert.equal(second.status, 200, second.body);
  assert.equal((JSON.parse(second.body) as BackendEcho).service, 'svc-b');

  const pid = instance.pid;
  const t0 = performance.now();
  await instance.stop({ kill: true });
  assert.ok(performance.now() - t0 < 1_000, 'stop({ kill: true }) does not wait for SIGTERM handling');
  assert.equal(isAlive(pid), false);
  assert.deepEqual(liveGroupMembers(pid), []);
});

test('several pods behind one service, and debug tags reach traffic.out', async () => {
  const pods = await startBackends(2, 'web');
  cleanups.push(() => closeBackends(pods));
  assert.deepEqual(
    pods.map((p) => p.pod),
    ['web-0', 'web-1'],
  );
  const [p0, p1] = pods as [Backend, Backend];
  const instance = await ats({
    remap: [`map http://zero.test/ http://${p0.hostPort}/`, `map http://one.test/ http://${p1.hostPort}/`],
    debugTags: 'http_hdrs',
  });
  const r0 = JSON.parse((await instance.request({ host: 'zero.test' })).body) as BackendEcho;
  const r1 = JSON.parse((await instance.request({ host: 'one.test' })).body) as BackendEcho;
  assert.equal(r0.pod, 'web-0');
  assert.equal(r1.pod, 'web-1');
  assert.match(await readFile(path.join(instance.logDir, 'traffic.out'), 'utf8'), /DEBUG: <.*> \(http_hdrs\)/);
  await instance.stop();
});

test('IPv6 backend on ::1', async (t) => {
  if (!(await ipv6Available())) {
    t.skip('::1 not available');
    return;
  }
  const be = await backend('v6', 'v6-0', '::1');
  assert.equal(be.hostPort, `[::1]:${be.port}`);
  const instance = await ats({ remap: [`map http://v6.test/ http://${be.hostPort}/`] });
  const r = await instance.request({ host: 'v6.test', path: '/six' });
  assert.equal(r.status, 200, r.body);
  const echo = JSON.parse(r.body) as BackendEcho;
  assert.equal(echo.pod, 'v6-0');
  assert.equal(echo.host, 'v6.test');
  await instance.stop();
});

test('https with a self-signed certificate', async (t) => {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'ats-ingress-cert-'));
  cleanups.push(() => rm(tmp, { recursive: true, force: true }));
  const gen = await runCommand('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', path.join(tmp, 'k.pem'), '-out', path.join(tmp, 'c.pem'), '-days', '1',
    '-subj', '/CN=tls.test', '-addext', 'subjectAltName=DNS:tls.test',
  ], { timeoutMs: 10_000 });
  if (gen.code !== 0) {
    t.skip(`openssl unavailable: ${gen.stderr.slice(0, 200)}`);
    return;
  }
  const be = await backend('tls', 'tls-0');
  const instance = await ats({
    remap: [`map https://tls.test/ http://${be.hostPort}/`, `map http://tls.test/ http://${be.hostPort}/`],
    certs: [
      {
        name: 'tls-test',
        cert: await readFile(path.join(tmp, 'c.pem'), 'utf8'),
        key: await readFile(path.join(tmp, 'k.pem'), 'utf8'),
        default: true,
      },
    ],
  });
  assert.ok(instance.httpsPort !== undefined);
  const r = await instance.request({ host: 'tls.test', path: '/secure', tls: true });
  assert.equal(r.status, 200, r.body);
  const echo = JSON.parse(r.body) as BackendEcho;
  assert.equal(echo.host, 'tls.test');
  assert.equal(echo.url, '/secure');
  await instance.stop();
});

test('a failed start says why, shows the logs and leaves nothing running', async () => {
  const err = await startAts({ plugins: ['/nonexistent/ats-ingress-missing.so'], startTimeoutMs: 10_000 }).then(
    async (unexpected) => {
      await unexpected.stop();
      assert.fail('start should fail');
    },
    (e: unknown) => e,
  );
  assert.ok(err instanceof AtsStartError, String(err));
  assert.match(err.message, /exited during start|did not answer/);
  assert.match(err.message, /diags\.log|traffic\.out/);
  assert.match(err.message, /ats-ingress-missing\.so/);
});

test('a port already taken is detected and fixed ports are not retried', async () => {
  const be = await backend('busy', 'busy-0'); // holds be.port
  const err = await startAts({ httpPort: be.port, startTimeoutMs: 10_000 }).then(
    async (unexpected) => {
      await unexpected.stop();
      assert.fail('start should fail');
    },
    (e: unknown) => e,
  );
  assert.ok(err instanceof AtsStartError, String(err));
  assert.equal(err.portInUse, true);
});

test('verifyPlugin on stock plugins', async () => {
  const stats = await verifyPlugin('global', path.join(ATS_MODULES_DIR, 'stats_over_http.so'));
  assert.equal(stats.ok, true, stats.output);

  const hr = await verifyPlugin('remap', path.join(ATS_MODULES_DIR, 'header_rewrite.so'), ['hr.conf'], {
    files: { 'hr.conf': 'cond %{REMAP_PSEUDO_HOOK}\nset-header X-Verified yes\n' },
  });
  assert.equal(hr.ok, true, hr.output);
  assert.equal(hr.configures, true);

  const missingConf = await verifyPlugin('remap', path.join(ATS_MODULES_DIR, 'header_rewrite.so'), ['/nonexistent.conf']);
  assert.equal(missingConf.loads, true);
  assert.equal(missingConf.ok, false, missingConf.output);

  const wrongKind = await verifyPlugin('global', path.join(ATS_MODULES_DIR, 'regex_remap.so'));
  assert.equal(wrongKind.ok, false);
  assert.match(wrongKind.output, /TSPluginInit/);

  const missing = await verifyPlugin('remap', '/nonexistent/x.so');
  assert.equal(missing.ok, false);
});

test('manager mode: traffic_ctl works, stop leaves nothing', async (t) => {
  const be = await backend('mgr', 'mgr-0');
  const t0 = performance.now();
  const instance = await ats({ manager: true, remap: [`map http://mgr.test/ http://${be.hostPort}/`] });
  const r = await instance.request({ host: 'mgr.test' });
  assert.equal(r.status, 200, r.body);
  t.diagnostic(`manager mode: startAts() -> first proxied 200: ${(performance.now() - t0).toFixed(0)} ms`);

  const ctl = await instance.trafficCtl(['config', 'get', 'proxy.config.url_remap.pristine_host_hdr']);
  assert.equal(ctl.code, 0, ctl.stderr);
  assert.match(ctl.stdout, /proxy\.config\.url_remap\.pristine_host_hdr: 1/);

  const pid = instance.pid;
  await instance.stop();
  assert.equal(isAlive(pid), false);
  assert.deepEqual(liveGroupMembers(pid), [], 'traffic_server under the manager is gone too');
});
