// A build that takes over from the one before it (memo.ts) gives exactly what
// a build from nothing gives: over seeded random sequences of changes to a
// cache, each build with the loop's kept context is compared, byte for byte,
// with a build of the same snapshot and time with a fresh context.

import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import { ObjectCache } from '../cache/object-cache.js';
import type { BuildConfig } from '../config/config.js';
import { buildConfig } from '../config/config.js';
import type { Kind, KubeObject } from '../kube/types.js';
import { SERVICE_NAME_LABEL, objectKey } from '../kube/types.js';
import { CERT_PEM, exact, ingress, ingressClass, prefix, service, serviceRef, slice, tlsSecret } from '../testing/fixtures.js';
import { EncodeMemo, encodeModel, sameEncoding } from '../route-table/encode-model.js';
import { build, buildContext } from './build.js';
import { CertificateCache } from './certificates.js';
import { BuildMemo } from './memo.js';
import type { BuildResult } from './model.js';
import type { BuildContext } from './state.js';

/** A small seeded generator, so a failure can be replayed from its seed. */
function random(seed: number): { int(n: number): number; pick<T>(items: readonly T[]): T; chance(p: number): boolean } {
  let state = seed >>> 0 || 1;
  const next = () => {
    // xorshift32
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 2 ** 32;
  };
  return {
    int: (n) => Math.floor(next() * n),
    pick: (items) => items[Math.floor(next() * items.length)]!,
    chance: (p) => next() < p,
  };
}
type Random = ReturnType<typeof random>;

const cert = new X509Certificate(CERT_PEM);
const NOT_BEFORE = Date.parse(cert.validFrom);
const NOT_AFTER = Date.parse(cert.validTo);
/** Times on both sides of the fixture certificate's validity, and on its edges. */
const TIMES = [NOT_BEFORE - 1, NOT_BEFORE, NOT_BEFORE + 86_400_000, NOT_AFTER, NOT_AFTER + 1, NOT_AFTER + 86_400_000];

const NAMESPACES = ['shop', 'blog'];
const SERVICES = ['web', 'api', 'img'];
const HOSTS = ['a.com', 'b.com', 'x.a.com', '*.a.com', 'shop.example.com', 'nocert.org', ''];

function serviceObject(r: Random, ns: string, name: string): KubeObject {
  const s = service(`${ns}/${name}`).port('http', 80, 8080);
  if (r.chance(0.7)) s.port('tls', 443, 8443, r.chance(0.5) ? { appProtocol: 'https' } : {});
  if (r.chance(0.1)) return service(`${ns}/${name}`).externalName('elsewhere.example.org').build();
  return s.build();
}

function sliceObject(r: Random, ns: string, name: string, suffix: string): KubeObject {
  const v6 = r.chance(0.3);
  const s = slice(`${ns}/${name}`, suffix).port('http', 8080);
  if (r.chance(0.6)) s.port('tls', 8443);
  const count = r.int(4);
  for (let i = 0; i < count; i++) {
    const address = v6 ? `fd00::${r.int(5) + 1}` : `10.0.${r.int(3)}.${r.int(5) + 1}`;
    const kind = r.int(6);
    if (kind === 0) s.notReady(address);
    else if (kind === 1) s.terminating(address);
    else if (kind === 2 && r.chance(0.3)) s.ready(v6 ? 'not-an-address' : '300.1.1.1');
    else s.ready(address);
  }
  return s.build();
}

