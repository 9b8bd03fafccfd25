// Checks a TLS table (what each SNI name is served) and encodes it flat for
// the addon, as encode-model.ts does for routes: one string of NUL-separated
// strings and one Uint32Array. The layout is native/core's TLS decoder's.
import { ipv4Word, ipv6Words } from './encode-model.js';
import { TableError } from './table-error.js';

/** Bumped with any change of the layout below; the TLS decoder in native/core checks it. 2: Gateway listeners. */
const TLS_ENCODING_VERSION = 2;
const NONE = 0xffffffff;

export interface TlsTableCertificate {
  /** `namespace/name` of the Secret, for people. */
  readonly secret: string;
  /** PEM, leaf first. */
  readonly chainPem: string;
  readonly keyPem: string;
  /** ms since the epoch; 0 unknown. */
  readonly notAfter: number;
}

export type VerifyMode = 'off' | 'optional' | 'on' | 'refuse';

export interface TlsTablePolicy {
  readonly minVersion?: 'TLSv1.2' | 'TLSv1.3';
  /** `refuse`: every handshake for the host fails (its client CA is unusable: fail closed). */
  readonly verifyClient: VerifyMode;
  /** Required for optional and on. */
  readonly caPem?: string;
  readonly verifyDepth: number;
}

export interface TlsTableHost {
  /** Lowercase exact name or `*.suffix`. */
  readonly name: string;
  /** Index into certificates; absent: the default certificate. */
  readonly certificate?: number;
  readonly policy?: number;
}

/**
 * An HTTPS listener of a Gateway: a connection to its local address and port
 * is served from the Gateway listeners of that address and port only (by
 * SNI, the most specific hostname first), never from `hosts` nor the default.
 */
export interface TlsTableGatewayListener {
  /** `namespace/name` of the Gateway, and the listener's name: for people. */
  readonly gateway: string;
  readonly listener: string;
  /** The local address (IPv4 or IPv6 text, or '*' for every local address of the port: a connection takes it when its own address has none) and port ATS serves the listener on. */
  readonly address: string;
  readonly port: number;
  /** Lowercase exact name, `*.suffix` (one or more labels), or '' for any SNI (and none). */
  readonly hostname: string;
  /** Index into certificates. */
  readonly certificate: number;
  readonly policy?: number;
}

export interface TlsTable {
  readonly certificates: readonly TlsTableCertificate[];
  readonly policies: readonly TlsTablePolicy[];
  /** Sorted by name, each once. */
  readonly hosts: readonly TlsTableHost[];
  /** Index into certificates; absent: the plugin's own default. */
  readonly defaultCertificate?: number;
  /** The Gateways' HTTPS listeners, any order (the writer sorts them); absent: none. */
  readonly gatewayListeners?: readonly TlsTableGatewayListener[];
}

export interface EncodedTls {
  readonly strings: string;
  readonly ints: Uint32Array;
}

function fail(field: string, message: string): never {
  throw new TableError(`${field}: ${message}`, 'ERR_INVALID_MODEL', field);
}

const LABEL = /^[a-z0-9_-]{1,63}$/;
const VERIFY: Record<VerifyMode, number> = { off: 0, optional: 1, on: 2, refuse: 3 };
const VERSION: Record<string, number> = { 'TLSv1.2': 12, 'TLSv1.3': 13 };

function isHostName(name: string): boolean {
  const bare = name.startsWith('*.') ? name.slice(2) : name;
  return bare.length > 0 && bare.length <= 253 && bare.split('.').every((l) => LABEL.test(l));
}

