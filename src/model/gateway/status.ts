// The status of our Gateways and of the HTTPRoutes that name them, from a
// build: what the leader writes and what `controller --once --json` prints.
// Pure: the objects, the build's Gateway model, and whether a live table
// holds each Gateway are the inputs. The reasons and their meaning are the
// spec's (apis/v1 of Gateway API v1.6.3), quoted where a choice is made.

import type { Snapshot } from '../../cache/snapshot.js';
import type { BuildConfig } from '../../config/config.js';
import { GATEWAY_GROUP } from '../../kube/gateway-types.js';
import type { Condition, Gateway, HTTPRoute, Listener, ListenerStatus, ObjectKey, ParentReference, RouteGroupKind, RouteParentStatus } from '../../kube/types.js';
import { namespaceOf } from '../../kube/types.js';
import type { CertificateCache } from '../certificates.js';
import type { GatewayBuild } from '../model.js';
import type { ConditionWant } from './class-status.js';
import { mergedConditions } from './class-status.js';
import type { GatewayListenerModel, GatewayModel, RouteParentResult } from './gateway-routes.js';
import { certificateRefsProblem } from './certificate-refs.js';
import { ANY_ADDRESS } from './addresses.js';

export { certificateRefsProblem, type CertificateRefReason } from './certificate-refs.js';

const isHttp = (protocol: string) => protocol === 'HTTP' || protocol === 'HTTPS';
const cond = (type: string, ok: boolean, reason: string, message: string): ConditionWant => ({ type, status: ok ? 'True' : 'False', reason, message });

// ---------------------------------------------------------------- listeners

export type ConflictReason = 'HostnameConflict' | 'ProtocolConflict';

/**
 * The listeners that are not distinct, by name. "each listener in a set MUST
 * have a unique combination of Port, Protocol, and, if supported by the
 * protocol, Hostname"; HTTP and HTTPS on one port cannot be told apart
 * before the first bytes, so every HTTP and HTTPS listener of a port that
 * has both is a ProtocolConflict ("multiple Listeners are specified with the
 * same Listener port number, but have conflicting protocol
 * specifications"); listeners of one protocol, port and hostname are a
 * HostnameConflict. Listeners of protocols we do not serve take no part:
 * "If an implementation does not support TCP Protocol Listeners, then the
 * previous rule does not apply".
 */
export function listenerConflicts(listeners: readonly Listener[]): Map<string, ConflictReason> {
  const out = new Map<string, ConflictReason>();
  const byPort = new Map<number, Listener[]>();
  for (const l of listeners) {
    if (!isHttp(l.protocol)) continue;
    const list = byPort.get(l.port);
    if (list) list.push(l);
    else byPort.set(l.port, [l]);
  }
  for (const list of byPort.values()) {
    if (new Set(list.map((l) => l.protocol)).size > 1) {
      for (const l of list) out.set(l.name, 'ProtocolConflict');
      continue;
    }
    const byHost = new Map<string, Listener[]>();
    for (const l of list) {
      const h = l.hostname ?? '';
      byHost.set(h, [...(byHost.get(h) ?? []), l]);
    }
    for (const same of byHost.values()) if (same.length > 1) for (const l of same) out.set(l.name, 'HostnameConflict');
  }
  return out;
}

/**
 * "If kinds are specified in Spec that are not supported, they MUST NOT
 * appear in this list and an implementation MUST set the "ResolvedRefs"
 * condition to "False" with the "InvalidRouteKinds" reason" (supported
 * here: HTTPRoute, on HTTP and HTTPS listeners).
 */
export function invalidRouteKinds(listener: Listener): RouteGroupKind[] {
  return (listener.allowedRoutes?.kinds ?? []).filter((k) => !(isHttp(listener.protocol) && (k.group ?? GATEWAY_GROUP) === GATEWAY_GROUP && k.kind === 'HTTPRoute'));
}

// ---------------------------------------------------------------- Gateways

export interface ListenerStatusWant {
  readonly name: string;
  readonly supportedKinds: readonly RouteGroupKind[];
  readonly attachedRoutes: number;
  readonly conditions: readonly ConditionWant[];
}

/** An address of status.addresses. */
export interface GatewayAddress {
  readonly type: 'IPAddress' | 'Hostname';
  readonly value: string;
}

