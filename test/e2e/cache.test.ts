// End to end on a real API server: caching as a user drives it. Two
// Ingresses of one Service (assets with cache-default-ttl, api without);
// the cache annotations applied with kubectl take effect on a running ATS
// as fast as a route change does; a cache-generation bump purges one
// Ingress's objects and no other's, with ATS's PID unchanged; a bad value is
// reported with an Event naming the annotation; and the controller's
// /metrics counts per Ingress exactly the requests sent, with their cache
// results, beside ATS's own cache figures.
//
// Run: bash scripts/build.sh && node --test dist/test/e2e/cache.test.js

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, test } from 'node:test';

import { E2e, K8S_DIR, echo, ms, type ControllerProcess } from './env.js';
import { pollUntil } from '../harness/poll.js';
import type { HttpResponse } from '../harness/ats.js';

const NS = 'e2e-cache';
const PORT = 8080;
const ASSETS = 'assets.e2e.test';
const API = 'api.e2e.test';
const ANN = 'ats.ingress.kubernetes.io/';
let e: E2e;
let controller: ControllerProcess;

function ingress(name: string, host: string, annotations: Record<string, string> = {}, paths = ['/']) {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: NS, annotations },
    spec: {
      ingressClassName: 'ats',
      rules: [{ host, http: { paths: paths.map((path) => ({ path, pathType: 'Prefix', backend: { service: { name: 'web', port: { number: PORT } } } })) } }],
    },
  };
}

async function putIngress(obj: ReturnType<typeof ingress>): Promise<void> {
  await e.apply(`/apis/networking.k8s.io/v1/namespaces/${NS}/ingresses/${obj.metadata.name}`, obj);
}

/** A GET of host+path; `headers` ask the pod for response headers (x-backend-headers). */
function get(host: string, path: string, respond: Record<string, string> = {}): Promise<HttpResponse> {
  return e.request({ host, path, fresh: true, headers: Object.keys(respond).length ? { 'x-backend-headers': JSON.stringify(respond) } : {} });
}

/** The pod's request number for this path in the answer: the same number twice means the second came from the cache. */
function hitOf(r: HttpResponse): number {
  const b = echo(r);
  assert.ok(b, `a pod's answer, got ${r.status} ${r.body.slice(0, 200)}`);
  return b.hit;
}

const until = <T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000) =>
  pollUntil(what, fn, ok, { timeoutMs, intervalMs: 10, context: () => controller.log(4_000) });

/** One series of the controller's /metrics (0 when absent). */
async function metric(name: string, labels: Record<string, string>): Promise<number> {
  const text = (await controller.admin('/metrics')).text;
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',');
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${want}} `) || (want === '' && l.startsWith(`${name} `)));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

before(async () => {
  e = await E2e.start({ tag: 'cache', pods: 1, backends: [{ service: `${NS}/web`, pod: 'web-0', podIndex: 0, port: PORT }] });
  await e.kubectl(['apply', '-f', join(K8S_DIR, 'traffic-server', '20-ingressclass.yaml')]);
  await e.kubectl(['create', 'namespace', NS]);
  await e.apply(`/api/v1/namespaces/${NS}/services/web`, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: NS }, spec: { ports: [{ name: 'http', port: PORT }] } });
  await e.putSlice({ namespace: NS, service: 'web', port: PORT, addresses: [e.backends.list[0]!.address] });
  await putIngress(ingress('assets', ASSETS, { [`${ANN}cache-default-ttl`]: '60s' }));
  await putIngress(ingress('api', API));
  controller = await e.startController(['--ats-stats-url', e.statsUrl]);
  await controller.waitReady();
  await until('both hosts served', () => Promise.all([get(ASSETS, '/'), get(API, '/')]), (rs) => rs.every((r) => r.status === 200));
});

after(async () => {
  await e?.close();
});

test('cache-default-ttl: a response without freshness is kept for that Ingress only; Age says it came from the cache', async () => {
  const first = await get(ASSETS, '/logo');
  const second = await get(ASSETS, '/logo');
  assert.equal(hitOf(second), hitOf(first), 'the pod was not asked again');
  assert.ok(second.headers.age !== undefined, 'the cached answer has an Age header');
  const a1 = await get(API, '/logo');
  const a2 = await get(API, '/logo');
  assert.equal(hitOf(a2), hitOf(a1) + 1, 'the other Ingress keeps the default: nothing without freshness is stored');
});

test('a change of cache policy is live as fast as a route change (kubectl to the first request that shows it)', async () => {
  const cacheable = { 'cache-control': 'max-age=300' };
  const first = await get(ASSETS, '/policy', cacheable);
  assert.equal(hitOf(await get(ASSETS, '/policy', cacheable)), hitOf(first), 'cached before the change');

  let t0 = performance.now();
  await putIngress(ingress('assets', ASSETS, { [`${ANN}cache-default-ttl`]: '60s', [`${ANN}cache`]: 'bypass' }));
  const written = performance.now() - t0;
  const bypassed = await until('cache: bypass live', () => get(ASSETS, '/policy', cacheable), (r) => r.status === 200 && hitOf(r) > hitOf(first));
  const policyMs = written + bypassed.ms;
  const again = await get(ASSETS, '/policy', cacheable);
  assert.equal(hitOf(again), hitOf(bypassed.value) + 1, 'bypassed: every request reaches the pod');

  t0 = performance.now();
  await putIngress(ingress('late', 'late.e2e.test'));
  const routeWritten = performance.now() - t0;
  const routed = await until('the new host live', () => get('late.e2e.test', '/'), (r) => r.status === 200);
  const routeMs = routeWritten + routed.ms;
  console.log(`# cache: bypass live ${ms(policyMs)} ms after its API write began; a new host live ${ms(routeMs)} ms after its write began`);
  await e.kubectl(['delete', 'ingress', '-n', NS, 'late']);

  await putIngress(ingress('assets', ASSETS, { [`${ANN}cache-default-ttl`]: '60s' }));
  await until('caching again', async () => [await get(ASSETS, '/policy2', cacheable), await get(ASSETS, '/policy2', cacheable)] as const, ([a, b]) => hitOf(a) === hitOf(b));
});

