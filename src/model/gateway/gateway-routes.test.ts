// The Gateway API model, end to end over the cache's objects: which rule a
// request gets, by the spec's precedence over one pool (the listener the
// request selects), written from the text of HTTPRouteRule.matches and
// HTTPRouteSpec.hostnames (apis/v1 of Gateway API v1.6.3). Each case: the
// objects, then requests and the `namespace/name#rule` that must answer
// them (or 404).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildConfig } from '../../config/config.js';
import { namespace, service, snapshotFrom, type ObjectLike } from '../../testing/fixtures.js';
import {
  backend,
  exactPath,
  gateway,
  gatewayClass,
  header,
  httpRoute,
  match,
  prefixPath,
  query,
  referenceGrant,
  type HTTPRouteBuilder,
} from '../../testing/gateway-fixtures.js';
import type { HTTPRouteMatch, LabelSelector } from '../../kube/types.js';
import { buildGatewayRoutes, lookupGatewayRoute } from './gateway-routes.js';

const BASE: ObjectLike[] = [gatewayClass('ats'), gateway('infra/gw').listener('http', 80, { from: 'All' }), service('app/web').port('http', 80)];

/** A Route of app (or `ns/name`) on infra/gw with one rule per list of matches. */
function route(key: string, ...rules: HTTPRouteMatch[][]): HTTPRouteBuilder {
  const r = httpRoute(key.includes('/') ? key : `app/${key}`).parent('infra/gw');
  for (const matches of rules) r.rule({ matches, backends: [backend('web', 80)] });
  return r;
}

interface Req {
  readonly path: string;
  readonly host?: string;
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly query?: Record<string, string>;
}

function answer(objects: ObjectLike[], req: Req, port = 80): string {
  const model = buildGatewayRoutes(snapshotFrom([...BASE, ...objects]), buildConfig());
  const r = lookupGatewayRoute(model, 'infra/gw', port, req.host ?? 'www.example.com', {
    path: req.path,
    method: req.method ?? 'GET',
    headers: Object.entries(req.headers ?? {}),
    query: Object.entries(req.query ?? {}),
  });
  return 'status' in r ? String(r.status) : `${r.entry.route.namespace}/${r.entry.route.name}#${r.entry.ruleIndex}`;
}

const P = (path: string, more: HTTPRouteMatch = {}) => match({ ...more, path: prefixPath(path) });
const E = (path: string, more: HTTPRouteMatch = {}) => match({ ...more, path: exactPath(path) });

