// Where each of our Gateways is served. Every Gateway gets an address of its
// own from --gateway-addresses, so that the plugin can tell Gateways with
// identical listeners apart by the local address a connection arrived on
// (never by the Host header alone). The order is the Gateways' (oldest
// first, then namespace/name), so a controller run with --once on the same
// objects gives the same addresses as a running one. A listener is served
// only on a port --gateway-ports names (mapped to the local port ATS opens
// for it); any other gets Accepted=False/PortUnavailable.

import type { AddressRange, GatewayPorts } from '../../config/gateway.js';
import { ipv4Text } from '../../config/gateway.js';
import type { ObjectKey } from '../../kube/types.js';

/** The address of each Gateway, in order; a Gateway past the range's end gets none. */
export function assignAddresses(gateways: readonly ObjectKey[], range: AddressRange): Map<ObjectKey, string> {
  const out = new Map<ObjectKey, string>();
  gateways.forEach((key, i) => {
    if (i < range.count) out.set(key, ipv4Text(range.first + i));
  });
  return out;
}

/** The local port a listener port is served on, or undefined when it is not served. */
export function servedPort(ports: GatewayPorts, listenerPort: number): number | undefined {
  return ports.get(listenerPort);
}
