// Ingress class selection: which Ingresses are ours. The object cache asks
// the same question (through claimPolicy/isClaimed) to know whether a change
// to an Ingress can matter.

import type { Ingress, IngressClass } from '../cache/k8s-types.js';
import { DEFAULT_CLASS_ANNOTATION, LEGACY_INGRESS_CLASS_ANNOTATION, namespaceOf } from '../cache/k8s-types.js';
import type { BuildConfig } from './config.js';
import type { ClaimedIngress, Processor } from './state.js';
import { NO_SETTINGS, olderFirst } from './state.js';

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

/** creationTimestamp in ms since the epoch; +Infinity (the newest) when absent or unreadable. */
export function creationTime(ingress: Ingress): number {
  const t = ingress.metadata.creationTimestamp;
  const ms = t ? Date.parse(t) : NaN;
  return Number.isNaN(ms) ? Number.POSITIVE_INFINITY : ms;
}

/** Processor: the claimed Ingresses, oldest first. */
export const selectIngresses: Processor = (state) => {
  const policy = claimPolicy(state.snapshot.ingressClasses.values(), state.config);
  const claimed: ClaimedIngress[] = [];
  for (const ingress of state.snapshot.ingresses.values()) {
    if (!isClaimed(ingress, policy)) continue;
    const namespace = namespaceOf(ingress);
    const name = ingress.metadata.name;
    claimed.push({
      key: `${namespace}/${name}`,
      namespace,
      name,
      object: ingress,
      created: creationTime(ingress),
      settings: NO_SETTINGS,
      ruleHosts: [],
    });
  }
  claimed.sort(olderFirst);
  state.ingresses = claimed;
};
