// An Ingress backend (a rule's or spec.defaultBackend) read into a BackendRef,
// or a problem saying why it cannot be one.

import type { IngressBackend } from '../kube/types.js';
import type { BackendRef, BuildState, ClaimedIngress } from './state.js';
import { backendField, reportOn } from './state.js';

function where(owner: ClaimedIngress, rule: number, path: number): string {
  return backendField({ owner, rule, path });
}

/** `rule` and `path` say where the backend sits: spec.rules[rule].http.paths[path], or rule -1 for spec.defaultBackend. */
export function backendRefOf(
  state: BuildState,
  ingress: ClaimedIngress,
  backend: IngressBackend | undefined,
  rule: number,
  path: number,
): BackendRef | undefined {
  if (!backend) {
    reportOn(state, ingress, where(ingress, rule, path), 'Error', 'a backend is required');
    return undefined;
  }
  if (backend.resource) {
    reportOn(state, ingress, `${where(ingress, rule, path)}.resource`, 'Error', `resource backends (${backend.resource.kind} ${backend.resource.name}) are not supported, only Service backends`);
    return undefined;
  }
  const service = backend.service;
  if (!service) {
    reportOn(state, ingress, `${where(ingress, rule, path)}.service`, 'Error', 'a Service backend is required');
    return undefined;
  }
  if (!service.name) {
    reportOn(state, ingress, `${where(ingress, rule, path)}.service.name`, 'Error', 'the Service name is required');
    return undefined;
  }
  const port = service.port;
  let servicePort: number | string;
  if (port?.number !== undefined) {
    if (!Number.isInteger(port.number) || port.number < 1 || port.number > 65535) {
      reportOn(state, ingress, `${where(ingress, rule, path)}.service.port.number`, 'Error', `${port.number} is not a port number (1..65535)`);
      return undefined;
    }
    servicePort = port.number;
  } else if (port?.name) {
    servicePort = port.name;
  } else {
    reportOn(state, ingress, `${where(ingress, rule, path)}.service.port`, 'Error', 'a port number or port name is required');
    return undefined;
  }
  return { namespace: ingress.namespace, service: service.name, port: servicePort, owner: ingress, rule, path, resolved: undefined };
}
