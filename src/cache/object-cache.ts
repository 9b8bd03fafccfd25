// The object cache: the one owner of every Kubernetes object the controller
// knows, one Map per kind keyed `namespace/name` (cluster-scoped: name).
// Watch events only change the cache; each change answers whether it can
// affect the route model, so that unrelated churn (a Service no claimed
// Ingress names, an Ingress of another class, a status update) never starts
// a build.
//
// The answer may say "yes" when the build would in fact come out the same
// (a rebuild too many costs little); it never says "no" when a build could
// change. It is kept cheap by counting, for the claimed Ingresses only, the
// Services and Secrets they name.

import { isDeepStrictEqual } from 'node:util';
import type { ClaimPolicy } from '../config/claim.js';
import { claimPolicy, isClaimed, isOurClass } from '../config/claim.js';
import type { BuildConfig } from '../config/config.js';
import { buildConfig } from '../config/config.js';
import type { Ingress, Kind, KubeObject, ObjectKey, ObjectOfKind } from '../kube/types.js';
import { KINDS } from '../kube/kinds.js';
import { DEFAULT_CLASS_ANNOTATION, SERVICE_NAME_LABEL, namespaceOf, objectKey } from '../kube/types.js';
import { GatewayRelevance, gatewayBuildInput, gatewaySecrets, routeServices } from './gateway-relevance.js';
import type { MutableSnapshot, Snapshot } from './snapshot.js';
import { FIELD_OF_KIND, deleteObject, emptyMaps, getObject, putObject } from './snapshot.js';

/**
 * The part of an object that can change what is built from it; the rest
 * (status, labels, resourceVersion) cannot. Of a Namespace, only its labels.
 */
function buildInput(obj: KubeObject): unknown {
  switch (obj.kind) {
    case 'Ingress': return [obj.metadata.creationTimestamp, obj.metadata.annotations, obj.spec];
    case 'IngressClass': return [obj.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION], obj.spec?.controller];
    case 'Service': return [obj.spec?.type, obj.spec?.externalName, obj.spec?.ports];
    case 'EndpointSlice': return [obj.metadata.labels?.[SERVICE_NAME_LABEL], obj.addressType, obj.endpoints, obj.ports];
    case 'Secret': return [obj.type, obj.data];
    case 'ConfigMap': return [obj.data, obj.binaryData];
    case 'Namespace': return obj.metadata.labels ?? {};
    case 'GatewayClass':
    case 'Gateway':
    case 'HTTPRoute': return gatewayBuildInput(obj);
    case 'ReferenceGrant': return obj.spec;
  }
}

function sameInput(a: KubeObject | undefined, b: KubeObject): boolean {
  return a !== undefined && isDeepStrictEqual(buildInput(a), buildInput(b));
}

/** The Services (`namespace/name`) and Secrets an Ingress names. */
const AUTH_TLS_SECRET_ANNOTATION = 'ats.ingress.kubernetes.io/auth-tls-secret';

function referencesOf(ingress: Ingress): { services: Set<string>; secrets: Set<string> } {
  const ns = namespaceOf(ingress);
  const services = new Set<string>();
  const secrets = new Set<string>();
  const spec = ingress.spec;
  const backend = spec?.defaultBackend?.service?.name;
  if (backend) services.add(`${ns}/${backend}`);
  for (const rule of spec?.rules ?? []) {
    for (const path of rule.http?.paths ?? []) {
      const name = path.backend?.service?.name;
      if (name) services.add(`${ns}/${name}`);
    }
  }
  for (const tls of spec?.tls ?? []) {
    if (tls.secretName) secrets.add(`${ns}/${tls.secretName}`);
  }
  // The CA of client certificates (the builder refuses other namespaces; this only says the Secret matters).
  const ca = ingress.metadata.annotations?.[AUTH_TLS_SECRET_ANNOTATION];
  if (ca) secrets.add(ca.includes('/') ? ca : `${ns}/${ca}`);
  return { services, secrets };
}

function count(counts: Map<string, number>, keys: Iterable<string>, delta: 1 | -1): void {
  for (const key of keys) {
    const n = (counts.get(key) ?? 0) + delta;
    if (n > 0) counts.set(key, n);
    else counts.delete(key);
  }
}

function sliceService(obj: KubeObject | undefined): string | undefined {
  if (obj?.kind !== 'EndpointSlice') return undefined;
  const service = obj.metadata.labels?.[SERVICE_NAME_LABEL];
  return service ? `${namespaceOf(obj)}/${service}` : undefined;
}

