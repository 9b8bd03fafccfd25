// A read-only view of every object the controller knows, one map per kind,
// keyed like the cache (`namespace/name`, or `name` when cluster-scoped).
// This is all that build() sees.

import type {
  ConfigMap,
  EndpointSlice,
  Gateway,
  GatewayClass,
  HTTPRoute,
  Ingress,
  IngressClass,
  Kind,
  KubeObject,
  Namespace,
  ObjectKey,
  ObjectOfKind,
  ReferenceGrant,
  Secret,
  Service,
} from '../kube/types.js';
import { objectKey } from '../kube/types.js';

/** The keys whose objects differ between `base`, a map an earlier snapshot handed out, and the map that holds the change. */
export interface MapChanges {
  readonly base: ReadonlyMap<ObjectKey, KubeObject>;
  readonly keys: ReadonlySet<ObjectKey>;
}

export interface Snapshot {
  readonly ingresses: ReadonlyMap<ObjectKey, Ingress>;
  readonly ingressClasses: ReadonlyMap<ObjectKey, IngressClass>;
  readonly services: ReadonlyMap<ObjectKey, Service>;
  readonly endpointSlices: ReadonlyMap<ObjectKey, EndpointSlice>;
  readonly secrets: ReadonlyMap<ObjectKey, Secret>;
  readonly configMaps: ReadonlyMap<ObjectKey, ConfigMap>;
  /** Keyed by name; only their labels are read. */
  readonly namespaces: ReadonlyMap<ObjectKey, Namespace>;
  readonly gatewayClasses: ReadonlyMap<ObjectKey, GatewayClass>;
  readonly gateways: ReadonlyMap<ObjectKey, Gateway>;
  readonly httpRoutes: ReadonlyMap<ObjectKey, HTTPRoute>;
  readonly referenceGrants: ReadonlyMap<ObjectKey, ReferenceGrant>;
  /**
   * What changed in `endpointSlices` since the map of an earlier snapshot
   * (`base`), when the cache knows: the slices change most often, and a
   * build indexes them by Service (services.ts) from the last index.
   */
  readonly endpointSliceChanges?: MapChanges;
}

/** The Snapshot field that holds a kind. */
export const FIELD_OF_KIND = {
  Ingress: 'ingresses',
  IngressClass: 'ingressClasses',
  Service: 'services',
  EndpointSlice: 'endpointSlices',
  Secret: 'secrets',
  ConfigMap: 'configMaps',
  Namespace: 'namespaces',
  GatewayClass: 'gatewayClasses',
  Gateway: 'gateways',
  HTTPRoute: 'httpRoutes',
  ReferenceGrant: 'referenceGrants',
} as const satisfies Record<Kind, keyof Snapshot>;

/** The fields of a Snapshot that are maps of objects. */
export type SnapshotMap = Exclude<keyof Snapshot, 'endpointSliceChanges'>;
export type MutableSnapshot = { [F in SnapshotMap]: Map<ObjectKey, ObjectOfKind<KindOfField<F>>> };
type KindOfField<F extends SnapshotMap> = { [K in Kind]: (typeof FIELD_OF_KIND)[K] extends F ? K : never }[Kind];

export function emptyMaps(): MutableSnapshot {
  return {
    ingresses: new Map(),
    ingressClasses: new Map(),
    services: new Map(),
    endpointSlices: new Map(),
    secrets: new Map(),
    configMaps: new Map(),
    namespaces: new Map(),
    gatewayClasses: new Map(),
    gateways: new Map(),
    httpRoutes: new Map(),
    referenceGrants: new Map(),
  };
}

/** Puts an object in the map of its kind; returns the object it replaced. */
export function putObject(maps: MutableSnapshot, obj: KubeObject): KubeObject | undefined {
  const key = objectKey(obj);
  // One case per kind keeps the map and the object's type together without casts.
  switch (obj.kind) {
    case 'Ingress': return swap(maps.ingresses, key, obj);
    case 'IngressClass': return swap(maps.ingressClasses, key, obj);
    case 'Service': return swap(maps.services, key, obj);
    case 'EndpointSlice': return swap(maps.endpointSlices, key, obj);
    case 'Secret': return swap(maps.secrets, key, obj);
    case 'ConfigMap': return swap(maps.configMaps, key, obj);
    case 'Namespace': return swap(maps.namespaces, key, obj);
    case 'GatewayClass': return swap(maps.gatewayClasses, key, obj);
    case 'Gateway': return swap(maps.gateways, key, obj);
    case 'HTTPRoute': return swap(maps.httpRoutes, key, obj);
    case 'ReferenceGrant': return swap(maps.referenceGrants, key, obj);
  }
}

function swap<T>(map: Map<ObjectKey, T>, key: ObjectKey, obj: T): T | undefined {
  const old = map.get(key);
  map.set(key, obj);
  return old;
}

/** Takes an object out of the map of its kind; returns it (undefined when there was none). */
export function deleteObject(maps: MutableSnapshot, kind: Kind, key: ObjectKey): KubeObject | undefined {
  const map: Map<ObjectKey, KubeObject> = maps[FIELD_OF_KIND[kind]];
  const old = map.get(key);
  if (old) map.delete(key);
  return old;
}

/** The object of a kind and key. */
export function getObject<K extends Kind>(snapshot: Snapshot, kind: K, key: ObjectKey): ObjectOfKind<K> | undefined {
  const map: ReadonlyMap<ObjectKey, KubeObject> = snapshot[FIELD_OF_KIND[kind]];
  const obj = map.get(key);
  return obj && obj.kind === kind ? (obj as ObjectOfKind<K>) : undefined;
}

/** A snapshot holding exactly these objects (the later of two with the same key wins). */
export function snapshotOf(objects: Iterable<KubeObject>): Snapshot {
  const maps = emptyMaps();
  for (const obj of objects) putObject(maps, obj);
  return maps;
}
