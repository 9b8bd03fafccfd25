// The same objects, in any order, give the same bytes: the publishers skip a
// publish by comparing them.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../kube/types.js';
import { ObjectCache } from '../cache/object-cache.js';
import { snapshotOf } from '../cache/snapshot.js';
import { build } from './build.js';
import { buildConfig } from '../config/config.js';
import { exact, implementationSpecific, ingress, ingressClass, prefix, service, serviceRef, slice, tlsSecret } from '../testing/fixtures.js';

/** A cluster with something of everything: shared hosts, conflicts, defaults, TLS, problems. */
function cluster(): KubeObject[] {
  const objects: KubeObject[] = [
    ingressClass('ats').isDefault(),
    ingressClass('nginx').controller('k8s.io/ingress-nginx'),
    tlsSecret('shop/cert'),
    tlsSecret('blog/cert'),
    tlsSecret('blog/broken').without('tls.key'),
    service('sys/fallback').port('http', 80, 8080),
    slice('sys/fallback').port('http', 8080).ready('10.9.0.1'),
  ].map((o) => o.build());
  for (const ns of ['shop', 'blog', 'api']) {
    for (let i = 0; i < 6; i++) {
      const svc = `svc-${i}`;
      objects.push(
        service(`${ns}/${svc}`).port('http', 80, 8080).port('tls', 443, 8443, { appProtocol: 'https' }).build(),
        slice(`${ns}/${svc}`, 'v4').port('http', 8080).port('tls', 8443).ready(`10.${i}.0.2`, `10.${i}.0.1`).terminating(`10.${i}.0.3`).build(),
        slice(`${ns}/${svc}`, 'v6').port('http', 8080).ready(`fd00::${i}:2`, `fd00::${i}:1`).build(),
      );
      const ing = ingress(`${ns}/ing-${i}`)
        .created(i % 3)
        .ats('cache', i % 2 === 0 ? 'bypass' : 'default')
        .ats('ssl-redirect', i % 2 === 0 ? 'true' : 'false')
        .tls('cert', `${ns}.example.com`)
        .tls('broken', 'x.example.com')
        .rule(`${ns}.example.com`, prefix('/', svc, 80), exact(`/p${i}`, svc, 'tls'), implementationSpecific('/shared', svc, 80))
        .rule('shared.example.com', prefix(`/${ns}`, svc, 80), prefix('/', svc, 80))
        .rule('*.wild.example.com', prefix('/', svc, 'http'))
        .rule('BAD..host', prefix('/', svc, 80))
        .rule('', exact('/healthz', 'missing', 80));
      if (i === 0) ing.className('ats').defaultBackend(svc, 80);
      if (i === 5) ing.className('nginx');
      objects.push(ing.build());
    }
  }
  objects.push(ingress('api/fallback').defaultBackend('svc-1', 'http').build());
  return objects;
}

/** A small seeded generator, so a failure can be replayed. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let state = seed;
  for (let i = out.length - 1; i > 0; i--) {
    state = (state * 1103515245 + 12345) % 2147483648;
    const j = state % (i + 1);
    const a = out[i];
    const b = out[j];
    if (a === undefined || b === undefined) continue;
    out[i] = b;
    out[j] = a;
  }
  return out;
}

test('the same objects in any order give byte-identical results', () => {
  const objects = cluster();
  const config = buildConfig({ defaultBackend: serviceRef('sys/fallback:http') });
  const expected = JSON.stringify(build(snapshotOf(objects), config));
  const result = JSON.parse(expected) as { problems: unknown[]; model: { table: { hosts: unknown[] } } };
  assert.ok(result.problems.length > 0 && result.model.table.hosts.length > 3, 'the cluster exercises problems and many hosts');
  for (let seed = 1; seed <= 25; seed++) {
    const order = shuffled(objects, seed);
    assert.equal(JSON.stringify(build(snapshotOf(order), config)), expected, `snapshotOf, seed ${seed}`);
    const cache = new ObjectCache(config);
    for (const o of order) cache.upsert(o);
    assert.equal(JSON.stringify(build(cache.snapshot(), config)), expected, `ObjectCache, seed ${seed}`);
  }
});

test('building twice from one snapshot gives the same result and leaves the snapshot as it was', () => {
  const snapshot = snapshotOf(cluster());
  const before = JSON.stringify([...snapshot.ingresses.values(), ...snapshot.endpointSlices.values()]);
  assert.deepEqual(build(snapshot), build(snapshot));
  assert.equal(JSON.stringify([...snapshot.ingresses.values(), ...snapshot.endpointSlices.values()]), before);
});
