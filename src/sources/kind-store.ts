// The objects of one kind as the Kubernetes source has listed and watched
// them, per watch (namespace), so that a relist of one namespace can send a
// 'replace' of the whole kind.

import type { Kind, KubeObject } from '../kube/types.js';
import { objectKey } from '../kube/types.js';
import type { SourceEvent } from './source.js';

/** The objects of one kind, per watch, and whether the kind's first 'replace' went out. */
export class KindStore {
  /** Per watch (namespace, or '' for all): key → object. */
  readonly #parts = new Map<string, Map<string, KubeObject>>();
  #listed = new Set<string>();
  #replaced = false;

  constructor(
    readonly kind: Kind,
    readonly partNames: readonly string[],
    private readonly emit: (events: SourceEvent[]) => void,
    private readonly onFirstReplace: (kind: Kind) => void,
  ) {
    for (const p of partNames) this.#parts.set(p, new Map());
  }

  get replaced(): boolean {
    return this.#replaced;
  }

  /** A list of one part finished: its objects are now exactly these. */
  listed(part: string, objects: readonly KubeObject[]): void {
    const m = new Map<string, KubeObject>();
    for (const o of objects) m.set(objectKey(o), o);
    this.#parts.set(part, m);
    this.#listed.add(part);
    if (this.#listed.size < this.partNames.length) return;
    const all: KubeObject[] = [];
    for (const part of this.#parts.values()) for (const o of part.values()) all.push(o);
    const first = !this.#replaced;
    this.#replaced = true;
    this.emit([{ type: 'replace', kind: this.kind, objects: all }]);
    if (first) this.onFirstReplace(this.kind);
  }

  /** Applies one watch event to a part; returns the event for the sink (undefined before the first replace). */
  upsert(part: string, obj: KubeObject): SourceEvent | undefined {
    this.#parts.get(part)?.set(objectKey(obj), obj);
    return this.#replaced ? { type: 'upsert', object: obj } : undefined;
  }

  remove(part: string, key: string): SourceEvent | undefined {
    this.#parts.get(part)?.delete(key);
    return this.#replaced ? { type: 'remove', kind: this.kind, key } : undefined;
  }
}
