// One traffic_server (remap mode, with the debug header), started before any
// table exists, then a sequence of publishes: each change must take effect in
// the same process, without a restart or reload. The time from publish() to
// the first request that sees the change is measured and printed (polled,
// bounded, never asserted: the machine is shared and noisy).
//
// Run: bash scripts/build.sh && node --test dist/test/plugin/changes.test.js

import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, test, type TestContext } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';

import { RouteTable, type TableModel } from '../../src/route-table/route-table.js';
import { startAts, type AtsInstance, type HttpResponse } from '../harness/ats.js';
import { closeBackends, startBackends, type Backend, type BackendEcho } from '../harness/backends.js';
import { backendOf, echoOf, fromService, logTail, pluginSetup, requestUntil, tableName } from './helpers.js';

const PICKUP_TIMEOUT_MS = 10_000;
const name = tableName('changes');
let table: RouteTable | undefined;
let ats: AtsInstance;
let pid: number;
let a: Backend[] = []; // svc a: 2 pods
let b: Backend[] = []; // svc b: 1 pod
let ten: Backend[] = []; // svc ten: 10 pods

before(async () => {
  a = await startBackends(2, 'ns/a');
  b = await startBackends(1, 'ns/b');
  ten = await startBackends(10, 'ns/ten');
  // Nothing in /dev/shm for this name yet: the control object does not exist.
  ats = await startAts({ ...pluginSetup('remap', name, ['--debug-header']) });
  pid = ats.pid;
});

after(async () => {
  await ats?.stop({ kill: true });
  if (table) {
    table.remove();
    table.close();
  }
  await closeBackends([...a, ...b, ...ten]);
});

/** Publishes and polls (fresh connections) until `ok`; records and prints how long it took. */
async function publishAndWait(
  t: TestContext,
  what: string,
  model: TableModel,
  req: { host: string; path: string },
  ok: (r: HttpResponse) => boolean,
): Promise<HttpResponse> {
  table ??= RouteTable.open(name);
  const t0 = performance.now();
  const { generation } = table.publish(model);
  const published = performance.now();
  const seen = await requestUntil(ats, req, ok, `${what} (generation ${generation})`, PICKUP_TIMEOUT_MS);
  const ms = performance.now() - published;
  const line = `${what}: ${ms.toFixed(1)} ms after publish (publish itself ${(published - t0).toFixed(1)} ms, ${seen.tries} request(s))`;
  t.diagnostic(line);
  assert.equal(ats.pid, pid, 'the same traffic_server process');
  return seen.value;
}

// Model pieces: svc a = 0, svc b = 1, svc ten = 2.
function model(opts: { route: 'a' | 'b'; hostB?: boolean; aPods?: Backend[] }): TableModel {
  return {
    backends: [backendOf('ns/a', opts.aPods ?? a), backendOf('ns/b', b), backendOf('ns/ten', ten)],
    hosts: [
      { name: 'app.test', rules: [{ path: '/v1', pathType: 'Prefix', backend: opts.route === 'a' ? 0 : 1, source: 'ns/app' }] },
      ...(opts.hostB ? [{ name: 'new.test', rules: [{ path: '/', pathType: 'Prefix' as const, backend: 0, source: 'ns/new' }] }] : []),
      { name: 'ten.test', rules: [{ path: '/', pathType: 'Prefix', backend: 2, source: 'ns/ten' }] },
    ],
  };
}

test('before any table exists: 503 "no route table has been published yet"', async () => {
  for (const host of ['app.test', 'anything.test']) {
    const r = await ats.request({ host, path: '/v1' });
    assert.equal(r.status, 503, r.body);
    assert.equal(r.body, '503 no route table has been published yet\n');
  }
});

test('the first table is picked up without a restart', async (t) => {
  const r = await publishAndWait(t, 'first table (no control object before)', model({ route: 'a' }), { host: 'app.test', path: '/v1' }, fromService('ns/a'));
  const echo = echoOf(r);
  assert.equal(echo.url, '/v1');
  // The debug header (remap mode here; global mode in walkthrough.test.ts) names rule, service and endpoint.
  const pod = a.find((p) => p.pod === echo.pod)!;
  assert.equal(
    r.headers['x-ats-ingress-route'],
    `host=app.test path=/v1 type=Prefix ingress=ns/app service=ns/a:8080 endpoint=127.0.0.1:${pod.port} generation=1`,
  );
});

