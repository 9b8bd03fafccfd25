import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { RouteTable, TableError, addonErrorCodes, type LookupRequest, type TableGatewayEntry, type TableGatewayListener, type TableModel } from './route-table.js';
import { MAX_STATS_SLOT } from './encode-model.js';
import { TABLE_ERROR_CODES } from './table-error.js';

const names: RouteTable[] = [];
function fresh(tag: string): RouteTable {
  const t = RouteTable.open(`t-ts-${tag}-${process.pid}`);
  names.push(t);
  return t;
}
after(() => {
  for (const t of names) {
    if (t.closed) continue;
    try {
      t.remove();
    } catch {
      // already gone
    }
    t.close();
  }
});

function walkthrough(): TableModel {
  return {
    backends: [
      { service: 'trafficserver-test-2/appsvc1', port: '8080', scheme: 'http', endpoints: [{ address: '10.1.0.1', port: 8080 }, { address: '10.1.0.2', port: 8080 }] },
      { service: 'trafficserver-test-2/appsvc2', port: 'http', scheme: 'http', endpoints: [{ address: '10.1.0.3', port: 8080 }] },
      { service: 'trafficserver-test-3/appsvc2', port: '8080', scheme: 'https', endpoints: [{ address: '2001:db8::5', port: 8443, weight: 3 }] },
      { service: 'trafficserver-test-3/gone', port: '80', scheme: 'http', endpoints: [], problem: 'service trafficserver-test-3/gone does not exist' },
    ],
    hosts: [
      {
        name: 'test.edge.com',
        rules: [
          { path: '/app1', pathType: 'Prefix', backend: 0, source: 'trafficserver-test-2/app-ingress' },
          { path: '/app2', pathType: 'Prefix', backend: 2, source: 'trafficserver-test-3/app-ingress' },
          { path: '/gone', pathType: 'Exact', backend: 3, source: 'trafficserver-test-3/app-ingress' },
        ],
      },
      {
        name: 'test.media.com',
        rules: [
          { path: '/app1', pathType: 'Prefix', backend: 0, source: 'trafficserver-test-2/app-ingress' },
          { path: '/app2', pathType: 'Prefix', backend: 1, source: 'trafficserver-test-2/app-ingress' },
        ],
        defaultBackend: 1,
        defaultSource: 'trafficserver-test-2/app-ingress',
      },
    ],
  };
}

