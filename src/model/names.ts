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
// request line and hands the plugin the path (TSUrlPathGet), which the plugin
// normalises (normalize_path in native/core/names.cc). Measured on ATS 9.2
// with the plugin (a rule for each spelling, a raw request for each):
// - ATS answers 400 to a request line holding a control character, a space,
//   DEL or any byte above 0x7e (clients send those percent-encoded);
// - the path ATS hands on stops at "?" and "#", and at ";" (what follows is
//   ATS's "params" part of the URL), so it never holds them;
// - the plugin resolves "." and ".." segments, also written %2e (either
//   case), so a normalised path never has one; ".." at the root stays at the
//   root, "..." and "%2e%2e%2e" are ordinary segments;
// - nothing else is decoded or merged: "%2F" stays "%2F" and "//" stays "//"
//   ("/x/..//a" is "//a"), so a rule holding them can match;
// - a path longer than MAX_PATH_BYTES is not matched.
// A rule that breaks any of these can never match a request: it is reported
// and skipped, whatever spelling made it so.

/** Whether a path segment is a "." or ".." one as the plugin reads them (dots_in_segment). */
function isDotSegment(segment: string): boolean {
  let dots = 0;
  let i = 0;
  while (i < segment.length) {
    if (segment[i] === '.') i += 1;
    else if (segment[i] === '%' && segment[i + 1] === '2' && (segment[i + 2] === 'e' || segment[i + 2] === 'E')) i += 3;
    else return false;
    if (++dots > 2) return false;
  }
  return dots > 0;
}

// Printable ASCII without "?", "#" and ";": the characters a path the plugin matches can hold.
const REQUEST_PATH_CHARS = /^[!"$-:<->@-~]*$/;

/** Why no normalised request path can ever be (or begin with, element-wise) `path`; undefined when one can. */
function unmatchable(path: string): string | undefined {
  // Every rule of every build comes here: one regular expression for the common case.
  if (!REQUEST_PATH_CHARS.test(path)) {
    for (const ch of path) {
      const c = ch.codePointAt(0)!;
      if (c <= 0x20 || c === 0x7f) return `holds ${c === 0x20 ? 'a space' : `the control character U+${c.toString(16).toUpperCase().padStart(4, '0')}`}, which ATS refuses in a request line (write it percent-encoded, as clients send it)`;
      if (c > 0x7e) return `holds ${JSON.stringify(ch)}, a character outside ASCII, which ATS refuses in a request line (write it percent-encoded, as clients send it: ${encodeURIComponent(ch)})`;
      if (ch === '?' || ch === '#') return `holds "${ch}", which ends the path of a URL`;
      if (ch === ';') return 'holds ";", where ATS ends the path it routes on (what follows are URL parameters)';
    }
  }
  // ASCII only from here: characters are bytes.
  if (path.length > MAX_PATH_BYTES) return `is ${path.length} bytes long; the plugin matches request paths of at most ${MAX_PATH_BYTES} bytes`;
  if (path.includes('.') || path.includes('%')) {
    for (const segment of path.split('/')) {
      if (isDotSegment(segment)) return `holds the segment ${JSON.stringify(segment)}, a "." or ".." segment, which the plugin resolves in every request path before matching`;
    }
  }
  return undefined;
}

/**
 * A rule's path, as the table holds it: it begins with '/', and some
 * normalised request path can match it (see above). Prefix and
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
  const why = unmatchable(path);
  if (why) return invalid(`${quoted(text)} ${why}: no request can match it`);
  return path;
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

