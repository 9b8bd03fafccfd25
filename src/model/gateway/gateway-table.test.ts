// The Gateway API part of build()'s table: addresses per Gateway, listeners
// served on the ports --gateway-ports names, pools in the spec's order,
// weighted choices and filters as data, and Ingresses untouched beside them.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildConfig } from '../../config/config.js';
import { parseAddressRange, parseGatewayPorts, parsePortRange, type AddressRange, type GatewayPorts, type PortRange } from '../../config/gateway.js';
import { isInvalid } from '../../validate/invalid.js';
import { app, ingress, prefix, service, snapshotFrom, tlsSecret, type ObjectLike } from '../../testing/fixtures.js';
import { backend, exactPath, gateway, gatewayClass, header, httpRoute, match, prefixPath } from '../../testing/gateway-fixtures.js';
import { build } from '../build.js';
import type { TableGateway } from '../table-model.js';
import { RouteTable } from '../../route-table/route-table.js';

function ok<T>(v: T | { invalid: string }): T {
  if (isInvalid(v)) throw new Error(v.invalid);
  return v;
}

const WEB = app('app/web', 80, 8080, '10.0.0.1', '10.0.0.2');
const API = app('app/api', 80, 9090, '10.0.0.9');

function gatewayOf(objects: ObjectLike[], o: { addresses?: string; ports?: string; portRange?: string; serviceNamespace?: string } = {}): { gw: TableGateway | undefined; result: ReturnType<typeof build> } {
  const config = buildConfig({
    ...(o.serviceNamespace ? { gatewayServiceNamespace: o.serviceNamespace } : {}),
    ...(o.addresses ? { gatewayAddresses: ok<AddressRange>(parseAddressRange(o.addresses)) } : {}),
    ...(o.ports ? { gatewayPorts: ok<GatewayPorts>(parseGatewayPorts(o.ports)) } : {}),
    ...(o.portRange ? { gatewayPortRange: ok<PortRange>(parsePortRange(o.portRange)) } : {}),
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

  test('in a cluster a Gateway keeps the block its Service (in the controller\'s namespace) says, so deleting an older one moves no other', () => {
    const ours = (key: string, target: number) => service(`ats-ingress/gw-${key.replace('/', '-')}`).port('http-80', 80, target)
      .label('ats.ingress.kubernetes.io/gateway-service', 'true').annotation('ats.ingress.kubernetes.io/gateway', key);
    // infra/old (pair 0) is gone; infra/b keeps pair 1, and the new infra/c takes pair 0.
    const { result } = gatewayOf([
      gateway('infra/b').listener('http', 80).created(10),
      gateway('infra/c').listener('http', 80).created(30),
      ours('infra/old', 20000), ours('infra/b', 20002),
    ], { portRange: '20000-20007', serviceNamespace: 'ats-ingress' });
    assert.deepEqual([...result.gateway.ports].map(([k, p]) => [k, [...p]]), [['infra/b', [[80, 20002]]], ['infra/c', [[80, 20000]]]]);
  });

  test('listener ports are served on the ports --gateway-ports maps them to; others are unavailable', () => {
    const { gw, result } = gatewayOf([
      gateway('infra/gw').listener('http', 80).listener('alt', 8081),
    ], { ports: '80=18080,443=18443' });
    assert.deepEqual(gw?.listeners.map((l) => `${l.listener} ${l.port} ${l.listenerPort}`), ['http 18080 80']);
    assert.deepEqual([...result.gateway.unavailablePorts], ['infra/gw/alt']);
    assert.ok(result.problems.some((p) => p.field === 'spec.listeners[1].port' && /8081 is not served/.test(p.message)));
  });

  test('in a cluster (--gateway-port-range) every Gateway is on every address, on a block of ports of its own, oldest first', () => {
    const { gw, result } = gatewayOf([
      ...WEB, ...API,
      gateway('infra/b').listener('http', 80).listener('alt', 8080).created(10),
      gateway('infra/a').listener('http', 80).created(20),
      // Any port is served (its Service maps it); other protocols are not.
      gateway('infra/c').listener('odd', 9999).listener('tcp', 7000, { protocol: 'TCP' }).created(30),
      httpRoute('infra/to-b').parent('infra/b').rule({ backends: [backend('app/web', 80)] }),
      httpRoute('infra/to-a').parent('infra/a').rule({ backends: [backend('app/api', 80)] }),
    ], { portRange: '20000-20009' });
    assert.deepEqual([...result.gateway.addresses], [['infra/b', '*'], ['infra/a', '*'], ['infra/c', '*']]);
    assert.deepEqual([...result.gateway.ports].map(([k, p]) => [k, [...p]]), [
      ['infra/b', [[80, 20000], [8080, 20002]]],
      ['infra/a', [[80, 20004]]],
      ['infra/c', [[9999, 20006]]],
    ]);
    assert.equal(result.gateway.byPort, true);
    assert.deepEqual([...result.gateway.unavailablePorts], []);
    assert.deepEqual(gw?.listeners.map((l) => `${l.gateway} ${l.listener} ${l.address}:${l.port} (${l.listenerPort})`), [
      'infra/b http *:20000 (80)',
      'infra/b alt *:20002 (8080)',
      'infra/a http *:20004 (80)',
      'infra/c odd *:20006 (9999)',
    ]);
    // And the table takes it: the lookup tells them apart by port alone.
    const table = RouteTable.open(`t-gwports-${process.pid}`);
    try {
      table.publish(result.model.table);
      assert.equal(table.lookup('x.test', '/', { localAddress: '10.1.2.3', localPort: 20000 }).gateway?.route, 'infra/to-b');
      assert.equal(table.lookup('x.test', '/', { localAddress: '10.1.2.3', localPort: 20004 }).gateway?.route, 'infra/to-a');
    } finally {
      table.remove();
      table.close();
    }
  });

  test('in a cluster, a Gateway whose block does not fit is not served and says why; a later smaller one still is', () => {
    const { gw, result } = gatewayOf([
      gateway('infra/one').listener('http', 80).listener('https', 443, { protocol: 'HTTPS', certificates: ['cert'] }).created(1),
      gateway('infra/two').listener('a', 80).listener('b', 81).created(2),
      gateway('infra/three').listener('http', 80).created(3),
    ], { portRange: '20000-20003' });
    assert.deepEqual([...result.gateway.ports].map(([k, p]) => [k, [...p]]), [['infra/one', [[80, 20000], [443, 20001]]], ['infra/three', [[80, 20002]]]]);
    // infra/one's HTTPS listener has no certificate Secret: not served.
    assert.deepEqual(gw?.listeners.map((l) => `${l.gateway} ${l.listener}`), ['infra/one http', 'infra/three http']);
    assert.ok(result.problems.some((p) => p.kind === 'Gateway' && p.name === 'two' && /--gateway-port-range 20000-20003 .* do not hold/.test(p.message)));
  });

  test('in a cluster an HTTPS listener is served on the TLS port of its pair, in the route table and in the TLS table', () => {
    const { gw, result } = gatewayOf([
      tlsSecret('infra/cert'),
      gateway('infra/one').listener('http', 80).listener('https', 443, { protocol: 'HTTPS', certificates: ['cert'] }),
    ], { portRange: '20000-20003' });
    assert.deepEqual(gw?.listeners.map((l) => `${l.listener} ${l.address}:${l.port} ${l.protocol}`), ['http *:20000 HTTP', 'https *:20001 HTTPS']);
    assert.deepEqual(result.model.tls.gatewayListeners?.map((l) => `${l.listener} ${l.address}:${l.port}`), ['https *:20001']);
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
    assert.ok(result.problems.some((p) => p.field === 'spec.rules[0].matches[0]' && p.severity === 'Error' && /control character/.test(p.message)));
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