describe('RouteTable round trips', () => {
  it('publishes and reads back the same model with increasing generations', () => {
    const t = fresh('roundtrip');
    const model = walkthrough();
    const first = t.publish(model);
    assert.equal(first.generation, 1n);
    assert.ok(first.bytes > 0);
    const live = t.read();
    assert.equal(live.generation, 1n);
    assert.deepEqual(live.hosts, model.hosts);
    assert.deepEqual(
      live.backends.map((b) => ({ ...b, endpoints: b.endpoints.map((e) => ({ ...e })) })),
      model.backends.map((b) => ({ ...b, endpoints: b.endpoints.map((e) => ({ weight: 1, ...e })) })),
    );
    assert.ok(live.sizeBytes > 0 && Math.abs(live.buildTimeMs - Date.now()) < 60_000);
    assert.equal(t.publish(model).generation, 2n);
    assert.equal(t.read().generation, 2n);
  });

  it('round-trips every backend option, the cache options of version 2 among them', () => {
    const t = fresh('options');
    const model = walkthrough();
    model.backends[0]!.options = {
      connectTimeoutMs: 1500,
      responseTimeoutMs: 30_000,
      redirectToHttps: true,
      cachePolicy: 'default',
      upstreamHost: 'internal.svc',
      cacheDefaultTtlS: 60,
      cacheMaxTtlS: 2 ** 31 - 1,
      cacheIgnoreQuery: true,
      cacheServeStaleS: 1,
      cacheGeneration: 0,
      statsSlot: MAX_STATS_SLOT,
    };
    // false, 0 and 'default' come back as given, not as absent.
    model.backends[1]!.options = { cacheIgnoreQuery: false, cacheGeneration: 2 ** 31 - 1, statsSlot: 0, redirectToHttps: false };
    model.backends[2]!.options = { cachePolicy: 'bypass' };
    t.publish(model);
    const live = t.read();
    assert.deepEqual(
      live.backends.map((b) => b.options),
      model.backends.map((b) => b.options),
    );
  });

  it('answers lookups as the plugin would', () => {
    const t = fresh('lookup');
    t.publish(walkthrough());
    assert.deepEqual(t.lookup('Test.Edge.com:30000', '/app1/x?y=1'), {
      status: 200,
      generation: 1n,
      service: 'trafficserver-test-2/appsvc1',
      servicePort: '8080',
      scheme: 'http',
      endpoints: ['10.1.0.1:8080', '10.1.0.2:8080'],
      endpoint: '10.1.0.1:8080',
      rule: { host: 'test.edge.com', path: '/app1', pathType: 'Prefix', source: 'trafficserver-test-2/app-ingress' },
    });
    const v6 = t.lookup('test.edge.com', '/app2');
    assert.equal(v6.endpoint, '[2001:db8::5]:8443');
    assert.equal(v6.scheme, 'https');
    const gone = t.lookup('test.edge.com', '/gone');
    assert.equal(gone.status, 503);
    // One text for an outcome, the same as the plugin's 503 body.
    assert.equal(gone.reason, 'the backend cannot serve: service trafficserver-test-3/gone does not exist');
    assert.equal(gone.endpoint, undefined);
    assert.deepEqual(gone.endpoints, []);
    const def = t.lookup('test.media.com', '/other');
    assert.equal(def.status, 200);
    assert.deepEqual(def.rule, { host: 'test.media.com', pathType: 'Default', source: 'trafficserver-test-2/app-ingress' });
    const miss = t.lookup('test.edge.com', '/app3');
    assert.equal(miss.status, 404);
    assert.equal(miss.reason, 'no route for this path');
    assert.equal(t.lookup('nowhere.com', '/').reason, 'no route for this host');
  });

  it("readOwners gives read()'s rules, defaults, Services and stats slots, and nothing else", () => {
    const t = fresh('owners');
    const model = walkthrough();
    model.defaultBackend = 1;
    model.backends[0]!.options = { statsSlot: 7, connectTimeoutMs: 100 };
    model.backends[2]!.options = { cachePolicy: 'bypass' };
    t.publish(model);
    const live = t.read();
    const owners = t.readOwners();
    assert.deepEqual(owners, {
      defaultBackend: 1,
      hosts: live.hosts.map((h) => ({
        rules: h.rules.map((r) => ({ backend: r.backend, source: r.source })),
        ...(h.defaultBackend !== undefined ? { defaultBackend: h.defaultBackend, defaultSource: h.defaultSource } : {}),
      })),
      // Only the slot of the options; a backend without one has no options.
      backends: live.backends.map((b) => ({ service: b.service, ...(b.options?.statsSlot !== undefined ? { options: { statsSlot: b.options.statsSlot } } : {}) })),
    });
    assert.ok(owners.hosts.some((h) => h.rules.length > 1), 'the walkthrough has a host with rules from one Ingress');
    assert.throws(() => fresh('owners-nothing').readOwners(), { code: 'ERR_TABLE_NOT_FOUND' });
  });

  it('throws ERR_TABLE_NOT_FOUND for a name nothing was published to', () => {
    const t = fresh('nothing');
    assert.throws(() => t.lookup('a.com', '/'), (e: unknown) => e instanceof TableError && e.code === 'ERR_TABLE_NOT_FOUND');
    assert.throws(() => t.read(), { code: 'ERR_TABLE_NOT_FOUND' });
  });
});

