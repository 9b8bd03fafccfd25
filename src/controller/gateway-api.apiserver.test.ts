// The controller against a real API server, first without the Gateway API's
// CRDs (it serves Ingresses and says once that they are missing), then with
// the standard-channel CRDs installed by the harness while it runs (it lists
// and watches GatewayClass, Gateway, HTTPRoute and ReferenceGrant, and a
// created HTTPRoute reaches the cache), as the controller's ServiceAccount
// with the shipped RBAC rules; a listener that selects namespaces by label
// follows a Namespace's relabelling.
import { SUPPORTED_FEATURES } from '../model/gateway/class-status.js';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { CONTROLLER_USER, endpointAddress, startKube, type KubeCluster } from '../../test/harness/kube.js';
import { buildConfig } from '../config/config.js';
import type { Snapshot } from '../cache/snapshot.js';
import { RouteTable } from '../route-table/route-table.js';
import { KubernetesSource, ROUTING_KINDS } from '../sources/kubernetes.js';
import { LEADER_RULES, PUBLISH_RULES, SOURCE_RULES, rbacManifest, waitFor } from '../testing/kube-testkit.js';
import { recordingLogger } from '../testing/recording-logger.js';
import { Controller } from './controller.js';
import { kubernetesWiring } from './wiring.js';

let kube: KubeCluster;

