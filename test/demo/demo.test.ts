// npm run demo, as a person would use it: start, the walkthrough's five
// requests and its Gateway examples (on the Gateway's own address), Ctrl-C,
// nothing left running; a manifests directory of Ingresses or of Gateways;
// a port in use gives a clear error.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { FIXTURE_CERT, FIXTURE_KEY } from '../../src/testing/fixture-certs.js';
import { httpRequest, type HttpResponse } from '../harness/ats.js';
import { startBackend, type BackendEcho } from '../harness/backends.js';
import { runCommand } from '../harness/processes.js';
import { freePorts } from '../harness/ports.js';

const DEMO = fileURLToPath(new URL('../../demo/run-demo.js', import.meta.url));

function startDemo(args: string[]) {
  const child = spawn(process.execPath, [DEMO, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`demo not ready in 60 s:\n${out}`)), 60_000);
    child.stdout.on('data', () => {
      if (out.includes('DEMO READY')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`demo exited (${code}):\n${out}`));
    });
  });
  return { child, ready, exited, output: () => out };
}

/** The subject of the certificate ATS serves for this SNI name. */
async function subjectOf(port: number, servername: string): Promise<string> {
  const socket = tls.connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false });
  try {
    await once(socket, 'secureConnect');
    return socket.getPeerCertificate().subject ? `CN=${socket.getPeerCertificate().subject.CN}` : '';
  } finally {
    socket.destroy();
  }
}

/** A record's value through the traffic_ctl command the demo printed (its runroot). */
async function recordOf(output: string, name: string): Promise<string | undefined> {
  const runroot = /TS_RUNROOT=(\S+) traffic_ctl/.exec(output)?.[1];
  assert.ok(runroot, 'the demo prints its traffic_ctl command');
  const r = await runCommand('traffic_ctl', ['config', 'get', name], { env: { ...process.env, TS_RUNROOT: runroot }, timeoutMs: 10_000 });
  return new RegExp(`^${name.replace(/\./g, '\\.')}: (.*)$`, 'm').exec(r.stdout)?.[1];
}

/** Requests the demo's weighted split gets; appsvc1's share must be within SPLIT_TOLERANCE of 80%. */
const SPLIT_REQUESTS = 200;
const SPLIT_TOLERANCE = 0.1;

/** Gateway addresses of this process's own for the tests that set --gateway-addresses, so that parallel runs do not meet. */
const OWN_RANGE = `127.78.${process.pid % 250}`;

function echoOf(r: HttpResponse): BackendEcho {
  assert.equal(r.status, 200, r.body);
  return JSON.parse(r.body) as BackendEcho;
}

