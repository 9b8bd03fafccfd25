// The flags of a cluster's Gateways: --gateway-service-type and what goes with it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseControllerOptions } from './controller-options.js';

describe('controller options: Gateways in a cluster', () => {
  test('--gateway-service-type turns on Gateways by port, with the default range and selector, or the ones given', () => {
    const local = parseControllerOptions([]);
    assert.equal(local.build.gatewayPortRange, undefined);
    assert.equal(local.gatewayServices, undefined);
    const o = parseControllerOptions(['--gateway-service-type', 'loadbalancer']);
    assert.deepEqual(o.gatewayServices, { type: 'LoadBalancer', selector: { app: 'ats-ingress' } });
    assert.deepEqual(o.build.gatewayPortRange, { text: '20000-20063', first: 20000, pairs: 32 });
    const given = parseControllerOptions(['--gateway-service-type=NodePort', '--gateway-port-range=30000-30009', '--gateway-service-selector=app.kubernetes.io/name=ats,tier=edge']);
    assert.deepEqual(given.gatewayServices, { type: 'NodePort', selector: { 'app.kubernetes.io/name': 'ats', tier: 'edge' } });
    assert.equal(given.build.gatewayPortRange?.pairs, 5);
  });

  test('refused, naming the flag', () => {
    for (const [args, message] of [
      [['--gateway-service-type', 'External'], /--gateway-service-type "External" is not one of ClusterIP, NodePort, LoadBalancer/],
      [['--gateway-port-range', '20000-20001'], /--gateway-port-range goes with --gateway-service-type/],
      [['--gateway-service-type', 'ClusterIP', '--gateway-port-range', '80-81'], /--gateway-port-range "80-81" is not FIRST-LAST/],
      [['--gateway-service-type', 'ClusterIP', '--gateway-service-selector', 'app'], /--gateway-service-selector "app" is not LABEL=VALUE/],
    ] as const) {
      assert.throws(() => parseControllerOptions([...args]), message);
    }
  });
});