export interface GatewayStatusWant {
  readonly conditions: readonly ConditionWant[];
  readonly addresses: readonly GatewayAddress[];
  readonly listeners: readonly ListenerStatusWant[];
}

export interface GatewayStatusInputs {
  readonly build: GatewayBuild;
  readonly snapshot: Snapshot;
  readonly certificates: CertificateCache;
  /**
   * In a cluster (--gateway-port-range): the addresses of each Gateway's
   * Service (src/publish/gateway-services.ts), by `namespace/name`; absent
   * or empty: none yet (a LoadBalancer being provisioned), and the Gateway
   * is not Programmed.
   */
  readonly serviceAddresses?: ReadonlyMap<ObjectKey, readonly GatewayAddress[]>;
}

const NO_ROUTES: Pick<GatewayListenerModel, 'supportedKinds' | 'attachedRoutes'> = { supportedKinds: [], attachedRoutes: 0 };

/**
 * The status of one of our Gateways. `programmed`: a table that ATS serves
 * holds this generation of the Gateway (Programmed is "configuration that is
 * assumed to be ready soon in the underlying data plane").
 */
export function gatewayStatusWant(gateway: Gateway, model: GatewayModel, inputs: GatewayStatusInputs, programmed: boolean): GatewayStatusWant {
  const key = model.key;
  const address = inputs.build.addresses.get(key);
  // Locally the Gateway's own address; in a cluster its Service's.
  const byPort = address === ANY_ADDRESS;
  const published: readonly GatewayAddress[] = address === undefined ? [] : byPort ? (inputs.serviceAddresses?.get(key) ?? []) : [{ type: 'IPAddress', value: address }];
  const specListeners = gateway.spec?.listeners ?? [];
  const conflicts = listenerConflicts(specListeners);
  const byName = new Map(model.listeners.map((l) => [l.name, l]));

  const listeners = specListeners.map((l): ListenerStatusWant & { valid: boolean } => {
    const m = byName.get(l.name) ?? NO_ROUTES;
    const conflict = conflicts.get(l.name);
    let accepted: ConditionWant;
    if (!isHttp(l.protocol)) accepted = cond('Accepted', false, 'UnsupportedProtocol', `protocol ${l.protocol} is not supported (HTTP and HTTPS are)`);
    else if (inputs.build.unavailablePorts.has(`${key}/${l.name}`)) accepted = cond('Accepted', false, 'PortUnavailable', `port ${l.port} is not one this controller serves (--gateway-ports)`);
    // "The implementation MUST NOT pick one conflicting Listener as the winner. ALL indistinct Listeners must not be accepted for processing."
    else if (conflict) accepted = cond('Accepted', false, conflict, `another listener on port ${l.port} ${conflict === 'ProtocolConflict' ? 'has another protocol' : `has the same hostname (${l.hostname ?? 'none'})`}`);
    else accepted = cond('Accepted', true, 'Accepted', 'Listener is accepted');

    const badKinds = invalidRouteKinds(l);
    const certificate = certificateRefsProblem(gateway, l, inputs.snapshot, inputs.certificates);
    let resolvedRefs: ConditionWant;
    if (badKinds.length > 0) resolvedRefs = cond('ResolvedRefs', false, 'InvalidRouteKinds', `route kinds not supported here: ${badKinds.map((k) => `${k.group ?? GATEWAY_GROUP}/${k.kind}`).join(', ')}`);
    else if (certificate) resolvedRefs = cond('ResolvedRefs', false, certificate.reason, certificate.message);
    else resolvedRefs = cond('ResolvedRefs', true, 'ResolvedRefs', 'References are resolved');

    const conflicted = conflict ? cond('Conflicted', true, conflict, accepted.message) : cond('Conflicted', false, 'NoConflicts', 'No conflicts');
    // A listener without a usable certificate is not served as asked: the conformance suite reads it as Programmed=False/Invalid.
    const valid = accepted.status === 'True' && !certificate;
    let programmedCond: ConditionWant;
    if (!valid) programmedCond = cond('Programmed', false, 'Invalid', 'Listener is invalid, see the other conditions');
    else if (address === undefined) programmedCond = cond('Programmed', false, 'Pending', 'The Gateway has no address');
    else if (!programmed) programmedCond = cond('Programmed', false, 'Pending', 'Waiting for Traffic Server to serve the route table');
    else programmedCond = cond('Programmed', true, 'Programmed', 'Listener is served');
    return { name: l.name, supportedKinds: m.supportedKinds, attachedRoutes: m.attachedRoutes, conditions: [accepted, programmedCond, resolvedRefs, conflicted], valid };
  });

  const rejected = listeners.filter((l) => l.conditions[0]?.status !== 'True').map((l) => l.name);
  const parametersRef = gateway.spec?.infrastructure?.parametersRef;
  const unsupportedAddresses = (gateway.spec?.addresses ?? []).filter((a) => (a.type ?? 'IPAddress') !== 'IPAddress');
  const unusableAddresses = (gateway.spec?.addresses ?? []).filter((a) => (a.type ?? 'IPAddress') === 'IPAddress' && a.value !== undefined && !published.some((p) => p.value === a.value));
  let accepted: ConditionWant;
  if (parametersRef) accepted = cond('Accepted', false, 'InvalidParameters', `infrastructure.parametersRef ${parametersRef.group}/${parametersRef.kind} ${parametersRef.name}: this controller takes no parameters`);
  else if (unsupportedAddresses.length > 0) accepted = cond('Accepted', false, 'UnsupportedAddress', `spec.addresses: only IPAddress is supported, not ${unsupportedAddresses.map((a) => a.type).join(', ')}`);
  else if (rejected.length === listeners.length) accepted = cond('Accepted', false, 'ListenersNotValid', `no listener is accepted: ${rejected.join(', ')}`);
  // "This can be the reason when "Accepted" is "True" or "False", depending on whether the listener being invalid causes the entire Gateway to not be accepted."
  else if (rejected.length > 0) accepted = cond('Accepted', true, 'ListenersNotValid', `listeners not accepted: ${rejected.join(', ')}; the others are`);
  else accepted = cond('Accepted', true, 'Accepted', 'Gateway is accepted');

  let programmedCond: ConditionWant;
  if (accepted.status !== 'True') programmedCond = cond('Programmed', false, 'Invalid', 'Gateway is not accepted');
  else if (address === undefined) {
    programmedCond = cond('Programmed', false, 'AddressNotAssigned', inputs.build.byPort
      ? "the ports left in --gateway-port-range do not hold this Gateway's listener ports (older Gateways took the others)"
      : 'every address of --gateway-addresses is taken by an older Gateway');
  } else if (published.length === 0) programmedCond = cond('Programmed', false, 'AddressNotAssigned', "waiting for the Gateway's Service to have an address");
  else if (unusableAddresses.length > 0) programmedCond = cond('Programmed', false, 'AddressNotUsable', `spec.addresses: ${unusableAddresses.map((a) => a.value).join(', ')} cannot be used; this Gateway is served on ${published.map((a) => a.value).join(', ')}`);
  else if (!programmed) programmedCond = cond('Programmed', false, 'Pending', 'Waiting for Traffic Server to serve the route table');
  else programmedCond = cond('Programmed', true, 'Programmed', `Served on ${published.map((a) => a.value).join(', ')}`);

  return {
    conditions: [accepted, programmedCond],
    addresses: published,
    listeners: listeners.map(({ valid: _valid, ...l }) => l),
  };
}

