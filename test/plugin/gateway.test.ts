// The Gateway API through real Traffic Server: objects built by build() into
// one table with an Ingress, published once, and requests sent to each
// Gateway's own address. A request belongs to the Gateway whose address it
// arrived on (two Gateways with identical listeners stay apart); within it,
// the listener and rule the spec's precedence gives; filters and weights are
// applied by the plugin from the table, and each is checked against what an
// echoing backend received. Both plugin modes.
//
// Run: bash scripts/build.sh && node --test dist/test/plugin/gateway.test.js

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Mode } from './helpers.js';

import { buildConfig } from '../../src/config/config.js';
import { parseAddressRange, parseGatewayPorts, type AddressRange, type GatewayPorts } from '../../src/config/gateway.js';
import { build } from '../../src/model/build.js';
import { RouteTable } from '../../src/route-table/route-table.js';
import { app, ingress, ingressClass, prefix, snapshotFrom, type ObjectLike } from '../../src/testing/fixtures.js';
import { backend, exactPath, gateway, gatewayClass, header, httpRoute, match, prefixPath, query } from '../../src/testing/gateway-fixtures.js';
import { isInvalid } from '../../src/validate/invalid.js';
import { httpRequest, startAts, type AtsInstance, type HttpRequestOptions, type HttpResponse } from '../harness/ats.js';
import { closeBackends, startBackend, type Backend, type BackendEcho } from '../harness/backends.js';
import { echoOf, logTail, pluginSetup, requestUntil, tableName } from './helpers.js';

// Addresses of this process's own (127.0.0.0/8 is all loopback on Linux), so
// that parallel runs do not meet: the first two of a /29.
const NET = `127.77.${process.pid % 250}`;
const ONE = `${NET}.1`;
const TWO = `${NET}.2`;
/** Requests sent for the weights: 70/30 must hold within WEIGHT_TOLERANCE of the total. */
const WEIGHT_REQUESTS = 1_000;
const WEIGHT_TOLERANCE = 0.06;

const name = tableName('gateway');
let table: RouteTable | undefined;
let ats: AtsInstance;
const pods: Record<string, Backend> = {};

function ok<T>(v: T | { invalid: string }): T {
  if (isInvalid(v)) throw new Error(v.invalid);
  return v;
}

