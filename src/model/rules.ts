// Rules: every valid path of one claimed Ingress, as route candidates. An
// invalid host skips its rule only; an invalid path skips that path only.
// The same host may get paths from many Ingresses and namespaces; which one
// serves a (host, path, pathType) is the conflicts processor's choice.

import type { Invalid } from '../validate/invalid.js';
import { isInvalid } from '../validate/invalid.js';
import { parseHost, parsePath, parsePathType } from './names.js';
import { backendRefOf } from './refs.js';
import type { BuildState, ClaimedIngress, RouteCandidate } from './state.js';
import { pathField, reportOn } from './state.js';

/**
 * The Ingress's valid paths in its own order, added to `routes`, and its
 * rule hosts (ingress.ruleHosts). `hosts`: the hosts checked so far in this
 * build (many rules name the same host: each is checked once, and the
 * string shared).
 */
export function collectRoutes(state: BuildState, ingress: ClaimedIngress, hosts: Map<string, string | Invalid>, routes: RouteCandidate[]): void {
  const rules = ingress.object.spec?.rules ?? [];
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i];
    if (!rule) continue;
    const text = rule.host ?? '';
    let host = hosts.get(text);
    if (host === undefined) {
      host = parseHost(text);
      hosts.set(text, host);
    }
    if (isInvalid(host)) {
      reportOn(state, ingress, `spec.rules[${i}].host`, 'Error', `${host.invalid}; this rule is skipped`);
      continue;
    }
    if (!ingress.ruleHosts.includes(host)) ingress.ruleHosts.push(host);
    const paths = rule.http?.paths ?? [];
    for (let j = 0; j < paths.length; j++) {
      const p = paths[j];
      if (!p) continue;
      const pathType = parsePathType(p.pathType);
      if (isInvalid(pathType)) {
        reportOn(state, ingress, `${pathField(i, j)}.pathType`, 'Error', `${pathType.invalid}; this path is skipped`);
        continue;
      }
      const path = parsePath(p.path, pathType);
      if (isInvalid(path)) {
        reportOn(state, ingress, `${pathField(i, j)}.path`, 'Error', `${path.invalid}; this path is skipped`);
        continue;
      }
      const backend = backendRefOf(state, ingress, p.backend, i, j);
      if (!backend) continue;
      routes.push({ host, path, pathType, ingress, rule: i, index: j, backend });
    }
  }
}
