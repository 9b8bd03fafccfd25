// What a rule answers with, from its backends. From HTTPRouteRule.backendRefs:
// "If *all* entries in BackendRefs are invalid, and there are also no filters
// specified in this route rule, *all* traffic which matches this rule MUST
// receive a 500 status code." "When a HTTPBackendRef is invalid, 500 status
// codes MUST be returned for requests that would have otherwise been routed
// to an invalid backend." "When a HTTPBackendRef refers to a Service that
// has no ready endpoints, implementations SHOULD return a 503 for requests
// to that backend instead." From BackendRef.weight: "If weight is set to 0,
// no traffic should be forwarded for this entry."

import type { HTTPRouteFilter } from '../../kube/types.js';
import type { BackendResolution } from './references.js';

export interface GatewayBackend {
  /** Default 1; 0: never chosen. */
  readonly weight: number;
  readonly resolution: BackendResolution;
  /** The backendRef's own filters, applied after the rule's. */
  readonly filters?: readonly HTTPRouteFilter[];
}

/** How a rule answers, before endpoints are known: through its backends (by weight), or 500 for every request. */
export type RuleAnswer = { readonly forward: true } | { readonly status: 500; readonly reason: string };

/**
 * A rule with no backend that could take a request (none given, every one
 * invalid, or only weights of 0) and no filter that answers by itself (a
 * RequestRedirect: `answersItself`) answers 500. (A rule with no backendRefs at all counts as one whose every
 * backend is invalid.) Otherwise it forwards: each request to a backend
 * chosen by weight, among all of them, invalid ones included, so that an
 * invalid backend's share of the requests gets 500 (backendAnswer()).
 */
export function ruleAnswer(backends: readonly GatewayBackend[], answersItself: boolean): RuleAnswer {
  if (answersItself) return { forward: true };
  if (backends.length === 0) return { status: 500, reason: 'the rule has no backendRefs' };
  if (backends.every((b) => !b.resolution.valid)) return { status: 500, reason: 'every backendRef of the rule is invalid' };
  if (backends.every((b) => b.weight === 0)) return { status: 500, reason: 'every backendRef of the rule has weight 0' };
  return { forward: true };
}

/** The answer for a request sent to one backend: 500 when it is invalid, 503 when its Service has no ready endpoint, else forwarded. */
export function backendAnswer(backend: GatewayBackend, readyEndpoints: number): 'forward' | 500 | 503 {
  if (!backend.resolution.valid) return 500;
  return readyEndpoints > 0 ? 'forward' : 503;
}
