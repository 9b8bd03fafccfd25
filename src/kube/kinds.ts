// The kind registry: for every kind the controller reads, where the API
// serves it and how. The one table of apiVersions, paths and scopes that the
// sources (list, watch, manifests) and the publishers (Events) use.

import type { Kind } from './types.js';

export interface KindInfo {
  readonly kind: Kind;
  readonly apiVersion: string;
  /** Path prefix: `/api/v1` or `/apis/GROUP/VERSION`. */
  readonly prefix: string;
  readonly plural: string;
  readonly clusterScoped: boolean;
  /** Page size of a list: Secrets are large, so fewer per page. */
  readonly listLimit: number;
  /**
   * Served only when a CRD is installed (the Gateway API): a list that
   * answers 404 means "not installed", not an error.
   */
  readonly crd: boolean;
  /** Other apiVersions a manifest may give (the same schema, served by the same CRD). */
  readonly alsoAccepted: readonly string[];
}

function info(kind: Kind, apiVersion: string, plural: string, clusterScoped = false, listLimit = 500): KindInfo {
  const prefix = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  return { kind, apiVersion, prefix, plural, clusterScoped, listLimit, crd: false, alsoAccepted: [] };
}

/** A kind of the Gateway API's CRDs. */
function crd(kind: Kind, apiVersion: string, plural: string, clusterScoped = false, alsoAccepted: readonly string[] = []): KindInfo {
  return { ...info(kind, apiVersion, plural, clusterScoped), crd: true, alsoAccepted };
}

export const KIND_INFO: Readonly<Record<Kind, KindInfo>> = {
  Ingress: info('Ingress', 'networking.k8s.io/v1', 'ingresses'),
  IngressClass: info('IngressClass', 'networking.k8s.io/v1', 'ingressclasses', true),
  Service: info('Service', 'v1', 'services'),
  EndpointSlice: info('EndpointSlice', 'discovery.k8s.io/v1', 'endpointslices'),
  Secret: info('Secret', 'v1', 'secrets', false, 100),
  ConfigMap: info('ConfigMap', 'v1', 'configmaps'),
  Namespace: info('Namespace', 'v1', 'namespaces', true),
  GatewayClass: crd('GatewayClass', 'gateway.networking.k8s.io/v1', 'gatewayclasses', true),
  Gateway: crd('Gateway', 'gateway.networking.k8s.io/v1', 'gateways'),
  HTTPRoute: crd('HTTPRoute', 'gateway.networking.k8s.io/v1', 'httproutes'),
  // v1beta1: served by every Gateway API release since v0.6 (v1.5+ serve v1 too, and store v1beta1).
  ReferenceGrant: crd('ReferenceGrant', 'gateway.networking.k8s.io/v1beta1', 'referencegrants', false, ['gateway.networking.k8s.io/v1']),
};

/** The Gateway API kinds, watched only while their CRDs are installed. */
export const GATEWAY_KINDS: readonly Kind[] = ['GatewayClass', 'Gateway', 'HTTPRoute', 'ReferenceGrant'];

/** Every kind the cache can hold. */
export const KINDS: readonly Kind[] = Object.keys(KIND_INFO) as Kind[];

export function isKind(v: unknown): v is Kind {
  return typeof v === 'string' && Object.hasOwn(KIND_INFO, v);
}

export function isClusterScoped(kind: Kind): boolean {
  return KIND_INFO[kind].clusterScoped;
}

/** The API path of a kind's collection, in one namespace or across all. */
export function collectionPath(kind: Kind, namespace?: string): string {
  const k = KIND_INFO[kind];
  return namespace && !k.clusterScoped ? `${k.prefix}/namespaces/${encodeURIComponent(namespace)}/${k.plural}` : `${k.prefix}/${k.plural}`;
}
