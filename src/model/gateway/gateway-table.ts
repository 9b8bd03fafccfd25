// The Gateway API in build(): two processors around the Ingress ones. The
// first (before Services are resolved) builds the Gateway model, gives each
// Gateway its address and each valid backendRef a BackendRef for the
// services processor; the second (after the Ingress table) turns the pools
// of the served listeners into the table's `gateway` part, its backends
// appended after the Ingresses' so that their indexes do not move.

import type { HTTPHeaderFilter, HTTPPathModifier, HTTPRouteFilter, ObjectKey } from '../../kube/types.js';
import type { Snapshot } from '../../cache/snapshot.js';
import type { GatewayBuild } from '../model.js';
import type { HeaderEdits, PathModifier, TableBackend, TableFilter, TableGateway, TableGatewayChoice, TableGatewayListener, TableGatewayRule } from '../table-model.js';
import type { BackendRef, BuildState, Processor } from '../state.js';
import { report } from '../state.js';
import { compareText } from '../order.js';
import { isHeaderName, isHeaderValue, isPathValue } from '../../validate/http-values.js';
import type { BuildConfig } from '../../config/config.js';
import type { GatewayPorts } from '../../config/gateway.js';
import { ANY_ADDRESS, assignAddresses, assignPortBlocks, compareAddresses, previousBlocks, servedPort } from './addresses.js';
import type { GatewayBackend } from './backends.js';
import { buildGatewayRoutes, type GatewayRoutesModel } from './gateway-routes.js';
import { listenerHostnameRank } from './hostnames.js';
import { listenerConflicts } from './status.js';

export interface GatewayState {
  readonly routes: GatewayRoutesModel;
  /** The local address of each served Gateway: its own, or ANY_ADDRESS in a cluster (--gateway-port-range). */
  readonly addresses: Map<ObjectKey, string>;
  /** Per served Gateway, the local port of each listener port served (--gateway-ports, or its block of --gateway-port-range). */
  readonly ports: Map<ObjectKey, GatewayPorts>;
  readonly unavailablePorts: Set<string>;
  /** One BackendRef per valid backendRef of a rule, by its GatewayBackend. */
  readonly refs: Map<GatewayBackend, BackendRef>;
  /** `namespace/name/listener` of each HTTPS listener with a certificate to serve (gateway-tls.ts); the others are not served. */
  readonly servedHttps: Set<string>;
  servedRoutes: string[];
}

const EMPTY_ROUTES: GatewayRoutesModel = { classes: [], gateways: [], parents: [], problems: [] };

export function emptyGatewayBuild(): GatewayBuild {
  return { routes: EMPTY_ROUTES, addresses: new Map(), ports: new Map(), byPort: false, unavailablePorts: new Set(), servedRoutes: [] };
}

export const collectGateways: Processor = (state) => {
  const { snapshot, config } = state;
  if (snapshot.gateways.size === 0 && snapshot.httpRoutes.size === 0 && snapshot.gatewayClasses.size === 0) return;
  const routes = buildGatewayRoutes(snapshot, config);
  state.problems.push(...routes.problems);
  const { addresses, ports } = placeGateways(routes, config, snapshot);
  const unavailablePorts = new Set<string>();
  const refs = new Map<GatewayBackend, BackendRef>();
  for (const gw of routes.gateways) {
    const [namespace = '', name = ''] = gw.key.split('/');
    if (!addresses.has(gw.key)) {
      report(state, 'Gateway', namespace, name, 'status.addresses', 'Error', config.gatewayPortRange
        ? `the ports left in --gateway-port-range ${config.gatewayPortRange.text} (${config.gatewayPortRange.pairs} pairs, one per distinct listener port of each protocol of each Gateway) do not hold this Gateway's: it is not served`
        : `no address is left for this Gateway in --gateway-addresses ${config.gatewayAddresses.text} (${config.gatewayAddresses.count} addresses, one per Gateway): it is not served`);
    }
    gw.listeners.forEach((l, i) => {
      // In a cluster every port is served (a Service port maps it to the Gateway's block).
      if (!config.gatewayPortRange && servedPort(config.gatewayPorts, l.port) === undefined) {
        unavailablePorts.add(`${gw.key}/${l.name}`);
        report(state, 'Gateway', namespace, name, `spec.listeners[${i}].port`, 'Error',
          `listener ${l.name}: port ${l.port} is not served (--gateway-ports serves ${[...config.gatewayPorts.keys()].join(', ')})`);
      }
      for (const entry of l.entries) {
        entry.backends.forEach((b, k) => {
          if (!b.resolution.valid || refs.has(b)) return;
          const [svcNamespace = '', svcName = ''] = b.resolution.service.split('/');
          refs.set(b, {
            namespace: svcNamespace, service: svcName, port: b.resolution.port, owner: undefined, rule: entry.ruleIndex, path: k, resolved: undefined,
            httpRoute: { namespace: entry.route.namespace, name: entry.route.name, field: `spec.rules[${entry.ruleIndex}].backendRefs[${k}]` },
          });
        });
      }
    });
  }
  state.gateway = { routes, addresses, ports, unavailablePorts, refs, servedHttps: new Set(), servedRoutes: [] };
};

