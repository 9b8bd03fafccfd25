// The Gateway API part of the model: from the cache's GatewayClasses,
// Gateways, HTTPRoutes, ReferenceGrants and Services, per listener of each of
// our Gateways the pool of rules attached to it, in the spec's order of
// precedence, each with its match, filters (as typed data), weighted
// backends and answer; per HTTPRoute parentRef, the outcome its status will
// report (Accepted and ResolvedRefs, with their reasons). Pure, like build():
// small processors run in order over one state. Proxy-independent: the
// route table does not hold these yet.

import type { Snapshot } from '../../cache/snapshot.js';
import { isOurGatewayClass } from '../../config/claim.js';
import type { BuildConfig } from '../../config/config.js';
import type { Gateway, HTTPRoute, HTTPRouteFilter, ObjectKey, ParentReference, RouteGroupKind } from '../../kube/types.js';
import { namespaceOf } from '../../kube/types.js';
import type { Problem } from '../model.js';
import { attachToGateway, refersToGateway, snapshotNamespaceLabels, supportedKinds, type AttachReason, type NamespaceLabels } from './attachment.js';
import { ruleAnswer, type GatewayBackend, type RuleAnswer } from './backends.js';
import { hostnameMatches, requestHost, selectListener } from './hostnames.js';
import { normalizeMatch, requestMatches, type GatewayRequest } from './matches.js';
import { compareMatches, type RankedMatch } from './precedence.js';
import { resolveBackendRef } from './references.js';

export interface GatewayRouteEntry extends RankedMatch {
  /** The rule's filters, as written (the table's format for them is the next step). */
  readonly filters: readonly HTTPRouteFilter[];
  readonly backends: readonly GatewayBackend[];
  readonly answer: RuleAnswer;
}

export interface GatewayListenerModel {
  readonly name: string;
  readonly port: number;
  readonly protocol: string;
  readonly hostname?: string;
  readonly supportedKinds: readonly RouteGroupKind[];
  /** Routes accepted by this listener. */
  readonly attachedRoutes: number;
  /** Every match of every rule attached, on each of its hostnames, most precedent first. */
  readonly entries: readonly GatewayRouteEntry[];
}

export interface GatewayModel {
  readonly key: ObjectKey;
  /** metadata.generation of the Gateway built from: status says which generation it describes. */
  readonly generation?: number;
  readonly className: string;
  readonly listeners: readonly GatewayListenerModel[];
}

export type ResolvedRefsReason = 'ResolvedRefs' | 'BackendNotFound' | 'RefNotPermitted' | 'InvalidKind';

/** What one parentRef of an HTTPRoute came to, for its status.parents entry. */
export interface RouteParentResult {
  readonly route: ObjectKey;
  readonly parentRef: ParentReference;
  readonly accepted: AttachReason;
  readonly resolvedRefs: ResolvedRefsReason;
  readonly message: string;
  /** Why ResolvedRefs is False (the first invalid backendRef); '' when it is True. */
  readonly resolvedRefsMessage: string;
  /** metadata.generation of the HTTPRoute built from. */
  readonly routeGeneration?: number;
}

export interface GatewayRoutesModel {
  /** Names of our GatewayClasses, sorted. */
  readonly classes: readonly string[];
  /** Our Gateways, oldest first, then by namespace/name. */
  readonly gateways: readonly GatewayModel[];
  readonly parents: readonly RouteParentResult[];
  readonly problems: readonly Problem[];
}

interface MutableListener extends Omit<GatewayListenerModel, 'attachedRoutes' | 'entries'> {
  readonly routes: Set<ObjectKey>;
  readonly entries: GatewayRouteEntry[];
}

interface State {
  readonly snapshot: Snapshot;
  readonly config: BuildConfig;
  readonly labelsOf: NamespaceLabels;
  classes: Set<string>;
  gateways: Map<ObjectKey, { gateway: Gateway; listeners: Map<string, MutableListener> }>;
  parents: RouteParentResult[];
  problems: Problem[];
}

