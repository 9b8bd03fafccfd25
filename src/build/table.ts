// The route table: winning rules and default backends grouped by host, each
// backend finished with its options (the redirect depends on the host having
// a certificate), deduplicated by (service, port, scheme, options) and
// referenced by index. Hosts are sorted by name and rules by path then type;
// backends are numbered in the order that sorted walk first meets them. So
// the same objects give the same table whatever order they arrived in.

import type { TableBackend, TableHost, TableRule } from '../native/table-types.js';
import { canonicalOptions } from './annotations.js';
import type { BackendRef, ClaimedIngress, HostGroup, Processor, ResolvedBackend, RouteCandidate } from './state.js';
import { NO_SETTINGS } from './state.js';
import { hasHttps } from './tls.js';

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareRoutes(a: RouteCandidate, b: RouteCandidate): number {
  return compareText(a.path, b.path) || compareText(a.pathType, b.pathType);
}

export const assembleTable: Processor = (state) => {
  const backends: TableBackend[] = [];
  // A ResolvedBackend is one per (Service, port, scheme), so backends are
  // found by it and by the options variant (options text number × 2 +
  // redirect): lookups by identity and number, no text keys.
  const optionIds = new Map<string, number>();
  const indexes = new Map<ResolvedBackend, Map<number, number>>();
  const indexOf = (ref: BackendRef, host: string): number => {
    const resolved = ref.resolved;
    if (!resolved) throw new Error(`internal: a backend of ${ref.owner?.key ?? 'the controller'} was not resolved`);
    const settings = ref.owner?.settings ?? NO_SETTINGS;
    const redirect = settings.sslRedirect && hasHttps(state.httpsHosts, host);
    let optionsId = optionIds.get(settings.optionsKey);
    if (optionsId === undefined) {
      optionsId = optionIds.size;
      optionIds.set(settings.optionsKey, optionsId);
    }
    let byVariant = indexes.get(resolved);
    if (!byVariant) {
      byVariant = new Map();
      indexes.set(resolved, byVariant);
    }
    const variant = optionsId * 2 + (redirect ? 1 : 0);
    const known = byVariant.get(variant);
    if (known !== undefined) return known;
    const backend: TableBackend = {
      service: resolved.service,
      port: resolved.port,
      scheme: resolved.scheme,
      endpoints: resolved.endpoints,
    };
    const options = canonicalOptions(settings.options, redirect);
    if (Object.keys(options).length > 0) backend.options = options;
    if (resolved.problem !== undefined) backend.problem = resolved.problem;
    byVariant.set(variant, backends.length);
    backends.push(backend);
    return backends.length - 1;
  };

  const groups: HostGroup[] = [];
  for (const group of state.hosts.values()) {
    if ((group.winners?.length ?? 0) > 0 || group.defaultWinner) groups.push(group);
  }
  groups.sort((a, b) => compareText(a.name, b.name));

  const served = new Set<ClaimedIngress>();
  const hosts: TableHost[] = [];
  for (const group of groups) {
    const rules: TableRule[] = [];
    for (const route of (group.winners ?? []).sort(compareRoutes)) {
      rules.push({ path: route.path, pathType: route.pathType, backend: indexOf(route.backend, group.name), source: route.ingress.key });
      served.add(route.ingress);
    }
    const host: TableHost = { name: group.name, rules };
    const winner = group.defaultWinner;
    if (winner) {
      host.defaultBackend = indexOf(winner.backend, group.name);
      host.defaultSource = winner.ingress.key;
      served.add(winner.ingress);
    }
    hosts.push(host);
  }

  state.table = { hosts, backends };
  if (state.controllerDefault) state.table.defaultBackend = indexOf(state.controllerDefault, '');
  state.served = [...served].map((i) => i.key).sort(compareText);
};
