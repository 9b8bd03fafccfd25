// The Gateway API part of build()'s table: addresses per Gateway, listeners
// served on the ports --gateway-ports names, pools in the spec's order,
// weighted choices and filters as data, and Ingresses untouched beside them.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildConfig } from '../../config/config.js';
import { parseAddressRange, parseGatewayPorts, type AddressRange, type GatewayPorts } from '../../config/gateway.js';
import { isInvalid } from '../../validate/invalid.js';
import { app, ingress, prefix, snapshotFrom, type ObjectLike } from '../../testing/fixtures.js';
import { backend, exactPath, gateway, gatewayClass, header, httpRoute, match, prefixPath } from '../../testing/gateway-fixtures.js';
import { build } from '../build.js';
import type { TableGateway } from '../table-model.js';

function ok<T>(v: T | { invalid: string }): T {
  if (isInvalid(v)) throw new Error(v.invalid);
  return v;
}

const WEB = app('app/web', 80, 8080, '10.0.0.1', '10.0.0.2');
const API = app('app/api', 80, 9090, '10.0.0.9');

function gatewayOf(objects: ObjectLike[], o: { addresses?: string; ports?: string } = {}): { gw: TableGateway | undefined; result: ReturnType<typeof build> } {
  const config = buildConfig({
    ...(o.addresses ? { gatewayAddresses: ok<AddressRange>(parseAddressRange(o.addresses)) } : {}),
    ...(o.ports ? { gatewayPorts: ok<GatewayPorts>(parseGatewayPorts(o.ports)) } : {}),
  });
  const result = build(snapshotFrom([gatewayClass('ats'), ...objects]), config);
  return { gw: result.model.table.gateway, result };
}

