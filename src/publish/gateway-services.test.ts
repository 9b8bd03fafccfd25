// The Service of each Gateway in a cluster: its name, its ports, its labels,
// and the addresses it gives the Gateway's status.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildConfig } from '../config/config.js';
import { parsePortRange } from '../config/gateway.js';
import { build } from '../model/build.js';
import { snapshotFrom } from '../testing/fixtures.js';
import { gateway, gatewayClass } from '../testing/gateway-fixtures.js';
import { isInvalid } from '../validate/invalid.js';
import { desiredServices, gatewayService, gatewayServiceName, serviceAddresses, serviceMatches, type GatewayServiceObject } from './gateway-services.js';

const OPTIONS = { namespace: 'ats-ingress', type: 'LoadBalancer' as const, selector: { app: 'ats-ingress' } };

describe('Gateway Services', () => {
  test('named gw-<namespace>-<name>-<hash>: a DNS label of at most 63 characters, one per Gateway', () => {
    const name = gatewayServiceName('infra/gw');
    assert.match(name, /^gw-infra-gw-[0-9a-f]{8}$/);
    assert.equal(gatewayServiceName('infra/gw'), name, 'the same every time');
    assert.notEqual(gatewayServiceName('a/b-c'), gatewayServiceName('a-b/c'));
    const long = gatewayServiceName(`${'n'.repeat(63)}/${'x.'.repeat(100)}y`);
    assert.ok(long.length <= 63, long);
    assert.match(long, /^[a-z]([-a-z0-9]*[a-z0-9])?$/);
  });

  test("each listener port to the local port of the Gateway's block, named by protocol; our label, the Gateway's in an annotation", () => {
    const s = gatewayService('infra/gw', new Map([[443, 20001], [80, 20000]]), new Map([[80, 'HTTP'], [443, 'HTTPS']]), OPTIONS);
    assert.deepEqual(s, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: gatewayServiceName('infra/gw'),
        namespace: 'ats-ingress',
        labels: {
          'ats.ingress.kubernetes.io/gateway-service': 'true',
          'app.kubernetes.io/managed-by': 'ats-ingress',
          'gateway.networking.k8s.io/gateway-name': 'gw',
          'ats.ingress.kubernetes.io/gateway-namespace': 'infra',
        },
        annotations: { 'ats.ingress.kubernetes.io/gateway': 'infra/gw' },
      },
      spec: {
        type: 'LoadBalancer',
        selector: { app: 'ats-ingress' },
        ports: [
          { name: 'http-80', protocol: 'TCP', port: 80, targetPort: 20000, appProtocol: 'http' },
          { name: 'https-443', protocol: 'TCP', port: 443, targetPort: 20001, appProtocol: 'https' },
        ],
      },
    });
    // A name too long for a label value is in the annotation only.
    const long = gatewayService(`infra/${'x'.repeat(70)}`, new Map([[80, 20000]]), new Map(), OPTIONS);
    assert.equal(long.metadata.labels?.['gateway.networking.k8s.io/gateway-name'], undefined);
  });

  test('from a build: one Service per Gateway with a block, none locally', () => {
    const range = parsePortRange('20000-20003');
    assert.ok(!isInvalid(range));
    const objects = [gatewayClass('ats'), gateway('infra/a').listener('http', 80).listener('https', 443, { protocol: 'HTTPS', certificates: ['c'] }).created(1), gateway('infra/b').listener('http', 8080).created(2), gateway('infra/c').listener('http', 80).created(3)];
    const result = build(snapshotFrom(objects), buildConfig({ gatewayPortRange: range }));
    const services = desiredServices(result.gateway, OPTIONS);
    assert.deepEqual([...services.values()].map((s) => [s.metadata.annotations?.['ats.ingress.kubernetes.io/gateway'], s.spec.ports.map((p) => `${p.name} ${p.port}->${p.targetPort}`)]), [
      ['infra/a', ['http-80 80->20000', 'https-443 443->20001']],
      ['infra/b', ['http-8080 8080->20002']],
    ]);
    assert.equal(desiredServices(build(snapshotFrom(objects), buildConfig()).gateway, OPTIONS).size, 0);
  });

  test("addresses: a LoadBalancer's ingress IPs and hostnames; ClusterIP and NodePort their cluster IPs", () => {
    const base = gatewayService('infra/gw', new Map([[80, 20000]]), new Map(), OPTIONS);
    const lb: GatewayServiceObject = { ...base, spec: { ...base.spec, clusterIP: '10.96.0.9' }, status: { loadBalancer: { ingress: [{ ip: '203.0.113.7' }, { hostname: 'lb.example.net' }, {}] } } };
    assert.deepEqual(serviceAddresses(lb), [{ type: 'IPAddress', value: '203.0.113.7' }, { type: 'Hostname', value: 'lb.example.net' }]);
    assert.deepEqual(serviceAddresses({ ...lb, status: {} }), [], 'not provisioned yet');
    for (const type of ['ClusterIP', 'NodePort'] as const) {
      assert.deepEqual(serviceAddresses({ ...lb, spec: { ...lb.spec, type, clusterIPs: ['10.96.0.9', 'fd00::9'] } }), [{ type: 'IPAddress', value: '10.96.0.9' }, { type: 'IPAddress', value: 'fd00::9' }]);
    }
    assert.deepEqual(serviceAddresses({ ...lb, spec: { ...lb.spec, type: 'ClusterIP', clusterIP: 'None' } }), []);
  });

  test('a Service that says what we want (whatever else the API or others added) is not written again', () => {
    const want = gatewayService('infra/gw', new Map([[80, 20000]]), new Map(), OPTIONS);
    const have: GatewayServiceObject = {
      ...want,
      metadata: { ...want.metadata, resourceVersion: '7', labels: { ...want.metadata.labels, extra: 'x' }, annotations: { ...want.metadata.annotations, 'cloud.example/lb': 'y' } },
      spec: { ...want.spec, clusterIP: '10.96.0.9', ports: want.spec.ports.map((p) => ({ ...p, nodePort: 31000 })) },
    };
    assert.ok(serviceMatches(have, want));
    assert.ok(!serviceMatches(undefined, want));
    assert.ok(!serviceMatches({ ...have, spec: { ...have.spec, ports: [{ ...have.spec.ports[0]!, targetPort: 20002 }] } }, want));
    assert.ok(!serviceMatches({ ...have, spec: { ...have.spec, type: 'NodePort' } }, want));
    assert.ok(!serviceMatches({ ...have, spec: { ...have.spec, selector: {} } }, want));
  });
});
