// The Gateways' Services in a cluster, against a real API server with the
// Gateway API's CRDs and the RBAC the manifests give (services create, patch
// and delete in the controller's namespace only): the leader creates one
// Service per Gateway with each listener port on the Gateway's block of
// local ports, copies the load-balancer address written into a Service's
// status into its Gateway's status.addresses, puts back a Service changed
// by hand, and deletes the Service of a Gateway that goes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { CONTROLLER_USER, startKube, type KubeCluster } from '../../test/harness/kube.js';
import { pollUntil } from '../../test/harness/poll.js';
import { buildConfig } from '../config/config.js';
import { parsePortRange } from '../config/gateway.js';
import { Controller } from '../controller/controller.js';
import { kubernetesWiring } from '../controller/wiring.js';
import { RouteTable } from '../route-table/route-table.js';
import type { Condition, Gateway } from '../kube/types.js';
import { LEADER_RULES, PUBLISH_RULES, SOURCE_RULES, rbacManifest } from '../testing/kube-testkit.js';
import { recordingLogger } from '../testing/recording-logger.js';
import { isInvalid } from '../validate/invalid.js';
import { gatewayServiceName, type GatewayServiceObject } from './gateway-services.js';

const CONTROLLER = 'ats.ingress.kubernetes.io/gateway-controller';
const NS = 'ats-ingress';
let kube: KubeCluster;

before(
  async () => {
    kube = await startKube({ gatewayApiCrds: true });
    const ns = await kube.kubectl(['create', 'namespace', NS]);
    assert.equal(ns.code, 0, ns.stderr);
    const r = await kube.kubectl(['apply', '-f', '-'], {
      input: rbacManifest({
        name: 'ats-ingress', user: CONTROLLER_USER, clusterRules: [...SOURCE_RULES, ...PUBLISH_RULES], leaseNamespace: NS,
        // As k8s/traffic-server/10-rbac.yaml's Role: list and watch come with the ClusterRole.
        leaseRules: [...LEADER_RULES, { apiGroups: [''], resources: ['services'], verbs: ['create', 'patch', 'delete'] }],
      }),
    });
    assert.equal(r.code, 0, r.stderr);
  },
  { timeout: 10 * 60_000 },
);

after(async () => {
  await kube?.stop();
});

const OBJECTS = `
apiVersion: v1
kind: Namespace
metadata: { name: infra }
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: { name: ats }
spec: { controllerName: ${CONTROLLER} }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: a, namespace: infra }
spec:
  gatewayClassName: ats
  listeners:
  - { name: http, port: 80, protocol: HTTP }
  - { name: alt, port: 8080, protocol: HTTP }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: b, namespace: infra }
spec:
  gatewayClassName: ats
  listeners: [{ name: http, port: 80, protocol: HTTP }]
`;

const conds = (list: readonly Condition[] | undefined) => Object.fromEntries((list ?? []).map((c) => [c.type, `${c.status}/${c.reason}`]));

async function getGateway(name: string): Promise<Gateway> {
  const r = await kube.request<Gateway>('GET', `/apis/gateway.networking.k8s.io/v1/namespaces/infra/gateways/${name}`);
  assert.equal(r.status, 200, r.text);
  return r.body;
}

async function services(): Promise<Map<string, GatewayServiceObject>> {
  const r = await kube.request<{ items: GatewayServiceObject[] }>('GET', `/api/v1/namespaces/${NS}/services?labelSelector=ats.ingress.kubernetes.io/gateway-service%3Dtrue`);
  assert.equal(r.status, 200, r.text);
  return new Map(r.body.items.map((s) => [s.metadata.annotations?.['ats.ingress.kubernetes.io/gateway'] ?? '?', s]));
}

const ports = (s: GatewayServiceObject | undefined) => (s?.spec.ports ?? []).map((p) => `${p.name} ${p.port}->${p.targetPort}`);