type Step = (s: State) => void;

const byAge = (a: { metadata: { creationTimestamp?: string } }, b: { metadata: { creationTimestamp?: string } }) => {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  return ta === tb ? 0 : ta === '' ? 1 : tb === '' ? -1 : ta < tb ? -1 : 1;
};
const keyOf = (o: { metadata: { name: string; namespace?: string } }) => `${namespaceOf(o)}/${o.metadata.name}`;

/** GatewayClasses whose controllerName is ours. */
const selectClasses: Step = (s) => {
  for (const c of s.snapshot.gatewayClasses.values()) if (isOurGatewayClass(c, s.config)) s.classes.add(c.metadata.name);
};

/** Gateways of our classes, oldest first; their HTTP and HTTPS listeners. */
const selectGateways: Step = (s) => {
  const ours = [...s.snapshot.gateways.values()].filter((g) => s.classes.has(g.spec?.gatewayClassName));
  ours.sort((a, b) => byAge(a, b) || (keyOf(a) < keyOf(b) ? -1 : 1));
  for (const g of ours) {
    const listeners = new Map<string, MutableListener>();
    (g.spec?.listeners ?? []).forEach((l, i) => {
      if (l.protocol !== 'HTTP' && l.protocol !== 'HTTPS') {
        s.problems.push({ kind: 'Gateway', namespace: namespaceOf(g), name: g.metadata.name, field: `spec.listeners[${i}].protocol`, message: `listener ${l.name}: protocol ${l.protocol} is not supported (HTTP and HTTPS are)`, severity: 'Warning' });
      }
      listeners.set(l.name, { name: l.name, port: l.port, protocol: l.protocol, ...(l.hostname ? { hostname: l.hostname } : {}), supportedKinds: supportedKinds(l), routes: new Set(), entries: [] });
    });
    s.gateways.set(keyOf(g), { gateway: g, listeners });
  }
};

/** The backends of each rule of a Route, resolved. */
function ruleBackends(s: State, route: HTTPRoute): { backends: GatewayBackend[][]; resolvedRefs: ResolvedRefsReason; message: string } {
  let resolvedRefs: ResolvedRefsReason = 'ResolvedRefs';
  let message = '';
  const ns = namespaceOf(route);
  const backends = (route.spec?.rules ?? []).map((rule, ruleIndex) =>
    (rule.backendRefs ?? []).map((ref, refIndex) => {
      const resolution = resolveBackendRef(ref, ns, s.snapshot.services, s.snapshot.referenceGrants.values());
      if (!resolution.valid) {
        s.problems.push({ kind: 'HTTPRoute', namespace: ns, name: route.metadata.name, field: `spec.rules[${ruleIndex}].backendRefs[${refIndex}]`, message: `${resolution.message} (${resolution.reason}): its share of the requests gets 500`, severity: 'Error' });
      }
      if (!resolution.valid && resolvedRefs === 'ResolvedRefs') {
        resolvedRefs = resolution.reason;
        message = resolution.message;
      }
      return { weight: ref.weight ?? 1, resolution, ...(ref.filters?.length ? { filters: ref.filters } : {}) };
    }),
  );
  return { backends, resolvedRefs, message };
}

