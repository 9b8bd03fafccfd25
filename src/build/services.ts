// Services and endpoints: each backend an Ingress names becomes a Service
// port with its ready endpoints. The Service port is found by number or by
// name; its endpoints come from the EndpointSlices labelled with the Service
// (a slice's port carries the Service port's name, and its number is the
// resolved targetPort). A Service or port that does not exist still gives a
// backend, with no endpoints and a `problem`, so its routes answer 503 and
// say why.

import { isIPv6 } from 'node:net';
import type { EndpointSlice, Service, ServicePort } from '../cache/k8s-types.js';
import { SERVICE_NAME_LABEL, namespaceOf } from '../cache/k8s-types.js';
import type { TableEndpoint, UpstreamScheme } from '../native/table-types.js';
import type { BackendRef, BuildState, Processor, ResolvedBackend } from './state.js';
import { backendField, report } from './state.js';
import { isIPv4Address } from './names.js';

export const EXTERNAL_NAME_PROBLEM = 'ExternalName services are not supported yet';

/** EndpointSlices by `namespace/service`, once per build. */
export function indexEndpointSlices(slices: Iterable<EndpointSlice>): Map<string, EndpointSlice[]> {
  const index = new Map<string, EndpointSlice[]>();
  for (const slice of slices) {
    const service = slice.metadata.labels?.[SERVICE_NAME_LABEL];
    if (!service) continue;
    const key = `${namespaceOf(slice)}/${service}`;
    const list = index.get(key);
    if (list) list.push(slice);
    else index.set(key, [slice]);
  }
  return index;
}

const HTTPS_APP_PROTOCOLS: ReadonlySet<string> = new Set(['https', 'kubernetes.io/https']);

function isTcp(protocol: string | null | undefined): boolean {
  return protocol === undefined || protocol === null || protocol === 'TCP';
}

function findServicePort(service: Service, ref: BackendRef): ServicePort | undefined {
  const ports = service.spec?.ports ?? [];
  const { number, name } = ref.port;
  if (number !== undefined) return ports.find((p) => p.port === number && isTcp(p.protocol));
  return ports.find((p) => p.name === name);
}

function compareEndpoints(a: TableEndpoint, b: TableEndpoint): number {
  if (a.address !== b.address) return a.address < b.address ? -1 : 1;
  return a.port - b.port;
}

/**
 * The ready endpoints of one Service port: every slice of the Service, IPv4
 * and IPv6, the slice port with the Service port's name; `ready` absent or
 * null counts as ready, terminating endpoints are left out; deduplicated and
 * sorted by address, then port.
 */
export function readyEndpoints(
  state: BuildState,
  slices: readonly EndpointSlice[],
  servicePort: ServicePort,
): TableEndpoint[] {
  const portName = servicePort.name ?? '';
  const out: TableEndpoint[] = [];
  // Addresses already taken, by port (almost always a single port).
  const seen = new Map<number, Set<string>>();
  for (const slice of slices) {
    const isValid = slice.addressType === 'IPv4' ? isIPv4Address : slice.addressType === 'IPv6' ? isIPv6 : undefined;
    if (!isValid) continue;
    const slicePort = (slice.ports ?? []).find((p) => (p.name ?? '') === portName && isTcp(p.protocol));
    const port = slicePort?.port;
    if (port === undefined || port === null) continue;
    let taken = seen.get(port);
    if (!taken) {
      taken = new Set();
      seen.set(port, taken);
    }
    const endpoints = slice.endpoints ?? [];
    for (let k = 0; k < endpoints.length; k++) {
      const endpoint = endpoints[k];
      const conditions = endpoint?.conditions;
      if (!endpoint || conditions?.ready === false || conditions?.terminating === true) continue;
      const addresses = endpoint.addresses;
      for (let m = 0; m < addresses.length; m++) {
        const address = addresses[m];
        if (address === undefined || taken.has(address)) continue;
        taken.add(address);
        if (!isValid(address)) {
          report(state, 'EndpointSlice', namespaceOf(slice), slice.metadata.name, `endpoints[${k}].addresses[${m}]`, 'Error',
            `"${address}" is not an ${slice.addressType} address; it is left out`);
          continue;
        }
        out.push({ address, port });
      }
    }
  }
  return out.sort(compareEndpoints);
}