describe('Gateway Services kept by the leader', () => {
  test('one per Gateway on its block of ports, its load-balancer address in the Gateway status, put back when changed, deleted with its Gateway', { timeout: 5 * 60_000 }, async () => {
    const a = await kube.kubectl(['apply', '-f', '-'], { input: OBJECTS });
    assert.equal(a.code, 0, a.stderr);
    const range = parsePortRange('20000-20007');
    assert.ok(!isInvalid(range));
    const logs = recordingLogger();
    const config = buildConfig({ gatewayPortRange: range });
    const wiring = await kubernetesWiring({
      kubeconfig: kube.kubeconfig('controller'), namespaces: [], leaderElectionNamespace: NS, publishAddresses: [], build: config,
      gatewayServices: { type: 'LoadBalancer', selector: { app: 'ats-ingress' } },
    }, logs.logger);
    const table = `t-gwsvc-${process.pid}`;
    const controller = new Controller({ ...wiring, table, build: config, logger: logs.logger, holdMs: 10, coalesceMs: 5 });
    const context = () => logs.lines.map((l) => `${l.level} ${l.msg} ${JSON.stringify(l.fields ?? {}, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v))}`).join("\n");
    await controller.start();
    try {
      // infra/a is older by name in the same second: it takes the first pairs.
      const svcs = (await pollUntil('both Services', services, (m) => m.size === 2, { timeoutMs: 20_000, intervalMs: 100, context })).value;
      const sa = svcs.get('infra/a');
      const sb = svcs.get('infra/b');
      assert.equal(sa?.metadata.name, gatewayServiceName('infra/a'));
      assert.equal(sa?.spec.type, 'LoadBalancer');
      assert.deepEqual(sa?.spec.selector, { app: 'ats-ingress' });
      assert.deepEqual(ports(sa), ['http-80 80->20000', 'http-8080 8080->20002']);
      assert.deepEqual(ports(sb), ['http-80 80->20004']);
      assert.equal(sa?.metadata.labels?.['gateway.networking.k8s.io/gateway-name'], 'a');

      // No load balancer yet: no address, not Programmed.
      const pending = (await pollUntil('Gateway infra/a written', () => getGateway('a'), (g) => conds(g.status?.conditions).Programmed !== undefined, { timeoutMs: 10_000, intervalMs: 100, context })).value;
      assert.deepEqual(conds(pending.status?.conditions), { Accepted: 'True/Accepted', Programmed: 'False/AddressNotAssigned' });
      assert.equal(pending.status?.addresses, undefined);

      // What a cloud's load-balancer controller would write.
      const lb = await kube.request('PATCH', `/api/v1/namespaces/${NS}/services/${sa!.metadata.name}/status`, { status: { loadBalancer: { ingress: [{ ip: '203.0.113.10' }, { hostname: 'a.lb.example.net' }] } } });
      assert.equal(lb.status, 200, lb.text);
      const served = (await pollUntil('Gateway infra/a Programmed with the address', () => getGateway('a'), (g) => conds(g.status?.conditions).Programmed === 'True/Programmed', { timeoutMs: 10_000, intervalMs: 100, context })).value;
      assert.deepEqual(served.status?.addresses, [{ type: 'IPAddress', value: '203.0.113.10' }, { type: 'Hostname', value: 'a.lb.example.net' }]);

      // Changed by hand: put back.
      const hand = await kube.request('PATCH', `/api/v1/namespaces/${NS}/services/${sb!.metadata.name}`, { spec: { ports: [{ name: 'http-80', port: 80, targetPort: 9999, protocol: 'TCP' }] } });
      assert.equal(hand.status, 200, hand.text);
      await pollUntil('Service of infra/b put back', services, (m) => ports(m.get('infra/b')).join() === 'http-80 80->20004', { timeoutMs: 10_000, intervalMs: 100, context });

      // The Gateway goes: its Service too; the other stays as it is.
      const d = await kube.kubectl(['delete', 'gateway', '-n', 'infra', 'b']);
      assert.equal(d.code, 0, d.stderr);
      const left = (await pollUntil('Service of infra/b deleted', services, (m) => !m.has('infra/b'), { timeoutMs: 10_000, intervalMs: 100, context })).value;
      assert.deepEqual([...left.keys()], ['infra/a']);
      assert.deepEqual(ports(left.get('infra/a')), ['http-80 80->20000', 'http-8080 8080->20002']);
    } finally {
      await controller.stop();
      // Its table's objects in /dev/shm (five, TLS included), left behind by every run before.
      const rt = RouteTable.open(table);
      rt.remove();
      rt.close();
    }
  });
});
