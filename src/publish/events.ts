// Kubernetes Events for build problems (core/v1 `events`, what
// `kubectl describe ingress` shows). The leader posts them.
//
// - One Event per problem: a problem seen by the previous publish is not
//   posted again. One that disappears and comes back within `rememberMs`
//   raises the count of the Event it had (count + 1, lastTimestamp), as
//   client-go's correlator does, so a problem that flaps cannot fill the
//   API server with Events. A problem that persists is refreshed the same
//   way every `refreshAfterMs`, so it outlives the API server's event TTL
//   (1 h by default).
// - Bounded: at most `ratePerSecond` writes per second (a token bucket); over
//   that, problems are dropped with one log line per publish and tried again
//   on the next publish. Each write is bounded by `timeoutMs`.
// - Fair: at most `maxPerObject` Events per object (its first problems, then
//   one saying how many more there are, all of them in the log), and under
//   the rate limit every object's first problem goes before any object's
//   second, so one object with thousands of problems cannot hold back the
//   Events of every other for minutes.
// - Never throws for an API failure: it logs, and the problem is tried again
//   on the next publish.

import { hostname } from 'node:os';
import type { BuildResult, Problem, ProblemKind } from '../model/model.js';
import type { KubeTransport } from '../kube/client.js';
import { KubeApiError, errorMessage } from '../kube/errors.js';
import type { Logger } from '../observe/logger.js';
import { silentLogger } from '../observe/logger.js';
import { isRecord } from '../kube/json.js';
import { KIND_INFO } from '../kube/kinds.js';
import { kubeTime } from '../kube/time.js';

/** A problem, with the Event reason when the builder gave one. */
export type EventProblem = Problem & { readonly reason?: string };

export interface KubeEventsOptions {
  readonly transport: KubeTransport;
  /** `reportingComponent` and `source.component`. Default `ats-ingress`. */
  readonly component?: string;
  /** `reportingInstance` and `source.host`: this pod's name. Default: hostname. */
  readonly instance?: string;
  /** The uid of an object from the cache, so the Event links to that very object. */
  readonly uidOf?: (kind: ProblemKind, namespace: string, name: string) => string | undefined;
  /** Event writes per second at most (token bucket, burst of the same size). Default 50. */
  readonly ratePerSecond?: number;
  /** Writes in flight at once. Default 4. */
  readonly concurrency?: number;
  /** Per write. Default 10 s. */
  readonly timeoutMs?: number;
  /** Events per object at most: the first problems, then one saying how many more. Default 10. */
  readonly maxPerObject?: number;
  /** A problem still present is refreshed after this long. Default 30 min; 0 never. */
  readonly refreshAfterMs?: number;
  /** A problem that comes back within this long raises its old Event's count. Default 1 h (the API server's event TTL). */
  readonly rememberMs?: number;
  /** Gone problems remembered at most (the oldest forgotten first). Default 10,000. */
  readonly maxRemembered?: number;
  readonly logger?: Logger;
  /** For tests. */
  readonly now?: () => number;
}

export interface EventsPublishResult {
  /** New Events created. */
  readonly posted: number;
  /** Existing Events refreshed (count + 1). */
  readonly refreshed: number;
  /** Still present and already posted: nothing written. */
  readonly unchanged: number;
  /** Over the rate: tried again next publish. */
  readonly dropped: number;
  readonly failed: number;
  /** Problems that name no Kubernetes object (`Controller`): logged only. */
  readonly skipped: number;
}

const MAX_MESSAGE = 1024;

/** The identity of a problem for deduplication. */
function eventProblemKey(p: EventProblem): string {
  return JSON.stringify([p.kind, p.namespace, p.name, p.field, reasonOf(p), p.message]);
}

const GENERIC_SEGMENTS = new Set(['name', 'number', 'namespace', 'kind', 'value', 'port']);

function camel(s: string): string {
  return s
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');
}

/**
 * The Event reason: the problem's own when it has a valid one, else
 * `InvalidAnnotation` for annotation fields and `Invalid<Field>` otherwise
 * (`spec.rules[0].host` → `InvalidHost`, `...backend.service.port.number` →
 * `InvalidPortNumber`).
 */
export function reasonOf(p: EventProblem): string {
  if (p.reason && /^[A-Z][A-Za-z0-9]{0,127}$/.test(p.reason)) return p.reason;
  const field = p.field ?? '';
  if (/^metadata\.annotations\b/.test(field)) return 'InvalidAnnotation';
  const segments = field
    .replace(/\[[^\]]*\]/g, '')
    .split('.')
    .filter(Boolean);
  if (segments.length === 0) return 'Invalid';
  let last = segments[segments.length - 1]!;
  if (GENERIC_SEGMENTS.has(last) && segments.length > 1) last = `${segments[segments.length - 2]!}.${last}`;
  return `Invalid${camel(last)}`.slice(0, 128);
}

