// The Kubernetes API as a source: list + watch per kind (and per namespace
// when namespaces are given), with the restarts in our hands.
//
// Per watch, a loop:  list → 'replace' → watch from the list's
// resourceVersion → upsert/remove per event, bookmarks move the
// resourceVersion; the server ends each watch after timeoutSeconds and the
// loop watches again from where it was.
//   410 Gone (HTTP status or ERROR event)  → relist at once
//   any other error (401/403/5xx/refused/reset/timeout) → jittered backoff, then relist
//   every relistIntervalMs                  → relist (a full 'replace')
//   nothing heard for watchdogMs            → the watch is dropped and started again
// A namespaced kind watched in several namespaces keeps what each namespace
// listed, so a relist of one namespace sends a 'replace' of the whole kind.
// Nothing reaches the sink for a kind before its first 'replace'.

import { setMaxListeners } from 'node:events';
import { GATEWAY_KINDS, KINDS, isClusterScoped } from '../kube/kinds.js';
import type { KubeTransport } from '../kube/client.js';
import { KubeClient } from '../kube/client.js';
import { errorMessage } from '../kube/errors.js';
import type { Kind } from '../kube/types.js';
import type { Logger } from '../observe/logger.js';
import { silentLogger } from '../observe/logger.js';
import { isDnsLabel } from '../validate/names.js';
import { KindStore } from './kind-store.js';
import type { Source, SourceEvent, SourceHealth, SourceSink } from './source.js';
import { WatchLoop, interval, type KindSelector, type KubeWatchHealth, type WatchSettings } from './watch-loop.js';

export type { KindSelector, KubeWatchHealth } from './watch-loop.js';
export { normalizeObject } from './normalize.js';

/**
 * The kinds routes are made of: what the source watches unless told
 * otherwise. The Gateway API kinds only while their CRDs are installed;
 * Namespaces for their labels (a Gateway listener's allowedRoutes From
 * Selector), a short list in any cluster.
 */
export const ROUTING_KINDS: readonly Kind[] = ['Ingress', 'IngressClass', 'Service', 'EndpointSlice', 'Secret', 'Namespace', ...GATEWAY_KINDS];

export interface BackoffOptions {
  /** First delay after an error. Default 200 ms. */
  readonly initialMs?: number;
  /** Cap. Default 10 s. */
  readonly maxMs?: number;
}


export interface KubernetesSourceOptions {
  /** A kubeconfig file; absent: in-cluster. Ignored when `transport` is given. */
  readonly kubeconfig?: string;
  /** Empty: all namespaces. Namespaced kinds get one watch per namespace; IngressClass, Namespace and GatewayClass are cluster-scoped. */
  readonly namespaces: readonly string[];
  /**
   * Default: what routes are made of (ROUTING_KINDS: Ingress, IngressClass,
   * Service, EndpointSlice, Secret, Namespace, the Gateway API kinds). ConfigMaps only when asked for, with a selector:
   * listing every ConfigMap in a cluster costs memory for nothing.
   */
  readonly kinds?: readonly Kind[];
  /** Extra selectors per kind (e.g. only one ConfigMap: `metadata.name=ats-records`). Secrets are always limited to `type=kubernetes.io/tls`. */
  readonly selectors?: Partial<Record<Kind, KindSelector>>;
  /** Full relist of each watch this often (jittered by up to +10 %). Default 5 min. */
  readonly relistIntervalMs?: number;
  /** A watch silent this long is dropped and started again. Default 90 s. */
  readonly watchdogMs?: number;
  /**
   * `timeoutSeconds` of each watch request: the server ends the watch (after
   * a bookmark) before the watchdog would. Default: a random value between
   * 50 % and 75 % of watchdogMs.
   */
  readonly watchTimeoutSeconds?: number;
  readonly backoff?: BackoffOptions;
  /** Bound on each list page request. Default 60 s. */
  readonly listTimeoutMs?: number;
  /** start() rejects (and stops everything) if some kind is not listed by then. Default 120 s. */
  readonly startTimeoutMs?: number;
  /** A watch not back to 'watching' this long after it lost its watch makes health() unhealthy. Default 60 s. */
  readonly unhealthyAfterMs?: number;
  /**
   * A Gateway API kind whose CRD is not installed (its list answers 404) is
   * listed again this often, so CRDs installed later are picked up. Default 60 s.
   */
  readonly crdRecheckMs?: number;
  readonly logger?: Logger;
  /** The API transport (tests); default a `KubeClient` on `kubeconfig`. */
  readonly transport?: KubeTransport;
}


