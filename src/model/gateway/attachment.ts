// Which listeners of a Gateway an HTTPRoute's parentRef attaches it to, and
// on which hostnames, by the spec's rules: the parentRef's sectionName and
// port select listeners; each listener's allowedRoutes must allow the
// Route's namespace (From Same, All, or Selector) and kind; and the Route's
// hostnames must intersect the listener's. The reasons are those an
// HTTPRoute's status.parents[].conditions[Accepted] gives.

import type { Snapshot } from '../../cache/snapshot.js';
import type { Gateway, HTTPRoute, Listener, ParentReference, RouteGroupKind } from '../../kube/types.js';
import { GATEWAY_GROUP } from '../../kube/gateway-types.js';
import { namespaceOf } from '../../kube/types.js';
import { effectiveHostnames, type Hostname } from './hostnames.js';
import { selectorMatches } from './labels.js';

/** The labels of a namespace; undefined when it is not known. */
export type NamespaceLabels = (namespace: string) => Readonly<Record<string, string>> | undefined;

const NO_LABELS: Readonly<Record<string, string>> = {};

/**
 * The labels of the snapshot's Namespaces. A namespace with no Namespace
 * object is not known (a source that knows a namespace only from the objects
 * in it gives it a Namespace: see the manifests source).
 */
export function snapshotNamespaceLabels(snapshot: Pick<Snapshot, 'namespaces'>): NamespaceLabels {
  return (namespace) => {
    const ns = snapshot.namespaces.get(namespace);
    return ns ? (ns.metadata.labels ?? NO_LABELS) : undefined;
  };
}

export type AttachReason = 'Accepted' | 'NoMatchingParent' | 'NotAllowedByListeners' | 'NoMatchingListenerHostname';

export interface ListenerAttachment {
  readonly listener: Listener;
  /** The hostnames routed under this listener (undefined: every host the listener takes). */
  readonly hostnames: readonly Hostname[];
}

export interface ParentAttachment {
  readonly reason: AttachReason;
  /** The listeners that accept the Route (empty unless reason is Accepted). */
  readonly listeners: readonly ListenerAttachment[];
}

export const HTTP_ROUTE_KIND: RouteGroupKind = { group: GATEWAY_GROUP, kind: 'HTTPRoute' };

/** Whether a parentRef names a Gateway (the CRD's defaults: group gateway.networking.k8s.io, kind Gateway). */
export function refersToGateway(ref: ParentReference): boolean {
  return (ref.group ?? GATEWAY_GROUP) === GATEWAY_GROUP && (ref.kind ?? 'Gateway') === 'Gateway';
}

/**
 * "From indicates where Routes will be selected for this Gateway ...
 * All: Routes in all namespaces may be used by this Gateway. Selector:
 * Routes in namespaces selected by the selector may be used by this Gateway.
 * Same: Only Routes in the same namespace may be used by this Gateway."
 * (default Same). A namespace whose labels are not known is not selected.
 */
export function listenerAllowsNamespace(listener: Listener, gatewayNamespace: string, routeNamespace: string, labelsOf: NamespaceLabels): boolean {
  const from = listener.allowedRoutes?.namespaces?.from ?? 'Same';
  switch (from) {
    case 'All':
      return true;
    case 'Same':
      return gatewayNamespace === routeNamespace;
    case 'Selector': {
      const selector = listener.allowedRoutes?.namespaces?.selector;
      const labels = labelsOf(routeNamespace);
      return selector !== undefined && labels !== undefined && selectorMatches(selector, labels);
    }
    default:
      return false;
  }
}

/**
 * The Route kinds a listener takes: "When unspecified or empty, the kinds of
 * Routes selected are determined using the Listener protocol" (HTTPRoute for
 * HTTP and HTTPS, the only kind this controller serves); otherwise those of
 * its allowedRoutes.kinds that we support.
 */
export function supportedKinds(listener: Listener): RouteGroupKind[] {
  const kinds = listener.allowedRoutes?.kinds;
  const http = listener.protocol === 'HTTP' || listener.protocol === 'HTTPS';
  if (!kinds || kinds.length === 0) return http ? [HTTP_ROUTE_KIND] : [];
  return http && kinds.some((k) => (k.group ?? GATEWAY_GROUP) === GATEWAY_GROUP && k.kind === 'HTTPRoute') ? [HTTP_ROUTE_KIND] : [];
}

/** A listener selected by a parentRef: "the name and port of the selected listener must match both specified values". */
function selectedBy(ref: ParentReference, l: Listener): boolean {
  return (ref.sectionName === undefined || ref.sectionName === '' || ref.sectionName === l.name) && (ref.port === undefined || ref.port === l.port);
}

/**
 * The attachment of one parentRef of an HTTPRoute to the Gateway it names
 * (undefined: no such Gateway of ours). "If 1 of 2 Gateway listeners accept
 * attachment from the referencing Route, the Route MUST be considered
 * successfully attached. If no Gateway listeners accept attachment from this
 * Route, the Route MUST be considered detached from the Gateway."
 */
export function attachToGateway(route: HTTPRoute, ref: ParentReference, gateway: Gateway | undefined, labelsOf: NamespaceLabels): ParentAttachment {
  const none = (reason: AttachReason): ParentAttachment => ({ reason, listeners: [] });
  if (!gateway || !refersToGateway(ref)) return none('NoMatchingParent');
  const selected = (gateway.spec?.listeners ?? []).filter((l) => selectedBy(ref, l));
  if (selected.length === 0) return none('NoMatchingParent');
  const gwNamespace = namespaceOf(gateway);
  const routeNamespace = namespaceOf(route);
  const allowed = selected.filter((l) => listenerAllowsNamespace(l, gwNamespace, routeNamespace, labelsOf) && supportedKinds(l).length > 0);
  if (allowed.length === 0) return none('NotAllowedByListeners');
  const listeners: ListenerAttachment[] = [];
  for (const listener of allowed) {
    const hostnames = effectiveHostnames(listener.hostname === '' ? undefined : listener.hostname, route.spec?.hostnames);
    if (hostnames) listeners.push({ listener, hostnames });
  }
  return listeners.length > 0 ? { reason: 'Accepted', listeners } : none('NoMatchingListenerHostname');
}