// Two Gateways with the same listeners on addresses of their own, and one
// Ingress host: the local address decides which routes a request.
function gateways(): TableModel {
  const listener = (gateway: string, address: string, name: string, hostname: string): TableGatewayListener => ({
    gateway, listener: name, address, port: 8080, listenerPort: 80, protocol: 'HTTP', hostname, entries: [],
  });
  const entry = (path: string, rule: number, more: Partial<TableGatewayEntry> = {}): TableGatewayEntry => ({
    hostname: 'a.example.com', pathType: 'PathPrefix', path, headers: [], queryParams: [], rule, ...more,
  });
  const a = [listener('ns/gw-a', '10.0.0.10', 'exact', 'a.example.com'), listener('ns/gw-a', '10.0.0.10', 'wild', '*.example.com')];
  const b = [listener('ns/gw-b', '2001:db8::11', 'exact', 'a.example.com'), listener('ns/gw-b', '2001:db8::11', 'wild', '*.example.com')];
  a[0]!.entries = [
    entry('/login', 5, { pathType: 'Exact', method: 'POST', headers: [{ name: 'x-env', value: 'canary' }], queryParams: [{ name: 'debug', value: '1' }] }),
    entry('/old', 1),
    entry('/broken', 2),
    entry('/invalid', 3),
    entry('/empty', 4),
    entry('/app', 0),
  ];
  a[1]!.entries = [entry('/', 0, { hostname: '*.example.com' })];
  b[0]!.entries = [entry('/app', 4)];
  return {
    backends: [
      { service: 'ns/web', port: '80', scheme: 'http', endpoints: [{ address: '10.2.0.1', port: 8080, weight: 1 }, { address: '10.2.0.2', port: 8080, weight: 1 }] },
      { service: 'ns/empty', port: 'http', scheme: 'http', endpoints: [] },
      { service: 'ns/ingress-svc', port: '80', scheme: 'https', endpoints: [{ address: '10.1.0.1', port: 443, weight: 1 }] },
    ],
    hosts: [{ name: 'ingress.test', rules: [{ path: '/', pathType: 'Prefix', backend: 2, source: 'ns/ing' }] }],
    gateway: {
      listeners: [...a, ...b],
      rules: [
        {
          route: 'ns/web',
          ruleIndex: 0,
          filters: [{ type: 'RequestHeaderModifier', edits: { set: [{ name: 'x-env', value: 'prod' }], add: [{ name: 'x-trace', value: '1' }], remove: ['x-drop'] } }],
          choices: [{ backend: 0, weight: 1, filters: [{ type: 'ResponseHeaderModifier', edits: { set: [], add: [], remove: ['server'] } }] }],
        },
        {
          route: 'ns/moved',
          ruleIndex: 0,
          filters: [{ type: 'RequestRedirect', scheme: 'https', path: { type: 'ReplacePrefixMatch', value: '/new' }, statusCode: 301 }],
          choices: [],
        },
        { route: 'ns/broken', ruleIndex: 0, filters: [], choices: [], failure: 'no backendRef is valid' },
        {
          route: 'ns/invalid',
          ruleIndex: 2,
          filters: [],
          choices: [
            { weight: 1, filters: [], problem: 'backendRef ns/missing: Service not found' },
            { backend: 0, weight: 1, filters: [] },
          ],
        },
        { route: 'ns/empty', ruleIndex: 0, filters: [], choices: [{ backend: 1, weight: 5, filters: [] }] },
        {
          route: 'ns/web',
          ruleIndex: 1,
          filters: [{ type: 'URLRewrite', hostname: 'login.internal', path: { type: 'ReplaceFullPath', value: '/auth' } }],
          choices: [{ backend: 0, weight: 1_000_000, filters: [] }, { backend: 1, weight: 0, filters: [] }],
        },
      ],
    },
  };
}

