// Gateway and HTTPRoute status against a real API server with the Gateway
// API's standard-channel CRDs, written by the controller (leader, its
// ServiceAccount with the shipped RBAC) and read back as the conformance
// suite reads it: every condition and reason the controller writes, the
// revocation of a ReferenceGrant, a Route moved from one Gateway to another,
// another controller's parent entry kept, and no write once nothing changes.
// No ATS runs: without --ats-stats-url the published table counts as served.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { CONTROLLER_USER, startKube, type KubeCluster } from '../../test/harness/kube.js';
import { pollUntil } from '../../test/harness/poll.js';
import { buildConfig } from '../config/config.js';
import { Controller } from '../controller/controller.js';
import { kubernetesWiring } from '../controller/wiring.js';
import type { Condition, Gateway, HTTPRoute } from '../kube/types.js';
import { RouteTable } from '../route-table/route-table.js';
import { base64 } from '../testing/fixtures.js';
import { FIXTURE_CERT, FIXTURE_KEY } from '../testing/fixture-certs.js';
import { LEADER_RULES, PUBLISH_RULES, SOURCE_RULES, rbacManifest } from '../testing/kube-testkit.js';
import { recordingLogger } from '../testing/recording-logger.js';

const CONTROLLER = 'ats.ingress.kubernetes.io/gateway-controller';
let kube: KubeCluster;

before(
  async () => {
    kube = await startKube({ gatewayApiCrds: true });
    const r = await kube.kubectl(['apply', '-f', '-'], {
      input: rbacManifest({ name: 'ats-ingress', user: CONTROLLER_USER, clusterRules: [...SOURCE_RULES, ...PUBLISH_RULES], leaseNamespace: 'default', leaseRules: LEADER_RULES }),
    });
    assert.equal(r.code, 0, r.stderr);
  },
  { timeout: 10 * 60_000 },
);

after(async () => {
  await kube?.stop();
});

async function kubectl(args: string[], input?: string): Promise<void> {
  const r = await kube.kubectl(args, input !== undefined ? { input } : {});
  assert.equal(r.code, 0, r.stderr);
}

const TLS = `type: kubernetes.io/tls
data: { tls.crt: ${base64(FIXTURE_CERT)}, tls.key: ${base64(FIXTURE_KEY)} }`;

const OBJECTS = `
apiVersion: v1
kind: Namespace
metadata: { name: infra }
---
apiVersion: v1
kind: Namespace
metadata: { name: app }
---
apiVersion: v1
kind: Namespace
metadata: { name: db }
---
apiVersion: v1
kind: Namespace
metadata: { name: certs }
---
apiVersion: v1
kind: Secret
metadata: { name: cert, namespace: infra }
${TLS}
---
apiVersion: v1
kind: Secret
metadata: { name: cert, namespace: certs }
${TLS}
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: app }
spec: { ports: [{ name: http, port: 80 }] }
---
apiVersion: v1
kind: Service
metadata: { name: pg, namespace: db }
spec: { ports: [{ name: pg, port: 5432 }] }
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: { name: ats }
spec: { controllerName: ${CONTROLLER} }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: gw, namespace: infra }
spec:
  gatewayClassName: ats
  listeners:
  - { name: http, port: 80, protocol: HTTP, allowedRoutes: { namespaces: { from: All } } }
  - { name: https, port: 443, protocol: HTTPS, hostname: secure.example.test, tls: { certificateRefs: [{ name: cert }] }, allowedRoutes: { namespaces: { from: All } } }
  - { name: missing-cert, port: 443, protocol: HTTPS, hostname: missing.example.test, tls: { certificateRefs: [{ name: nope }] } }
  - { name: cross-cert, port: 443, protocol: HTTPS, hostname: cross.example.test, tls: { certificateRefs: [{ name: cert, namespace: certs }] } }
  - { name: odd-port, port: 8080, protocol: HTTP }
  - { name: tcp, port: 9000, protocol: TCP }
  - { name: kinds, port: 80, protocol: HTTP, hostname: kinds.example.test, allowedRoutes: { namespaces: { from: All }, kinds: [{ kind: GRPCRoute }] } }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: conflict, namespace: infra }
spec:
  gatewayClassName: ats
  listeners:
  - { name: plain, port: 80, protocol: HTTP }
  - { name: secure, port: 80, protocol: HTTPS, tls: { certificateRefs: [{ name: cert }] } }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: gw2, namespace: infra }
spec:
  gatewayClassName: ats
  listeners: [{ name: http, port: 80, protocol: HTTP, allowedRoutes: { namespaces: { from: All } } }]
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: { name: allow, namespace: db }
spec:
  from: [{ group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: app }]
  to: [{ group: "", kind: Service }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: web, namespace: app }
spec:
  parentRefs: [{ name: gw, namespace: infra, sectionName: http }]
  rules: [{ backendRefs: [{ name: web, port: 80 }] }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: missing, namespace: app }
spec:
  parentRefs: [{ name: gw, namespace: infra, sectionName: http }]
  rules: [{ backendRefs: [{ name: gone, port: 80 }] }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: kind, namespace: app }
spec:
  parentRefs: [{ name: gw, namespace: infra, sectionName: http }]
  rules: [{ backendRefs: [{ group: example.com, kind: Bucket, name: b }] }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: cross, namespace: app }
spec:
  parentRefs: [{ name: gw, namespace: infra, sectionName: http }]
  rules: [{ backendRefs: [{ name: pg, namespace: db, port: 5432 }] }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: nosection, namespace: app }
spec:
  parentRefs: [{ name: gw, namespace: infra, sectionName: nope }]
  rules: [{ backendRefs: [{ name: web, port: 80 }] }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: hostname, namespace: app }
spec:
  parentRefs: [{ name: gw, namespace: infra, sectionName: https }]
  hostnames: [www.other.example]
  rules: [{ backendRefs: [{ name: web, port: 80 }] }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: notallowed, namespace: app }
spec:
  parentRefs: [{ name: gw, namespace: infra, sectionName: kinds }]
  rules: [{ backendRefs: [{ name: web, port: 80 }] }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: moving, namespace: app }
spec:
  parentRefs: [{ name: gw, namespace: infra, sectionName: http }]
  rules: [{ backendRefs: [{ name: web, port: 80 }] }]
`;

