// Each claimed Ingress read on its own: its settings (annotations), its valid
// paths (rules) and its spec.defaultBackend, with the problems found in them.
// All of it comes from the Ingress object alone, so with a memo an Ingress
// that is the same object as in an earlier build (selectIngresses then takes
// its claim over) gives what it gave then, and one Ingress changed among
// 10,000 is the one read again. Then every path goes to its host in
// precedence order, for the conflicts processor, which looks across them.

import type { Problem } from './model.js';
import type { Invalid } from '../validate/invalid.js';
import { readSettings } from './annotations.js';
import { backendRefOf } from './refs.js';
import { collectRoutes } from './rules.js';
import type { BuildState, HostGroup, Processor } from './state.js';
import { hostGroup } from './state.js';

const NO_PROBLEMS: readonly Problem[] = [];

/** Adds the build's routes from `start` on to their hosts' groups (an Ingress's routes mostly share a host: looked up once for them). */
function group(state: BuildState, start: number): void {
  const routes = state.routes;
  let group: HostGroup | undefined;
  for (let i = start; i < routes.length; i++) {
    const route = routes[i]!;
    if (group?.name !== route.host) group = hostGroup(state, route.host);
    group.routes.push(route);
  }
}

/** Processor: each claimed Ingress read, and its paths in their hosts' groups. */
export const readIngresses: Processor = (state) => {
  const hosts = new Map<string, string | Invalid>();
  const memo = state.context.memo;
  for (const ingress of state.ingresses) {
    const parts = ingress.parts;
    if (parts) {
      // Resolved afresh by this build: its Services and endpoints may differ.
      for (const route of parts.routes) route.backend.resolved = undefined;
      if (ingress.defaultBackend) ingress.defaultBackend.resolved = undefined;
      if (parts.problems.length > 0) state.problems.push(...parts.problems);
      const start = state.routes.length;
      for (const route of parts.routes) state.routes.push(route);
      group(state, start);
      if (memo) memo.reused.ingresses++;
      continue;
    }
    // Straight into the build's lists; copied out for the memo only (a build without one allocates nothing per Ingress).
    const routesFrom = state.routes.length;
    const problemsFrom = state.problems.length;
    readSettings(state, ingress);
    collectRoutes(state, ingress, hosts, state.routes);
    const spec = ingress.object.spec;
    ingress.defaultBackend = spec?.defaultBackend ? backendRefOf(state, ingress, spec.defaultBackend, -1, -1) : undefined;
    group(state, routesFrom);
    if (memo) {
      ingress.parts = {
        routes: state.routes.slice(routesFrom),
        problems: state.problems.length > problemsFrom ? state.problems.slice(problemsFrom) : NO_PROBLEMS,
      };
    }
  }
};
