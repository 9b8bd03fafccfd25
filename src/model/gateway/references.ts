// Cross-namespace references and ReferenceGrants, and what a backendRef of
// an HTTPRoute resolves to. "All cross-namespace references in Gateway API
// (with the exception of cross-namespace Gateway-route attachment) require a
// ReferenceGrant." "Implementations that support ReferenceGrant MUST NOT
// permit cross-namespace references which have no grant, and MUST respond to
// the removal of a grant by revoking the access that the grant allowed."

import type { HTTPBackendRef, ObjectKey, ReferenceGrant, Service } from '../../kube/types.js';
import { namespaceOf } from '../../kube/types.js';

export interface ReferenceFrom {
  readonly group: string;
  readonly kind: string;
  readonly namespace: string;
}

export interface ReferenceTo {
  readonly group: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

/**
 * Whether a reference is allowed: always within one namespace; across
 * namespaces when a ReferenceGrant in the target's namespace names the
 * source (group, kind, namespace) in `from` and the target (group, kind, and
 * its name or no name) in `to`.
 */
export function referenceGranted(grants: Iterable<ReferenceGrant>, from: ReferenceFrom, to: ReferenceTo): boolean {
  if (from.namespace === to.namespace) return true;
  for (const g of grants) {
    if (namespaceOf(g) !== to.namespace) continue;
    if (!(g.spec?.from ?? []).some((f) => f.group === from.group && f.kind === from.kind && f.namespace === from.namespace)) continue;
    if ((g.spec?.to ?? []).some((t) => t.group === to.group && t.kind === to.kind && (t.name === undefined || t.name === '' || t.name === to.name))) return true;
  }
  return false;
}

/** What a backendRef resolves to, or why it is invalid (the reasons of ResolvedRefs=False). */
export type BackendResolution =
  | { readonly valid: true; readonly service: ObjectKey; readonly port: number }
  | { readonly valid: false; readonly reason: 'InvalidKind' | 'BackendNotFound' | 'RefNotPermitted'; readonly message: string };

/**
 * A backendRef of an HTTPRoute in `routeNamespace`: "A BackendRef is invalid
 * if: It refers to an unknown or unsupported kind of resource (InvalidKind)
 * ... It refers to a resource that does not exist (BackendNotFound) ... It
 * refers a resource in another namespace when the reference has not been
 * explicitly allowed by a ReferenceGrant (RefNotPermitted)". The grant is
 * checked before the Service is looked up, so that a Route cannot learn what
 * exists in a namespace that did not grant it.
 */
export function resolveBackendRef(
  ref: HTTPBackendRef,
  routeNamespace: string,
  services: ReadonlyMap<ObjectKey, Service>,
  grants: Iterable<ReferenceGrant>,
): BackendResolution {
  const group = ref.group ?? '';
  const kind = ref.kind ?? 'Service';
  if (group !== '' || kind !== 'Service') {
    return { valid: false, reason: 'InvalidKind', message: `backendRef ${group ? `${group}/` : ''}${kind} ${ref.name}: only Services (core group) are supported` };
  }
  const namespace = ref.namespace ?? routeNamespace;
  const key = `${namespace}/${ref.name}`;
  if (!referenceGranted(grants, { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: routeNamespace }, { group: '', kind: 'Service', namespace, name: ref.name })) {
    return { valid: false, reason: 'RefNotPermitted', message: `backendRef Service ${key}: no ReferenceGrant in namespace ${namespace} allows HTTPRoutes of namespace ${routeNamespace} to refer to it` };
  }
  const service = services.get(key);
  if (!service) return { valid: false, reason: 'BackendNotFound', message: `backendRef Service ${key} does not exist` };
  if (ref.port === undefined) return { valid: false, reason: 'BackendNotFound', message: `backendRef Service ${key}: no port given` };
  if (service.spec?.type !== 'ExternalName' && !(service.spec?.ports ?? []).some((p) => p.port === ref.port)) {
    return { valid: false, reason: 'BackendNotFound', message: `backendRef Service ${key} has no port ${ref.port}` };
  }
  return { valid: true, service: key, port: ref.port };
}
