// The formats the Kubernetes API server checks names and keys against
// (k8s.io/apimachinery's util/validation and api/validate/content, as of
// Kubernetes 1.35, the version the tests run), written here from their rules.
// Each check answers with the messages the API server gives, or [] when the
// value is valid; a caller adds the field (api-objects.ts).
//
// The rules, in brief:
//   DNS-1123 label      [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63 characters
//   DNS-1123 subdomain  labels of that form joined by '.', at most 253 characters
//                       (no per-label length limit: the regular expression has none)
//   DNS-1035 label      [a-z]([-a-z0-9]*[a-z0-9])?, at most 63 characters (Service names)
//   wildcard subdomain  '*.' then a DNS-1123 subdomain, at most 253 characters in all
//   qualified name      [prefix/]name: a DNS-1123 subdomain prefix, and a name of at most
//                       63 characters ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9] (label and
//                       annotation keys; annotation keys are lowercased first)
//   label value         empty or a qualified name's name part
//   IANA port name      [-a-z0-9], 1 to 15 characters, a letter, no '--', no '-' at an end
//   config key          [-._a-zA-Z0-9]+, at most 253 characters, not '.', '..' or '..'-prefixed

import { isIPv6 } from 'node:net';

const DNS1123_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN = `${DNS1123_LABEL}(\\.${DNS1123_LABEL})*`;
const DNS1035_LABEL = '[a-z]([-a-z0-9]*[a-z0-9])?';
const WILDCARD_SUBDOMAIN = `\\*\\.${DNS1123_SUBDOMAIN}`;
const LABEL_KEY = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const LABEL_VALUE = `(${LABEL_KEY})?`;
const CONFIG_KEY = '[-._a-zA-Z0-9]+';
const HTTP_PATH = "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+";

const whole = (re: string) => new RegExp(`^(?:${re})$`);
const DNS1123_LABEL_RE = whole(DNS1123_LABEL);
const DNS1123_SUBDOMAIN_RE = whole(DNS1123_SUBDOMAIN);
const DNS1035_LABEL_RE = whole(DNS1035_LABEL);
const WILDCARD_SUBDOMAIN_RE = whole(WILDCARD_SUBDOMAIN);
const LABEL_KEY_RE = whole(LABEL_KEY);
const LABEL_VALUE_RE = whole(LABEL_VALUE);
const CONFIG_KEY_RE = whole(CONFIG_KEY);
const HTTP_PATH_RE = whole(HTTP_PATH);

// Lengths are in bytes, as Go's len() counts them.
const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

export function maxLenError(n: number, unit: 'characters' | 'bytes' = 'characters'): string {
  return `must be no more than ${n} ${unit}`;
}

export function regexError(message: string, re: string, ...examples: string[]): string {
  if (examples.length === 0) return `${message} (regex used for validation is '${re}')`;
  return `${message} (e.g. ${examples.map((e) => `'${e}'`).join(' or ')}, regex used for validation is '${re}')`;
}

export function inclusiveRangeError(lo: number, hi: number): string {
  return `must be between ${lo} and ${hi}, inclusive`;
}

const DNS1123_LABEL_MSG = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_MSG = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const DNS1035_LABEL_MSG = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
const WILDCARD_MSG = "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character";
const LABEL_KEY_MSG = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_MSG = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const CONFIG_KEY_MSG = "a valid config key must consist of alphanumeric characters, '-', '_' or '.'";

export function isDns1123Label(v: string): string[] {
  const errs: string[] = [];
  if (bytes(v) > 63) errs.push(maxLenError(63));
  if (!DNS1123_LABEL_RE.test(v)) {
    errs.push(DNS1123_SUBDOMAIN_RE.test(v) ? 'must not contain dots' : regexError(DNS1123_LABEL_MSG, DNS1123_LABEL, 'my-name', '123-abc'));
  }
  return errs;
}

export function isDns1123Subdomain(v: string, unit: 'characters' | 'bytes' = 'characters'): string[] {
  const errs: string[] = [];
  if (bytes(v) > 253) errs.push(maxLenError(253, unit));
  if (!DNS1123_SUBDOMAIN_RE.test(v)) errs.push(regexError(DNS1123_SUBDOMAIN_MSG, DNS1123_SUBDOMAIN, 'example.com'));
  return errs;
}