interface Issue {
  /** A field under the backend's, e.g. `.service.name`. */
  readonly field: string;
  readonly message: string;
}

interface Lookup {
  readonly resolved: ResolvedBackend;
  /** What to report on whoever names this backend. */
  readonly issue: Issue | undefined;
}

function unresolved(ref: BackendRef, scheme: UpstreamScheme, problem: string, field: string): Lookup {
  return {
    resolved: { service: ref.serviceKey, port: ref.portText, scheme, endpoints: [], problem },
    issue: { field, message: `${problem}; requests get 503` },
  };
}

/** Which of the three lookups of a Service port: no scheme annotation, HTTP, HTTPS. */
function variant(override: UpstreamScheme | undefined): 0 | 1 | 2 {
  return override === undefined ? 0 : override === 'http' ? 1 : 2;
}

export const resolveServices: Processor = (state) => {
  const slicesByService = indexEndpointSlices(state.snapshot.endpointSlices.values());
  const lookups = new Map<string, Map<string, (Lookup | undefined)[]>>();
  const endpointsByPort = new Map<ServicePort, readonly TableEndpoint[]>();

  const lookUp = (ref: BackendRef, override: UpstreamScheme | undefined): Lookup => {
    const serviceKey = ref.serviceKey;
    const service = state.snapshot.services.get(serviceKey);
    if (!service) return unresolved(ref, override ?? 'http', `Service ${serviceKey} does not exist`, '.service.name');
    if (service.spec?.type === 'ExternalName') {
      const lookup = unresolved(ref, override ?? 'http', EXTERNAL_NAME_PROBLEM, '.service.name');
      const message = `Service ${serviceKey} is of type ExternalName (${service.spec.externalName ?? 'no externalName'}): ${EXTERNAL_NAME_PROBLEM}; requests get 503`;
      return { resolved: lookup.resolved, issue: { field: '.service.name', message } };
    }
    const servicePort = findServicePort(service, ref);
    if (!servicePort) {
      return ref.port.number !== undefined
        ? unresolved(ref, override ?? 'http', `Service ${serviceKey} has no TCP port ${ref.port.number}`, '.service.port.number')
        : unresolved(ref, override ?? 'http', `Service ${serviceKey} has no port named "${ref.port.name ?? ''}"`, '.service.port.name');
    }
    if (!isTcp(servicePort.protocol)) {
      return unresolved(ref, override ?? 'http', `Service ${serviceKey} port "${ref.portText}" is ${servicePort.protocol ?? ''}, not TCP`, '.service.port.name');
    }
    let endpoints = endpointsByPort.get(servicePort);
    if (!endpoints) {
      endpoints = readyEndpoints(state, slicesByService.get(serviceKey) ?? [], servicePort);
      endpointsByPort.set(servicePort, endpoints);
    }
    const appHttps = servicePort.appProtocol !== undefined && HTTPS_APP_PROTOCOLS.has(servicePort.appProtocol.toLowerCase());
    const scheme: UpstreamScheme = override ?? (appHttps ? 'https' : 'http');
    return { resolved: { service: serviceKey, port: ref.portText, scheme, endpoints, problem: undefined }, issue: undefined };
  };

  const resolve = (ref: BackendRef): void => {
    if (ref.resolved) return;
    let byPort = lookups.get(ref.serviceKey);
    if (!byPort) {
      byPort = new Map();
      lookups.set(ref.serviceKey, byPort);
    }
    let variants = byPort.get(ref.portText);
    if (!variants) {
      variants = [undefined, undefined, undefined];
      byPort.set(ref.portText, variants);
    }
    const override = ref.owner?.settings.scheme;
    const v = variant(override);
    let lookup = variants[v];
    if (!lookup) {
      lookup = lookUp(ref, override);
      variants[v] = lookup;
    }
    ref.resolved = lookup.resolved;
    const issue = lookup.issue;
    if (!issue) return;
    if (ref.owner) {
      report(state, 'Ingress', ref.owner.namespace, ref.owner.name, `${backendField(ref)}${issue.field}`, 'Error', issue.message);
    } else {
      report(state, 'Controller', '', state.config.controllerName, backendField(ref), 'Error', issue.message);
    }
  };

  for (const route of state.routes) resolve(route.backend);
  for (const d of state.defaults) resolve(d.backend);
  if (state.controllerDefault) resolve(state.controllerDefault);
};
