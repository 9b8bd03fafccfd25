// The manifests source reads objects as the API server would take them: a
// document it would refuse is skipped with a problem naming the file, the
// line of the field and the field; the others are read.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { KubeObject } from '../kube/types.js';
import { silentLogger } from '../observe/logger.js';
import { listItemOffsets, ManifestSource, readManifests, withImplicitNamespaces } from './manifests.js';
import type { SourceEvent } from './source.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'atsi-manifests-'));
});
after(async () => rm(dir, { recursive: true, force: true }));

async function readOne(name: string, text: string) {
  await rm(dir, { recursive: true, force: true });
  await import('node:fs/promises').then((fs) => fs.mkdir(dir));
  await writeFile(join(dir, name), text);
  return readManifests(dir);
}

const INGRESS = (host: string, extra = '') => `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web${extra}
spec:
  ingressClassName: ats
  rules:
  - host: ${host}
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: web
            port:
              number: 80
`;

describe('the manifests source validates as the API server does', () => {
  test('the shipped manifests (k8s/) are all taken', async () => {
    const read = await readManifests(join(ROOT, 'k8s'));
    assert.deepEqual(read.problems, []);
    assert.ok(read.objects.length > 0);
  });

  test('a refused document is skipped, named by file, the line of the field and the field; the next one is read', async () => {
    const read = await readOne('ingresses.yaml', `${INGRESS('Bad.Host')}---\n${INGRESS('good.example.com', '-2')}`);
    assert.deepEqual(read.objects.map((o) => `${o.metadata.namespace}/${o.metadata.name}`), ['default/web-2']);
    assert.equal(read.problems.length, 1);
    assert.equal(read.problems[0]!.where, 'ingresses.yaml:8');
    assert.match(read.problems[0]!.message, /^Ingress default\/web: spec\.rules\[0\]\.host: Invalid value: "Bad\.Host": a lowercase RFC 1123 subdomain .*; the API server refuses this object, so it is skipped$/);
  });

  test('a missing field is named by the line of the nearest field that is there', async () => {
    const read = await readOne('x.yaml', INGRESS('a.example.com').replace('        pathType: Prefix\n', ''));
    assert.deepEqual(read.problems.map((p) => `${p.where} ${p.message.split(';')[0]}`), ['x.yaml:11 Ingress default/web: spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified']);
  });

  test('an unquoted number as an annotation value cannot be decoded, as with kubectl apply', async () => {
    const read = await readOne('x.yaml', INGRESS('a.example.com').replace('  name: web\n', '  name: web\n  annotations:\n    ats.ingress.kubernetes.io/cache-generation: 2\n'));
    assert.deepEqual(read.problems.map((p) => p.where), ['x.yaml:6']);
    assert.match(read.problems[0]!.message, /metadata\.annotations\[ats\.ingress\.kubernetes\.io\/cache-generation\]: Invalid value: 2: must be a string, not number .*the API server cannot decode this object, so it is skipped$/);
  });

  test('each error of a List item is named by its own line', async () => {
    const list = {
      apiVersion: 'v1',
      kind: 'List',
      items: [
        { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ok', namespace: 'ns' }, spec: { ports: [{ port: 80 }] } },
        { apiVersion: 'v1', kind: 'Service', metadata: { name: 'Bad', namespace: 'ns' }, spec: { ports: [{ port: 80 }, { name: 'b', port: 0 }] } },
      ],
    };
    const read = await readOne('list.json', JSON.stringify(list, null, 2));
    assert.deepEqual(read.objects.map((o) => o.metadata.name), ['ok']);
    assert.deepEqual(read.problems.map((p) => `${p.where} ${p.message.split(';')[0]!.split(': ').slice(1, 3).join(': ')}`), [
      'list.json:24 metadata.name: Invalid value',
      'list.json:29 spec.ports[0].name: Required value',
      'list.json:34 spec.ports[1].port: Invalid value',
    ]);
  });

  test('a List item that is refused whole is named by the line it begins on, pretty or on one line', async () => {
    const items = [
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'a', namespace: 'ns', annotations: { x: '}]{["\\' } }, spec: { ports: [{ port: 80 }] } },
      { apiVersion: 'v1', metadata: { name: 'no-kind' } },
      { apiVersion: 'v2', kind: 'Service', metadata: { name: 'b', namespace: 'ns' } },
    ];
    const text = `\n${JSON.stringify({ kind: 'List', apiVersion: 'v1', metadata: { items: [] }, items }, null, 2)}\n`;
    const lines = text.split('\n');
    // 2-space indents: the items begin on the lines that are '    {'; item 2's apiVersion follows its brace.
    const starts = lines.flatMap((l, i) => (l === '    {' ? [i + 1] : []));
    assert.equal(starts.length, 3);
    const pretty = await readOne('list.json', text);
    assert.deepEqual(pretty.objects.map((o) => o.metadata.name), ['a']);
    assert.deepEqual(pretty.problems.map((p) => `${p.where} ${p.message.split(';')[0]}`), [`list.json:${starts[1]} kind is missing`, `list.json:${starts[2]! + 1} Service: apiVersion "v2" is not supported`]);
    const flat = await readOne('list.json', JSON.stringify({ kind: 'List', apiVersion: 'v1', items }));
    assert.deepEqual(flat.problems.map((p) => p.where), ['list.json:1', 'list.json:1']);
  });

  test('the items of a List are found where they begin, whatever their strings hold', () => {
    const list = { kind: 'List', metadata: { items: ['x'] }, note: 'items: [', items: [{ a: '}]", \\' }, 7, 'b', [1, [2]], null, { items: [3] }] };
    for (const text of [JSON.stringify(list), JSON.stringify(list, null, 2)]) {
      const offsets = listItemOffsets(text)!;
      assert.equal(offsets.length, list.items.length);
      // Each item's text (its first line, pretty-printed) begins at its offset.
      offsets.forEach((o, i) => assert.ok(text.startsWith(JSON.stringify(list.items[i], null, text.includes('\n') ? 2 : undefined).split('\n')[0]!, o), `item ${i} at ${o}`));
    }
    assert.deepEqual(listItemOffsets(JSON.stringify({ kind: 'List', items: [] })), []);
    assert.equal(listItemOffsets(JSON.stringify({ kind: 'Service', spec: { items: [1] } })), undefined);
  });

  test('a namespace on a cluster-scoped object is dropped, as the API server drops it', async () => {
    const read = await readOne('class.yaml', 'apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata:\n  name: ats\n  namespace: whatever\nspec:\n  controller: ats.ingress.kubernetes.io/controller\n');
    assert.deepEqual(read.problems, []);
    assert.equal(read.objects[0]?.metadata.namespace, undefined);
  });

  test('Gateway API objects: taken with their CRD defaults, refused by their CRD rules, ReferenceGrant in v1beta1 or v1', async () => {
    const read = await readOne(
      'gw.yaml',
      `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: web
  namespace: app
spec:
  parentRefs:
  - name: gw
    namespace: infra
  rules:
  - backendRefs:
    - name: web
      port: 80
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: bad
  namespace: app
spec:
  parentRefs:
  - name: gw
  hostnames:
  - Bad.example.com
---
apiVersion: gateway.networking.k8s.io/v1
kind: ReferenceGrant
metadata:
  name: allow
  namespace: svc
spec:
  from:
  - group: gateway.networking.k8s.io
    kind: HTTPRoute
    namespace: app
  to:
  - group: ""
    kind: Service
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: Gateway
metadata:
  name: old
spec:
  gatewayClassName: ats
  listeners: []
`,
    );
    assert.deepEqual(read.objects.map((o) => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`), ['HTTPRoute app/web', 'ReferenceGrant svc/allow']);
    const web = read.objects[0] as any;
    assert.deepEqual(web.spec.rules[0].matches, [{ path: { type: 'PathPrefix', value: '/' } }], 'the CRD default');
    assert.equal(web.spec.rules[0].backendRefs[0].weight, 1);
    assert.equal((read.objects[1] as any).apiVersion, 'gateway.networking.k8s.io/v1beta1', 'read as the source lists it');
    assert.deepEqual(
      read.problems.map((p) => `${p.where}: ${p.message}`),
      [
        "gw.yaml:24: HTTPRoute app/bad: spec.hostnames[0]: Invalid value: \"Bad.example.com\": spec.hostnames[0] in body should match '^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'; the API server refuses this object, so it is skipped",
        'gw.yaml:40: Gateway: apiVersion "gateway.networking.k8s.io/v1alpha2" is not supported; use gateway.networking.k8s.io/v1',
      ],
    );
  });
});

const NAMESPACES = `apiVersion: v1
kind: Namespace
metadata:
  name: backend
  labels:
    gateway-conformance: backend
    kubernetes.io/metadata.name: something-else
---
apiVersion: v1
kind: Namespace
metadata:
  name: Bad
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: app
spec:
  ports:
  - port: 80
`;

describe('Namespaces in manifests, as a cluster has them', () => {
  test('a Namespace is checked as the API server checks it and labelled kubernetes.io/metadata.name: its name, as the API server labels it', async () => {
    const read = await readOne('ns.yaml', NAMESPACES);
    assert.deepEqual(read.objects.filter((o) => o.kind === 'Namespace').map((o) => [o.metadata.name, o.metadata.labels]), [
      ['backend', { 'gateway-conformance': 'backend', 'kubernetes.io/metadata.name': 'backend' }],
    ]);
    assert.deepEqual(read.problems.map((p) => `${p.where} ${p.message.split(': ').slice(0, 3).join(': ')}`), ['ns.yaml:12 Namespace Bad: metadata.name: Invalid value']);
  });

  test('a namespace that objects are in and no manifest defines gets a Namespace with only kubernetes.io/metadata.name', () => {
    const objects: KubeObject[] = [
      { kind: 'Namespace', metadata: { name: 'backend', labels: { 'kubernetes.io/metadata.name': 'backend', team: 'b' } } },
      { kind: 'Service', metadata: { name: 'web', namespace: 'app' } },
      { kind: 'Service', metadata: { name: 'db', namespace: 'backend' } },
      { kind: 'Service', metadata: { name: 'x' } },
      { kind: 'IngressClass', metadata: { name: 'ats' } },
    ];
    assert.deepEqual(withImplicitNamespaces(objects).filter((o) => o.kind === 'Namespace').map((o) => [o.metadata.name, o.metadata.labels]), [
      ['backend', { 'kubernetes.io/metadata.name': 'backend', team: 'b' }],
      ['app', { 'kubernetes.io/metadata.name': 'app' }],
      ['default', { 'kubernetes.io/metadata.name': 'default' }],
    ]);
  });

  test('the source hands the loop the Namespaces read and the implicit ones', async () => {
    await readOne('ns.yaml', NAMESPACES);
    const events: SourceEvent[] = [];
    const source = new ManifestSource({ dir, logger: silentLogger, watch: false });
    await source.start((e) => events.push(...e));
    await source.stop();
    const replace = events.find((e) => e.type === 'replace' && e.kind === 'Namespace');
    assert.ok(replace?.type === 'replace');
    assert.deepEqual(replace.objects.map((o) => [o.metadata.name, o.metadata.labels?.['kubernetes.io/metadata.name']]), [['backend', 'backend'], ['app', 'app']]);
  });
});

