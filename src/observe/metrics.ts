// The controller's Prometheus metrics, on prom-client: its registry, label
// handling and text format, and the default process metrics (CPU, RSS, heap,
// GC, event-loop lag: what shows when a build holds the loop). One registry
// per controller, so tests may run several in one process.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { CACHE_HITS, CACHE_MISSES, type AtsCacheFigures } from './ats-stats.js';

/** Requests the plugin counted for one (Ingress, Service), by counter name. */
export interface TrafficReading {
  /** The counter names, in the order of each row's counts: status classes ('2xx') and cache results ('hit_fresh'). */
  readonly names: readonly string[];
  readonly rows: ReadonlyArray<{ readonly namespace: string; readonly ingress: string; readonly service: string; readonly counts: readonly number[] }>;
  /** Requests the plugin could not count (more routes than its region has slots). */
  readonly dropped: number;
}

/** What the metrics read at scrape time from the parts that own the state. */
export interface MetricSources {
  /** Per watch: its kind, restarts so far, and milliseconds since it last heard anything. */
  watches?(): ReadonlyArray<{ readonly kind: string; readonly restarts: number; readonly sinceLastEventMs: number }>;
  /** Whether this replica holds the leader Lease (and so writes Events and status). */
  isLeader?(): boolean;
  /** The plugin's per-route counters, now. */
  traffic?(): TrafficReading | undefined;
  /** ATS's cache figures (stats_over_http), now; undefined when ATS does not answer. */
  atsCache?(): Promise<AtsCacheFigures | undefined>;
}

const STATUS_CLASS = /^[1-5]xx$/;

const SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export function controllerMetrics(sources: MetricSources = {}, registry = new Registry()) {
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    events: new Counter({ name: 'ats_ingress_source_events_total', help: 'Watch events applied to the cache, by type.', labelNames: ['type'], registers }),
    relevantEvents: new Counter({ name: 'ats_ingress_source_relevant_events_total', help: 'Events that could change the routes, by type.', labelNames: ['type'], registers }),
    builds: new Counter({ name: 'ats_ingress_builds_total', help: 'Builds of the route model.', registers }),
    buildSeconds: new Histogram({ name: 'ats_ingress_build_seconds', help: 'Time to build the route model.', buckets: SECONDS, registers }),
    buildWaitSeconds: new Histogram({
      name: 'ats_ingress_build_wait_seconds',
      help: 'Time from the first change a build takes in to the start of that build: the batching hold, or the wait for a build in progress.',
      buckets: SECONDS,
      registers,
    }),
    publisherSeconds: new Histogram({ name: 'ats_ingress_publisher_seconds', help: 'Time each publisher took for one build, by publisher.', labelNames: ['publisher'], buckets: SECONDS, registers }),
    publishes: new Counter({ name: 'ats_ingress_table_publishes_total', help: 'Route tables handed to the publisher, by outcome (published, unchanged, refused).', labelNames: ['outcome'], registers }),
    publishSeconds: new Histogram({ name: 'ats_ingress_table_publish_seconds', help: 'Time to encode and publish a route table.', buckets: SECONDS, registers }),
    generation: new Gauge({ name: 'ats_ingress_table_generation', help: 'Generation of the last route table published.', registers }),
    tableBytes: new Gauge({ name: 'ats_ingress_table_bytes', help: 'Size of the last route table published.', registers }),
    routes: new Gauge({ name: 'ats_ingress_routes', help: 'Rules in the last route table published.', registers }),
    tlsPublishes: new Counter({ name: 'ats_ingress_tls_publishes_total', help: 'TLS tables handed to the publisher, by outcome (published, unchanged, refused).', labelNames: ['outcome'], registers }),
    tlsGeneration: new Gauge({ name: 'ats_ingress_tls_generation', help: 'Generation of the last TLS table published.', registers }),
    tlsCertificates: new Gauge({ name: 'ats_ingress_tls_certificates', help: 'Certificates in the last TLS table published.', registers }),
    tlsPreviousHosts: new Gauge({ name: 'ats_ingress_tls_previous_hosts', help: 'Hosts served the certificate they had before, because their Secret cannot serve them now.', registers }),
    problems: new Gauge({ name: 'ats_ingress_problems', help: 'Problems now, by severity and origin (the build, or the records ATS refused).', labelNames: ['severity', 'origin'], registers }),
    records: new Gauge({ name: 'ats_ingress_records', help: 'Records of the records ConfigMap, by state (applied, restart_required, refused).', labelNames: ['state'], registers }),
    recordsReconciles: new Counter({ name: 'ats_ingress_records_reconciles_total', help: 'Passes that compared the records ConfigMap with ATS, by outcome (ok, unreachable).', labelNames: ['outcome'], registers }),
    watchRestarts: new Counter({
      name: 'ats_ingress_watch_restarts_total',
      help: 'Restarts of the Kubernetes watches (errors, 410 relists, watchdog), by kind.',
      labelNames: ['kind'],
      registers,
      collect() {
        if (!sources.watches) return;
        this.reset();
        for (const w of sources.watches()) this.inc({ kind: w.kind }, w.restarts);
      },
    }),
    lastEventAge: new Gauge({
      name: 'ats_ingress_last_event_age_seconds',
      help: 'Seconds since the quietest watch of each kind last heard from the API server (an event, a list or a bookmark).',
      labelNames: ['kind'],
      registers,
      collect() {
        if (!sources.watches) return;
        this.reset();
        const oldest = new Map<string, number>();
        for (const w of sources.watches()) oldest.set(w.kind, Math.max(oldest.get(w.kind) ?? 0, w.sinceLastEventMs));
        for (const [kind, ms] of oldest) this.set({ kind }, ms / 1000);
      },
    }),
    // ingress-nginx's nginx_ingress_controller_requests, by status class:
    // the plugin counts classes, not codes, to stay within a few counters per route.
    requests: trafficCounter(
      sources,
      registers,
      'ats_ingress_requests_total',
      'Requests answered, by the Ingress and Service that served them and the status class (2xx, 3xx, 4xx, 5xx; 1xx).',
      'status',
      (counter) => STATUS_CLASS.test(counter),
    ),
    cacheResults: trafficCounter(
      sources,
      registers,
      'ats_ingress_cache_results_total',
      'Requests by what the cache did for them (hit_fresh, hit_stale, miss, not_cacheable), by Ingress and Service.',
      'result',
      (counter) => !STATUS_CLASS.test(counter),
    ),
    uncountedRequests: new Counter({
      name: 'ats_ingress_uncounted_requests_total',
      help: 'Requests the plugin could not count per Ingress (more routes than its counters have room for).',
      registers,
      collect() {
        const t = sources.traffic?.();
        if (!t) return;
        this.reset();
        this.inc(t.dropped);
      },
    }),
    ...atsCacheMetrics(sources, registers),
    leader: new Gauge({
      name: 'ats_ingress_leader',
      help: '1 when this replica holds the leader Lease and writes Events and status.',
      registers,
      collect() {
        this.set(sources.isLeader?.() ? 1 : 0);
      },
    }),
  };
}
export type ControllerMetrics = ReturnType<typeof controllerMetrics>;

