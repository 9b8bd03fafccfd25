// An HTTPRoute match, normalised as the route table will hold it, and how a
// request meets it: the spec's text is the reference, and these functions
// are the oracle the table's lookup is tested against.
//
// - Path Exact: "Matches the URL path exactly and with case sensitivity."
// - Path PathPrefix: "Matches based on a URL path prefix split by `/`.
//   Matching is case-sensitive and done on a path element by element basis
//   ... When specified, a trailing `/` is ignored. For example, the paths
//   `/abc`, `/abc/`, and `/abc/def` would all match the prefix `/abc`, but
//   the path `/abcd` would not."
// - Headers: "Name matching MUST be case-insensitive ... If multiple entries
//   specify equivalent header names, only the first entry with an
//   equivalent name MUST be considered for a match."
// - Query parameters: "This must be an exact string match ... only the first
//   entry with an equivalent name MUST be considered for a match."
// - Method: the request's method, exactly.
// RegularExpression matches are implementation-specific and not supported:
// normalizeMatch() says so and the match is left out.

import type { HTTPRouteMatch } from '../../kube/types.js';
import { isHeaderValue } from '../../validate/http-values.js';

export interface NameValue {
  readonly name: string;
  readonly value: string;
}

export interface NormalizedMatch {
  readonly path: { readonly type: 'Exact' | 'PathPrefix'; readonly value: string };
  readonly method?: string;
  /** Names lowercased; only the first of equal names. */
  readonly headers: readonly NameValue[];
  /** Only the first of equal names. */
  readonly queryParams: readonly NameValue[];
}

export interface GatewayRequest {
  readonly path: string;
  readonly method: string;
  /** As received: names in any case, a name may repeat. */
  readonly headers: readonly (readonly [string, string])[];
  /** As received, in order; a name may repeat. */
  readonly query: readonly (readonly [string, string])[];
}

function firstOfEach(list: readonly NameValue[], key: (n: string) => string): NameValue[] {
  const seen = new Set<string>();
  const out: NameValue[] = [];
  for (const e of list) {
    const k = key(e.name);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push({ name: k, value: e.value });
  }
  return out;
}

/** The route table's bound on a path (kMaxPathLength in native/core/format.h). */
const MAX_PATH = 8192;

/**
 * The match as the table holds it, or why it cannot be served. The CRD's
 * defaults fill what a manifest left out. Besides the match types, what the
 * table's writer would refuse (the CRDs give header and query values no
 * pattern, and the manifests source does not evaluate every CEL rule) is
 * refused here, once, so that one HTTPRoute can never stop a table from
 * being published.
 */
export function normalizeMatch(m: HTTPRouteMatch): NormalizedMatch | { readonly unsupported: string } {
  const type = m.path?.type ?? 'PathPrefix';
  const value = m.path?.value ?? '/';
  if (type !== 'Exact' && type !== 'PathPrefix') return { unsupported: `path match type ${type} is not supported (Exact and PathPrefix are)` };
  if (!value.startsWith('/') || value.length > MAX_PATH || !isHeaderValue(value)) {
    return { unsupported: `path ${JSON.stringify(value.slice(0, 64))} does not begin with '/', is longer than ${MAX_PATH} bytes or has a control character` };
  }
  for (const h of m.headers ?? []) if ((h.type ?? 'Exact') !== 'Exact') return { unsupported: `header match type ${String(h.type)} is not supported (Exact is)` };
  for (const q of m.queryParams ?? []) if ((q.type ?? 'Exact') !== 'Exact') return { unsupported: `query parameter match type ${String(q.type)} is not supported (Exact is)` };
  const bad = [...(m.headers ?? []), ...(m.queryParams ?? [])].find((p) => !isHeaderValue(p.name) || !isHeaderValue(p.value));
  if (bad) return { unsupported: `the value of ${JSON.stringify(bad.name)} has a control character (CR, LF, NUL)` };
  return {
    path: { type, value },
    ...(m.method !== undefined ? { method: m.method } : {}),
    headers: firstOfEach(m.headers ?? [], (n) => n.toLowerCase()),
    queryParams: firstOfEach(m.queryParams ?? [], (n) => n),
  };
}

/** A PathPrefix value without its trailing `/`: `/abc/` is `/abc`, and `/` the empty prefix that every path has. */
export function prefixOf(value: string): string {
  return value.endsWith('/') ? value.slice(0, -1) : value;
}

export function pathMatches(m: NormalizedMatch['path'], path: string): boolean {
  if (m.type === 'Exact') return path === m.value;
  const prefix = prefixOf(m.value);
  return path === prefix || path.startsWith(`${prefix}/`) || (prefix === '' && path.startsWith('/'));
}

/** A request header's value: repeated headers joined with ',' (RFC 9110's combination). */
function headerValue(req: GatewayRequest, lowerName: string): string | undefined {
  const values = req.headers.filter(([n]) => n.toLowerCase() === lowerName).map(([, v]) => v);
  return values.length > 0 ? values.join(',') : undefined;
}

/** A query parameter's value: the first one when it repeats ("the behavior is implementation-specific"). */
function queryValue(req: GatewayRequest, name: string): string | undefined {
  return req.query.find(([n]) => n === name)?.[1];
}

/** "Multiple match conditions ... ANDed together": path, method, every header, every query parameter. */
export function requestMatches(m: NormalizedMatch, req: GatewayRequest): boolean {
  if (!pathMatches(m.path, req.path)) return false;
  if (m.method !== undefined && m.method !== req.method) return false;
  for (const h of m.headers) if (headerValue(req, h.name) !== h.value) return false;
  for (const q of m.queryParams) if (queryValue(req, q.name) !== q.value) return false;
  return true;
}