describe('RouteTable and the Gateway API', () => {
  const onA: LookupRequest = { localAddress: '10.0.0.10', localPort: 8080 };
  const onB: LookupRequest = { localAddress: '2001:db8::11', localPort: 8080 };

  it('reads back the gateway part as published', () => {
    const t = fresh('gw-read');
    const model = gateways();
    t.publish(model);
    const live = t.read();
    assert.deepEqual(live.gateway, model.gateway);
    assert.deepEqual(live.hosts, model.hosts);
    assert.deepEqual(live.backends, model.backends);
    // No Gateways: no gateway part.
    t.publish({ ...model, gateway: { listeners: [], rules: [] } });
    assert.equal('gateway' in t.read(), false);
  });

  it('routes by the listener, the entry and the rule, with the filters of the rule and the choice', () => {
    const t = fresh('gw-routed');
    const model = gateways();
    t.publish(model);
    assert.deepEqual(t.lookup('A.Example.com:80', '/app/x?y=1', onA), {
      status: 200,
      generation: 1n,
      service: 'ns/web',
      servicePort: '80',
      scheme: 'http',
      endpoints: ['10.2.0.1:8080', '10.2.0.2:8080'],
      endpoint: '10.2.0.1:8080',
      gateway: {
        gateway: 'ns/gw-a',
        listener: 'exact',
        route: 'ns/web',
        ruleIndex: 0,
        entry: 5,
        filters: [model.gateway!.rules[0]!.filters[0]!, model.gateway!.rules[0]!.choices[0]!.filters[0]!],
      },
    });
    // The wildcard listener for another host of the domain; its entry only.
    const wild = t.lookup('b.example.com', '/anything', onA);
    assert.equal(wild.status, 200);
    assert.deepEqual({ ...wild.gateway, filters: undefined }, { gateway: 'ns/gw-a', listener: 'wild', route: 'ns/web', ruleIndex: 0, entry: 0, filters: undefined });
    // The other Gateway's identical listener has routes of its own.
    const b = t.lookup('a.example.com', '/app', onB);
    assert.equal(b.status, 503);
    assert.equal(b.service, 'ns/empty');
    assert.equal(b.gateway?.gateway, 'ns/gw-b');
    assert.equal(t.lookup('a.example.com', '/broken', onB).status, 404);
  });

  it('answers 404 without a listener for the host or an entry for the request', () => {
    const t = fresh('gw-404');
    t.publish(gateways());
    const none = t.lookup('other.com', '/app', onA);
    assert.equal(none.status, 404);
    assert.equal(none.reason, 'no listener of this Gateway for this host');
    assert.equal(none.gateway?.gateway, 'ns/gw-a');
    assert.equal(none.gateway?.route, undefined);
    // Never the Ingress host, on a Gateway's address.
    assert.equal(t.lookup('ingress.test', '/', onA).status, 404);
    const miss = t.lookup('a.example.com', '/nothing', onA);
    assert.equal(miss.status, 404);
    assert.equal(miss.reason, 'no rule of this listener matches');
    assert.deepEqual(miss.gateway, { gateway: 'ns/gw-a', listener: 'exact' });
    // The exact listener takes a.example.com: the wildcard's '/' does not catch its misses.
    assert.equal(t.lookup('a.example.com', '/', onA).status, 404);
  });

  it('answers 500 for a failing rule and for an invalid backend chosen, 503 for one without endpoints', () => {
    const t = fresh('gw-5xx');
    t.publish(gateways());
    const broken = t.lookup('a.example.com', '/broken', onA);
    assert.equal(broken.status, 500);
    assert.equal(broken.reason, 'the rule has no valid backend: no backendRef is valid');
    assert.equal(broken.gateway?.route, 'ns/broken');
    assert.equal(broken.service, undefined);
    // The lookup draws 0: the first backend with a weight, here the invalid one.
    const invalid = t.lookup('a.example.com', '/invalid/x', onA);
    assert.equal(invalid.status, 500);
    assert.equal(invalid.reason, 'the backend is invalid: backendRef ns/missing: Service not found');
    assert.deepEqual(invalid.gateway, { gateway: 'ns/gw-a', listener: 'exact', route: 'ns/invalid', ruleIndex: 2, entry: 3, filters: [] });
    const empty = t.lookup('a.example.com', '/empty', onA);
    assert.equal(empty.status, 503);
    assert.equal(empty.service, 'ns/empty');
    assert.deepEqual(empty.endpoints, []);
    assert.equal(empty.endpoint, undefined);
    assert.equal(empty.reason, 'no ready endpoints for this backend');
  });

  it('answers a RequestRedirect with its status and Location', () => {
    const t = fresh('gw-redirect');
    t.publish(gateways());
    const r = t.lookup('a.example.com:8080', '/old/page?x=1&y', onA);
    assert.equal(r.status, 301);
    assert.equal(r.location, 'https://a.example.com/new/page?x=1&y');
    assert.equal(r.service, undefined);
    assert.equal(r.gateway?.route, 'ns/moved');
    assert.equal(r.gateway?.filters?.[0]?.type, 'RequestRedirect');
  });

  it('matches the method, the headers (any case, repeated ones joined) and the query', () => {
    const t = fresh('gw-match');
    t.publish(gateways());
    const login = { ...onA, method: 'POST', headers: [['X-Env', 'canary']] as Array<[string, string]> };
    const hit = t.lookup('a.example.com', '/login?debug=1', login);
    assert.equal(hit.status, 200);
    assert.deepEqual({ route: hit.gateway?.route, ruleIndex: hit.gateway?.ruleIndex, entry: hit.gateway?.entry }, { route: 'ns/web', ruleIndex: 1, entry: 0 });
    assert.deepEqual(hit.gateway?.filters, [{ type: 'URLRewrite', hostname: 'login.internal', path: { type: 'ReplaceFullPath', value: '/auth' } }]);
    assert.equal(hit.service, 'ns/web', 'the backend of weight 0 is never chosen');
    assert.equal(t.lookup('a.example.com', '/login?a=b&debug=1', login).status, 200);
    for (const [what, path, request] of [
      ['no query', '/login', login],
      ['another query value', '/login?debug=2', login],
      ['another method', '/login?debug=1', { ...login, method: 'GET' }],
      ['the default method', '/login?debug=1', { ...onA, headers: login.headers }],
      ['no header', '/login?debug=1', { ...onA, method: 'POST' }],
      ['another header value', '/login?debug=1', { ...login, headers: [['x-env', 'prod']] }],
      ['the value split over two headers', '/login?debug=1', { ...login, headers: [['x-env', 'can'], ['X-ENV', 'ary']] }],
      ['a prefix of the Exact path', '/login/x?debug=1', login],
    ] as Array<[string, string, LookupRequest]>) {
      assert.equal(t.lookup('a.example.com', path, request).status, 404, what);
    }
    // Repeated headers are one value, joined with ','.
    const joined = structuredClone(gateways());
    joined.gateway!.listeners[0]!.entries[0]!.headers = [{ name: 'x-env', value: 'a,b' }];
    t.publish(joined);
    assert.equal(t.lookup('a.example.com', '/login?debug=1', { ...login, headers: [['x-env', 'a'], ['x-other', 'z'], ['X-Env', 'b']] }).status, 200);
  });

  it('routes by the Ingress when no Gateway listens on the local address and port', () => {
    const t = fresh('gw-ingress');
    t.publish(gateways());
    const want = t.lookup('ingress.test', '/x');
    assert.equal(want.status, 200);
    assert.equal(want.service, 'ns/ingress-svc');
    assert.deepEqual(t.lookup('ingress.test', '/x', { localAddress: '10.0.0.99', localPort: 8080 }), want);
    assert.deepEqual(t.lookup('ingress.test', '/x', { ...onA, localPort: 8081 }), want);
    assert.deepEqual(t.lookup('ingress.test', '/x', { method: 'DELETE', headers: [['a', 'b']] }), want);
    assert.equal(t.lookup('a.example.com', '/app', { localAddress: '::ffff:10.0.0.10', localPort: 8080 }).status, 404, 'a v4-mapped address is another address');
  });

  it("serves listeners on every local address ('*') by port, after those of the connection's own address", () => {
    const t = fresh('gw-any');
    const model = gateways();
    const g = model.gateway!;
    // Gateway ns/gw-b's listeners move to every address of port 20000.
    for (const l of g.listeners) if (l.gateway === 'ns/gw-b') Object.assign(l, { address: '*', port: 20000 });
    g.listeners.sort((a, b) => (a.address === '*' ? 0 : 1) - (b.address === '*' ? 0 : 1));
    t.publish(model);
    assert.deepEqual(t.read().gateway, model.gateway);
    for (const address of ['10.9.8.7', '2001:db8::11', '10.0.0.10']) {
      const got = t.lookup('a.example.com', '/app', { localAddress: address, localPort: 20000 });
      assert.equal(got.gateway?.gateway, 'ns/gw-b', address);
      assert.equal(got.service, 'ns/empty', address);
    }
    assert.equal(t.lookup('a.example.com', '/app', onA).gateway?.gateway, 'ns/gw-a');
    assert.equal(t.lookup('a.example.com', '/app', { localAddress: '10.9.8.7', localPort: 8080 }).gateway, undefined);
    assert.equal(t.lookup('nothing.test', '/app', { localAddress: '10.9.8.7', localPort: 20000 }).gateway?.gateway, 'ns/gw-b', 'no listener for the host: the Gateway of the port');
  });

  it('refuses a bad request naming the field', () => {
    const t = fresh('gw-args');
    t.publish(gateways());
    const cases: Array<[unknown, string]> = [
      ['GET', 'request'],
      [null, 'request'],
      [{ method: 'GE T' }, 'request.method'],
      [{ method: '' }, 'request.method'],
      [{ method: 7 }, 'request.method'],
      [{ headers: { a: 'b' } }, 'request.headers'],
      [{ headers: [['a', 'b'], ['c']] }, 'request.headers[1]'],
      [{ headers: [['a b', 'c']] }, 'request.headers[0][0]'],
      [{ headers: [['a', 'b\r\nc: d']] }, 'request.headers[0][1]'],
      [{ headers: [['a', 1]] }, 'request.headers[0][1]'],
      [{ localAddress: 'localhost', localPort: 80 }, 'request.localAddress'],
      [{ localAddress: '10.0.0.1', localPort: 0 }, 'request.localPort'],
      [{ localAddress: '10.0.0.1', localPort: 65536 }, 'request.localPort'],
      [{ localAddress: '10.0.0.1', localPort: '80' }, 'request.localPort'],
      [{ localAddress: '10.0.0.1' }, 'request.localPort'],
      [{ localPort: 80 }, 'request.localAddress'],
    ];
    for (const [request, field] of cases) {
      assert.throws(
        () => t.lookup('a.example.com', '/', request as LookupRequest),
        (e: unknown) => e instanceof TableError && e.code === 'ERR_INVALID_ARG' && e.field === field && e.message.startsWith(`lookup: ${field} `),
        `${JSON.stringify(request)} names ${field}`,
      );
    }
  });
});

