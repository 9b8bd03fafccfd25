// What a build may take over from the one before it. The loop builds again
// and again from a cache whose maps and objects are replaced, never changed
// (a map handed out by a snapshot is copied before its next change, and a
// watch event brings a new object): so an input that is the same object as
// last time holds the same content, and what was made from it last time is
// what would be made again. Everything here is keyed by that identity, and a
// build with a memo gives exactly what a build without one gives
// (memo.test.ts compares the two over random sequences of changes).
//
// Four things are kept:
// - per Ingress object, its claim and what was read of it alone (settings,
//   paths, default backend, their problems: ingresses.ts): a changed or new
//   Ingress is read, the others are taken over, and what looks across
//   Ingresses (precedence, conflicts, TLS) is done again;
// - the routing: the claimed Ingresses, their rules, defaults, conflicts and
//   TLS, made from the Ingresses, IngressClasses and Secrets, the flags and
//   the time (a certificate's validity changes at an instant the TLS
//   processor notes); an endpoint or Service change reuses it whole;
// - per Service port, its ready endpoints, made from the Service and its
//   EndpointSlices: one EndpointSlice changed makes one Service's again; and
//   the lookup of each port as Ingresses name it, checked against the same
//   objects before each use;
// - the table's hosts, when the routing was reused and every backend of it
//   resolved to the same backend as last time (only endpoints, problems or
//   options of backends changed): the backends are made again, the hosts
//   and their rules are the same objects (the model is read-only).
//
// A processor added to the routing that reads another kind (or a flag
// outside BuildConfig) must add it to RoutingMemo and to reuseRouting() in
// build.ts, or run after the routing.
//
// Snapshots whose maps are changed after a build (snapshotOf() gives fresh
// ones; ObjectCache never changes one it handed out) must not be built with
// a memo.

import type { BuildConfig } from '../config/config.js';
import type { EndpointSlice, IngressClass, Ingress, ObjectKey, Secret, Service, ServicePort } from '../kube/types.js';
import type { CertificateCache } from './certificates.js';
import type { Problem, TlsModel } from './model.js';
import type { BackendRef, ClaimedIngress, DefaultCandidate, HostGroup, RouteCandidate } from './state.js';
import type { TableBackend, TableEndpoint, TableHost } from './table-model.js';
import type { PortLookup, ServiceLookups } from './services.js';

/** What the routing processors left, and what it was made from. */
export interface RoutingMemo {
  readonly ingresses: ReadonlyMap<ObjectKey, Ingress>;
  readonly ingressClasses: ReadonlyMap<ObjectKey, IngressClass>;
  readonly secrets: ReadonlyMap<ObjectKey, Secret>;
  readonly config: BuildConfig;
  readonly certificates: CertificateCache;
  /** The build's time, and the first instant at which the routing could come out otherwise. */
  readonly now: number;
  readonly validUntil: number;
  readonly claimed: ClaimedIngress[];
  readonly routes: RouteCandidate[];
  readonly defaults: DefaultCandidate[];
  readonly hosts: Map<string, HostGroup>;
  readonly controllerDefault: BackendRef | undefined;
  readonly tls: TlsModel;
  readonly httpsHosts: Set<string>;
  readonly clientVerifiedHosts: Set<string>;
  readonly problems: readonly Problem[];
}

/** The ready endpoints of one Service port, from these slices (in this order), and the problems found in them. */
export interface EndpointsMemo {
  readonly slices: readonly EndpointSlice[];
  readonly endpoints: TableEndpoint[];
  readonly problems: readonly Problem[];
}

