// Purging ATS's cache, in both ways of loading the plugin: `ats-ingress
// purge URL` removes one object (http and https, under the key a GET
// stored it with), and PURGE or PUSH from anywhere but loopback is refused,
// while every other method from there is served. The client from elsewhere runs
// in a network namespace of the test's own, and ATS listens on the host's
// address in it as well as on 127.0.0.1. Needs root (ip netns), as CI has.
//
// Run: bash scripts/build.sh && node --test dist/test/plugin/purge.test.js

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';

import { RouteTable } from '../../src/route-table/route-table.js';
import { FIXTURE_CERT, FIXTURE_KEY } from '../../src/testing/fixture-certs.js';
import { startAts, type AtsInstance } from '../harness/ats.js';
import { closeBackends, startBackends, type Backend } from '../harness/backends.js';
import { createTestNetwork, type TestNetwork } from '../harness/netns.js';
import { backendOf, pluginSetup, tableName, type Mode } from './helpers.js';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const HOST = 'purge.test';
const ASSETS = 'assets.purge.test'; // cacheIgnoreQuery and a cache generation
const CACHEABLE = { 'x-backend-headers': JSON.stringify({ 'cache-control': 'max-age=300' }) };

let net: TestNetwork;
let pods: Backend[] = [];

before(async () => {
  net = await createTestNetwork(1);
  pods = await startBackends(1, 'ns/a');
});

after(async () => {
  await closeBackends(pods);
  await net?.close();
});

