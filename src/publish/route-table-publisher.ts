// Publishes the route table through the addon when, and only when, it
// changed. An invalid model is refused whole with the field named; the last
// good table keeps serving.
import { performance } from 'node:perf_hooks';
import type { BuildResult } from '../build/model.js';
import type { Publisher } from '../controller/publisher.js';
import { encodeModel, sameEncoding, type EncodedModel } from '../native/encode-model.js';
import { RouteTable, TableError, type TableModel } from '../native/route-table.js';
import type { Logger } from '../observe/logger.js';
import type { ControllerMetrics } from '../observe/metrics.js';

export interface PublishedTable {
  generation: bigint;
  bytes: number;
  routes: number;
  publishedAt: number;
}

export class RouteTablePublisher implements Publisher {
  readonly name = 'route-table';
  readonly #table: RouteTable;
  #lastEncoded: EncodedModel | undefined;
  #last: PublishedTable | undefined;
  readonly #listeners: Array<(t: PublishedTable) => void> = [];

  constructor(
    tableName: string,
    private readonly logger: Logger,
    private readonly metrics: ControllerMetrics,
  ) {
    this.#table = RouteTable.open(tableName);
  }

  get last(): PublishedTable | undefined {
    return this.#last;
  }

  onPublish(listener: (t: PublishedTable) => void): void {
    this.#listeners.push(listener);
  }

  async publish(result: BuildResult): Promise<void> {
    const table: TableModel = result.model.table;
    const t0 = performance.now();
    try {
      // The builder sorts everything, so equal models encode equally.
      const encoded = encodeModel(table);
      if (sameEncoding(this.#lastEncoded, encoded)) {
        this.metrics.publishes.inc({ outcome: 'unchanged' });
        return;
      }
      const { generation, bytes } = this.#table.publishEncoded(encoded);
      const ms = performance.now() - t0;
      this.#lastEncoded = encoded;
      const routes = table.hosts.reduce((n, h) => n + h.rules.length, 0);
      this.#last = { generation, bytes, routes, publishedAt: Date.now() };
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
        publishMs: Math.round(ms * 10) / 10,
      });
      for (const l of this.#listeners) l(this.#last);
    } catch (err) {
      this.metrics.publishes.inc({ outcome: 'refused' });
      if (err instanceof TableError) {
        this.logger.error('route table refused; the last good table keeps serving', {
          code: err.code,
          field: err.field,
          error: err.message,
        });
        return;
      }
      throw err;
    }
  }

  close(): void {
    this.#table.close();
  }
}
