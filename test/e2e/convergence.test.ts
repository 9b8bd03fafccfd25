// End to end: changes written to a real API server reach requests through
// the same traffic_server (same PID, never reloaded): a path added with
// kubectl apply, an Ingress deleted, a Service's endpoints scaled from 2 to
// 10 and to 0, an Ingress switched to another IngressClass and back. Each
// prints the time from the write to the change being served (polled through
// ATS on fresh connections every 10 ms); the controller runs with its default
// batching (a 100 ms trailing hold).
//
// Run: bash scripts/build.sh && node --test dist/test/e2e/convergence.test.js

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, describe, test } from 'node:test';

import { E2e, echo, K8S_DIR, ms, who, type ControllerProcess } from './env.js';

const NS = 'e2e-conv';
const PODS = 10;

let e: E2e;
let controller: ControllerProcess;
let atsPid: number;
const timings: Array<[string, number]> = [];

function ingress(name: string, host: string, paths: Array<[string, string]>, className = 'ats') {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: NS },
    spec: {
      ingressClassName: className,
      rules: [{ host, http: { paths: paths.map(([path, svc]) => ({ path, pathType: 'Prefix', backend: { service: { name: svc, port: { name: 'http' } } } })) } }],
    },
  };
}

function service(name: string, targetPort: number) {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: NS }, spec: { ports: [{ name: 'http', port: 80, targetPort }] } };
}

const webAddresses = (n: number) => e.net.podAddresses.slice(0, n);

function record(what: string, t: number, writeMs?: number): void {
  timings.push([what, t]);
  console.log(`# ${what}: served ${ms(t)} ms after the write started${writeMs !== undefined ? ` (the write itself took ${ms(writeMs)} ms)` : ''}`);
}

before(async () => {
  e = await E2e.start({
    tag: 'conv',
    pods: PODS,
    backends: [
      ...Array.from({ length: PODS }, (_, i) => ({ service: `${NS}/web`, pod: `web-${i}`, podIndex: i, port: 8080 })),
      { service: `${NS}/other`, pod: 'other-0', podIndex: 0, port: 8081 },
    ],
  });
  atsPid = e.ats!.pid;
  await e.kubectl(['create', 'namespace', NS]);
  await e.kubectl(['apply', '-f', join(K8S_DIR, 'traffic-server', '20-ingressclass.yaml')]);
  const list = {
    apiVersion: 'v1',
    kind: 'List',
    items: [
      { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'not-ours' }, spec: { controller: 'example.com/another-controller' } },
      service('web', 8080),
      service('other', 8081),
      ingress('site', 'conv.test', [['/web', 'web']]),
    ],
  };
  await e.kubectl(['apply', '-f', '-'], JSON.stringify(list));
  await e.putSlice({ namespace: NS, service: 'web', port: 8080, addresses: webAddresses(2) });
  await e.putSlice({ namespace: NS, service: 'other', port: 8081, addresses: webAddresses(1) });
  controller = await e.startController();
  await controller.waitReady();
  await e.until('conv.test/web served', { host: 'conv.test', path: '/web' }, (r) => echo(r)?.service === `${NS}/web`);
});

after(async () => {
  if (timings.length) {
    console.log('# write → served through ATS (ms):');
    for (const [what, t] of timings) console.log(`#   ${what.padEnd(44)} ${ms(t)}`);
  }
  await e?.close();
});

