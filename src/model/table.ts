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
import type { BackendRef, BuildState, ClaimedIngress, HostGroup, Processor, RouteCandidate } from './state.js';
import { NO_SETTINGS } from './state.js';
import type { TableMemo } from './memo.js';
import { compareText, sortInPlace } from './order.js';
import { hasHttps } from './tls.js';

/** Keys of one Ingress's backends: ids and redirects below this, Ingresses above (exact as a double up to 2^26 Ingresses). */
const BACKEND_KEYS = 2 ** 27;

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
  const backends = m.makers.map(({ ref, redirect }, i) => {
    const last = m.backends[i];
    return last && sameResolved(last, resolvedOf(ref)) ? last : makeBackend(ref, redirect);
  });
  m.backends = backends;
  state.table = { hosts: m.hosts, backends };
  if (m.defaultBackend !== undefined) state.table.defaultBackend = m.defaultBackend;
  state.served = m.served;
  memo.reused.table++;
  return true;
}

/**
 * The last build's backends by their Ingress: where each Ingress's run of
 * them begins (they are numbered Ingress by Ingress).
 */
function lastRuns(m: TableMemo | undefined): Map<ClaimedIngress | undefined, number> | undefined {
  if (!m) return undefined;
  const starts = new Map<ClaimedIngress | undefined, number>();
  for (let i = 0; i < m.makers.length; i++) {
    const owner = m.makers[i]!.ref.owner;
    if (!starts.has(owner)) starts.set(owner, i);
  }
  return starts;
}

/**
 * The last build's backend at the same place in its Ingress's run, when it
 * is what this one would be: the same Service, port, scheme, endpoints
 * (the very list) and problem, and the same options, which come from the
 * Ingress's settings (the same claim object reads the same annotations) and
 * the redirect. The publisher copies the encoding of a backend that is the
 * very object at the same index.
 */
function lastEqual(m: TableMemo, starts: Map<ClaimedIngress | undefined, number>, ref: BackendRef, redirect: boolean, nth: number): TableBackend | undefined {
  const start = starts.get(ref.owner);
  if (start === undefined) return undefined;
  const at = start + nth;
  const maker = m.makers[at];
  const last = m.backends[at];
  if (!maker || !last || maker.ref.owner !== ref.owner || maker.redirect !== redirect) return undefined;
  return sameResolved(last, resolvedOf(ref)) ? last : undefined;
}

export const assembleTable: Processor = (state) => {
  const memo = state.context.memo;
  const ids = memo && state.routing ? resolvedIds(state) : undefined;
  if (ids && reuseTable(state, ids)) return;
  // Found in the sorted walk, in the order it meets them; numbered at the end.
  const found: Array<{ ref: BackendRef; host: string; redirect: boolean; group: number }> = [];
  // A ResolvedBackend is one per (Service, port, scheme), so a table backend
  // is found by its Ingress (whose settings give the options), then by the
  // ResolvedBackend's id and the redirect, as one number: no text and no map
  // per Ingress made for it (10,000 Ingresses made 10,000 maps a build).
  // An Ingress's group is its place in claim order, the controller's default
  // backend (no Ingress) first.
  const groupOf = new Map<ClaimedIngress | undefined, number>([[undefined, 0]]);
  for (let i = 0; i < state.ingresses.length; i++) groupOf.set(state.ingresses[i], i + 1);
  const byKey = new Map<number, number>();
  const indexOf = (ref: BackendRef, host: string): number => {
    const resolved = resolvedOf(ref);
    const redirect = redirects(state, ref, host);
    // One Ingress's backends are its own even where another Ingress names
    // the same Service with the same options: the plugin counts requests per
    // table backend, and the metrics are per Ingress.
    const group = groupOf.get(ref.owner);
    if (group === undefined) throw new Error(`internal: a backend of ${ref.owner?.key ?? 'the controller'}, which is not claimed`);
    if (resolved.id >= BACKEND_KEYS / 2) throw new Error(`internal: backend id ${resolved.id} is past ${BACKEND_KEYS / 2}`);
    const key = group * BACKEND_KEYS + resolved.id * 2 + (redirect ? 1 : 0);
    const known = byKey.get(key);
    if (known !== undefined) return known;
    byKey.set(key, found.length);
    found.push({ ref, host, redirect, group });
    return found.length - 1;
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
    // A host's rules come mostly from one Ingress: added once per run of them, not per rule.
    let added: ClaimedIngress | undefined;
    for (const route of sortInPlace(group.winners ?? [], compareRoutes)) {
      rules.push({ path: route.path, pathType: route.pathType, backend: indexOf(route.backend, group.name), source: route.ingress.key });
      if (route.ingress !== added) served.add((added = route.ingress));
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

  const tableDefault = state.controllerDefault ? indexOf(state.controllerDefault, '') : undefined;

  // Numbered by group, in found order within one: a counting sort, as the
  // groups are claim places.
  const firstOf = new Int32Array(state.ingresses.length + 2);
  for (const f of found) firstOf[f.group + 1]!++;
  for (let g = 1; g < firstOf.length; g++) firstOf[g]! += firstOf[g - 1]!;
  const groupStart = firstOf.slice();
  const number = new Int32Array(found.length);
  const backends = new Array<TableBackend>(found.length);
  const makers = new Array<TableMemo['makers'][number]>(found.length);
  const last = memo?.table;
  const starts = lastRuns(last);
  for (let p = 0; p < found.length; p++) {
    const f = found[p]!;
    const i = firstOf[f.group]!++;
    number[p] = i;
    backends[i] = (last && starts && lastEqual(last, starts, f.ref, f.redirect, i - groupStart[f.group]!)) || makeBackend(f.ref, f.redirect);
    makers[i] = { ref: f.ref, host: f.host, redirect: f.redirect };
  }
  for (const host of hosts) {
    for (const rule of host.rules) rule.backend = number[rule.backend]!;
    if (host.defaultBackend !== undefined) host.defaultBackend = number[host.defaultBackend]!;
  }

  state.table = { hosts, backends };
  if (tableDefault !== undefined) state.table.defaultBackend = number[tableDefault]!;
  // In claim order, which is deterministic (creation time, then
  // namespace/name): sorting the 10,000 keys by name was 3 ms of every
  // routing build at 10,000 Ingresses, for readers that take them as a set.
  const servedKeys: string[] = [];
  for (const ingress of state.ingresses) if (served.has(ingress)) servedKeys.push(ingress.key);
  state.served = servedKeys;
  if (memo && ids && state.routing) {
    memo.table = { routing: state.routing, ids, hosts, defaultBackend: state.table.defaultBackend, served: state.served, makers, backends };
  }
};
