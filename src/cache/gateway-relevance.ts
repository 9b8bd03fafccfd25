// Whether a change to a Gateway API object can matter, for the object cache.
// Ours are the GatewayClasses whose spec.controllerName is our gateway
// controller name, the Gateways of those classes, and the HTTPRoutes whose
// parentRefs name one of those Gateways. ReferenceGrants always matter (they
// are few, and what they allow is read by the builder). The Services and
// Secrets that any HTTPRoute or Gateway names are counted, as the Ingresses'
// are, so that a change to one of them is known to matter.
//
// As with Ingresses, "yes" may be said when a build would come out the same
// (an HTTPRoute's Service counts whether or not the Route is attached); "no"
// never when it could change.

import { isDeepStrictEqual } from 'node:util';
import { isOurGatewayClass } from '../config/claim.js';
import type { BuildConfig } from '../config/config.js';
import type { Gateway, GatewayClass, HTTPRoute, ObjectKey } from '../kube/types.js';
import { GATEWAY_GROUP } from '../kube/gateway-types.js';
import { namespaceOf } from '../kube/types.js';

/** The part of a Gateway API object that a build reads (status is written by us, never read). */
export function gatewayBuildInput(obj: GatewayClass | Gateway | HTTPRoute): unknown {
  return [obj.metadata.creationTimestamp, obj.metadata.generation, obj.spec];
}

function isCoreGroup(group: string | undefined): boolean {
  return group === undefined || group === '';
}

/** `namespace/name` of each Service a Route names (backendRefs, per-backend filters and mirrors). */
export function routeServices(route: HTTPRoute): Set<string> {
  const ns = namespaceOf(route);
  const out = new Set<string>();
  const add = (ref: { group?: string; kind?: string; name: string; namespace?: string } | undefined) => {
    if (!ref?.name || !isCoreGroup(ref.group) || (ref.kind ?? 'Service') !== 'Service') return;
    out.add(`${ref.namespace ?? ns}/${ref.name}`);
  };
  for (const rule of route.spec?.rules ?? []) {
    for (const f of rule.filters ?? []) add(f.requestMirror?.backendRef);
    for (const b of rule.backendRefs ?? []) {
      add(b);
      for (const f of b.filters ?? []) add(f.requestMirror?.backendRef);
    }
  }
  return out;
}

/** `namespace/name` of each Secret a Gateway's listeners name. */
export function gatewaySecrets(gateway: Gateway): Set<string> {
  const ns = namespaceOf(gateway);
  const out = new Set<string>();
  for (const l of gateway.spec?.listeners ?? []) {
    for (const ref of l.tls?.certificateRefs ?? []) {
      if (ref.name && isCoreGroup(ref.group) && (ref.kind ?? 'Secret') === 'Secret') out.add(`${ref.namespace ?? ns}/${ref.name}`);
    }
  }
  return out;
}

/** `namespace/name` of each Gateway a Route's parentRefs name. */
export function routeParents(route: HTTPRoute): Set<string> {
  const ns = namespaceOf(route);
  const out = new Set<string>();
  for (const p of route.spec?.parentRefs ?? []) {
    if ((p.group ?? GATEWAY_GROUP) === GATEWAY_GROUP && (p.kind ?? 'Gateway') === 'Gateway' && p.name) out.add(`${p.namespace ?? ns}/${p.name}`);
  }
  return out;
}

/** Whether a Gateway has a listener that takes Routes from namespaces selected by their labels. */
export function selectsNamespaces(gateway: Gateway): boolean {
  return (gateway.spec?.listeners ?? []).some((l) => l.allowedRoutes?.namespaces?.from === 'Selector');
}

/** Our GatewayClasses and Gateways, kept as the cache changes. */
export class GatewayRelevance {
  readonly #config: BuildConfig;
  /** Names of our GatewayClasses. */
  readonly #classes = new Set<string>();
  /** Keys of the Gateways of our classes. */
  readonly #gateways = new Set<ObjectKey>();
  /** Keys of those of our Gateways that select namespaces by label. */
  readonly #selecting = new Set<ObjectKey>();

  constructor(config: BuildConfig) {
    this.#config = config;
  }

  /** A GatewayClass changed: true when it is or was ours and what a build reads of it changed. */
  classChanged(old: GatewayClass | undefined, now: GatewayClass | undefined, gateways: Iterable<Gateway>): boolean {
    const wasOurs = old !== undefined && isOurGatewayClass(old, this.#config);
    const isOurs = now !== undefined && isOurGatewayClass(now, this.#config);
    if (!wasOurs && !isOurs) return false;
    if (wasOurs && isOurs && old && now && isDeepStrictEqual(gatewayBuildInput(old), gatewayBuildInput(now))) return false;
    const name = (now ?? old)?.metadata.name;
    if (name !== undefined) {
      if (isOurs) this.#classes.add(name);
      else this.#classes.delete(name);
    }
    this.#gateways.clear();
    this.#selecting.clear();
    for (const g of gateways) {
      if (!this.#classes.has(g.spec?.gatewayClassName)) continue;
      const key = `${namespaceOf(g)}/${g.metadata.name}`;
      this.#gateways.add(key);
      if (selectsNamespaces(g)) this.#selecting.add(key);
    }
    return true;
  }

  /** A Gateway changed: true when it is or was of one of our classes and what a build reads of it changed. */
  gatewayChanged(key: ObjectKey, old: Gateway | undefined, now: Gateway | undefined): boolean {
    const was = this.#gateways.has(key);
    const is = now !== undefined && this.#classes.has(now.spec?.gatewayClassName);
    if (is) this.#gateways.add(key);
    else this.#gateways.delete(key);
    if (is && now && selectsNamespaces(now)) this.#selecting.add(key);
    else this.#selecting.delete(key);
    if (!was && !is) return false;
    return !(was && is && old && now && isDeepStrictEqual(gatewayBuildInput(old), gatewayBuildInput(now)));
  }

  /** Whether a Namespace's labels can matter: one of our Gateways selects namespaces by label. */
  selectsNamespaces(): boolean {
    return this.#selecting.size > 0;
  }

  /** An HTTPRoute changed: true when it names (or named) one of our Gateways and what a build reads of it changed. */
  routeChanged(old: HTTPRoute | undefined, now: HTTPRoute | undefined): boolean {
    if (old && now && isDeepStrictEqual(gatewayBuildInput(old), gatewayBuildInput(now))) return false;
    for (const r of [old, now]) {
      if (!r) continue;
      for (const parent of routeParents(r)) if (this.#gateways.has(parent)) return true;
    }
    return false;
  }
}
