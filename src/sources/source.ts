// What every source of objects (the Kubernetes API, a directory of
// manifests) gives the controller loop. Sources never touch the cache: they
// hand batches of events to one sink, and the loop applies them.
import type { Kind, KubeObject, ObjectKey } from '../kube/types.js';

export type SourceEvent =
  | { readonly type: 'upsert'; readonly object: KubeObject }
  | { readonly type: 'remove'; readonly kind: Kind; readonly key: ObjectKey }
  /** A full list of one kind (first list, relist): objects not in it are gone. */
  | { readonly type: 'replace'; readonly kind: Kind; readonly objects: readonly KubeObject[] };

export type SourceSink = (events: readonly SourceEvent[]) => void;

/** A problem a source met with its input (not with the API connection). */
export interface SourceProblem {
  /** A file and line, or a `kind namespace/name`. */
  readonly where: string;
  readonly message: string;
}

export interface WatchHealth {
  readonly kind: Kind;
  /**
   * 'listing' until its first list, then 'watching'; 'backoff' after an
   * error until it restarts; 'absent' while the kind is not served (a
   * Gateway API kind whose CRD is not installed: its list answers 404).
   */
  readonly state: 'listing' | 'watching' | 'backoff' | 'absent' | 'stopped';
  readonly restarts: number;
  readonly lastError?: string;
  /** Milliseconds since this watch last heard anything (an event, a list, a bookmark). */
  readonly sinceLastEventMs: number;
}

export interface SourceHealth {
  /** Every kind has been listed at least once. */
  readonly synced: boolean;
  /** No watch is stuck: each is watching, or restarting within its backoff. */
  readonly healthy: boolean;
  readonly watches: readonly WatchHealth[];
  /** What a person reading /healthz should know that is not an error (kinds not served, say). */
  readonly notes?: readonly string[];
}

export interface Source {
  /** Starts; resolves once every kind has been listed and its 'replace' sent to the sink. */
  start(sink: SourceSink): Promise<void>;
  /** Stops every watch and timer; resolves when nothing is left running. */
  stop(): Promise<void>;
  health(): SourceHealth;
}
