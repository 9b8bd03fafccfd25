// One list+watch loop of the Kubernetes source: a kind in one namespace, or
// in all. The state machine the source's banner comment describes.

import { collectionPath, KIND_INFO } from '../kube/kinds.js';
import type { KubeTransport, Query, RawWatchEvent } from '../kube/client.js';
import { KubeApiError, errorMessage, statusOf } from '../kube/errors.js';
import { isRecord } from '../kube/json.js';
import { sleep } from '../kube/time.js';
import type { Kind, KubeObject } from '../kube/types.js';
import { TLS_SECRET_TYPE, objectKey } from '../kube/types.js';
import type { Logger } from '../observe/logger.js';
import type { KindStore } from './kind-store.js';
import { normalizeObject, resourceVersionOf } from './normalize.js';
import type { SourceEvent, WatchHealth } from './source.js';

export interface KindSelector {
  readonly fieldSelector?: string;
  readonly labelSelector?: string;
  /** Watch this kind in this namespace only, whatever the source's namespaces (the records ConfigMap). */
  readonly namespace?: string;
}

/** WatchHealth plus what identifies and describes one Kubernetes watch. */
export interface KubeWatchHealth extends WatchHealth {
  /** The namespace this watch covers; absent: all namespaces (or cluster-scoped). */
  readonly namespace?: string;
  /** Why the kind is not watched, while its CRD is not installed. */
  readonly absent?: string;
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


/** `60 s`, or `150 ms` below a second. */
export const interval = (ms: number): string => (ms >= 1_000 ? `${Math.round(ms / 1_000)} s` : `${ms} ms`);

const jitter = (ms: number, fraction: number) => ms * (1 + Math.random() * fraction);

/** Why one watch request ended. */
type WatchEnd = 'closed' | 'gone' | 'watchdog' | 'relist' | 'stopped';

export interface WatchSettings {
  readonly relistIntervalMs: number;
  readonly watchdogMs: number;
  readonly watchTimeoutSeconds: number | undefined;
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
  readonly listTimeoutMs: number;
  readonly unhealthyAfterMs: number;
  /** A kind whose CRD is not installed is listed again this often. */
  readonly crdRecheckMs: number;
}

/** Told when a CRD kind's list starts or stops answering 404 (the source logs it once). */
export type AbsenceListener = (kind: Kind, absent: boolean, detail: string) => void;

/** One list+watch loop: a kind in one namespace, or in all. */
export class WatchLoop {
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
  /** Set while the kind is not served (its CRD is not installed): why. */
  absentBecause: string | undefined;
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
    private readonly settings: WatchSettings,
    private readonly sink: (events: SourceEvent[]) => void,
    private readonly log: Logger,
    private readonly signal: AbortSignal,
    private readonly onAbsence: AbsenceListener = () => undefined,
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
      ...(this.absentBecause !== undefined ? { absent: this.absentBecause } : {}),
      ...(this.resourceVersion !== undefined ? { resourceVersion: this.resourceVersion } : {}),
    };
    return h;
  }

  healthy(now: number): boolean {
    if (this.state === 'stopped') return false;
    if (this.state === 'absent') return true;
    if (this.state === 'watching') return now - this.lastHeard <= this.settings.watchdogMs + Math.min(this.settings.watchdogMs, 5_000);
    return this.downSince === undefined || now - this.downSince <= this.settings.unhealthyAfterMs;
  }

  async run(): Promise<void> {
    while (!this.signal.aborted) {
      let failure: KubeApiError | undefined;
      try {
        this.state = this.absentBecause !== undefined ? 'absent' : 'listing';
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
            this.log.warn('kubernetes watch silent too long: restarting it', { watch: this.name, silentMs: this.settings.watchdogMs, resourceVersion: this.resourceVersion });
            continue;
          }
          break;
        }
        if (end === 'gone') {
          failure = new KubeApiError(`watch ${this.#path}: resourceVersion ${this.resourceVersion ?? ''} is too old (410 Gone)`, 410, 'GONE', 'Expired');
        } else if (end === 'relist') {
          this.log.debug('kubernetes watch: periodic relist', { watch: this.name });
        }
      } catch (err) {
        if (this.signal.aborted) break;
        if (KIND_INFO[this.kind].crd && err instanceof KubeApiError && err.status === 404) {
          await this.absent(err);
          continue;
        }
        failure = err instanceof KubeApiError ? err : new KubeApiError(errorMessage(err), 0, 'ERROR');
      }
      if (failure && !this.signal.aborted) await this.recover(failure);
    }
    this.state = 'stopped';
  }

  /**
   * The kind is not served (its CRD is not installed, or was removed): it
   * has no objects; listed again after crdRecheckMs. Not an error: the
   * controller serves the other kinds.
   */
  private async absent(e: KubeApiError): Promise<void> {
    const first = this.absentBecause === undefined;
    this.absentBecause = `${KIND_INFO[this.kind].plural}.${KIND_INFO[this.kind].apiVersion.split('/')[0] ?? ''} is not served (${e.message}): the CRD is not installed; listed again every ${interval(this.settings.crdRecheckMs)}`;
    this.state = 'absent';
    this.downSince = undefined;
    this.lastError = undefined;
    this.resourceVersion = undefined;
    this.lastHeard = Date.now();
    this.store.listed(this.#part, []);
    if (first) this.onAbsence(this.kind, true, this.absentBecause);
    await sleep(this.settings.crdRecheckMs, this.signal);
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
        this.log.info('kubernetes watch: 410 Gone (resourceVersion too old): relisting', { watch: this.name, error: e.message });
        return;
      }
    }
    const attempt = this.consecutiveErrors++;
    const cap = Math.min(this.settings.backoffMaxMs, this.settings.backoffInitialMs * 2 ** Math.min(attempt, 30));
    const delay = cap / 2 + (Math.random() * cap) / 2;
    this.state = 'backoff';
    this.log[e.status === 401 || e.status === 403 ? 'error' : 'warn']('kubernetes watch failed: retrying after backoff', {
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
        query: { ...this.#baseQuery, limit: KIND_INFO[this.kind].listLimit, continue: cont },
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
    if (this.absentBecause !== undefined) {
      this.absentBecause = undefined;
      this.state = 'listing';
      this.onAbsence(this.kind, false, `${this.#path} is served`);
    }
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
            this.log.warn('kubernetes watch: ignoring an object that is not a valid ' + this.kind, { watch: this.name });
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
          this.log.debug('kubernetes watch: unknown event type', { watch: this.name, type: ev.type });
      }
    }
    return { events };
  }
}
