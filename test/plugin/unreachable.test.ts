// A pod that refuses connections, through real traffic_server with the
// cache on, in both ways of loading the plugin: ATS retries on another
// ready pod of the same backend (the plugin names it through ATS's next-hop
// API), so one pod of two down costs no request; with every pod down, or
// ATS's attempts spent, the answer is 502 with a body that says the pod
// refused the connection; never the 500 "Unknown Host" ATS 9.2 gave when
// the plugin set the server address and the cache was on.
//
// The refusing pods are closed ports on addresses of their own
// (127.0.0.3 and up), the answering one on 127.0.0.2: a retry must change
// the address, not only the port. How many retries happened comes from the
// plugin's metrics, read through stats_over_http.
//
// Run: bash scripts/build.sh && node --test dist/test/plugin/unreachable.test.js

import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, test } from 'node:test';

import { RouteTable, type TableModel } from '../../src/route-table/route-table.js';
import { FIXTURE_CERT, FIXTURE_KEY } from '../../src/testing/fixture-certs.js';
import { startAts, type AtsInstance, type HttpResponse } from '../harness/ats.js';
import { closeBackends, startBackend, type Backend } from '../harness/backends.js';
import { freePorts } from '../harness/ports.js';
import { echoOf, logTail, pluginSetup, pollUntil, tableName, type Mode } from './helpers.js';

const STATS_PATH = '_ats_ingress_test_stats';
const M = 'plugin.ats_ingress.';
const REQUESTS = 20;

interface Refusing {
  address: string;
  port: number;
}

