// The original ats-ingress README walkthrough, through real traffic_server and
// the plugin, in both ways of loading it: global (plugin.config, unknown hosts
// go on to remap.config) and remap (one catch-all rule, the plugin answers
// everything). Also: what the backend receives (Host, path, query, body),
// hosts with a port, in mixed case and with a trailing dot, spellings of a
// path (";" params, dot-segments, encoded characters) matched as the pod
// will read them, an IPv6 endpoint, and the debug header (on in global mode,
// off in remap mode).
//
// Run: bash scripts/build.sh && node --test dist/test/plugin/walkthrough.test.js

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { RouteTable, type TableModel } from '../../src/route-table/route-table.js';
import { startAts, type AtsInstance } from '../harness/ats.js';
import { closeBackends, ipv6Available, startBackend, startBackends, type Backend } from '../harness/backends.js';
import { backendOf, echoOf, logTail, pluginSetup, tableName, type Mode } from './helpers.js';

const NS2 = 'trafficserver-test-2';
const NS3 = 'trafficserver-test-3';
const ING2 = `${NS2}/app-ingress`;
const ING3 = `${NS3}/app-ingress`;
const MISSING = `Service "${NS2}/missing" does not exist`;

const table = RouteTable.open(tableName('walkthrough'));
const backends: Backend[] = [];
let app1: Backend[] = []; // NS2/appsvc1
let app2: Backend[] = []; // NS2/appsvc2
let app2ns3: Backend[] = []; // NS3/appsvc2
let fallback: Backend; // remap.config's own rule (global mode)
let pub: Backend; // spell.test /public
let admin: Backend; // spell.test /admin and /ADMIN
let root: Backend; // spell.test /
let v6: Backend | undefined;

before(async () => {
  app1 = await startBackends(2, `${NS2}/appsvc1`);
  app2 = await startBackends(2, `${NS2}/appsvc2`);
  app2ns3 = await startBackends(2, `${NS3}/appsvc2`);
  fallback = await startBackend({ service: 'remap.config', pod: 'fallback-0' });
  pub = await startBackend({ service: 'spell/public', pod: 'public-0' });
  admin = await startBackend({ service: 'spell/admin', pod: 'admin-0' });
  root = await startBackend({ service: 'spell/root', pod: 'root-0' });
  backends.push(...app1, ...app2, ...app2ns3, fallback, pub, admin, root);
  if (await ipv6Available()) {
    v6 = await startBackend({ service: 'default/v6', pod: 'v6-0', host: '::1' });
    backends.push(v6);
  }
  const model: TableModel = {
    backends: [
      backendOf(`${NS2}/appsvc1`, app1),
      backendOf(`${NS2}/appsvc2`, app2),
      backendOf(`${NS3}/appsvc2`, app2ns3),
      backendOf(`${NS2}/drained`, []),
      backendOf(`${NS2}/missing`, [], { problem: MISSING }),
      backendOf('spell/public', [pub]),
      backendOf('spell/admin', [admin]),
      backendOf('spell/root', [root]),
      ...(v6 ? [backendOf('default/v6', [v6])] : []),
    ],
    hosts: [
      {
        name: 'test.edge.com',
        rules: [
          { path: '/app1', pathType: 'Prefix', backend: 0, source: ING2 },
          { path: '/app2', pathType: 'Prefix', backend: 2, source: ING3 },
        ],
      },
      {
        name: 'test.media.com',
        rules: [
          { path: '/app1', pathType: 'Prefix', backend: 0, source: ING2 },
          { path: '/app2', pathType: 'Prefix', backend: 1, source: ING2 },
          { path: '/drained', pathType: 'Prefix', backend: 3, source: ING2 },
          { path: '/missing', pathType: 'Exact', backend: 4, source: ING2 },
        ],
      },
      {
        name: 'spell.test',
        rules: [
          { path: '/public', pathType: 'Prefix', backend: 5, source: 'spell/ing' },
          { path: '/admin', pathType: 'Prefix', backend: 6, source: 'spell/ing' },
          { path: '/ADMIN', pathType: 'Exact', backend: 6, source: 'spell/ing' },
          { path: '/', pathType: 'Prefix', backend: 7, source: 'spell/ing' },
        ],
      },
      ...(v6 ? [{ name: 'v6.test', rules: [{ path: '/', pathType: 'Prefix' as const, backend: 8, source: 'default/v6' }] }] : []),
    ],
  };
  table.publish(model);
});

after(async () => {
  table.remove();
  table.close();
  await closeBackends(backends);
});

