// The route table: winning rules and default backends grouped by host, each
// backend finished with its options (the redirect depends on the host having
// a certificate), deduplicated by (Ingress, service, port, scheme, options)
// and referenced by index. Hosts are sorted by name and rules by path then type.
// Backends are numbered by their Ingress, oldest first (the controller's
// default backend before them all), and within one Ingress in the order that
// sorted walk first meets them. So the same objects give the same table
// whatever order they arrived in; and a new Ingress, nearly always the
// newest, adds its backends at the end instead of renumbering those of every
// host after its own, so that the publisher copies the others' encoding whole.

import type { TableBackend, TableHost, TableRule } from './table-model.js';
import { NO_OPTIONS, canonicalOptions } from './annotations.js';
import type { BackendRef, BuildState, ClaimedIngress, HostGroup, Processor, RouteCandidate, ServiceName } from './state.js';
import { NO_SETTINGS } from './state.js';
import type { BuildMemo, TableMemo } from './memo.js';
import { compareText, sortInPlace } from './order.js';
import { hasHttps } from './tls.js';

function compareRoutes(a: RouteCandidate, b: RouteCandidate): number {
  return compareText(a.path, b.path) || compareText(a.pathType, b.pathType);
}

function resolvedOf(ref: BackendRef): NonNullable<BackendRef['resolved']> {
  const resolved = ref.resolved;
  if (!resolved) throw new Error(`internal: a backend of ${ref.owner?.key ?? 'the controller'} was not resolved`);
  return resolved;
}

function redirects(state: BuildState, ref: BackendRef, host: string): boolean {
  const settings = ref.owner?.settings ?? NO_SETTINGS;
  return (settings.sslRedirect && hasHttps(state.httpsHosts, host)) || hasHttps(state.clientVerifiedHosts, host);
}

/** The table backend `ref` gives on a host (`redirect`: redirects() for it). */
function makeBackend(ref: BackendRef, redirect: boolean): TableBackend {
  const resolved = resolvedOf(ref);
  const settings = ref.owner?.settings ?? NO_SETTINGS;
  const backend: TableBackend = {
    service: resolved.service,
    port: resolved.port,
    scheme: resolved.scheme,
    endpoints: resolved.endpoints,
  };
  const options = canonicalOptions(settings.options, redirect);
  if (options !== NO_OPTIONS) backend.options = options;
  if (resolved.problem !== undefined) backend.problem = resolved.problem;
  return backend;
}

/** Whether a table backend was made from what `resolved` says now (its options aside). */
function sameResolved(b: TableBackend, resolved: NonNullable<BackendRef['resolved']>): boolean {
  return b.endpoints === resolved.endpoints && b.problem === resolved.problem && b.service === resolved.service &&
    b.port === resolved.port && b.scheme === resolved.scheme;
}

/** The ResolvedBackend id of every reference, in the order resolveServices resolves them. */
function resolvedIds(state: BuildState): Int32Array {
  const ids = new Int32Array(state.routes.length + state.defaults.length + (state.controllerDefault ? 1 : 0));
  let n = 0;
  for (const route of state.routes) ids[n++] = resolvedOf(route.backend).id;
  for (const d of state.defaults) ids[n++] = resolvedOf(d.backend).id;
  if (state.controllerDefault) ids[n++] = resolvedOf(state.controllerDefault).id;
  return ids;
}