/** Where each Gateway is served: an address of its own and --gateway-ports, or in a cluster every address and a block of ports. */
function placeGateways(routes: GatewayRoutesModel, config: BuildConfig, snapshot: Snapshot): { addresses: Map<ObjectKey, string>; ports: Map<ObjectKey, GatewayPorts> } {
  if (config.gatewayPortRange) {
    const previous = config.gatewayServiceNamespace !== undefined ? previousBlocks(snapshot.services.values(), config.gatewayServiceNamespace, config.gatewayPortRange) : undefined;
    const ports = assignPortBlocks(routes.gateways, config.gatewayPortRange, previous);
    return { addresses: new Map([...ports.keys()].map((k) => [k, ANY_ADDRESS])), ports };
  }
  const addresses = assignAddresses(routes.gateways.map((g) => ({
    key: g.key,
    statusAddresses: (snapshot.gateways.get(g.key)?.status?.addresses ?? []).filter((a: { readonly type?: string }) => (a.type ?? 'IPAddress') === 'IPAddress').map((a: { readonly value: string }) => a.value),
  })), config.gatewayAddresses);
  return { addresses, ports: new Map([...addresses.keys()].map((k) => [k, config.gatewayPorts])) };
}

/** The local port a listener port of a served Gateway is served on, or undefined. */
export function listenerLocalPort(g: GatewayState, gateway: ObjectKey, listenerPort: number): number | undefined {
  const ports = g.ports.get(gateway);
  return ports === undefined ? undefined : servedPort(ports, listenerPort);
}

function nameValues(list: HTTPHeaderFilter['set']): { name: string; value: string }[] {
  return (list ?? []).map((h) => ({ name: h.name, value: h.value }));
}

function headerEdits(f: HTTPHeaderFilter | undefined): HeaderEdits {
  return { set: nameValues(f?.set), add: nameValues(f?.add), remove: [...(f?.remove ?? [])] };
}

function pathModifier(p: HTTPPathModifier | undefined): PathModifier | undefined | { readonly unsupported: string } {
  const value = p?.type === 'ReplaceFullPath' ? p.replaceFullPath : p?.type === 'ReplacePrefixMatch' ? p.replacePrefixMatch : undefined;
  if (p === undefined || value === undefined) return undefined;
  // The CRD's CEL says so too; the manifests source does not evaluate every rule.
  if (!value.startsWith('/') || !isPathValue(value)) return { unsupported: `path ${JSON.stringify(value)} does not begin with '/' or has a character other than visible ASCII without '?' and '#'` };
  return { type: p.type as PathModifier['type'], value };
}

const REDIRECT_CODES = new Set([301, 302, 303, 307, 308]);
function unsafeEdit(e: HeaderEdits): string | undefined {
  const bad = [...e.set, ...e.add].find((h) => !isHeaderName(h.name) || !isHeaderValue(h.value)) ?? e.remove.find((n) => !isHeaderName(n));
  return bad === undefined ? undefined : typeof bad === 'string' ? bad : bad.name;
}