describe('RouteTable rejects bad input before publishing anything', () => {
  const base = walkthrough;
  const cases: Array<{ name: string; mutate: (m: any) => void; field: string }> = [
    { name: 'model not an object', mutate: () => {}, field: 'model' },
    { name: 'backends missing', mutate: (m) => delete m.backends, field: 'backends' },
    { name: 'hosts not an array', mutate: (m) => (m.hosts = {}), field: 'hosts' },
    { name: 'service not a string', mutate: (m) => (m.backends[0].service = 1), field: 'backends[0].service' },
    { name: 'port not a string', mutate: (m) => (m.backends[1].port = 80), field: 'backends[1].port' },
    { name: 'bad scheme', mutate: (m) => (m.backends[0].scheme = 'ftp'), field: 'backends[0].scheme' },
    { name: 'bad address', mutate: (m) => (m.backends[0].endpoints[1].address = '10.0.0.300'), field: 'backends[0].endpoints[1].address' },
    { name: 'hostname as address', mutate: (m) => (m.backends[0].endpoints[0].address = 'pod.local'), field: 'backends[0].endpoints[0].address' },
    { name: 'port zero', mutate: (m) => (m.backends[0].endpoints[0].port = 0), field: 'backends[0].endpoints[0].port' },
    { name: 'port too big', mutate: (m) => (m.backends[0].endpoints[0].port = 70000), field: 'backends[0].endpoints[0].port' },
    { name: 'fractional weight', mutate: (m) => (m.backends[0].endpoints[0].weight = 1.5), field: 'backends[0].endpoints[0].weight' },
    { name: 'endpoints not an array', mutate: (m) => (m.backends[0].endpoints = null), field: 'backends[0].endpoints' },
    { name: 'bad option', mutate: (m) => (m.backends[0].options = { cachePolicy: 'sometimes' }), field: 'backends[0].options.cachePolicy' },
    { name: 'bad timeout', mutate: (m) => (m.backends[0].options = { connectTimeoutMs: -1 }), field: 'backends[0].options.connectTimeoutMs' },
    { name: 'bad upstream host', mutate: (m) => (m.backends[0].options = { upstreamHost: 'a b' }), field: 'backends[0].options.upstreamHost' },
    { name: 'default TTL zero', mutate: (m) => (m.backends[0].options = { cacheDefaultTtlS: 0 }), field: 'backends[0].options.cacheDefaultTtlS' },
    { name: 'default TTL past 2^31-1', mutate: (m) => (m.backends[0].options = { cacheDefaultTtlS: 2 ** 31 }), field: 'backends[0].options.cacheDefaultTtlS' },
    { name: 'fractional max TTL', mutate: (m) => (m.backends[1].options = { cacheMaxTtlS: 1.5 }), field: 'backends[1].options.cacheMaxTtlS' },
    { name: 'ignore query not a boolean', mutate: (m) => (m.backends[0].options = { cacheIgnoreQuery: 1 }), field: 'backends[0].options.cacheIgnoreQuery' },
    { name: 'serve stale negative', mutate: (m) => (m.backends[0].options = { cacheServeStaleS: -5 }), field: 'backends[0].options.cacheServeStaleS' },
    { name: 'generation past 2^31-1', mutate: (m) => (m.backends[2].options = { cacheGeneration: 2 ** 31 }), field: 'backends[2].options.cacheGeneration' },
    { name: 'generation as text', mutate: (m) => (m.backends[0].options = { cacheGeneration: '3' }), field: 'backends[0].options.cacheGeneration' },
    { name: 'stats slot past the last', mutate: (m) => (m.backends[0].options = { statsSlot: MAX_STATS_SLOT + 1 }), field: 'backends[0].options.statsSlot' },
    { name: 'uppercase host', mutate: (m) => (m.hosts[0].name = 'Test.edge.com'), field: 'hosts[0].name' },
    { name: 'host with port', mutate: (m) => (m.hosts[0].name = 'test.edge.com:80'), field: 'hosts[0].name' },
    { name: 'double wildcard', mutate: (m) => (m.hosts[0].name = '*.*.edge.com'), field: 'hosts[0].name' },
    { name: 'duplicate host', mutate: (m) => (m.hosts[1].name = 'test.edge.com'), field: 'hosts[1].name' },
    { name: 'relative path', mutate: (m) => (m.hosts[0].rules[0].path = 'app1'), field: 'hosts[0].rules[0].path' },
    { name: 'unknown path type', mutate: (m) => (m.hosts[0].rules[0].pathType = 'Regex'), field: 'hosts[0].rules[0].pathType' },
    { name: 'backend out of range', mutate: (m) => (m.hosts[0].rules[1].backend = 9), field: 'hosts[0].rules[1].backend' },
    { name: 'negative backend', mutate: (m) => (m.hosts[0].rules[1].backend = -1), field: 'hosts[0].rules[1].backend' },
    { name: 'source missing', mutate: (m) => delete m.hosts[0].rules[0].source, field: 'hosts[0].rules[0].source' },
    { name: 'duplicate rule by trailing slash', mutate: (m) => m.hosts[1].rules.push({ path: '/app1/', pathType: 'ImplementationSpecific', backend: 0, source: 'x/y' }), field: 'hosts[1].rules[2].path' },
    { name: 'host default out of range', mutate: (m) => (m.hosts[1].defaultBackend = 4), field: 'hosts[1].defaultBackend' },
    { name: 'table default out of range', mutate: (m) => (m.defaultBackend = 4), field: 'defaultBackend' },
    { name: 'path too long', mutate: (m) => (m.hosts[0].rules[0].path = '/' + 'x'.repeat(9000)), field: 'hosts[0].rules[0].path' },
  ];
  cases.forEach((c, i) => {
    it(c.name, () => {
      const t = fresh(`reject${i}`);
      t.publish(base());
      const m: any = c.field === 'model' ? 'not a model' : base();
      c.mutate(m);
      assert.throws(
        () => t.publish(m),
        (e: unknown) => {
          assert.ok(e instanceof TableError, `not a TableError: ${String(e)}`);
          assert.equal(e.code, 'ERR_INVALID_MODEL');
          assert.equal(e.field, c.field);
          assert.ok(e.message.startsWith(`${c.field}: `), e.message);
          return true;
        },
      );
      assert.equal(t.read().generation, 1n, 'nothing was published');
    });
  });

  it('refuses bad table names with ERR_INVALID_TABLE_NAME', () => {
    for (const name of ['', 'a/b', 'a.b', 'x'.repeat(65), 'sp ace']) {
      assert.throws(() => RouteTable.open(name), { code: 'ERR_INVALID_TABLE_NAME' });
    }
  });

  it('refuses bad lookup arguments', () => {
    const t = fresh('args');
    t.publish(base());
    assert.throws(() => t.lookup(1 as unknown as string, '/'), { code: 'ERR_INVALID_ARG' });
  });
});

