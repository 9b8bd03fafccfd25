// The controller's Prometheus metrics, on prom-client: its registry, label
// handling and text format, and the default process metrics (CPU, RSS, heap,
// GC, event-loop lag: what shows when a build holds the loop). One registry
// per controller, so tests may run several in one process.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** What the metrics read at scrape time from the parts that own the state. */
export interface MetricSources {
  /** Per watch: its kind, restarts so far, and milliseconds since it last heard anything. */
  watches?(): ReadonlyArray<{ readonly kind: string; readonly restarts: number; readonly sinceLastEventMs: number }>;
  /** Whether this replica holds the leader Lease (and so writes Events and status). */
  isLeader?(): boolean;
}

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
