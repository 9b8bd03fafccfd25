// What build() gives the publishers. The model knows nothing of ATS: the
// route table goes to the addon as it is, the certificates to the TLS
// publisher, the problems to logs, Events and status.

import type { TableModel } from './table-model.js';
import type { GatewayRoutesModel } from './gateway/gateway-routes.js';

/** A certificate chain and key from a kubernetes.io/tls Secret, checked: they parse, match, and are in use. */
export interface TlsCertificate {
  /** `namespace/name` of the Secret. */
  readonly secret: string;
  /** The chain as the Secret holds it (leaf first), PEM. */
  readonly certPem: string;
  readonly keyPem: string;
  /** The leaf's notAfter, ms since the epoch. */
  readonly notAfter: number;
}

export type TlsVersion = 'TLSv1.2' | 'TLSv1.3';
export type ClientVerification = 'off' | 'optional' | 'on';

/** Per-host TLS policy from an Ingress's annotations. */
export interface TlsPolicy {
  /** `tls-min-version`; absent: ATS's own minimum. */
  readonly minVersion?: TlsVersion;
  /** `auth-tls-verify-client`. */
  readonly verifyClient: ClientVerification;
  /** `auth-tls-secret`'s `namespace/name` and its ca.crt (when verifyClient is not off). */
  readonly caSecret?: string;
  readonly caPem?: string;
  /** `auth-tls-verify-depth`. */
  readonly verifyDepth: number;
}

/** What one SNI name gets. */
export interface TlsHost {
  /** Lowercase exact name or `*.suffix`. */
  readonly name: string;
  /** The Secret whose certificate it is served; absent: the default certificate. */
  readonly secret?: string;
  /**
   * False when that Secret cannot give this host a certificate now (missing,
   * invalid, or not covering the host): the previous certificate it had from
   * that Secret keeps serving if there is one, else the default.
   */
  readonly current: boolean;
  /** Index into TlsModel.policies. */
  readonly policy?: number;
}

/**
 * An HTTPS listener of one of our Gateways: served by SNI on the Gateway's
 * own address and the local port of the listener's port, with the first
 * certificateRef's certificate. Only listeners whose every certificateRef
 * resolves are here (the others are not served: status says why).
 */
export interface TlsGatewayListener {
  /** `namespace/name` of the Gateway. */
  readonly gateway: string;
  readonly listener: string;
  readonly address: string;
  /** The local port ATS serves it on (--gateway-ports). */
  readonly port: number;
  /** Exact, `*.suffix` (one or more labels), or '' for any SNI. */
  readonly hostname: string;
  /** The Secret whose certificate it serves: one of TlsModel.certificates. */
  readonly secret: string;
}

export interface TlsModel {
  /** The certificates hosts use now, sorted by Secret. */
  readonly certificates: readonly TlsCertificate[];
  /** Sorted by name. */
  readonly hosts: readonly TlsHost[];
  /** Distinct policies, in the order hosts first use them. */
  readonly policies: readonly TlsPolicy[];
  /** `--default-certificate`: the Secret and whether its certificate is usable now (the previous one keeps serving otherwise). */
  readonly defaultCertificate?: { readonly secret: string; readonly current: boolean };
  /** The Gateways' served HTTPS listeners, sorted by address, port, then hostname; absent: none. */
  readonly gatewayListeners?: readonly TlsGatewayListener[];
}

/** The records ConfigMap's records, checked for shape only (ATS checks the rest). */
export interface RecordsModel {
  /** `namespace/name` of the ConfigMap. */
  readonly configMap: string;
  readonly present: boolean;
  /** Sorted by name. */
  readonly records: ReadonlyArray<{ readonly name: string; readonly value: string }>;
}

/**
 * Everything build() gives is read-only by contract: backends that differ
 * only in options share one endpoints array, and the next build makes a new
 * model rather than changing this one.
 */
export interface RouteModel {
  readonly table: TableModel;
  readonly tls: TlsModel;
  /** Absent without --records-configmap. */
  readonly records?: RecordsModel;
}

export type ProblemKind = 'Ingress' | 'IngressClass' | 'Service' | 'EndpointSlice' | 'Secret' | 'ConfigMap' | 'GatewayClass' | 'Gateway' | 'HTTPRoute' | 'ReferenceGrant' | 'Controller';

export type Severity = 'Warning' | 'Error';

/**
 * Something wrong with one object. Problems never stop a build: `Error`
 * means part of what the object asks for is not served (a rule skipped, a
 * backend that answers 503, a certificate not used); `Warning` means it is
 * served in a way the object may not expect (a default used for an invalid
 * annotation, a path that another Ingress already serves).
 */
export interface Problem {
  readonly kind: ProblemKind;
  /** '' for cluster-scoped objects and the controller's own configuration. */
  readonly namespace: string;
  readonly name: string;
  /** The field at fault, as a path into the object: `spec.rules[0].host`. */
  readonly field: string;
  readonly message: string;
  readonly severity: Severity;
}

/** The Gateway API as built: what the status of GatewayClasses, Gateways and HTTPRoutes is written from. */
export interface GatewayBuild {
  readonly routes: GatewayRoutesModel;
  /** The address of each of our Gateways (`namespace/name`); a Gateway without one (the range used up) is not served. */
  readonly addresses: ReadonlyMap<string, string>;
  /**
   * Per Gateway with an address, listener port → the local port ATS serves it
   * on: --gateway-ports, or in a cluster its block of --gateway-port-range,
   * which its Service (src/publish/gateway-services.ts) targets.
   */
  readonly ports: ReadonlyMap<string, ReadonlyMap<number, number>>;
  /** In a cluster (--gateway-port-range): every Gateway is on every local address ('*'), told apart by its ports, its addresses its Service's. */
  readonly byPort: boolean;
  /** `namespace/name/listener` of each listener whose port --gateway-ports does not serve (PortUnavailable). */
  readonly unavailablePorts: ReadonlySet<string>;
  /** `namespace/name` of each HTTPRoute with at least one entry in the table, sorted. */
  readonly servedRoutes: readonly string[];
}

export interface BuildResult {
  readonly model: RouteModel;
  readonly gateway: GatewayBuild;
  /** Sorted and without duplicates. */
  readonly problems: readonly Problem[];
  /** `namespace/name` of the claimed Ingresses that gave at least one rule or default backend, in claim order (oldest first, then by namespace/name). */
  readonly served: readonly string[];
}