/** The table's form of a filter, or why it cannot be served. */
function tableFilter(f: HTTPRouteFilter): TableFilter | { readonly unsupported: string } {
  switch (f.type) {
    case 'RequestHeaderModifier':
    case 'ResponseHeaderModifier': {
      const edits = headerEdits(f.type === 'RequestHeaderModifier' ? f.requestHeaderModifier : f.responseHeaderModifier);
      const bad = unsafeEdit(edits);
      if (bad !== undefined) return { unsupported: `header ${JSON.stringify(bad)}: its name is not a token or its value has a control character (CR, LF, NUL)` };
      return { type: f.type, edits };
    }
    case 'RequestRedirect': {
      const r = f.requestRedirect ?? {};
      const statusCode = r.statusCode ?? 302;
      if (!REDIRECT_CODES.has(statusCode)) return { unsupported: `redirect status code ${statusCode} is not one of 301, 302, 303, 307, 308` };
      if (r.scheme !== undefined && r.scheme !== 'http' && r.scheme !== 'https') return { unsupported: `redirect scheme ${r.scheme} is not http or https` };
      const path = pathModifier(r.path);
      if (path && 'unsupported' in path) return path;
      return {
        type: 'RequestRedirect',
        ...(r.scheme !== undefined ? { scheme: r.scheme as 'http' | 'https' } : {}),
        ...(r.hostname !== undefined ? { hostname: r.hostname.toLowerCase() } : {}),
        ...(r.port !== undefined ? { port: r.port } : {}),
        ...(path ? { path } : {}),
        statusCode: statusCode as 301 | 302 | 303 | 307 | 308,
      };
    }
    case 'URLRewrite': {
      const u = f.urlRewrite ?? {};
      const path = pathModifier(u.path);
      if (path && 'unsupported' in path) return path;
      return { type: 'URLRewrite', ...(u.hostname !== undefined ? { hostname: u.hostname.toLowerCase() } : {}), ...(path ? { path } : {}) };
    }
    default:
      // "If a reference to a custom filter type cannot be resolved, the
      // filter MUST NOT be skipped. Instead, requests that would have been
      // processed by that filter MUST receive a HTTP error response."
      return { unsupported: `filter type ${String(f.type)} is not supported` };
  }
}

function compareListeners(a: TableGatewayListener, b: TableGatewayListener): number {
  const d = compareAddresses(a.address, b.address) || a.port - b.port;
  if (d !== 0) return d;
  const [a1, a2] = listenerHostnameRank(a.hostname || undefined);
  const [b1, b2] = listenerHostnameRank(b.hostname || undefined);
  return a1 - b1 || a2 - b2 || compareText(a.hostname, b.hostname) || compareText(a.gateway, b.gateway) || compareText(a.listener, b.listener);
}

