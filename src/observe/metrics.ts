// A small Prometheus registry: counters, gauges and histograms with labels,
// rendered in the text exposition format.
type Labels = Record<string, string>;

function labelKey(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  return keys.map((k) => `${k}="${String(labels[k]).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',');
}

interface Metric {
  render(): string[];
}

/** One value per label set, rendered as a sample per set. */
abstract class LabelledValues implements Metric {
  protected readonly values = new Map<string, number>();
  protected abstract readonly type: 'counter' | 'gauge';
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  get(labels: Labels = {}): number {
    return this.values.get(labelKey(labels)) ?? 0;
  }
  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`];
    if (this.values.size === 0) lines.push(`${this.name} 0`);
    for (const [k, v] of this.values) lines.push(`${this.name}${k ? `{${k}}` : ''} ${v}`);
    return lines;
  }
}

export class Counter extends LabelledValues {
  protected readonly type = 'counter';
  inc(labels: Labels = {}, by = 1): void {
    const k = labelKey(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
}

export class Gauge extends LabelledValues {
  protected readonly type = 'gauge';
  set(value: number, labels: Labels = {}): void {
    this.values.set(labelKey(labels), value);
  }
}

export class Histogram implements Metric {
  readonly #counts: number[];
  #sum = 0;
  #count = 0;
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {
    this.#counts = buckets.map(() => 0);
  }
  observe(value: number): void {
    this.#sum += value;
    this.#count++;
    this.buckets.forEach((b, i) => {
      if (value <= b) this.#counts[i]!++;
    });
  }
  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    this.buckets.forEach((b, i) => lines.push(`${this.name}_bucket{le="${b}"} ${this.#counts[i]}`));
    lines.push(`${this.name}_bucket{le="+Inf"} ${this.#count}`, `${this.name}_sum ${this.#sum}`, `${this.name}_count ${this.#count}`);
    return lines;
  }
}

export class Registry {
  readonly #metrics: Metric[] = [];
  counter(name: string, help: string): Counter {
    return this.#add(new Counter(name, help));
  }
  gauge(name: string, help: string): Gauge {
    return this.#add(new Gauge(name, help));
  }
  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    return this.#add(new Histogram(name, help, buckets));
  }
  render(): string {
    return `${this.#metrics.flatMap((m) => m.render()).join('\n')}\n`;
  }
  #add<M extends Metric>(m: M): M {
    this.#metrics.push(m);
    return m;
  }
}

/** The controller's own metrics. */
export function controllerMetrics(registry = new Registry()) {
  return {
    registry,
    events: registry.counter('ats_ingress_source_events_total', 'Watch events applied to the cache.'),
    relevantEvents: registry.counter('ats_ingress_source_relevant_events_total', 'Events that could change the routes.'),
    builds: registry.counter('ats_ingress_builds_total', 'Builds of the route model.'),
    buildSeconds: registry.histogram('ats_ingress_build_seconds', 'Time to build the route model.', [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5]),
    publishes: registry.counter('ats_ingress_table_publishes_total', 'Route tables published (by outcome).'),
    publishSeconds: registry.histogram('ats_ingress_table_publish_seconds', 'Time to publish a route table.', [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1]),
    generation: registry.gauge('ats_ingress_table_generation', 'Generation of the last route table published.'),
    tableBytes: registry.gauge('ats_ingress_table_bytes', 'Size of the last route table published.'),
    routes: registry.gauge('ats_ingress_routes', 'Rules in the last route table published.'),
    problems: registry.gauge('ats_ingress_problems', 'Problems found by the last build, by severity.'),
  };
}
export type ControllerMetrics = ReturnType<typeof controllerMetrics>;
