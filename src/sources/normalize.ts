// Objects from a list or a watch, made into what the cache holds.

import { KIND_INFO } from '../kube/kinds.js';
import { isRecord } from '../kube/json.js';
import type { Kind, KubeObject, Namespace } from '../kube/types.js';
import { TLS_SECRET_TYPE } from '../kube/types.js';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * Turns an object from a list or a watch into what the cache holds: plain
 * JSON with apiVersion and kind set, without managedFields and without
 * kubectl's last-applied copy of the whole object; of a Namespace, only its
 * name, labels, uid, resourceVersion and creationTimestamp. Undefined when it
 * is not a usable object of that kind (or a Secret that is not a TLS one).
 */
export function normalizeObject(kind: Kind, raw: unknown): KubeObject | undefined {
  if (!isRecord(raw)) return undefined;
  const meta = raw['metadata'];
  if (!isRecord(meta) || typeof meta['name'] !== 'string' || !meta['name']) return undefined;
  if (raw['kind'] !== undefined && raw['kind'] !== kind) return undefined;
  if (kind === 'Secret' && raw['type'] !== TLS_SECRET_TYPE) return undefined;
  if (kind === 'Namespace') return namespaceFields(meta);
  delete meta['managedFields'];
  const ann = meta['annotations'];
  if (isRecord(ann) && LAST_APPLIED in ann) {
    delete ann[LAST_APPLIED];
    if (Object.keys(ann).length === 0) delete meta['annotations'];
  }
  raw['apiVersion'] = KIND_INFO[kind].apiVersion;
  raw['kind'] = kind;
  // Checked above: a record with metadata.name and the right kind. The rest
  // of the shape is the API's (the builder checks every field it reads).
  return raw as unknown as KubeObject;
}

/** Of a Namespace only what identifies it and its labels: its spec and status (finalizers, phase, conditions) are not read. */
const NAMESPACE_META = ['name', 'uid', 'resourceVersion', 'creationTimestamp', 'labels'] as const;

function namespaceFields(meta: Record<string, unknown>): Namespace {
  const metadata: Record<string, unknown> = {};
  for (const f of NAMESPACE_META) if (meta[f] !== undefined) metadata[f] = meta[f];
  if (!isRecord(metadata['labels'])) delete metadata['labels'];
  return { apiVersion: 'v1', kind: 'Namespace', metadata: metadata as unknown as Namespace['metadata'] };
}

export function resourceVersionOf(raw: unknown): string | undefined {
  if (!isRecord(raw)) return undefined;
  const meta = raw['metadata'];
  if (!isRecord(meta)) return undefined;
  const rv = meta['resourceVersion'];
  return typeof rv === 'string' && rv ? rv : undefined;
}