/** The Event message: the field at fault and what is wrong with it. */
function messageOf(p: EventProblem): string {
  const text = p.field ? `${p.field}: ${p.message}` : p.message;
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE - 3)}...` : text;
}

interface Posted {
  /** namespace/name of the Event we wrote. */
  readonly namespace: string;
  readonly name: string;
  count: number;
  lastWrite: number;
}

/** Writes Events for problems; one instance per controller (leader). */
export class KubeEventRecorder {
  readonly name = 'kube-events';
  readonly #t: KubeTransport;
  readonly #component: string;
  readonly #instance: string;
  readonly #rate: number;
  readonly #concurrency: number;
  readonly #timeoutMs: number;
  readonly #refreshAfterMs: number;
  readonly #maxPerObject: number;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #uidOf: KubeEventsOptions['uidOf'];
  /** Problems posted and still present: key → the Event written. */
  #posted = new Map<string, Posted>();
  /** Problems posted and gone since, oldest first: key → the Event written. */
  readonly #gone = new Map<string, Posted & { goneAt: number }>();
  readonly #rememberMs: number;
  readonly #maxRemembered: number;
  #tokens: number;
  #tokensAt: number;
  /** The latest problems of each origin. */
  readonly #origins = new Map<string, readonly EventProblem[]>();
  /** Publishes run one after another. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: KubeEventsOptions) {
    this.#t = options.transport;
    this.#component = options.component ?? 'ats-ingress';
    this.#instance = (options.instance ?? hostname()).slice(0, 128);
    this.#rate = options.ratePerSecond ?? 50;
    if (!(this.#rate > 0)) throw new TypeError(`KubeEventRecorder: ratePerSecond must be > 0, got ${String(options.ratePerSecond)}`);
    this.#concurrency = Math.max(1, Math.floor(options.concurrency ?? 4));
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#refreshAfterMs = options.refreshAfterMs ?? 30 * 60_000;
    this.#rememberMs = options.rememberMs ?? 60 * 60_000;
    this.#maxRemembered = Math.max(0, Math.floor(options.maxRemembered ?? 10_000));
    this.#maxPerObject = Math.max(2, Math.floor(options.maxPerObject ?? 10));
    this.#log = options.logger ?? silentLogger;
    this.#now = options.now ?? Date.now;
    this.#uidOf = options.uidOf;
    this.#tokens = this.#rate;
    this.#tokensAt = this.#now();
  }

  /** The `Publisher` shape: events for the result's problems. */
  async publish(result: BuildResult): Promise<void> {
    await this.report('build', result.problems);
  }

  /** Posts Events for the problems that are new since the last call. */
  publishProblems(problems: readonly EventProblem[]): Promise<EventsPublishResult> {
    return this.report('build', problems);
  }

  /**
   * The problems of one origin (the build, the records publisher) are now
   * these: Events are posted for what is new across all origins, and what
   * is gone is forgotten.
   */
  report(origin: string, problems: readonly EventProblem[]): Promise<EventsPublishResult> {
    this.#origins.set(origin, problems);
    const all = [...this.#origins.values()].flat();
    const run = this.#queue.then(() => this.#publish(all));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #take(): boolean {
    const now = this.#now();
    this.#tokens = Math.min(this.#rate, this.#tokens + ((now - this.#tokensAt) / 1000) * this.#rate);
    this.#tokensAt = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  async #publish(problems: readonly EventProblem[]): Promise<EventsPublishResult> {
    // Per object, in a stable order: its first maxPerObject - 1 problems,
    // and one more Event for the rest when there are more.
    const byObject = new Map<string, EventProblem[]>();
    let skipped = 0;
    for (const p of problems) {
      if (p.kind === 'Controller' || !p.name) {
        skipped++;
        continue;
      }
      const object = `${p.kind}\0${p.namespace}\0${p.name}`;
      let list = byObject.get(object);
      if (!list) byObject.set(object, (list = []));
      list.push(p);
    }
    const perObject: Array<Array<[string, EventProblem]>> = [];
    for (const list of byObject.values()) {
      const keyed = new Map<string, EventProblem>();
      for (const p of list) keyed.set(eventProblemKey(p), p);
      let entries = [...keyed].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      if (entries.length > this.#maxPerObject) {
        const first = entries[0]![1];
        const more = entries.length - (this.#maxPerObject - 1);
        const summary: EventProblem = {
          severity: first.severity,
          kind: first.kind,
          namespace: first.namespace,
          name: first.name,
          field: '',
          message: `${more} more problems of this object are not posted as Events (the controller's log has every one); fix the ones above first`,
          reason: 'MoreProblems',
        };
        entries = [...entries.slice(0, this.#maxPerObject - 1), [eventProblemKey(summary), summary]];
      }
      perObject.push(entries);
    }
    // Round robin over objects: every object's first Event before any object's second.
    const current = new Map<string, EventProblem>();
    for (let i = 0; perObject.some((l) => i < l.length); i++) {
      for (const l of perObject) if (i < l.length) current.set(l[i]![0], l[i]![1]);
    }
    const now = this.#now();
    // Gone problems are remembered for a while: when they come back, their Event counts up.
    for (const [key, posted] of this.#posted) {
      if (current.has(key)) continue;
      this.#posted.delete(key);
      this.#remember(key, posted, now);
    }
    for (const [key, gone] of this.#gone) {
      if (now - gone.goneAt < this.#rememberMs && this.#gone.size <= this.#maxRemembered) break;
      this.#gone.delete(key);
    }

    const work: Array<{ key: string; p: EventProblem; refresh?: Posted }> = [];
    let unchanged = 0;
    for (const [key, p] of current) {
      const had = this.#posted.get(key);
      const gone = had ? undefined : this.#gone.get(key);
      if (gone) {
        this.#gone.delete(key);
        work.push({ key, p, refresh: gone });
      } else if (!had) work.push({ key, p });
      else if (this.#refreshAfterMs > 0 && now - had.lastWrite >= this.#refreshAfterMs) work.push({ key, p, refresh: had });
      else unchanged++;
    }

    let posted = 0;
    let refreshed = 0;
    let failed = 0;
    let dropped = 0;
    const admitted: typeof work = [];
    for (const w of work) {
      if (this.#take()) admitted.push(w);
      else {
        dropped++;
        if (w.refresh && !this.#posted.has(w.key)) this.#remember(w.key, w.refresh, now); // still its Event next time
      }
    }
    if (dropped > 0) {
      this.#log.warn('kubernetes events: over the rate limit, dropping (tried again next build)', { dropped, ratePerSecond: this.#rate });
    }
    let next = 0;
    const worker = async () => {
      while (next < admitted.length) {
        const w = admitted[next++]!;
        try {
          if (w.refresh) {
            const ok = await this.#refresh(w.refresh);
            if (ok) {
              this.#posted.set(w.key, w.refresh);
              refreshed++;
              continue;
            }
          }
          this.#posted.set(w.key, await this.#create(w.p));
          posted++;
        } catch (err) {
          failed++;
          if (w.refresh && !this.#posted.has(w.key)) this.#remember(w.key, w.refresh, this.#now());
          this.#log.warn('kubernetes events: cannot write an Event (tried again next build)', {
            object: `${w.p.kind} ${w.p.namespace}/${w.p.name}`,
            reason: reasonOf(w.p),
            error: errorMessage(err),
          });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#concurrency, admitted.length) }, worker));
    return { posted, refreshed, unchanged, dropped, failed, skipped };
  }

  #remember(key: string, posted: Posted, now: number): void {
    if (this.#maxRemembered === 0) return;
    this.#gone.delete(key); // to the end: the newest
    this.#gone.set(key, { namespace: posted.namespace, name: posted.name, count: posted.count, lastWrite: posted.lastWrite, goneAt: now });
  }

  async #create(p: EventProblem): Promise<Posted> {
    const kind = p.kind as Exclude<ProblemKind, 'Controller'>;
    const clusterScoped = KIND_INFO[kind].clusterScoped;
    const namespace = clusterScoped ? 'default' : p.namespace || 'default';
    const uid = this.#uidOf?.(p.kind, p.namespace, p.name);
    const at = new Date(this.#now());
    const involvedObject: Record<string, string> = { apiVersion: KIND_INFO[kind].apiVersion, kind, name: p.name };
    if (!clusterScoped) involvedObject['namespace'] = namespace;
    if (uid) involvedObject['uid'] = uid;
    // generateName: the server adds a random suffix. Event names are DNS subdomains (253).
    const prefix = `${p.name.slice(0, 200)}.`;
    const body = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { generateName: prefix, namespace },
      involvedObject,
      reason: reasonOf(p),
      message: messageOf(p),
      type: 'Warning',
      count: 1,
      firstTimestamp: kubeTime(at),
      lastTimestamp: kubeTime(at),
      source: { component: this.#component, host: this.#instance },
      reportingComponent: this.#component,
      reportingInstance: this.#instance,
      action: 'Build',
    };
    const created = await this.#t.request({
      method: 'POST',
      path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`,
      body,
      timeoutMs: this.#timeoutMs,
    });
    const meta = isRecord(created) && isRecord(created['metadata']) ? created['metadata'] : undefined;
    const name = typeof meta?.['name'] === 'string' ? meta['name'] : undefined;
    if (!name) throw new Error('the API answered the Event create without a name');
    return { namespace, name, count: 1, lastWrite: this.#now() };
  }

  /** count + 1 on the Event we wrote; false when it is gone (expired), so a new one is created. */
  async #refresh(ev: Posted): Promise<boolean> {
    try {
      await this.#t.request({
        method: 'PATCH',
        path: `/api/v1/namespaces/${encodeURIComponent(ev.namespace)}/events/${encodeURIComponent(ev.name)}`,
        body: { count: ev.count + 1, lastTimestamp: kubeTime(new Date(this.#now())) },
        timeoutMs: this.#timeoutMs,
      });
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return false;
      throw err;
    }
    ev.count++;
    ev.lastWrite = this.#now();
    return true;
  }
}
