// The plugin's per-route request counters through real traffic_server, in
// both ways of loading it: requests to routes with stats slots, by status
// class of the answer to the client (2xx, 3xx redirects, 4xx and 5xx from
// the pod, the plugin's 503 for a backend with no endpoints) and by cache
// result (hit_fresh, hit_stale, miss, not_cacheable), read back through the
// addon (RouteTable.readStats(), which sums the per-thread blocks) and
// compared exactly with what was sent. Routes without a slot, the plugin's
// 404 and PURGE from loopback are not counted. A verify run of the plugin
// leaves the running ATS's counters alone; a restart starts a new instance.
//
// Whether a cacheable request was a miss or a hit is read from the pod's
// own count for the path (a hit never reaches it), so the expectation does
// not depend on how fast ATS's cache write was.
//
// Run: bash scripts/build.sh && node --test dist/test/plugin/stats.test.js

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';

import { RouteTable, type RouteStats, type TableModel } from '../../src/route-table/route-table.js';
import { startAts, verifyPlugin, type AtsInstance, type HttpResponse } from '../harness/ats.js';
import { closeBackends, startBackend, type Backend } from '../harness/backends.js';
import { backendOf, logTail, PLUGIN_SO, pluginSetup, pollUntil, tableName, type Mode } from './helpers.js';

const CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
const RESULTS = ['hit_fresh', 'hit_stale', 'miss', 'not_cacheable'] as const;
type Result = (typeof RESULTS)[number];
type Counts = Record<string, number>;

const SLOT_A = 3;
const SLOT_B = 7;
const SLOT_EMPTY = 5;
const STATS_SLOTS = 64;

function model(a: Backend, b: Backend): TableModel {
  return {
    backends: [
      backendOf('ns/a', [a], { options: { statsSlot: SLOT_A } }),
      backendOf('ns/b', [b], { options: { statsSlot: SLOT_B } }),
      backendOf('ns/empty', [], { options: { statsSlot: SLOT_EMPTY } }),
      backendOf('ns/a', [a], { port: 'web', options: { statsSlot: SLOT_A, redirectToHttps: true } }),
      backendOf('ns/uncounted', [a]),
    ],
    hosts: [
      {
        name: 'a.test',
        rules: [
          { path: '/', pathType: 'Prefix', backend: 0, source: 'ns/a' },
          { path: '/secure', pathType: 'Prefix', backend: 3, source: 'ns/a' },
        ],
      },
      {
        name: 'b.test',
        rules: [
          { path: '/', pathType: 'Prefix', backend: 1, source: 'ns/b' },
          { path: '/empty', pathType: 'Prefix', backend: 2, source: 'ns/b' },
        ],
      },
      { name: 'uncounted.test', rules: [{ path: '/', pathType: 'Prefix', backend: 4, source: 'ns/u' }] },
    ],
  };
}

function zero(): Counts {
  return Object.fromEntries([...CLASSES, ...RESULTS].map((k) => [k, 0]));
}

function countsOf(s: RouteStats, slot: number): Counts {
  const c = zero();
  s.counterNames.forEach((name, i) => {
    c[name] = Number(s.counters[slot * s.counterNames.length + i] ?? 0n);
  });
  return c;
}

const backendHeaders = (headers: Record<string, string | string[]>, status?: number): Record<string, string> => ({
  'x-backend-headers': JSON.stringify(headers),
  ...(status !== undefined ? { 'x-backend-status': String(status) } : {}),
});

