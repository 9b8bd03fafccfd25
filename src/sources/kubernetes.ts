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

import type { Kind, KubeObject } from '../cache/k8s-types.js';
import { KINDS, TLS_SECRET_TYPE, isClusterScoped, objectKey } from '../cache/k8s-types.js';
import type { Source, SourceEvent, SourceHealth, SourceSink, WatchHealth } from './source.js';
import type { KubeTransport, LogFn, Query, RawWatchEvent } from './kube-client.js';
import { KubeApiError, KubeClient, errorMessage, isRecord, noLog, sleep, statusOf } from './kube-client.js';

export interface BackoffOptions {
  /** First delay after an error. Default 200 ms. */
  readonly initialMs?: number;
  /** Cap. Default 10 s. */
  readonly maxMs?: number;
}

export interface KindSelector {
  readonly fieldSelector?: string;
  readonly labelSelector?: string;
}

export interface KubernetesSourceOptions {
  /** A kubeconfig file; absent: in-cluster. Ignored when `transport` is given. */
  readonly kubeconfig?: string;
  /** Empty: all namespaces. Namespaced kinds get one watch per namespace; IngressClass is cluster-scoped. */
  readonly namespaces: readonly string[];
  /** Default: all six kinds. */
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
  readonly logger?: LogFn;
  /** The API transport (tests); default a `KubeClient` on `kubeconfig`. */
  readonly transport?: KubeTransport;
}

/** WatchHealth plus what identifies and describes one Kubernetes watch. */
export interface KubeWatchHealth extends WatchHealth {
  /** The namespace this watch covers; absent: all namespaces (or cluster-scoped). */
  readonly namespace?: string;
  /** Lists done (the first one included). */
  readonly lists: number;
  /** Relists because of a 410 Gone. */
  readonly goneRelists: number;
  /** Watches dropped by the watchdog. */
  readonly watchdogRestarts: number;
  /** Bookmarks received (the server sends one shortly before it ends a watch). */
  readonly bookmarks: number;
  /** Watches the server ended normally (timeoutSeconds) and that were resumed. */
  readonly resumes: number;
  /** Errors (other than 410) since the last good watch. */
  readonly consecutiveErrors: number;
  readonly resourceVersion?: string;
}

export interface KubeSourceHealth extends SourceHealth {
  readonly watches: readonly KubeWatchHealth[];
}

interface KindApi {
  readonly apiVersion: string;
  /** Path prefix: `/api/v1` or `/apis/GROUP/VERSION`. */
  readonly prefix: string;
  readonly plural: string;
  /** Page size of a list. */
  readonly limit: number;
}

const KIND_API: Readonly<Record<Kind, KindApi>> = {
  Ingress: { apiVersion: 'networking.k8s.io/v1', prefix: '/apis/networking.k8s.io/v1', plural: 'ingresses', limit: 500 },
  IngressClass: { apiVersion: 'networking.k8s.io/v1', prefix: '/apis/networking.k8s.io/v1', plural: 'ingressclasses', limit: 500 },
  Service: { apiVersion: 'v1', prefix: '/api/v1', plural: 'services', limit: 500 },
  EndpointSlice: { apiVersion: 'discovery.k8s.io/v1', prefix: '/apis/discovery.k8s.io/v1', plural: 'endpointslices', limit: 500 },
  Secret: { apiVersion: 'v1', prefix: '/api/v1', plural: 'secrets', limit: 100 },
  ConfigMap: { apiVersion: 'v1', prefix: '/api/v1', plural: 'configmaps', limit: 500 },
};