export function isDns1035Label(v: string): string[] {
  const errs: string[] = [];
  if (bytes(v) > 63) errs.push(maxLenError(63));
  if (!DNS1035_LABEL_RE.test(v)) errs.push(regexError(DNS1035_LABEL_MSG, DNS1035_LABEL, 'my-name', 'abc-123'));
  return errs;
}

export function isWildcardDns1123Subdomain(v: string): string[] {
  const errs: string[] = [];
  if (bytes(v) > 253) errs.push(maxLenError(253));
  if (!WILDCARD_SUBDOMAIN_RE.test(v)) errs.push(regexError(WILDCARD_MSG, WILDCARD_SUBDOMAIN, '*.example.com'));
  return errs;
}

/** A label key, or an annotation key once lowercased. */
export function isQualifiedName(v: string): string[] {
  const errs: string[] = [];
  const parts = v.split('/');
  let name: string;
  if (parts.length === 1) {
    name = parts[0]!;
  } else if (parts.length === 2) {
    const prefix = parts[0]!;
    name = parts[1]!;
    if (prefix.length === 0) errs.push('prefix part must be non-empty');
    else errs.push(...isDns1123Subdomain(prefix, 'bytes').map((m) => `prefix part ${m}`));
  } else {
    return [`a valid label key ${regexError(LABEL_KEY_MSG, LABEL_KEY, 'MyName', 'my.name', '123-abc')} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`];
  }
  if (name.length === 0) errs.push('name part must be non-empty');
  else if (bytes(name) > 63) errs.push(`name part ${maxLenError(63, 'bytes')}`);
  if (!LABEL_KEY_RE.test(name)) errs.push(`name part ${regexError(LABEL_KEY_MSG, LABEL_KEY, 'MyName', 'my.name', '123-abc')}`);
  return errs;
}

export function isLabelValue(v: string): string[] {
  const errs: string[] = [];
  if (bytes(v) > 63) errs.push(maxLenError(63, 'bytes'));
  if (!LABEL_VALUE_RE.test(v)) errs.push(regexError(LABEL_VALUE_MSG, LABEL_VALUE, 'MyValue', 'my_value', '12345'));
  return errs;
}

export function isValidPortName(v: string): string[] {
  const errs: string[] = [];
  if (bytes(v) > 15) errs.push(maxLenError(15));
  if (!/^[-a-z0-9]+$/.test(v)) errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!/[a-z]/.test(v)) errs.push('must contain at least one letter (a-z)');
  if (v.includes('--')) errs.push('must not contain consecutive hyphens');
  if (v.startsWith('-') || v.endsWith('-')) errs.push('must not begin or end with a hyphen');
  return errs;
}

export function isValidPortNum(n: number): string[] {
  return n >= 1 && n <= 65535 ? [] : [inclusiveRangeError(1, 65535)];
}

export function isConfigMapKey(v: string): string[] {
  const errs: string[] = [];
  if (bytes(v) > 253) errs.push(maxLenError(253));
  if (!CONFIG_KEY_RE.test(v)) errs.push(regexError(CONFIG_KEY_MSG, CONFIG_KEY, 'key.name', 'KEY_NAME', 'key-name'));
  if (v === '.') errs.push("must not be '.'");
  else if (v === '..') errs.push("must not be '..'");
  else if (v.startsWith('..')) errs.push("must not start with '..'");
  return errs;
}

/**
 * Whether Go's net.ParseIP, in the "sloppy" form Kubernetes uses for Ingress
 * hosts, reads `v` as an address: IPv4 with leading zeros allowed, or IPv6
 * (no zone).
 */
export function isIpSloppy(v: string): boolean {
  if (/^[0-9]{1,3}(\.[0-9]{1,3}){3}$/.test(v)) return v.split('.').every((p) => Number(p) <= 255);
  return !v.includes('%') && isIPv6(v);
}

/** A domain-prefixed path such as `acme.io/foo` (IngressClass spec.controller): messages with the part they name. */
export function domainPrefixedPathErrors(v: string): Array<{ value: string; message: string }> {
  const slash = v.indexOf('/');
  if (slash <= 0 || slash === v.length - 1) return [{ value: v, message: 'must be a domain-prefixed path (such as "acme.io/foo")' }];
  const host = v.slice(0, slash);
  const path = v.slice(slash + 1);
  const errs = isDns1123Subdomain(host).map((message) => ({ value: host, message }));
  if (!HTTP_PATH_RE.test(path)) errs.push({ value: path, message: regexError('Invalid path', HTTP_PATH) });
  return errs;
}
