// The cache through real traffic_server and the plugin, in both ways of
// loading it: what is stored and what never is, and each per-route cache
// option of the route table (default and maximum TTL, key without the
// query, serve stale, generation) applied per transaction, taking effect on
// the next request after a publish, in the same process.
//
// The pods here are origins of this file's own: they count the requests
// they get per path and answer with the headers each request asks for in
// `x-origin-headers` (JSON), or with the status a test makes them fail with.
// Lifetimes are seconds (ATS's resolution), so the timed cases fill their
// objects together, then poll with a bound for the moment they change.
//
// Run: bash scripts/build.sh && node --test dist/test/plugin/cache.test.js

import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';

import { RouteTable, type BackendOptions, type TableBackend, type TableModel } from '../../src/route-table/route-table.js';
import { startAts, type AtsInstance, type HttpResponse } from '../harness/ats.js';
import { logTail, pluginSetup, pollUntil, tableName, type Mode } from './helpers.js';

// Long enough that the two requests of one podHits() fall in one lifetime
// on a loaded machine (ATS counts whole seconds: an object of 2 s may be
// stale after 1): with 2 s, one CI run saw the second request refetch.
/** How long after a request that reached a pod the next one waits (see `get`). */
const AFTER_MISS_MS = 50;
const TTL_S = 4;
const STALE_S = 3;
/** A lifetime that ends within the test's patience: the bound on each timed wait. */
const EXPIRY_BOUND_MS = 9_000;

// ------------------------------------------------------------ the origins

interface Answer {
  n: number;
  url: string;
  pod: string;
}

class Origin {
  private readonly counts = new Map<string, number>();
  private served = 0;
  private failing: number | undefined;
  private readonly server: http.Server;

  private constructor(readonly pod: string) {
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.on('clientError', (_e, socket) => socket.destroy());
  }

  static async start(pod: string): Promise<Origin> {
    const o = new Origin(pod);
    await new Promise<void>((resolve, reject) => {
      o.server.once('error', reject);
      o.server.listen({ host: '127.0.0.1', port: 0 }, () => resolve());
    });
    o.port = (o.server.address() as AddressInfo).port;
    return o;
  }

  /** Kept after close(): a stopped pod's address stays in the table. */
  port = 0;

  /** Requests this pod got for `path` (without the query), or for every path. */
  hits(path?: string): number {
    if (path === undefined) return this.served;
    return this.counts.get(path) ?? 0;
  }