/** What a Gateway's status subresource is given (a merge patch replaces each list whole). */
export interface GatewayStatusValue {
  readonly conditions: Condition[];
  readonly addresses: Array<{ type: string; value: string }>;
  readonly listeners: ListenerStatus[];
}

/** A condition with its fields in one order, so that two lists compare as text whatever order the API server wrote the keys in. */
function canonCondition(c: Condition): unknown {
  return [c.type, c.status, c.reason, c.message, c.observedGeneration ?? null, c.lastTransitionTime];
}

function canonParentRef(r: ParentReference): unknown {
  return [r.group ?? GATEWAY_GROUP, r.kind ?? 'Gateway', r.namespace ?? null, r.name, r.sectionName ?? null, r.port ?? null];
}

function canonGatewayStatus(s: Gateway['status'] | GatewayStatusValue | undefined): string {
  return JSON.stringify([
    (s?.conditions ?? []).map(canonCondition),
    (s?.addresses ?? []).map((a) => [a.type ?? 'IPAddress', a.value]),
    (s?.listeners ?? []).map((l) => [l.name, (l.supportedKinds ?? []).map((k) => [k.group ?? GATEWAY_GROUP, k.kind]), l.attachedRoutes, (l.conditions ?? []).map(canonCondition)]),
  ]);
}

