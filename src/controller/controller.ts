// Wires one controller: a source, the cache, the loop, the publishers and
// the admin server. The CLI builds the configuration from its flags; tests
// and the demo build it directly.
import type { BuildConfig } from '../config/config.js';
import type { BuildResult, Problem } from '../model/model.js';
import { ObjectCache } from '../cache/object-cache.js';
import { startAdminServer, type AdminServer, type HealthReport, type HostPort } from '../observe/admin-server.js';
import { atsServedGeneration, cacheFigures, fetchAtsStats } from '../observe/ats-stats.js';
import type { Logger } from '../observe/logger.js';
import { controllerMetrics, type ControllerMetrics } from '../observe/metrics.js';
import { ProblemLog } from '../publish/problem-log.js';
import type { Publisher, PublisherContext } from '../publish/publisher.js';
import { RouteTablePublisher } from '../publish/route-table-publisher.js';
import { TlsPublisher } from '../publish/tls-publisher.js';
import { RecordsPublisher, type RecordsOptions } from '../publish/records-publisher.js';
import type { Source } from '../sources/source.js';
import { ControllerLoop } from './loop.js';

export interface ControllerConfig {
  source: Source;
  build: BuildConfig;
  table: string;
  logger: Logger;
  /** Where the admin server listens; none when absent. */
  admin?: HostPort;
  atsStatsUrl?: URL;
  holdMs?: number;
  coalesceMs?: number;
  /** The largest share of the time builds take under churn (the loop's default: 0.5). */
  maxBuildShare?: number;
  /** How far builds may run ahead of that share, in idle time owed (the loop's default: DEFAULT_BUILD_BURST_MS). */
  buildBurstMs?: number;
  /** Publishers beyond the route table and the problem log (Events, status). */
  extraPublishers?: (ctx: PublisherContext) => Publisher[];
  /** ATS records from the records ConfigMap (build.recordsConfigMap), through traffic_manager in this runroot. */
  records?: RecordsOptions;
  /** Whether this replica leads (Kubernetes leader election); absent: no election. */
  isLeader?: () => boolean;
  /** Called by stop() after the source, loop and publishers have stopped (leader election, clients). */
  onStop?: () => Promise<void>;
}

export class Controller {
  readonly metrics: ControllerMetrics;
  readonly loop: ControllerLoop;
  readonly table: RouteTablePublisher;
  readonly tls: TlsPublisher;
  /** With config.records only. */
  readonly records: RecordsPublisher | undefined;
  readonly #c: ControllerConfig;
  readonly #publishers: Publisher[];
  #admin: AdminServer | undefined;

  constructor(config: ControllerConfig) {
    this.#c = config;
    const statsUrl = config.atsStatsUrl;
    this.metrics = controllerMetrics({
      watches: () => config.source.health().watches,
      ...(config.isLeader ? { isLeader: config.isLeader } : {}),
      traffic: () => this.table.traffic(),
      ...(statsUrl ? { atsCache: async () => cacheFigures(await fetchAtsStats(statsUrl, 1000)) } : {}),
    });
    this.table = new RouteTablePublisher(config.table, config.logger, this.metrics);
    this.tls = new TlsPublisher(config.table, config.logger, this.metrics);
    const cache = new ObjectCache(config.build);
    // Certificates before routes: a host that starts redirecting to https has its certificate by then.
    this.#publishers = [this.tls, this.table, new ProblemLog(config.logger, this.metrics)];
    const listeners: Array<(origin: string, problems: readonly Problem[]) => void> = [];
    const ctx: PublisherContext = {
      isLive: () => this.isLive(),
      snapshot: () => cache.snapshot(),
      reportProblems: (origin, problems) => {
        for (const l of listeners) l(origin, problems);
      },
      onProblems: (listener) => void listeners.push(listener),
    };
    if (config.records) {
      this.records = new RecordsPublisher(config.records, ctx, config.logger.with({ component: 'records' }), this.metrics);
      this.#publishers.push(this.records);
    }
    this.#publishers.push(...(config.extraPublishers?.(ctx) ?? []));
    this.loop = new ControllerLoop({
      startPaused: true, // start() builds once every kind has been listed
      cache,
      config: config.build,
      publishers: this.#publishers,
      logger: config.logger,
      metrics: this.metrics,
      ...(config.holdMs !== undefined ? { holdMs: config.holdMs } : {}),
      ...(config.coalesceMs !== undefined ? { coalesceMs: config.coalesceMs } : {}),
      ...(config.maxBuildShare !== undefined ? { maxBuildShare: config.maxBuildShare } : {}),
      ...(config.buildBurstMs !== undefined ? { buildBurstMs: config.buildBurstMs } : {}),
    });
  }

  get adminPort(): number | undefined {
    return this.#admin?.port;
  }

  /** Starts the admin server and the source; resolves after the first table is published. */
  async start(): Promise<BuildResult> {
    if (this.#c.admin) {
      this.#admin = await startAdminServer(this.#c.admin, {
        healthz: () => this.healthz(),
        readyz: () => this.readyz(),
        metrics: () => this.metrics.registry.metrics(),
      });
      this.#c.logger.info('admin server listening', { address: `${this.#admin.address}:${this.#admin.port}` });
    }
    await this.#c.source.start(this.loop.apply);
    return this.loop.runNow();
  }

  async stop(): Promise<void> {
    await this.#c.source.stop();
    await this.loop.stop();
    for (const p of this.#publishers) await p.stop?.();
    await this.#c.onStop?.();
    await this.#admin?.close();
    this.table.close();
    this.tls.close();
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