function ingressObject(r: Random, ns: string, name: string): KubeObject {
  const ing = ingress(`${ns}/${name}`).created(r.int(3));
  if (r.chance(0.8)) ing.className('ats');
  const svc = () => r.pick(SERVICES);
  const port = () => (r.chance(0.7) ? 80 : r.pick(['http', 'tls', 443, 81] as const));
  const rules = 1 + r.int(3);
  for (let i = 0; i < rules; i++) {
    const paths = [prefix(r.pick(['/', '/x', '/y/']), svc(), port())];
    if (r.chance(0.5)) paths.push(exact(r.pick(['/x', '/healthz']), svc(), port()));
    ing.rule(r.pick(HOSTS), ...paths);
  }
  if (r.chance(0.3)) ing.defaultBackend(svc(), port());
  if (r.chance(0.4)) ing.tls(r.pick(['cert', 'broken', 'missing']), r.pick(HOSTS.filter((h) => h !== '')));
  if (r.chance(0.3)) ing.ats('ssl-redirect', 'true');
  if (r.chance(0.2)) ing.ats('backend-protocol', r.pick(['HTTPS', 'HTTP', 'gopher']));
  if (r.chance(0.2)) ing.ats('connect-timeout', r.pick(['5s', 'soon']));
  if (r.chance(0.1)) ing.ats('auth-tls-secret', `${ns}/cert`);
  return ing.build();
}

function secretObject(r: Random, ns: string, name: string): KubeObject {
  const s = tlsSecret(`${ns}/${name}`);
  if (name === 'broken' || r.chance(0.2)) s.without('tls.key');
  return s.build();
}

interface Weights {
  slice: number;
  service: number;
  ingress: number;
  secret: number;
  ingressClass: number;
  time: number;
  nothing: number;
}

/** One random change to the cache (an upsert or a removal); the time may move instead. */
function change(r: Random, cache: ObjectCache, weights: Weights, time: { now: number }): void {
  const total = Object.values(weights).reduce((a, b) => a + b, 0);
  let roll = r.int(total);
  const kind = (Object.keys(weights) as Array<keyof Weights>).find((k) => (roll -= weights[k]) < 0)!;
  const ns = r.pick(NAMESPACES);
  const remove = r.chance(0.15);
  const apply = (obj: KubeObject, k: Kind) => {
    if (remove) cache.remove(k, objectKey(obj));
    else cache.upsert(obj);
  };
  switch (kind) {
    case 'slice': {
      const name = r.pick(SERVICES);
      let obj = sliceObject(r, ns, name, r.pick(['a', 'a', 'b']));
      // Now and then a slice moves to another Service, or to none.
      if (r.chance(0.1)) {
        const other = r.pick([...SERVICES, '']);
        const labels: Record<string, string> = { ...obj.metadata.labels };
        if (other) labels[SERVICE_NAME_LABEL] = other;
        else delete labels[SERVICE_NAME_LABEL];
        obj = { ...obj, metadata: { ...obj.metadata, labels } } as KubeObject;
      }
      apply(obj, 'EndpointSlice');
      break;
    }
    case 'service':
      apply(serviceObject(r, ns, r.pick(SERVICES)), 'Service');
      break;
    case 'ingress':
      apply(ingressObject(r, ns, `ing-${r.int(4)}`), 'Ingress');
      break;
    case 'secret':
      apply(secretObject(r, ns, r.pick(['cert', 'broken'])), 'Secret');
      break;
    case 'ingressClass': {
      const c = ingressClass('ats');
      if (r.chance(0.5)) c.isDefault();
      apply(c.build(), 'IngressClass');
      break;
    }
    case 'time':
      time.now = r.chance(0.5) ? r.pick(TIMES) : time.now + r.int(2) * 1000;
      break;
    case 'nothing':
      break;
  }
}

/** Everything at once, so that the first build has something of every kind. */
function seed(r: Random, cache: ObjectCache): void {
  cache.upsert(ingressClass('ats').isDefault().build());
  for (const ns of NAMESPACES) {
    for (const name of SERVICES) {
      cache.upsert(serviceObject(r, ns, name));
      cache.upsert(sliceObject(r, ns, name, 'a'));
    }
    for (let i = 0; i < 4; i++) cache.upsert(ingressObject(r, ns, `ing-${i}`));
    cache.upsert(secretObject(r, ns, 'cert'));
    cache.upsert(secretObject(r, ns, 'broken'));
  }
  cache.upsert(service('sys/fallback').port('http', 80, 8080).build());
}