export function encodeTls(table: TlsTable): EncodedTls {
  const strings: string[] = [];
  const ints: number[] = [TLS_ENCODING_VERSION, 0];
  const str = (v: string, field: string) => {
    if (typeof v !== 'string') fail(field, `must be a string, got ${typeof v}`);
    if (v.includes('\0')) fail(field, 'must not contain NUL characters');
    ints.push(strings.length);
    strings.push(v);
  };
  const pem = (v: string, field: string) => {
    if (typeof v !== 'string' || !v.startsWith('-----BEGIN ')) fail(field, 'must be PEM (begin with "-----BEGIN ")');
    str(v, field);
  };
  const certs = table.certificates;
  const index = (v: number | undefined, n: number, field: string) => {
    if (v === undefined) ints.push(NONE);
    else if (!Number.isInteger(v) || v < 0 || v >= n) fail(field, `must be an index below ${n}, got ${v}`);
    else ints.push(v);
  };
  index(table.defaultCertificate, certs.length, 'defaultCertificate');
  ints.push(certs.length);
  certs.forEach((c, i) => {
    str(c.secret, `certificates[${i}].secret`);
    pem(c.chainPem, `certificates[${i}].chainPem`);
    pem(c.keyPem, `certificates[${i}].keyPem`);
    ints.push(Math.max(0, Math.min(0xfffffffe, Math.floor(c.notAfter / 1000))));
  });
  ints.push(table.policies.length);
  table.policies.forEach((p, i) => {
    const f = `policies[${i}]`;
    if (p.minVersion !== undefined && VERSION[p.minVersion] === undefined) fail(`${f}.minVersion`, 'must be TLSv1.2 or TLSv1.3');
    ints.push(p.minVersion ? VERSION[p.minVersion]! : 0);
    const verify = VERIFY[p.verifyClient];
    if (verify === undefined) fail(`${f}.verifyClient`, 'must be off, optional, on or refuse');
    ints.push(verify);
    if (p.verifyClient === 'optional' || p.verifyClient === 'on') {
      if (p.caPem === undefined) fail(`${f}.caPem`, `is required to verify clients (${p.verifyClient})`);
      pem(p.caPem, `${f}.caPem`);
    } else {
      ints.push(NONE);
    }
    if (!Number.isInteger(p.verifyDepth) || p.verifyDepth < 1 || p.verifyDepth > 10) fail(`${f}.verifyDepth`, 'must be 1 to 10');
    ints.push(p.verifyDepth);
  });
  ints.push(table.hosts.length);
  const seen = new Set<string>();
  table.hosts.forEach((h, i) => {
    const f = `hosts[${i}]`;
    if (!isHostName(h.name)) fail(`${f}.name`, `"${h.name}" is not a lowercase host name or *.wildcard`);
    if (seen.has(h.name)) fail(`${f}.name`, `host "${h.name}" appears twice`);
    seen.add(h.name);
    str(h.name, `${f}.name`);
    index(h.certificate, certs.length, `${f}.certificate`);
    index(h.policy, table.policies.length, `${f}.policy`);
  });
  const listeners = table.gatewayListeners ?? [];
  ints.push(listeners.length);
  const address = new Uint32Array(5);
  const taken = new Set<string>();
  listeners.forEach((l, i) => {
    const f = `gatewayListeners[${i}]`;
    if (typeof l.gateway !== 'string' || !/^[^/]+\/[^/]+$/.test(l.gateway)) fail(`${f}.gateway`, 'must be "namespace/name"');
    str(l.gateway, `${f}.gateway`);
    if (typeof l.listener !== 'string' || l.listener === '') fail(`${f}.listener`, 'must be a non-empty string');
    str(l.listener, `${f}.listener`);
    const v4 = typeof l.address === 'string' ? ipv4Word(l.address) : -1;
    address.fill(0);
    if (l.address === '*') {
      // Every local address of the port (family 0, no address words).
    } else if (v4 >= 0) {
      address[0] = 4;
      address[1] = v4;
    } else if (typeof l.address === 'string' && l.address.includes(':') && ipv6Words(l.address, address, 1)) {
      address[0] = 6;
    } else {
      fail(`${f}.address`, `${JSON.stringify(l.address)} is not an IPv4 or IPv6 address, nor '*' (every local address)`);
    }
    for (let k = 0; k < (address[0] === 0 ? 1 : address[0] === 4 ? 2 : 5); k++) ints.push(address[k]!);
    if (!Number.isInteger(l.port) || l.port < 1 || l.port > 65535) fail(`${f}.port`, `must be 1 to 65535, got ${l.port}`);
    ints.push(l.port);
    if (l.hostname === '') {
      ints.push(NONE);
    } else {
      if (typeof l.hostname !== 'string' || !isHostName(l.hostname)) fail(`${f}.hostname`, `"${l.hostname}" is not a lowercase host name, *.wildcard or ''`);
      str(l.hostname, `${f}.hostname`);
    }
    // SNI could not choose between two listeners of one name on one address and port.
    const key = `${address.join(',')}\0${l.port}\0${l.hostname}`;
    if (taken.has(key)) fail(`${f}.hostname`, `"${l.hostname}" appears twice on ${l.address} port ${l.port}`);
    taken.add(key);
    if (l.certificate === undefined) fail(`${f}.certificate`, 'is required');
    index(l.certificate, certs.length, `${f}.certificate`);
    index(l.policy, table.policies.length, `${f}.policy`);
  });
  ints[1] = strings.length;
  return { strings: strings.join('\0'), ints: Uint32Array.from(ints) };
}

export function sameTlsEncoding(a: EncodedTls | undefined, b: EncodedTls): boolean {
  if (!a || a.strings !== b.strings || a.ints.length !== b.ints.length) return false;
  for (let i = 0; i < a.ints.length; i++) if (a.ints[i] !== b.ints[i]) return false;
  return true;
}
