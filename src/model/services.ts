// Services and endpoints: each backend an Ingress names becomes a Service
// port with its ready endpoints. The Service port is found by number or by
// name; its endpoints come from the EndpointSlices labelled with the Service
// (a slice's port carries the Service port's name, and its number is the
// resolved targetPort). A Service or port that does not exist still gives a
// backend, with no endpoints and a `problem`, so its routes answer 503 and
// say why.
//
// Runs once per build over every backend named, so the indexes are nested
// by namespace then name: lookups use the strings the objects already hold
// instead of building `namespace/name` keys for each of them.

import { isIPv6 } from 'node:net';
import type { EndpointSlice, ObjectKey, Service, ServicePort } from '../kube/types.js';
import type { MapChanges } from '../cache/snapshot.js';
import { SERVICE_NAME_LABEL, namespaceOf } from '../kube/types.js';
import type { TableEndpoint, UpstreamScheme } from './table-model.js';
import { isIPv4Address } from './names.js';
import { sortInPlace } from './order.js';
import type { BackendRef, BuildState, Processor, ResolvedBackend, ServiceName } from './state.js';
import type { Problem } from './model.js';
import type { LookupsMemo, RoutingMemo } from './memo.js';
import { sameObjects } from './memo.js';
import { backendField, report } from './state.js';

const EXTERNAL_NAME_PROBLEM = 'ExternalName services are not supported yet';

/** namespace → name → value. */
type ByNamespace<T> = Map<string, Map<string, T>>;

function slot<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}

function newMap<K, V>(): Map<K, V> {
  return new Map<K, V>();
}

function newList<T>(): T[] {
  return [];
}

/** Services by namespace and name. */
function indexServices(services: Iterable<Service>): ByNamespace<Service> {
  const index: ByNamespace<Service> = new Map();
  for (const service of services) slot(index, namespaceOf(service), newMap<string, Service>).set(service.metadata.name, service);
  return index;
}

/** EndpointSlices by namespace and the Service of their `kubernetes.io/service-name` label. */
function indexEndpointSlices(slices: Iterable<EndpointSlice>): ByNamespace<EndpointSlice[]> {
  const index: ByNamespace<EndpointSlice[]> = new Map();
  for (const slice of slices) {
    const service = slice.metadata.labels?.[SERVICE_NAME_LABEL];
    if (!service) continue;
    slot(slot(index, namespaceOf(slice), newMap<string, EndpointSlice[]>), service, newList<EndpointSlice>).push(slice);
  }
  return index;
}

/**
 * The index of the base map, brought to `slices` by its changed keys (in
 * place: only the memo holds it; each list changed is a new array, since
 * lookups keep the lists they were made from). A slice keeps its place in
 * its Service's list, as it keeps its place in the map; one that is new or
 * moved to another Service goes last. The order of a list never changes what
 * a build makes of it (endpoints are sorted, problems too). The Services
 * whose lists may have changed are added to `touched`.
 */
function updateSliceIndex(index: ByNamespace<EndpointSlice[]>, changes: MapChanges, slices: ReadonlyMap<ObjectKey, EndpointSlice>, touched: ServiceName[]): ByNamespace<EndpointSlice[]> {
  const serviceOf = (slice: EndpointSlice | undefined) => slice?.metadata.labels?.[SERVICE_NAME_LABEL] || undefined;
  for (const key of changes.keys) {
    const before = changes.base.get(key) as EndpointSlice | undefined;
    const now = slices.get(key);
    const from = serviceOf(before);
    const to = serviceOf(now);
    if (before && from) touched.push({ namespace: namespaceOf(before), service: from });
    if (now && to) touched.push({ namespace: namespaceOf(now), service: to });
    if (before && from) {
      const byName = index.get(namespaceOf(before));
      const list = byName?.get(from);
      const at = list ? list.indexOf(before) : -1;
      if (byName && list && at >= 0) {
        if (now && to === from && namespaceOf(now) === namespaceOf(before)) {
          const next = list.slice();
          next[at] = now;
          byName.set(from, next);
          continue;
        }
        const next = list.filter((s) => s !== before);
        if (next.length > 0) byName.set(from, next);
        else byName.delete(from);
      }
    }
    if (now && to) {
      const byName = slot(index, namespaceOf(now), newMap<string, EndpointSlice[]>);
      byName.set(to, [...(byName.get(to) ?? []), now]);
    }
  }
  return index;
}

