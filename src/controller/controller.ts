// Wires one controller: a source, the cache, the loop, the publishers and
// the admin server. The CLI builds the options; tests build them directly.
import { buildConfig, type BuildConfig } from '../build/config.js';
import type { BuildResult } from '../build/model.js';
import { ObjectCache } from '../cache/object-cache.js';
import type { Snapshot } from '../cache/snapshot.js';
import { startAdminServer, type AdminServer, type HealthReport } from '../observe/admin-server.js';
import { atsServedGeneration } from '../observe/ats-generation.js';
import type { Logger } from '../observe/logger.js';
import { controllerMetrics, type ControllerMetrics } from '../observe/metrics.js';
import { ProblemLog } from '../publish/problem-log.js';
import { RouteTablePublisher } from '../publish/route-table-publisher.js';
import type { Source } from '../sources/source.js';
import { ControllerLoop } from './loop.js';
import type { Publisher } from './publisher.js';

export interface ControllerConfig {
  source: Source;
  build: Partial<BuildConfig>;
  table: string;
  logger: Logger;
  /** HOST:PORT of the admin server; none when absent. */
  adminAddress?: string;
  atsStatsUrl?: string;
  holdMs?: number;
  coalesceMs?: number;
  /** Publishers beyond the route table and the problem log (Events, status). */
  extraPublishers?: (ctx: PublisherContext) => Publisher[];
  /** Called by stop() after the source and loop have stopped (leader election, clients). */
  onStop?: () => Promise<void>;
}

export interface PublisherContext {
  /** True when ATS serves the last published table. */
  isLive(): Promise<boolean>;
  /** The objects as the last build saw them (for status, which needs the Ingresses). */
  snapshot(): Snapshot;
}

export class Controller {
  readonly metrics: ControllerMetrics = controllerMetrics();
  readonly loop: ControllerLoop;
  readonly table: RouteTablePublisher;
  readonly #c: ControllerConfig;
  #admin: AdminServer | undefined;

  constructor(config: ControllerConfig) {
    this.#c = config;
    const build = buildConfig(config.build);
    this.table = new RouteTablePublisher(config.table, config.logger, this.metrics);
    const publishers: Publisher[] = [this.table, new ProblemLog(config.logger, this.metrics)];
    const cache = new ObjectCache(build);
    publishers.push(...(config.extraPublishers?.({ isLive: () => this.isLive(), snapshot: () => cache.snapshot() }) ?? []));
    this.loop = new ControllerLoop({
      startPaused: true, // start() builds once every kind has been listed
      cache,
      config: build,
      publishers,
      logger: config.logger,
      metrics: this.metrics,
      ...(config.holdMs !== undefined ? { holdMs: config.holdMs } : {}),
      ...(config.coalesceMs !== undefined ? { coalesceMs: config.coalesceMs } : {}),
    });
  }

  get adminPort(): number | undefined {
    return this.#admin?.port;
  }

  /** Starts the admin server and the source; resolves after the first table is published. */
  async start(): Promise<BuildResult> {
    if (this.#c.adminAddress) {
      this.#admin = await startAdminServer(this.#c.adminAddress, {
        healthz: () => this.healthz(),
        readyz: () => this.readyz(),
        metrics: () => this.metrics.registry.render(),
      });
      this.#c.logger.info('admin server listening', { address: `${this.#admin.address}:${this.#admin.port}` });
    }
    await this.#c.source.start(this.loop.apply);
    return this.loop.runNow();
  }

  async stop(): Promise<void> {
    await this.#c.source.stop();
    await this.loop.stop();
    await this.#c.onStop?.();
    await this.#admin?.close();
    this.table.close();
  }

  /** True when ATS serves the last published table (or no stats URL was given). */
  async isLive(): Promise<boolean> {
    const last = this.table.last;
    if (!last) return false;
    if (!this.#c.atsStatsUrl) return true;
    return (await atsServedGeneration(this.#c.atsStatsUrl)) >= last.generation;
  }

  healthz(): HealthReport {
    const source = this.#c.source.health();
    const ok = source.healthy && this.loop.consecutiveFailures < 3;
    return { ok, detail: { source, buildFailures: this.loop.consecutiveFailures } };
  }

  async readyz(): Promise<HealthReport> {
    const last = this.table.last;
    if (!last) return { ok: false, detail: { reason: 'no route table published yet' } };
    const detail: Record<string, unknown> = { generation: last.generation.toString(), routes: last.routes };
    if (this.#c.atsStatsUrl) {
      try {
        const served = await atsServedGeneration(this.#c.atsStatsUrl);
        detail.atsGeneration = served.toString();
        if (served < last.generation) return { ok: false, detail: { ...detail, reason: 'ATS does not serve the latest table yet' } };
      } catch (err) {
        return { ok: false, detail: { ...detail, reason: `cannot ask ATS: ${(err as Error).message}` } };
      }
    }
    return { ok: true, detail };
  }
}
