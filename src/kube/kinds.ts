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
}

function info(kind: Kind, apiVersion: string, plural: string, clusterScoped = false, listLimit = 500): KindInfo {
  const prefix = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  return { kind, apiVersion, prefix, plural, clusterScoped, listLimit };
}

export const KIND_INFO: Readonly<Record<Kind, KindInfo>> = {
  Ingress: info('Ingress', 'networking.k8s.io/v1', 'ingresses'),
  IngressClass: info('IngressClass', 'networking.k8s.io/v1', 'ingressclasses', true),
  Service: info('Service', 'v1', 'services'),
  EndpointSlice: info('EndpointSlice', 'discovery.k8s.io/v1', 'endpointslices'),
  Secret: info('Secret', 'v1', 'secrets', false, 100),
  ConfigMap: info('ConfigMap', 'v1', 'configmaps'),
};

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