for (const mode of ['global', 'remap'] as Mode[]) {
  describe(`${mode} mode`, () => {
    const name = tableName(`purge-${mode}`);
    let table: RouteTable;
    let ats: AtsInstance;

    before(async () => {
      table = RouteTable.open(name);
      table.publish({
        backends: [backendOf('ns/a', pods), backendOf('ns/a', pods, { port: 'assets', options: { cacheIgnoreQuery: true, cacheGeneration: 3 } })],
        hosts: [
          { name: HOST, rules: [{ path: '/', pathType: 'Prefix', backend: 0, source: 'ns/web' }] },
          { name: ASSETS, rules: [{ path: '/', pathType: 'Prefix', backend: 1, source: 'ns/assets' }] },
        ],
      });
      ats = await startAts({
        ...pluginSetup(mode, name),
        alsoBind: [net.hostAddress],
        https: true,
        certs: [{ name: 'purge', cert: FIXTURE_CERT, key: FIXTURE_KEY, default: true }],
      });
    });

    after(async () => {
      await ats?.stop({ kill: true });
      table?.remove();
      table?.close();
    });

    async function purge(url: string): Promise<{ code: number; stdout: string; stderr: string }> {
      const args = [CLI, 'purge', url, '--http-port', String(ats.httpPort), '--https-port', String(ats.httpsPort)];
      try {
        const { stdout, stderr } = await run(process.execPath, args, { timeout: 20_000 });
        return { code: 0, stdout, stderr };
      } catch (err) {
        const e = err as { code: number; stdout: string; stderr: string };
        return { code: e.code, stdout: e.stdout, stderr: e.stderr };
      }
    }

    /**
     * A GET of `path`, then GETs until one is answered from the cache: 1
     * when the first reached the pod, 0 when the object was cached already.
     * (The GET right after the one that stored an object is normally a hit;
     * a busy machine may not have finished the cache write yet: a few more
     * tries, bounded.)
     */
    async function podHitsFor(path: string, tls = false): Promise<number> {
      const get = async () => {
        const before = pods[0]!.hits(path);
        const r = await ats.request({ host: HOST, path, headers: CACHEABLE, fresh: true, ...(tls ? { tls: true, servername: HOST } : {}) });
        assert.equal(r.status, 200, r.body);
        return pods[0]!.hits(path) - before;
      };
      const first = await get();
      for (let i = 0; i < 5; i++) {
        if ((await get()) === 0) return first;
        await delay(20);
      }
      assert.fail(`${path}: never answered from the cache`);
    }

    test('ats-ingress purge URL removes that object, and only that one', async () => {
      assert.equal(await podHitsFor('/one'), 1, 'the second GET is answered from the cache');
      assert.equal(await podHitsFor('/two'), 1);
      const r = await purge(`http://${HOST}/one`);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), `purged http://${HOST}/one`);
      assert.equal(await podHitsFor('/one'), 1, 'purged: the pod is asked again, once');
      assert.equal(await podHitsFor('/two'), 0, 'the other object stays cached');
      const again = await purge(`http://${HOST}/never-cached`);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(again.stdout.trim(), `http://${HOST}/never-cached was not in the cache`);
    });

    test('the purge names the object a GET stored: any spelling of the host', async () => {
      const before = pods[0]!.hits('/spelled');
      const get = (host: string) => ats.request({ host, path: '/spelled', headers: CACHEABLE, fresh: true });
      assert.equal((await get(`PURGE.Test:${ats.httpPort}`)).status, 200);
      assert.equal((await get(HOST)).status, 200);
      assert.equal(pods[0]!.hits('/spelled') - before, 1, 'one object for both spellings');
      const r = await purge(`http://Purge.TEST./spelled`);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^purged /);
      assert.equal((await get(HOST)).status, 200);
      assert.equal(pods[0]!.hits('/spelled') - before, 2, 'purged under the other spelling');
    });

    test("a route's cache options apply to the purge as to the GET: the key without the query, the generation", async () => {
      const before = pods[0]!.hits('/app.js');
      const get = (q: string) => ats.request({ host: ASSETS, path: `/app.js?${q}`, headers: CACHEABLE, fresh: true });
      assert.equal((await get('v=1')).status, 200);
      assert.equal((await get('v=2')).status, 200);
      assert.equal(pods[0]!.hits('/app.js') - before, 1, 'one object for every query');
      const r = await purge(`http://${ASSETS}/app.js?v=9`);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^purged /, 'found under the generation and the key without the query');
      assert.equal((await get('v=1')).status, 200);
      assert.equal(pods[0]!.hits('/app.js') - before, 2, 'purged: asked again');
    });

    test('an https URL is purged over TLS: http and https objects are apart', async () => {
      assert.equal(await podHitsFor('/s', true), 1);
      assert.equal(await podHitsFor('/s'), 1, 'the http object is another one');
      const r = await purge(`https://${HOST}/s`);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await podHitsFor('/s', true), 1, 'the https object was purged');
      assert.equal(await podHitsFor('/s'), 0, 'the http one was not');
    });

    test('PURGE and PUSH from outside the pod are refused; GET from there is served', async () => {
      assert.equal(await podHitsFor('/kept'), 1);
      const curl = (...args: string[]) =>
        net.exec('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '5', '-H', `Host: ${HOST}`, ...args, `http://${net.hostAddress}:${ats.httpPort}/kept`]);
      const purgeFromOutside = await curl('-X', 'PURGE');
      assert.equal(purgeFromOutside.stdout, '403', purgeFromOutside.stderr);
      const lowercase = await curl('-X', 'purge');
      assert.equal(lowercase.stdout, '403', 'a method token in lower case is the same method to ATS');
      const pushFromOutside = await curl('-X', 'PUSH', '--data-binary', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx');
      assert.equal(pushFromOutside.stdout, '403', pushFromOutside.stderr);
      const body = await net.exec('curl', ['-s', '--max-time', '5', '-X', 'PURGE', '-H', `Host: ${HOST}`, `http://${net.hostAddress}:${ats.httpPort}/kept`]);
      assert.match(body.stdout, /^403 PURGE and PUSH are accepted from inside the pod only \(loopback\)/, 'the body says why');
      const get = await curl();
      assert.equal(get.stdout, '200', get.stderr);
      assert.equal(await podHitsFor('/kept'), 0, 'still cached: the refused PURGE removed nothing');
    });

    test('bad URLs are refused before anything is sent', async () => {
      for (const [url, message] of [
        ['not a url', /"not a url" is not a URL/],
        ['ftp://purge.test/x', /only http and https URLs are cached/],
        ['http://user:pw@purge.test/x', /a URL with credentials/],
      ] as const) {
        const r = await purge(url);
        assert.equal(r.code, 2);
        assert.match(r.stderr, message);
      }
    });
  });
}