  /** From now on every answer has this status (and no cache headers); undefined: healthy again. */
  failWith(status: number | undefined): void {
    this.failing = status;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    req.resume();
    const url = req.url ?? '/';
    const path = url.split('?')[0]!;
    this.counts.set(path, (this.counts.get(path) ?? 0) + 1);
    const n = ++this.served;
    const answer: Answer = { n, url, pod: this.pod };
    const body = JSON.stringify(answer);
    const asked = req.headers['x-origin-headers'];
    const headers: http.OutgoingHttpHeaders = this.failing === undefined && typeof asked === 'string' ? (JSON.parse(asked) as http.OutgoingHttpHeaders) : {};
    res.writeHead(this.failing ?? 200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
    res.end(body);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

function answerOf(r: HttpResponse, what: string): Answer {
  assert.equal(r.status, 200, `${what}: ${r.status} ${r.body.slice(0, 200)}`);
  return JSON.parse(r.body) as Answer;
}

// ------------------------------------------------------------ the table

interface Pods {
  main: Origin;
  other: Origin; // a second Service, for a route change
  down: Origin; // stopped in the serve-stale test
  failing: Origin; // answers 503 in the serve-stale test
}

/** What the tests change by publishing. */
interface Variant {
  genA?: number;
  change?: BackendOptions;
  changeTo?: 'main' | 'other';
}

const HOSTS: Array<[string, number]> = [
  ['plain.test', 0],
  ['spell.test', 0],
  ['ttl.test', 1],
  ['maxttl.test', 2],
  ['ttl-max.test', 3],
  ['iq.test', 4],
  ['bypass.test', 5],
  ['stale-down.test', 6],
  ['nostale-down.test', 7],
  ['stale-5xx.test', 8],
  ['nostale-5xx.test', 9],
  ['gen-a.test', 10],
  ['gen-b.test', 11],
  ['change.test', 12],
];

function model(p: Pods, v: Variant = {}): TableModel {
  const b = (pod: Origin, options?: BackendOptions): TableBackend => ({
    service: `ns/${pod.pod}`,
    port: '8080',
    scheme: 'http',
    endpoints: [{ address: '127.0.0.1', port: pod.port }],
    ...(options ? { options } : {}),
  });
  const backends = [
    b(p.main),
    b(p.main, { cacheDefaultTtlS: TTL_S }),
    b(p.main, { cacheMaxTtlS: TTL_S }),
    b(p.main, { cacheDefaultTtlS: 3600, cacheMaxTtlS: TTL_S }),
    b(p.main, { cacheIgnoreQuery: true }),
    b(p.main, { cachePolicy: 'bypass' }),
    b(p.down, { cacheServeStaleS: STALE_S }),
    b(p.down),
    b(p.failing, { cacheServeStaleS: STALE_S }),
    b(p.failing),
    b(p.main, { cacheGeneration: v.genA ?? 1 }),
    b(p.main, { cacheGeneration: 1 }),
    b(v.changeTo === 'other' ? p.other : p.main, v.change),
  ];
  return {
    backends,
    hosts: HOSTS.map(([name, backend]) => ({ name, rules: [{ path: '/', pathType: 'Prefix' as const, backend, source: `ns/${name}` }] })),
  };
}

// ------------------------------------------------------------ the tests

/** The response headers an origin is asked for. */
function asking(headers: Record<string, string>, more: Record<string, string> = {}): Record<string, string> {
  return { 'x-origin-headers': JSON.stringify(headers), ...more };
}

for (const mode of ['global', 'remap'] as Mode[]) {
  describe(`${mode} mode`, () => {
    const table = RouteTable.open(tableName(`cache-${mode}`));
    let pods: Pods;
    let ats: AtsInstance;
    let pid: number;

    before(async () => {
      pods = { main: await Origin.start('main'), other: await Origin.start('other'), down: await Origin.start('down'), failing: await Origin.start('failing') };
      table.publish(model(pods));
      ats = await startAts({ ...pluginSetup(mode, table.name) });
      pid = ats.pid;
    });
    after(async () => {
      await ats?.stop({ kill: true });
      table.remove();
      table.close();
      if (pods) await Promise.all(Object.values(pods).map((o: Origin) => o.close()));
    });

    const served = (): number => Object.values(pods).reduce((n, o: Origin) => n + o.hits(), 0);
    // A request that reached a pod returns AFTER_MISS_MS later: ATS writes
    // an object it stores after it has answered, and a request that comes
    // before the write has finished goes to the pod too (CI saw it once: of
    // two requests for an object stored by the first, both reached the pod).
    const get = async (host: string, path: string, headers: Record<string, string> = {}): Promise<HttpResponse> => {
      const seen = served();
      const r = await ats.request({ host, path, headers, fresh: true });
      if (served() > seen) await delay(AFTER_MISS_MS);
      return r;
    };

    /** Asks `times` times; returns how many reached the pod. */
    async function podHits(host: string, path: string, headers: Record<string, string>, times = 3, pod = pods.main): Promise<number> {
      const before = pod.hits(path);
      for (let i = 0; i < times; i++) {
        const r = await get(host, path, headers);
        assert.equal(r.status, 200, `${host}${path}: ${r.status} ${r.body.slice(0, 200)}`);
      }
      return pod.hits(path) - before;
    }

    test('a response with max-age is stored: the next request is answered by ATS, with Age', async () => {
      const h = asking({ 'cache-control': 'max-age=60' });
      const first = answerOf(await get('plain.test', '/stored', h), 'first');
      const second = await get('plain.test', '/stored', h);
      assert.deepEqual(answerOf(second, 'second'), first, 'the same object');
      assert.equal(pods.main.hits('/stored'), 1, 'the pod was asked once');
      assert.match(String(second.headers.age), /^\d+$/, 'a cached answer says its Age');
    });

    test('never stored: private, no-store, Set-Cookie, and a request with Authorization unless public or s-maxage', async () => {
      const auth = { authorization: 'Bearer alice' };
      const cases: Array<[string, Record<string, string>, Record<string, string>]> = [
        ['/private', { 'cache-control': 'private, max-age=60' }, {}],
        ['/no-store', { 'cache-control': 'no-store, max-age=60' }, {}],
        ['/cookie', { 'cache-control': 'max-age=60', 'set-cookie': 'session=alice; Path=/' }, {}],
        ['/cookie-public', { 'cache-control': 'public, max-age=60', 'set-cookie': 'session=alice' }, {}],
        ['/auth', { 'cache-control': 'max-age=60' }, auth],
        ['/auth-revalidate', { 'cache-control': 'max-age=60, must-revalidate' }, auth],
        ['/auth-private-s-maxage', { 'cache-control': 'private, s-maxage=60' }, auth],
        ['/auth-expires', { expires: new Date(Date.now() + 3_600_000).toUTCString() }, auth],
      ];
      for (const [path, response, request] of cases) {
        assert.equal(await podHits('plain.test', path, { ...asking(response), ...request }), 3, `${path}: every request reaches the pod`);
      }
      // ATS 9.2 alone stores a response to a request with Authorization
      // that says max-age only, and answers the next request, with no
      // Authorization, with it: one user's page for another.
      const before = pods.main.hits('/auth');
      const anonymous = answerOf(await get('plain.test', '/auth', asking({ 'cache-control': 'max-age=60' })), 'anonymous');
      assert.equal(pods.main.hits('/auth'), before + 1, `an anonymous request is not answered with Alice's response (got #${anonymous.n})`);
    });

    test('only explicit freshness is stored: Last-Modified alone (a heuristic lifetime) reaches the pod every time', async () => {
      const lastModified = asking({ 'last-modified': new Date(Date.now() - 86_400_000).toUTCString() });
      assert.equal(await podHits('plain.test', '/heuristic', lastModified), 3);
      assert.equal(await podHits('plain.test', '/nothing-said', asking({})), 3);
      assert.equal(await podHits('plain.test', '/expires', asking({ expires: new Date(Date.now() + 3_600_000).toUTCString() })), 1, 'Expires is explicit');
    });

    test('Vary is honoured: an object that varies on a request header is kept and answered per value of it', async () => {
      const lang = (value: string) => ({ ...asking({ 'cache-control': 'max-age=60', vary: 'Accept-Language' }), 'accept-language': value });
      const en = answerOf(await get('plain.test', '/vary', lang('en')), 'en');
      const fr = answerOf(await get('plain.test', '/vary', lang('fr')), 'fr');
      assert.notEqual(fr.n, en.n, 'another value of the header: the pod was asked');
      assert.equal(pods.main.hits('/vary'), 2);
      assert.equal(answerOf(await get('plain.test', '/vary', lang('en')), 'en again').n, en.n, "en's own object");
      assert.equal(answerOf(await get('plain.test', '/vary', lang('fr')), 'fr again').n, fr.n, "fr's own object");
      assert.equal(pods.main.hits('/vary'), 2, 'both answered from the cache');
    });

    test('a request with Authorization: a response with s-maxage or public is stored and answers the next ones', async () => {
      const auth = { authorization: 'Bearer alice' };
      assert.equal(await podHits('plain.test', '/auth-s-maxage', { ...asking({ 'cache-control': 's-maxage=60' }), ...auth }, 2), 1);
      assert.equal(await podHits('plain.test', '/auth-public', { ...asking({ 'cache-control': 'public, max-age=60' }), ...auth }, 2), 1);
      // Shared, as they say: also without Authorization, and with another one.
      assert.equal(await podHits('plain.test', '/auth-s-maxage', asking({ 'cache-control': 's-maxage=60' }), 1), 0);
      assert.equal(await podHits('plain.test', '/auth-s-maxage', { ...asking({ 'cache-control': 's-maxage=60' }), authorization: 'Bearer bob' }, 1), 0);
      // One stored from an anonymous request answers one with Authorization when it says s-maxage.
      assert.equal(await podHits('plain.test', '/anon-s-maxage', asking({ 'cache-control': 's-maxage=60' }), 1), 1);
      assert.equal(await podHits('plain.test', '/anon-s-maxage', { ...asking({ 'cache-control': 's-maxage=60' }), ...auth }, 1), 0);
    });

    test('cache: bypass reaches the pod every time, even for max-age responses', async () => {
      assert.equal(await podHits('bypass.test', '/x', asking({ 'cache-control': 'public, max-age=3600' })), 3);
    });

    test('one object for every spelling of a host: A.COM:port, a.com, a.com.', async () => {
      const h = asking({ 'cache-control': 'max-age=60' });
      const first = answerOf(await get(`SPELL.Test:${ats.httpPort}`, '/spelled', h), 'SPELL.Test:port');
      for (const host of ['spell.test', 'spell.test.', 'Spell.TEST:80']) {
        assert.deepEqual(answerOf(await get(host, '/spelled', h), host), first, host);
      }
      assert.equal(pods.main.hits('/spelled'), 1);
    });

    test('one object whether the request line names the URL or only its path, with or without a port or user', async () => {
      // The router keys a plain path, and an absolute URL with its port
      // cleared, by the request's URL object, and an absolute URL with a
      // user by the key's text (router.cc, set_cache_key): all must give one key.
      const h = asking({ 'cache-control': 'max-age=60' });
      const first = answerOf(await get('spell.test', '/absolute?x=1', h), 'origin-form');
      for (const path of [`http://spell.test:${ats.httpPort}/absolute?x=1`, 'http://spell.test/absolute?x=1', 'http://someone@spell.test/absolute?x=1']) {
        assert.deepEqual(answerOf(await get('spell.test', path, h), path), first, path);
      }
      assert.equal(pods.main.hits('/absolute'), 1);
    });

    test('cacheIgnoreQuery: one object across query strings, and the pod still gets the query', async () => {
      const h = asking({ 'cache-control': 'max-age=60' });
      const first = answerOf(await get('iq.test', '/asset.js?v=1', h), 'v=1');
      assert.equal(first.url, '/asset.js?v=1', 'the query reaches the pod');
      for (const q of ['?v=2', '', '?a=b&c']) assert.deepEqual(answerOf(await get('iq.test', `/asset.js${q}`, h), q), first, q);
      assert.equal(pods.main.hits('/asset.js'), 1);
      // Without the option the query is part of the key.
      answerOf(await get('plain.test', '/q.js?v=1', h), 'plain v=1');
      answerOf(await get('plain.test', '/q.js?v=2', h), 'plain v=2');
      answerOf(await get('plain.test', '/q.js?v=1', h), 'plain v=1 again');
      assert.equal(pods.main.hits('/q.js'), 2);
    });

    test('";" parameters are part of the key: /p;v=1 and /p;v=2 are two objects, and the pod gets each as sent', async () => {
      const h = asking({ 'cache-control': 'max-age=60' });
      const one = answerOf(await get('plain.test', '/p;v=1', h), 'v=1');
      assert.equal(one.url, '/p;v=1');
      const two = answerOf(await get('plain.test', '/p;v=2', h), 'v=2');
      assert.equal(two.url, '/p;v=2');
      assert.notEqual(two.n, one.n, 'another object, from the pod');
      assert.deepEqual(answerOf(await get('plain.test', '/p;v=1', h), 'v=1 again'), one, "v=1's own object");
      assert.deepEqual(answerOf(await get('plain.test', '/p;v=2', h), 'v=2 again'), two, "v=2's own object");
    });

    test(`cacheDefaultTtlS and cacheMaxTtlS: lifetimes of ${TTL_S} s`, async (t) => {
      const none = asking({});
      const lastModified = asking({ 'last-modified': new Date(Date.now() - 86_400_000).toUTCString() });
      const ownMaxAge = asking({ 'cache-control': 'max-age=3600' });
      const longExpires = asking({ expires: new Date(Date.now() + 3_600_000).toUTCString() });
      // What the default TTL makes cacheable, and what it must not.
      assert.equal(await podHits('plain.test', '/ttl-none', none), 3, 'without the option: a header-less response is not stored');
      const filled = performance.now();
      assert.equal(await podHits('ttl.test', '/ttl-none', none, 2), 1, 'a header-less response is stored');
      assert.equal(await podHits('ttl.test', '/ttl-lm', lastModified, 2), 1, 'one with an old Last-Modified too');
      assert.equal(await podHits('ttl.test', '/ttl-own', ownMaxAge, 2), 1, 'one with max-age keeps it');
      assert.equal(await podHits('ttl.test', '/ttl-private', asking({ 'cache-control': 'private' })), 3, 'private is never stored');
      assert.equal(await podHits('ttl.test', '/ttl-no-store', asking({ 'cache-control': 'no-store' })), 3, 'no-store is never stored');
      assert.equal(await podHits('ttl.test', '/ttl-cookie', asking({ 'set-cookie': 'a=b' })), 3, 'nor one that sets a cookie');
      // The maximum cuts max-age, Expires, and a longer default.
      assert.equal(await podHits('maxttl.test', '/max-age', ownMaxAge, 2), 1);
      assert.equal(await podHits('maxttl.test', '/max-expires', longExpires, 2), 1);
      assert.equal(await podHits('ttl-max.test', '/max-default', none, 2), 1);

      // Each object was stored within a second or two of `filled` (ATS dates
      // them in whole seconds): each is polled until it is refetched.
      const refetched = async (host: string, path: string, h: Record<string, string>): Promise<number> => {
        await pollUntil(`${host}${path} is refetched after ${TTL_S} s`, () => podHits(host, path, h, 1), (n) => n === 1, {
          timeoutMs: EXPIRY_BOUND_MS,
          intervalMs: 100,
        });
        const ms = performance.now() - filled;
        assert.ok(ms > (TTL_S - 1) * 1000, `${host}${path}: not before ${TTL_S - 1} s (ATS counts whole seconds), refetched after ${ms.toFixed(0)} ms`);
        return ms;
      };
      const ms = await refetched('ttl.test', '/ttl-none', none);
      t.diagnostic(`a default TTL of ${TTL_S} s: the header-less object was refetched ${ms.toFixed(0)} ms after it was stored`);
      await refetched('ttl.test', '/ttl-lm', lastModified); // Last-Modified does not lengthen it (heuristic min = max)
      await refetched('maxttl.test', '/max-age', ownMaxAge);
      await refetched('maxttl.test', '/max-expires', longExpires);
      await refetched('ttl-max.test', '/max-default', none); // the default is cut to the maximum
      assert.equal(await podHits('ttl.test', '/ttl-own', ownMaxAge, 1), 0, 'its own max-age still holds');
    });

    test(`cacheServeStaleS: a stale copy up to ${STALE_S} s old while the pod is down or answers 5xx; none without it`, async (t) => {
      const h = asking({ 'cache-control': 'max-age=1' });
      const copies = new Map<string, Answer>();
      for (const host of ['stale-down.test', 'nostale-down.test']) copies.set(host, answerOf(await get(host, '/s', h), host));
      for (const host of ['stale-5xx.test', 'nostale-5xx.test']) copies.set(host, answerOf(await get(host, '/s', h), host));
      const filled = performance.now();
      // Stale (older than max-age=1) but younger than the window.
      await delay(2_100);
      await pods.down.close();
      pods.failing.failWith(503);

      const downStale = await get('stale-down.test', '/s', h);
      assert.deepEqual(answerOf(downStale, 'pod down, with the option'), copies.get('stale-down.test'));
      assert.match(String(downStale.headers.warning), /^111 /, 'Warning: 111 (revalidation failed)');
      const downNone = await get('nostale-down.test', '/s', h);
      assert.ok(downNone.status >= 500, `pod down, without the option: an error, got ${downNone.status} ${downNone.body.slice(0, 100)}`);

      const failedStale = await get('stale-5xx.test', '/s', h);
      assert.deepEqual(answerOf(failedStale, 'pod answers 503, with the option'), copies.get('stale-5xx.test'));
      const failedNone = await get('nostale-5xx.test', '/s', h);
      assert.equal(failedNone.status, 503, 'pod answers 503, without the option: its 503');

      // After the window: the error.
      const over = await pollUntil(
        `the stale copy stops after ${STALE_S} s`,
        () => get('stale-down.test', '/s', h),
        (r) => r.status >= 500,
        { timeoutMs: EXPIRY_BOUND_MS, intervalMs: 100 },
      );
      const ms = performance.now() - filled;
      t.diagnostic(`serve stale ${STALE_S} s: the last stale copy was served about ${ms.toFixed(0)} ms after the object was stored`);
      assert.ok(ms > (STALE_S - 1) * 1000, `not before ${STALE_S - 1} s: ${ms.toFixed(0)} ms`);
      assert.ok(over.tries >= 2);
      await pollUntil('after the window the pod\'s 503', () => get('stale-5xx.test', '/s', h), (r) => r.status === 503, {
        timeoutMs: EXPIRY_BOUND_MS,
        intervalMs: 100,
      });
      pods.failing.failWith(undefined);
    });

    test('cacheGeneration: a new one makes the next request a miss in the same process; other routes keep theirs', async (t) => {
      const h = asking({ 'cache-control': 'max-age=600' });
      assert.equal(await podHits('gen-a.test', '/g', h, 2), 1);
      assert.equal(await podHits('gen-b.test', '/g-b', h, 2), 1);
      const t0 = performance.now();
      table.publish(model(pods, { genA: 2 }));
      const seen = await pollUntil('gen-a.test/g is a miss', () => podHits('gen-a.test', '/g', h, 1), (n) => n === 1, { timeoutMs: 10_000, intervalMs: 5 });
      t.diagnostic(`cacheGeneration 1 -> 2: the first miss ${(performance.now() - t0).toFixed(1)} ms after publish (${seen.tries} request(s))`);
      assert.equal(await podHits('gen-a.test', '/g', h, 2), 0, 'and the new generation is cached in turn');
      assert.equal(await podHits('gen-b.test', '/g-b', h, 2), 0, "another route's object stays cached");
      assert.equal(ats.pid, pid, 'the same traffic_server');
    });

    test('a change of any cache option takes effect on the next request after the table is published', async (t) => {
      const maxAge = asking({ 'cache-control': 'max-age=600' });
      // Each step: the table to publish, the request to repeat, and how to
      // tell an answer given under the new table.
      const prefill = answerOf(await get('change.test', '/c', maxAge), 'prefill');
      assert.equal(await podHits('change.test', '/c', maxAge, 1), 0, 'prefilled');
      let before = 0;
      const steps: Array<{ what: string; variant: Variant; path: string; headers: Record<string, string>; ok: (r: HttpResponse) => boolean }> = [
        {
          what: 'cacheIgnoreQuery off -> on',
          variant: { change: { cacheIgnoreQuery: true } },
          path: '/c?x=1',
          headers: maxAge,
          ok: (r) => r.status === 200 && (JSON.parse(r.body) as Answer).n === prefill.n,
        },
        {
          what: 'cache default -> bypass',
          variant: { change: { cachePolicy: 'bypass' } },
          path: '/c',
          headers: maxAge,
          ok: () => pods.main.hits('/c') > before,
        },
        {
          what: 'bypass -> cacheDefaultTtlS 600',
          variant: { change: { cacheDefaultTtlS: 600 } },
          path: '/c-none',
          headers: asking({}),
          ok: () => pods.main.hits('/c-none') === before,
        },
        {
          what: 'cacheGeneration none -> 7',
          variant: { change: { cacheDefaultTtlS: 600, cacheGeneration: 7 } },
          path: '/c-none',
          headers: asking({}),
          ok: () => pods.main.hits('/c-none') > before,
        },
        {
          what: 'a route change, for comparison (change.test -> another Service)',
          variant: { change: { cacheDefaultTtlS: 600, cacheGeneration: 7 }, changeTo: 'other' },
          path: '/c-route',
          headers: asking({ 'cache-control': 'no-store' }), // a stored answer would hide the new route
          ok: (r) => r.status === 200 && (JSON.parse(r.body) as Answer).pod === 'other',
        },
      ];
      for (const s of steps) {
        if (s.what.startsWith('bypass ->')) await get('change.test', s.path, s.headers); // one fetch before, bypassed
        const t0 = performance.now();
        table.publish(model(pods, s.variant));
        const seen = await pollUntil(
          s.what,
          async () => {
            before = s.path.startsWith('/c-none') ? pods.main.hits('/c-none') : pods.main.hits('/c');
            return get('change.test', s.path, s.headers);
          },
          s.ok,
          { timeoutMs: 10_000, intervalMs: 5 },
        );
        t.diagnostic(`${s.what}: ${(performance.now() - t0).toFixed(1)} ms after publish (${seen.tries} request(s))`);
      }
      assert.equal(ats.pid, pid, 'the same traffic_server');
    });

    test('the process never restarted', async () => {
      assert.equal(ats.pid, pid);
      assert.equal(ats.running, true, await logTail(ats));
    });
  });
}

describe('a route that does not ask for stale copies', () => {
  test(
    'a route without cacheServeStaleS serves no stale copy when its pod is down',
    async () => {
      const pod = await Origin.start('solo');
      const table = RouteTable.open(tableName('cache-production'));
      let ats: AtsInstance | undefined;
      try {
        table.publish({ backends: [{ service: 'ns/solo', port: '8080', scheme: 'http', endpoints: [{ address: '127.0.0.1', port: pod.port }] }], hosts: [{ name: 'solo.test', rules: [{ path: '/', pathType: 'Prefix', backend: 0, source: 'ns/solo' }] }] });
        ats = await startAts({ ...pluginSetup('global', table.name) });
        const h = asking({ 'cache-control': 'max-age=1' });
        answerOf(await ats.request({ host: 'solo.test', path: '/p', headers: h, fresh: true }), 'fill');
        await delay(2_100);
        await pod.close();
        const r = await ats.request({ host: 'solo.test', path: '/p', headers: h, fresh: true });
        assert.ok(r.status >= 500, `an error, not a stale copy: got ${r.status} (Warning: ${String(r.headers.warning)})`);
      } finally {
        await ats?.stop({ kill: true });
        table.remove();
        table.close();
        await pod.close();
      }
    },
  );
});