describe('changes converge with ATS untouched', () => {
  test('a path added by kubectl apply of the changed Ingress', async () => {
    const changed = ingress('site', 'conv.test', [
      ['/web', 'web'],
      ['/other', 'other'],
    ]);
    assert.equal((await e.request({ host: 'conv.test', path: '/other' })).status, 404);
    const t0 = performance.now();
    await e.kubectl(['apply', '-f', '-'], JSON.stringify(changed));
    const wrote = performance.now() - t0;
    const r = await e.until('/other added', { host: 'conv.test', path: '/other/x' }, (x) => echo(x)?.service === `${NS}/other`, { since: t0 });
    record('path added (kubectl apply)', r.ms, wrote);
    assert.equal(echo(await e.request({ host: 'conv.test', path: '/web' }))?.service, `${NS}/web`);
  });

  test('an Ingress deleted', async () => {
    await e.kubectl(['apply', '-f', '-'], JSON.stringify(ingress('extra', 'extra.test', [['/', 'web']])));
    await e.until('extra.test served', { host: 'extra.test', path: '/' }, (r) => echo(r)?.service === `${NS}/web`);
    const t0 = performance.now();
    const del = await e.kube.request('DELETE', `/apis/networking.k8s.io/v1/namespaces/${NS}/ingresses/extra`);
    assert.equal(del.status, 200, del.text);
    const wrote = performance.now() - t0;
    const r = await e.until('extra.test gone', { host: 'extra.test', path: '/' }, (x) => x.status === 404, { since: t0 });
    record('Ingress deleted', r.ms, wrote);
    assert.equal(echo(await e.request({ host: 'conv.test', path: '/web' }))?.service, `${NS}/web`, 'the other Ingress is untouched');
  });

  test('endpoints scaled from 2 to 10: fresh connections reach all 10', async () => {
    const before = new Set<string>();
    for (let i = 0; i < 6; i++) before.add(echo(await e.request({ host: 'conv.test', path: '/web' }))!.pod);
    assert.deepEqual([...before].sort(), ['web-0', 'web-1']);

    const t0 = performance.now();
    await e.putSlice({ namespace: NS, service: 'web', port: 8080, addresses: webAddresses(10) });
    const wrote = performance.now() - t0;
    const first = await e.until('a new pod answers', { host: 'conv.test', path: '/web' }, (x) => {
      const pod = echo(x)?.pod;
      return pod !== undefined && pod !== 'web-0' && pod !== 'web-1';
    }, { since: t0, intervalMs: 2 });
    record('endpoints 2 → 10 (first new pod answers)', first.ms, wrote);

    const seen = new Map<string, number>();
    for (let i = 0; i < 60 && seen.size < 10; i++) {
      const pod = echo(await e.request({ host: 'conv.test', path: '/web' }))?.pod ?? 'none';
      seen.set(pod, (seen.get(pod) ?? 0) + 1);
    }
    assert.deepEqual([...seen.keys()].sort(), Array.from({ length: 10 }, (_, i) => `web-${i}`).sort(), JSON.stringify([...seen]));
    record('endpoints 2 → 10 (all 10 pods answered)', performance.now() - t0);
  });

  test('endpoints scaled to 0: 503, then back', async () => {
    const t0 = performance.now();
    await e.putSlice({ namespace: NS, service: 'web', port: 8080, addresses: [] });
    const wrote = performance.now() - t0;
    const r = await e.until('503 with no endpoints', { host: 'conv.test', path: '/web' }, (x) => x.status === 503, { since: t0 });
    record('endpoints 10 → 0 (503)', r.ms, wrote);
    assert.match(r.response.body, /^503 /, r.response.body);
    console.log(`# 503 body: ${r.response.body.trim()}`);
    assert.equal(echo(await e.request({ host: 'conv.test', path: '/other' }))?.service, `${NS}/other`, 'another Service keeps working');

    const t1 = performance.now();
    await e.putSlice({ namespace: NS, service: 'web', port: 8080, addresses: webAddresses(2) });
    const back = await e.until('served again', { host: 'conv.test', path: '/web' }, (x) => echo(x)?.service === `${NS}/web`, { since: t1 });
    record('endpoints 0 → 2 (200 again)', back.ms);
  });

  test('the Ingress switched to another IngressClass: routes disappear; switched back: they return', async () => {
    const path = `/apis/networking.k8s.io/v1/namespaces/${NS}/ingresses/site`;
    const t0 = performance.now();
    const p1 = await e.kube.request('PATCH', path, { spec: { ingressClassName: 'not-ours' } });
    assert.equal(p1.status, 200, p1.text);
    const gone = await e.until('routes gone', { host: 'conv.test', path: '/web' }, (x) => x.status === 404, { since: t0 });
    record('ingressClassName → another class (404)', gone.ms);
    assert.equal((await e.request({ host: 'conv.test', path: '/other' })).status, 404, 'every path of the Ingress');
    assert.equal(e.routes().hosts.length, 0);

    const t1 = performance.now();
    const p2 = await e.kube.request('PATCH', path, { spec: { ingressClassName: 'ats' } });
    assert.equal(p2.status, 200, p2.text);
    const back = await e.until('routes back', { host: 'conv.test', path: '/web' }, (x) => echo(x)?.service === `${NS}/web`, { since: t1 });
    record('ingressClassName → ats again (200)', back.ms);
    assert.equal(who(await e.request({ host: 'conv.test', path: '/other' })), `${NS}/other@other-0`);
  });

  test('ATS was never restarted, and the controller is still healthy', async () => {
    assert.equal(e.ats!.pid, atsPid);
    assert.ok(e.ats!.running);
    assert.equal((await controller.admin('/healthz')).status, 200);
    assert.equal((await controller.admin('/readyz')).status, 200);
  });
});
