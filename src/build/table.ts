// The route table: winning rules and default backends grouped by host, each
// backend finished with its options (the redirect depends on the host having
// a certificate), deduplicated by (service, port, scheme, options) and
// referenced by index. Everything sorted, so the same objects give the same
// table whatever order they arrived in.

import type { TableBackend, TableHost, TableRule } from '../native/table-types.js';
import { canonicalOptions } from './annotations.js';
import type { BackendRef, Processor, ResolvedBackend } from './state.js';
import { NO_SETTINGS } from './state.js';
import { hasHttps } from './tls.js';

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A backend of the table before it has its index. */
interface Pending {
  /** service, port, scheme, options: what makes two backends one, and their order. */
  readonly sortKey: string;
  readonly backend: TableBackend;
  index: number;
}

export const assembleTable: Processor = (state) => {
  // Backends by what they are made of: the resolved Service port, then the
  // options variant (options text number × 2 + redirect). Cheap lookups
  // by identity and number; the text key is made once per distinct backend.
  const optionIds = new Map<string, number>();
  const pendings = new Map<ResolvedBackend, Map<number, Pending>>();
  const pendingFor = (ref: BackendRef, host: string): Pending => {
    const resolved = ref.resolved;
    if (!resolved) throw new Error(`internal: a backend of ${ref.owner?.key ?? 'the controller'} was not resolved`);
    const settings = ref.owner?.settings ?? NO_SETTINGS;
    const redirect = settings.sslRedirect && hasHttps(state.httpsHosts, host);
    let optionsId = optionIds.get(settings.optionsKey);
    if (optionsId === undefined) {
      optionsId = optionIds.size;
      optionIds.set(settings.optionsKey, optionsId);
    }
    let byVariant = pendings.get(resolved);
    if (!byVariant) {
      byVariant = new Map();
      pendings.set(resolved, byVariant);
    }
    const variant = optionsId * 2 + (redirect ? 1 : 0);
    let pending = byVariant.get(variant);
    if (!pending) {
      const options = canonicalOptions(settings.options, redirect);
      const hasOptions = Object.keys(options).length > 0;
      const backend: TableBackend = {
        service: resolved.service,
        port: resolved.port,
        scheme: resolved.scheme,
        endpoints: resolved.endpoints.slice(),
      };
      if (hasOptions) backend.options = options;
      if (resolved.problem !== undefined) backend.problem = resolved.problem;
      const sortKey = `${resolved.service}\u0000${resolved.port}\u0000${resolved.scheme}\u0000${hasOptions ? JSON.stringify(options) : ''}`;
      pending = { sortKey, backend, index: -1 };
      byVariant.set(variant, pending);
    }
    return pending;
  };

  const served = new Set<string>();
  const tableHosts: TableHost[] = [];
  // Each rule's backend, in the order of `rules`, numbered once the backends are sorted.
  const ruleBackends: { readonly rules: TableRule[]; readonly backends: Pending[] }[] = [];
  const hostDefaults: { readonly host: TableHost; readonly backend: Pending }[] = [];
  for (const group of state.hosts.values()) {
    const rules: TableRule[] = [];
    const backends: Pending[] = [];
    for (const route of group.winners) {
      rules.push({ path: route.path, pathType: route.pathType, backend: -1, source: route.ingress.key });
      backends.push(pendingFor(route.backend, group.name));
      served.add(route.ingress.key);
    }
    const host: TableHost = { name: group.name, rules };
    const winner = group.defaultWinner;
    if (winner) {
      host.defaultSource = winner.ingress.key;
      hostDefaults.push({ host, backend: pendingFor(winner.backend, group.name) });
      served.add(winner.ingress.key);
    }
    if (rules.length === 0 && !winner) continue;
    tableHosts.push(host);
    ruleBackends.push({ rules, backends });
  }
  const controllerDefault = state.controllerDefault ? pendingFor(state.controllerDefault, '') : undefined;

  // Sort the distinct backends and number them; equal ones share a number.
  const all: Pending[] = [];
  for (const byVariant of pendings.values()) for (const p of byVariant.values()) all.push(p);
  all.sort((a, b) => compareText(a.sortKey, b.sortKey));
  const backends: TableBackend[] = [];
  let previous: Pending | undefined;
  for (const p of all) {
    if (previous && previous.sortKey === p.sortKey) {
      p.index = previous.index;
      continue;
    }
    p.index = backends.length;
    backends.push(p.backend);
    previous = p;
  }

  for (const { rules, backends: pendingOfRule } of ruleBackends) {
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i];
      if (rule) rule.backend = pendingOfRule[i]?.index ?? -1;
    }
    rules.sort((a, b) => compareText(a.path, b.path) || compareText(a.pathType, b.pathType));
  }
  for (const { host, backend } of hostDefaults) host.defaultBackend = backend.index;
  const hosts = tableHosts.sort((a, b) => compareText(a.name, b.name));
  state.table = { hosts, backends };
  if (controllerDefault) state.table.defaultBackend = controllerDefault.index;
  state.served = [...served].sort(compareText);
};