function canonParents(parents: readonly RouteParentStatus[] | undefined): string {
  return JSON.stringify((parents ?? []).map((p) => [canonParentRef(p.parentRef), p.controllerName, (p.conditions ?? []).map(canonCondition)]));
}

/** The Gateway's status with `want` merged in (other condition types kept, transition times kept while a status holds), and whether it differs from what the object says. */
export function mergeGatewayStatus(current: Gateway, want: GatewayStatusWant, nowMs: number): { status: GatewayStatusValue; changed: boolean } {
  const generation = current.metadata.generation;
  const cur = current.status;
  const listeners = want.listeners.map((w): ListenerStatus => {
    const had = cur?.listeners?.find((l) => l.name === w.name);
    return {
      name: w.name,
      supportedKinds: w.supportedKinds.map((k) => ({ group: k.group ?? GATEWAY_GROUP, kind: k.kind })),
      attachedRoutes: w.attachedRoutes,
      conditions: mergedConditions(had?.conditions, w.conditions, generation, nowMs).conditions,
    };
  });
  const status: GatewayStatusValue = {
    conditions: mergedConditions(cur?.conditions, want.conditions, generation, nowMs).conditions,
    addresses: want.addresses.map((a) => ({ type: a.type, value: a.value })),
    listeners,
  };
  return { status, changed: canonGatewayStatus(cur) !== canonGatewayStatus(status) };
}

// ---------------------------------------------------------------- HTTPRoutes

export interface RouteParentWant {
  readonly parentRef: ParentReference;
  readonly conditions: readonly ConditionWant[];
}

const ACCEPTED_MESSAGES: Record<RouteParentResult['accepted'], string> = {
  Accepted: 'Route is accepted',
  NoMatchingParent: 'no listener of the Gateway matches the parentRef (sectionName, port)',
  NotAllowedByListeners: "the listeners' allowedRoutes do not allow this Route (namespace or kind)",
  NoMatchingListenerHostname: "no hostname of the Route intersects the listeners' hostnames",
};

/**
 * The parentRef as status writes it: "ParentRef corresponds with a
 * ParentRef in the spec", so the Route's own fields, with the group and kind
 * the CRD defaults (a manifest may leave them out).
 */
export function statusParentRef(ref: ParentReference): ParentReference {
  return {
    group: ref.group ?? GATEWAY_GROUP,
    kind: ref.kind ?? 'Gateway',
    ...(ref.namespace !== undefined ? { namespace: ref.namespace } : {}),
    name: ref.name,
    ...(ref.sectionName !== undefined ? { sectionName: ref.sectionName } : {}),
    ...(ref.port !== undefined ? { port: ref.port } : {}),
  };
}

/** The status.parents entries one Route's parentRefs to our Gateways give, in parentRef order. */
export function routeParentsWant(results: readonly RouteParentResult[]): RouteParentWant[] {
  return results.map((p) => ({
    parentRef: statusParentRef(p.parentRef),
    conditions: [
      p.accepted === 'Accepted' ? cond('Accepted', true, 'Accepted', ACCEPTED_MESSAGES.Accepted) : cond('Accepted', false, p.accepted, ACCEPTED_MESSAGES[p.accepted]),
      p.resolvedRefs === 'ResolvedRefs' ? cond('ResolvedRefs', true, 'ResolvedRefs', 'References are resolved') : cond('ResolvedRefs', false, p.resolvedRefs, p.resolvedRefsMessage),
    ],
  }));
}

/** Whether two parentRefs of a Route in `namespace` name the same parent and section. */
function sameParent(a: ParentReference, b: ParentReference, namespace: string): boolean {
  return (a.group ?? GATEWAY_GROUP) === (b.group ?? GATEWAY_GROUP)
    && (a.kind ?? 'Gateway') === (b.kind ?? 'Gateway')
    && (a.namespace ?? namespace) === (b.namespace ?? namespace)
    && a.name === b.name
    && (a.sectionName ?? '') === (b.sectionName ?? '')
    && (a.port ?? 0) === (b.port ?? 0);
}