const conds = (list: readonly Condition[] | undefined) => Object.fromEntries((list ?? []).map((c) => [c.type, `${c.status}/${c.reason}`]));

async function getGateway(name: string): Promise<Gateway> {
  const r = await kube.request<Gateway>('GET', `/apis/gateway.networking.k8s.io/v1/namespaces/infra/gateways/${name}`);
  assert.equal(r.status, 200, r.text);
  return r.body;
}

async function getRoute(name: string): Promise<HTTPRoute> {
  const r = await kube.request<HTTPRoute>('GET', `/apis/gateway.networking.k8s.io/v1/namespaces/app/httproutes/${name}`);
  assert.equal(r.status, 200, r.text);
  return r.body;
}

/** Every condition of the object (and of its listeners or our parents) carries its generation. */
function current(generation: number | undefined, lists: Array<readonly Condition[] | undefined>): boolean {
  return lists.every((l) => (l ?? []).length > 0 && (l ?? []).every((c) => c.observedGeneration === generation));
}

const gatewayWritten = (g: Gateway) => current(g.metadata.generation, [g.status?.conditions, ...(g.status?.listeners ?? []).map((l) => l.conditions)]) && conds(g.status?.conditions).Accepted !== 'Unknown/Pending';
const ours = (r: HTTPRoute) => (r.status?.parents ?? []).filter((p) => p.controllerName === CONTROLLER);
const routeWritten = (r: HTTPRoute) => ours(r).length > 0 && current(r.metadata.generation, ours(r).map((p) => p.conditions));

