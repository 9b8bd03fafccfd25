// What build() gives the publishers. The model knows nothing of ATS: the
// route table goes to the addon as it is, the certificates to the TLS
// publisher, the problems to logs, Events and status.

import type { TableModel } from './table-model.js';

export interface TlsCertificate {
  /** `namespace/name` of the Secret. */
  readonly secret: string;
  /** Lowercase exact or `*.` wildcard names served with this certificate (SNI), sorted. */
  readonly hosts: readonly string[];
  readonly certPem: string;
  readonly keyPem: string;
}

/**
 * Everything build() gives is read-only by contract: backends that differ
 * only in options share one endpoints array, and the next build makes a new
 * model rather than changing this one.
 */
export interface RouteModel {
  readonly table: TableModel;
  /** Sorted by secret. */
  readonly tls: readonly TlsCertificate[];
}

export type ProblemKind = 'Ingress' | 'IngressClass' | 'Service' | 'EndpointSlice' | 'Secret' | 'Controller';

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

export interface BuildResult {
  readonly model: RouteModel;
  /** Sorted and without duplicates. */
  readonly problems: readonly Problem[];
  /** `namespace/name` of the claimed Ingresses that gave at least one rule or default backend, sorted. */
  readonly served: readonly string[];
}
