// Where each of our Gateways is served. Every Gateway gets an address of its
// own from --gateway-addresses, so that the plugin can tell Gateways with
// identical listeners apart by the local address a connection arrived on
// (never by the Host header alone). The order is the Gateways' (oldest
// first, then namespace/name), so a controller run with --once on the same
// objects gives the same addresses as a running one. A listener is served
// only on a port --gateway-ports names (mapped to the local port ATS opens
// for it); any other gets Accepted=False/PortUnavailable. In a cluster
// (--gateway-port-range) the pod has one address: every Gateway is on every
// local address ('*') and gets a block of ports of its own instead.

import { isIP } from 'node:net';
import type { AddressRange, GatewayPorts, PortRange } from '../../config/gateway.js';
import { ipv4Number, ipv4Text } from '../../config/gateway.js';
import type { ObjectKey } from '../../kube/types.js';

/** A Gateway as addresses are assigned: its key and the addresses its status says it has (what we wrote). */
export interface AddressRequest {
  readonly key: ObjectKey;
  readonly statusAddresses?: readonly string[];
}

function indexInRange(address: string, range: AddressRange): number | undefined {
  if (isIP(address) !== 4) return undefined;
  const i = ipv4Number(address) - range.first;
  return i >= 0 && i < range.count ? i : undefined;
}

/**
 * The address of each Gateway. A Gateway keeps the address its status
 * already names when that is in the range and no older Gateway keeps it,
 * so that deleting a Gateway moves no other (a client that resolved a
 * Gateway's address keeps reaching it); the others, in order, take the
 * lowest addresses left. The status is the objects' own, so --once on the
 * same objects gives the same addresses as a running controller. A Gateway
 * for which none is left gets none.
 */
export function assignAddresses(gateways: readonly AddressRequest[], range: AddressRange): Map<ObjectKey, string> {
  const out = new Map<ObjectKey, string>();
  const taken = new Set<number>();
  for (const g of gateways) {
    for (const a of g.statusAddresses ?? []) {
      const i = indexInRange(a, range);
      if (i === undefined || taken.has(i)) continue;
      taken.add(i);
      out.set(g.key, ipv4Text(range.first + i));
      break;
    }
  }
  let next = 0;
  for (const g of gateways) {
    if (out.has(g.key)) continue;
    while (next < range.count && taken.has(next)) next++;
    if (next >= range.count) break;
    taken.add(next);
    out.set(g.key, ipv4Text(range.first + next));
  }
  // In the Gateways' order, as callers list them.
  return new Map(gateways.flatMap((g) => (out.has(g.key) ? [[g.key, out.get(g.key)!] as const] : [])));
}

/** The local port a listener port is served on, or undefined when it is not served. */
export function servedPort(ports: GatewayPorts, listenerPort: number): number | undefined {
  return ports.get(listenerPort);
}

/** Listener address of the Gateways of a port block: every local address. */
export const ANY_ADDRESS = '*';

/** What a port block is assigned from: a Gateway's listeners' ports and protocols. */
export interface BlockRequest {
  readonly key: ObjectKey;
  readonly listeners: ReadonlyArray<{ readonly port: number; readonly protocol: string }>;
}

/** On every Service the leader keeps for a Gateway (src/publish/gateway-services.ts); the watch and the clean-up select on it. */
export const GATEWAY_SERVICE_LABEL = 'ats.ingress.kubernetes.io/gateway-service';
/** The Gateway's `namespace/name` on its Service (a label value cannot hold a '/' or 253 characters). */
export const GATEWAY_ANNOTATION = 'ats.ingress.kubernetes.io/gateway';

/** The pairs a Gateway's listeners need, and which of its listener ports goes on which pair. */
function blockLayout(g: BlockRequest): { http: number[]; https: number[]; pairs: number } {
  const protocols = new Map<number, Set<string>>();
  for (const l of g.listeners) protocols.set(l.port, (protocols.get(l.port) ?? new Set()).add(l.protocol));
  const only = (protocol: string) => [...protocols].filter(([, set]) => set.size === 1 && set.has(protocol)).map(([port]) => port).sort((a, b) => a - b);
  const http = only('HTTP');
  const https = only('HTTPS');
  return { http, https, pairs: Math.max(http.length, https.length) };
}