/** [the spec's sentence (or what the case shows), objects, [request, want][]] */
const cases: Array<[string, ObjectLike[], Array<[Req, string]>]> = [
  [
    '"Exact" path match: before any prefix, whatever the age of the Routes',
    [route('prefix', [P('/foo')]).created(0), route('exact', [E('/foo')]).created(10)],
    [[{ path: '/foo' }, 'app/exact#0'], [{ path: '/foo/' }, 'app/prefix#0'], [{ path: '/foo/bar' }, 'app/prefix#0']],
  ],
  [
    '"Prefix" path match with largest number of characters',
    [route('short', [P('/foo')]).created(0), route('long', [P('/foo/bar')]).created(10)],
    [[{ path: '/foo/bar/baz' }, 'app/long#0'], [{ path: '/foo/bar' }, 'app/long#0'], [{ path: '/foo/baz' }, 'app/short#0']],
  ],
  [
    '"the paths `/abc`, `/abc/`, and `/abc/def` would all match the prefix `/abc`, but the path `/abcd` would not."',
    [route('abc', [P('/abc')])],
    [[{ path: '/abc' }, 'app/abc#0'], [{ path: '/abc/' }, 'app/abc#0'], [{ path: '/abc/def' }, 'app/abc#0'], [{ path: '/abcd' }, '404']],
  ],
  [
    '"When specified, a trailing `/` is ignored": the prefix `/abc/` matches `/abc`, and ranks as `/abc`',
    [route('slash', [P('/abc/')]).created(0), route('plain', [P('/abc')]).created(10)],
    [[{ path: '/abc' }, 'app/slash#0'], [{ path: '/abc/x' }, 'app/slash#0']],
  ],
  [
    '"an exact path match on `/abc` will only match requests to `/abc`, NOT `/abc/`, `/Abc`, or `/abcd`."',
    [route('abc', [E('/abc')])],
    [[{ path: '/abc' }, 'app/abc#0'], [{ path: '/abc/' }, '404'], [{ path: '/Abc' }, '404'], [{ path: '/abcd' }, '404']],
  ],
  [
    'Method match: after the path, before headers',
    [route('plain', [P('/foo', { headers: [header('a', '1'), header('b', '2')] })]).created(0), route('post', [P('/foo', { method: 'POST' })]).created(10)],
    [[{ path: '/foo', method: 'POST', headers: { a: '1', b: '2' } }, 'app/post#0'], [{ path: '/foo', headers: { a: '1', b: '2' } }, 'app/plain#0'], [{ path: '/foo' }, '404']],
  ],
  [
    'the path before the method: a longer prefix without method beats a shorter one with it',
    [route('long', [P('/foo/bar')]).created(10), route('post', [P('/foo', { method: 'POST' })]).created(0)],
    [[{ path: '/foo/bar', method: 'POST' }, 'app/long#0'], [{ path: '/foo/x', method: 'POST' }, 'app/post#0']],
  ],
  [
    'Largest number of header matches',
    [route('one', [P('/', { headers: [header('env', 'prod')] })]).created(0), route('two', [P('/', { headers: [header('env', 'prod'), header('team', 'web')] })]).created(10)],
    [[{ path: '/', headers: { env: 'prod', team: 'web' } }, 'app/two#0'], [{ path: '/', headers: { env: 'prod' } }, 'app/one#0'], [{ path: '/', headers: { env: 'dev' } }, '404']],
  ],
  [
    '"Name matching MUST be case-insensitive" (headers), values exact',
    [route('h', [P('/', { headers: [header('X-Env', 'Prod')] })])],
    [[{ path: '/', headers: { 'x-env': 'Prod' } }, 'app/h#0'], [{ path: '/', headers: { 'X-ENV': 'Prod' } }, 'app/h#0'], [{ path: '/', headers: { 'x-env': 'prod' } }, '404']],
  ],
  [
    '"If multiple entries specify equivalent header names, only the first entry with an equivalent name MUST be considered for a match." (and it counts once)',
    [route('dup', [P('/', { headers: [header('x', '1'), header('X', '2')] })]).created(0), route('two', [P('/', { headers: [header('x', '1'), header('y', '1')] })]).created(10)],
    [[{ path: '/', headers: { x: '1' } }, 'app/dup#0'], [{ path: '/', headers: { x: '1', y: '1' } }, 'app/two#0'], [{ path: '/', headers: { x: '2' } }, '404']],
  ],
  [
    'Largest number of query param matches (after headers)',
    [
      route('q1', [P('/', { queryParams: [query('a', '1')] })]).created(0),
      route('q2', [P('/', { queryParams: [query('a', '1'), query('b', '2')] })]).created(10),
      route('h1', [P('/', { headers: [header('h', '1')] })]).created(20),
    ],
    [[{ path: '/', query: { a: '1', b: '2' } }, 'app/q2#0'], [{ path: '/', query: { a: '1' } }, 'app/q1#0'], [{ path: '/', query: { a: '1', b: '2' }, headers: { h: '1' } }, 'app/h1#0']],
  ],
  [
    'query parameter names: "This must be an exact string match" (case-sensitive, unlike headers)',
    [route('q', [P('/', { queryParams: [query('Page', '1')] })])],
    [[{ path: '/', query: { Page: '1' } }, 'app/q#0'], [{ path: '/', query: { page: '1' } }, '404']],
  ],
  [
    '"If ties still exist across multiple Routes ... The oldest Route based on creation timestamp."',
    [route('young', [P('/foo')]).created(10), route('old', [P('/foo')]).created(0)],
    [[{ path: '/foo' }, 'app/old#0']],
  ],
  [
    '"The Route appearing first in alphabetical order by "{namespace}/{name}"." (same creation time)',
    [route('b', [P('/foo')]), route('a', [P('/foo')]), route('a-ns/z', [P('/foo')])],
    [[{ path: '/foo' }, 'a-ns/z#0']],
  ],
  [
    '"If ties still exist within an HTTPRoute, matching precedence MUST be granted to the FIRST matching rule (in list order)"',
    [route('r', [P('/a')], [P('/')], [P('/')])],
    [[{ path: '/x' }, 'app/r#1'], [{ path: '/a/b' }, 'app/r#0']],
  ],
  [
    'one pool across Routes: a later rule of one Route beats an earlier rule of another when it is more specific',
    [route('first', [P('/')]).created(0), route('second', [P('/nothing')], [E('/x')]).created(10)],
    [[{ path: '/x' }, 'app/second#1'], [{ path: '/y' }, 'app/first#0']],
  ],
  [
    '"If no matches are specified, the default is a prefix path match on "/", which has the effect of matching every HTTP request."',
    [httpRoute('app/all').parent('infra/gw').rule({ matches: [{}], backends: [backend('web', 80)] })],
    [[{ path: '/anything/at/all' }, 'app/all#0']],
  ],
  [
    '"When no rules matching a request have been successfully attached to the parent a request is coming from, a HTTP 404 status code MUST be returned."',
    [route('r', [E('/only')])],
    [[{ path: '/other' }, '404']],
  ],
];

