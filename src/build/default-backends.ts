// Default backends (DESIGN.md section 3, lookup rule 3):
// - an Ingress's spec.defaultBackend serves, for each host its rules name,
//   the requests of that host that match no rule (the oldest Ingress's wins);
// - an Ingress with no rules at all serves its default backend on the
//   catch-all host;
// - the controller's --default-backend is the table's own default.

import { parseServicePortRef } from './config.js';
import { backendRefOf } from './refs.js';
import type { Processor } from './state.js';
import { CONTROLLER_DEFAULT_BACKEND_FIELD, hostGroup, report } from './state.js';

export const collectDefaultBackends: Processor = (state) => {
  for (const ingress of state.ingresses) {
    const spec = ingress.object.spec;
    if (!spec?.defaultBackend) continue;
    const backend = backendRefOf(state, ingress, spec.defaultBackend, -1, -1);
    if (!backend) continue;
    const hosts = (spec.rules ?? []).length === 0 ? [''] : ingress.ruleHosts;
    for (const host of hosts) {
      const candidate = { host, ingress, backend };
      state.defaults.push(candidate);
      const group = hostGroup(state, host);
      (group.defaults ??= []).push(candidate);
    }
  }

  const flag = state.config.defaultBackend;
  if (flag === undefined || flag === '') return;
  const ref = parseServicePortRef(flag);
  if (typeof ref === 'string') {
    report(state, 'Controller', '', state.config.controllerName, CONTROLLER_DEFAULT_BACKEND_FIELD, 'Error', `${ref}; no controller default backend`);
    return;
  }
  state.controllerDefault = {
    namespace: ref.namespace,
    service: ref.name,
    port: 'number' in ref.port ? ref.port.number : ref.port.name,
    owner: undefined,
    rule: -1,
    path: -1,
    resolved: undefined,
  };
};