describe('RouteTable lifecycle', () => {
  it('opens and closes twice; use after close throws ERR_TABLE_CLOSED', () => {
    for (let i = 0; i < 2; i++) {
      const t = fresh('lifecycle');
      t.publish(walkthrough());
      assert.equal(t.read().generation, BigInt(i + 1));
      t.close();
      t.close();
      assert.equal(t.closed, true);
      assert.throws(() => t.publish(walkthrough()), { code: 'ERR_TABLE_CLOSED' });
      assert.throws(() => t.lookup('a', '/'), { code: 'ERR_TABLE_CLOSED' });
      assert.throws(() => t.read(), { code: 'ERR_TABLE_CLOSED' });
    }
    const reader = fresh('lifecycle');
    assert.equal(reader.read().generation, 2n, 'the table outlives the handles that wrote it');
  });

  it('two handles of one name see each other', () => {
    const writer = fresh('pair');
    const reader = RouteTable.open(writer.name);
    writer.publish(walkthrough());
    assert.equal(reader.lookup('test.media.com', '/app2').service, 'trafficserver-test-2/appsvc2');
    reader.close();
  });

  it('works in a worker thread, which loads its own copy of the addon', async () => {
    const t = fresh('worker');
    t.publish(walkthrough());
    const moduleUrl = new URL('./route-table.js', import.meta.url).href;
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      import(workerData.moduleUrl).then(({ RouteTable }) => {
        const t = RouteTable.open(workerData.name);
        const r = t.lookup('test.edge.com', '/app1');
        const g = t.publish(workerData.model).generation;
        t.close();
        parentPort.postMessage({ service: r.service, generation: String(g) });
      }).catch((e) => parentPort.postMessage({ error: String(e) }));`;
    const worker = new Worker(code, { eval: true, workerData: { moduleUrl, name: t.name, model: walkthrough() } });
    const msg = await new Promise<{ service?: string; generation?: string; error?: string }>((res, rej) => {
      worker.once('message', res);
      worker.once('error', rej);
    });
    await worker.terminate();
    assert.equal(msg.error, undefined);
    assert.equal(msg.service, 'trafficserver-test-2/appsvc1');
    assert.equal(msg.generation, '2');
    assert.equal(t.read().generation, 2n);
  });
});

describe('error codes', () => {
  it('the TypeScript list is the C++ enum, code for code and in order', () => {
    assert.deepEqual([...TABLE_ERROR_CODES], [...addonErrorCodes()]);
  });
});