describe('which rule answers: the precedence of rules over one pool', () => {
  for (const [what, objects, requests] of cases) {
    test(what, () => {
      for (const [req, want] of requests) assert.equal(answer(objects, req), want, `${req.method ?? 'GET'} ${req.path} ${JSON.stringify(req.headers ?? {})} ${JSON.stringify(req.query ?? {})}`);
    });
  }
});

describe('hostnames across Routes and listeners', () => {
  test('"precedence must be given to rules from the HTTPRoute with the largest number of: Characters in a matching non-wildcard hostname. Characters in a matching hostname." before the matches', () => {
    const objects = [
      httpRoute('app/wild').parent('infra/gw').hostnames('*.example.com').rule({ matches: [E('/x')], backends: [backend('web', 80)] }),
      httpRoute('app/exact').parent('infra/gw').hostnames('foo.example.com').rule({ matches: [P('/')], backends: [backend('web', 80)] }),
      httpRoute('app/narrow').parent('infra/gw').hostnames('*.bar.example.com').rule({ matches: [P('/')], backends: [backend('web', 80)] }),
    ];
    assert.equal(answer(objects, { host: 'foo.example.com', path: '/x' }), 'app/exact#0', 'the exact hostname first, though its path is less specific');
    assert.equal(answer(objects, { host: 'baz.bar.example.com', path: '/x' }), 'app/narrow#0', 'the longer wildcard next');
    assert.equal(answer(objects, { host: 'other.example.com', path: '/x' }), 'app/wild#0');
    assert.equal(answer(objects, { host: 'other.example.com', path: '/y' }), '404');
    assert.equal(answer(objects, { host: 'example.com', path: '/x' }), '404', '*.example.com is never the apex');
    assert.equal(answer(objects, { host: 'Foo.Example.com:8080', path: '/y' }), 'app/exact#0', 'case and the port of Host do not matter');
  });

  test('"inbound request hostnames MUST match from the most specific to least specific Hostname values to choose the correct Listener and its associated set of Routes": the most specific listener, and no fallback to a wider one', () => {
    const objects: ObjectLike[] = [
      gateway('infra/gw').listener('wide', 80, { from: 'All', hostname: '*.example.com' }).listener('exact', 80, { from: 'All', hostname: 'foo.example.com' }).listener('other-port', 8080, { from: 'All' }),
      httpRoute('app/wide').parent('infra/gw', { sectionName: 'wide' }).rule({ matches: [P('/')], backends: [backend('web', 80)] }),
      httpRoute('app/exact').parent('infra/gw', { sectionName: 'exact' }).rule({ matches: [E('/only')], backends: [backend('web', 80)] }),
      httpRoute('app/any').parent('infra/gw', { sectionName: 'other-port' }).rule({ matches: [P('/')], backends: [backend('web', 80)] }),
    ];
    assert.equal(answer(objects, { host: 'foo.example.com', path: '/only' }), 'app/exact#0');
    assert.equal(answer(objects, { host: 'foo.example.com', path: '/other' }), '404', 'the exact listener has no rule for it: 404, not the wide listener\'s');
    assert.equal(answer(objects, { host: 'bar.example.com', path: '/other' }), 'app/wide#0');
    assert.equal(answer(objects, { host: 'example.com', path: '/' }), '404', 'no listener takes the apex');
    assert.equal(answer(objects, { host: 'foo.example.com', path: '/other' }, 8080), 'app/any#0', 'another port, another pool');
  });

  test('a Route attached to a wildcard listener is routed only on the intersection of its hostnames with the listener\'s', () => {
    const objects: ObjectLike[] = [
      gateway('infra/gw').listener('http', 80, { from: 'All', hostname: '*.example.com' }),
      httpRoute('app/r').parent('infra/gw').hostnames('shop.example.com', 'shop.example.net').rule({ matches: [P('/')], backends: [backend('web', 80)] }),
    ];
    assert.equal(answer(objects, { host: 'shop.example.com', path: '/' }), 'app/r#0');
    assert.equal(answer(objects, { host: 'shop.example.net', path: '/' }), '404');
    assert.equal(answer(objects, { host: 'a.example.com', path: '/' }), '404');
  });
});

