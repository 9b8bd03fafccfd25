// Leader election on a coordination.k8s.io/v1 Lease, as client-go does it:
// read the Lease; create it on 404; take it when it is free (no holder) or
// when the holder has not renewed it for leaseDuration by OUR clock (the time
// we first saw its current record, not the renewTime it wrote, so clock skew
// between pods does not matter); replace it with the resourceVersion we read,
// so a 409 means someone else won. The leader renews every retryPeriod and
// gives up when it could not renew for renewDeadline. stop() releases the
// Lease (no holder, leaseDurationSeconds 1) so another replica takes over at
// its next retry instead of after the lease duration.

import { hostname } from 'node:os';
import type { Logger } from '../observe/logger.js';
import { silentLogger } from '../observe/logger.js';
import type { KubeTransport } from './client.js';
import { KubeApiError, errorMessage } from './errors.js';
import { isRecord } from './json.js';
import { microTime, sleep } from './time.js';

export interface LeaderElectorOptions {
  readonly transport: KubeTransport;
  readonly namespace: string;
  readonly name: string;
  /** Default: hostname (the pod name in a pod) + `_` + pid. */
  readonly identity?: string;
  /** Default 15 s. */
  readonly leaseDurationMs?: number;
  /** The leader steps down when it could not renew for this long. Default 10 s. */
  readonly renewDeadlineMs?: number;
  /** Between attempts (candidates wait up to 20 % more, jittered). Default 2 s. */
  readonly retryPeriodMs?: number;
  /** Per API call. Default min(5 s, renewDeadlineMs / 2). */
  readonly requestTimeoutMs?: number;
  readonly logger?: Logger;
}

export interface LeaseRecord {
  readonly holderIdentity: string;
  readonly leaseDurationSeconds: number;
  readonly acquireTime?: string;
  readonly renewTime?: string;
  readonly leaseTransitions: number;
}

interface LeaseObject {
  readonly resourceVersion: string;
  readonly record: LeaseRecord;
}

function parseLease(v: unknown): LeaseObject {
  if (!isRecord(v) || !isRecord(v['metadata'])) throw new Error('the API answered with something that is not a Lease');
  const rv = v['metadata']['resourceVersion'];
  if (typeof rv !== 'string') throw new Error('the Lease has no resourceVersion');
  const spec = isRecord(v['spec']) ? v['spec'] : {};
  const str = (k: string) => (typeof spec[k] === 'string' ? (spec[k] as string) : undefined);
  const num = (k: string) => (typeof spec[k] === 'number' ? (spec[k] as number) : 0);
  const record: LeaseRecord = {
    holderIdentity: str('holderIdentity') ?? '',
    leaseDurationSeconds: num('leaseDurationSeconds'),
    leaseTransitions: num('leaseTransitions'),
    ...(str('acquireTime') !== undefined ? { acquireTime: str('acquireTime')! } : {}),
    ...(str('renewTime') !== undefined ? { renewTime: str('renewTime')! } : {}),
  };
  return { resourceVersion: rv, record };
}

type Attempt = 'acquired' | 'renewed' | 'held' | 'lost' | 'failed';

export class LeaderElector {
  readonly identity: string;
  readonly #t: KubeTransport;
  readonly #path: string;
  readonly #name: string;
  readonly #collection: string;
  readonly #leaseMs: number;
  readonly #renewDeadlineMs: number;
  readonly #retryMs: number;
  readonly #requestTimeoutMs: number;
  readonly #log: Logger;
  readonly #listeners = new Set<(leading: boolean) => void>();
  readonly #abort = new AbortController();
  #leading = false;
  #lastRenew = 0;
  /** The last Lease we read or wrote, and when (our clock) its record last changed. */
  #observed: LeaseObject | undefined;
  #observedKey = '';
  #observedAt = 0;
  #loop: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  #holder: string | undefined;