export const assembleGatewayTable: Processor = (state) => {
  const g = state.gateway;
  if (!g) return;
  const backends = state.table.backends;
  const backendIndex = new Map<number, number>();
  const backendOf = (ref: BackendRef): number => {
    const resolved = ref.resolved;
    if (!resolved) throw new Error(`internal: a backendRef of HTTPRoute ${ref.httpRoute?.namespace}/${ref.httpRoute?.name} was not resolved`);
    const known = backendIndex.get(resolved.id);
    if (known !== undefined) return known;
    const b: TableBackend = { service: resolved.service, port: resolved.port, scheme: resolved.scheme, endpoints: resolved.endpoints };
    if (resolved.problem !== undefined) b.problem = resolved.problem;
    backendIndex.set(resolved.id, backends.length);
    backends.push(b);
    return backends.length - 1;
  };

  const rules: TableGatewayRule[] = [];
  const ruleIndex = new Map<string, number>();
  const filtersOf = (list: readonly HTTPRouteFilter[] | undefined, route: { namespace: string; name: string }, field: string, unsupported: string[]): TableFilter[] => {
    const out: TableFilter[] = [];
    (list ?? []).forEach((f, i) => {
      const t = tableFilter(f);
      if ('unsupported' in t) {
        unsupported.push(t.unsupported);
        report(state, 'HTTPRoute', route.namespace, route.name, `${field}.filters[${i}]`, 'Error', `${t.unsupported}: requests of this rule get 500`);
      } else {
        out.push(t);
      }
    });
    return out;
  };

  const listeners: TableGatewayListener[] = [];
  const served = new Set<string>();
  for (const gw of g.routes.gateways) {
    const address = g.addresses.get(gw.key);
    if (address === undefined) continue;
    // "Implementations MUST NOT pick one conflicting Listener as the winner": none of them is served.
    const conflicts = listenerConflicts(gw.listeners);
    for (const l of gw.listeners) {
      if (conflicts.has(l.name)) continue;
      const port = listenerLocalPort(g, gw.key, l.port);
      if (port === undefined || (l.protocol !== 'HTTP' && l.protocol !== 'HTTPS')) continue;
      // Without its certificate an HTTPS listener is not served (Programmed=False/Invalid).
      if (l.protocol === 'HTTPS' && !g.servedHttps.has(`${gw.key}/${l.name}`)) continue;
      const listener: TableGatewayListener = {
        gateway: gw.key, listener: l.name, address, port, listenerPort: l.port, protocol: l.protocol,
        hostname: l.hostname ?? '', entries: [],
      };
      for (const e of l.entries) {
        const routeKey = `${e.route.namespace}/${e.route.name}`;
        const key = `${routeKey}\0${e.ruleIndex}`;
        let index = ruleIndex.get(key);
        if (index === undefined) {
          const field = `spec.rules[${e.ruleIndex}]`;
          const unsupported: string[] = [];
          const filters = filtersOf(e.filters, e.route, field, unsupported);
          const choices: TableGatewayChoice[] = e.backends.map((b, k) => {
            const choiceFilters = filtersOf(b.filters, e.route, `${field}.backendRefs[${k}]`, unsupported);
            if (!b.resolution.valid) return { weight: b.weight, filters: choiceFilters, problem: b.resolution.message };
            const ref = g.refs.get(b);
            return ref ? { backend: backendOf(ref), weight: b.weight, filters: choiceFilters } : { weight: b.weight, filters: choiceFilters, problem: 'internal: not resolved' };
          });
          const rule: TableGatewayRule = { route: routeKey, ruleIndex: e.ruleIndex, filters, choices };
          if (unsupported.length > 0) rule.failure = unsupported.join('; ');
          else if ('status' in e.answer) {
            // Said in the 500's body: which backendRefs, and why.
            const why = [...new Set(e.backends.flatMap((b) => (b.resolution.valid ? [] : [b.resolution.message])))];
            rule.failure = why.length > 0 ? `${e.answer.reason}: ${why.join('; ')}` : e.answer.reason;
          }
          index = rules.length;
          rules.push(rule);
          ruleIndex.set(key, index);
        }
        listener.entries.push({
          hostname: e.hostname ?? '',
          pathType: e.match.path.type,
          path: e.match.path.value,
          ...(e.match.method !== undefined ? { method: e.match.method } : {}),
          headers: e.match.headers.map((h) => ({ name: h.name, value: h.value })),
          queryParams: e.match.queryParams.map((q) => ({ name: q.name, value: q.value })),
          rule: index,
        });
        served.add(routeKey);
      }
      listeners.push(listener);
    }
  }
  listeners.sort(compareListeners);
  const gateway: TableGateway = { listeners, rules };
  if (listeners.length > 0 || rules.length > 0) state.table = { ...state.table, gateway };
  g.servedRoutes = [...served].sort(compareText);
};

/** What build() gives of the Gateway API. */
export function gatewayBuild(state: BuildState): GatewayBuild {
  const g = state.gateway;
  if (!g) return { ...emptyGatewayBuild(), byPort: state.config.gatewayPortRange !== undefined };
  return { routes: g.routes, addresses: g.addresses, ports: g.ports, byPort: state.config.gatewayPortRange !== undefined, unavailablePorts: g.unavailablePorts, servedRoutes: g.servedRoutes };
}