test('a route change', async (t) => {
  await publishAndWait(t, 'route change (/v1: a -> b)', model({ route: 'b' }), { host: 'app.test', path: '/v1/x' }, fromService('ns/b'));
  // Every later request sees it.
  for (let i = 0; i < 10; i++) assert.equal(echoOf(await ats.request({ host: 'app.test', path: '/v1', fresh: true })).service, 'ns/b');
});

test('a new host', async (t) => {
  const before = await ats.request({ host: 'new.test', path: '/' });
  assert.equal(before.status, 404, before.body);
  await publishAndWait(t, 'new host', model({ route: 'b', hostB: true }), { host: 'new.test', path: '/hello' }, fromService('ns/a'));
});

test('an endpoint change', async (t) => {
  const [a0, a1] = a as [Backend, Backend];
  // Only pod a-1 left: every answer must come from it once the change is live.
  const r = await publishAndWait(
    t,
    'endpoint change (a: 2 pods -> pod a-1 only)',
    model({ route: 'b', hostB: true, aPods: [a1] }),
    { host: 'new.test', path: '/' },
    (res) => res.status === 200 && (JSON.parse(res.body) as BackendEcho).pod === a1.pod,
  );
  assert.match(String(r.headers['x-ats-ingress-route']), new RegExp(`endpoint=127\\.0\\.0\\.1:${a1.port} `));
  const before = a0.requests;
  for (let i = 0; i < 20; i++) assert.equal(echoOf(await ats.request({ host: 'new.test', path: '/', fresh: true })).pod, a1.pod);
  assert.equal(a0.requests, before, 'the removed pod gets nothing');

  await publishAndWait(t, 'endpoint change (a: no endpoints -> 503)', model({ route: 'b', hostB: true, aPods: [] }), { host: 'new.test', path: '/' }, (res) => res.status === 503);
  await publishAndWait(t, 'endpoint change (a: pod a-0 back)', model({ route: 'b', hostB: true, aPods: [a0] }), { host: 'new.test', path: '/' }, (res) => res.status === 200 && (JSON.parse(res.body) as BackendEcho).pod === a0.pod);
});

test('100 requests on fresh connections reach all 10 endpoints', async () => {
  const counts = new Map<string, number>();
  for (let i = 0; i < 100; i++) {
    const echo = echoOf(await ats.request({ host: 'ten.test', path: `/r/${i}`, fresh: true }));
    assert.equal(echo.service, 'ns/ten');
    counts.set(echo.pod, (counts.get(echo.pod) ?? 0) + 1);
  }
  const spread = ten.map((p) => `${p.pod}=${counts.get(p.pod) ?? 0}`).join(' ');
  assert.equal(counts.size, 10, `pods reached: ${spread}\n${await logTail(ats, 2_000)}`);
  console.log(`100 fresh requests over 10 endpoints: ${spread}`);
});

test('publishing while requests are in flight: every answer is a whole, good one', async () => {
  const a0 = a[0]!;
  const answers = new Map<string, number>();
  const bad: string[] = [];
  let stop = false;
  const client = async (id: number): Promise<void> => {
    for (let i = 0; !stop; i++) {
      try {
        const r = await ats.request({ host: 'app.test', path: `/v1/load/${id}/${i}`, fresh: i % 4 === 0, timeoutMs: 5_000 });
        if (r.status !== 200) bad.push(`${r.status} ${r.body.slice(0, 80)}`);
        else {
          const echo = JSON.parse(r.body) as BackendEcho;
          if (echo.url !== `/v1/load/${id}/${i}`) bad.push(`wrong url ${echo.url}`);
          answers.set(echo.service, (answers.get(echo.service) ?? 0) + 1);
        }
      } catch (err) {
        bad.push((err as Error).message);
      }
    }
  };
  const clients = [0, 1, 2, 3].map(client);
  const publishes = 60;
  try {
    for (let i = 0; i < publishes; i++) {
      table!.publish(model({ route: i % 2 === 0 ? 'a' : 'b', hostB: true, aPods: [a0] }));
      await delay(10);
    }
  } finally {
    stop = true;
    await Promise.all(clients);
  }
  const total = [...answers.values()].reduce((x, y) => x + y, 0);
  console.log(`${publishes} publishes under load: ${total} good answers (${[...answers].map(([k, v]) => `${k}=${v}`).join(' ')}), ${bad.length} bad`);
  assert.deepEqual(bad.slice(0, 10), [], `${bad.length} bad answers`);
  assert.ok(total > 0);
  assert.equal(ats.pid, pid);
});

test('the process never restarted', () => {
  assert.equal(ats.pid, pid);
  assert.equal(ats.running, true);
  try {
    process.kill(pid, 0);
  } catch {
    assert.fail(`traffic_server ${pid} is gone`);
  }
});
