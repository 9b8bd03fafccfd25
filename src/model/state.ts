// The working state of one build: created by build(), filled in by the
// processors in order, then dropped. Nothing here outlives a build.

import type { PortLookup } from './services.js';
import type { Ingress } from '../kube/types.js';
import type { Snapshot } from '../cache/snapshot.js';
import type { BackendOptions, PathType, TableEndpoint, TableModel, UpstreamScheme } from './table-model.js';
import type { BuildConfig } from '../config/config.js';
import type { CertificateCache } from './certificates.js';
import type { ClientVerification, Problem, ProblemKind, RecordsModel, Severity, TlsModel, TlsVersion } from './model.js';
import type { BuildMemo, RoutingMemo } from './memo.js';
import type { GatewayState } from './gateway/gateway-table.js';

/** What an Ingress's annotations ask for, already validated. */
export interface IngressSettings {
  /** `backend-protocol`; absent: the Service port's appProtocol decides. */
  readonly scheme?: UpstreamScheme;
  /** Options every backend of the Ingress gets (no redirect: that depends on the host). */
  readonly options: BackendOptions;
  /** The options as canonical text: equal options, equal text. */
  readonly optionsKey: string;
  /** `ssl-redirect: "true"`: redirect plain HTTP for the hosts that have a certificate. */
  readonly sslRedirect: boolean;
  /** The TLS policy for this Ingress's hosts, when its annotations ask for one. */
  readonly tls?: RequestedTlsPolicy;
}

/** The TLS annotations, checked; the CA Secret is read by the TLS processor. */
export interface RequestedTlsPolicy {
  readonly minVersion?: TlsVersion;
  readonly verifyClient: ClientVerification;
  /** `namespace/name` of the CA Secret when clients are verified; '' when the annotation was given but invalid (no client can be verified). */
  readonly caSecret?: string;
  readonly verifyDepth: number;
}

export const NO_SETTINGS: IngressSettings = Object.freeze({ options: Object.freeze({}), optionsKey: '', sslRedirect: false });

export interface ClaimedIngress {
  /** `namespace/name`. */
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly object: Ingress;
  /** creationTimestamp in ms; +Infinity when absent or unreadable (newest). */
  readonly created: number;
  /** Filled in by readIngresses (ingresses.ts), as are the three below. */
  settings: IngressSettings;
  /** The valid hosts its rules name ('' for a rule without host), each once. */
  readonly ruleHosts: string[];
  /** Its spec.defaultBackend, when there is one and it is valid. */
  defaultBackend: BackendRef | undefined;
  /** Its paths and problems, kept when the build has a memo (the claim then outlives the build). */
  parts: IngressParts | undefined;
  /**
   * One more than its index in the claim order of the build that last
   * numbered its backends (table.ts): good only while that build's list
   * holds it there.
   */
  place: number;
  /**
   * Where its backends begin in the last table the build memo keeps
   * (table.ts): good only where that table's backend there is its own.
   */
  run: number;
}

/**
 * What one Ingress gives on its own, made from its object alone: its valid
 * paths, and the problems found in its annotations, rules and backends.
 */
export interface IngressParts {
  /** In the Ingress's own order. */
  readonly routes: readonly RouteCandidate[];
  readonly problems: readonly Problem[];
}

/**
 * A Service port named by an Ingress (or by the controller's
 * --default-backend). Where it sits is kept as indexes, not text: the field
 * is spelled out only for a problem.
 */
export interface BackendRef {
  readonly namespace: string;
  readonly service: string;
  /** The Service port: its number, or its name. */
  readonly port: number | string;
  /** The Ingress that names it; undefined for --default-backend. */
  readonly owner: ClaimedIngress | undefined;
  /** spec.rules[rule].http.paths[path].backend; rule -1: spec.defaultBackend (or the flag, without owner). */
  readonly rule: number;
  readonly path: number;
  /** Filled in by the services processor. */
  resolved: ResolvedBackend | undefined;
  /** The services processor's lookup for it in the last build that resolved it (services.ts). */
  lookup?: PortLookup;
  /** For a backendRef of an HTTPRoute (owner undefined): where problems with the Service are reported. */
  readonly httpRoute?: { readonly namespace: string; readonly name: string; readonly field: string };
}

/** `namespace/service:port` for messages. */
export function backendLabel(ref: BackendRef): string {
  return `${ref.namespace}/${ref.service}:${ref.port}`;
}

/** Everything about one host: its candidates, then the winners. */
export interface HostGroup {
  /** Lowercase; '' for the catch-all. */
  readonly name: string;
  /** Every valid path for this host, in precedence order. */
  readonly routes: RouteCandidate[];
  /** spec.defaultBackend of each Ingress naming this host, in precedence order (most hosts have none). */
  defaults: DefaultCandidate[] | undefined;
  /** After conflicts: one route per (path, pathType). */
  winners: RouteCandidate[] | undefined;
  /** After conflicts: the default backend, if any. */
  defaultWinner: DefaultCandidate | undefined;
}

/** A backend before the per-host options (redirect) are added: one per (Service, port, scheme) in a build. */
export interface ResolvedBackend {
  /** Numbers the ResolvedBackends of one build, from 0. */
  readonly id: number;
  /** `namespace/name`. */
  readonly service: string;
  readonly port: string;
  readonly scheme: UpstreamScheme;
  /** Shared by every backend of this Service port (and the table): never changed once made. */
  readonly endpoints: TableEndpoint[];
  readonly problem: string | undefined;
}