/** The API path of a kind's collection, in one namespace or across all. */
export function collectionPath(kind: Kind, namespace?: string): string {
  const api = KIND_API[kind];
  return namespace && !isClusterScoped(kind) ? `${api.prefix}/namespaces/${encodeURIComponent(namespace)}/${api.plural}` : `${api.prefix}/${api.plural}`;
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * Turns an object from a list or a watch into what the cache holds: plain
 * JSON with apiVersion and kind set, without managedFields and without
 * kubectl's last-applied copy of the whole object. Undefined when it is not a
 * usable object of that kind (or a Secret that is not a TLS one).
 */
export function normalizeObject(kind: Kind, raw: unknown): KubeObject | undefined {
  if (!isRecord(raw)) return undefined;
  const meta = raw['metadata'];
  if (!isRecord(meta) || typeof meta['name'] !== 'string' || !meta['name']) return undefined;
  if (raw['kind'] !== undefined && raw['kind'] !== kind) return undefined;
  if (kind === 'Secret' && raw['type'] !== TLS_SECRET_TYPE) return undefined;
  delete meta['managedFields'];
  const ann = meta['annotations'];
  if (isRecord(ann) && LAST_APPLIED in ann) {
    delete ann[LAST_APPLIED];
    if (Object.keys(ann).length === 0) delete meta['annotations'];
  }
  raw['apiVersion'] = KIND_API[kind].apiVersion;
  raw['kind'] = kind;
  // Checked above: a record with metadata.name and the right kind. The rest
  // of the shape is the API's (the builder checks every field it reads).
  return raw as unknown as KubeObject;
}

function resourceVersionOf(raw: unknown): string | undefined {
  if (!isRecord(raw)) return undefined;
  const meta = raw['metadata'];
  if (!isRecord(meta)) return undefined;
  const rv = meta['resourceVersion'];
  return typeof rv === 'string' && rv ? rv : undefined;
}

const jitter = (ms: number, fraction: number) => ms * (1 + Math.random() * fraction);

/** Why one watch request ended. */
type WatchEnd = 'closed' | 'gone' | 'watchdog' | 'relist' | 'stopped';

/** The objects of one kind, per watch, and whether the kind's first 'replace' went out. */
class KindStore {
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

interface Settings {
  readonly relistIntervalMs: number;
  readonly watchdogMs: number;
  readonly watchTimeoutSeconds: number | undefined;
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
  readonly listTimeoutMs: number;
  readonly unhealthyAfterMs: number;
}

/** One list+watch loop: a kind in one namespace, or in all. */
class WatchLoop {
  state: WatchHealth['state'] = 'listing';
  restarts = 0;
  lists = 0;
  goneRelists = 0;
  watchdogRestarts = 0;
  bookmarks = 0;
  resumes = 0;
  consecutiveErrors = 0;
  /** 410s since the last watch that delivered: a few relist at once, more back off. */
  consecutiveGone = 0;
  lastError: string | undefined;
  lastHeard = Date.now();
  /** When this loop last lost (or had not yet) a working watch; undefined while watching. */
  downSince: number | undefined = Date.now();
  resourceVersion: string | undefined;
  #done: Promise<void> | undefined;
  readonly #path: string;
  readonly #baseQuery: Query;
  readonly #part: string;

  constructor(
    readonly kind: Kind,
    readonly namespace: string | undefined,
    selector: KindSelector | undefined,
    private readonly store: KindStore,
    private readonly transport: KubeTransport,
    private readonly settings: Settings,
    private readonly sink: (events: SourceEvent[]) => void,
    private readonly log: LogFn,
    private readonly signal: AbortSignal,
  ) {
    this.#path = collectionPath(kind, namespace);
    this.#part = namespace ?? '';
    const fields = [selector?.fieldSelector, kind === 'Secret' ? `type=${TLS_SECRET_TYPE}` : undefined].filter((s): s is string => !!s);
    this.#baseQuery = {
      fieldSelector: fields.length ? fields.join(',') : undefined,
      labelSelector: selector?.labelSelector || undefined,
    };
  }

  get name(): string {
    return this.namespace ? `${this.kind} in ${this.namespace}` : this.kind;
  }

  start(): void {
    // Owned: run() never rejects (it catches everything), and stop() awaits it.
    this.#done = this.run();
  }

  /** Resolves once the loop has ended (after the source's signal aborted). */
  done(): Promise<void> {
    return this.#done ?? Promise.resolve();
  }

  health(now: number): KubeWatchHealth {
    const h: KubeWatchHealth = {
      kind: this.kind,
      state: this.state,
      restarts: this.restarts,
      sinceLastEventMs: Math.max(0, now - this.lastHeard),
      lists: this.lists,
      goneRelists: this.goneRelists,
      watchdogRestarts: this.watchdogRestarts,
      bookmarks: this.bookmarks,
      resumes: this.resumes,
      consecutiveErrors: this.consecutiveErrors,
      ...(this.namespace !== undefined ? { namespace: this.namespace } : {}),
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}),
      ...(this.resourceVersion !== undefined ? { resourceVersion: this.resourceVersion } : {}),
    };
    return h;
  }

  healthy(now: number): boolean {
    if (this.state === 'stopped') return false;
    if (this.state === 'watching') return now - this.lastHeard <= this.settings.watchdogMs + Math.min(this.settings.watchdogMs, 5_000);
    return this.downSince === undefined || now - this.downSince <= this.settings.unhealthyAfterMs;
  }

  async run(): Promise<void> {
    while (!this.signal.aborted) {
      let failure: KubeApiError | undefined;
      try {
        this.state = 'listing';
        await this.list();
        const relistAt = Date.now() + jitter(this.settings.relistIntervalMs, 0.1);
        let end: WatchEnd = 'closed';
        while (!this.signal.aborted) {
          end = await this.watchOnce(relistAt);
          if (end === 'closed') {
            this.resumes++;
            continue;
          }
          if (end === 'watchdog') {
            this.restarts++;
            this.watchdogRestarts++;
            this.log('warn', 'kubernetes watch silent too long: restarting it', { watch: this.name, silentMs: this.settings.watchdogMs, resourceVersion: this.resourceVersion });
            continue;
          }
          break;
        }
        if (end === 'gone') {
          failure = new KubeApiError(`watch ${this.#path}: resourceVersion ${this.resourceVersion ?? ''} is too old (410 Gone)`, 410, 'GONE', 'Expired');
        } else if (end === 'relist') {
          this.log('debug', 'kubernetes watch: periodic relist', { watch: this.name });
        }
      } catch (err) {
        if (this.signal.aborted) break;
        failure = err instanceof KubeApiError ? err : new KubeApiError(errorMessage(err), 0, 'ERROR');
      }
      if (failure && !this.signal.aborted) await this.recover(failure);
    }
    this.state = 'stopped';
  }

  /**
   * After a failure: a 410 (watch or list) relists at once, unless 410s keep
   * coming without a working watch in between (then it backs off like any
   * other error); any other error backs off, jittered and growing.
   */
  private async recover(e: KubeApiError): Promise<void> {
    this.restarts++;
    this.downSince ??= Date.now();
    this.lastError = e.message;
    if (e.gone) {
      this.goneRelists++;
      if (this.consecutiveGone++ < 3) {
        this.log('info', 'kubernetes watch: 410 Gone (resourceVersion too old): relisting', { watch: this.name, error: e.message });
        return;
      }
    }
    const attempt = this.consecutiveErrors++;
    const cap = Math.min(this.settings.backoffMaxMs, this.settings.backoffInitialMs * 2 ** Math.min(attempt, 30));
    const delay = cap / 2 + (Math.random() * cap) / 2;
    this.state = 'backoff';
    this.log(e.status === 401 || e.status === 403 ? 'error' : 'warn', 'kubernetes watch failed: retrying after backoff', {
      watch: this.name,
      error: e.message,
      status: e.status,
      code: e.code,
      attempt: attempt + 1,
      backoffMs: Math.round(delay),
    });
    await sleep(delay, this.signal);
  }

  /** Lists every page; hands the objects to the store (which sends the kind's 'replace'). */
  private async list(): Promise<void> {
    const objects: KubeObject[] = [];
    let cont: string | undefined;
    let rv: string | undefined;
    do {
      const page = await this.transport.request({
        method: 'GET',
        path: this.#path,
        query: { ...this.#baseQuery, limit: KIND_API[this.kind].limit, continue: cont },
        timeoutMs: this.settings.listTimeoutMs,
        signal: this.signal,
        fresh: true,
      });
      if (!isRecord(page) || !Array.isArray(page['items'])) throw new KubeApiError(`list ${this.#path}: the answer is not a list`, 0, 'BAD_LIST');
      const meta = isRecord(page['metadata']) ? page['metadata'] : {};
      rv ??= typeof meta['resourceVersion'] === 'string' ? meta['resourceVersion'] : undefined;
      for (const item of page['items'] as unknown[]) {
        const o = normalizeObject(this.kind, item);
        if (o) objects.push(o);
      }
      cont = typeof meta['continue'] === 'string' && meta['continue'] ? meta['continue'] : undefined;
    } while (cont && !this.signal.aborted);
    if (this.signal.aborted) return;
    if (!rv) throw new KubeApiError(`list ${this.#path}: the answer has no resourceVersion`, 0, 'BAD_LIST');
    this.resourceVersion = rv;
    this.lists++;
    this.lastHeard = Date.now();
    this.store.listed(this.#part, objects);
  }

  /** One watch request from this.resourceVersion; says why it ended. Throws on errors that need a backoff. */
  private async watchOnce(relistAt: number): Promise<WatchEnd> {
    const ctrl = new AbortController();
    const onStop = () => ctrl.abort();
    this.signal.addEventListener('abort', onStop, { once: true });
    let why: WatchEnd | undefined;
    let failure: KubeApiError | undefined;
    const started = Date.now();
    let events = 0;
    const s = this.settings;
    const check = setInterval(
      () => {
        const now = Date.now();
        // Silent: nothing heard since this watch began (a hung connect counts) or since its last event.
        if (now - Math.max(this.lastHeard, started) > s.watchdogMs) why ??= 'watchdog';
        else if (now >= relistAt) why ??= 'relist';
        else return;
        ctrl.abort();
      },
      Math.max(50, Math.min(1_000, s.watchdogMs / 4, s.relistIntervalMs / 4)),
    );
    const timeoutSeconds = s.watchTimeoutSeconds ?? Math.max(1, Math.floor((s.watchdogMs / 1000) * (0.5 + Math.random() * 0.25)));
    try {
      await this.transport.watch({
        path: this.#path,
        query: { ...this.#baseQuery, resourceVersion: this.resourceVersion, allowWatchBookmarks: true, timeoutSeconds },
        signal: ctrl.signal,
        headersTimeoutMs: Math.min(30_000, s.watchdogMs),
        onOpen: () => {
          this.lastHeard = Date.now();
          this.state = 'watching';
          this.downSince = undefined;
        },
        onEvents: (raw) => {
          if (why || failure) return;
          this.lastHeard = Date.now();
          events += raw.length;
          const out = this.apply(raw);
          if (out.error) {
            if (out.error.gone) why = 'gone';
            else failure = out.error;
            ctrl.abort();
          } else {
            // A watch that delivers is a good watch: the next error starts a fresh backoff.
            this.consecutiveErrors = 0;
            this.consecutiveGone = 0;
          }
          if (out.events.length) this.sink(out.events);
        },
      });
    } catch (err) {
      if (this.signal.aborted) return 'stopped';
      if (why) return why;
      if (failure) throw failure;
      if (err instanceof KubeApiError && err.gone) return 'gone';
      throw err;
    } finally {
      clearInterval(check);
      this.signal.removeEventListener('abort', onStop);
    }
    if (this.signal.aborted) return 'stopped';
    if (why) return why;
    if (failure) throw failure;
    // The server ended the watch. Quietly and long before timeoutSeconds is not normal: back off.
    if (events === 0 && Date.now() - started < Math.min(1_000, timeoutSeconds * 500)) {
      throw new KubeApiError(`watch ${this.#path}: the server closed the watch at once`, 0, 'WATCH_CLOSED');
    }
    this.consecutiveErrors = 0;
    this.consecutiveGone = 0;
    return 'closed';
  }

  /** Applies watch events to the store; returns what the sink gets, or the error an ERROR event carried. */
  private apply(raw: readonly RawWatchEvent[]): { events: SourceEvent[]; error?: KubeApiError } {
    const events: SourceEvent[] = [];
    for (const ev of raw) {
      switch (ev.type) {
        case 'ADDED':
        case 'MODIFIED': {
          const rv = resourceVersionOf(ev.object);
          const o = normalizeObject(this.kind, ev.object);
          if (o) {
            const out = this.store.upsert(this.#part, o);
            if (out) events.push(out);
          } else {
            this.log('warn', 'kubernetes watch: ignoring an object that is not a valid ' + this.kind, { watch: this.name });
          }
          if (rv) this.resourceVersion = rv;
          break;
        }
        case 'DELETED': {
          const rv = resourceVersionOf(ev.object);
          const o = normalizeObject(this.kind, ev.object);
          if (o) {
            const out = this.store.remove(this.#part, objectKey(o));
            if (out) events.push(out);
          }
          if (rv) this.resourceVersion = rv;
          break;
        }
        case 'BOOKMARK': {
          this.bookmarks++;
          const rv = resourceVersionOf(ev.object);
          if (rv) this.resourceVersion = rv;
          break;
        }
        case 'ERROR': {
          const st = statusOf(ev.object);
          const code = st?.code ?? 0;
          const reason = st?.reason;
          return {
            events,
            error: new KubeApiError(`watch ${this.#path}: ERROR event: ${code}${reason ? ` ${reason}` : ''}: ${st?.message ?? JSON.stringify(ev.object)}`, code, `WATCH_${code}`, reason),
          };
        }
        default:
          this.log('debug', 'kubernetes watch: unknown event type', { watch: this.name, type: ev.type });
      }
    }
    return { events };
  }
}

/** The Kubernetes API as a `Source`. */
export class KubernetesSource implements Source {
  readonly #options: KubernetesSourceOptions;
  readonly #settings: Settings;
  readonly #log: LogFn;
  readonly #kinds: readonly Kind[];
  #transport: KubeTransport | undefined;
  #ownClient: KubeClient | undefined;
  #abort = new AbortController();
  #loops: WatchLoop[] = [];
  #stores = new Map<Kind, KindStore>();
  #started = false;
  #stopping: Promise<void> | undefined;

  constructor(options: KubernetesSourceOptions) {
    const kinds = options.kinds ?? KINDS;
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
      if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(ns) || ns.length > 63) throw new TypeError(`KubernetesSource: invalid namespace name ${JSON.stringify(ns)}`);
    }
    this.#options = options;
    this.#kinds = [...new Set(kinds)];
    this.#log = options.logger ?? noLog;
    this.#settings = {
      relistIntervalMs: positive('relistIntervalMs', options.relistIntervalMs, 5 * 60_000),
      watchdogMs,
      watchTimeoutSeconds: options.watchTimeoutSeconds,
      backoffInitialMs: positive('backoff.initialMs', options.backoff?.initialMs, 200),
      backoffMaxMs: positive('backoff.maxMs', options.backoff?.maxMs, 10_000),
      listTimeoutMs: positive('listTimeoutMs', options.listTimeoutMs, 60_000),
      unhealthyAfterMs: positive('unhealthyAfterMs', options.unhealthyAfterMs, 60_000),
    };
    this.#transport = options.transport;
  }

  async start(sink: SourceSink): Promise<void> {
    if (this.#started) throw new Error('KubernetesSource: start() called twice');
    this.#started = true;
    if (!this.#transport) {
      this.#ownClient = new KubeClient(this.#options.kubeconfig !== undefined ? { kubeconfig: this.#options.kubeconfig } : {});
      this.#transport = this.#ownClient;
    }
    const transport = this.#transport;
    const send = (events: SourceEvent[]) => {
      try {
        sink(events);
      } catch (err) {
        this.#log('error', 'kubernetes source: the sink threw', { error: errorMessage(err) });
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
      const parts = isClusterScoped(kind) || namespaces.length === 0 ? [undefined] : namespaces;
      const store = new KindStore(kind, parts.map((p) => p ?? ''), send, onFirstReplace);
      this.#stores.set(kind, store);
      for (const ns of parts) {
        this.#loops.push(new WatchLoop(kind, ns, this.#options.selectors?.[kind], store, transport, this.#settings, send, this.#log, this.#abort.signal));
      }
    }
    if (this.#kinds.length === 0) resolveSynced();
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
      this.#log('info', 'kubernetes source: every kind listed', { kinds: this.#kinds, namespaces });
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
      this.#log('info', 'kubernetes source: stopped', {});
    })();
    return this.#stopping;
  }

  health(): KubeSourceHealth {
    const now = Date.now();
    const synced = this.#kinds.every((k) => this.#stores.get(k)?.replaced === true);
    const stopped = this.#abort.signal.aborted;
    return {
      synced,
      healthy: this.#started && !stopped && this.#loops.every((l) => l.healthy(now)),
      watches: this.#loops.map((l) => l.health(now)),
    };
  }
}
