// The one loop that owns all state changes: sources hand it events, it
// applies them to the cache, and when a change can matter it schedules a
// build, then runs every publisher on the result. Builds never overlap.
//
// Batching: a change after a quiet spell is built as soon as the events
// already received are applied (those of one kubectl apply arrive together),
// so a lone change goes live within milliseconds. Under churn the loop keeps
// builds to a bounded share of the CPU: a cycle (build and publish) of C ms
// owes C ms of idle time (at a share of one half), and a build starts only
// while the idle time owed is at most the burst allowance; every change that
// arrives meanwhile rides along with the next build. The hold so follows the
// cost (ADR 0010), and a change that comes soon after one costly build is
// not held back for it: only sustained churn is (ADR 0021).
import { performance } from 'node:perf_hooks';
import { build } from '../model/build.js';
import { CertificateCache } from '../model/certificates.js';
import { BuildMemo } from '../model/memo.js';
import type { BuildConfig } from '../config/config.js';
import type { BuildResult } from '../model/model.js';
import type { ObjectCache } from '../cache/object-cache.js';
import type { ObjectOfKind } from '../kube/types.js';
import type { Logger } from '../observe/logger.js';
import type { ControllerMetrics } from '../observe/metrics.js';
import type { SourceEvent } from '../sources/source.js';
import type { Publisher } from '../publish/publisher.js';

/** The loop's burst allowance by default: a change right after a rebuild of up to this cost is built at once. */
export const DEFAULT_BUILD_BURST_MS = 500;

export interface LoopOptions {
  cache: ObjectCache;
  config: BuildConfig;
  publishers: readonly Publisher[];
  logger: Logger;
  metrics: ControllerMetrics;
  /** At least this long between the starts of two builds, besides the CPU share (default 0). */
  holdMs?: number;
  /** Wait this long after the first change following a quiet spell, to take in its companions (default 0: only what has already arrived). */
  coalesceMs?: number;
  /** The largest share of the time builds may take under churn, above 0 and at most 1 (default 0.5). */
  maxBuildShare?: number;
  /**
   * How far builds may run ahead of their share, as idle time owed (default
   * 500 ms; 0: every build waits out its predecessor's share). Over any
   * window of W ms builds take at most maxBuildShare × (W + this).
   */
  buildBurstMs?: number;
  /**
   * Apply changes but build nothing until the first runNow(): a controller
   * must not publish a table made from some kinds while others are still
   * being listed (Ingresses without their Services would answer 503).
   */
  startPaused?: boolean;
}

export class ControllerLoop {
  readonly #o: Required<LoopOptions>;
  #timer: { cancel(): void } | undefined;
  #lastBuildStart = -Infinity;
  #lastBuildEnd = -Infinity;
  /** The idle time the loop owed its share when the last cycle ended (ms). */
  #owedMs = 0;
  #running: Promise<void> | undefined;
  #dirty = false;
  /** When the oldest change not yet taken in by a build arrived (performance.now()). */
  #pendingSince: number | undefined;
  #stopped = false;
  #paused: boolean;
  #lastResult: BuildResult | undefined;
  #failures = 0;
  readonly #idleWaiters: Array<() => void> = [];
  /** Parsed Secrets, kept across builds (a Secret object is parsed once). */
  readonly #certificates = new CertificateCache();
  /** What each build made, for the next one to take over where its inputs are the same (model/memo.ts). */
  readonly #memo = new BuildMemo();

  constructor(options: LoopOptions) {
    this.#o = { holdMs: 0, coalesceMs: 0, maxBuildShare: 0.5, buildBurstMs: DEFAULT_BUILD_BURST_MS, startPaused: false, ...options };
    if (!(this.#o.maxBuildShare > 0 && this.#o.maxBuildShare <= 1)) throw new RangeError(`maxBuildShare ${this.#o.maxBuildShare}: expected more than 0, at most 1`);
    if (!(this.#o.buildBurstMs >= 0)) throw new RangeError(`buildBurstMs ${this.#o.buildBurstMs}: expected 0 or more`);
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
    if (relevant && !this.#paused) {
      this.#pendingSince ??= performance.now();
      this.#schedule();
    }
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
    // The idle time owed falls by the idle time that passes; a build may
    // start once it is down to the burst allowance.
    const earliest = Math.max(this.#lastBuildStart + this.#o.holdMs, this.#lastBuildEnd + this.#owedMs - this.#o.buildBurstMs);
    const wait = Math.max(this.#o.coalesceMs, earliest - now);
    const fire = () => {
      this.#timer = undefined;
      void this.#start();
    };
    if (wait <= 0) {
      // After the I/O callbacks already due: the rest of a burst that has
      // arrived is applied before the build starts, and nothing waits longer.
      const immediate = setImmediate(fire);
      this.#timer = { cancel: () => clearImmediate(immediate) };
    } else {
      const timeout = setTimeout(fire, wait);
      this.#timer = { cancel: () => clearTimeout(timeout) };
    }
  }

  #clearTimer(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  // Owns the build's promise: failures are logged here, never left floating.
  #start(): Promise<void> {
    const start = performance.now();
    // What was owed at the last cycle's end, less the idle time since.
    const owedAtStart = Math.max(0, this.#owedMs - (start - this.#lastBuildEnd));
    this.#lastBuildStart = start;
    const run = this.#buildAndPublish()
      .catch((err: unknown) => {
        this.#failures++;
        this.#o.logger.error('build failed; the last published table keeps serving', { error: err });
      })
      .finally(() => {
        this.#lastBuildEnd = performance.now();
        const share = this.#o.maxBuildShare;
        this.#owedMs = owedAtStart + ((this.#lastBuildEnd - start) * (1 - share)) / share;
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
    // What a change waits before its build starts is the part of its latency
    // that the batching policy decides (ADR 0010, 0021); a metric says how much.
    if (this.#pendingSince !== undefined) this.#o.metrics.buildWaitSeconds.observe((t0 - this.#pendingSince) / 1000);
    this.#pendingSince = undefined;
    const result = build(this.#o.cache.snapshot(), this.#o.config, { now: Date.now(), certificates: this.#certificates, memo: this.#memo });
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