test('cache-generation: a bump purges that Ingress\'s objects on the running ATS; the other Ingress\'s stay', async () => {
  const pid = e.ats!.pid;
  const cacheable = { 'cache-control': 'max-age=300' };
  const a0 = hitOf(await get(ASSETS, '/gen', cacheable));
  const b0 = hitOf(await get(API, '/gen', cacheable));
  assert.equal(hitOf(await get(ASSETS, '/gen', cacheable)), a0);
  assert.equal(hitOf(await get(API, '/gen', cacheable)), b0);
  await putIngress(ingress('assets', ASSETS, { [`${ANN}cache-default-ttl`]: '60s', [`${ANN}cache-generation`]: '2' }));
  const missed = await until('the new generation live', () => get(ASSETS, '/gen', cacheable), (r) => r.status === 200 && hitOf(r) > a0);
  console.log(`# cache-generation bump: the next request missed ${ms(missed.ms)} ms after the write`);
  assert.equal(hitOf(await get(ASSETS, '/gen', cacheable)), hitOf(missed.value), 'and the new object is cached under the new generation');
  assert.equal(hitOf(await get(API, '/gen', cacheable)), b0, 'the other Ingress still answers from the cache');
  assert.equal(e.ats!.pid, pid, 'the same traffic_server');
});

test('a bad cache annotation: a Warning Event names it, and the Ingress keeps the default', async () => {
  await putIngress(ingress('api', API, { [`${ANN}cache-default-ttl`]: 'forever' }));
  const ev = await until(
    'the Warning Event',
    async () => JSON.parse(await e.kubectl(['get', 'events', '-n', NS, '-o', 'json'])).items as Array<{ type: string; message: string; involvedObject: { name: string } }>,
    (items) => items.some((x) => x.involvedObject.name === 'api' && x.type === 'Warning' && x.message.includes('cache-default-ttl')),
  );
  const event = ev.value.find((x) => x.involvedObject.name === 'api' && x.message.includes('cache-default-ttl'))!;
  assert.match(event.message, /metadata\.annotations\['ats\.ingress\.kubernetes\.io\/cache-default-ttl'\].*"forever" is not a duration/);
  const r1 = await get(API, '/bad');
  assert.equal(hitOf(await get(API, '/bad')), hitOf(r1) + 1, 'the default: a response without freshness is not kept');
  await putIngress(ingress('api', API));
});

test('/metrics counts per Ingress the requests sent and their cache results, beside ATS\'s cache figures', async () => {
  const labels = (ingressName: string) => ({ namespace: NS, ingress: ingressName, service: 'web' });
  const read = async () => ({
    assets2xx: await metric('ats_ingress_requests_total', { ...labels('assets'), status: '2xx' }),
    api2xx: await metric('ats_ingress_requests_total', { ...labels('api'), status: '2xx' }),
    assetsHits: await metric('ats_ingress_cache_results_total', { ...labels('assets'), result: 'hit_fresh' }),
    assetsMisses: await metric('ats_ingress_cache_results_total', { ...labels('assets'), result: 'miss' }),
  });
  const before = await read();
  // assets: one miss then 6 hits of one object; api: 5 requests nothing may store.
  for (let i = 0; i < 7; i++) assert.equal((await get(ASSETS, '/counted')).status, 200);
  for (let i = 0; i < 5; i++) assert.equal((await get(API, `/counted-${i}`)).status, 200);
  // TXN_CLOSE runs just after the answer is sent: give the last one a moment.
  const after = await until('the counts', read, (a) => a.assets2xx - before.assets2xx >= 7 && a.api2xx - before.api2xx >= 5, 5_000);
  assert.equal(after.value.assets2xx - before.assets2xx, 7);
  assert.equal(after.value.api2xx - before.api2xx, 5);
  assert.equal(after.value.assetsHits - before.assetsHits, 6);
  assert.equal(after.value.assetsMisses - before.assetsMisses, 1);
  // ATS sums its own statistics every few seconds (stats_over_http shows the last sum): wait for it.
  const atsHits = /^ats_cache_results_total\{result="hit_fresh"\} ([0-9]+)$/m;
  const { value: text } = await until('ATS counting its fresh hits', async () => (await controller.admin('/metrics')).text, (t) => Number(atsHits.exec(t)?.[1] ?? 0) >= 6, 20_000);
  for (const name of ['ats_cache_bytes_total', 'ats_cache_bytes_used', 'ats_cache_ram_hits_total', 'ats_cache_hit_ratio']) assert.match(text, new RegExp(`^${name} [0-9.e+-]+$`, 'm'), name);
});
