// The C++ Gateway API lookup (native/core/gateway_lookup.cc, through the
// addon) against the model's reference (lookupGatewayRoute in
// src/model/gateway/gateway-routes.ts, written from the spec's text): random
// Gateways, listeners and HTTPRoutes, built into one table, and random
// requests, each answered by the same rule of the same Route, or 404 by both.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { buildConfig } from '../config/config.js';
import { parseGatewayPorts, type GatewayPorts } from '../config/gateway.js';
import { build } from '../model/build.js';
import { lookupGatewayRoute } from '../model/gateway/gateway-routes.js';
import { app, snapshotFrom, type ObjectLike } from '../testing/fixtures.js';
import { backend, exactPath, gateway, gatewayClass, header, httpRoute, match, prefixPath, query } from '../testing/gateway-fixtures.js';
import type { HTTPRouteMatch } from '../kube/types.js';
import { isInvalid } from '../validate/invalid.js';
import { RouteTable } from './route-table.js';
import { pick, rng } from '../testing/random.js';

const SEEDS = 12;
const REQUESTS_PER_SEED = 400;

const table = RouteTable.open(`t-gwlookup-${process.pid}`);
after(() => {
  table.remove();
  table.close();
});


const LISTENER_HOSTS = [undefined, 'a.example.com', '*.example.com', '*.b.example.com', 'other.test'];
const ROUTE_HOSTS = ['a.example.com', 'x.b.example.com', '*.example.com', '*.b.example.com', 'other.test', 'example.com'];
const PATHS = ['/', '/a', '/a/', '/a/b', '/ab', '/c/d/e', '/c'];
const REQUEST_HOSTS = ['a.example.com', 'A.Example.COM:8080', 'x.b.example.com', 'y.x.b.example.com', 'example.com', 'other.test', 'b.example.com', 'nothing.test', 'a.example.com.'];
const REQUEST_PATHS = ['/', '/a', '/a/', '/a/b', '/a/b/c', '/ab', '/abc', '/c', '/c/d', '/c/d/e', '/c/d/e/f', '/zzz'];


function randomMatch(r: () => number): HTTPRouteMatch {
  const m: { path: ReturnType<typeof exactPath> | ReturnType<typeof prefixPath>; method?: string; headers?: ReturnType<typeof header>[]; queryParams?: ReturnType<typeof query>[] } = {
    path: r() < 0.3 ? exactPath(pick(r, PATHS)) : prefixPath(pick(r, PATHS)),
  };
  if (r() < 0.25) m.method = pick(r, ['GET', 'POST']);
  if (r() < 0.3) m.headers = [header(pick(r, ['X-A', 'x-b']), pick(r, ['1', '2']))];
  if (r() < 0.2) m.queryParams = [query(pick(r, ['q', 'k']), pick(r, ['1', '2']))];
  return match(m);
}

function objects(r: () => number): ObjectLike[] {
  const out: ObjectLike[] = [gatewayClass('ats'), ...app('app/web', 80, 8080, '10.0.0.1')];
  const gateways = ['app/g1', 'app/g2'];
  gateways.forEach((key, gi) => {
    const g = gateway(key).created(gi);
    const n = 1 + Math.floor(r() * 3);
    for (let i = 0; i < n; i++) {
      const hostname = pick(r, LISTENER_HOSTS);
      g.listener(`l${i}`, pick(r, [80, 8080]), hostname ? { hostname } : {});
    }
    out.push(g);
  });
  const routes = 2 + Math.floor(r() * 5);
  for (let i = 0; i < routes; i++) {
    const route = httpRoute(`app/r${i}`).parent(pick(r, gateways)).created(Math.floor(r() * 3));
    if (r() < 0.7) route.hostnames(...new Set([pick(r, ROUTE_HOSTS), pick(r, ROUTE_HOSTS)]));
    const rules = 1 + Math.floor(r() * 3);
    for (let k = 0; k < rules; k++) {
      const matches = Array.from({ length: 1 + Math.floor(r() * 2) }, () => randomMatch(r));
      route.rule({ matches, backends: [backend('web', 80)] });
    }
    out.push(route);
  }
  return out;
}

test('the table\'s Gateway lookup answers as the model\'s reference does', () => {
  const ports = parseGatewayPorts('80,8080');
  if (isInvalid(ports)) throw new Error(ports.invalid);
  const config = buildConfig({ gatewayPorts: ports as GatewayPorts });
  let compared = 0;
  let routed = 0;
  for (let seed = 1; seed <= SEEDS; seed++) {
    const r = rng(seed);
    const result = build(snapshotFrom(objects(r)), config);
    table.publish(result.model.table);
    for (let i = 0; i < REQUESTS_PER_SEED; i++) {
      const gw = pick(r, ['app/g1', 'app/g2']);
      const port = pick(r, [80, 8080]);
      const host = pick(r, REQUEST_HOSTS);
      const path = pick(r, REQUEST_PATHS);
      const method = pick(r, ['GET', 'POST']);
      const headers: Array<[string, string]> = r() < 0.5 ? [[pick(r, ['x-a', 'X-B']), pick(r, ['1', '2'])]] : [];
      const q: Array<[string, string]> = r() < 0.4 ? [[pick(r, ['q', 'k']), pick(r, ['1', '2'])]] : [];
      const want = lookupGatewayRoute(result.gateway.routes, gw, port, host, { path, method, headers, query: q });
      const address = result.gateway.addresses.get(gw);
      assert.ok(address);
      const full = q.length > 0 ? `${path}?${q.map(([k, v]) => `${k}=${v}`).join('&')}` : path;
      const got = table.lookup(host, full, { method, headers, localAddress: address, localPort: port });
      const where = `seed ${seed} request ${i}: ${method} ${gw}:${port} ${host} ${full} ${JSON.stringify(headers)}`;
      const listenersOnPort = result.model.table.gateway?.listeners.some((l) => l.gateway === gw && l.port === port) ?? false;
      if (!listenersOnPort) {
        // No listener of that Gateway on that port: not the Gateway's at all (the Ingress table answers: 404 here).
        assert.equal(got.gateway, undefined, where);
        continue;
      }
      compared++;
      if ('status' in want) {
        assert.equal(got.status, 404, `${where}: want 404, got ${got.status} ${got.reason ?? ""} ${got.gateway?.route ?? ""}`);
      } else {
        routed++;
        assert.equal(got.gateway?.route, `${want.entry.route.namespace}/${want.entry.route.name}`, where);
        assert.equal(got.gateway?.ruleIndex, want.entry.ruleIndex, where);
        assert.equal(got.gateway?.listener, want.listener, where);
        assert.equal(got.status, 200, where);
      }
    }
  }
  assert.ok(compared > SEEDS * REQUESTS_PER_SEED * 0.3, `only ${compared} requests reached a listener`);
  assert.ok(routed > compared * 0.15, `only ${routed} of ${compared} requests matched a rule: the cases are too narrow`);
});