  constructor(options: LeaderElectorOptions) {
    this.#t = options.transport;
    this.identity = options.identity ?? `${hostname()}_${process.pid}`;
    if (!this.identity) throw new TypeError('LeaderElector: identity must not be empty');
    this.#leaseMs = options.leaseDurationMs ?? 15_000;
    this.#renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.#retryMs = options.retryPeriodMs ?? 2_000;
    if (!(this.#leaseMs > this.#renewDeadlineMs)) throw new TypeError('LeaderElector: leaseDurationMs must be greater than renewDeadlineMs');
    if (!(this.#renewDeadlineMs > this.#retryMs * 1.2)) throw new TypeError('LeaderElector: renewDeadlineMs must be greater than 1.2 × retryPeriodMs');
    if (this.#leaseMs < 1000) throw new TypeError('LeaderElector: leaseDurationMs must be at least 1000 (the Lease holds whole seconds)');
    this.#requestTimeoutMs = options.requestTimeoutMs ?? Math.min(5_000, this.#renewDeadlineMs / 2);
    this.#log = options.logger ?? silentLogger;
    this.#name = options.name;
    const ns = encodeURIComponent(options.namespace);
    this.#collection = `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`;
    this.#path = `${this.#collection}/${encodeURIComponent(options.name)}`;
  }

  /** Starts campaigning. The loop is owned: stop() ends it and awaits it. */
  start(): void {
    if (this.#loop) throw new Error('LeaderElector: start() called twice');
    if (this.#abort.signal.aborted) throw new Error('LeaderElector: start() after stop()');
    this.#loop = this.#run();
  }

  /** True while we hold the Lease and renewed it less than renewDeadline ago. */
  isLeader(): boolean {
    return this.#leading && Date.now() - this.#lastRenew < this.#renewDeadlineMs;
  }

  /** The holder we last saw (ourselves included); undefined before the first read or when free. */
  currentHolder(): string | undefined {
    return this.#holder;
  }

  /** Called with true on becoming leader and false on losing it (or on stop). Returns an unsubscribe function. */
  onChange(cb: (leading: boolean) => void): () => void {
    this.#listeners.add(cb);
    return () => this.#listeners.delete(cb);
  }

  /** Stops campaigning; a leader releases the Lease first (unless release is false). Bounded by the request timeout. */
  stop(options: { release?: boolean } = {}): Promise<void> {
    this.#stopping ??= (async () => {
      this.#abort.abort();
      await this.#loop;
      if (this.#leading && options.release !== false) await this.#release();
      this.#setLeading(false);
    })();
    return this.#stopping;
  }

  #setLeading(leading: boolean): void {
    if (leading === this.#leading) return;
    this.#leading = leading;
    this.#log[leading ? 'info' : 'warn'](leading ? 'leader election: became leader' : 'leader election: not leader any more', {
      lease: this.#path,
      identity: this.identity,
    });
    for (const cb of this.#listeners) {
      try {
        cb(leading);
      } catch (err) {
        this.#log.error('leader election: an onChange callback threw', { error: errorMessage(err) });
      }
    }
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      const result = await this.#attempt(signal);
      if (signal.aborted) break;
      const now = Date.now();
      if (result === 'acquired' || result === 'renewed') {
        this.#lastRenew = now;
        this.#setLeading(true);
      } else if (this.#leading) {
        if (result === 'lost') this.#setLeading(false);
        else if (now - this.#lastRenew >= this.#renewDeadlineMs) {
          this.#log.warn('leader election: could not renew within the renew deadline', { renewDeadlineMs: this.#renewDeadlineMs });
          this.#setLeading(false);
        }
      }
      await sleep(this.#leading ? this.#retryMs : this.#retryMs * (1 + Math.random() * 0.2), signal);
    }
  }

  #observe(lease: LeaseObject): void {
    this.#observed = lease;
    this.#holder = lease.record.holderIdentity || undefined;
    const key = JSON.stringify(lease.record);
    if (key !== this.#observedKey) {
      this.#observedKey = key;
      this.#observedAt = Date.now();
    }
  }

  async #attempt(signal: AbortSignal): Promise<Attempt> {
    const now = new Date();
    const seconds = Math.ceil(this.#leaseMs / 1000);
    let current: LeaseObject;
    try {
      current = parseLease(await this.#t.request({ method: 'GET', path: this.#path, timeoutMs: this.#requestTimeoutMs, signal }));
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) {
        try {
          const created = await this.#t.request({
            method: 'POST',
            path: this.#collection,
            body: {
              apiVersion: 'coordination.k8s.io/v1',
              kind: 'Lease',
              metadata: { name: this.#name },
              spec: { holderIdentity: this.identity, leaseDurationSeconds: seconds, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 },
            },
            timeoutMs: this.#requestTimeoutMs,
            signal,
          });
          this.#observe(parseLease(created));
          return 'acquired';
        } catch (e) {
          return this.#failed('create', e);
        }
      }
      return this.#failed('read', err);
    }
    this.#observe(current);
    const rec = current.record;
    const mine = rec.holderIdentity === this.identity;
    if (!mine && rec.holderIdentity) {
      const validForMs = (rec.leaseDurationSeconds || seconds) * 1000;
      if (this.#observedAt + validForMs > Date.now()) return this.#leading ? 'lost' : 'held';
    }
    if (!mine && this.#leading) return 'lost';
    const spec: LeaseRecord = {
      holderIdentity: this.identity,
      leaseDurationSeconds: seconds,
      acquireTime: mine && rec.acquireTime ? rec.acquireTime : microTime(now),
      renewTime: microTime(now),
      leaseTransitions: mine ? rec.leaseTransitions : rec.leaseTransitions + 1,
    };
    try {
      const updated = await this.#t.request({
        method: 'PUT',
        path: this.#path,
        body: {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: this.#name, resourceVersion: current.resourceVersion },
          spec,
        },
        timeoutMs: this.#requestTimeoutMs,
        signal,
      });
      this.#observe(parseLease(updated));
      if (!mine) this.#log.info('leader election: took the lease', { previousHolder: rec.holderIdentity || '(none)', identity: this.identity });
      return mine ? 'renewed' : 'acquired';
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 409) return this.#leading ? 'lost' : 'held';
      return this.#failed(mine ? 'renew' : 'take', err);
    }
  }

  #failed(what: string, err: unknown): Attempt {
    if (!this.#abort.signal.aborted) {
      this.#log.warn(`leader election: cannot ${what} the lease`, { lease: this.#path, error: errorMessage(err) });
    }
    return 'failed';
  }

  async #release(): Promise<void> {
    const lease = this.#observed;
    if (!lease || lease.record.holderIdentity !== this.identity) return;
    const now = microTime();
    try {
      await this.#t.request({
        method: 'PUT',
        path: this.#path,
        body: {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: this.#name, resourceVersion: lease.resourceVersion },
          spec: { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaseTransitions: lease.record.leaseTransitions },
        },
        timeoutMs: this.#requestTimeoutMs,
      });
      this.#log.info('leader election: released the lease', { lease: this.#path, identity: this.identity });
    } catch (err) {
      this.#log.warn('leader election: cannot release the lease (others take it when it expires)', { error: errorMessage(err) });
    }
  }
}
