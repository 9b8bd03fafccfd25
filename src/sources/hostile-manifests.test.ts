// The hostile objects of src/testing/hostile-objects.ts, without a cluster:
// every case written to a manifests directory and read by the manifests
// source, then built with the healthy routes beside it. What the API server
// refuses (the expectation the end-to-end test checks against a real one),
// the manifests source refuses, naming the file, the field's line and the
// field; what it takes, the builder serves or reports naming the field, the
// healthy routes stay, and the table is one the writer takes. The probes of
// each case are looked up in a real table through the plugin's own lookup
// code.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { build, buildContext } from '../model/build.js';
import { buildConfig } from '../config/config.js';
import { encodeModel } from '../route-table/encode-model.js';
import { RouteTable } from '../route-table/route-table.js';
import type { KubeObject } from '../kube/types.js';
import { snapshotOf } from '../cache/snapshot.js';
import { readManifests, type ManifestRead } from './manifests.js';
import { EXPIRED_CERT, EXPIRED_KEY, FIXTURE_CERT, FIXTURE_KEY, OTHER_CERT, OTHER_KEY } from '../testing/fixture-certs.js';
import { HEALTHY_ROUTES, HOSTILE_CASES, PORT, SERVICES, healthyIngresses, subjectOf, type HostileEnv, type Json } from '../testing/hostile-objects.js';

const env: HostileEnv = {
  ns: 'e2e-hostile',
  otherNs: 'e2e-hostile-other',
  certs: { good: { cert: FIXTURE_CERT, key: FIXTURE_KEY }, other: { cert: OTHER_CERT, key: OTHER_KEY }, expired: { cert: EXPIRED_CERT, key: EXPIRED_KEY } },
};

