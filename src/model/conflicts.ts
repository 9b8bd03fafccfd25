// Conflicts: one route per (host, path, pathType) and one default backend per
// host. Candidates arrive in precedence order (oldest Ingress first, then the
// Ingress's own order), so the first one wins; each loser gets a Warning that
// names the winner.

import type { BackendRef, BuildState, HostGroup, Processor, RouteCandidate } from './state.js';
import { DEFAULT_BACKEND_FIELD, backendLabel, pathField, reportOn } from './state.js';

function hostLabel(host: string): string {
  return host === '' ? 'the catch-all host (rules without host)' : `host "${host}"`;
}

function sameBackend(a: BackendRef, b: BackendRef): boolean {
  const sa = a.owner?.settings;
  const sb = b.owner?.settings;
  return a.namespace === b.namespace && a.service === b.service && a.port === b.port &&
    sa?.scheme === sb?.scheme && sa?.optionsKey === sb?.optionsKey && sa?.sslRedirect === sb?.sslRedirect;
}

/** Most hosts have a handful of paths: those are compared in place, larger ones through a map. */
const SMALL_HOST = 8;

// ImplementationSpecific is matched as Prefix (DESIGN.md section 3), so a
// Prefix and an ImplementationSpecific rule of the same path match the same
// requests: one table cannot hold both, and the older wins as for any conflict.
function matchClass(pathType: string): string {
  return pathType === 'Exact' ? 'Exact' : 'Prefix';
}

function inList(winners: readonly RouteCandidate[], route: RouteCandidate): RouteCandidate | undefined {
  const cls = matchClass(route.pathType);
  for (const w of winners) if (w.path === route.path && matchClass(w.pathType) === cls) return w;
  return undefined;
}

/**
 * A map per match class, keyed by the path itself: a key made of class and
 * path was a new string per route, hashed once more, on every build
 * (a fifth of a new Ingress's build at 1,000 hosts of 10 paths).
 */
interface Seen {
  readonly exact: Map<string, RouteCandidate>;
  readonly prefix: Map<string, RouteCandidate>;
}

function inMap(seen: Seen, route: RouteCandidate): RouteCandidate | undefined {
  const byPath = matchClass(route.pathType) === 'Exact' ? seen.exact : seen.prefix;
  const winner = byPath.get(route.path);
  if (!winner) byPath.set(route.path, route);
  return winner;
}

function resolveHost(state: BuildState, group: HostGroup): void {
  if (group.routes.length <= 1) {
    group.winners = group.routes;
  } else {
    resolvePaths(state, group);
  }
  resolveDefault(state, group);
}

function resolvePaths(state: BuildState, group: HostGroup): void {
  const seen: Seen | undefined = group.routes.length > SMALL_HOST ? { exact: new Map(), prefix: new Map() } : undefined;
  const winners: RouteCandidate[] = [];
  group.winners = winners;
  for (const route of group.routes) {
    const winner = seen ? inMap(seen, route) : inList(winners, route);
    if (!winner) {
      winners.push(route);
      continue;
    }
    const what = `${hostLabel(route.host)} path "${route.path}" (${route.pathType})`;
    const winnerField = pathField(winner.rule, winner.index);
    const by = winner.ingress === route.ingress
      ? `${winnerField} of this Ingress`
      : `${winnerField} of Ingress ${winner.ingress.key}, which is older`;
    reportOn(state, route.ingress, pathField(route.rule, route.index), 'Warning', `${what} is already served by ${by}; this path is ignored`);
  }
}

function resolveDefault(state: BuildState, group: HostGroup): void {
  const candidates = group.defaults ?? [];
  const first = candidates[0];
  group.defaultWinner = first;
  if (!first) return;
  for (let i = 1; i < candidates.length; i++) {
    const candidate = candidates[i];
    if (!candidate) continue;
    if (sameBackend(first.backend, candidate.backend)) continue;
    reportOn(state, candidate.ingress, DEFAULT_BACKEND_FIELD, 'Warning',
      `the default backend of ${hostLabel(group.name)} is already ${backendLabel(first.backend)} from Ingress ${first.ingress.key}, which is older; this one is not used for that host`);
  }
}

export const resolveConflicts: Processor = (state) => {
  for (const group of state.hosts.values()) resolveHost(state, group);
};