export class ObjectCache {
  readonly #config: BuildConfig;
  readonly #configMaps: ReadonlySet<string>;
  readonly #controllerService: string | undefined;
  readonly #defaultCertificate: string | undefined;
  #maps: MutableSnapshot = emptyMaps();
  /** Maps handed out by snapshot(): copied before their next change. */
  readonly #shared = new Set<keyof Snapshot>();
  /** The EndpointSlices changed since the map the last snapshot handed out (a new record with each copy). */
  #sliceChanges: { base: ReadonlyMap<ObjectKey, KubeObject>; keys: Set<ObjectKey> } | undefined;
  #policy: ClaimPolicy;
  readonly #claimed = new Set<ObjectKey>();
  /** How many claimed Ingresses name each Service / Secret. */
  readonly #serviceRefs = new Map<string, number>();
  readonly #secretRefs = new Map<string, number>();
  /** Our GatewayClasses and Gateways; the Services and Secrets that HTTPRoutes and Gateways name are counted in the maps above. */
  readonly #gatewayApi: GatewayRelevance;

  constructor(config: BuildConfig = buildConfig()) {
    this.#config = config;
    // Only the records ConfigMap matters; every other ConfigMap is not ours.
    const records = config.recordsConfigMap;
    this.#configMaps = new Set(records ? [`${records.namespace}/${records.name}`] : []);
    const flag = config.defaultBackend;
    this.#controllerService = flag ? `${flag.namespace}/${flag.name}` : undefined;
    const cert = config.defaultCertificate;
    this.#defaultCertificate = cert ? `${cert.namespace}/${cert.name}` : undefined;
    this.#policy = claimPolicy([], config);
    this.#gatewayApi = new GatewayRelevance(config);
  }