/** Each HTTPRoute naming one of our Gateways: its attachment per parentRef, and its rules in the pools of the listeners that accept it. */
const attachRoutes: Step = (s) => {
  const routes = [...s.snapshot.httpRoutes.values()].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : 1));
  for (const route of routes) {
    const ns = namespaceOf(route);
    const refs = (route.spec?.parentRefs ?? []).filter((r) => refersToGateway(r) && s.gateways.has(`${r.namespace ?? ns}/${r.name}`));
    if (refs.length === 0) continue; // not ours
    const { backends, resolvedRefs, message } = ruleBackends(s, route);
    const rules = route.spec?.rules ?? [{}];
    for (const ref of refs) {
      const gw = s.gateways.get(`${ref.namespace ?? ns}/${ref.name}`);
      const a = attachToGateway(route, ref, gw?.gateway, s.labelsOf);
      s.parents.push({
        route: keyOf(route), parentRef: ref, accepted: a.reason, resolvedRefs,
        message: a.reason === 'Accepted' ? message : `${a.reason}${message ? `; ${message}` : ''}`,
        resolvedRefsMessage: message,
        ...(route.metadata.generation !== undefined ? { routeGeneration: route.metadata.generation } : {}),
      });
      for (const { listener, hostnames } of a.listeners) {
        const l = gw?.listeners.get(listener.name);
        if (!l || l.routes.has(keyOf(route))) continue;
        l.routes.add(keyOf(route));
        rules.forEach((rule, ruleIndex) => {
          const ruleBacks = backends[ruleIndex] ?? [];
          const filters = rule.filters ?? [];
          const answer = ruleAnswer(ruleBacks, filters.some((f) => f.type === 'RequestRedirect'));
          (rule.matches?.length ? rule.matches : [{}]).forEach((m, matchIndex) => {
            const match = normalizeMatch(m);
            if ('unsupported' in match) {
              s.problems.push({ kind: 'HTTPRoute', namespace: ns, name: route.metadata.name, field: `spec.rules[${ruleIndex}].matches[${matchIndex}]`, message: `${match.unsupported}: the match is not served`, severity: 'Error' });
              return;
            }
            const routeId = { namespace: ns, name: route.metadata.name, ...(route.metadata.creationTimestamp ? { creationTimestamp: route.metadata.creationTimestamp } : {}) };
            for (const hostname of hostnames) l.entries.push({ hostname, match, route: routeId, ruleIndex, matchIndex, filters, backends: ruleBacks, answer });
          });
        });
      }
    }
  }
};

/** Every pool in the spec's order. */
const rankPools: Step = (s) => {
  for (const { listeners } of s.gateways.values()) for (const l of listeners.values()) l.entries.sort(compareMatches);
};

const STEPS: readonly Step[] = [selectClasses, selectGateways, attachRoutes, rankPools];

/** The Gateway API model. Namespace labels (for allowedRoutes From Selector) come from `labelsOf`; by default, the snapshot's Namespaces'. */
export function buildGatewayRoutes(snapshot: Snapshot, config: BuildConfig, labelsOf: NamespaceLabels = snapshotNamespaceLabels(snapshot)): GatewayRoutesModel {
  const s: State = { snapshot, config, labelsOf, classes: new Set(), gateways: new Map(), parents: [], problems: [] };
  for (const step of STEPS) step(s);
  return {
    classes: [...s.classes].sort(),
    gateways: [...s.gateways].map(([key, { gateway, listeners }]) => ({
      key,
      ...(gateway.metadata.generation !== undefined ? { generation: gateway.metadata.generation } : {}),
      className: gateway.spec.gatewayClassName,
      listeners: [...listeners.values()].map(({ routes, ...l }) => ({ ...l, attachedRoutes: routes.size })),
    })),
    parents: s.parents,
    problems: s.problems,
  };
}

/** What a request to a Gateway's port is answered with: the entry of the first rule that matches in the listener it selects, or 404. */
export function lookupGatewayRoute(
  model: GatewayRoutesModel,
  gateway: ObjectKey,
  port: number,
  host: string,
  req: GatewayRequest,
): { readonly listener: string; readonly entry: GatewayRouteEntry } | { readonly status: 404; readonly listener?: string } {
  const gw = model.gateways.find((g) => g.key === gateway);
  const h = requestHost(host);
  const listener = selectListener((gw?.listeners ?? []).filter((l) => l.port === port), h);
  if (!listener) return { status: 404 };
  const entry = listener.entries.find((e) => hostnameMatches(e.hostname, h) && requestMatches(e.match, req));
  return entry ? { listener: listener.name, entry } : { status: 404, listener: listener.name };
}