/** An https pod: says whether its connection was TLS, the SNI it got, and the Host. */
async function startTlsPod(): Promise<{ server: https.Server; port: number }> {
  const server = https.createServer({ cert: FIXTURE_CERT, key: FIXTURE_KEY }, (req, res) => {
    req.resume();
    req.on('end', () => {
      const socket = req.socket as TLSSocket;
      const body = JSON.stringify({ tls: socket.encrypted === true, servername: socket.servername, host: req.headers.host ?? '' });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.2', port: 0 }, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}

function model(live: Backend, dead: Refusing[], tlsPort: number): TableModel {
  const ep = (e: { address: string; port: number }) => ({ address: e.address, port: e.port });
  const backend = (service: string, endpoints: Array<{ address: string; port: number }>) => ({
    service,
    port: '8080',
    scheme: 'http' as const,
    endpoints: endpoints.map(ep),
  });
  return {
    backends: [
      backend('ns/half', [dead[0]!, live]),
      backend('ns/down', [dead[0]!, dead[1]!]),
      backend('ns/single', [dead[0]!]),
      backend('ns/spent', [dead[0]!, dead[1]!, dead[2]!, live]),
      { ...backend('ns/tls', [dead[0]!, { address: '127.0.0.2', port: tlsPort }]), scheme: 'https' as const },
      { ...backend('ns/tls-one', [{ address: '127.0.0.2', port: tlsPort }]), scheme: 'https' as const },
    ],
    hosts: [
      { name: 'half.test', rules: [{ path: '/', pathType: 'Prefix', backend: 0, source: 'ns/half' }] },
      { name: 'down.test', rules: [{ path: '/', pathType: 'Prefix', backend: 1, source: 'ns/down' }] },
      { name: 'single.test', rules: [{ path: '/', pathType: 'Prefix', backend: 2, source: 'ns/single' }] },
      { name: 'spent.test', rules: [{ path: '/', pathType: 'Prefix', backend: 3, source: 'ns/spent' }] },
      { name: 'tls.test', rules: [{ path: '/', pathType: 'Prefix', backend: 4, source: 'ns/tls' }] },
      { name: 'tls-one.test', rules: [{ path: '/', pathType: 'Prefix', backend: 5, source: 'ns/tls' }] },
      // Requests for 127.0.0.1 itself: ATS's origin path (no next hop).
      { name: '', rules: [{ path: '/', pathType: 'Prefix', backend: 0, source: 'ns/catch-all' }] },
    ],
  };
}

for (const mode of ['global', 'remap'] as Mode[]) {
  describe(`${mode} mode`, () => {
    const table = RouteTable.open(tableName(`unreachable-${mode}`));
    let live: Backend;
    let dead: Refusing[];
    let ats: AtsInstance;
    let tlsPod: { server: https.Server; port: number };

    before(async () => {
      tlsPod = await startTlsPod();
      live = await startBackend({ service: 'ns/half', pod: 'live-0', host: '127.0.0.2' });
      // Free ports nobody listens on, at addresses of their own.
      const ports = await freePorts(3);
      dead = [
        { address: '127.0.0.3', port: ports[0]! },
        { address: '127.0.0.4', port: ports[1]! },
        { address: '127.0.0.5', port: ports[2]! },
      ];
      table.publish(model(live, dead, tlsPod.port));
      const setup = pluginSetup(mode, table.name);
      ats = await startAts({ ...setup, plugins: [`stats_over_http.so ${STATS_PATH}`, ...(setup.plugins ?? [])] });
    });
    after(async () => {
      await ats?.stop({ kill: true });
      table.remove();
      table.close();
      await closeBackends([live]);
      if (tlsPod) {
        await new Promise<void>((resolve) => {
          tlsPod.server.close(() => resolve());
          tlsPod.server.closeAllConnections();
        });
      }
    });

    /** The plugin's metric `name` as stats_over_http gives it (synced every raw_stat_sync_interval_ms). */
    function metric(name: string): Promise<number> {
      return new Promise((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port: ats.httpPort, path: `/${STATS_PATH}`, agent: false, timeout: 5_000 }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (body += d));
          res.on('end', () => {
            try {
              const v = (JSON.parse(body) as { global: Record<string, string> }).global[M + name];
              resolve(v === undefined ? NaN : Number(v));
            } catch (err) {
              reject(new Error(`stats_over_http: ${(err as Error).message}: ${body.slice(0, 200)}`));
            }
          });
        });
        req.on('error', reject);
        req.on('timeout', () => req.destroy(new Error('stats_over_http: no answer')));
      });
    }
    /** Waits until `name` has stopped moving (the stats sync), then returns it. */
    async function settled(name: string): Promise<number> {
      let last = NaN;
      const r = await pollUntil(
        `${M}${name} settles`,
        async () => {
          const prev = last;
          last = await metric(name);
          return { prev, now: last };
        },
        ({ prev, now }) => !Number.isNaN(now) && now === prev,
        { timeoutMs: 10_000, intervalMs: 700 },
      );
      return r.value.now;
    }

    const get = (host: string, path: string, more: { method?: string; body?: string } = {}): Promise<HttpResponse> =>
      ats.request({ host, path, fresh: true, ...more });

    test('one pod of two refuses: every request is answered by the other, the retries counted', async () => {
      const retriesBefore = await settled('connect_retries');
      const before = live.requests;
      for (let i = 0; i < REQUESTS; i++) {
        const r = await get('half.test', `/half/${i}`);
        assert.equal(echoOf(r, `request ${i}`).pod, 'live-0');
      }
      // A request with a body is retried too: nothing of it was sent to the refusing pod.
      for (let i = 0; i < 4; i++) echoOf(await get('half.test', '/form', { method: 'POST', body: `n=${i}` }), `POST ${i}`);
      assert.equal(live.requests - before, REQUESTS + 4, 'each request reached the answering pod once');
      const retries = (await settled('connect_retries')) - retriesBefore;
      console.log(`${mode}: ${REQUESTS + 4} requests, ${retries} of them retried on the other pod after the first refused`);
      // The balancer alternates: about half the requests picked the refusing pod first.
      assert.ok(retries >= 1 && retries <= REQUESTS + 4, `retries: ${retries}`);
    });

    test('an https backend: the retry on the other pod is TLS too, with the same SNI and Host as without a retry', async () => {
      const one = await get('tls-one.test', '/x');
      assert.equal(one.status, 200, one.body);
      const direct = JSON.parse(one.body) as { tls: boolean; servername: string | false; host: string };
      assert.equal(direct.tls, true);
      for (let i = 0; i < 6; i++) {
        const r = await get('tls.test', `/tls/${i}`);
        assert.equal(r.status, 200, r.body);
        const echo = JSON.parse(r.body) as typeof direct;
        assert.equal(echo.tls, true, 'TLS to the pod');
        assert.equal(echo.host, 'tls.test', 'the client Host');
        assert.equal(typeof echo.servername, typeof direct.servername, `SNI: ${JSON.stringify(echo.servername)} against ${JSON.stringify(direct.servername)}`);
        if (typeof direct.servername === 'string') assert.equal(echo.servername, 'tls.test');
      }
      console.log(`${mode}: SNI to an https pod: ${JSON.stringify(direct.servername)} (one pod), the same through the next hop`);
    });

    test('every pod refuses: 502 saying so, for two pods and for one', async () => {
      const unreachableBefore = await settled('requests_unreachable');
      for (let i = 0; i < 4; i++) {
        const r = await get('down.test', `/down/${i}`);
        assert.equal(r.status, 502, r.body);
        assert.match(r.body, /^502 no pod accepted the connection: 2 of 2 pods of ns\/down:8080 tried, the last at 127\.0\.0\.[34]:\d+ refused it\n$/);
        const one = await get('single.test', `/single/${i}`);
        assert.equal(one.status, 502, one.body);
        assert.equal(one.body, `502 the pod refused the connection (ns/single:8080 at 127.0.0.3:${dead[0]!.port})\n`);
      }
      assert.equal((await settled('requests_unreachable')) - unreachableBefore, 8);
    });

    test("when ATS's attempts are spent before the last pod (three of four refuse): 502 with the body, or 200; never 500", async () => {
      // ATS tries each next hop twice and retries four times in all (its
      // parent_proxy records): three pods. A request whose first three
      // picks refuse is answered 502 by ATS, with the plugin's body.
      const seen = new Map<number, number>();
      for (let i = 0; i < 16; i++) {
        const r = await get('spent.test', `/spent/${i}`);
        seen.set(r.status, (seen.get(r.status) ?? 0) + 1);
        if (r.status === 200) continue;
        assert.equal(r.status, 502, r.body);
        assert.match(r.body, /^502 no pod accepted the connection: 3 of 4 pods of ns\/spent:8080 tried, the last at 127\.0\.0\.5:\d+ refused it\n$/);
      }
      console.log(`${mode}: spent.test answers ${JSON.stringify(Object.fromEntries(seen))}`);
      assert.ok((seen.get(200) ?? 0) > 0, 'the answering pod served some');
      assert.ok((seen.get(502) ?? 0) > 0, 'the balancer started some at the first refusing pod');
    });

    test('a request for 127.0.0.1 itself (ATS goes to the origin directly, no retry elsewhere): 200 or 502, never 500', async () => {
      const seen = new Map<number, number>();
      for (let i = 0; i < 6; i++) {
        const r = await get('127.0.0.1', `/direct/${i}`);
        seen.set(r.status, (seen.get(r.status) ?? 0) + 1);
        if (r.status === 200) continue;
        assert.equal(r.status, 502, `${r.status} ${r.body}\n${await logTail(ats, 2000)}`);
        assert.equal(r.body, `502 the pod refused the connection (ns/half:8080 at 127.0.0.3:${dead[0]!.port})\n`);
      }
      console.log(`${mode}: 127.0.0.1 answers ${JSON.stringify(Object.fromEntries(seen))}`);
    });
  });
}