const HTTPS_APP_PROTOCOLS: ReadonlySet<string> = new Set(['https', 'kubernetes.io/https']);

function isTcp(protocol: string | null | undefined): boolean {
  return protocol === undefined || protocol === null || protocol === 'TCP';
}

function findServicePort(service: Service, port: number | string): ServicePort | undefined {
  for (const p of service.spec?.ports ?? []) {
    if (typeof port === 'number' ? p.port === port && isTcp(p.protocol) : p.name === port) return p;
  }
  return undefined;
}

/** The number of the slice port with this name (TCP), if it has one. */
function slicePortNumber(slice: EndpointSlice, name: string): number | undefined {
  for (const p of slice.ports ?? []) {
    if ((p.name ?? '') === name && isTcp(p.protocol) && typeof p.port === 'number') return p.port;
  }
  return undefined;
}

function compareEndpoints(a: TableEndpoint, b: TableEndpoint): number {
  if (a.address !== b.address) return a.address < b.address ? -1 : 1;
  return a.port - b.port;
}

/**
 * The ready endpoints of one Service port: every slice of the Service, IPv4
 * and IPv6, the slice port with the Service port's name; `ready` absent or
 * null counts as ready, terminating endpoints are left out; sorted by
 * address, then port, each once (an address may sit in two slices while
 * they are being updated).
 */
function readyEndpoints(state: BuildState, slices: readonly EndpointSlice[], servicePort: ServicePort): TableEndpoint[] {
  const portName = servicePort.name ?? '';
  const all: TableEndpoint[] = [];
  for (const slice of slices) {
    const isValid = slice.addressType === 'IPv4' ? isIPv4Address : slice.addressType === 'IPv6' ? isIPv6 : undefined;
    if (!isValid) continue;
    const port = slicePortNumber(slice, portName);
    if (port === undefined) continue;
    const endpoints = slice.endpoints ?? [];
    for (let k = 0; k < endpoints.length; k++) {
      const endpoint = endpoints[k];
      const conditions = endpoint?.conditions;
      if (!endpoint || conditions?.ready === false || conditions?.terminating === true) continue;
      const addresses = endpoint.addresses;
      for (let m = 0; m < addresses.length; m++) {
        const address = addresses[m];
        if (address === undefined) continue;
        if (!isValid(address)) {
          report(state, 'EndpointSlice', namespaceOf(slice), slice.metadata.name, `endpoints[${k}].addresses[${m}]`, 'Error',
            `"${address}" is not an ${slice.addressType} address; it is left out`);
          continue;
        }
        all.push({ address, port });
      }
    }
  }
  sortInPlace(all, compareEndpoints);
  let kept = 0;
  for (let i = 0; i < all.length; i++) {
    const e = all[i];
    const previous = kept > 0 ? all[kept - 1] : undefined;
    if (!e || (previous && previous.address === e.address && previous.port === e.port)) continue;
    all[kept++] = e;
  }
  all.length = kept;
  return all;
}

interface Issue {
  /** A field under the backend's, e.g. `.service.name`. */
  readonly field: string;
  readonly message: string;
}

/**
 * A Service port as Ingresses name it, looked up once per build; with a
 * memo, kept for later builds while its Service and EndpointSlices are the
 * same objects.
 */
