// The one loop that owns all state changes: sources hand it events, it
// applies them to the cache, and when a change can matter it schedules a
// build, then runs every publisher on the result. Builds never overlap.
//
// Batching: a change after a quiet spell is built after only a short
// coalescing wait (events of one kubectl apply arrive together), so a lone
// change goes live in tens of milliseconds; under churn, builds start at
// most once per hold period and every change in between rides along.
import { performance } from 'node:perf_hooks';
import { build } from '../model/build.js';
import { CertificateCache } from '../model/certificates.js';
import type { BuildConfig } from '../config/config.js';
import type { BuildResult } from '../model/model.js';
import type { ObjectCache } from '../cache/object-cache.js';
import type { ObjectOfKind } from '../kube/types.js';
import type { Logger } from '../observe/logger.js';
import type { ControllerMetrics } from '../observe/metrics.js';
import type { SourceEvent } from '../sources/source.js';
import type { Publisher } from '../publish/publisher.js';

export interface LoopOptions {
  cache: ObjectCache;
  config: BuildConfig;
  publishers: readonly Publisher[];
  logger: Logger;
  metrics: ControllerMetrics;
  /** At least this long between the starts of two builds (default 50 ms). */
  holdMs?: number;
  /** Wait this long after the first change following a quiet spell, to take in its companions (default 10 ms). */
  coalesceMs?: number;
  /**
   * Apply changes but build nothing until the first runNow(): a controller
   * must not publish a table made from some kinds while others are still
   * being listed (Ingresses without their Services would answer 503).
   */
  startPaused?: boolean;
}

export class ControllerLoop {
  readonly #o: Required<LoopOptions>;
  #timer: NodeJS.Timeout | undefined;
  #lastBuildStart = -Infinity;
  #running: Promise<void> | undefined;
  #dirty = false;
  #stopped = false;
  #paused: boolean;
  #lastResult: BuildResult | undefined;
  #failures = 0;
  readonly #idleWaiters: Array<() => void> = [];
  /** Parsed Secrets, kept across builds (a Secret object is parsed once). */
  readonly #certificates = new CertificateCache();

  constructor(options: LoopOptions) {
    this.#o = { holdMs: 50, coalesceMs: 10, startPaused: false, ...options };
    this.#paused = this.#o.startPaused;
  }

  /** The sink sources write to. */
  readonly apply = (events: readonly SourceEvent[]): void => {
    if (this.#stopped) return;
    let relevant = false;
    for (const e of events) {
      this.#o.metrics.events.inc({ type: e.type });
      let changed: boolean;
      switch (e.type) {
        case 'upsert':
          changed = this.#o.cache.upsert(e.object);
          break;
        case 'remove':
          changed = this.#o.cache.remove(e.kind, e.key);
          break;
        case 'replace':
          changed = this.#o.cache.replaceAll(e.kind, e.objects as Iterable<ObjectOfKind<typeof e.kind>>);
          break;
      }
      if (changed) {
        this.#o.metrics.relevantEvents.inc({ type: e.type });
        relevant = true;
      }
    }
    if (relevant && !this.#paused) this.#schedule();
  };

  /** Builds and publishes now, waiting for any build in progress first. */
  async runNow(): Promise<BuildResult> {
    this.#paused = false;
    this.#clearTimer();
    await this.#running;
    await this.#start();
    return this.#lastResult!;
  }

  /** Resolves when no build is scheduled or running. */
  async idle(): Promise<void> {
    while (this.#timer || this.#running) {
      await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    }
  }

  /** Builds that threw since the last one that did not. */
  get consecutiveFailures(): number {
    return this.#failures;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#clearTimer();
    await this.#running;
  }

  #schedule(): void {
    if (this.#running) {
      this.#dirty = true;
      return;
    }
    if (this.#timer) return; // a build is already due; never postpone it
    const now = performance.now();
    const wait = Math.max(this.#o.coalesceMs, this.#lastBuildStart + this.#o.holdMs - now);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#start();
    }, wait);
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  // Owns the build's promise: failures are logged here, never left floating.
  #start(): Promise<void> {
    this.#lastBuildStart = performance.now();
    const run = this.#buildAndPublish()
      .catch((err: unknown) => {
        this.#failures++;
        this.#o.logger.error('build failed; the last published table keeps serving', { error: err });
      })
      .finally(() => {
        this.#running = undefined;
        if (this.#dirty && !this.#stopped) {
          this.#dirty = false;
          this.#schedule();
        }
        if (!this.#timer && !this.#running) this.#idleWaiters.splice(0).forEach((w) => w());
      });
    this.#running = run;
    return run;
  }

  async #buildAndPublish(): Promise<void> {
    const t0 = performance.now();
    const result = build(this.#o.cache.snapshot(), this.#o.config, { now: Date.now(), certificates: this.#certificates });
    const buildMs = performance.now() - t0;
    this.#o.metrics.builds.inc();
    this.#o.metrics.buildSeconds.observe(buildMs / 1000);
    this.#lastResult = result;
    this.#failures = 0;
    this.#o.logger.debug('built route model', {
      buildMs: Math.round(buildMs * 10) / 10,
      hosts: result.model.table.hosts.length,
      backends: result.model.table.backends.length,
      problems: result.problems.length,
    });
    for (const p of this.#o.publishers) {
      const started = performance.now();
      try {
        await p.publish(result);
        this.#o.metrics.publisherSeconds.observe({ publisher: p.name }, (performance.now() - started) / 1000);
      } catch (err) {
        // One publisher failing (the API server down, say) must not stop the others.
        this.#o.logger.error('publisher failed', { publisher: p.name, error: err });
      }
    }
  }
}