const EVERYTHING: Weights = { slice: 4, service: 2, ingress: 3, secret: 1, ingressClass: 1, time: 2, nothing: 1 };
const ENDPOINTS: Weights = { slice: 10, service: 1, ingress: 0, secret: 0, ingressClass: 0, time: 0, nothing: 1 };
const ROUTES: Weights = { slice: 1, service: 1, ingress: 6, secret: 2, ingressClass: 1, time: 3, nothing: 1 };

const CASES: Array<{ name: string; seed: number; weights: Weights; steps: number }> = [
  { name: 'every kind of change', seed: 1, weights: EVERYTHING, steps: 300 },
  { name: 'every kind of change, another sequence', seed: 77, weights: EVERYTHING, steps: 300 },
  { name: 'mostly endpoints', seed: 2, weights: ENDPOINTS, steps: 300 },
  { name: 'mostly routes, TLS and time', seed: 3, weights: ROUTES, steps: 300 },
];

for (const c of CASES) {
  test(`a build with the last build's memo equals a build from nothing: ${c.name} (seed ${c.seed})`, () => {
    const config = buildConfig({ defaultBackend: serviceRef('sys/fallback:http') });
    const r = random(c.seed);
    const cache = new ObjectCache(config);
    seed(r, cache);
    const time = { now: TIMES[2]! };
    // As the loop keeps them.
    const certificates = new CertificateCache();
    const memo = new BuildMemo();
    // As the route-table publisher keeps it: its encoding of each model must be the one made from nothing.
    const encodeMemo = new EncodeMemo();
    for (let step = 0; step < c.steps; step++) {
      if (step > 0) change(r, cache, c.weights, time);
      // Now and then as after a build that threw: what was made across objects is dropped.
      if (step % 37 === 36) memo.forget();
      const snapshot = cache.snapshot();
      const keptResult = build(snapshot, config, { now: time.now, certificates, memo });
      const kept = JSON.stringify(keptResult);
      const fresh = JSON.stringify(build(snapshot, config, buildContext(time.now)));
      assert.equal(kept, fresh, `step ${step} of seed ${c.seed}`);
      const table = keptResult.model.table;
      const encoded = encodeModel(table, undefined, encodeMemo);
      const anew = encodeModel(JSON.parse(JSON.stringify(table)) as typeof table);
      assert.ok(sameEncoding(encoded, anew) && encoded.strings === anew.strings, `the encoding at step ${step} of seed ${c.seed}`);
    }
    // The memo was used, not just carried: each part was taken over at least once.
    assert.ok(memo.reused.routing > 0 && memo.reused.lookups > 0 && memo.reused.table > 0 && memo.reused.sliceIndex > 0 &&
      memo.reused.resolvedOnly > 0 && (c.weights.ingress === 0 || (memo.reused.ingresses > 0 && memo.reused.carried > 0)), JSON.stringify(memo.reused));
  });
}

/** Per Service of SERVICES an Ingress of its own host, the Service, and a slice of one ready endpoint. */
function shop(config: BuildConfig): ObjectCache {
  const cache = new ObjectCache(config);
  cache.upsert(ingressClass('ats').isDefault().build());
  for (const name of SERVICES) {
    cache.upsert(ingress(`shop/${name}`).rule(`${name}.a.com`, prefix('/', name, 80)).build());
    cache.upsert(service(`shop/${name}`).port('http', 80, 8080).build());
    cache.upsert(slice(`shop/${name}`).port('http', 8080).ready('10.0.0.1').build());
  }
  return cache;
}

/** A build of the cache now with the context's memo, required to equal one from nothing. */
function checked(cache: ObjectCache, config: BuildConfig, context: BuildContext): () => BuildResult {
  return () => {
    const snapshot = cache.snapshot();
    const kept = build(snapshot, config, context);
    assert.equal(JSON.stringify(kept), JSON.stringify(build(snapshot, config, buildContext(TIMES[2]))));
    return kept;
  };
}