/**
 * ATS's own cache figures, read from stats_over_http once per scrape (the
 * metrics below share one answer, kept for a second).
 */
/**
 * A counter over the plugin's per-route counts (sources.traffic, read at
 * each scrape): one series per (namespace, Ingress, Service) and each of
 * the plugin's counters that `takes`, that counter's name as `label`.
 */
function trafficCounter(
  sources: MetricSources,
  registers: Registry[],
  name: string,
  help: string,
  label: 'status' | 'result',
  takes: (counter: string) => boolean,
): Counter {
  return new Counter({
    name,
    help,
    labelNames: ['namespace', 'ingress', 'service', label],
    registers,
    collect() {
      const t = sources.traffic?.();
      if (!t) return;
      this.reset();
      for (const r of t.rows) {
        t.names.forEach((counter, i) => {
          if (takes(counter)) this.inc({ namespace: r.namespace, ingress: r.ingress, service: r.service, [label]: counter }, r.counts[i] ?? 0);
        });
      }
    },
  });
}

function atsCacheMetrics(sources: MetricSources, registers: Registry[]) {
  let cached: { at: number; figures: Promise<AtsCacheFigures | undefined> } | undefined;
  const figures = (): Promise<AtsCacheFigures | undefined> => {
    if (!sources.atsCache) return Promise.resolve(undefined);
    const now = Date.now();
    if (!cached || now - cached.at > 1000) cached = { at: now, figures: sources.atsCache().catch(() => undefined) };
    return cached.figures;
  };
  type Key = Exclude<keyof AtsCacheFigures, 'results'>;
  const gauge = (name: string, help: string, key: Key) =>
    new Gauge({
      name,
      help,
      registers,
      async collect() {
        const f = await figures();
        this.reset();
        const v = f?.[key];
        if (v !== undefined) this.set(v);
      },
    });
  const counter = (name: string, help: string, key: Key) =>
    new Counter({
      name,
      help,
      registers,
      async collect() {
        const f = await figures();
        this.reset();
        const v = f?.[key];
        if (v !== undefined) this.inc(v);
      },
    });
  return {
    atsCacheBytesUsed: gauge('ats_cache_bytes_used', "Bytes of ATS's disk cache in use.", 'bytesUsed'),
    atsCacheBytesTotal: gauge('ats_cache_bytes_total', "Bytes of ATS's disk cache in all.", 'bytesTotal'),
    atsRamCacheBytesUsed: gauge('ats_cache_ram_bytes_used', "Bytes of ATS's RAM cache in use.", 'ramBytesUsed'),
    atsRamCacheBytesTotal: gauge('ats_cache_ram_bytes_total', "Bytes of ATS's RAM cache in all.", 'ramBytesTotal'),
    atsRamCacheHits: counter('ats_cache_ram_hits_total', "Reads ATS's RAM cache answered.", 'ramHits'),
    atsRamCacheMisses: counter('ats_cache_ram_misses_total', "Reads ATS's RAM cache sent on to the disk.", 'ramMisses'),
    atsCacheResults: new Counter({
      name: 'ats_cache_results_total',
      help: 'Transactions by what the cache did for them, as ATS counts them (proxy.process.http.cache_*), for all routes.',
      labelNames: ['result'],
      registers,
      async collect() {
        const f = await figures();
        this.reset();
        for (const [result, n] of f?.results ?? []) this.inc({ result }, n);
      },
    }),
    atsCacheHitRatio: new Gauge({
      name: 'ats_cache_hit_ratio',
      help: "Hits among ATS's cache lookups since it started (0 to 1).",
      registers,
      async collect() {
        const f = await figures();
        this.reset();
        if (!f) return;
        const sum = (names: readonly string[]) => names.reduce((n, r) => n + (f.results.get(r) ?? 0), 0);
        const hits = sum(CACHE_HITS);
        const all = hits + sum(CACHE_MISSES);
        if (all > 0) this.set(hits / all);
      },
    }),
  };
}
