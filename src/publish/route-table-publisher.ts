// Publishes the route table through the addon when, and only when, it
// changed. An invalid model is refused whole with the field named; the last
// good table keeps serving.
import { performance } from 'node:perf_hooks';
import type { BuildResult } from '../model/model.js';
import type { Publisher } from './publisher.js';
import { EncodeMemo, encodeModel, MAX_STATS_SLOT, sameEncoding, type EncodedModel } from '../route-table/encode-model.js';
import type { StatsOwnersModel, TableModel } from '../model/table-model.js';
import { RouteTable, statsCounterNames, TableError, trimNativeMemory } from '../route-table/route-table.js';
import type { TrafficReading } from '../observe/metrics.js';
import { TrafficStats } from './traffic-stats.js';
import type { Logger } from '../observe/logger.js';
import type { ControllerMetrics } from '../observe/metrics.js';

export interface PublishedTable {
  generation: bigint;
  bytes: number;
  routes: number;
  publishedAt: number;
}

/**
 * How long publishing must pause before the addon's freed memory goes back
 * to the system: once after a burst of changes, not between its builds.
 */
export const TRIM_AFTER_MS = 1000;

export class RouteTablePublisher implements Publisher {
  readonly name = 'route-table';
  readonly #table: RouteTable;
  readonly #traffic: TrafficStats;
  #lastEncoded: EncodedModel | undefined;
  /** Each endpoints list's encoding, for as long as the builder hands the same list over. */
  readonly #encodings = new EncodeMemo();
  #last: PublishedTable | undefined;
  #warnedFull = false;
  readonly #statsErrors = new Set<string>();
  #trimTimer: NodeJS.Timeout | undefined;
  #trims = 0;

  constructor(
    tableName: string,
    private readonly logger: Logger,
    private readonly metrics: ControllerMetrics,
  ) {
    this.#table = RouteTable.open(tableName);
    this.#traffic = new TrafficStats(() => this.#readStats(), statsCounterNames().length, MAX_STATS_SLOT + 1);
    // ATS may be counting with the table a killed controller left: keep its slots.
    let previous: StatsOwnersModel | undefined;
    try {
      previous = this.#table.readOwners();
    } catch {
      previous = undefined; // no table yet, or one this version cannot read: nothing to keep
    }
    if (previous) this.#traffic.adopt(previous);
  }

  /** Counters that cannot be read (a damaged region) are logged, once per kind of error, and count as absent: never a reason not to publish. */
  #readStats(): ReturnType<RouteTable['readStats']> {
    try {
      return this.#table.readStats();
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'unknown';
      if (!this.#statsErrors.has(code)) {
        this.#statsErrors.add(code);
        this.logger.warn("cannot read the plugin's request counters; per-Ingress request metrics are missing", { error: err as Error });
      }
      return undefined;
    }
  }

  /** The plugin's per-route counters by (namespace, Ingress, Service), for /metrics. */
  traffic(): TrafficReading | undefined {
    if (this.#table.closed) return undefined;
    const { rows, dropped } = this.#traffic.rows();
    return { names: statsCounterNames(), rows, dropped };
  }

  /** How many times the freed memory was handed back. */
  get trims(): number {
    return this.#trims;
  }

  get last(): PublishedTable | undefined {
    return this.#last;
  }

  async publish(result: BuildResult): Promise<void> {
    const table: TableModel = result.model.table;
    const t0 = performance.now();
    try {
      // The builder sorts everything, so equal models encode equally.
      const encoded = encodeModel(table, this.#traffic.assign(table), this.#encodings);
      if (this.#traffic.full && !this.#warnedFull) {
        this.#warnedFull = true;
        this.logger.warn('more (Ingress, Service) pairs than the plugin has counters for: the rest are not counted per Ingress', { slots: MAX_STATS_SLOT + 1 });
      }
      if (sameEncoding(this.#lastEncoded, encoded)) {
        this.metrics.publishes.inc({ outcome: 'unchanged' });
        return;
      }
      const { generation, bytes } = this.#table.publishEncoded(encoded);
      const ms = performance.now() - t0;
      this.#lastEncoded = encoded;
      const routes = table.hosts.reduce((n, h) => n + h.rules.length, 0);
      this.#last = { generation, bytes, routes, publishedAt: Date.now() };
      this.#trimSoon();
      this.metrics.publishes.inc({ outcome: 'published' });
      this.metrics.publishSeconds.observe(ms / 1000);
      this.metrics.generation.set(Number(generation));
      this.metrics.tableBytes.set(bytes);
      this.metrics.routes.set(routes);
      this.logger.info('published route table', {
        generation,
        bytes,
        hosts: table.hosts.length,
        routes,
        backends: table.backends.length,
        ...(table.gateway ? { gatewayListeners: table.gateway.listeners.length, gatewayEntries: table.gateway.listeners.reduce((n, l) => n + l.entries.length, 0) } : {}),
        publishMs: Math.round(ms * 10) / 10,
      });
    } catch (err) {
      this.metrics.publishes.inc({ outcome: 'refused' });
      if (err instanceof TableError) {
        this.logger.error('route table refused; the last good table keeps serving', { error: err });
        return;
      }
      throw err;
    }
  }

  /**
   * A publish frees the last table's buffers (megabytes at 10,000 Ingresses),
   * which the C library keeps unless asked: asked once publishing pauses.
   */
  #trimSoon(): void {
    if (this.#trimTimer) {
      this.#trimTimer.refresh();
      return;
    }
    this.#trimTimer = setTimeout(() => {
      this.#trimTimer = undefined;
      trimNativeMemory();
      this.#trims++;
    }, TRIM_AFTER_MS);
    this.#trimTimer.unref();
  }

  close(): void {
    clearTimeout(this.#trimTimer);
    this.#trimTimer = undefined;
    this.#table.close();
  }
}
