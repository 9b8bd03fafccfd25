// Which Ingresses are ours: the rules the builder applies and the object
// cache asks about (to know whether a change to an Ingress can matter), in
// one place both import.

import type { GatewayClass, Ingress, IngressClass } from '../kube/types.js';
import { DEFAULT_CLASS_ANNOTATION, LEGACY_INGRESS_CLASS_ANNOTATION, namespaceOf } from '../kube/types.js';
import type { BuildConfig } from './config.js';

export interface ClaimPolicy {
  /** Names of the IngressClasses whose controller is ours. */
  readonly classNames: ReadonlySet<string>;
  /** Values of the legacy annotation that are ours: our classes' names and config.ingressClassName. */
  readonly legacyNames: ReadonlySet<string>;
  /** One of our classes is the cluster's default class. */
  readonly isDefault: boolean;
  /** Undefined: every namespace. */
  readonly namespaces: ReadonlySet<string> | undefined;
}

export function isOurClass(ingressClass: IngressClass, config: BuildConfig): boolean {
  return ingressClass.spec?.controller === config.controllerName;
}

/** A GatewayClass is ours when its `spec.controllerName` is our gateway controller name. */
export function isOurGatewayClass(gatewayClass: GatewayClass, config: BuildConfig): boolean {
  return gatewayClass.spec?.controllerName === config.gatewayControllerName;
}

export function claimPolicy(classes: Iterable<IngressClass>, config: BuildConfig): ClaimPolicy {
  const classNames = new Set<string>();
  let isDefault = false;
  for (const c of classes) {
    if (!isOurClass(c, config)) continue;
    classNames.add(c.metadata.name);
    if (c.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true') isDefault = true;
  }
  const legacyNames = new Set(classNames);
  legacyNames.add(config.ingressClassName);
  const namespaces = config.watchNamespaces.length > 0 ? new Set(config.watchNamespaces) : undefined;
  return { classNames, legacyNames, isDefault, namespaces };
}

/**
 * Ours when `spec.ingressClassName` names one of our classes; failing that
 * field, when the legacy annotation names one; failing both, when one of our
 * classes is the default. Never everything by default.
 */
export function isClaimed(ingress: Ingress, policy: ClaimPolicy): boolean {
  if (policy.namespaces && !policy.namespaces.has(namespaceOf(ingress))) return false;
  const className = ingress.spec?.ingressClassName;
  if (className) return policy.classNames.has(className);
  const legacy = ingress.metadata.annotations?.[LEGACY_INGRESS_CLASS_ANNOTATION];
  if (legacy) return policy.legacyNames.has(legacy);
  return policy.isDefault;
}