/**
 * The local ports of each Gateway, in a cluster: one pair of the range per
 * distinct HTTP port and per distinct HTTPS port, the k-th smallest HTTP
 * listener port on the plain port of its k-th pair, the k-th smallest HTTPS
 * one on the TLS port (typically 80 and 443: one pair), the pairs of a
 * Gateway next to each other. A port that listeners of both protocols name
 * is left out (ProtocolConflict: none of them is served), as are other
 * protocols.
 *
 * A Gateway keeps the first pair its Service already starts at
 * (`previous`: what the leader wrote) when its block still fits there and
 * no older Gateway keeps those pairs, so that deleting a Gateway moves no
 * other one's ports; the others, in order (oldest first, then
 * namespace/name), take the first run of free pairs that holds their block.
 * A Gateway for which none is left gets no block (it is not served) and the
 * next ones still may; one with nothing to serve gets an empty block.
 */
export function assignPortBlocks(gateways: readonly BlockRequest[], range: PortRange, previous: ReadonlyMap<ObjectKey, number> = new Map()): Map<ObjectKey, GatewayPorts> {
  const taken = new Array<boolean>(range.pairs).fill(false);
  const free = (start: number, pairs: number) => {
    if (start < 0 || start + pairs > range.pairs) return false;
    for (let i = start; i < start + pairs; i++) if (taken[i]) return false;
    return true;
  };
  const starts = new Map<ObjectKey, number>();
  const layouts = new Map(gateways.map((g) => [g.key, blockLayout(g)] as const));
  const take = (key: ObjectKey, start: number, pairs: number) => {
    for (let i = start; i < start + pairs; i++) taken[i] = true;
    starts.set(key, start);
  };
  for (const g of gateways) {
    const start = previous.get(g.key);
    const { pairs } = layouts.get(g.key)!;
    if (start !== undefined && pairs > 0 && free(start, pairs)) take(g.key, start, pairs);
  }
  for (const g of gateways) {
    if (starts.has(g.key)) continue;
    const { pairs } = layouts.get(g.key)!;
    let start = 0;
    while (start + pairs <= range.pairs && !free(start, pairs)) start++;
    if (start + pairs <= range.pairs) take(g.key, start, pairs);
  }
  const out = new Map<ObjectKey, GatewayPorts>();
  for (const g of gateways) {
    const start = starts.get(g.key);
    if (start === undefined) continue;
    const { http, https } = layouts.get(g.key)!;
    const ports = new Map<number, number>();
    http.forEach((p, k) => ports.set(p, range.first + 2 * (start + k)));
    https.forEach((p, k) => ports.set(p, range.first + 2 * (start + k) + 1));
    out.set(g.key, ports);
  }
  return out;
}

/**
 * The first pair of each Gateway's block as its Service says (the lowest
 * target port in the range), from the Services the leader keeps in
 * `namespace` (label and annotation as it writes them).
 */
export function previousBlocks(services: Iterable<{ readonly metadata: { readonly namespace?: string; readonly labels?: Readonly<Record<string, string>>; readonly annotations?: Readonly<Record<string, string>> }; readonly spec?: { readonly ports?: ReadonlyArray<{ readonly targetPort?: number | string }> } }>, namespace: string, range: PortRange): Map<ObjectKey, number> {
  const out = new Map<ObjectKey, number>();
  for (const svc of services) {
    const m = svc.metadata;
    const key = m.annotations?.[GATEWAY_ANNOTATION];
    if (m.namespace !== namespace || m.labels?.[GATEWAY_SERVICE_LABEL] !== 'true' || key === undefined) continue;
    const targets = (svc.spec?.ports ?? []).map((p) => p.targetPort).filter((t): t is number => typeof t === 'number' && t >= range.first && t < range.first + 2 * range.pairs);
    if (targets.length > 0) out.set(key, Math.floor((Math.min(...targets) - range.first) / 2));
  }
  return out;
}

/** The table's order of listener addresses (IPv4 here): ANY_ADDRESS first, then by number. */
export function compareAddresses(a: string, b: string): number {
  if (a === b) return 0;
  if (a === ANY_ADDRESS || b === ANY_ADDRESS) return a === ANY_ADDRESS ? -1 : 1;
  return ipv4Number(a) - ipv4Number(b);
}