/** The Services of the cases' namespace, with one ready endpoint each, and our IngressClass. */
function base(): Json[] {
  const objects: Json[] = [{ apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'ats' }, spec: { controller: 'ats.ingress.kubernetes.io/controller' } }];
  SERVICES.forEach((name, i) => {
    objects.push({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: env.ns }, spec: { ports: [{ name: 'http', port: PORT, protocol: 'TCP' }] } });
    objects.push({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${name}-a`, namespace: env.ns, labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: PORT, protocol: 'TCP' }],
      endpoints: [{ addresses: [`10.0.0.${i + 1}`], conditions: { ready: true } }],
    });
  });
  return [...objects, ...healthyIngresses(env)];
}

/** A copy created at `time`: the healthy Ingresses are older than every case, as in a cluster where they came first. */
function createdAt(o: Json, time: string): Json {
  return { ...o, metadata: { ...(o.metadata as Json), creationTimestamp: time } };
}

const asList = (items: Json[]) => `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items }, null, 2)}\n`;
const keyOf = (o: Json) => {
  const m = o.metadata as Json;
  return `${String(o.kind)}/${typeof m.namespace === 'string' ? `${m.namespace}/` : ''}${String(m.name)}`;
};

let dir: string;
let read: ManifestRead;
let table: RouteTable;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'atsi-hostile-'));
  await writeFile(join(dir, 'base.json'), asList(base()));
  for (const c of HOSTILE_CASES) await writeFile(join(dir, `${c.id}.json`), asList(c.objects(env)));
  read = await readManifests(dir);
  table = RouteTable.open(`t-hostile-${process.pid}`);
});

after(async () => {
  table?.remove();
  table?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('hostile objects through the manifests source, as the API server would take them', () => {
  test('the healthy objects are taken as they are', () => {
    assert.deepEqual(read.problems.filter((p) => p.where.startsWith('base.json:')), []);
  });

  for (const c of HOSTILE_CASES) {
    test(`${c.id}: ${c.what}`, () => {
      const problems = read.problems.filter((p) => p.where.startsWith(`${c.id}.json:`));
      const keys = new Set(read.objects.map((o) => keyOf(o as unknown as Json)));
      const objects = c.objects(env);
      if ('refused' in c.expect && c.manifests === undefined) {
        assert.ok(problems.length > 0, 'refused');
        for (const p of problems) {
          assert.match(p.where, /^[^:]+\.json:\d+$/);
          assert.match(p.message, /; the API server (refuses|cannot decode) this object, so it is skipped$/);
        }
        const field = c.expect.refused;
        if (field) assert.ok(problems.some((p) => p.message.includes(`: ${field}: `)), `a problem names ${field}: ${JSON.stringify(problems.map((p) => p.message.slice(0, 300)))}`);
        else assert.ok(problems.some((p) => p.message.includes('cannot decode')), 'a decoding problem');
        // Skipped: not one object of the case reaches the cache.
        for (const o of objects) assert.ok(!keys.has(keyOf(o)), `${keyOf(o)} is not read`);
        return;
      }
      assert.deepEqual(problems.map((p) => `${p.where}: ${p.message.slice(0, 300)}`), [], 'taken as the API server takes it');
      for (const o of objects) {
        if (o.kind === 'Secret' && o.type !== 'kubernetes.io/tls') continue; // not ours: the source leaves it
        assert.ok(keys.has(keyOf(o)), `${keyOf(o)} is read`);
      }
    });
  }

  test('a refused object is named by the line of the field at fault', () => {
    const p = read.problems.find((x) => x.where.startsWith('host-upper.json:'));
    assert.ok(p);
    // The List's items[0].spec.rules[0].host line, as JSON.stringify(…, null, 2) lays it out.
    assert.equal(p.where, 'host-upper.json:16');
    assert.equal(p.message, 'Ingress e2e-hostile/h-host-upper: spec.rules[0].host: Invalid value: "Upper.Hostile.Test": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \'-\' or \'.\', and must start and end with an alphanumeric character (e.g. \'example.com\', regex used for validation is \'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\'); the API server refuses this object, so it is skipped');
  });
});

describe('hostile objects the API server takes, through the builder beside the healthy routes', () => {
  const config = buildConfig();
  const context = buildContext(Date.parse('2030-01-01T00:00:00Z'));
  for (const c of HOSTILE_CASES) {
    if ('refused' in c.expect) continue;
    const expect = c.expect;
    test(`${c.id}: ${'reported' in expect ? `reported on ${expect.reported}` : 'served as written'}; the healthy routes stay`, () => {
      const objects = c.objects(env);
      const all = [...base().map((o) => createdAt(o, '2024-01-01T00:00:00Z')), ...objects.map((o) => createdAt(o, '2024-06-01T00:00:00Z'))];
      const result = build(snapshotOf(all as unknown as KubeObject[]), config, context);
      assert.doesNotThrow(() => encodeModel(result.model.table), 'the table passes the writer\'s checks');
      const subject = subjectOf(c, objects);
      const meta = subject.metadata as Json;
      const mine = result.problems.filter((p) => p.kind === subject.kind && p.namespace === meta.namespace && p.name === meta.name);
      if ('reported' in expect) {
        assert.ok(mine.some((p) => p.field === expect.reported), `a problem on ${expect.reported}: ${JSON.stringify(mine.map((p) => `${p.field}: ${p.message.slice(0, 200)}`))}`);
        assert.ok(mine.every((p) => p.message.length < 2_000), 'messages are bounded');
      } else {
        assert.deepEqual(mine, []);
      }
      table.publish(result.model.table);
      const lookup = (host: string, path: string) => table.lookup(host, path);
      for (const r of HEALTHY_ROUTES) {
        const got = lookup(r.host, r.path);
        assert.equal(`${got.status} ${got.service}`, `200 ${env.ns}/${r.service}`, `healthy ${r.host}${r.path}`);
      }
      for (const p of c.probes ?? []) {
        const got = lookup(p.host, p.path);
        const reached = got.status === 200 && got.service === `${env.ns}/case`;
        assert.equal(reached, p.reaches === 'case', `${p.host}${p.path}: ${got.status} ${got.service ?? ''}`);
      }
    });
  }
});
