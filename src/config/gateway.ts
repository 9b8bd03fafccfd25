// Where Gateways are served: the addresses they are given (one each, so that
// two Gateways with identical listeners stay apart: the plugin tells them by
// the local address a connection arrived on) and the ports their listeners
// are served on (the listener's own, or another when ATS cannot bind it,
// e.g. ports below 1024 when not run as root).

import { isIP } from 'node:net';
import { invalid, type Invalid } from '../validate/invalid.js';

export const DEFAULT_GATEWAY_ADDRESSES = '127.0.1.0/24';
export const DEFAULT_GATEWAY_PORTS = '80,443';

/** An IPv4 range Gateways take their addresses from, in order. */
export interface AddressRange {
  /** As given: `127.0.1.0/24`. */
  readonly text: string;
  /** The first address given out, as a 32-bit number. */
  readonly first: number;
  /** How many addresses there are to give out. */
  readonly count: number;
}

/** listener port → the local port ATS serves it on. */
export type GatewayPorts = ReadonlyMap<number, number>;

/** A dotted quad (already checked as one, e.g. by isIP) as a 32-bit number. */
export function ipv4Number(text: string): number {
  return text.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

export function ipv4Text(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

/**
 * Parses `a.b.c.d/len` or one address. A range of /30 or wider gives its
 * host addresses (not the first and the last, as on any subnet); /31 and
 * /32 give every address.
 */
export function parseAddressRange(text: string): AddressRange | Invalid {
  const [address = '', lengthText, extra] = text.split('/');
  const length = lengthText === undefined ? 32 : /^[0-9]{1,2}$/.test(lengthText) ? Number(lengthText) : -1;
  if (extra !== undefined || isIP(address) !== 4 || length < 8 || length > 32) {
    return invalid(`"${text}" is not an IPv4 address or range from /8 to /32 (a.b.c.d/len)`);
  }
  const size = 2 ** (32 - length);
  const base = ipv4Number(address) - (ipv4Number(address) % size);
  if (base !== ipv4Number(address)) return invalid(`"${text}": the address has bits set past /${length}; the range begins at ${ipv4Text(base)}/${length}`);
  return length <= 30 ? { text, first: base + 1, count: size - 2 } : { text, first: base, count: size };
}

/** Parses `80,443` or `80=18080,443=18443`: the listener ports served, each on its own port or on the one after '='. */
export function parseGatewayPorts(text: string): GatewayPorts | Invalid {
  const ports = new Map<number, number>();
  const port = (p: string) => (/^[0-9]{1,5}$/.test(p) && Number(p) >= 1 && Number(p) <= 65535 ? Number(p) : undefined);
  for (const item of text.split(',')) {
    const [from = '', to, extra] = item.trim().split('=');
    const listener = port(from);
    const served = to === undefined ? listener : port(to);
    if (listener === undefined || served === undefined || extra !== undefined) {
      return invalid(`"${item}" is not PORT or PORT=SERVED_PORT (1..65535)`);
    }
    if (ports.has(listener)) return invalid(`port ${listener} is given twice`);
    ports.set(listener, served);
  }
  const served = [...ports.values()];
  if (new Set(served).size !== served.length) return invalid(`"${text}": two listener ports are served on the same port`);
  return ports;
}

// ---------------------------------------------------------------- in a cluster
// A pod has one address, so Gateways are told apart by port: each gets a
// block of local ports out of a range ATS opens at start (server_ports needs
// a restart in 9.2), and a Service per Gateway maps its listener ports to
// them. The range alternates: FIRST+2k is plain HTTP, FIRST+2k+1 is TLS
// (ATS marks a port ssl or not at start), so a Gateway's block is pairs.

export type GatewayServiceType = 'ClusterIP' | 'NodePort' | 'LoadBalancer';
export const GATEWAY_SERVICE_TYPES: readonly GatewayServiceType[] = ['ClusterIP', 'NodePort', 'LoadBalancer'];
export const DEFAULT_GATEWAY_PORT_RANGE = '20000-20063';
/** A bound on the ports ATS opens for Gateways (each is a listening socket). */
export const MAX_GATEWAY_PORTS = 1024;

/** The local ports Gateways take their blocks from. */
export interface PortRange {
  /** As given: `20000-20063`. */
  readonly text: string;
  readonly first: number;
  /** How many (plain, TLS) pairs: the range holds 2 × pairs ports. */
  readonly pairs: number;
}

/** Parses `FIRST-LAST`: an even number of ports above 1023, at most MAX_GATEWAY_PORTS. */
export function parsePortRange(text: string): PortRange | Invalid {
  const m = /^([0-9]{1,5})-([0-9]{1,5})$/.exec(text.trim());
  const first = m ? Number(m[1]) : NaN;
  const last = m ? Number(m[2]) : NaN;
  if (!m || first < 1024 || last > 65535 || last <= first) return invalid(`"${text}" is not FIRST-LAST with 1024 <= FIRST < LAST <= 65535`);
  const count = last - first + 1;
  if (count % 2 !== 0) return invalid(`"${text}" holds ${count} ports: an even number is needed (FIRST+2k plain HTTP, FIRST+2k+1 TLS)`);
  if (count > MAX_GATEWAY_PORTS) return invalid(`"${text}" holds ${count} ports; at most ${MAX_GATEWAY_PORTS}`);
  return { text, first, pairs: count / 2 };
}

/** Every port of the range with whether ATS serves TLS on it, in order. */
export function rangePorts(range: PortRange): Array<{ readonly port: number; readonly tls: boolean }> {
  return Array.from({ length: range.pairs * 2 }, (_, i) => ({ port: range.first + i, tls: i % 2 === 1 }));
}

export function parseServiceType(text: string): GatewayServiceType | Invalid {
  const t = GATEWAY_SERVICE_TYPES.find((s) => s.toLowerCase() === text.toLowerCase());
  return t ?? invalid(`"${text}" is not one of ${GATEWAY_SERVICE_TYPES.join(', ')}`);
}
