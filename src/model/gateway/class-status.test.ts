import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Condition } from '../../kube/types.js';
import { gatewayClass } from '../../testing/gateway-fixtures.js';
import { gatewayClassAccepted, hasSupportedFeatures, mergeConditions, SUPPORTED_FEATURES, supportedFeatures } from './class-status.js';

const T = Date.parse('2026-01-01T10:00:00.750Z');

describe('GatewayClass status', () => {
  test('ours, without parameters: Accepted=True', () => {
    assert.deepEqual(gatewayClassAccepted(gatewayClass('ats').build()), { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'Handled by the ats-ingress gateway controller' });
  });

  test('"If the referent cannot be found, refers to an unsupported kind ... the GatewayClass SHOULD be rejected with the "Accepted" status condition set to "False" and an "InvalidParameters" reason."', () => {
    const c = gatewayClass('ats').build();
    const withParams = { ...c, spec: { ...c.spec, parametersRef: { group: 'example.com', kind: 'Config', name: 'x' } } };
    const a = gatewayClassAccepted(withParams);
    assert.equal(a.status, 'False');
    assert.equal(a.reason, 'InvalidParameters');
  });

  test('observedGeneration is the object\'s generation; the time is in whole seconds; the same again is no change', () => {
    const want = [gatewayClassAccepted(gatewayClass('ats').build())];
    const first = mergeConditions(undefined, want, 3, T);
    assert.deepEqual(first, [{ ...want[0], observedGeneration: 3, lastTransitionTime: '2026-01-01T10:00:00Z' }]);
    assert.equal(mergeConditions(first, want, 3, T + 60_000), undefined);
    const bumped = mergeConditions(first, want, 4, T + 60_000);
    assert.equal(bumped?.[0]?.observedGeneration, 4, 'a new generation is written');
    assert.equal(bumped?.[0]?.lastTransitionTime, '2026-01-01T10:00:00Z', 'the status did not change: its transition time stays');
  });

  test('conditions of other types are kept; a change of status moves the transition time', () => {
    const other: Condition = { type: 'SupportedVersion', status: 'True', reason: 'SupportedVersion', message: '', lastTransitionTime: '2025-01-01T00:00:00Z' };
    const rejected: Condition = { type: 'Accepted', status: 'False', reason: 'InvalidParameters', message: 'x', observedGeneration: 1, lastTransitionTime: '2025-01-01T00:00:00Z' };
    const out = mergeConditions([other, rejected], [gatewayClassAccepted(gatewayClass('ats').build())], 2, T);
    assert.deepEqual(out?.map((c) => [c.type, c.status, c.lastTransitionTime]), [['SupportedVersion', 'True', '2025-01-01T00:00:00Z'], ['Accepted', 'True', '2026-01-01T10:00:00Z']]);
  });
});

test('supportedFeatures: sorted, each once, Core included ("sorted in ascending alphabetical order")', () => {
  assert.deepEqual([...SUPPORTED_FEATURES], [...new Set(SUPPORTED_FEATURES)].sort());
  for (const core of ['Gateway', 'HTTPRoute', 'ReferenceGrant']) assert.ok(SUPPORTED_FEATURES.includes(core));
  assert.ok(hasSupportedFeatures(supportedFeatures()));
  assert.ok(!hasSupportedFeatures(supportedFeatures().slice(1)));
  assert.ok(!hasSupportedFeatures(undefined));
});