before(
  async () => {
    kube = await startKube();
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

async function apply(yaml: string): Promise<void> {
  const r = await kube.kubectl(['apply', '-f', '-'], { input: yaml });
  assert.equal(r.code, 0, r.stderr);
}

const APP = (address: string) => `
apiVersion: v1
kind: Namespace
metadata: { name: app }
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: { name: ats }
spec: { controller: ats.ingress.kubernetes.io/controller }
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: app }
spec: { ports: [{ name: http, port: 80, targetPort: 8080 }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: web-a, namespace: app, labels: { kubernetes.io/service-name: web, endpointslice.kubernetes.io/managed-by: tests } }
addressType: IPv4
ports: [{ name: http, port: 8080, protocol: TCP }]
endpoints: [{ addresses: ["${address}"], conditions: { ready: true } }]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: web, namespace: app }
spec:
  ingressClassName: ats
  rules:
  - host: ingress.example.test
    http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: web, port: { number: 80 } } } }] }
`;

const GATEWAY_API = `
apiVersion: v1
kind: Namespace
metadata: { name: infra }
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: { name: ats }
spec: { controllerName: ats.ingress.kubernetes.io/gateway-controller }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: gw, namespace: infra }
spec:
  gatewayClassName: ats
  listeners: [{ name: http, port: 80, protocol: HTTP, allowedRoutes: { namespaces: { from: All } } }]
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: { name: from-infra, namespace: app }
spec:
  from: [{ group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: infra }]
  to: [{ group: "", kind: Service }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: web, namespace: app }
spec:
  parentRefs: [{ name: gw, namespace: infra }]
  hostnames: [gateway.example.test]
  rules: [{ backendRefs: [{ name: web, port: 80 }] }]
`;

describe('the controller and the Gateway API CRDs', () => {
  test('without the CRDs: Ingresses served, said once; the CRDs installed later: the four kinds listed and watched', { timeout: 5 * 60_000 }, async () => {
    await apply(APP(endpointAddress()));
    const table = `t-gwapi-${process.pid}`;
    const logs = recordingLogger();
    const source = new KubernetesSource({ kubeconfig: kube.kubeconfig('controller'), namespaces: [], kinds: ROUTING_KINDS, crdRecheckMs: 500, logger: logs.logger });
    let snapshot: (() => Snapshot) | undefined;
    const controller = new Controller({
      source,
      table,
      build: buildConfig(),
      logger: logs.logger,
      holdMs: 10,
      coalesceMs: 5,
      extraPublishers: (ctx) => {
        snapshot = ctx.snapshot;
        return [];
      },
    });
    const t0 = Date.now();
    await controller.start();
    const reader = RouteTable.open(table);
    try {
      console.log(`# controller started without the CRDs in ${Date.now() - t0} ms`);
      assert.equal(reader.lookup('ingress.example.test', '/').service, 'app/web', 'the Ingress is served');
      const missing = () => logs.lines.filter((l) => /Gateway API CRDs are not installed/.test(l.msg));
      assert.equal(missing().length, 1, logs.lines.map((l) => `${l.level} ${l.msg}`).join('\n'));
      assert.equal(missing()[0]!.level, 'warn');
      const health = controller.healthz();
      assert.equal(health.ok, true);
      const src = (health.detail as { source: { notes?: string[]; watches: Array<{ kind: string; state: string }> } }).source;
      assert.equal(src.notes?.length, 1);
      assert.match(src.notes![0]!, /GatewayClass, Gateway, HTTPRoute, ReferenceGrant not watched .* listed again every 500 ms; Ingresses are served/);
      assert.deepEqual(src.watches.filter((w) => w.state === 'absent').map((w) => w.kind).sort(), ['Gateway', 'GatewayClass', 'HTTPRoute', 'ReferenceGrant']);
      // Re-checks say nothing more.
      await new Promise((res) => setTimeout(res, 1_200));
      assert.equal(missing().length, 1, 'said once');

      const t1 = Date.now();
      await kube.installGatewayApiCrds();
      console.log(`# CRDs installed and served in ${Date.now() - t1} ms`);
      await waitFor('the four kinds watched', () => source.health().watches.every((w) => w.state === 'watching'), 20_000, 50);
      assert.equal(controller.healthz().detail && (controller.healthz().detail as { source: { notes?: string[] } }).source.notes, undefined);
      const t2 = Date.now();
      await apply(GATEWAY_API);
      const routes = await waitFor('the HTTPRoute in the cache', () => {
        const r = snapshot?.().httpRoutes.get('app/web');
        return r && snapshot?.().gateways.has('infra/gw') && snapshot().gatewayClasses.has('ats') && snapshot().referenceGrants.has('app/from-infra') ? r : undefined;
      }, 20_000, 20);
      console.log(`# GatewayClass, Gateway, ReferenceGrant and HTTPRoute in the cache ${Date.now() - t2} ms after kubectl apply began`);
      assert.deepEqual(routes.spec.hostnames, ['gateway.example.test']);
      assert.equal(routes.spec.rules?.[0]?.backendRefs?.[0]?.weight, 1, 'the API server applied the CRD default');
      assert.equal(missing().length, 1);
      assert.ok(logs.lines.some((l) => /HTTPRoute is served now/.test(l.msg)));
      assert.equal(reader.lookup('ingress.example.test', '/').service, 'app/web', 'the Ingress still served');
      assert.equal(logs.lines.filter((l) => l.level === 'error').length, 0, logs.lines.map((l) => `${l.level} ${l.msg}`).join('\n'));
    } finally {
      await controller.stop();
      reader.remove();
      reader.close();
    }
  });

  test('GatewayClass status: the leader writes Accepted with the observedGeneration of ours only, again when the generation moves', { timeout: 5 * 60_000 }, async () => {
    await kube.installGatewayApiCrds();
    await apply(`
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: { name: ours }
spec: { controllerName: ats.ingress.kubernetes.io/gateway-controller }
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: { name: theirs }
spec: { controllerName: example.com/another-controller }
`);
    const table = `t-gwclass-${process.pid}`;
    const logs = recordingLogger();
    const wiring = await kubernetesWiring({ kubeconfig: kube.kubeconfig('controller'), namespaces: [], leaderElectionNamespace: 'default', publishAddresses: [], build: buildConfig() }, logs.logger);
    const controller = new Controller({ ...wiring, table, build: buildConfig(), logger: logs.logger, holdMs: 10, coalesceMs: 5 });
    await controller.start();
    try {
      type Cls = { metadata: { generation: number }; status?: { conditions?: Array<{ type: string; status: string; reason: string; observedGeneration?: number; lastTransitionTime: string }>; supportedFeatures?: Array<{ name: string }> } };
      const get = async (name: string) => (await kube.request<Cls>('GET', `/apis/gateway.networking.k8s.io/v1/gatewayclasses/${name}`)).body;
      const accepted = async (name: string, generation: number) => {
        const c = await get(name);
        const a = c.status?.conditions?.find((x) => x.type === 'Accepted');
        return a && a.status === 'True' && a.observedGeneration === generation ? a : undefined;
      };
      const t0 = Date.now();
      let a = await waitForAsync('Accepted on ours, generation 1', () => accepted('ours', 1));
      console.log(`# GatewayClass Accepted written ${Date.now() - t0} ms after the controller started`);
      assert.equal(a.reason, 'Accepted');
      assert.match(a.lastTransitionTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      // The API server kept what we wrote: the features, sorted (the CRD's own rule).
      assert.deepEqual((await get('ours')).status?.supportedFeatures?.map((f) => f.name), [...SUPPORTED_FEATURES]);
      const theirs = await get('theirs');
      assert.equal(theirs.status?.supportedFeatures, undefined);
      assert.ok(!(theirs.status?.conditions ?? []).some((c) => c.reason === 'Accepted' && c.status === 'True'), 'another controller\'s class is left alone');

      const r = await kube.request('PATCH', '/apis/gateway.networking.k8s.io/v1/gatewayclasses/ours', { spec: { description: 'changed' } });
      assert.equal(r.status, 200, r.text);
      assert.equal((r.body as Cls).metadata.generation, 2);
      a = await waitForAsync('Accepted on ours, generation 2', () => accepted('ours', 2));
      assert.equal(logs.lines.filter((l) => l.level === 'error').length, 0, logs.lines.map((l) => `${l.level} ${l.msg}`).join('\n'));
    } finally {
      await controller.stop();
      const rt = RouteTable.open(table);
      rt.remove();
      rt.close();
    }
  });

  test('allowedRoutes From Selector: a Route in a namespace labelled to match is Accepted, NotAllowedByListeners once relabelled, Accepted again', { timeout: 5 * 60_000 }, async () => {
    await kube.installGatewayApiCrds();
    await apply(`
apiVersion: v1
kind: Namespace
metadata: { name: sel-infra }
---
apiVersion: v1
kind: Namespace
metadata: { name: sel-app, labels: { team: web } }
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: sel-app }
spec: { ports: [{ name: http, port: 80 }] }
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: { name: sel }
spec: { controllerName: ats.ingress.kubernetes.io/gateway-controller }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: gw, namespace: sel-infra }
spec:
  gatewayClassName: sel
  listeners: [{ name: http, port: 80, protocol: HTTP, allowedRoutes: { namespaces: { from: Selector, selector: { matchExpressions: [{ key: team, operator: In, values: [web] }] } } } }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: web, namespace: sel-app }
spec:
  parentRefs: [{ name: gw, namespace: sel-infra }]
  rules: [{ backendRefs: [{ name: web, port: 80 }] }]
`);
    const table = `t-gwsel-${process.pid}`;
    const logs = recordingLogger();
    const wiring = await kubernetesWiring({ kubeconfig: kube.kubeconfig('controller'), namespaces: [], leaderElectionNamespace: 'default', publishAddresses: [], build: buildConfig() }, logs.logger);
    const controller = new Controller({ ...wiring, table, build: buildConfig(), logger: logs.logger, holdMs: 10, coalesceMs: 5 });
    await controller.start();
    try {
      type Route = { metadata: { generation: number }; status?: { parents?: Array<{ controllerName: string; parentRef: { name: string }; conditions?: Array<{ type: string; status: string; reason: string }> }> } };
      const accepted = async () => {
        const r = (await kube.request<Route>('GET', '/apis/gateway.networking.k8s.io/v1/namespaces/sel-app/httproutes/web')).body;
        const c = r.status?.parents?.find((p) => p.controllerName === 'ats.ingress.kubernetes.io/gateway-controller')?.conditions?.find((x) => x.type === 'Accepted');
        return c ? `${c.status}/${c.reason}` : undefined;
      };
      const until = (want: string) => waitForAsync(`Accepted ${want}`, async () => ((await accepted()) === want ? want : undefined));
      const t0 = Date.now();
      await until('True/Accepted');
      console.log(`# Route in a selected namespace Accepted ${Date.now() - t0} ms after the controller started`);
      const relabel = async (team: string) => {
        const r = await kube.kubectl(['label', 'namespace', 'sel-app', `team=${team}`, '--overwrite']);
        assert.equal(r.code, 0, r.stderr);
      };
      const t1 = Date.now();
      await relabel('db');
      await until('False/NotAllowedByListeners');
      console.log(`# Namespace relabelled: NotAllowedByListeners ${Date.now() - t1} ms later`);
      await relabel('web');
      await until('True/Accepted');
      const ns = (controller.healthz().detail as { source: { watches: Array<{ kind: string; state: string }> } }).source.watches.filter((w) => w.kind === 'Namespace');
      assert.deepEqual(ns.map((w) => w.state), ['watching'], 'one cluster-wide Namespace watch');
      assert.equal(logs.lines.filter((l) => l.level === 'error' && l.fields?.['object'] === undefined).length, 0, logs.lines.map((l) => `${l.level} ${l.msg}`).join('\n'));
    } finally {
      await controller.stop();
      const rt = RouteTable.open(table);
      rt.remove();
      rt.close();
    }
  });
});

async function waitForAsync<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}