describe('the Gateway API in the route table', () => {
  test('each Gateway gets its own address, oldest first; identical listeners stay apart', () => {
    const { gw, result } = gatewayOf([
      ...WEB, ...API,
      gateway('infra/b').listener('http', 80).created(10),
      gateway('infra/a').listener('http', 80).created(20),
      httpRoute('infra/to-b').parent('infra/b').rule({ backends: [backend('app/web', 80)] }),
      httpRoute('infra/to-a').parent('infra/a').rule({ backends: [backend('app/api', 80)] }),
    ], { addresses: '127.0.1.0/24' });
    assert.deepEqual([...result.gateway.addresses], [['infra/b', '127.0.1.1'], ['infra/a', '127.0.1.2']]);
    assert.deepEqual(gw?.listeners.map((l) => `${l.gateway} ${l.listener} ${l.address}:${l.port} (${l.listenerPort} ${l.protocol})`), [
      'infra/b http 127.0.1.1:80 (80 HTTP)',
      'infra/a http 127.0.1.2:80 (80 HTTP)',
    ]);
  });

  test('a Gateway past the end of the range is not served, and says why', () => {
    const { gw, result } = gatewayOf([
      gateway('infra/one').listener('http', 80).created(1),
      gateway('infra/two').listener('http', 80).created(2),
    ], { addresses: '127.0.1.7/32' });
    assert.deepEqual(gw?.listeners.map((l) => l.gateway) ?? [], ['infra/one']);
    assert.ok(result.problems.some((p) => p.kind === 'Gateway' && p.name === 'two' && /no address is left/.test(p.message)));
  });

  test('listener ports are served on the ports --gateway-ports maps them to; others are unavailable', () => {
    const { gw, result } = gatewayOf([
      gateway('infra/gw').listener('http', 80).listener('alt', 8081),
    ], { ports: '80=18080,443=18443' });
    assert.deepEqual(gw?.listeners.map((l) => `${l.listener} ${l.port} ${l.listenerPort}`), ['http 18080 80']);
    assert.deepEqual([...result.gateway.unavailablePorts], ['infra/gw/alt']);
    assert.ok(result.problems.some((p) => p.field === 'spec.listeners[1].port' && /8081 is not served/.test(p.message)));
  });

  test('listeners that are not distinct are none of them served: the same hostname on a port, or HTTP and HTTPS on one', () => {
    const { gw } = gatewayOf([
      gateway('app/gw')
        .listener('a', 80, { hostname: 'x.test' }).listener('b', 80, { hostname: 'x.test' }).listener('c', 80, { hostname: 'y.test' })
        .listener('p', 443, { protocol: 'HTTP' }).listener('q', 443, { protocol: 'HTTPS', certificates: ['cert'] }),
    ]);
    assert.deepEqual(gw?.listeners.map((l) => l.listener), ['c']);
  });

  test('the pool is in the order of precedence, and a rule is written once for every entry of it', () => {
    const { gw } = gatewayOf([
      ...WEB,
      gateway('infra/gw').listener('http', 80, { from: 'All' }),
      httpRoute('app/r').parent('infra/gw').hostnames('a.example.com', '*.example.com').rule({
        matches: [match({ path: prefixPath('/p') }), match({ path: exactPath('/e'), headers: [header('X-Env', 'canary')] })],
        backends: [backend('web', 80)],
      }),
    ]);
    const l = gw?.listeners[0];
    assert.deepEqual(l?.entries.map((e) => `${e.hostname} ${e.pathType} ${e.path} ${e.headers.map((h) => `${h.name}=${h.value}`).join(',')} #${e.rule}`), [
      'a.example.com Exact /e x-env=canary #0',
      'a.example.com PathPrefix /p  #0',
      '*.example.com Exact /e x-env=canary #0',
      '*.example.com PathPrefix /p  #0',
    ]);
    assert.equal(gw?.rules.length, 1);
    assert.deepEqual(gw?.rules[0], { route: 'app/r', ruleIndex: 0, filters: [], choices: [{ backend: 0, weight: 1, filters: [] }] });
  });

  test('weights per backendRef; an invalid one keeps its share and says why; all invalid: the rule fails', () => {
    const { gw } = gatewayOf([
      ...WEB, ...API,
      gateway('app/gw').listener('http', 80),
      httpRoute('app/split').parent('app/gw').rule({ matches: [match({ path: prefixPath('/split') })], backends: [backend('web', 80, { weight: 70 }), backend('api', 80, { weight: 30 }), backend('gone', 80, { weight: 0 })] }),
      httpRoute('app/broken').parent('app/gw').rule({ matches: [match({ path: prefixPath('/broken') })], backends: [backend('gone', 80)] }),
    ]);
    const byRoute = new Map(gw?.rules.map((r) => [r.route, r]));
    assert.deepEqual(byRoute.get('app/split')?.choices.map((c) => [c.backend, c.weight, c.problem]), [[0, 70, undefined], [1, 30, undefined], [undefined, 0, 'backendRef Service app/gone does not exist']]);
    assert.equal(byRoute.get('app/split')?.failure, undefined);
    assert.equal(byRoute.get('app/broken')?.failure, 'every backendRef of the rule is invalid: backendRef Service app/gone does not exist');
  });

  test('filters become data; an unsupported one fails its rule with a problem', () => {
    const { gw, result } = gatewayOf([
      ...WEB,
      gateway('app/gw').listener('http', 80),
      httpRoute('app/f').parent('app/gw')
        .rule({
          matches: [match({ path: prefixPath('/a') })],
          filters: [
            { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'X-Set', value: '1' }], add: [{ name: 'X-Add', value: '2' }], remove: ['X-Gone'] } },
            { type: 'URLRewrite', urlRewrite: { hostname: 'Rewritten.example', path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/b' } } },
          ],
          backends: [backend('web', 80)],
        })
        .rule({ matches: [match({ path: prefixPath('/r') })], filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 301 } }] })
        .rule({ matches: [match({ path: prefixPath('/m') })], filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'web', port: 80 } } }], backends: [backend('web', 80)] }),
    ]);
    const rules = gw?.rules ?? [];
    assert.deepEqual(rules[0]?.filters, [
      { type: 'RequestHeaderModifier', edits: { set: [{ name: 'X-Set', value: '1' }], add: [{ name: 'X-Add', value: '2' }], remove: ['X-Gone'] } },
      { type: 'URLRewrite', hostname: 'rewritten.example', path: { type: 'ReplacePrefixMatch', value: '/b' } },
    ]);
    assert.deepEqual(rules[1]?.filters, [{ type: 'RequestRedirect', scheme: 'https', statusCode: 301 }]);
    assert.equal(rules[1]?.failure, undefined, 'a redirect answers by itself: no backend needed');
    assert.match(rules[2]?.failure ?? '', /RequestMirror is not supported/);
    assert.ok(result.problems.some((p) => p.kind === 'HTTPRoute' && p.field === 'spec.rules[2].filters[0]'));
  });

  test('a value with CR or LF is never published: its match is left out, its filter fails the rule', () => {
    const { gw, result } = gatewayOf([
      ...WEB,
      gateway('app/gw').listener('http', 80),
      httpRoute('app/crlf').parent('app/gw')
        .rule({ matches: [match({ path: prefixPath('/m'), headers: [header('X-A', 'a\r\nInjected: 1')] }), match({ path: prefixPath('/ok') })], backends: [backend('web', 80)] })
        .rule({ matches: [match({ path: prefixPath('/f') })], filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'X-B', value: 'b\nc' }] } }], backends: [backend('web', 80)] }),
    ]);
    assert.deepEqual(gw?.listeners[0]?.entries.map((e) => e.path), ['/ok', '/f']);
    assert.match(gw?.rules[1]?.failure ?? '', /control character/);
    assert.ok(result.problems.some((p) => p.field === 'spec.rules[0].matches[0]' && /control character/.test(p.message)));
  });

  test('Ingresses keep their table, backends and indexes beside Gateways', () => {
    const ingressOnly: ObjectLike[] = [...WEB, ingress('app/ing').rule('a.com', prefix('/', 'web', 80))];
    const alone = build(snapshotFrom(ingressOnly)).model.table;
    const { gw, result } = gatewayOf([
      ...ingressOnly, ...API,
      gateway('app/gw').listener('http', 80),
      httpRoute('app/r').parent('app/gw').rule({ backends: [backend('api', 80)] }),
    ]);
    const table = result.model.table;
    assert.deepEqual(table.hosts, alone.hosts);
    assert.deepEqual(table.backends.slice(0, alone.backends.length), alone.backends);
    assert.equal(gw?.rules[0]?.choices[0]?.backend, alone.backends.length);
    assert.deepEqual(result.gateway.servedRoutes, ['app/r']);
  });

  test('no Gateway objects: no gateway part at all', () => {
    const { gw, result } = gatewayOf([...WEB, ingress('app/ing').rule('a.com', prefix('/', 'web', 80))]);
    assert.equal(gw, undefined);
    assert.deepEqual(result.gateway.servedRoutes, []);
  });
});
