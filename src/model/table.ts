// The route table: winning rules and default backends grouped by host, each
// backend finished with its options (the redirect depends on the host having
// a certificate), deduplicated by (Ingress, service, port, scheme, options)
// and referenced by index. Hosts are sorted by name and rules by path then type;
// backends are numbered in the order that sorted walk first meets them. So
// the same objects give the same table whatever order they arrived in.

import type { TableBackend, TableHost, TableRule } from './table-model.js';
import { NO_OPTIONS, canonicalOptions } from './annotations.js';
import type { BackendRef, ClaimedIngress, HostGroup, Processor, RouteCandidate } from './state.js';
import { NO_SETTINGS } from './state.js';
import { compareText, sortInPlace } from './order.js';
import { hasHttps } from './tls.js';

function compareRoutes(a: RouteCandidate, b: RouteCandidate): number {
  return compareText(a.path, b.path) || compareText(a.pathType, b.pathType);
}

export const assembleTable: Processor = (state) => {
  const backends: TableBackend[] = [];
  // A ResolvedBackend is one per (Service, port, scheme), so a table backend
  // is found by the options text, then by the ResolvedBackend's id and the
  // redirect: one small map per distinct set of options, number keys inside.
  const byOptions = new Map<string, Map<number, number>>();
  const indexOf = (ref: BackendRef, host: string): number => {
    const resolved = ref.resolved;
    if (!resolved) throw new Error(`internal: a backend of ${ref.owner?.key ?? 'the controller'} was not resolved`);
    const settings = ref.owner?.settings ?? NO_SETTINGS;
    const redirect = (settings.sslRedirect && hasHttps(state.httpsHosts, host)) || hasHttps(state.clientVerifiedHosts, host);
    // One Ingress's backends are its own even where another Ingress names
    // the same Service with the same options: the plugin counts requests per
    // table backend, and the metrics are per Ingress.
    const optionsKey = `${ref.owner?.key ?? ''}\0${settings.optionsKey}`;
    let indexes = byOptions.get(optionsKey);
    if (!indexes) {
      indexes = new Map();
      byOptions.set(optionsKey, indexes);
    }
    const key = resolved.id * 2 + (redirect ? 1 : 0);
    const known = indexes.get(key);
    if (known !== undefined) return known;
    const backend: TableBackend = {
      service: resolved.service,
      port: resolved.port,
      scheme: resolved.scheme,
      endpoints: resolved.endpoints,
    };
    const options = canonicalOptions(settings.options, redirect);
    if (options !== NO_OPTIONS) backend.options = options;
    if (resolved.problem !== undefined) backend.problem = resolved.problem;
    indexes.set(key, backends.length);
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
    for (const route of sortInPlace(group.winners ?? [], compareRoutes)) {
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