describe('Gateway API status written by the controller', () => {
  test('every condition, a revoked ReferenceGrant, a Route moved between Gateways, theirs kept, no write once settled', { timeout: 5 * 60_000 }, async () => {
    await kubectl(['apply', '-f', '-'], OBJECTS);
    // Another controller's entry, there before ours.
    const theirs = { parentRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'infra', name: 'elsewhere' }, controllerName: 'example.com/other', conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: 'theirs', lastTransitionTime: '2025-01-01T00:00:00Z' }] };
    const p = await kube.request('PATCH', '/apis/gateway.networking.k8s.io/v1/namespaces/app/httproutes/web/status', { status: { parents: [theirs] } });
    assert.equal(p.status, 200, p.text);

    const table = `t-gwstatus-${process.pid}`;
    const logs = recordingLogger();
    const config = buildConfig();
    const wiring = await kubernetesWiring({ kubeconfig: kube.kubeconfig('controller'), namespaces: [], leaderElectionNamespace: 'default', publishAddresses: [], build: config }, logs.logger);
    const controller = new Controller({ ...wiring, table, build: config, logger: logs.logger, holdMs: 10, coalesceMs: 5 });
    const t0 = Date.now();
    await controller.start();
    const context = () => logs.lines.map((l) => `${l.level} ${l.msg} ${JSON.stringify(l.fields ?? {}, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`).join('\n');
    try {
      const gw = (await pollUntil('Gateway infra/gw written and Programmed', () => getGateway('gw'), (g) => gatewayWritten(g) && conds(g.status?.conditions).Programmed === 'True/Programmed', { timeoutMs: 20_000, intervalMs: 100, context })).value;
      console.log(`# Gateway status written ${Date.now() - t0} ms after the controller started`);
      assert.deepEqual(conds(gw.status?.conditions), { Accepted: 'True/ListenersNotValid', Programmed: 'True/Programmed' });
      // Created in the same second: by namespace/name, infra/conflict first.
      assert.deepEqual(gw.status?.addresses, [{ type: 'IPAddress', value: '127.0.1.2' }]);
      const listeners = Object.fromEntries((gw.status?.listeners ?? []).map((l) => [l.name, { kinds: l.supportedKinds.map((k) => k.kind), attached: l.attachedRoutes, ...conds(l.conditions) }]));
      assert.deepEqual(Object.keys(listeners), ['http', 'https', 'missing-cert', 'cross-cert', 'odd-port', 'tcp', 'kinds'], 'one entry per listener, in spec order');
      const ok = { Accepted: 'True/Accepted', Programmed: 'True/Programmed', ResolvedRefs: 'True/ResolvedRefs', Conflicted: 'False/NoConflicts' };
      assert.deepEqual(listeners['http'], { kinds: ['HTTPRoute'], attached: 5, ...ok }, 'web, missing, kind, cross and moving: accepted Routes, whatever their backends');
      assert.deepEqual(listeners['https'], { kinds: ['HTTPRoute'], attached: 0, ...ok }, 'the Route whose hostname does not intersect is not counted');
      assert.deepEqual(listeners['missing-cert'], { kinds: ['HTTPRoute'], attached: 0, Accepted: 'True/Accepted', Programmed: 'False/Invalid', ResolvedRefs: 'False/InvalidCertificateRef', Conflicted: 'False/NoConflicts' });
      assert.deepEqual(listeners['cross-cert'], { kinds: ['HTTPRoute'], attached: 0, Accepted: 'True/Accepted', Programmed: 'False/Invalid', ResolvedRefs: 'False/RefNotPermitted', Conflicted: 'False/NoConflicts' });
      assert.deepEqual(listeners['odd-port'], { kinds: ['HTTPRoute'], attached: 0, Accepted: 'False/PortUnavailable', Programmed: 'False/Invalid', ResolvedRefs: 'True/ResolvedRefs', Conflicted: 'False/NoConflicts' });
      assert.deepEqual(listeners['tcp'], { kinds: [], attached: 0, Accepted: 'False/UnsupportedProtocol', Programmed: 'False/Invalid', ResolvedRefs: 'True/ResolvedRefs', Conflicted: 'False/NoConflicts' });
      assert.deepEqual(listeners['kinds'], { kinds: [], attached: 0, Accepted: 'True/Accepted', Programmed: 'True/Programmed', ResolvedRefs: 'False/InvalidRouteKinds', Conflicted: 'False/NoConflicts' });

      const conflict = (await pollUntil('Gateway infra/conflict written', () => getGateway('conflict'), gatewayWritten, { timeoutMs: 10_000, intervalMs: 100, context })).value;
      assert.deepEqual(conds(conflict.status?.conditions), { Accepted: 'False/ListenersNotValid', Programmed: 'False/Invalid' });
      assert.deepEqual(conflict.status?.addresses, [{ type: 'IPAddress', value: '127.0.1.1' }]);
      for (const l of conflict.status?.listeners ?? []) assert.deepEqual(conds(l.conditions), { Accepted: 'False/ProtocolConflict', Programmed: 'False/Invalid', ResolvedRefs: 'True/ResolvedRefs', Conflicted: 'True/ProtocolConflict' }, l.name);

      const want: Record<string, Record<string, string>> = {
        web: { Accepted: 'True/Accepted', ResolvedRefs: 'True/ResolvedRefs' },
        missing: { Accepted: 'True/Accepted', ResolvedRefs: 'False/BackendNotFound' },
        kind: { Accepted: 'True/Accepted', ResolvedRefs: 'False/InvalidKind' },
        cross: { Accepted: 'True/Accepted', ResolvedRefs: 'True/ResolvedRefs' },
        nosection: { Accepted: 'False/NoMatchingParent', ResolvedRefs: 'True/ResolvedRefs' },
        hostname: { Accepted: 'False/NoMatchingListenerHostname', ResolvedRefs: 'True/ResolvedRefs' },
        notallowed: { Accepted: 'False/NotAllowedByListeners', ResolvedRefs: 'True/ResolvedRefs' },
        moving: { Accepted: 'True/Accepted', ResolvedRefs: 'True/ResolvedRefs' },
      };
      for (const [name, conditions] of Object.entries(want)) {
        const r = (await pollUntil(`HTTPRoute app/${name} written`, () => getRoute(name), routeWritten, { timeoutMs: 10_000, intervalMs: 100, context })).value;
        const [parent, ...more] = ours(r);
        assert.equal(more.length, 0, name);
        assert.deepEqual(conds(parent!.conditions), conditions, name);
        const section = name === 'nosection' ? 'nope' : name === 'hostname' ? 'https' : name === 'notallowed' ? 'kinds' : 'http';
        assert.deepEqual(parent!.parentRef, { group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'infra', name: 'gw', sectionName: section }, name);
      }
      const web = await getRoute('web');
      assert.deepEqual(web.status?.parents?.[0], theirs, "another controller's entry is kept as it was");

      // Settled: nothing is written again.
      const rvs = async () => [(await getGateway('gw')).metadata.resourceVersion, (await getRoute('web')).metadata.resourceVersion, (await getRoute('cross')).metadata.resourceVersion];
      const settled = await rvs();
      await new Promise((r) => setTimeout(r, 1_500));
      assert.deepEqual(await rvs(), settled, 'no write once the status holds');

      // "MUST respond to the removal of a grant by revoking the access that the grant allowed".
      const t1 = Date.now();
      await kubectl(['delete', 'referencegrant', '-n', 'db', 'allow']);
      await pollUntil('HTTPRoute app/cross ResolvedRefs=False/RefNotPermitted', () => getRoute('cross'), (r) => conds(ours(r)[0]?.conditions).ResolvedRefs === 'False/RefNotPermitted', { timeoutMs: 10_000, intervalMs: 50, context });
      console.log(`# ReferenceGrant deleted: RefNotPermitted on the Route ${Date.now() - t1} ms later`);

      // A Route moved from gw to gw2: the new parent only, each Gateway counting it right.
      const t2 = Date.now();
      await kubectl(['patch', 'httproute', '-n', 'app', 'moving', '--type=merge', '-p', JSON.stringify({ spec: { parentRefs: [{ name: 'gw2', namespace: 'infra' }] } })]);
      const moved = (await pollUntil('HTTPRoute app/moving on gw2', () => getRoute('moving'), (r) => routeWritten(r) && ours(r).length === 1 && ours(r)[0]!.parentRef.name === 'gw2', { timeoutMs: 10_000, intervalMs: 50, context })).value;
      assert.equal(moved.metadata.generation, 2);
      assert.deepEqual(conds(ours(moved)[0]!.conditions), { Accepted: 'True/Accepted', ResolvedRefs: 'True/ResolvedRefs' });
      assert.deepEqual(ours(moved)[0]!.parentRef, { group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'infra', name: 'gw2' });
      await pollUntil('gw counts 4 Routes, gw2 one', async () => [(await getGateway('gw')).status?.listeners?.[0]?.attachedRoutes, (await getGateway('gw2')).status?.listeners?.[0]?.attachedRoutes], (v) => v[0] === 4 && v[1] === 1, { timeoutMs: 10_000, intervalMs: 50, context });
      console.log(`# Route moved: both Gateways and the Route updated ${Date.now() - t2} ms after the patch`);

      // A Gateway's generation moves: every condition follows it.
      await kubectl(['patch', 'gateway', '-n', 'infra', 'gw2', '--type=merge', '-p', JSON.stringify({ spec: { listeners: [{ name: 'http', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } }, { name: 'more', port: 80, protocol: 'HTTP', hostname: 'more.example.test' }] } })]);
      const gw2 = (await pollUntil('gw2 at generation 2', () => getGateway('gw2'), (g) => g.metadata.generation === 2 && gatewayWritten(g) && conds(g.status?.conditions).Programmed === 'True/Programmed', { timeoutMs: 10_000, intervalMs: 50, context })).value;
      assert.deepEqual(gw2.status?.listeners?.map((l) => l.name), ['http', 'more']);
      // The problems of the objects are logged at error; nothing else is.
      assert.equal(logs.lines.filter((l) => l.level === 'error' && l.fields?.['object'] === undefined).length, 0, context());
    } finally {
      await controller.stop();
      const rt = RouteTable.open(table);
      rt.remove();
      rt.close();
    }
  });
});
