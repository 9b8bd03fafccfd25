// The order of the rules in one pool (every rule attached to the listener a
// request selects), as the spec gives it. From HTTPRouteSpec.hostnames: "In
// the event that multiple HTTPRoutes specify intersecting hostnames ...
// precedence must be given to rules from the HTTPRoute with the largest
// number of: Characters in a matching non-wildcard hostname. Characters in a
// matching hostname. If ties exist across multiple Routes, the matching
// precedence rules for HTTPRouteMatches takes over." From
// HTTPRouteRule.matches: "precedence must be given to the match having:
// "Exact" path match. "Prefix" path match with largest number of
// characters. Method match. Largest number of header matches. Largest
// number of query param matches. ... If ties still exist across multiple
// Routes, matching precedence MUST be determined in order of the following
// criteria, continuing on ties: The oldest Route based on creation
// timestamp. The Route appearing first in alphabetical order by
// "{namespace}/{name}". If ties still exist within an HTTPRoute, matching
// precedence MUST be granted to the FIRST matching rule (in list order)".

import { routeHostnameRank, type Hostname } from './hostnames.js';
import { prefixOf, type NormalizedMatch } from './matches.js';

/** One match of one rule of one Route, on one of the Route's hostnames under a listener. */
export interface RankedMatch {
  readonly hostname: Hostname;
  readonly match: NormalizedMatch;
  readonly route: { readonly namespace: string; readonly name: string; readonly creationTimestamp?: string };
  readonly ruleIndex: number;
  readonly matchIndex: number;
}

const NO_TIME = Number.POSITIVE_INFINITY;

function created(t: string | undefined): number {
  const ms = t === undefined ? NaN : Date.parse(t);
  return Number.isNaN(ms) ? NO_TIME : ms;
}

/** Negative when `a` takes precedence over `b`. A total order: equal only for the same match of the same rule. */
export function compareMatches(a: RankedMatch, b: RankedMatch): number {
  const [ha1, ha2] = routeHostnameRank(a.hostname);
  const [hb1, hb2] = routeHostnameRank(b.hostname);
  if (ha1 !== hb1) return ha1 - hb1;
  if (ha2 !== hb2) return ha2 - hb2;
  const pa = a.match.path;
  const pb = b.match.path;
  if (pa.type !== pb.type) return pa.type === 'Exact' ? -1 : 1;
  if (pa.type === 'PathPrefix') {
    const la = prefixOf(pa.value).length;
    const lb = prefixOf(pb.value).length;
    if (la !== lb) return lb - la;
  }
  const ma = a.match.method !== undefined ? 1 : 0;
  const mb = b.match.method !== undefined ? 1 : 0;
  if (ma !== mb) return mb - ma;
  if (a.match.headers.length !== b.match.headers.length) return b.match.headers.length - a.match.headers.length;
  if (a.match.queryParams.length !== b.match.queryParams.length) return b.match.queryParams.length - a.match.queryParams.length;
  const ta = created(a.route.creationTimestamp);
  const tb = created(b.route.creationTimestamp);
  if (ta !== tb) return ta < tb ? -1 : 1;
  const ka = `${a.route.namespace}/${a.route.name}`;
  const kb = `${b.route.namespace}/${b.route.name}`;
  if (ka !== kb) return ka < kb ? -1 : 1;
  if (a.ruleIndex !== b.ruleIndex) return a.ruleIndex - b.ruleIndex;
  if (a.matchIndex !== b.matchIndex) return a.matchIndex - b.matchIndex;
  // The same rule and match on two hostnames of equal rank: by hostname, for a total order.
  const xa = a.hostname ?? '';
  const xb = b.hostname ?? '';
  return xa < xb ? -1 : xa > xb ? 1 : 0;
}
