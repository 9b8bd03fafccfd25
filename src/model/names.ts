// Validation of the names and paths an Ingress holds. Each function answers
// with the normalized value, or `Invalid` saying what is wrong.

import type { PathType } from './table-model.js';
import { type Invalid, invalid } from '../validate/invalid.js';
import { hostNameError } from '../validate/names.js';

/** A DNS name (upstream-vhost); lowercased. */
export function parseDnsName(text: string): string | Invalid {
  const name = text.toLowerCase();
  const error = hostNameError(name);
  return error ? invalid(`"${text}" ${error}`) : name;
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
  if (host.length > 253) return invalid(`"${text.slice(0, 40)}…" is longer than 253 characters`);
  if (name.includes('*')) {
    return invalid(`"${text}" is not a valid host: a wildcard is allowed only as the whole first label ("*.example.com")`);
  }
  const error = hostNameError(name);
  return error ? invalid(`"${text}" ${error}`) : host;
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
      return invalid(`"${text}" is not a path type (Exact, Prefix or ImplementationSpecific)`);
  }
}

// Control characters, space, and what ends a path in a URL.
const BAD_PATH_CHARS = /[\u0000-\u0020\u007f?#]/;
const UNMATCHABLE_PATH = /\/\/|\/\.\.?(\/|$)|%2f/i;

/**
 * A rule's path, as the table holds it. It begins with '/' and has no
 * dot-segment, '//' or encoded '/' (the lookup resolves those in the request,
 * so such a rule could never match). Prefix and ImplementationSpecific paths
 * lose a trailing '/' (the lookup ignores it anyway), so `/foo` and `/foo/`
 * are seen as the same rule; an absent ImplementationSpecific path is '/'.
 */
export function parsePath(text: string | undefined, pathType: PathType): string | Invalid {
  if (text === undefined || text === '') {
    if (pathType === 'ImplementationSpecific') return '/';
    return invalid(`path is required for pathType ${pathType}`);
  }
  if (!text.startsWith('/')) return invalid(`"${text}" does not begin with "/"`);
  if (BAD_PATH_CHARS.test(text)) {
    return invalid(`"${text}" holds a space, a control character, "?" or "#"`);
  }
  if (UNMATCHABLE_PATH.test(text)) {
    return invalid(`"${text}" holds "//", a "." or ".." segment or an encoded "/", which no request path can match`);
  }
  if (pathType !== 'Exact' && text.length > 1 && text.endsWith('/')) return text.slice(0, -1);
  return text;
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