/** The table's hosts as made from one routing, with the backend each reference resolved to. */
export interface TableMemo {
  readonly routing: RoutingMemo;
  /** ResolvedBackend.id of every reference, in the order the services processor resolves them. */
  readonly ids: Int32Array;
  readonly hosts: TableHost[];
  readonly defaultBackend: number | undefined;
  readonly served: string[];
  /** Per table backend, the reference and host that made it first, and whether it redirects to https. */
  readonly makers: ReadonlyArray<{ readonly ref: BackendRef; readonly host: string; readonly redirect: boolean }>;
  /** The last build's backends, each taken over by the next build when it comes out equal. */
  backends: readonly TableBackend[];
  /** The makers' indexes by namespace and Service, made the first time only some backends are made again. */
  makersByService: Map<string, Map<string, number[]>> | undefined;
}

/** How often each part was taken over, for tests and the curious. */
export interface MemoCounts {
  routing: number;
  endpoints: number;
  lookups: number;
  /** Of those, the ones taken over without their Service and slices looked up again (services.ts). */
  carried: number;
  /** Builds that resolved only the references to the Services whose slices changed, and made only their table backends again. */
  resolvedOnly: number;
  /** Ingresses whose parts were taken over by a build that made its routing. */
  ingresses: number;
  /** EndpointSlice indexes brought up to date from the last one by the changed slices. */
  sliceIndex: number;
  table: number;
}

/** The Service port lookups of earlier builds, by namespace, Service and port; each checked against its Service and EndpointSlices before use. */
export interface LookupsMemo {
  readonly index: Map<string, Map<string, ServiceLookups>>;
  /** The number of the build resolving now. */
  stamp: number;
  entries: number;
  /** The snapshot's maps of Services and EndpointSlices the last build resolved against. */
  servicesMap: ReadonlyMap<ObjectKey, Service> | undefined;
  slicesMap: ReadonlyMap<ObjectKey, EndpointSlice> | undefined;
  /** The routing whose references the last build resolved, and whether it had Gateway API references too. */
  routing: RoutingMemo | undefined;
  gatewayRefs: boolean;
  /** One past the highest ResolvedBackend id the last build gave. */
  nextId: number;
  /** What the last build reported of what it resolved: the lookups with problems of their own, and the references whose lookup has an issue. */
  reported: { readonly lookups: readonly PortLookup[]; readonly refs: readonly BackendRef[] } | undefined;
  /** That routing's references by namespace and Service, made the first time only some of them are resolved again. */
  refs: { readonly routing: RoutingMemo; readonly index: Map<string, Map<string, BackendRef[]>> } | undefined;
}

export class BuildMemo {
  /** By the Ingress object: a changed Ingress is a new object, and one that went away takes its entry with it. */
  readonly ingresses = new WeakMap<Ingress, ClaimedIngress>();
  routing: RoutingMemo | undefined;
  services: { readonly map: ReadonlyMap<ObjectKey, Service>; readonly index: Map<string, Map<string, Service>> } | undefined;
  slices: { readonly map: ReadonlyMap<ObjectKey, EndpointSlice>; readonly index: Map<string, Map<string, EndpointSlice[]>> } | undefined;
  /** By the Service port object: a changed Service is a new object, and one that went away takes its entries with it. */
  readonly endpoints = new WeakMap<ServicePort, EndpointsMemo>();
  lookups: LookupsMemo | undefined;
  table: TableMemo | undefined;
  /**
   * Drops what the builds made across objects (what was made of one object
   * alone, by that object, stays true). The lookups stay, each to be checked
   * against its Service and slices again (nothing is carried): references
   * hold them, and a new memo's stamps would count from 1 again, as theirs
   * did.
   */
  forget(): void {
    this.routing = undefined;
    this.services = undefined;
    this.slices = undefined;
    this.table = undefined;
    const l = this.lookups;
    if (l) {
      l.servicesMap = l.slicesMap = l.routing = l.reported = l.refs = undefined;
    }
  }

  readonly reused: MemoCounts = { routing: 0, endpoints: 0, lookups: 0, carried: 0, resolvedOnly: 0, ingresses: 0, sliceIndex: 0, table: 0 };
}

/** Whether two lists hold the same objects in the same order. */
export function sameObjects<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