describe('backends, ReferenceGrants and status outcomes in the model', () => {
  const model = (objects: ObjectLike[]) => buildGatewayRoutes(snapshotFrom([...BASE, ...objects]), buildConfig());
  const entry = (objects: ObjectLike[], path = '/') => {
    const r = lookupGatewayRoute(model(objects), 'infra/gw', 80, 'a.example.com', { path, method: 'GET', headers: [], query: [] });
    assert.ok(!('status' in r), 'a rule answers');
    return r.entry;
  };

  test('a rule whose every backend is invalid answers 500; one with a valid backend forwards (a Service with no ready endpoint then answers 503)', () => {
    const objects = [httpRoute('app/r').parent('infra/gw').rule({ matches: [E('/gone')], backends: [backend('gone', 80), backend('also-gone', 80)] }).rule({ matches: [E('/ok')], backends: [backend('web', 80), backend('gone', 80)] })];
    assert.deepEqual(entry(objects, '/gone').answer, { status: 500, reason: 'every backendRef of the rule is invalid' });
    assert.deepEqual(entry(objects, '/ok').answer, { forward: true });
    assert.deepEqual(entry(objects, '/ok').backends.map((b) => b.resolution.valid), [true, false]);
    const parents = model(objects).parents;
    assert.deepEqual(parents.map((p) => [p.route, p.accepted, p.resolvedRefs]), [['app/r', 'Accepted', 'BackendNotFound']]);
  });

  test('a cross-namespace backendRef: RefNotPermitted without a ReferenceGrant, served with one, refused again once it is removed', () => {
    const r = httpRoute('app/r').parent('infra/gw').rule({ matches: [P('/')], backends: [backend('shared/db', 80)] });
    const db = service('shared/db').port('http', 80);
    const grant = referenceGrant('shared/allow').from('HTTPRoute', 'app').to('Service');
    assert.equal(model([r, db]).parents[0]?.resolvedRefs, 'RefNotPermitted');
    assert.deepEqual(entry([r, db]).answer, { status: 500, reason: 'every backendRef of the rule is invalid' });
    assert.equal(model([r, db, grant]).parents[0]?.resolvedRefs, 'ResolvedRefs');
    assert.deepEqual(entry([r, db, grant]).answer, { forward: true });
    assert.equal(model([r, db]).parents[0]?.resolvedRefs, 'RefNotPermitted', 'the grant removed: access revoked at the next build');
  });

  test('weights are per backendRef, as written', () => {
    const objects = [httpRoute('app/r').parent('infra/gw').rule({ matches: [P('/')], backends: [backend('web', 80, { weight: 70 }), backend('web', 80, { weight: 30 }), backend('web', 80, { weight: 0 })] })];
    assert.deepEqual(entry(objects).backends.map((b) => b.weight), [70, 30, 0]);
  });

  test('only our GatewayClasses\' Gateways: a Route on another class\'s Gateway is not ours (no status, no routes)', () => {
    const m = buildGatewayRoutes(
      snapshotFrom([gatewayClass('other').controller('example.com/other'), gateway('infra/gw').className('other').listener('http', 80, { from: 'All' }), httpRoute('app/r').parent('infra/gw').rule({ backends: [backend('web', 80)] })]),
      buildConfig(),
    );
    assert.deepEqual(m.gateways, []);
    assert.deepEqual(m.parents, []);
  });

  test('attachedRoutes counts the Routes each listener accepted; a Route not allowed is reported, not routed', () => {
    const m = model([
      gateway('infra/gw').listener('http', 80, { from: 'All' }).listener('same', 81),
      httpRoute('app/a').parent('infra/gw').rule({ backends: [backend('web', 80)] }),
      httpRoute('app/b').parent('infra/gw', { sectionName: 'same' }).rule({ backends: [backend('web', 80)] }),
    ]);
    assert.deepEqual(m.gateways[0]?.listeners.map((l) => [l.name, l.attachedRoutes]), [['http', 1], ['same', 0]]);
    assert.deepEqual(m.parents.map((p) => [p.route, p.accepted]), [['app/a', 'Accepted'], ['app/b', 'NotAllowedByListeners']]);
  });

  test('a RegularExpression path (implementation-specific) is reported and not served; the Route\'s other matches are', () => {
    const m = model([httpRoute('app/r').parent('infra/gw').rule({ matches: [match({ path: { type: 'RegularExpression', value: '^/a.*' } }), E('/b')], backends: [backend('web', 80)] })]);
    assert.deepEqual(m.problems.map((p) => `${p.kind} ${p.namespace}/${p.name} ${p.field}: ${p.message}`), ['HTTPRoute app/r spec.rules[0].matches[0]: path match type RegularExpression is not supported (Exact and PathPrefix are): the match is not served']);
    assert.equal(m.gateways[0]?.listeners[0]?.entries.length, 1);
  });

  test('the same objects in any order give the same model', () => {
    const objects: ObjectLike[] = [...BASE, route('b', [P('/x')]), route('a', [P('/x')], [E('/y')]), route('c-ns/z', [P('/')])];
    const want = JSON.stringify(buildGatewayRoutes(snapshotFrom(objects), buildConfig()));
    assert.equal(JSON.stringify(buildGatewayRoutes(snapshotFrom([...objects].reverse()), buildConfig())), want);
  });
});