for (const mode of ['global', 'remap'] as const) {
  describe(`${mode} mode`, () => {
    let ats: AtsInstance;
    const debugHeader = mode === 'global';

    before(async () => {
      ats = await startAts({
        ...pluginSetup(mode, table.name, debugHeader ? ['--debug-header'] : [], [
          `map http://legacy.test/ http://${fallback.hostPort}/`,
        ]),
      });
    });
    after(async () => {
      await ats?.stop({ kill: true });
    });

    const get = (host: string, path: string) => ats.request({ host, path });

    test('the README walkthrough: four routes over two namespaces', async () => {
      const cases: Array<[string, string, Backend[]]> = [
        ['test.media.com', '/app1', app1],
        ['test.media.com', '/app2', app2],
        ['test.edge.com', '/app1', app1],
        ['test.edge.com', '/app2', app2ns3],
      ];
      for (const [host, path, pods] of cases) {
        const seen = new Set<string>();
        for (let i = 0; i < 4; i++) {
          const echo = echoOf(await ats.request({ host, path, fresh: true }), `${host}${path}`);
          assert.equal(echo.service, pods[0]!.service, `${host}${path}`);
          assert.equal(echo.host, host);
          assert.equal(echo.url, path);
          seen.add(echo.pod);
        }
        // Round robin over the two pods of the Service.
        assert.deepEqual([...seen].sort(), pods.map((p) => p.pod).sort(), `${host}${path} reaches both pods`);
      }
      // Prefix by path elements.
      assert.equal(echoOf(await get('test.edge.com', '/app2/deeper/page.html')).service, `${NS3}/appsvc2`);
      assert.equal(echoOf(await get('test.media.com', '/app2/')).service, `${NS2}/appsvc2`);
    });

    test('an unknown path of a known host: the plugin answers 404 with a plain body', async () => {
      for (const path of ['/app3', '/app1x', '/', '/missing/below-an-exact-rule']) {
        const r = await get('test.media.com', path);
        assert.equal(r.status, 404, `${path}: ${r.body}`);
        assert.equal(r.body, '404 no route for this path\n', path);
        assert.match(String(r.headers['content-type']), /^text\/plain/);
      }
      // Never falls through to another host's rules.
      const r = await get('test.edge.com', '/drained');
      assert.equal(r.status, 404, r.body);
    });

    if (mode === 'global') {
      test('global: an unknown host goes on to remap.config', async () => {
        const legacy = echoOf(await get('legacy.test', '/old/page?q=1'), 'legacy.test');
        assert.equal(legacy.pod, 'fallback-0');
        assert.equal(legacy.url, '/old/page?q=1');
        // Neither the table nor remap.config knows it: ATS's own 404, not the plugin's.
        const r = await get('nobody.test', '/app1');
        assert.equal(r.status, 404, r.body);
        assert.doesNotMatch(r.body, /no route for this host/);
        assert.equal(r.headers['x-ats-ingress-route'], undefined);
      });
    } else {
      test('remap: an unknown host gets the plugin 404, remap.config has nothing else', async () => {
        for (const host of ['legacy.test', 'nobody.test', 'media.com', 'www.test.media.com']) {
          const r = await get(host, '/app1');
          assert.equal(r.status, 404, `${host}: ${r.body}`);
          assert.equal(r.body, '404 no route for this host\n', host);
        }
      });
    }

    test('a backend with no endpoints: 503 with the reason in the body', async () => {
      const drained = await get('test.media.com', '/drained/x');
      assert.equal(drained.status, 503, drained.body);
      assert.equal(drained.body, '503 no ready endpoints for this backend\n');
      assert.match(String(drained.headers['content-type']), /^text\/plain/);
      const missing = await get('test.media.com', '/missing');
      assert.equal(missing.status, 503, missing.body);
      assert.equal(missing.body, `503 the backend cannot serve: ${MISSING}\n`);
    });

    test('hosts with a port, in mixed case, with a trailing dot; Host reaches the backend unchanged', async () => {
      for (const host of ['test.media.com:80', 'TEST.Media.COM', 'Test.Edge.Com:8080', 'test.media.com.', `test.media.com:${ats.httpPort}`]) {
        const echo = echoOf(await get(host, '/app1/x'), host);
        assert.equal(echo.service, `${NS2}/appsvc1`, host);
        assert.equal(echo.host, host, 'the Host header is passed unchanged');
      }
    });

    test('path and query reach the backend unchanged', async () => {
      for (const path of ['/app1', '/app1/', '/app1/a/b.html?x=1&y=two', '/app1/%7Euser/a%20b?q=%2F&q=2&empty=', '/app1?only=query']) {
        const echo = echoOf(await get('test.media.com', path), path);
        assert.equal(echo.url, path);
      }
      const edge = echoOf(await get('test.edge.com', '/app2/deep/er?k=v'));
      assert.equal(edge.url, '/app2/deep/er?k=v');
    });

    // Matched on the path the pod will read (native/core/names.h): ";"
    // params included and matched as written, unreserved characters
    // decoded, then dot-segments resolved; the pod gets the path as sent.
    test('spellings of a path: ";" params, dot-segments after them, encoded unreserved characters', async () => {
      const cases: Array<[string, Backend]> = [
        ['/public/x', pub],
        ['/public;x/../../admin', admin], // what Tomcat, Jetty and Spring serve: their /admin
        ['/public;x/../admin/y', admin],
        ['/public;x/%2e%2e/admin', admin],
        ['/public;jsessionid=abc', root], // the segment "public;jsessionid=abc": not under /public
        ['/public/;jsessionid=abc', pub],
        ['/public;/../admin', admin],
        ['/public/page;jsessionid=abc?q=1', pub],
        ['/public?x;y/../../admin', pub], // a ";" in the query is the query's
        ['/%61dmin', admin],
        ['/%61%64%6D%69%6e/x', admin],
        ['/%41DMIN', admin], // "/ADMIN", the Exact rule: %41 is "A", paths are case-sensitive
        ['/%41dmin', root], // "/Admin"
        ['/p%75blic', pub],
        ['/admin%2Fx', root], // never a segment separator
        ['/admin%2fx', root],
        ['/%2561dmin', root], // decoded once: "%2561dmin"
      ];
      for (const [path, want] of cases) {
        const r = await get('spell.test', path);
        const echo = echoOf(r, path);
        assert.equal(echo.service, want.service, `${path}: ${echo.service}, want ${want.service}`);
        assert.equal(echo.url, path, `${path}: the pod gets the path as sent`);
      }
      // ATS itself drops an empty parameter part (TSUrlHttpParamsGet gives
      // nothing): the pod gets the path without the ";", and so it is matched.
      for (const [path, want, url] of [['/public;', pub, '/public'], ['/public/..;', root, '/public/..']] as const) {
        const echo = echoOf(await get('spell.test', path), path);
        assert.equal(echo.service, want.service, path);
        assert.equal(echo.url, url, path);
      }
    });

    test('a "." or ".." segment before a ";" ("..;"): 400, never routed', async () => {
      for (const path of ['/public/..;/admin', '/public/..;x/admin', '/public/.;jsessionid=1', '/public/%2e%2E;/admin']) {
        const r = await get('spell.test', path);
        assert.equal(r.status, 400, `${path}: ${r.body}`);
        assert.match(r.body, /^400 ambiguous path: /, path);
        assert.match(String(r.headers['content-type']), /^text\/plain/);
      }
    });

    test('methods, headers and POST bodies pass through', async () => {
      const small = JSON.stringify({ hello: 'world', n: [1, 2, 3] });
      const big = 'x'.repeat(300_000) + 'end';
      for (const body of [small, big]) {
        const echo = echoOf(
          await ats.request({
            host: 'test.edge.com',
            method: 'POST',
            path: '/app2/submit?via=post',
            body,
            headers: { 'content-type': 'application/json', 'x-custom': 'kept' },
            fresh: true,
          }),
        );
        assert.equal(echo.method, 'POST');
        assert.equal(echo.body.length, body.length);
        assert.equal(echo.body, body);
        assert.equal(echo.url, '/app2/submit?via=post');
        assert.equal(echo.headers['x-custom'], 'kept');
        assert.equal(echo.service, `${NS3}/appsvc2`);
      }
      const put = echoOf(await ats.request({ host: 'test.media.com', method: 'PUT', path: '/app2/item/7', body: 'new' }));
      assert.equal(put.method, 'PUT');
      assert.equal(put.body, 'new');
      const del = echoOf(await ats.request({ host: 'test.media.com', method: 'DELETE', path: '/app2/item/7' }));
      assert.equal(del.method, 'DELETE');
    });

    test('an IPv6 endpoint (::1)', async (t) => {
      if (!v6) {
        t.skip('::1 not available');
        return;
      }
      const echo = echoOf(await get('v6.test', '/six?x=6'), 'v6.test');
      assert.equal(echo.pod, 'v6-0');
      assert.equal(echo.host, 'v6.test');
      assert.equal(echo.url, '/six?x=6');
      if (debugHeader) {
        const r = await get('v6.test', '/');
        assert.match(String(r.headers['x-ats-ingress-route']), new RegExp(`endpoint=\\[::1\\]:${v6.port} `));
      }
    });

    test(`the debug header is ${debugHeader ? 'present with --debug-header' : 'absent without --debug-header'}`, async () => {
      const r = await get('test.edge.com', '/app2/x');
      echoOf(r);
      const route = r.headers['x-ats-ingress-route'];
      if (!debugHeader) {
        assert.equal(route, undefined, 'no debug header without --debug-header');
        const miss = await get('test.edge.com', '/nothing');
        assert.equal(miss.headers['x-ats-ingress-route'], undefined);
        return;
      }
      assert.equal(typeof route, 'string', `no X-ATS-Ingress-Route header\n${await logTail(ats)}`);
      const pod = JSON.parse(r.body) as { pod: string };
      const be = app2ns3.find((b) => b.pod === pod.pod)!;
      assert.match(String(route), /host=test\.edge\.com /);
      assert.match(String(route), / path=\/app2 type=Prefix ingress=trafficserver-test-3\/app-ingress /);
      assert.match(String(route), new RegExp(` service=${NS3}/appsvc2:8080 `));
      assert.match(String(route), new RegExp(` endpoint=127\\.0\\.0\\.1:${be.port} `), 'the endpoint that answered');
      assert.match(String(route), / generation=\d+$/);
    });
  });
}
