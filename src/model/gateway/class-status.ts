// The status of our GatewayClasses: the `Accepted` condition, with the
// generation it was computed from. From GatewayClassSpec.parametersRef: "If
// the referent cannot be found, refers to an unsupported kind, or when the
// data within that resource is malformed, the GatewayClass SHOULD be
// rejected with the "Accepted" status condition set to "False" and an
// "InvalidParameters" reason." This controller takes no parameters, so any
// parametersRef is of a kind it does not support.

import type { Condition, GatewayClass } from '../../kube/types.js';

export interface ConditionWant {
  readonly type: string;
  readonly status: 'True' | 'False';
  readonly reason: string;
  readonly message: string;
}

export function gatewayClassAccepted(cls: GatewayClass): ConditionWant {
  const p = cls.spec?.parametersRef;
  if (p) {
    return { type: 'Accepted', status: 'False', reason: 'InvalidParameters', message: `parametersRef ${p.group}/${p.kind} ${p.name}: this controller takes no parameters` };
  }
  return { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'Handled by the ats-ingress gateway controller' };
}

/**
 * The features of the Gateway API this controller supports, as the
 * GatewayClass's status.supportedFeatures lists them ("sorted in ascending
 * alphabetical order"): the GATEWAY-HTTP Core features and the Extended ones
 * whose conformance tests pass (README, "Gateway API conformance"). The
 * conformance suite reads them from there when it is not told.
 */
export const SUPPORTED_FEATURES: readonly string[] = [
  'Gateway',
  'GatewayHTTPListenerIsolation',
  'HTTPRoute',
  'HTTPRoute303RedirectStatusCode',
  'HTTPRoute307RedirectStatusCode',
  'HTTPRoute308RedirectStatusCode',
  'HTTPRouteBackendRequestHeaderModification',
  'HTTPRouteHostRewrite',
  'HTTPRouteMethodMatching',
  'HTTPRouteNamedRouteRule',
  'HTTPRoutePathRedirect',
  'HTTPRoutePathRewrite',
  'HTTPRoutePortRedirect',
  'HTTPRouteQueryParamMatching',
  'HTTPRouteResponseHeaderModification',
  'HTTPRouteSchemeRedirect',
  'ReferenceGrant',
];

/** status.supportedFeatures as it is written. */
export function supportedFeatures(): Array<{ name: string }> {
  return SUPPORTED_FEATURES.map((name) => ({ name }));
}

/** Whether a GatewayClass's status lists exactly our features, in order. */
export function hasSupportedFeatures(current: ReadonlyArray<{ readonly name: string }> | undefined): boolean {
  return current !== undefined && current.length === SUPPORTED_FEATURES.length && current.every((f, i) => f.name === SUPPORTED_FEATURES[i]);
}

/** RFC 3339 in whole seconds, as metav1.Time writes it. */
export function conditionTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/**
 * The conditions an object should carry: `want` (with observedGeneration =
 * the object's generation) replacing conditions of the same types, the
 * others kept. A condition whose status does not change keeps its
 * lastTransitionTime. `changed` is false when the object carries them
 * already (then `conditions` is `current` as it is).
 */
export function mergedConditions(current: readonly Condition[] | undefined, want: readonly ConditionWant[], generation: number | undefined, nowMs: number): { conditions: Condition[]; changed: boolean } {
  const now = conditionTime(nowMs);
  const old = current ?? [];
  let changed = false;
  const wanted = want.map((w) => {
    const had = old.find((c) => c.type === w.type);
    const c: Condition = {
      type: w.type,
      status: w.status,
      reason: w.reason,
      message: w.message,
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
      lastTransitionTime: had && had.status === w.status ? had.lastTransitionTime : now,
    };
    if (!had || had.status !== c.status || had.reason !== c.reason || had.message !== c.message || had.observedGeneration !== c.observedGeneration) changed = true;
    return c;
  });
  if (!changed) return { conditions: [...old], changed };
  return { conditions: [...old.filter((c) => !want.some((w) => w.type === c.type)), ...wanted], changed };
}

/** mergedConditions(), undefined when nothing changes. */
export function mergeConditions(current: readonly Condition[] | undefined, want: readonly ConditionWant[], generation: number | undefined, nowMs: number): Condition[] | undefined {
  const m = mergedConditions(current, want, generation, nowMs);
  return m.changed ? m.conditions : undefined;
}
