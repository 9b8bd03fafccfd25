// Validation of the names and paths an Ingress holds. Each function answers
// with the normalized value, or `Invalid` saying what is wrong.

import type { PathType } from './table-model.js';
import { type Invalid, invalid } from '../validate/invalid.js';
import { hostNameError } from '../validate/names.js';
import { quoted } from '../validate/quote.js';

/** A DNS name (upstream-vhost); lowercased. */
export function parseDnsName(text: string): string | Invalid {
  const name = text.toLowerCase();
  const error = hostNameError(name);
  return error ? invalid(`${quoted(text)} ${error}`) : name;
}

/**
 * An Ingress host: absent or '' is the catch-all (''); otherwise an exact DNS
 * name or `*.` followed by one, lowercased.
 */
export function parseHost(text: string | undefined): string | Invalid {
  if (text === undefined || text === '') return '';
  const host = text.toLowerCase();
  const name = host.startsWith('*.') ? host.slice(2) : host;
  // As the API server checks a wildcard host: 253 characters in all, "*." included.
  if (host.length > 253) return invalid(`${quoted(text, 40)} is longer than 253 characters`);
  if (name.includes('*')) {
    return invalid(`${quoted(text)} is not a valid host: a wildcard is allowed only as the whole first label ("*.example.com")`);
  }
  const error = hostNameError(name);
  return error ? invalid(`${quoted(text)} ${error}`) : host;
}

/** `*.foo.com` for `bar.foo.com`; undefined for a name of one label, a wildcard or the catch-all. */
export function wildcardCovering(host: string): string | undefined {
  if (host === '' || host.startsWith('*.')) return undefined;
  const dot = host.indexOf('.');
  return dot < 0 ? undefined : `*${host.slice(dot)}`;
}


export function parsePathType(text: string | undefined): PathType | Invalid {
  if (text === undefined || text === '') {
    return invalid('pathType is required (Exact, Prefix or ImplementationSpecific)');
  }
  switch (text) {
    case 'Exact':
    case 'Prefix':
    case 'ImplementationSpecific':
      return text;
    default:
      return invalid(`${quoted(text)} is not a path type (Exact, Prefix or ImplementationSpecific)`);
  }
}

/**
 * The longest request path the plugin matches (kMaxPathLength in
 * native/core/format.h): a longer one gets "path too long", and the table
 * writer refuses a rule longer than this.
 */
export const MAX_PATH_BYTES = 8192;

// What a request path looks like when the plugin matches it: ATS parses the
// request line and hands the plugin the path (TSUrlPathGet) and, apart, what
// follows its first ";" (TSUrlHttpParamsGet); the plugin joins them back and
// normalises the whole (normalize_path in native/core/names.cc). Measured on
// ATS 9.2 with the plugin (a rule for each spelling, a raw request for each):
// - ATS answers 400 to a request line holding a control character, a space,
//   DEL or any byte above 0x7e (clients send those percent-encoded);
// - the path stops at "?" and "#", so it never holds them; ";" and what
//   follows are part of it, matched as written ("/a;b" is the segment "a;b",
//   which a Prefix "/a" does not match element-wise), except that ATS drops
//   a first ";" with nothing after it (the pod gets "/a" for "/a;");
// - percent-encoded unreserved characters (ALPHA DIGIT - . _ ~, either case
//   of hex digit) are decoded, the hex digits of every other encoding are
//   uppercased, and nothing else is decoded: "%61" is "a", "%2f" is "%2F",
//   which stays "%2F" (no segment separator), and "//" stays "//"
//   ("/x/..//a" is "//a");
// - then "." and ".." segments are resolved, so a normalised path never has
//   one (also spelt %2e); ".." at the root stays at the root, "..." is an
//   ordinary segment;
// - a request with a segment that is "." or ".." up to a ";" ("..;x") is
//   refused (400): servers that read ";" as parameters resolve it, others do
//   not, so no route is right for both;
// - a path longer than MAX_PATH_BYTES is not matched.
// A rule path is normalised the same way (decoded, hex in upper case: RFC
// 3986 says "/%7Ea" and "/~a" are one URI, so both spellings of a rule
// mean the requests the plugin matches as "/~a", and two such rules are one
// rule); a rule that breaks any other of these can never match a request: it
// is reported and skipped, whatever spelling made it so.