  /** Adds or replaces an object. True when the change can affect the route model. */
  upsert(obj: KubeObject): boolean {
    this.#writable(obj.kind);
    const key = objectKey(obj);
    if (obj.kind === 'EndpointSlice') this.#sliceChanges?.keys.add(key);
    const old = putObject(this.#maps, obj);
    switch (obj.kind) {
      case 'Ingress':
        return this.#ingressChanged(key, old?.kind === 'Ingress' ? old : undefined, obj);
      case 'IngressClass': {
        const wasOurs = old?.kind === 'IngressClass' && isOurClass(old, this.#config);
        if (!wasOurs && !isOurClass(obj, this.#config)) return false;
        if (sameInput(old, obj)) return false;
        this.#reclaim();
        return true;
      }
      case 'Service':
        return !sameInput(old, obj) && this.#serviceMatters(key);
      case 'EndpointSlice': {
        if (sameInput(old, obj)) return false;
        const before = sliceService(old);
        const now = sliceService(obj);
        return (before !== undefined && this.#serviceMatters(before)) || (now !== undefined && this.#serviceMatters(now));
      }
      case 'Secret':
        return !sameInput(old, obj) && this.#secretMatters(key);
      case 'ConfigMap':
        return !sameInput(old, obj) && this.#configMaps.has(key);
      case 'Namespace':
        return !sameInput(old, obj) && this.#gatewayApi.selectsNamespaces();
      case 'GatewayClass':
        return this.#gatewayApi.classChanged(old?.kind === 'GatewayClass' ? old : undefined, obj, this.#maps.gateways.values());
      case 'Gateway': {
        const before = old?.kind === 'Gateway' ? old : undefined;
        if (before) count(this.#secretRefs, gatewaySecrets(before), -1);
        count(this.#secretRefs, gatewaySecrets(obj), 1);
        return this.#gatewayApi.gatewayChanged(key, before, obj);
      }
      case 'HTTPRoute': {
        const before = old?.kind === 'HTTPRoute' ? old : undefined;
        if (before) count(this.#serviceRefs, routeServices(before), -1);
        count(this.#serviceRefs, routeServices(obj), 1);
        return this.#gatewayApi.routeChanged(before, obj);
      }
      case 'ReferenceGrant':
        return !sameInput(old, obj);
    }
  }

  /** Removes an object. True when the change can affect the route model. */
  remove(kind: Kind, key: ObjectKey): boolean {
    if (!getObject(this.#maps, kind, key)) return false;
    this.#writable(kind);
    if (kind === 'EndpointSlice') this.#sliceChanges?.keys.add(key);
    const old = deleteObject(this.#maps, kind, key);
    switch (old?.kind) {
      case undefined:
        return false;
      case 'Ingress':
        return this.#ingressChanged(key, old, undefined);
      case 'IngressClass':
        if (!isOurClass(old, this.#config)) return false;
        this.#reclaim();
        return true;
      case 'Service':
        return this.#serviceMatters(key);
      case 'EndpointSlice': {
        const service = sliceService(old);
        return service !== undefined && this.#serviceMatters(service);
      }
      case 'Secret':
        return this.#secretMatters(key);
      case 'ConfigMap':
        return this.#configMaps.has(key);
      case 'Namespace':
        return this.#gatewayApi.selectsNamespaces();
      case 'GatewayClass':
        return this.#gatewayApi.classChanged(old, undefined, this.#maps.gateways.values());
      case 'Gateway':
        count(this.#secretRefs, gatewaySecrets(old), -1);
        return this.#gatewayApi.gatewayChanged(key, old, undefined);
      case 'HTTPRoute':
        count(this.#serviceRefs, routeServices(old), -1);
        return this.#gatewayApi.routeChanged(old, undefined);
      case 'ReferenceGrant':
        return true;
    }
  }

  /**
   * Makes the cache hold exactly `objects` of one kind (after a relist):
   * upserts them all and removes the others. True when any change can
   * affect the route model.
   */
  replaceAll<K extends Kind>(kind: K, objects: Iterable<ObjectOfKind<K>>): boolean {
    let matters = false;
    const seen = new Set<ObjectKey>();
    for (const obj of objects) {
      seen.add(objectKey(obj));
      if (this.upsert(obj)) matters = true;
    }
    for (const key of this.keys(kind)) {
      if (!seen.has(key) && this.remove(kind, key)) matters = true;
    }
    return matters;
  }

  get<K extends Kind>(kind: K, key: ObjectKey): ObjectOfKind<K> | undefined {
    return getObject(this.#maps, kind, key);
  }

  keys(kind: Kind): ObjectKey[] {
    const map: ReadonlyMap<ObjectKey, KubeObject> = this.#maps[FIELD_OF_KIND[kind]];
    return [...map.keys()];
  }

  /** Whether an Ingress is ours right now. */
  isClaimed(key: ObjectKey): boolean {
    return this.#claimed.has(key);
  }

  /**
   * Every object as it is now. Later changes do not show in it: a map is
   * copied at its first change after a snapshot (so taking one is free).
   */
  snapshot(): Snapshot {
    for (const kind of KINDS) this.#shared.add(FIELD_OF_KIND[kind]);
    const m = this.#maps;
    return {
      ingresses: m.ingresses,
      ingressClasses: m.ingressClasses,
      services: m.services,
      endpointSlices: m.endpointSlices,
      secrets: m.secrets,
      configMaps: m.configMaps,
      namespaces: m.namespaces,
      gatewayClasses: m.gatewayClasses,
      gateways: m.gateways,
      httpRoutes: m.httpRoutes,
      referenceGrants: m.referenceGrants,
      ...(this.#sliceChanges ? { endpointSliceChanges: this.#sliceChanges } : {}),
    };
  }

  #writable(kind: Kind): void {
    const field = FIELD_OF_KIND[kind];
    if (!this.#shared.delete(field)) return;
    // From here on this record is the snapshot's to read, never changed again.
    if (field === 'endpointSlices') this.#sliceChanges = { base: this.#maps.endpointSlices, keys: new Set() };
    this.#maps = { ...this.#maps, [field]: new Map<ObjectKey, KubeObject>(this.#maps[field]) };
  }

  #secretMatters(key: string): boolean {
    return this.#secretRefs.has(key) || key === this.#defaultCertificate;
  }

  #serviceMatters(key: string): boolean {
    return this.#serviceRefs.has(key) || key === this.#controllerService;
  }

  #ingressChanged(key: ObjectKey, old: Ingress | undefined, now: Ingress | undefined): boolean {
    const wasClaimed = this.#claimed.has(key);
    const nowClaimed = now !== undefined && isClaimed(now, this.#policy);
    if (!wasClaimed && !nowClaimed) return false;
    if (wasClaimed && nowClaimed && now && sameInput(old, now)) return false;
    if (wasClaimed && old) this.#countReferences(old, -1);
    if (nowClaimed && now) this.#countReferences(now, 1);
    if (nowClaimed) this.#claimed.add(key);
    else this.#claimed.delete(key);
    return true;
  }

  #countReferences(ingress: Ingress, delta: 1 | -1): void {
    const { services, secrets } = referencesOf(ingress);
    count(this.#serviceRefs, services, delta);
    count(this.#secretRefs, secrets, delta);
  }

  /** Our IngressClasses changed: which Ingresses are ours may have too. */
  #reclaim(): void {
    this.#policy = claimPolicy(this.#maps.ingressClasses.values(), this.#config);
    for (const [key, ingress] of this.#maps.ingresses) {
      const wasClaimed = this.#claimed.has(key);
      const nowClaimed = isClaimed(ingress, this.#policy);
      if (wasClaimed === nowClaimed) continue;
      this.#countReferences(ingress, nowClaimed ? 1 : -1);
      if (nowClaimed) this.#claimed.add(key);
      else this.#claimed.delete(key);
    }
  }
}