export interface KubeSourceHealth extends SourceHealth {
  readonly watches: readonly KubeWatchHealth[];
}

/** The Kubernetes API as a `Source`. */
export class KubernetesSource implements Source {
  readonly #options: KubernetesSourceOptions;
  readonly #settings: WatchSettings;
  readonly #log: Logger;
  readonly #kinds: readonly Kind[];
  #transport: KubeTransport | undefined;
  #ownClient: KubeClient | undefined;
  #abort = new AbortController();
  #loops: WatchLoop[] = [];
  #stores = new Map<Kind, KindStore>();
  #started = false;
  /** CRD kinds whose list answers 404 now. */
  readonly #absent = new Map<Kind, string>();
  #stopping: Promise<void> | undefined;

  constructor(options: KubernetesSourceOptions) {
    const kinds = options.kinds ?? ROUTING_KINDS;
    for (const k of kinds) if (!KINDS.includes(k)) throw new TypeError(`KubernetesSource: unknown kind ${String(k)} (one of ${KINDS.join(', ')})`);
    const positive = (name: string, v: number | undefined, dflt: number): number => {
      const n = v ?? dflt;
      if (!Number.isFinite(n) || n <= 0) throw new TypeError(`KubernetesSource: ${name} must be a positive number of milliseconds, got ${String(v)}`);
      return n;
    };
    const watchdogMs = positive('watchdogMs', options.watchdogMs, 90_000);
    if (options.watchTimeoutSeconds !== undefined && !(Number.isInteger(options.watchTimeoutSeconds) && options.watchTimeoutSeconds > 0)) {
      throw new TypeError(`KubernetesSource: watchTimeoutSeconds must be a positive integer, got ${String(options.watchTimeoutSeconds)}`);
    }
    for (const ns of options.namespaces) {
      if (!isDnsLabel(ns)) throw new TypeError(`KubernetesSource: invalid namespace name ${JSON.stringify(ns)}`);
    }
    this.#options = options;
    this.#kinds = [...new Set(kinds)];
    this.#log = options.logger ?? silentLogger;
    this.#settings = {
      relistIntervalMs: positive('relistIntervalMs', options.relistIntervalMs, 5 * 60_000),
      watchdogMs,
      watchTimeoutSeconds: options.watchTimeoutSeconds,
      backoffInitialMs: positive('backoff.initialMs', options.backoff?.initialMs, 200),
      backoffMaxMs: positive('backoff.maxMs', options.backoff?.maxMs, 10_000),
      listTimeoutMs: positive('listTimeoutMs', options.listTimeoutMs, 60_000),
      unhealthyAfterMs: positive('unhealthyAfterMs', options.unhealthyAfterMs, 60_000),
      crdRecheckMs: positive('crdRecheckMs', options.crdRecheckMs, 60_000),
    };
    this.#transport = options.transport;
  }

  async start(sink: SourceSink): Promise<void> {
    if (this.#started) throw new Error('KubernetesSource: start() called twice');
    this.#started = true;
    if (!this.#transport) {
      this.#ownClient = await KubeClient.create(this.#options.kubeconfig !== undefined ? { kubeconfig: this.#options.kubeconfig } : {});
      this.#transport = this.#ownClient;
    }
    const transport = this.#transport;
    const send = (events: SourceEvent[]) => {
      try {
        sink(events);
      } catch (err) {
        this.#log.error('kubernetes source: the sink threw', { error: errorMessage(err) });
      }
    };
    const pending = new Set<Kind>(this.#kinds);
    let resolveSynced!: () => void;
    const synced = new Promise<void>((res) => (resolveSynced = res));
    const onFirstReplace = (kind: Kind) => {
      pending.delete(kind);
      if (pending.size === 0) resolveSynced();
    };
    const namespaces = [...new Set(this.#options.namespaces)];
    for (const kind of this.#kinds) {
      const only = this.#options.selectors?.[kind]?.namespace;
      const parts = only !== undefined ? [only] : isClusterScoped(kind) || namespaces.length === 0 ? [undefined] : namespaces;
      const store = new KindStore(kind, parts.map((p) => p ?? ''), send, onFirstReplace);
      this.#stores.set(kind, store);
      for (const ns of parts) {
        this.#loops.push(new WatchLoop(kind, ns, this.#options.selectors?.[kind], store, transport, this.#settings, send, this.#log, this.#abort.signal, this.#absence));
      }
    }
    if (this.#kinds.length === 0) resolveSynced();
    // Each loop waits on the source's signal once at a time (a list, a watch or a backoff), and start() once:
    // not a leak, however many kinds and namespaces there are.
    setMaxListeners(Math.max(10, this.#loops.length + 4), this.#abort.signal);
    for (const loop of this.#loops) loop.start();

    const startTimeoutMs = this.#options.startTimeoutMs ?? 120_000;
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      synced.then(() => 'synced' as const),
      new Promise<'timeout'>((res) => (timer = setTimeout(() => res('timeout'), startTimeoutMs))),
      new Promise<'stopped'>((res) => {
        if (this.#abort.signal.aborted) res('stopped');
        else this.#abort.signal.addEventListener('abort', () => res('stopped'), { once: true });
      }),
    ]);
    clearTimeout(timer);
    if (outcome === 'synced') {
      this.#log.info('kubernetes source: every kind listed', { kinds: this.#kinds, namespaces });
      return;
    }
    if (outcome === 'stopped') throw new Error('KubernetesSource: stopped before every kind was listed');
    const missing = this.#loops
      .filter((l) => !this.#stores.get(l.kind)?.replaced)
      .map((l) => `${l.name}${l.lastError ? `: ${l.lastError}` : ' (no answer yet)'}`);
    await this.stop();
    throw new Error(`KubernetesSource: not every kind was listed within ${startTimeoutMs} ms:\n  ${missing.join('\n  ')}`);
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#abort.abort();
      await Promise.all(this.#loops.map((l) => l.done()));
      this.#ownClient?.close();
      this.#log.info('kubernetes source: stopped', {});
    })();
    return this.#stopping;
  }

  /**
   * One log line when the first CRD kind turns out not to be served (the
   * others of its group are then not served either), and one when they are
   * all back; a kind per namespace counts once.
   */
  readonly #absence = (kind: Kind, absent: boolean, detail: string): void => {
    const before = this.#absent.size;
    if (absent) {
      if (this.#absent.has(kind)) return;
      this.#absent.set(kind, detail);
      if (before === 0) {
        this.#log.warn(`kubernetes source: the Gateway API CRDs are not installed (${detail}); serving Ingresses, and the Gateway API kinds are listed again every ${interval(this.#settings.crdRecheckMs)}`, { kind });
      }
      return;
    }
    if (this.#loops.some((l) => l.kind === kind && l.absentBecause !== undefined)) return;
    if (!this.#absent.delete(kind)) return;
    this.#log.info(`kubernetes source: ${kind} is served now (${detail}): watching it`, { kind });
  };

  health(): KubeSourceHealth {
    const now = Date.now();
    const synced = this.#kinds.every((k) => this.#stores.get(k)?.replaced === true);
    const stopped = this.#abort.signal.aborted;
    return {
      synced,
      healthy: this.#started && !stopped && this.#loops.every((l) => l.healthy(now)),
      watches: this.#loops.map((l) => l.health(now)),
      ...(this.#absent.size > 0
        ? { notes: [`Gateway API CRDs not installed: ${KINDS.filter((k) => this.#absent.has(k)).join(', ')} not watched (their lists answer 404); listed again every ${interval(this.#settings.crdRecheckMs)}; Ingresses are served`] }
        : {}),
    };
  }
}