for (const mode of ['global', 'remap'] as Mode[]) {
  describe(`${mode} mode`, () => {
    const table = RouteTable.open(tableName(`stats-${mode}`));
    let a: Backend;
    let b: Backend;
    let ats: AtsInstance;
    const want = new Map<number, Counts>([
      [SLOT_A, zero()],
      [SLOT_B, zero()],
      [SLOT_EMPTY, zero()],
    ]);

    before(async () => {
      a = await startBackend({ service: 'ns/a', pod: 'a-0' });
      b = await startBackend({ service: 'ns/b', pod: 'b-0' });
      table.publish(model(a, b));
      ats = await startAts(pluginSetup(mode, table.name, [`--stats-slots=${STATS_SLOTS}`, '--stats-threads=8']));
    });
    after(async () => {
      await ats?.stop({ kill: true });
      table.remove();
      table.close();
      await closeBackends([a, b]);
    });

    /** One request, and what the counters must say for it. */
    async function send(
      slot: number | undefined,
      req: { host: string; path: string; method?: string; headers?: Record<string, string>; body?: string },
      status: number,
      result: Result | ((podAsked: boolean) => Result),
      pod?: Backend,
    ): Promise<HttpResponse> {
      const path = req.path.split('?')[0]!;
      const before = pod?.hits(path) ?? 0;
      const r = await ats.request({ ...req, fresh: true });
      assert.equal(r.status, status, `${req.method ?? 'GET'} ${req.host}${req.path}: ${r.status} ${r.body.slice(0, 200)}`);
      if (slot !== undefined) {
        const c = want.get(slot)!;
        c[`${Math.floor(status / 100)}xx`]! += 1;
        const asked = (pod?.hits(path) ?? 0) > before;
        c[typeof result === 'function' ? result(asked) : result]! += 1;
      }
      return r;
    }
    const cacheable = (asked: boolean): Result => (asked ? 'miss' : 'hit_fresh');

    /** The counters once they hold every request sent (TXN_CLOSE runs right after the answer). */
    async function counted(): Promise<RouteStats> {
      const total = (c: Counts) => CLASSES.reduce((s, k) => s + c[k]!, 0);
      const r = await pollUntil(
        'the counters hold every request sent',
        async () => table.readStats(),
        (s) => s !== undefined && [...want].every(([slot, c]) => total(countsOf(s, slot)) >= total(c)),
        { timeoutMs: 5_000, intervalMs: 10 },
      );
      return r.value!;
    }

    function assertExact(s: RouteStats, what: string): void {
      for (const [slot, c] of want) assert.deepEqual(countsOf(s, slot), c, `${what}: slot ${slot}`);
      // Nothing else was counted: no other slot, nothing dropped.
      for (let slot = 0; slot < s.slots; slot++) {
        if (want.has(slot)) continue;
        assert.deepEqual(countsOf(s, slot), zero(), `${what}: slot ${slot} counts nothing`);
      }
      assert.equal(s.dropped, 0n);
    }

    test('every request to a route with a stats slot is counted exactly, by status class and cache result', async () => {
      const s0 = table.readStats();
      assert.ok(s0, 'the plugin made its counters when ATS started');
      assert.equal(s0.maxSlots, STATS_SLOTS, '--stats-slots sizes them');

      const fresh = backendHeaders({ 'cache-control': 'max-age=300' });
      for (let i = 0; i < 4; i++) await send(SLOT_A, { host: 'a.test', path: '/cached', headers: fresh }, 200, cacheable, a);
      assert.equal(a.hits('/cached'), 1, 'stored: one miss, then hits');
      for (let i = 0; i < 3; i++) await send(SLOT_A, { host: 'a.test', path: '/plain' }, 200, 'not_cacheable', a);
      for (let i = 0; i < 2; i++)
        await send(SLOT_A, { host: 'a.test', path: '/private', headers: backendHeaders({ 'cache-control': 'private, max-age=300' }) }, 200, 'not_cacheable', a);
      for (let i = 0; i < 2; i++)
        await send(SLOT_A, { host: 'a.test', path: '/cookie', headers: backendHeaders({ 'cache-control': 'max-age=300', 'set-cookie': 'id=1' }) }, 200, 'not_cacheable', a);
      for (let i = 0; i < 2; i++) await send(SLOT_A, { host: 'a.test', path: '/gone', headers: backendHeaders({}, 404) }, 404, 'not_cacheable', a);
      await send(SLOT_A, { host: 'a.test', path: '/form', method: 'POST', body: 'x=1', headers: fresh }, 200, 'not_cacheable', a);
      for (let i = 0; i < 2; i++) await send(SLOT_A, { host: 'a.test', path: '/secure/x' }, 308, 'not_cacheable');

      for (let i = 0; i < 3; i++) await send(SLOT_B, { host: 'b.test', path: '/b1', headers: fresh }, 200, cacheable, b);
      for (let i = 0; i < 2; i++) await send(SLOT_B, { host: 'b.test', path: '/broken', headers: backendHeaders({}, 500) }, 500, 'not_cacheable', b);
      for (let i = 0; i < 2; i++) await send(SLOT_EMPTY, { host: 'b.test', path: '/empty/x' }, 503, 'not_cacheable');

      // Not counted: a route without a slot, the plugin's 404, PURGE from loopback.
      for (let i = 0; i < 2; i++) await send(undefined, { host: 'uncounted.test', path: '/u' }, 200, 'not_cacheable');
      await send(undefined, { host: 'a.test.unknown', path: '/' }, 404, 'not_cacheable');
      await send(undefined, { host: 'a.test', path: '/cached', method: 'PURGE' }, 200, 'not_cacheable');
      await send(SLOT_A, { host: 'a.test', path: '/cached', headers: fresh }, 200, cacheable, a);
      assert.equal(a.hits('/cached'), 2, 'purged: a miss again');

      const s = await counted();
      assertExact(s, 'after the first requests');
      console.log(`${mode}: slot ${SLOT_A} ${JSON.stringify(countsOf(s, SLOT_A))}, slot ${SLOT_B} ${JSON.stringify(countsOf(s, SLOT_B))}`);
    });

    test('a stored response past its max-age is a stale hit (revalidated with the pod)', async () => {
      const short = backendHeaders({ 'cache-control': 'max-age=1' });
      await send(SLOT_B, { host: 'b.test', path: '/short', headers: short }, 200, cacheable, b);
      await send(SLOT_B, { host: 'b.test', path: '/short', headers: short }, 200, cacheable, b);
      await delay(2_500);
      await send(SLOT_B, { host: 'b.test', path: '/short', headers: short }, 200, (asked) => (asked ? 'hit_stale' : 'hit_fresh'), b);
      assert.equal(want.get(SLOT_B)!.hit_stale, 1, 'the copy was stale: the pod was asked again');
      assertExact(await counted(), 'after the stale hit');
    });

    test('a verify run of the plugin for the same table leaves the running counters alone', async () => {
      const before = table.readStats()!;
      const v = await verifyPlugin(mode, PLUGIN_SO, [`--table=${table.name}`]);
      assert.equal(v.ok, true, v.output);
      const after = table.readStats()!;
      assert.equal(after.instance, before.instance, 'the same counters object');
      assertExact(after, 'after the verify run');
    });

    test('an ATS restart starts a new instance counting from zero', async () => {
      const before = table.readStats()!;
      await ats.restart();
      const s = await pollUntil('the new instance', async () => table.readStats(), (x) => x !== undefined && x.instance !== before.instance, {
        timeoutMs: 5_000,
      });
      for (const c of want.values()) Object.assign(c, zero());
      assertExact(s.value!, 'right after the restart');
      await send(SLOT_A, { host: 'a.test', path: '/after-restart' }, 200, 'not_cacheable', a);
      const again = await counted();
      assertExact(again, 'after one request');
      if (again.instance === before.instance) assert.fail(await logTail(ats));
    });
  });
}
