// Ingress class selection: the claimed Ingresses, oldest first. The rules of
// what is ours live in config/claim.ts, which the object cache asks too.

import { claimPolicy, isClaimed } from '../config/claim.js';
import type { Ingress } from '../kube/types.js';
import { namespaceOf } from '../kube/types.js';
import type { ClaimedIngress, Processor } from './state.js';
import { NO_SETTINGS, olderFirst } from './state.js';

/** creationTimestamp in ms since the epoch; +Infinity (the newest) when absent or unreadable. */
function creationTime(ingress: Ingress): number {
  const t = ingress.metadata.creationTimestamp;
  const ms = t ? Date.parse(t) : NaN;
  return Number.isNaN(ms) ? Number.POSITIVE_INFINITY : ms;
}

function claim(ingress: Ingress): ClaimedIngress {
  const namespace = namespaceOf(ingress);
  const name = ingress.metadata.name;
  return {
    key: `${namespace}/${name}`,
    namespace,
    name,
    object: ingress,
    created: creationTime(ingress),
    settings: NO_SETTINGS,
    ruleHosts: [],
    defaultBackend: undefined,
    parts: undefined,
    place: 0,
    run: 0,
  };
}

/** Processor: the claimed Ingresses, oldest first. */
export const selectIngresses: Processor = (state) => {
  const policy = claimPolicy(state.snapshot.ingressClasses.values(), state.config);
  // The same object as in an earlier build is the same claim, with what was read of it (memo.ts).
  const known = state.context.memo?.ingresses;
  const claimed: ClaimedIngress[] = [];
  for (const ingress of state.snapshot.ingresses.values()) {
    if (!isClaimed(ingress, policy)) continue;
    let c = known?.get(ingress);
    if (c === undefined) {
      c = claim(ingress);
      known?.set(ingress, c);
    }
    claimed.push(c);
  }
  claimed.sort(olderFirst);
  state.ingresses = claimed;
};