export interface PortLookup {
  /** `namespace/name`. */
  readonly service: string;
  /** The port as the Ingress names it, as text. */
  readonly port: string;
  readonly endpoints: TableEndpoint[];
  /** The Service port's appProtocol asks for https. */
  readonly appHttps: boolean;
  readonly problem: string | undefined;
  /** What to report on whoever names this port. */
  readonly issue: Issue | undefined;
  /** What it was made from: the Service (undefined: there was none) and its EndpointSlices. */
  readonly from: Service | undefined;
  readonly slices: readonly EndpointSlice[];
  /** The problems found in its endpoints, reported again by each build that uses it. */
  problems: readonly Problem[];
  /** The snapshot's map of Services its Service was last found in. */
  servicesMap: ReadonlyMap<ObjectKey, Service> | undefined;
  /** The build that last used it (BuildMemo's stamp), and its backends in that build: one per upstream scheme, made on first use. */
  stamp: number;
  http: ResolvedBackend | undefined;
  https: ResolvedBackend | undefined;
}

/** What a lookup is made from: the Service (undefined: there is none), its EndpointSlices, and the snapshot's map of Services. */
interface Made {
  from: Service | undefined;
  slices: readonly EndpointSlice[];
  servicesMap: ReadonlyMap<ObjectKey, Service>;
}

function portLookup(made: Made, service: string, port: string, endpoints: TableEndpoint[], appHttps: boolean, problem?: string, issue?: Issue): PortLookup {
  return { service, port, endpoints, appHttps, problem, issue, from: made.from, slices: made.slices, problems: NO_PROBLEMS, servicesMap: made.servicesMap, stamp: 0, http: undefined, https: undefined };
}

function unresolved(made: Made, service: string, port: string, problem: string, field: string, message = `${problem}; requests get 503`): PortLookup {
  return portLookup(made, service, port, [], false, problem, { field, message });
}

/** The lookups of one Service, by the port as Ingresses name it (a Service has few ports: a list). */
export type ServiceLookups = { port: number | string; lookup: PortLookup }[];

interface Indexes {
  readonly services: ByNamespace<Service>;
  readonly slices: ByNamespace<EndpointSlice[]>;
  /**
   * Against the indexes of the memo's last build: the Services whose
   * EndpointSlices may have changed, with no Service changed (none: the same
   * maps); undefined when that is not known (an index made anew).
   */
  readonly touched: readonly ServiceName[] | undefined;
}

/** The indexes of this snapshot's Services and EndpointSlices, taken over from the memo for a map it has seen. */
function indexes(state: BuildState): Indexes {
  const memo = state.context.memo;
  const { services, endpointSlices } = state.snapshot;
  if (!memo) return { services: indexServices(services.values()), slices: indexEndpointSlices(endpointSlices.values()), touched: undefined };
  let touched: ServiceName[] | undefined = [];
  if (memo.services?.map !== services) {
    memo.services = { map: services, index: indexServices(services.values()) };
    touched = undefined;
  }
  if (memo.slices?.map !== endpointSlices) {
    const changes = state.snapshot.endpointSliceChanges;
    const incremental = memo.slices !== undefined && changes !== undefined && changes.base === memo.slices.map &&
      changes.keys.size <= Math.max(16, endpointSlices.size >> 3);
    if (incremental) memo.reused.sliceIndex++;
    let index: ByNamespace<EndpointSlice[]>;
    if (incremental) index = updateSliceIndex(memo.slices!.index, changes!, endpointSlices, touched ?? []);
    else {
      index = indexEndpointSlices(endpointSlices.values());
      touched = undefined;
    }
    memo.slices = { map: endpointSlices, index };
  }
  return { services: memo.services.index, slices: memo.slices.index, touched };
}

/** The references of `routing` by namespace and Service, made once per routing. */
function refsByService(kept: LookupsMemo, routing: RoutingMemo): ByNamespace<BackendRef[]> {
  if (kept.refs?.routing === routing) return kept.refs.index;
  const index: ByNamespace<BackendRef[]> = new Map();
  const add = (ref: BackendRef) => slot(slot(index, ref.namespace, newMap<string, BackendRef[]>), ref.service, newList<BackendRef>).push(ref);
  for (const route of routing.routes) add(route.backend);
  for (const d of routing.defaults) add(d.backend);
  if (routing.controllerDefault) add(routing.controllerDefault);
  kept.refs = { routing, index };
  return index;
}

