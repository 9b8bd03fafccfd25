// A Kubernetes label selector (matchLabels and matchExpressions, ANDed), as
// allowedRoutes.namespaces.selector uses it.

import type { LabelSelector } from '../../kube/types.js';

/** Whether labels satisfy the selector. An empty selector selects everything; an unknown operator selects nothing. */
export function selectorMatches(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In':
        if (!has || !values.includes(labels[e.key] ?? '')) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[e.key] ?? '')) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}
