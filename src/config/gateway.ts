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

function ipv4Number(text: string): number {
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