/**
 * The Route's status.parents with ours replaced by `want`: "Implementations
 * MUST NOT update entries with non-matching controllerName fields", and ours
 * that no longer stand are removed ("Controllers should ensure that entries
 * to status populated with their ControllerName are cleaned up when they are
 * no longer necessary"). Theirs keep their order; ours follow, in parentRef
 * order.
 */
export function mergeRouteStatus(current: HTTPRoute, want: readonly RouteParentWant[], controllerName: string, nowMs: number): { status: { parents: RouteParentStatus[] }; changed: boolean } {
  const ns = namespaceOf(current);
  const old = current.status?.parents ?? [];
  const oursBefore = old.filter((p) => p.controllerName === controllerName);
  const ours = want.map((w): RouteParentStatus => {
    const had = oursBefore.find((p) => sameParent(p.parentRef, w.parentRef, ns));
    return { parentRef: w.parentRef, controllerName, conditions: mergedConditions(had?.conditions, w.conditions, current.metadata.generation, nowMs).conditions };
  });
  const parents = [...old.filter((p) => p.controllerName !== controllerName), ...ours];
  return { status: { parents }, changed: canonParents(old) !== canonParents(parents) };
}
// ---------------------------------------------------------------- all of them

export type StatusUpdate =
  | { readonly kind: 'Gateway'; readonly key: ObjectKey; readonly object: Gateway; readonly status: GatewayStatusValue; readonly changed: boolean }
  | { readonly kind: 'HTTPRoute'; readonly key: ObjectKey; readonly object: HTTPRoute; readonly status: { parents: RouteParentStatus[] }; readonly changed: boolean };

export interface StatusOptions {
  readonly config: BuildConfig;
  readonly certificates: CertificateCache;
  /** Whether a table ATS serves holds this generation of the Gateway. */
  readonly programmed: (key: ObjectKey, generation: number | undefined) => boolean;
  readonly nowMs: number;
  /** In a cluster: the addresses of each Gateway's Service (GatewayStatusInputs). */
  readonly serviceAddresses?: ReadonlyMap<ObjectKey, readonly GatewayAddress[]>;
  /** The object to merge into (default: the snapshot's); a writer gives the one its last patch returned while the watch has not caught up. */
  readonly current?: <T extends Gateway | HTTPRoute>(kind: T['kind'], key: ObjectKey, fromCache: T) => T;
}

/**
 * The status of each of our Gateways and of each HTTPRoute that names one
 * of them (or carries an entry of ours to remove), merged into the objects
 * of `snapshot`. An object whose generation is not the one built from is
 * left out: the build of its new generation follows.
 */
export function gatewayApiStatuses(build: GatewayBuild, snapshot: Snapshot, o: StatusOptions): StatusUpdate[] {
  const out: StatusUpdate[] = [];
  const current = o.current ?? (<T,>(_kind: string, _key: ObjectKey, fromCache: T) => fromCache);
  const inputs: GatewayStatusInputs = { build, snapshot, certificates: o.certificates, ...(o.serviceAddresses ? { serviceAddresses: o.serviceAddresses } : {}) };
  for (const model of build.routes.gateways) {
    const cached = snapshot.gateways.get(model.key);
    if (!cached || cached.metadata.generation !== model.generation) continue;
    const object = current('Gateway', model.key, cached);
    const want = gatewayStatusWant(cached, model, inputs, o.programmed(model.key, model.generation));
    out.push({ kind: 'Gateway', key: model.key, object, ...mergeGatewayStatus(object, want, o.nowMs) });
  }

  const byRoute = new Map<ObjectKey, RouteParentResult[]>();
  for (const p of build.routes.parents) byRoute.set(p.route, [...(byRoute.get(p.route) ?? []), p]);
  const controller = o.config.gatewayControllerName;
  for (const [key, cached] of [...snapshot.httpRoutes].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const results = byRoute.get(key) ?? [];
    if (results.length === 0 && !(cached.status?.parents ?? []).some((p) => p.controllerName === controller)) continue;
    if (results.length > 0 && results[0]!.routeGeneration !== cached.metadata.generation) continue;
    const object = current('HTTPRoute', key, cached);
    out.push({ kind: 'HTTPRoute', key, object, ...mergeRouteStatus(object, routeParentsWant(results), controller, o.nowMs) });
  }
  return out;
}
