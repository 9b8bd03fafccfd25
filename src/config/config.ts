// The controller's configuration as the cache and the builder need it,
// already parsed into typed values by the CLI (one parse per flag) and passed
// down; nothing here reads the environment.

import { invalid, type Invalid } from '../validate/invalid.js';
import { dnsLabelError, dnsSubdomainError } from '../validate/names.js';
import { DEFAULT_GATEWAY_ADDRESSES, DEFAULT_GATEWAY_PORTS, parseAddressRange, parseGatewayPorts, type AddressRange, type GatewayPorts, type PortRange } from './gateway.js';

export const DEFAULT_CONTROLLER_NAME = 'ats.ingress.kubernetes.io/controller';
export const DEFAULT_INGRESS_CLASS_NAME = 'ats';
export const DEFAULT_GATEWAY_CONTROLLER_NAME = 'ats.ingress.kubernetes.io/gateway-controller';

/** A Service port as the controller's flags name it: `namespace/name:port`. */
export interface ServicePortRef {
  readonly namespace: string;
  readonly name: string;
  /** The Service port: its number, or its name. */
  readonly port: number | string;
}

export interface BuildConfig {
  /** The `spec.controller` of the IngressClasses that are ours. */
  readonly controllerName: string;
  /** The `spec.controllerName` of the GatewayClasses that are ours (`--gateway-controller-name`). */
  readonly gatewayControllerName: string;
  /** Our class name, also accepted in the legacy `kubernetes.io/ingress.class` annotation. */
  readonly ingressClassName: string;
  /** Only Ingresses of these namespaces are claimed; empty: every namespace. */
  readonly watchNamespaces: readonly string[];
  /** `--default-backend`. */
  readonly defaultBackend?: ServicePortRef;
  /** `--default-certificate`: the kubernetes.io/tls Secret served to clients whose SNI matches no certificate. */
  readonly defaultCertificate?: ObjectRef;
  /** `--records-configmap`: the ConfigMap whose keys are ATS records. */
  readonly recordsConfigMap?: ObjectRef;
  /** `--gateway-addresses`: each of our Gateways gets the next address of this range, oldest first. */
  readonly gatewayAddresses: AddressRange;
  /** `--gateway-ports`: the listener ports served, and the local port each is served on. */
  readonly gatewayPorts: GatewayPorts;
  /**
   * `--gateway-port-range`, with `--gateway-service-type`: in a cluster, each
   * Gateway is served on every local address, on a block of ports of its own
   * from this range (--gateway-addresses and --gateway-ports are not used).
   */
  readonly gatewayPortRange?: PortRange;
  /** With gatewayPortRange: the namespace of the Services the leader keeps per Gateway, whose ports say each Gateway's block so far. */
  readonly gatewayServiceNamespace?: string;
}

function parsed<T>(value: T | { readonly invalid: string }): T {
  if (typeof value === 'object' && value !== null && 'invalid' in value) throw new Error(`internal: a default is invalid: ${value.invalid}`);
  return value;
}
const DEFAULT_ADDRESS_RANGE = parsed(parseAddressRange(DEFAULT_GATEWAY_ADDRESSES));
const DEFAULT_PORT_MAP = parsed(parseGatewayPorts(DEFAULT_GATEWAY_PORTS));

/** A namespaced object as a flag names it: `namespace/name`. */
export interface ObjectRef {
  readonly namespace: string;
  readonly name: string;
}

/** Parses `namespace/name` (a Secret, say). */
export function parseObjectRef(text: string): ObjectRef | Invalid {
  const slash = text.indexOf('/');
  const namespace = text.slice(0, slash);
  const name = text.slice(slash + 1);
  if (slash <= 0 || dnsLabelError(namespace) || dnsSubdomainError(name)) return invalid(`"${text}" is not namespace/name`);
  return { namespace, name };
}

export function buildConfig(overrides: Partial<BuildConfig> = {}): BuildConfig {
  return {
    controllerName: DEFAULT_CONTROLLER_NAME,
    gatewayControllerName: DEFAULT_GATEWAY_CONTROLLER_NAME,
    ingressClassName: DEFAULT_INGRESS_CLASS_NAME,
    watchNamespaces: [],
    gatewayAddresses: DEFAULT_ADDRESS_RANGE,
    gatewayPorts: DEFAULT_PORT_MAP,
    ...overrides,
  };
}

/** Parses `namespace/name:port` (port a number or a port name). */
export function parseServicePortRef(text: string): ServicePortRef | Invalid {
  const usage = invalid(`"${text}" is not namespace/name:port (port a number or a port name)`);
  const slash = text.indexOf('/');
  const colon = text.lastIndexOf(':');
  if (slash <= 0 || colon <= slash + 1 || colon === text.length - 1) return usage;
  const namespace = text.slice(0, slash);
  const name = text.slice(slash + 1, colon);
  const port = text.slice(colon + 1);
  if (dnsLabelError(namespace) || dnsLabelError(name)) return usage;
  if (/^[0-9]+$/.test(port)) {
    const number = Number(port);
    if (number < 1 || number > 65535) return invalid(`"${text}": port ${port} is not in 1..65535`);
    return { namespace, name, port: number };
  }
  if (dnsLabelError(port)) return usage;
  return { namespace, name, port };
}