export interface RouteCandidate {
  /** Lowercase; '' for the catch-all. */
  readonly host: string;
  readonly path: string;
  readonly pathType: PathType;
  readonly ingress: ClaimedIngress;
  /** spec.rules[rule].http.paths[index] */
  readonly rule: number;
  readonly index: number;
  readonly backend: BackendRef;
}

export interface DefaultCandidate {
  readonly host: string;
  readonly ingress: ClaimedIngress;
  readonly backend: BackendRef;
}

export const DEFAULT_BACKEND_FIELD = 'spec.defaultBackend';
const CONTROLLER_DEFAULT_BACKEND_FIELD = '--default-backend';

export function pathField(rule: number, index: number): string {
  return `spec.rules[${rule}].http.paths[${index}]`;
}

/** Where a backend sits in its Ingress (or the flag). */
export function backendField(ref: Pick<BackendRef, 'rule' | 'path' | 'owner'>): string {
  if (!ref.owner) return CONTROLLER_DEFAULT_BACKEND_FIELD;
  return ref.rule < 0 ? DEFAULT_BACKEND_FIELD : `${pathField(ref.rule, ref.path)}.backend`;
}

export interface BuildState {
  readonly snapshot: Snapshot;
  readonly config: BuildConfig;
  readonly problems: Problem[];
  /** Claimed Ingresses, oldest first (creation time, then namespace/name). */
  ingresses: ClaimedIngress[];
  /** Every valid path of every claimed Ingress, in precedence order. */
  routes: RouteCandidate[];
  /** spec.defaultBackend of each claimed Ingress, once per host it applies to, in precedence order. */
  defaults: DefaultCandidate[];
  /** The same candidates by host (in first-seen order; sorted at the end). */
  hosts: Map<string, HostGroup>;
  controllerDefault: BackendRef | undefined;
  tls: TlsModel;
  records: RecordsModel | undefined;
  /** Hosts (exact or wildcard) that have a certificate. */
  httpsHosts: Set<string>;
  /** Hosts (exact or wildcard) whose TLS policy verifies client certificates: plain HTTP to them is redirected. */
  clientVerifiedHosts: Set<string>;
  /** The build's time (ms) and its memo of parsed Secrets. */
  readonly context: BuildContext;
  table: TableModel;
  served: string[];
  /**
   * The first instant (ms) at which what was built so far could come out
   * otherwise for the same objects (a certificate becomes valid or expires);
   * +Infinity when time plays no part.
   */
  validUntil: number;
  /** The routing this build made or took over, when it has a memo. */
  routing: RoutingMemo | undefined;
  /** True when that routing is the last build's, taken over (reuseRouting in build.ts). */
  routingReused: boolean;
  /**
   * Set by resolveServices when it resolved only the references to these
   * Services, the others keeping what the last build resolved them to (the
   * same routing, only their EndpointSlices changed): the table is then made
   * again for them alone (table.ts).
   */
  resolvedOnly: readonly ServiceName[] | undefined;
  /** The Gateway API part, made by collectGateways. */
  gateway: GatewayState | undefined;
}

/** A Service by namespace and name. */
export interface ServiceName {
  readonly namespace: string;
  readonly service: string;
}

/** A processor: one step of the build, in place on the build state. */
export type Processor = (state: BuildState) => void;

/** What a build needs beyond the objects and the flags. */
export interface BuildContext {
  /** ms since the epoch: certificates are checked against it. */
  readonly now: number;
  readonly certificates: CertificateCache;
  /** What the previous builds made (memo.ts); absent: everything is made afresh. */
  readonly memo?: BuildMemo;
}

export function newState(snapshot: Snapshot, config: BuildConfig, context: BuildContext): BuildState {
  return {
    snapshot,
    config,
    problems: [],
    ingresses: [],
    routes: [],
    defaults: [],
    controllerDefault: undefined,
    hosts: new Map(),
    tls: { certificates: [], hosts: [], policies: [] },
    records: undefined,
    httpsHosts: new Set(),
    clientVerifiedHosts: new Set(),
    context,
    table: { hosts: [], backends: [] },
    served: [],
    validUntil: Number.POSITIVE_INFINITY,
    routing: undefined,
    routingReused: false,
    resolvedOnly: undefined,
    gateway: undefined,
  };
}

/** The group of a host, created on first use. */
export function hostGroup(state: BuildState, name: string): HostGroup {
  let group = state.hosts.get(name);
  if (!group) {
    group = { name, routes: [], defaults: undefined, winners: undefined, defaultWinner: undefined };
    state.hosts.set(name, group);
  }
  return group;
}

/** Older first: creation time, then namespace/name. The older one wins every tie. */
export function olderFirst(a: ClaimedIngress, b: ClaimedIngress): number {
  if (a.created !== b.created) return a.created < b.created ? -1 : 1;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

export function reportOn(
  state: BuildState,
  ingress: ClaimedIngress,
  field: string,
  severity: Severity,
  message: string,
): void {
  state.problems.push({ kind: 'Ingress', namespace: ingress.namespace, name: ingress.name, field, message, severity });
}

export function report(
  state: BuildState,
  kind: ProblemKind,
  namespace: string,
  name: string,
  field: string,
  severity: Severity,
  message: string,
): void {
  state.problems.push({ kind, namespace, name, field, message, severity });
}
