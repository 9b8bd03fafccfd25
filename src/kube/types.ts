// The Kubernetes objects the controller reads, as the API returns them in
// JSON. Only the fields we read are declared; everything is readonly because
// an object, once in the cache, is shared by every build and never changed.
//
// `kind` is required: a watch event's object carries it, and a source that
// lists objects (list items come without it) must set it before handing the
// object to the cache.

import type { GatewayApiObject } from './gateway-types.js';
import { isClusterScoped } from './kinds.js';

export type * from './gateway-types.js';

export interface ObjectMeta {
  readonly name: string;
  /** Absent for cluster-scoped objects; `default` is assumed for namespaced ones. */
  readonly namespace?: string;
  readonly uid?: string;
  /** RFC 3339, e.g. `2024-05-01T12:00:00Z`. */
  readonly creationTimestamp?: string;
  readonly resourceVersion?: string;
  readonly generation?: number;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly labels?: Readonly<Record<string, string>>;
}

// ---------------------------------------------------------------- networking.k8s.io/v1

export type IngressPathType = 'Exact' | 'Prefix' | 'ImplementationSpecific';

export interface ServiceBackendPort {
  readonly name?: string;
  readonly number?: number;
}

export interface IngressServiceBackend {
  readonly name: string;
  readonly port?: ServiceBackendPort;
}

export interface TypedLocalObjectReference {
  readonly apiGroup?: string | null;
  readonly kind: string;
  readonly name: string;
}

export interface IngressBackend {
  readonly service?: IngressServiceBackend;
  readonly resource?: TypedLocalObjectReference;
}

export interface HTTPIngressPath {
  readonly path?: string;
  /** Required by the API; a string because a manifest may hold anything. */
  readonly pathType?: IngressPathType | string;
  readonly backend?: IngressBackend;
}

export interface HTTPIngressRuleValue {
  readonly paths?: readonly HTTPIngressPath[];
}

export interface IngressRule {
  readonly host?: string;
  readonly http?: HTTPIngressRuleValue;
}

export interface IngressTLS {
  readonly hosts?: readonly string[];
  readonly secretName?: string;
}

export interface IngressSpec {
  readonly ingressClassName?: string;
  readonly defaultBackend?: IngressBackend;
  readonly tls?: readonly IngressTLS[];
  readonly rules?: readonly IngressRule[];
}

export interface IngressLoadBalancerIngress {
  readonly ip?: string;
  readonly hostname?: string;
}

export interface IngressStatus {
  readonly loadBalancer?: { readonly ingress?: readonly IngressLoadBalancerIngress[] };
}

export interface Ingress {
  readonly apiVersion?: 'networking.k8s.io/v1';
  readonly kind: 'Ingress';
  readonly metadata: ObjectMeta;
  readonly spec?: IngressSpec;
  readonly status?: IngressStatus;
}

export interface IngressClassParametersReference {
  readonly apiGroup?: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
  readonly scope?: 'Cluster' | 'Namespace';
}

export interface IngressClass {
  readonly apiVersion?: 'networking.k8s.io/v1';
  readonly kind: 'IngressClass';
  readonly metadata: ObjectMeta;
  readonly spec?: {
    readonly controller?: string;
    readonly parameters?: IngressClassParametersReference;
  };
}

// ---------------------------------------------------------------- v1

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export interface ServicePort {
  /** Required when a Service has more than one port. */
  readonly name?: string;
  readonly protocol?: Protocol;
  readonly appProtocol?: string;
  readonly port: number;
  readonly targetPort?: number | string;
  readonly nodePort?: number;
}

export type ServiceType = 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';

export interface ServiceSpec {
  readonly type?: ServiceType;
  readonly ports?: readonly ServicePort[];
  readonly selector?: Readonly<Record<string, string>>;
  readonly clusterIP?: string;
  readonly clusterIPs?: readonly string[];
  readonly externalName?: string;
}

export interface Service {
  readonly apiVersion?: 'v1';
  readonly kind: 'Service';
  readonly metadata: ObjectMeta;
  readonly spec?: ServiceSpec;
}

export interface Secret {
  readonly apiVersion?: 'v1';
  readonly kind: 'Secret';
  readonly metadata: ObjectMeta;
  /** `kubernetes.io/tls` for certificates. */
  readonly type?: string;
  /** Values are base64. */
  readonly data?: Readonly<Record<string, string>>;
}

export interface ConfigMap {
  readonly apiVersion?: 'v1';
  readonly kind: 'ConfigMap';
  readonly metadata: ObjectMeta;
  readonly data?: Readonly<Record<string, string>>;
  readonly binaryData?: Readonly<Record<string, string>>;
}

/**
 * A Namespace: only its labels are read (allowedRoutes From Selector), and
 * the sources keep nothing else of it (name, labels, uid, resourceVersion,
 * creationTimestamp).
 */
export interface Namespace {
  readonly apiVersion?: 'v1';
  readonly kind: 'Namespace';
  readonly metadata: ObjectMeta;
}

/** The label the API server sets on every Namespace (since 1.21): its name. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

// ---------------------------------------------------------------- discovery.k8s.io/v1

export type AddressType = 'IPv4' | 'IPv6' | 'FQDN';

export interface EndpointConditions {
  /** null or absent: ready. */
  readonly ready?: boolean | null;
  readonly serving?: boolean | null;
  readonly terminating?: boolean | null;
}

export interface ObjectReference {
  readonly kind?: string;
  readonly namespace?: string;
  readonly name?: string;
  readonly uid?: string;
}

export interface Endpoint {
  readonly addresses: readonly string[];
  readonly conditions?: EndpointConditions;
  readonly hostname?: string;
  readonly nodeName?: string;
  readonly zone?: string;
  readonly targetRef?: ObjectReference;
}

export interface EndpointPort {
  /** The Service port's name; '' (or absent) for an unnamed port. */
  readonly name?: string | null;
  readonly protocol?: Protocol | null;
  /** null or absent: every port, which we cannot route to. */
  readonly port?: number | null;
  readonly appProtocol?: string | null;
}

export interface EndpointSlice {
  readonly apiVersion?: 'discovery.k8s.io/v1';
  readonly kind: 'EndpointSlice';
  readonly metadata: ObjectMeta;
  readonly addressType: AddressType;
  /** The API sends null for a slice with no endpoints. */
  readonly endpoints?: readonly Endpoint[] | null;
  readonly ports?: readonly EndpointPort[] | null;
}

// ---------------------------------------------------------------- all together

export type KubeObject = Ingress | IngressClass | Service | EndpointSlice | Secret | ConfigMap | Namespace | GatewayApiObject;
export type Kind = KubeObject['kind'];

/** The object type of a kind: `ObjectOfKind<'Service'>` is `Service`. */
export type ObjectOfKind<K extends Kind> = Extract<KubeObject, { kind: K }>;

/** Well-known names. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const LEGACY_INGRESS_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';
export const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';
export const TLS_SECRET_TYPE = 'kubernetes.io/tls';

/** A Kubernetes object's cache key: `namespace/name`, or `name` when cluster-scoped. */
export type ObjectKey = string;

/** The namespace of a namespaced object (`default` when the manifest left it out). */
export function namespaceOf(obj: { readonly metadata: ObjectMeta }): string {
  return obj.metadata.namespace || 'default';
}

export function objectKey(obj: KubeObject): ObjectKey {
  return isClusterScoped(obj.kind) ? obj.metadata.name : `${namespaceOf(obj)}/${obj.metadata.name}`;
}
