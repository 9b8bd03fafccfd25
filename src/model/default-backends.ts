// Default backends (DESIGN.md section 3, lookup rule 3):
// - an Ingress's spec.defaultBackend serves, for each host its rules name,
//   the requests of that host that match no rule (the oldest Ingress's wins);
// - an Ingress with no rules at all serves its default backend on the
//   catch-all host;
// - the controller's --default-backend is the table's own default.

import type { Processor } from './state.js';
import { hostGroup } from './state.js';

export const collectDefaultBackends: Processor = (state) => {
  for (const ingress of state.ingresses) {
    // Read with the Ingress's rules (ingresses.ts).
    const backend = ingress.defaultBackend;
    if (!backend) continue;
    const hosts = (ingress.object.spec?.rules ?? []).length === 0 ? [''] : ingress.ruleHosts;
    for (const host of hosts) {
      const candidate = { host, ingress, backend };
      state.defaults.push(candidate);
      const group = hostGroup(state, host);
      (group.defaults ??= []).push(candidate);
    }
  }

  const ref = state.config.defaultBackend;
  if (ref === undefined) return;
  state.controllerDefault = {
    namespace: ref.namespace,
    service: ref.name,
    port: ref.port,
    owner: undefined,
    rule: -1,
    path: -1,
    resolved: undefined,
  };
};