/** readyEndpoints(), or what it gave for the same port and slices in an earlier build (with its problems again). */
function endpointsOf(state: BuildState, slices: readonly EndpointSlice[], servicePort: ServicePort): TableEndpoint[] {
  const memo = state.context.memo;
  if (!memo) return readyEndpoints(state, slices, servicePort);
  const known = memo.endpoints.get(servicePort);
  if (known && sameObjects(known.slices, slices)) {
    state.problems.push(...known.problems);
    memo.reused.endpoints++;
    return known.endpoints;
  }
  const before = state.problems.length;
  const endpoints = readyEndpoints(state, slices, servicePort);
  // The list itself: the index's lists are never changed, only replaced (updateSliceIndex).
  memo.endpoints.set(servicePort, { slices, endpoints, problems: state.problems.length > before ? state.problems.slice(before) : NO_PROBLEMS });
  return endpoints;
}

const NO_SLICES: readonly EndpointSlice[] = [];
const NO_PROBLEMS: readonly Problem[] = [];

export const resolveServices: Processor = (state) => {
  const { services, slices, touched } = indexes(state);
  const memo = state.context.memo;
  // With a memo the lookups live on: a build looks up again only the ports
  // of Services or EndpointSlices that changed.
  const kept = memo ? (memo.lookups ??= {
    index: new Map(), stamp: 0, entries: 0, servicesMap: undefined, slicesMap: undefined, routing: undefined, gatewayRefs: false, nextId: 0, reported: undefined, refs: undefined,
  }) : undefined;
  const lookups: ByNamespace<ServiceLookups> = kept ? kept.index : new Map();
  // When the last build resolved against the indexes these were brought up
  // to date from, a lookup it used holds unless its Service is one of those
  // touched since: those are marked unused, and the others are taken over
  // without looking their Service and slices up again (an endpoint change at
  // 10,000 Ingresses: 20,000 references, one Service touched).
  const carried = kept !== undefined && touched !== undefined && kept.servicesMap === state.snapshot.services &&
    kept.slicesMap !== undefined && (kept.slicesMap === state.snapshot.endpointSlices || state.snapshot.endpointSliceChanges?.base === kept.slicesMap);
  // And when the references are the last build's too (its routing, taken
  // over, with no Gateway API references either time), only the references
  // to the touched Services are resolved: the others keep what they were
  // resolved to, which the lookups they hold still say, and the build keeps
  // the last one's stamp, so those lookups stay the last build's own. Even
  // touching 20,000 references was most of an endpoint change's build.
  const gatewayRefs = (state.gateway?.refs.size ?? 0) > 0;
  const only = carried && state.routingReused && state.routing !== undefined && kept.routing === state.routing && !kept.gatewayRefs && !gatewayRefs &&
    kept.reported !== undefined ? touched : undefined;
  const stamp = kept ? (only ? kept.stamp : ++kept.stamp) : 1;
  if (carried) {
    for (const t of touched) for (const entry of lookups.get(t.namespace)?.get(t.service) ?? []) entry.lookup.stamp = 0;
  }
  if (kept) {
    kept.servicesMap = state.snapshot.services;
    kept.slicesMap = state.snapshot.endpointSlices;
    kept.routing = state.routing;
    kept.gatewayRefs = gatewayRefs;
    // The index of another routing's references would keep that routing alive.
    if (kept.refs !== undefined && kept.refs.routing !== state.routing) kept.refs = undefined;
  }
  // What this build reports of what it resolves, for a build that resolves only some references after it.
  const reportedLookups: PortLookup[] = [];
  const reportedRefs: BackendRef[] = [];
  const endpointsByPort = new Map<ServicePort, { endpoints: TableEndpoint[]; problems: readonly Problem[] }>();
  let used = 0;

  // One for every lookup of the build: its fields are copied into the lookup made.
  const made: Made = { from: undefined, slices: NO_SLICES, servicesMap: state.snapshot.services };
  const lookUp = (ref: BackendRef): PortLookup => {
    const key = `${ref.namespace}/${ref.service}`;
    const port = String(ref.port);
    const service = services.get(ref.namespace)?.get(ref.service);
    made.from = service;
    made.slices = slices.get(ref.namespace)?.get(ref.service) ?? NO_SLICES;
    if (!service) return unresolved(made, key, port, `Service ${key} does not exist`, '.service.name');
    if (service.spec?.type === 'ExternalName') {
      return unresolved(made, key, port, EXTERNAL_NAME_PROBLEM, '.service.name',
        `Service ${key} is of type ExternalName (${service.spec.externalName ?? 'no externalName'}): ${EXTERNAL_NAME_PROBLEM}; requests get 503`);
    }
    const servicePort = findServicePort(service, ref.port);
    if (!servicePort) {
      return typeof ref.port === 'number'
        ? unresolved(made, key, port, `Service ${key} has no TCP port ${ref.port}`, '.service.port.number')
        : unresolved(made, key, port, `Service ${key} has no port named "${ref.port}"`, '.service.port.name');
    }
    if (!isTcp(servicePort.protocol)) {
      return unresolved(made, key, port, `Service ${key} port "${port}" is ${servicePort.protocol ?? ''}, not TCP`, '.service.port.name');
    }
    let found = endpointsByPort.get(servicePort);
    if (!found) {
      const before = state.problems.length;
      const endpoints = endpointsOf(state, made.slices, servicePort);
      found = { endpoints, problems: state.problems.length > before ? state.problems.slice(before) : NO_PROBLEMS };
      endpointsByPort.set(servicePort, found);
    }
    const appHttps = servicePort.appProtocol !== undefined && HTTPS_APP_PROTOCOLS.has(servicePort.appProtocol.toLowerCase());
    const lookup = portLookup(made, key, port, found.endpoints, appHttps);
    lookup.problems = found.problems;
    return lookup;
  };

  /** A lookup made afresh, for this build. */
  const fresh = (ref: BackendRef): PortLookup => {
    const lookup = lookUp(ref);
    lookup.stamp = stamp;
    if (lookup.problems.length > 0) reportedLookups.push(lookup);
    used++;
    return lookup;
  };

  const servicesMap = state.snapshot.services;

  /** Whether a lookup of an earlier build still holds: its Service and EndpointSlices are the same objects. */
  const holds = (l: PortLookup, ref: BackendRef): boolean => {
    const list = slices.get(ref.namespace)?.get(ref.service) ?? NO_SLICES;
    if (list !== l.slices && !sameObjects(l.slices, list)) return false;
    // Checked against this very map of Services before: no Service changed since.
    if (l.servicesMap === servicesMap) return true;
    if (services.get(ref.namespace)?.get(ref.service) !== l.from) return false;
    l.servicesMap = servicesMap;
    return true;
  };

  /** Taken over: its backends are this build's to make, its problems this build's to report. */
  const takeOver = (l: PortLookup): PortLookup => {
    l.stamp = stamp;
    l.http = l.https = undefined;
    if (l.problems.length > 0) {
      state.problems.push(...l.problems);
      reportedLookups.push(l);
    }
    used++;
    if (memo) memo.reused.lookups++;
    return l;
  };

  const find = (ref: BackendRef): PortLookup => {
    // Another reference to the same port resolved it in this build already:
    // a lookup stamped with this build is the one its key holds. One the
    // last build used is its key's still (a lookup is replaced only once no
    // build used it last).
    const last = ref.lookup;
    if (last !== undefined && kept) {
      if (last.stamp === stamp) return last;
      // (With only some resolved, the stamp is the last build's: this branch is for a build of its own stamp.)
      if (carried && !only && last.stamp === stamp - 1) {
        if (memo) memo.reused.carried++;
        return takeOver(last);
      }
    }
    const lookup = findKept(ref);
    ref.lookup = lookup;
    return lookup;
  };

  const findKept = (ref: BackendRef): PortLookup => {
    const known = slot(slot(lookups, ref.namespace, newMap<string, ServiceLookups>), ref.service, newList<ServiceLookups[number]>);
    for (const entry of known) {
      if (entry.port !== ref.port) continue;
      const l = entry.lookup;
      if (l.stamp === stamp) return l;
      if (holds(l, ref)) return takeOver(l);
      entry.lookup = fresh(ref);
      return entry.lookup;
    }
    const lookup = fresh(ref);
    known.push({ port: ref.port, lookup });
    if (kept) kept.entries++;
    return lookup;
  };

  // Past the ids the references kept hold, when only some are resolved.
  let nextId = only ? kept!.nextId : 0;
  const resolve = (ref: BackendRef): void => {
    if (ref.resolved) return;
    const lookup = find(ref);
    // backend-protocol decides when given; otherwise the Service port's appProtocol.
    const scheme: UpstreamScheme = ref.owner?.settings.scheme ?? (lookup.appHttps ? 'https' : 'http');
    let resolved = lookup[scheme];
    if (!resolved) {
      resolved = { id: nextId++, service: lookup.service, port: lookup.port, scheme, endpoints: lookup.endpoints, problem: lookup.problem };
      lookup[scheme] = resolved;
    }
    ref.resolved = resolved;
    const issue = lookup.issue;
    if (!issue) return;
    reportedRefs.push(ref);
    reportIssue(ref, issue);
  };

  const reportIssue = (ref: BackendRef, issue: Issue): void => {
    if (ref.owner) {
      report(state, 'Ingress', ref.owner.namespace, ref.owner.name, `${backendField(ref)}${issue.field}`, 'Error', issue.message);
    } else if (ref.httpRoute) {
      report(state, 'HTTPRoute', ref.httpRoute.namespace, ref.httpRoute.name, ref.httpRoute.field, 'Error', issue.message);
    } else {
      report(state, 'Controller', '', state.config.controllerName, backendField(ref), 'Error', issue.message);
    }
  };

  if (only) {
    // The last build's reports of the lookups and references kept (those of
    // the touched Services' were marked unused above), then the touched
    // Services' references resolved again.
    const last = kept!.reported!;
    for (const l of last.lookups) {
      if (l.stamp !== stamp) continue;
      state.problems.push(...l.problems);
      reportedLookups.push(l);
    }
    for (const ref of last.refs) {
      if (ref.lookup!.stamp !== stamp) continue;
      reportedRefs.push(ref);
      reportIssue(ref, ref.lookup!.issue!);
    }
    const byService = refsByService(kept!, state.routing!);
    for (const t of only) {
      const refs = byService.get(t.namespace)?.get(t.service) ?? [];
      for (const ref of refs) ref.resolved = undefined;
      for (const ref of refs) resolve(ref);
    }
    state.resolvedOnly = only;
    memo!.reused.resolvedOnly++;
  } else {
    if (state.routingReused) {
      // The last build's references, resolved afresh: their Services and endpoints may differ.
      for (const route of state.routes) route.backend.resolved = undefined;
      for (const d of state.defaults) d.backend.resolved = undefined;
      if (state.controllerDefault) state.controllerDefault.resolved = undefined;
    }
    for (const route of state.routes) resolve(route.backend);
    for (const d of state.defaults) resolve(d.backend);
    if (state.controllerDefault) resolve(state.controllerDefault);
    // Last, so that the Ingresses' backends are numbered as without Gateways (the table memo compares them).
    for (const ref of state.gateway?.refs.values() ?? []) resolve(ref);
  }
  if (kept) {
    kept.reported = { lookups: reportedLookups, refs: reportedRefs };
    kept.nextId = nextId;
  }
  if (only) return;
  // Lookups no build uses any more (their Ingresses or backends went away) go once they outnumber the rest.
  if (kept && kept.entries > 2 * used + 1000) {
    kept.entries = 0;
    for (const [namespace, byName] of lookups) {
      for (const [name, list] of byName) {
        const live = list.filter((e) => e.lookup.stamp === stamp);
        if (live.length === 0) byName.delete(name);
        else if (live.length !== list.length) byName.set(name, live);
        kept.entries += live.length;
      }
      if (byName.size === 0) lookups.delete(namespace);
    }
  }
};