test('one EndpointSlice changed: the routing and the hosts are taken over, the backends made again', () => {
  const config = buildConfig();
  const cache = shop(config);
  const context = buildContext(TIMES[2]);
  const before = build(cache.snapshot(), config, context);
  cache.upsert(slice('shop/api').port('http', 8080).ready('10.0.0.2').build());
  const after = build(cache.snapshot(), config, context);
  assert.equal(after.model.table.hosts, before.model.table.hosts, 'the same hosts, rules and all');
  assert.deepEqual(after.model.table.backends.map((b) => b.endpoints.map((e) => e.address)), [['10.0.0.2'], ['10.0.0.1'], ['10.0.0.1']]);
  // The Services that did not change keep their endpoints, the very arrays.
  assert.equal(after.model.table.backends[1]!.endpoints, before.model.table.backends[1]!.endpoints);
  // The two Services that did not change are not looked up again, nor are the references to them resolved again.
  assert.deepEqual(context.memo?.reused, { routing: 1, endpoints: 0, lookups: 0, carried: 0, resolvedOnly: 1, ingresses: 0, sliceIndex: 1, table: 1 });
});

test('a slice that moves to another Service: only the references to both are resolved again; after a routing change the lookups are carried', () => {
  const config = buildConfig();
  const cache = shop(config);
  const context = buildContext(TIMES[2]);
  const reused = () => context.memo!.reused;
  const check = checked(cache, config, context);
  check();
  // api's slice, relabelled as web's: api has none left, web has two.
  const moved = slice('shop/api').port('http', 8080).ready('10.0.0.9').build();
  cache.upsert({ ...moved, metadata: { ...moved.metadata, labels: { ...moved.metadata.labels, [SERVICE_NAME_LABEL]: 'web' } } } as KubeObject);
  const after = check();
  assert.deepEqual(Object.fromEntries(after.model.table.backends.map((b) => [b.service, b.endpoints.map((e) => e.address)])),
    { 'shop/api': [], 'shop/web': ['10.0.0.1', '10.0.0.9'], 'shop/img': ['10.0.0.1'] });
  assert.deepEqual([reused().resolvedOnly, reused().lookups, reused().carried], [1, 0, 0], 'api and web looked up afresh, img not visited');
  // Nothing changed: nothing is resolved again, every backend is the very object.
  const again = check();
  assert.equal(reused().resolvedOnly, 2);
  again.model.table.backends.forEach((b, i) => assert.equal(b, after.model.table.backends[i]));
  // A new Ingress (the routing made again): each reference takes the lookup it holds over, with no map looked at.
  cache.upsert(ingress('shop/new').created(9).rule('new.a.com', prefix('/', 'img', 80)).build());
  check();
  assert.deepEqual([reused().resolvedOnly, reused().carried], [2, 3]);
});

test('one Ingress added or changed: only it is read again, the others\' problems are still reported', () => {
  const config = buildConfig();
  const cache = new ObjectCache(config);
  cache.upsert(ingressClass('ats').isDefault().build());
  for (const name of SERVICES) {
    cache.upsert(service(`shop/${name}`).port('http', 80, 8080).build());
    cache.upsert(slice(`shop/${name}`).port('http', 8080).ready('10.0.0.1').build());
  }
  cache.upsert(ingress('shop/old').created(0).rule('a.com', prefix('/', 'api', 80)).ats('connect-timeout', 'soon').build());
  cache.upsert(ingress('shop/mid').created(1).rule('b.com', prefix('/', 'web', 80)).build());
  const context = buildContext(TIMES[2]);
  build(cache.snapshot(), config, context);
  const check = checked(cache, config, context);

  // A new, younger Ingress with the same path on a.com: it loses to the old one, which was not read again.
  cache.upsert(ingress('shop/new').created(2).rule('a.com', prefix('/', 'web', 80)).build());
  const added = check();
  assert.equal(context.memo?.reused.ingresses, 2);
  assert.ok(added.problems.some((p) => p.name === 'old' && p.field.includes('connect-timeout')), 'the kept Ingress\'s annotation problem is reported again');
  assert.ok(added.problems.some((p) => p.name === 'new' && p.severity === 'Warning' && p.message.includes('shop/old')), 'the conflict is judged again');

  // The old Ingress changed (a new object): read again, and the young one now wins its path.
  cache.upsert(ingress('shop/old').created(0).rule('a.com', prefix('/v2', 'api', 80)).build());
  const changed = check();
  assert.equal(context.memo?.reused.ingresses, 4, 'mid and new taken over');
  const a = changed.model.table.hosts.find((h) => h.name === 'a.com');
  assert.deepEqual(a?.rules.map((r) => [r.path, r.source]), [['/', 'shop/new'], ['/v2', 'shop/old']]);
  assert.ok(!changed.problems.some((p) => p.field.includes('connect-timeout')), 'the old object\'s problem went with it');
});

