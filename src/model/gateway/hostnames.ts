// Hostnames as the Gateway API reads them (not as Ingress does): a wildcard
// `*.example.com` is a suffix match over one or more labels and never the
// apex; a Route attaches to a listener through the hostnames the two have in
// common, and only those are routed; a request picks the listener with the
// most specific hostname that matches it, with no fallback to a wider one.
// Hostnames here are already lowercase (the CRD's pattern allows no
// uppercase); a request's host is lowercased, its port and a trailing dot
// dropped, by requestHost().

/** A listener's hostname or a Route's, or undefined for "any". */
export type Hostname = string | undefined;

const isWildcard = (h: string): boolean => h.startsWith('*.');
/** `*.example.com` → `.example.com`. */
const suffixOf = (h: string): string => h.slice(1);

/**
 * Whether `host` (a request's host, or an exact hostname) is matched by
 * `pattern`: equal, or `pattern` is `*.suffix` and `host` ends in `.suffix`
 * with at least one label before it. An undefined pattern matches any host.
 */
export function hostnameMatches(pattern: Hostname, host: string): boolean {
  if (pattern === undefined) return true;
  if (!isWildcard(pattern)) return pattern === host;
  const suffix = suffixOf(pattern);
  return host.length > suffix.length && host.endsWith(suffix);
}

/**
 * The hostnames two hostnames have in common, as one hostname (the narrower
 * of the two), or null when they have none. undefined stands for any host:
 * the intersection with it is the other one.
 */
export function intersectHostnames(a: Hostname, b: Hostname): Hostname | null {
  if (a === undefined) return b;
  if (b === undefined) return a;
  if (a === b) return a;
  if (!isWildcard(a) && !isWildcard(b)) return null;
  if (isWildcard(a) && !isWildcard(b)) return hostnameMatches(a, b) ? b : null;
  if (!isWildcard(a) && isWildcard(b)) return hostnameMatches(b, a) ? a : null;
  // Both wildcards: the one whose suffix lies within the other's.
  const sa = suffixOf(a);
  const sb = suffixOf(b);
  if (sa.endsWith(sb)) return a;
  if (sb.endsWith(sa)) return b;
  return null;
}

/**
 * The hostnames a Route is routed on under one listener: each Route hostname
 * intersected with the listener's, those with no intersection ignored; the
 * listener's own when the Route names none. null when both name hostnames
 * and none intersect (the Route is then not accepted by that listener:
 * NoMatchingListenerHostname). [undefined] means every host.
 */
export function effectiveHostnames(listener: Hostname, route: readonly string[] | undefined): Hostname[] | null {
  if (!route || route.length === 0) return [listener];
  const out: Hostname[] = [];
  for (const h of route) {
    const i = intersectHostnames(listener, h);
    if (i !== null && !out.includes(i)) out.push(i);
  }
  return out.length > 0 ? out : null;
}

/**
 * How specific a hostname is, as a key that sorts the most specific first:
 * exact names before wildcards, and among wildcards the one with more dots
 * to the right of the `*` first; no hostname last.
 */
export function listenerHostnameRank(h: Hostname): readonly [number, number] {
  if (h === undefined || h === '') return [2, 0];
  if (!isWildcard(h)) return [0, 0];
  return [1, -(suffixOf(h).split('.').length - 1)];
}

/**
 * The one listener (of those that share a port) that a request for `host`
 * belongs to: of the listeners whose hostname matches it, the most specific.
 * Never a wider one when the most specific has no Route for the request.
 * Listeners with the same hostname are not distinct; the first one wins here.
 */
export function selectListener<L extends { readonly hostname?: string }>(listeners: readonly L[], host: string): L | undefined {
  let best: L | undefined;
  let bestRank: readonly [number, number] | undefined;
  for (const l of listeners) {
    const h = l.hostname === '' ? undefined : l.hostname;
    if (!hostnameMatches(h, host)) continue;
    const r = listenerHostnameRank(h);
    if (!bestRank || r[0] < bestRank[0] || (r[0] === bestRank[0] && r[1] < bestRank[1])) {
      best = l;
      bestRank = r;
    }
  }
  return best;
}

/**
 * How a Route's matching hostname ranks against another Route's for the
 * same request: "precedence must be given to rules from the HTTPRoute with
 * the largest number of: Characters in a matching non-wildcard hostname.
 * Characters in a matching hostname." As a key that sorts first the one to
 * prefer: [-(non-wildcard characters), -(characters)].
 */
export function routeHostnameRank(h: Hostname): readonly [number, number] {
  if (h === undefined) return [0, 0];
  return [isWildcard(h) ? 0 : -h.length, -h.length];
}

/** A request's Host as matched: lowercase, without the port ("Implementations MUST ignore any port value") and a trailing dot. */
export function requestHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end > 0 ? h.slice(0, end + 1) : h;
  }
  const colon = h.lastIndexOf(':');
  if (colon >= 0) h = h.slice(0, colon);
  return h.endsWith('.') ? h.slice(0, -1) : h;
}
