// The status the controller would write for each object, from one build, for
// `controller --once --json`: keyed `"<Kind> <namespace>/<name>"`
// (`"GatewayClass <name>"`), each the status object a patch would leave on
// the object. The table counts as served (Programmed) once it is published:
// --once has no ATS to wait for.

import type { Snapshot } from '../cache/snapshot.js';
import { claimPolicy, isClaimed, isOurGatewayClass } from '../config/claim.js';
import type { BuildConfig } from '../config/config.js';
import { namespaceOf } from '../kube/types.js';
import { CertificateCache } from '../model/certificates.js';
import { gatewayClassAccepted, mergedConditions, supportedFeatures } from '../model/gateway/class-status.js';
import { gatewayApiStatuses } from '../model/gateway/status.js';
import type { BuildResult } from '../model/model.js';
import type { LoadBalancerAddress } from './ingress-status.js';

const byKey = <T>(m: ReadonlyMap<string, T>): Array<[string, T]> => [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

export function statusReport(result: BuildResult, snapshot: Snapshot, config: BuildConfig, publishAddresses: readonly LoadBalancerAddress[], nowMs = Date.now()): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const served = new Set(result.served);
  const policy = claimPolicy(snapshot.ingressClasses.values(), config);
  for (const [key, ing] of byKey(snapshot.ingresses)) {
    if (served.has(key)) out[`Ingress ${key}`] = { loadBalancer: { ingress: publishAddresses } };
    // Claimed but not served: what the writer clears to (it clears only what is exactly ours).
    else if (isClaimed(ing, policy)) out[`Ingress ${namespaceOf(ing)}/${ing.metadata.name}`] = { loadBalancer: {} };
  }
  for (const [name, cls] of byKey(snapshot.gatewayClasses)) {
    if (!isOurGatewayClass(cls, config)) continue;
    out[`GatewayClass ${name}`] = { conditions: mergedConditions(cls.status?.conditions, [gatewayClassAccepted(cls)], cls.metadata.generation, nowMs).conditions, supportedFeatures: supportedFeatures() };
  }
  const gw = result.gateway;
  const updates = gatewayApiStatuses(gw, snapshot, { config, certificates: new CertificateCache(), nowMs, programmed: (key) => gw.addresses.has(key) });
  for (const u of updates) {
    if (u.kind !== 'Gateway') continue;
    const { conditions, addresses, listeners } = u.status;
    // No address: the writer removes the field rather than writing an empty list.
    out[`Gateway ${u.key}`] = { conditions, ...(addresses.length > 0 ? { addresses } : {}), listeners };
  }
  for (const u of updates) if (u.kind === 'HTTPRoute') out[`HTTPRoute ${u.key}`] = u.status;
  return out;
}