describe('npm run demo', () => {
  it('answers the walkthrough\'s five requests and stops cleanly on Ctrl-C', async () => {
    const [http, https, admin] = await freePorts(3);
    const table = `t-demo-${process.pid}`;
    const demo = startDemo(['--http-port', String(http), '--https-port', String(https), '--admin-port', String(admin), '--table', table]);
    try {
      await demo.ready;
      const out = demo.output();
      for (const c of [
        `curl -vH "HOST:test.media.com" "localhost:${http}/app1"`,
        `--resolve test.edge.com:${https}:127.0.0.1 "https://test.edge.com:${https}/app2"`,
        `openssl s_client -connect 127.0.0.1:${https} -servername test.edge.com`,
        'traffic_ctl config get proxy.config.output.logfile.rolling_interval_sec',
      ]) assert.ok(out.includes(c), `prints ${c}`);
      const get = (host: string, path: string, tls = false) =>
        httpRequest({ port: tls ? https! : http!, host, path, fresh: true, tls, servername: host });
      const r1 = await get('test.media.com', '/app1');
      const r2 = await get('test.media.com', '/app2');
      const r3 = await get('test.edge.com', '/app1');
      const r4 = await get('test.edge.com', '/app2');
      const r5 = await get('test.edge.com', '/app2', true);
      for (const r of [r1, r2, r3, r4, r5]) assert.equal(r.status, 200);
      assert.match(r1.body, /Hello from app1/);
      assert.equal(r1.body, r3.body, 'outputs 1 and 3 are the same');
      assert.match(r2.body, /A Small Hello/);
      assert.equal(r2.body, r4.body, 'outputs 2 and 4 are the same');
      assert.equal(r5.body, r4.body, 'the https one is like number 4');
      assert.match(String(r4.headers['x-pod']), /^trafficserver-test-3\/appsvc2-/);
      assert.match(String(r2.headers['x-pod']), /^trafficserver-test-2\/appsvc2-/);
      // SNI: the walkthrough's tls-secret for test.edge.com, the plugin's own default for other names.
      assert.match(await subjectOf(https!, 'test.edge.com'), /CN\s*=\s*atssvc/);
      assert.match(await subjectOf(https!, 'other.test'), /CN\s*=\s*ats-ingress-default/);
      // The walkthrough's records ConfigMap, applied through traffic_manager.
      assert.equal(await recordOf(out, 'proxy.config.output.logfile.rolling_interval_sec'), '3000');

      // The Gateway example, on the Gateway's address (the first of the default range) and the demo's http port.
      const gw = '127.0.1.1';
      for (const c of [
        `curl -v -H "Host: gw.media.com" "http://${gw}:${http}/app1"`,
        `curl -v -H "Host: gw.media.com" -H "X-Canary: true" "http://${gw}:${http}/app1"`,
        `"http://${gw}:${http}/split"`,
      ]) assert.ok(out.includes(c), `prints ${c}`);
      const viaGateway = (path: string, headers: Record<string, string> = {}) =>
        httpRequest({ port: http!, address: gw, host: 'gw.media.com', path, headers, fresh: true });
      const plain = await viaGateway('/app1');
      assert.equal(plain.status, 200, plain.body);
      assert.equal(plain.body, r1.body, 'Hello from app1');
      assert.match(String(plain.headers['x-pod']), /^trafficserver-test-2\/appsvc1-/);
      assert.equal(plain.headers['x-demo-route'], undefined);
      const canary = await viaGateway('/app1', { 'X-Canary': 'true' });
      assert.equal(canary.status, 200, canary.body);
      assert.equal(canary.body, r2.body, 'the canary is A Small Hello');
      assert.match(String(canary.headers['x-pod']), /^trafficserver-test-2\/appsvc2-/);
      assert.equal(canary.headers['x-demo-route'], 'canary', 'the RequestHeaderModifier\'s header, sent back by the app');
      let app1 = 0;
      for (let i = 0; i < SPLIT_REQUESTS; i++) {
        const r = await httpRequest({ port: http!, address: gw, host: 'gw.media.com', path: '/split' });
        assert.equal(r.status, 200, r.body);
        if (r.body === r1.body) app1++;
        else assert.equal(r.body, r2.body);
      }
      const share = app1 / SPLIT_REQUESTS;
      assert.ok(Math.abs(share - 0.8) <= SPLIT_TOLERANCE, `appsvc1 answered ${app1} of ${SPLIT_REQUESTS}`);
      console.log(`# the demo's 80/20 split over ${SPLIT_REQUESTS} requests: ${(share * 100).toFixed(1)}% appsvc1`);
      // The Gateway's host on ATS's own address is not the Gateway's.
      assert.equal((await httpRequest({ port: http!, host: 'gw.media.com', path: '/app1', fresh: true })).status, 404);
    } finally {
      demo.child.kill('SIGINT');
    }
    assert.equal(await demo.exited, 0, demo.output());
    assert.match(demo.output(), /stopped/);
    for (const p of [http!, https!, admin!]) {
      const free = await new Promise<boolean>((res) => {
        const s = createServer().once('error', () => res(false)).listen(p, '127.0.0.1', () => s.close(() => res(true)));
      });
      assert.ok(free, `port ${p} is free again`);
    }
    assert.ok(!readdirSync('/dev/shm').some((f) => f.startsWith(`ats-ingress.${table}.`)), 'its table is gone');
  });

  it('--manifests DIR serves a directory of one\'s own: routes, a TLS Secret, the records ConfigMap', async () => {
    const [http, https, admin] = await freePorts(3);
    const table = `t-demo-own-${process.pid}`;
    const dir = await mkdtemp(join(tmpdir(), 'atsi-own-'));
    const backend = await startBackend({ service: 'mine/web', pod: 'web-0' });
    try {
      const b64 = (t: string) => Buffer.from(t).toString('base64');
      await writeFile(join(dir, 'mine.yaml'), `apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: ats}
spec: {controller: ats.ingress.kubernetes.io/controller}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: mine}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-1, namespace: mine, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, port: ${backend.port}}]
endpoints: [{addresses: [127.0.0.1]}]
---
apiVersion: v1
kind: Secret
metadata: {name: web-tls, namespace: mine}
type: kubernetes.io/tls
data: {tls.crt: ${b64(FIXTURE_CERT)}, tls.key: ${b64(FIXTURE_KEY)}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: mine}
spec:
  ingressClassName: ats
  tls: [{hosts: [a.com], secretName: web-tls}]
  rules: [{host: a.com, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {name: http}}}}]}}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: ats-records, namespace: ats-ingress}
data: {proxy.config.output.logfile.rolling_interval_sec: "1234"}
`);
      const demo = startDemo(['--http-port', String(http), '--https-port', String(https), '--admin-port', String(admin), '--table', table, '--manifests', dir]);
      try {
        await demo.ready;
        assert.match(demo.output(), /The demo is running on your manifests/);
        const r = await httpRequest({ port: http!, host: 'a.com', path: '/x', fresh: true });
        assert.equal(r.status, 200, r.body);
        assert.equal(JSON.parse(r.body).pod, 'web-0');
        assert.match(await subjectOf(https!, 'a.com'), /CN\s*=\s*fixture\.test/);
        assert.equal(await recordOf(demo.output(), 'proxy.config.output.logfile.rolling_interval_sec'), '1234');
        // No walkthrough apps in this mode.
        assert.equal((await httpRequest({ port: http!, host: 'test.media.com', path: '/app1', fresh: true })).status, 404);
      } finally {
        demo.child.kill('SIGINT');
      }
      assert.equal(await demo.exited, 0, demo.output());
    } finally {
      await backend.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('--manifests DIR serves Gateways of our GatewayClass, each on its own address, listener port 80 on the demo\'s http port', async () => {
    const [http, https, admin] = await freePorts(3);
    const table = `t-demo-gw-${process.pid}`;
    const dir = await mkdtemp(join(tmpdir(), 'atsi-own-gw-'));
    const a = await startBackend({ service: 'mine/a', pod: 'a-0' });
    const b = await startBackend({ service: 'mine/b', pod: 'b-0' });
    const service = (name: string, port: number) => `apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: mine}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: ${name}-1, namespace: mine, labels: {kubernetes.io/service-name: ${name}}}
addressType: IPv4
ports: [{name: http, port: ${port}}]
endpoints: [{addresses: [127.0.0.1]}]
`;
    // Two Gateways with identical listeners (told apart by address only), one of another controller's class.
    const gateway = (name: string, className: string) => `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: ${name}, namespace: mine}
spec:
  gatewayClassName: ${className}
  listeners:
  - {name: http, port: 80, protocol: HTTP, hostname: web.test}
  - {name: other-port, port: 8080, protocol: HTTP}
`;
    const route = (name: string, parent: string, backend: string) => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: ${name}, namespace: mine}
spec:
  parentRefs: [{name: ${parent}, sectionName: http}]
  rules:
  - filters: [{type: RequestHeaderModifier, requestHeaderModifier: {add: [{name: X-Via, value: ${name}}]}}]
    backendRefs: [{name: ${backend}, port: 80}]
`;
    try {
      await writeFile(join(dir, 'gateways.yaml'), [
        `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: ats}
spec: {controllerName: ats.ingress.kubernetes.io/gateway-controller}
`,
        `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: theirs}
spec: {controllerName: example.com/another-controller}
`,
        service('a', a.port), service('b', b.port),
        gateway('a', 'ats'), gateway('b', 'ats'), gateway('c', 'theirs'),
        route('to-a', 'a', 'a'), route('to-b', 'b', 'b'), route('to-c', 'c', 'a'),
      ].join('---\n'));
      const demo = startDemo(['--http-port', String(http), '--https-port', String(https), '--admin-port', String(admin), '--table', table, '--manifests', dir, '--gateway-addresses', `${OWN_RANGE}.0/29`]);
      try {
        await demo.ready;
        const out = demo.output();
        // Oldest first, then namespace/name: mine/a the first address, mine/b the second; mine/c is not ours.
        const [one, two, three] = [`${OWN_RANGE}.1`, `${OWN_RANGE}.2`, `${OWN_RANGE}.3`];
        assert.ok(out.includes(`curl -vH "Host: web.test" "http://${one}:${http}/"`), out);
        assert.ok(out.includes(`curl -vH "Host: web.test" "http://${two}:${http}/"`), out);
        assert.match(out, /Gateway mine\/a listener other-port: port 8080 is not served \(PortUnavailable\)/);
        assert.doesNotMatch(out, /Gateway mine\/c/);
        const to = (address: string) => httpRequest({ port: http!, address, host: 'web.test', path: '/x', fresh: true });
        const ea = echoOf(await to(one));
        assert.equal(ea.service, 'mine/a');
        assert.equal(ea.headers['x-via'], 'to-a');
        const eb = echoOf(await to(two));
        assert.equal(eb.service, 'mine/b');
        assert.equal(eb.headers['x-via'], 'to-b');
        // ATS listens on the range's addresses, but no Gateway has the third; and 127.0.0.1 is the Ingresses' (none here).
        assert.equal((await to(three)).status, 404);
        assert.equal((await to('127.0.0.1')).status, 404);
      } finally {
        demo.child.kill('SIGINT');
      }
      assert.equal(await demo.exited, 0, demo.output());
    } finally {
      await a.close();
      await b.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a Gateway range outside loopback', async () => {
    const [http, https, admin] = await freePorts(3);
    const demo = startDemo(['--http-port', String(http), '--https-port', String(https), '--admin-port', String(admin), '--gateway-addresses', '10.0.0.0/29']);
    await assert.rejects(demo.ready);
    assert.equal(await demo.exited, 1);
    assert.match(demo.output(), /--gateway-addresses 10\.0\.0\.0\/29: the demo serves loopback only/);
  });

  it('names the port that is already in use', async () => {
    const [http, https, admin] = await freePorts(3);
    const blocker = createServer().listen(https, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    try {
      const demo = startDemo(['--http-port', String(http), '--https-port', String(https), '--admin-port', String(admin)]);
      await assert.rejects(demo.ready);
      assert.equal(await demo.exited, 1);
      assert.match(demo.output(), new RegExp(`port ${https} \\(https\\) is already in use`));
    } finally {
      blocker.close();
    }
  });
});