function objects(): ObjectLike[] {
  const svc = (key: string) => app(key, 80, pods[key]!.port, '127.0.0.1');
  return [
    ...svc('app/web'), ...svc('app/api'), ...svc('app/canary'), ...svc('app/echo'), ...svc('other/ing'),
    // Services with no ready endpoint: 503.
    ...app('app/empty', 80, 8080),
    gatewayClass('ats'),
    // Two Gateways with identical listeners: only the address tells them apart.
    gateway('app/one').listener('http', 80).listener('wild', 80, { hostname: '*.wild.test' }).created(1),
    gateway('app/two').listener('http', 80).created(2),
    httpRoute('app/on-one').parent('app/one', { sectionName: 'http' }).hostnames('same.test')
      .rule({ backends: [backend('web', 80)] })
      .rule({ matches: [match({ path: prefixPath('/v2'), headers: [header('X-Version', '2')] })], backends: [backend('api', 80)] })
      .rule({ matches: [match({ path: exactPath('/only-post'), method: 'POST' })], backends: [backend('api', 80)] })
      .rule({ matches: [match({ path: prefixPath('/q'), queryParams: [query('animal', 'whale')] })], backends: [backend('canary', 80)] })
      .rule({ matches: [match({ path: prefixPath('/split') })], backends: [backend('web', 80, { weight: 70 }), backend('api', 80, { weight: 30 }), backend('canary', 80, { weight: 0 })] })
      .rule({ matches: [match({ path: prefixPath('/missing') })], backends: [backend('gone', 80)] })
      .rule({ matches: [match({ path: prefixPath('/empty') })], backends: [backend('empty', 80)] }),
    httpRoute('app/on-two').parent('app/two').hostnames('same.test').rule({ backends: [backend('api', 80)] }),
    httpRoute('app/filters').parent('app/one', { sectionName: 'http' }).hostnames('filters.test')
      .rule({
        matches: [match({ path: prefixPath('/headers') })],
        filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'X-Set', value: 'set-value' }], add: [{ name: 'X-Add', value: 'added' }], remove: ['X-Remove'] } },
          { type: 'ResponseHeaderModifier', responseHeaderModifier: { set: [{ name: 'X-Resp-Set', value: 'r1' }], add: [{ name: 'X-Resp-Add', value: 'r2' }], remove: ['X-Backend-Remove'] } }],
        backends: [backend('echo', 80)],
      })
      .rule({ matches: [match({ path: prefixPath('/redirect') })], filters: [{ type: 'RequestRedirect', requestRedirect: { hostname: 'elsewhere.test', statusCode: 301 } }] })
      .rule({ matches: [match({ path: prefixPath('/to-https') })], filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/secure' } } }] })
      .rule({ matches: [match({ path: prefixPath('/rewrite') })], filters: [{ type: 'URLRewrite', urlRewrite: { hostname: 'rewritten.test', path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/new' } } }], backends: [backend('echo', 80)] })
      .rule({ matches: [match({ path: prefixPath('/full') })], filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplaceFullPath', replaceFullPath: '/one/page' } } }], backends: [backend('echo', 80)] })
      .rule({ matches: [match({ path: prefixPath('/moved') })], filters: [{ type: 'RequestRedirect', requestRedirect: { port: 8443, path: { type: 'ReplaceFullPath', replaceFullPath: '/here' }, statusCode: 307 } }] }),
    httpRoute('app/wild').parent('app/one', { sectionName: 'wild' }).rule({ matches: [match({ path: prefixPath('/w') })], backends: [backend('canary', 80)] }),
    // An Ingress for the same host, served on ATS's own address only.
    ingressClass('ats'),
    ingress('other/ing').className('ats').rule('same.test', prefix('/', 'ing', 80)),
  ];
}

function to(address: string, req: HttpRequestOptions): Promise<HttpResponse> {
  return httpRequest({ ...req, port: ats.httpPort, address, fresh: true, timeoutMs: 5_000 });
}

async function serviceAt(address: string, req: HttpRequestOptions): Promise<string> {
  const r = await to(address, req);
  return r.status === 200 ? echoOf(r).service : `${r.status} ${r.body.trim()}`;
}

async function setUp(mode: Mode): Promise<void> {
  for (const key of ['app/web', 'app/api', 'app/canary', 'app/echo', 'other/ing']) pods[key] = await startBackend({ service: key, pod: `${key}-0` });
  ats = await startAts({ ...pluginSetup(mode, name), cache: false, alsoBind: [ONE, TWO] });
  const config = buildConfig({
    gatewayAddresses: ok<AddressRange>(parseAddressRange(`${NET}.0/29`)),
    gatewayPorts: ok<GatewayPorts>(parseGatewayPorts(`80=${ats.httpPort}`)),
  });
  const result = build(snapshotFrom(objects()), config);
  assert.deepEqual([...result.gateway.addresses], [['app/one', ONE], ['app/two', TWO]]);
  table = RouteTable.open(name);
  table.publish(result.model.table);
  await requestUntil(ats, { host: 'same.test', path: '/' }, (r) => r.status === 200, 'the table is served');
}

async function tearDown(): Promise<void> {
  await ats?.stop({ kill: true });
  table?.remove();
  table?.close();
  table = undefined;
  await closeBackends(Object.values(pods));
}

for (const mode of ['global', 'remap'] as const) describe(`Gateway API routing through ATS (${mode} mode)`, () => {
  before(() => setUp(mode));
  after(tearDown);

  test('identical listeners of two Gateways stay apart by address; the Ingress keeps ATS\'s own address', async () => {
    assert.equal(await serviceAt(ONE, { host: 'same.test', path: '/' }), 'app/web');
    assert.equal(await serviceAt(TWO, { host: 'same.test', path: '/' }), 'app/api');
    assert.equal(await serviceAt('127.0.0.1', { host: 'same.test', path: '/' }), 'other/ing');
  });

  test('the port in Host is ignored; a host no listener takes is 404, and so is a path no rule matches', async () => {
    assert.equal(await serviceAt(ONE, { host: 'same.test:9999', path: '/' }), 'app/web');
    assert.match(await serviceAt(TWO, { host: 'other.test', path: '/' }), /^404 /);
    // *.wild.test: one or more labels, never the apex; its listener has only /w.
    assert.equal(await serviceAt(ONE, { host: 'a.b.wild.test', path: '/w' }), 'app/canary');
    assert.match(await serviceAt(ONE, { host: 'a.wild.test', path: '/elsewhere' }), /^404 /, 'no fallback to the wider listener');
  });

  test('header, method and query matches', async () => {
    assert.equal(await serviceAt(ONE, { host: 'same.test', path: '/v2/x', headers: { 'x-version': '2' } }), 'app/api');
    assert.equal(await serviceAt(ONE, { host: 'same.test', path: '/v2/x', headers: { 'x-version': '3' } }), 'app/web');
    assert.equal(await serviceAt(ONE, { host: 'same.test', path: '/only-post', method: 'POST', body: 'x' }), 'app/api');
    assert.equal(await serviceAt(ONE, { host: 'same.test', path: '/only-post' }), 'app/web');
    assert.equal(await serviceAt(ONE, { host: 'same.test', path: '/q?animal=whale' }), 'app/canary');
    assert.equal(await serviceAt(ONE, { host: 'same.test', path: '/q?animal=dolphin' }), 'app/web');
  });

  test('500 for an invalid backend, 503 for one without ready endpoints', async () => {
    assert.match(await serviceAt(ONE, { host: 'same.test', path: '/missing' }), /^500 .*app\/gone/);
    assert.match(await serviceAt(ONE, { host: 'same.test', path: '/empty' }), /^503 /);
  });

  test('RequestHeaderModifier and ResponseHeaderModifier', async () => {
    const r = await to(ONE, {
      host: 'filters.test', path: '/headers',
      headers: { 'x-set': 'original', 'x-add': 'first', 'x-remove': 'gone', 'x-backend-headers': JSON.stringify({ 'X-Backend-Remove': 'y', 'X-Resp-Add': 'r0' }) },
    });
    const echo: BackendEcho = echoOf(r);
    assert.equal(echo.headers['x-set'], 'set-value');
    assert.equal(echo.headers['x-add'], 'first,added');
    assert.equal(echo.headers['x-remove'], undefined);
    assert.equal(r.headers['x-resp-set'], 'r1');
    assert.equal(r.headers['x-resp-add'], 'r0,r2');
    assert.equal(r.headers['x-backend-remove'], undefined);
  });

  test('RequestRedirect: hostname and 301; scheme https with the prefix replaced and the port left out', async () => {
    const a = await to(ONE, { host: 'filters.test', path: '/redirect/x?y=1' });
    assert.equal(a.status, 301);
    assert.equal(a.headers.location, 'http://elsewhere.test/redirect/x?y=1');
    const b = await to(ONE, { host: 'filters.test:80', path: '/to-https/page' });
    assert.equal(b.status, 302);
    assert.equal(b.headers.location, 'https://filters.test/secure/page');
  });

  test('RequestRedirect: a port given is kept, the full path replaced, 307', async () => {
    const r = await to(ONE, { host: 'filters.test', path: '/moved/x' });
    assert.equal(r.status, 307);
    assert.equal(r.headers.location, 'http://filters.test:8443/here');
  });

  test('URLRewrite: hostname and path prefix; the full path', async () => {
    const echo = echoOf(await to(ONE, { host: 'filters.test', path: '/rewrite/deep/page?k=v' }));
    assert.equal(echo.host, 'rewritten.test');
    assert.equal(echo.url, '/new/deep/page?k=v');
    const full = echoOf(await to(ONE, { host: 'filters.test', path: '/full/anything?k=v' }));
    assert.equal(full.host, 'filters.test');
    assert.equal(full.url, '/one/page?k=v');
  });

  test(`weights: ${WEIGHT_REQUESTS} requests split 70/30 within ${WEIGHT_TOLERANCE * 100}%, and weight 0 is never chosen`, async () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < WEIGHT_REQUESTS; i++) {
      const r = await httpRequest({ port: ats.httpPort, address: ONE, host: 'same.test', path: '/split', timeoutMs: 5_000 });
      const s = r.status === 200 ? echoOf(r).service : String(r.status);
      counts.set(s, (counts.get(s) ?? 0) + 1);
    }
    const web = (counts.get('app/web') ?? 0) / WEIGHT_REQUESTS;
    const api = (counts.get('app/api') ?? 0) / WEIGHT_REQUESTS;
    const why = `${JSON.stringify([...counts])}\n${await logTail(ats, 2_000)}`;
    assert.equal(counts.get('app/canary'), undefined, why);
    assert.equal(web + api, 1, why);
    assert.ok(Math.abs(web - 0.7) <= WEIGHT_TOLERANCE, why);
    console.log(`# weights 70/30 over ${WEIGHT_REQUESTS} requests: ${(web * 100).toFixed(1)} / ${(api * 100).toFixed(1)}`);
  });
});