function sameIds(a: Int32Array, b: Int32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The same routing with every reference resolved to the same backend as in
 * the memo's build: the hosts come out the same, so they are taken over and
 * only the backends are made again (their endpoints, problems may differ).
 */
function reuseTable(state: BuildState, ids: Int32Array): boolean {
  const memo = state.context.memo;
  const m = memo?.table;
  if (!memo || !m || !state.routing || m.routing !== state.routing || !sameIds(m.ids, ids)) return false;
  // A backend equal to the last build's is that very object: the publisher
  // then re-encodes only the backends that changed. Its options come from
  // the same routing (the reference's settings, the hosts with https), so
  // what was resolved says it all.
  takeTableOver(state, memo, m, m.makers.map((maker, i) => backendAgain(maker, m.backends[i])));
  return true;
}

/** The backend a maker makes now: the last one when it is what the maker would make. */
function backendAgain({ ref, redirect }: TableMemo['makers'][number], last: TableBackend | undefined): TableBackend {
  return last && sameResolved(last, resolvedOf(ref)) ? last : makeBackend(ref, redirect);
}

/** The kept table's hosts with these backends, as this build's table. */
function takeTableOver(state: BuildState, memo: BuildMemo, m: TableMemo, backends: TableBackend[]): void {
  m.backends = backends;
  state.table = { hosts: m.hosts, backends };
  if (m.defaultBackend !== undefined) state.table.defaultBackend = m.defaultBackend;
  state.served = m.served;
  memo.reused.table++;
}

/**
 * The last build's backend at the same place in its Ingress's run, when it
 * is what this one would be: the same Service, port, scheme, endpoints
 * (the very list) and problem, and the same options, which come from the
 * Ingress's settings (the same claim object reads the same annotations) and
 * the redirect. The publisher copies the encoding of a backend that is the
 * very object at the same index.
 */
function lastEqual(m: TableMemo, ref: BackendRef, redirect: boolean, nth: number): TableBackend | undefined {
  // Where its run began in that table (the controller's default backend's: first).
  const at = (ref.owner?.run ?? 0) + nth;
  const maker = m.makers[at];
  const last = m.backends[at];
  if (!maker || !last || maker.ref.owner !== ref.owner || maker.redirect !== redirect) return undefined;
  return sameResolved(last, resolvedOf(ref)) ? last : undefined;
}

function sameHost(a: TableHost, b: TableHost): boolean {
  if (a.name !== b.name || a.defaultBackend !== b.defaultBackend || a.defaultSource !== b.defaultSource || a.rules.length !== b.rules.length) return false;
  for (let i = 0; i < a.rules.length; i++) {
    const x = a.rules[i]!;
    const y = b.rules[i]!;
    if (x.path !== y.path || x.pathType !== y.pathType || x.backend !== y.backend || x.source !== y.source) return false;
  }
  return true;
}

/** Backends of one Ingress looked through in a chain up to this many; a map beyond. */
const LONG_CHAIN = 16;

/** A table backend found in the sorted walk: what makes it, its group and the group's backend found before it (-1: none). */
interface Found {
  readonly ref: BackendRef;
  readonly host: string;
  readonly redirect: boolean;
  readonly group: number;
  readonly id: number;
  readonly previous: number;
}

/**
 * The last table again with the backends of the Services resolveServices
 * resolved again (state.resolvedOnly): the routing is the one that table was
 * made from, and every other reference still holds what it was resolved to.
 */
function reuseTableFor(state: BuildState, only: readonly ServiceName[]): boolean {
  const memo = state.context.memo;
  const m = memo?.table;
  if (!memo || !m || !state.routing || m.routing !== state.routing) return false;
  const byService = m.makersByService ??= makersByService(m);
  const backends = m.backends.slice();
  for (const t of only) {
    for (const i of byService.get(t.namespace)?.get(t.service) ?? []) backends[i] = backendAgain(m.makers[i]!, backends[i]);
  }
  takeTableOver(state, memo, m, backends);
  return true;
}

function makersByService(m: TableMemo): Map<string, Map<string, number[]>> {
  const index = new Map<string, Map<string, number[]>>();
  m.makers.forEach(({ ref }, i) => {
    let byName = index.get(ref.namespace);
    if (!byName) index.set(ref.namespace, (byName = new Map()));
    let list = byName.get(ref.service);
    if (!list) byName.set(ref.service, (list = []));
    list.push(i);
  });
  return index;
}

export const assembleTable: Processor = (state) => {
  const memo = state.context.memo;
  if (state.resolvedOnly && reuseTableFor(state, state.resolvedOnly)) return;
  const ids = memo && state.routing ? resolvedIds(state) : undefined;
  if (ids && reuseTable(state, ids)) return;
  // Found in the sorted walk, in the order it meets them; numbered at the end.
  const found: Found[] = [];
  // A ResolvedBackend is one per (Service, port, scheme), so a table backend
  // is found by its Ingress (whose settings give the options), then by the
  // ResolvedBackend's id and the redirect: no text and no map per Ingress
  // made for it (10,000 Ingresses made 10,000 maps a build, and a map keyed
  // by both as one number was 15 % of a routing build at that size).
  // An Ingress's group is its place in claim order, the controller's default
  // backend (no Ingress) first; each group's found backends are a chain.
  const claims = state.ingresses;
  for (let i = 0; i < claims.length; i++) claims[i]!.place = i + 1;
  const groupOf = (owner: ClaimedIngress | undefined): number => {
    if (owner === undefined) return 0;
    const place = owner.place;
    if (claims[place - 1] !== owner) throw new Error(`internal: a backend of ${owner.key}, which is not claimed`);
    return place;
  };
  const lastOfGroup = new Int32Array(claims.length + 1).fill(-1);
  const countOfGroup = new Int32Array(claims.length + 1);
  // The groups with more backends than a chain should walk: by id and redirect.
  let large: Map<number, Map<number, number>> | undefined;
  const indexOf = (ref: BackendRef, host: string, group = groupOf(ref.owner)): number => {
    const resolved = resolvedOf(ref);
    const redirect = redirects(state, ref, host);
    // One Ingress's backends are its own even where another Ingress names
    // the same Service with the same options: the plugin counts requests per
    // table backend, and the metrics are per Ingress. Most have a few.
    const byId = countOfGroup[group]! > LONG_CHAIN ? large?.get(group) : undefined;
    const key = resolved.id * 2 + (redirect ? 1 : 0);
    if (byId) {
      const k = byId.get(key);
      if (k !== undefined) return k;
    } else {
      for (let k = lastOfGroup[group]!; k >= 0; k = found[k]!.previous) {
        const f = found[k]!;
        if (f.id === resolved.id && f.redirect === redirect) return k;
      }
    }
    const at = found.length;
    found.push({ ref, host, redirect, group, id: resolved.id, previous: lastOfGroup[group]! });
    lastOfGroup[group] = at;
    if (byId) byId.set(key, at);
    else if (++countOfGroup[group]! > LONG_CHAIN) {
      const all = new Map<number, number>();
      for (let k = at; k >= 0; k = found[k]!.previous) all.set(found[k]!.id * 2 + (found[k]!.redirect ? 1 : 0), k);
      (large ??= new Map()).set(group, all);
    }
    return at;
  };

  const groups: HostGroup[] = [];
  for (const group of state.hosts.values()) {
    if ((group.winners?.length ?? 0) > 0 || group.defaultWinner) groups.push(group);
  }
  groups.sort((a, b) => compareText(a.name, b.name));

  // By group: whether the Ingress serves a rule or a default.
  const served = new Uint8Array(claims.length + 1);
  const hosts: TableHost[] = [];
  for (const group of groups) {
    const rules: TableRule[] = [];
    // A host's rules come mostly from one Ingress, whose backends they name.
    let from: ClaimedIngress | undefined;
    let fromGroup = 0;
    for (const route of sortInPlace(group.winners ?? [], compareRoutes)) {
      if (route.ingress !== from) served[(fromGroup = groupOf((from = route.ingress)))] = 1;
      const ref = route.backend;
      const backend = ref.owner === from ? indexOf(ref, group.name, fromGroup) : indexOf(ref, group.name);
      rules.push({ path: route.path, pathType: route.pathType, backend, source: route.ingress.key });
    }
    const host: TableHost = { name: group.name, rules };
    const winner = group.defaultWinner;
    if (winner) {
      host.defaultBackend = indexOf(winner.backend, group.name);
      host.defaultSource = winner.ingress.key;
      served[groupOf(winner.ingress)] = 1;
    }
    hosts.push(host);
  }

  const tableDefault = state.controllerDefault ? indexOf(state.controllerDefault, '') : undefined;

  // Numbered by group, in found order within one: a counting sort, as the
  // groups are claim places.
  const firstOf = new Int32Array(claims.length + 2);
  for (const f of found) firstOf[f.group + 1]!++;
  for (let g = 1; g < firstOf.length; g++) firstOf[g]! += firstOf[g - 1]!;
  const groupStart = firstOf.slice();
  const number = new Int32Array(found.length);
  const backends = new Array<TableBackend>(found.length);
  const makers = new Array<TableMemo['makers'][number]>(found.length);
  const last = memo?.table;
  for (let p = 0; p < found.length; p++) {
    const f = found[p]!;
    const i = firstOf[f.group]!++;
    number[p] = i;
    backends[i] = (last && lastEqual(last, f.ref, f.redirect, i - groupStart[f.group]!)) || makeBackend(f.ref, f.redirect);
    makers[i] = { ref: f.ref, host: f.host, redirect: f.redirect };
  }
  // A host equal to the last table's is that very object: the publisher
  // then copies its encoding instead of checking and encoding it again (a new
  // Ingress among 10,000 changes one host). Both lists are sorted by name.
  const lastHosts = last?.hosts;
  let p = 0;
  for (let h = 0; h < hosts.length; h++) {
    const host = hosts[h]!;
    for (const rule of host.rules) rule.backend = number[rule.backend]!;
    if (host.defaultBackend !== undefined) host.defaultBackend = number[host.defaultBackend]!;
    if (!lastHosts) continue;
    while (p < lastHosts.length && compareText(lastHosts[p]!.name, host.name) < 0) p++;
    const old = lastHosts[p];
    if (old !== undefined && sameHost(old, host)) hosts[h] = old;
  }

  state.table = { hosts, backends };
  if (tableDefault !== undefined) state.table.defaultBackend = number[tableDefault]!;
  // In claim order, which is deterministic (creation time, then
  // namespace/name): sorting the 10,000 keys by name was 3 ms of every
  // routing build at 10,000 Ingresses, for readers that take them as a set.
  const servedKeys: string[] = [];
  for (let i = 0; i < claims.length; i++) if (served[i + 1]) servedKeys.push(claims[i]!.key);
  state.served = servedKeys;
  if (memo && ids && state.routing) {
    // Read by the next build's lastEqual, against the table kept here.
    for (let g = 1; g <= claims.length; g++) if (groupStart[g]! < groupStart[g + 1]!) claims[g - 1]!.run = groupStart[g]!;
    memo.table = { routing: state.routing, ids, hosts, defaultBackend: state.table.defaultBackend, served: state.served, makers, backends, makersByService: undefined };
  }
};