const HEX = /^[0-9A-Fa-f]{2}$/;
// RFC 3986's unreserved characters.
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/** One segment as the plugin reads it: unreserved characters decoded, other hex digits uppercased, left to right. */
function decodeSegment(segment: string): string {
  if (!segment.includes('%')) return segment;
  let out = '';
  for (let i = 0; i < segment.length; i++) {
    const hex = segment.slice(i + 1, i + 3);
    if (segment[i] === '%' && HEX.test(hex)) {
      const c = String.fromCharCode(parseInt(hex, 16));
      out += UNRESERVED.test(c) ? c : `%${hex.toUpperCase()}`;
      i += 2;
    } else {
      out += segment[i];
    }
  }
  return out;
}

// Printable ASCII without "?" and "#": the characters a path the plugin matches can hold.
const REQUEST_PATH_CHARS = /^[!"$->@-~]*$/;

/**
 * The path as the plugin matches it, or why no normalised request path can
 * ever be (or begin with, element-wise) `path`.
 */
function normalised(path: string): { path: string } | { why: string } {
  // Every rule of every build comes here: one regular expression for the common case.
  if (!REQUEST_PATH_CHARS.test(path)) {
    for (const ch of path) {
      const c = ch.codePointAt(0)!;
      if (c <= 0x20 || c === 0x7f) return { why: `holds ${c === 0x20 ? 'a space' : `the control character U+${c.toString(16).toUpperCase().padStart(4, '0')}`}, which ATS refuses in a request line (write it percent-encoded, as clients send it)` };
      if (c > 0x7e) return { why: `holds ${JSON.stringify(ch)}, a character outside ASCII, which ATS refuses in a request line (write it percent-encoded, as clients send it: ${encodeURIComponent(ch)})` };
      if (ch === '?' || ch === '#') return { why: `holds "${ch}", which ends the path of a URL` };
    }
  }
  // ASCII only from here: characters are bytes.
  let out = path;
  if (path.includes('.') || path.includes('%')) {
    const segments = path.split('/');
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i]!;
      const decoded = decodeSegment(segment);
      const semi = decoded.indexOf(';');
      const head = semi < 0 ? decoded : decoded.slice(0, semi);
      if (head === '.' || head === '..') {
        return {
          why: semi < 0
            ? `holds the segment ${JSON.stringify(segment)}, a "." or ".." segment, which the plugin resolves in every request path before matching`
            : `holds the segment ${JSON.stringify(segment)}, a "." or ".." segment with parameters, which the plugin refuses in every request path (servers that read ";" as parameters resolve it, others do not)`,
        };
      }
      segments[i] = decoded;
    }
    out = segments.join('/');
  }
  if (out.length > MAX_PATH_BYTES) return { why: `is ${out.length} bytes long; the plugin matches request paths of at most ${MAX_PATH_BYTES} bytes` };
  return { path: out };
}

/**
 * A rule's path, as the table holds it: it begins with '/', normalised as
 * the plugin normalises request paths, and some normalised request path can
 * match it (see above). Prefix and
 * ImplementationSpecific paths lose their trailing slashes (the lookup
 * ignores them: "/foo/" matches as "/foo", "//" as "/"), so `/foo` and
 * `/foo/` are seen as the same rule; an absent ImplementationSpecific path is
 * '/'.
 */
export function parsePath(text: string | undefined, pathType: PathType): string | Invalid {
  if (text === undefined || text === '') {
    if (pathType === 'ImplementationSpecific') return '/';
    return invalid(`path is required for pathType ${pathType}`);
  }
  if (!text.startsWith('/')) return invalid(`${quoted(text)} does not begin with "/"`);
  const path = pathType === 'Exact' ? text : text.replace(/\/+$/, '') || '/';
  // ATS drops an empty parameter part: "/a;" reaches the plugin (and the
  // pod) as "/a". A Prefix "/a;" still matches "/a;/b".
  if (pathType === 'Exact' && path.indexOf(';') === path.length - 1) {
    return invalid(`${quoted(text)} ends in its first ";", which ATS drops from a request path (an empty parameter part: "/a;" reaches the pod as "/a"): no request can match it`);
  }
  const n = normalised(path);
  if ('why' in n) return invalid(`${quoted(text)} ${n.why}: no request can match it`);
  return n.path;
}

/**
 * A dotted-quad IPv4 address without leading zeros, as EndpointSlices hold
 * them. By hand rather than node:net's isIPv4 because it runs once per
 * endpoint on every build.
 */
export function isIPv4Address(text: string): boolean {
  let dots = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return false;
      dots++;
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && value === 0) return false;
      value = value * 10 + (c - 48);
      digits++;
      if (value > 255) return false;
    } else {
      return false;
    }
  }
  return dots === 3 && digits > 0;
}

