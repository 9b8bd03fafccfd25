// The controller's flags: a cluster's Gateways (--gateway-service-type and what goes with it), and batching.
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

describe('controller options: batching', () => {
  test('--max-build-share and --max-build-burst-ms, with their defaults', () => {
    const o = parseControllerOptions([]);
    assert.equal(o.maxBuildShare, 0.5);
    assert.equal(o.maxBuildBurstMs, 500);
    const given = parseControllerOptions(['--max-build-share', '0.25', '--max-build-burst-ms', '0']);
    assert.equal(given.maxBuildShare, 0.25);
    assert.equal(given.maxBuildBurstMs, 0, 'no burst: every rebuild waits out its share');
  });

  test('refused, naming the flag', () => {
    assert.throws(() => parseControllerOptions(['--max-build-burst-ms=-1']), /--max-build-burst-ms "-1": expected a whole number from 0 to 60000/);
    assert.throws(() => parseControllerOptions(['--max-build-share', '1.5']), /--max-build-share "1.5": expected a share above 0 and at most 1/);
  });
});