describe('allowedRoutes From Selector, over the snapshot\'s Namespaces', () => {
  const labelled = [namespace('app').label('team', 'web').label('env', 'prod'), namespace('lab').label('team', 'web').label('env', 'dev'), namespace('ops')];
  /** [listener selector, the namespace of the Route, the Route's outcome] */
  const cases: Array<[string, LabelSelector, string, string]> = [
    ['matchLabels', { matchLabels: { team: 'web' } }, 'app', 'Accepted'],
    ['matchLabels, every one', { matchLabels: { team: 'web', env: 'prod' } }, 'lab', 'NotAllowedByListeners'],
    ['matchLabels on the label the API server sets', { matchLabels: { 'kubernetes.io/metadata.name': 'ops' } }, 'ops', 'Accepted'],
    ['matchExpressions In', { matchExpressions: [{ key: 'env', operator: 'In', values: ['dev', 'test'] }] }, 'lab', 'Accepted'],
    ['matchExpressions In, no such label', { matchExpressions: [{ key: 'env', operator: 'In', values: ['dev'] }] }, 'ops', 'NotAllowedByListeners'],
    ['matchExpressions NotIn, no such label', { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] }, 'ops', 'Accepted'],
    ['matchExpressions NotIn', { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] }, 'app', 'NotAllowedByListeners'],
    ['matchExpressions Exists', { matchExpressions: [{ key: 'team', operator: 'Exists' }] }, 'lab', 'Accepted'],
    ['matchExpressions DoesNotExist', { matchExpressions: [{ key: 'team', operator: 'DoesNotExist' }] }, 'app', 'NotAllowedByListeners'],
    ['matchLabels and matchExpressions, ANDed', { matchLabels: { team: 'web' }, matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['dev'] }] }, 'lab', 'NotAllowedByListeners'],
    ['an empty selector selects every namespace', {}, 'ops', 'Accepted'],
    ['a namespace with no Namespace object is not known, so not selected', {}, 'nowhere', 'NotAllowedByListeners'],
  ];
  for (const [what, selector, ns, want] of cases) {
    test(`${what}: a Route in ${ns} is ${want}`, () => {
      const m = buildGatewayRoutes(
        snapshotFrom([
          gatewayClass('ats'),
          gateway('infra/gw').listener('http', 80, { from: 'Selector', selector }),
          ...labelled,
          service(`${ns}/web`).port('http', 80),
          httpRoute(`${ns}/r`).parent('infra/gw').rule({ backends: [backend('web', 80)] }),
        ]),
        buildConfig(),
      );
      assert.deepEqual(m.parents.map((p) => [p.route, p.accepted]), [[`${ns}/r`, want]]);
      assert.equal(m.gateways[0]?.listeners[0]?.attachedRoutes, want === 'Accepted' ? 1 : 0);
    });
  }
});