test('a new Ingress: every other backend is the very object of the last build, at its index, and the new ones come last', () => {
  const config = buildConfig({ defaultBackend: serviceRef('shop/web:80') });
  const cache = new ObjectCache(config);
  cache.upsert(ingressClass('ats').isDefault().build());
  for (const name of SERVICES) {
    cache.upsert(service(`shop/${name}`).port('http', 80, 8080).build());
    cache.upsert(slice(`shop/${name}`).port('http', 8080).ready('10.0.0.1').build());
  }
  SERVICES.forEach((name, i) => cache.upsert(ingress(`shop/${name}`).created(i).rule(`${name}.a.com`, prefix('/', name, 80), exact('/x', 'img', 80)).build()));
  const context = buildContext(TIMES[2]);
  const built = checked(cache, config, context);
  const check = () => built().model.table.backends;
  const before = check();
  assert.equal(before.length, 6, 'the default, then two of web, two of api, one of img');
  // On a host that sorts first, so that its rules come before every other host's.
  cache.upsert(ingress('shop/new').created(9).rule('0.a.com', prefix('/', 'api', 80)).build());
  const added = check();
  assert.equal(added.length, before.length + 1);
  before.forEach((b, i) => assert.equal(added[i], b, `backend ${i}`));
  // The oldest one changed (a new claim): its two backends are made again, every other one kept.
  cache.upsert(ingress(`shop/${SERVICES[0]}`).created(0).rule(`${SERVICES[0]}.a.com`, prefix('/', 'api', 80), exact('/x', 'img', 80)).build());
  const changed = check();
  assert.deepEqual(changed.slice(1, 3).map((b) => b.service), ['shop/api', 'shop/img']);
  added.forEach((b, i) => i === 1 || i === 2 || assert.equal(changed[i], b, `backend ${i}`));
});

test('lookups no build uses any more are let go, and what is left still equals a build from nothing', () => {
  const config = buildConfig();
  const cache = new ObjectCache(config);
  cache.upsert(ingressClass('ats').isDefault().build());
  const names = Array.from({ length: 1200 }, (_, i) => `svc-${i}`);
  for (const name of names) {
    cache.upsert(ingress(`shop/${name}`).rule(`${name}.a.com`, prefix('/', name, 80)).build());
    cache.upsert(service(`shop/${name}`).port('http', 80, 8080).build());
    cache.upsert(slice(`shop/${name}`).port('http', 8080).ready('10.0.0.1').build());
  }
  const context = buildContext(TIMES[2]);
  build(cache.snapshot(), config, context);
  assert.equal(context.memo?.lookups?.entries, 1200);
  for (const name of names.slice(1)) cache.remove('Ingress', `shop/${name}`);
  const snapshot = cache.snapshot();
  const kept = build(snapshot, config, context);
  assert.equal(context.memo?.lookups?.entries, 1, 'the 1,199 lookups of Ingresses that went away are gone');
  assert.equal(JSON.stringify(kept), JSON.stringify(build(snapshot, config, buildContext(TIMES[2]))));
});
