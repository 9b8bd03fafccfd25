// Build and publish time, and controller memory, at 1,000 and 10,000
// Ingresses with 100,000 endpoints, through the path the controller takes:
// the object cache, build(), the route-table publisher (stats slots, encode
// and check, the change check) and the addon's publish into shared memory.
//
// - a full rebuild (buildMs + publishMs = totalMs): what a controller that
//   starts does, with nothing kept from an earlier build (a fresh build
//   context and a fresh publisher each run);
// - endpointChangeMs: one EndpointSlice of one Service changed, as a watch
//   event hands it over, from cache.upsert() to the new table published, with
//   the build context and the publisher the loop keeps across builds;
// - ingressChangeMs: the same for one new Ingress (a host of its own, an
//   existing Service): every route is judged again, and each Ingress that
//   did not change is not read again (src/model/memo.ts); ingressChangePublishMs
//   is the publisher's part of it.
//
// - memory: the controller's RSS with its table published, idle after the
//   changes until its heap shrank to what is live (rssMiB, after idleS
//   seconds; --quick waits 1.5 s only), beside the RSS right after the last
//   build's garbage was collected (rssJustAfterMiB) and the peak of the
//   whole run (maxRssMiB, six full rebuilds in a row included).
// - ingressAfterIdleMs: one more new Ingress, right after that pause: the
//   first change after a controller idled, when V8's memory reducer has
//   shrunk the heap (idleReduced says whether it had), which the changes
//   above, back to back, never see.
//
// Each size runs in a process of its own (the bench starts itself again with
// --size and the controller's Node.js flags), so that the memory figures are
// those of a controller at that size.
//
//   node --expose-gc dist/bench/controller/build-publish-bench.js [--quick] [--json]
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { build, buildContext } from '../../src/model/build.js';
import { buildConfig } from '../../src/config/config.js';
import type { BuildResult } from '../../src/model/model.js';
import { exact, ingress, ingressClass, prefix, service, slice } from '../../src/testing/fixtures.js';
import type { EndpointSlice, KubeObject } from '../../src/kube/types.js';
import { ObjectCache } from '../../src/cache/object-cache.js';
import { RouteTablePublisher, TRIM_AFTER_MS } from '../../src/publish/route-table-publisher.js';
import { RouteTable } from '../../src/route-table/route-table.js';
import { controllerMetrics } from '../../src/observe/metrics.js';
import { silentLogger } from '../../src/observe/logger.js';
import { CONTROLLER_NODE_FLAGS } from '../../src/controller/node-flags.js';

/** The goals of issue 12 at 10,000 Ingresses and 100,000 endpoints. */
const GOALS = { totalMs: 150, rssMiB: 200, endpointChangeMs: 30 } as const;

function names(i: number): { ns: string; name: string } {
  return { ns: `team-${i % 100}`, name: `app-${i}` };
}

/** The slice of Service i, its endpoints numbered from `first`. */
function sliceOf(i: number, perService: number, first: number): EndpointSlice {
  const { ns, name } = names(i);
  const s = slice(`${ns}/${name}`).port('http', 8080);
  for (let e = 0; e < perService; e++) s.ready(`10.${(i >> 8) & 255}.${i & 255}.${((first + e) % 250) + 1}`);
  return s.build();
}

/** The cluster's objects, one at a time, each through JSON as the sources hand objects over (and never all of it as one text, which would count against the controller's memory). */
function* cluster(ingresses: number, perService: number): Generator<KubeObject> {
  const viaJson = (o: KubeObject) => JSON.parse(JSON.stringify(o)) as KubeObject;
  yield viaJson(ingressClass('ats').build());
  for (let i = 0; i < ingresses; i++) {
    const { ns, name } = names(i);
    const host = `${name}.${ns}.example.com`;
    yield viaJson(ingress(`${ns}/${name}`).className('ats').created(i).rule(host, prefix('/', name, 'http'), exact('/healthz', name, 'http')).build());
    yield viaJson(service(`${ns}/${name}`).port('http', 80, 8080).build());
    yield viaJson(sliceOf(i, perService, 0));
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const metrics = controllerMetrics();

/** A publisher as the controller makes one (on a table of the bench's own). */
function publisher(table: string): RouteTablePublisher {
  return new RouteTablePublisher(table, silentLogger, metrics);
}

function removeTable(name: string): void {
  const table = RouteTable.open(name);
  table.remove();
  table.close();
}

async function publishOrFail(p: RouteTablePublisher, result: BuildResult): Promise<void> {
  const before = p.last?.generation;
  await p.publish(result);
  if (p.last === undefined || p.last.generation === before) throw new Error('the bench expected a new table to be published');
}

/** The p-th quantile (0 to 1) of the values. */
const quantile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

/**
 * How long the bench waits at most for the idle controller's heap to shrink.
 * V8's memory reducer checks 8 s after the last full collection, and every
 * 8 s after that, whether the allocation rate is low; the rate it reads is
 * averaged over the intervals between the last ten collections and the
 * idle time since, so the faster the last builds allocated, the later it
 * runs: 10 to 15 s into the pause once, 41 s after the builds got faster
 * (bench/README.md, 2026-12-03). Its watchdog starts it within 100 s in any
 * case. A controller idles for far longer than either.
 */
const IDLE_MAX_MS = 60_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function measure(ingresses: number, endpoints: number, runs: number, quick: boolean) {
  // Endpoint changes cost a tenth of a rebuild: more of them, for a steadier median.
  const changeRuns = runs * 4;
  const perService = Math.max(1, Math.round(endpoints / ingresses));
  const config = buildConfig();
  const cache = new ObjectCache(config);
  for (const o of cluster(ingresses, perService)) cache.upsert(o);
  const tableName = `bench-build-${process.pid}`;
  // Each full rebuild on a table name of its own: a controller that starts with no table.
  const fullTable = (r: number) => `${tableName}-${r}`;
  const buildMs: number[] = [];
  const publishMs: number[] = [];
  const changeMs: number[] = [];
  const ingressMs: number[] = [];
  const ingressPublishMs: number[] = [];
  let bytes = 0;
  let rules = 0;
  // The full rebuild: nothing kept from one run to the next.
  for (let r = 0; r < runs + 1; r++) {
    const p = publisher(fullTable(r));
    try {
      const t0 = performance.now();
      const result = build(cache.snapshot(), config, buildContext());
      const t1 = performance.now();
      await publishOrFail(p, result);
      const t2 = performance.now();
      if (r === 0) continue; // warm-up
      buildMs.push(t1 - t0);
      publishMs.push(t2 - t1);
      bytes = p.last!.bytes;
      rules = p.last!.routes;
    } finally {
      p.close();
      removeTable(fullTable(r));
    }
  }
  // Endpoint changes: the loop's context and publisher, kept across builds.
  // The full rebuilds' garbage is collected first: a running controller's
  // heap does not hold six whole models it just threw away, and collecting
  // them inside one of the measured changes would be their cost, not its.
  global.gc?.();
  const p = publisher(tableName);
  let justAfter: NodeJS.MemoryUsage;
  let settled: NodeJS.MemoryUsage;
  let idleMs = 0;
  let afterIdleMs = 0;
  try {
    const context = buildContext();
    await publishOrFail(p, build(cache.snapshot(), config, { ...context, now: Date.now() }));
    for (let r = 0; r < changeRuns + 1; r++) {
      const i = (r * 7919) % ingresses; // a different Service each time
      const changed = sliceOf(i, perService, r + 1);
      const t0 = performance.now();
      if (!cache.upsert(changed)) throw new Error('the bench expected the slice change to matter');
      await publishOrFail(p, build(cache.snapshot(), config, { ...context, now: Date.now() }));
      const t1 = performance.now();
      if (r > 0) changeMs.push(t1 - t0);
    }
    /** One new Ingress, r-th: its whole time and its publish's. */
    const addIngress = async (r: number): Promise<[number, number]> => {
      const { ns, name } = names(r);
      const added = ingress(`${ns}/added-${r}`).className('ats').created(ingresses + r).rule(`added-${r}.${ns}.example.com`, prefix('/', name, 'http')).build();
      const fromJson = JSON.parse(JSON.stringify(added)) as KubeObject;
      const t0 = performance.now();
      if (!cache.upsert(fromJson)) throw new Error('the bench expected the new Ingress to matter');
      const result = build(cache.snapshot(), config, { ...context, now: Date.now() });
      const tBuilt = performance.now();
      await publishOrFail(p, result);
      const t1 = performance.now();
      return [t1 - t0, t1 - tBuilt];
    };
    const added = runs * 2 + 1;
    for (let r = 0; r < added; r++) {
      const [whole, publish] = await addIngress(r);
      if (r > 0) {
        ingressMs.push(whole);
        ingressPublishMs.push(publish);
      }
    }
    // The controller's memory with its table published: right after a
    // collection, and idle, once the freed memory went back (the publisher
    // trims the C library's arenas after TRIM_AFTER_MS; V8's memory reducer
    // shrinks the heap to what is live some 10 to 45 s into a pause, where a
    // controller spends most of its time: see IDLE_MAX_MS).
    global.gc?.();
    justAfter = process.memoryUsage();
    const idleFrom = performance.now();
    await sleep(TRIM_AFTER_MS + 500);
    settled = process.memoryUsage();
    // Until the heap shrank (the reducer ran), or IDLE_MAX_MS.
    while (!quick && performance.now() - idleFrom < IDLE_MAX_MS && settled.heapTotal > justAfter.heapTotal * 0.85) {
      await sleep(500);
      settled = process.memoryUsage();
    }
    // The pages the shrunk heap let go of are unmapped in a task of their own, a moment later.
    if (!quick) {
      await sleep(1000);
      settled = process.memoryUsage();
    }
    idleMs = performance.now() - idleFrom;
    [afterIdleMs] = await addIngress(added);
  } finally {
    p.close();
    removeTable(tableName);
  }
  const mem = settled;
  return {
    ingresses,
    endpoints,
    rules,
    tableBytes: bytes,
    buildMs: median(buildMs),
    publishMs: median(publishMs),
    totalMs: median(buildMs.map((b, i) => b + publishMs[i]!)),
    endpointChangeMs: median(changeMs),
    endpointChangeP90Ms: quantile(changeMs, 0.9),
    endpointChanges: changeMs.length,
    ingressChangeMs: median(ingressMs),
    ingressChangePublishMs: median(ingressPublishMs),
    ingressChanges: ingressMs.length,
    ingressAfterIdleMs: afterIdleMs,
    idleReduced: settled.heapTotal <= justAfter.heapTotal * 0.85,
    rssMiB: Math.round(mem.rss / 2 ** 20),
    rssJustAfterMiB: Math.round(justAfter.rss / 2 ** 20),
    idleS: Math.round(idleMs / 100) / 10,
    heapMiB: Math.round(mem.heapUsed / 2 ** 20),
    heapTotalMiB: Math.round(mem.heapTotal / 2 ** 20),
    externalMiB: Math.round(mem.external / 2 ** 20),
    maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    loadAverage: loadavg()[0]!,
    ...(ingresses === 10_000 && endpoints === 100_000 ? { goals: GOALS } : {}),
  };
}

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    /** INGRESSES,ENDPOINTS: measure this size here, print its JSON line (what the parent process runs). */
    size: { type: 'string' },
  },
});
const runs = values.quick ? 1 : 5;
if (values.size !== undefined) {
  const [ingresses, endpoints] = values.size.split(',').map(Number) as [number, number];
  console.log(JSON.stringify(await measure(ingresses, endpoints, runs, values.quick)));
  process.exit(0);
}
const sizes: Array<[number, number]> = values.quick ? [[100, 1000]] : [[1000, 100_000], [10_000, 100_000]];
if (!values.json) console.log(`load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
for (const [ingresses, endpoints] of sizes) {
  const self = fileURLToPath(import.meta.url);
  const out = execFileSync(process.execPath, ['--expose-gc', ...CONTROLLER_NODE_FLAGS, self, `--size=${ingresses},${endpoints}`, ...(values.quick ? ['--quick'] : [])], { encoding: 'utf8' });
  const r = JSON.parse(out.trim().split('\n').pop()!) as Awaited<ReturnType<typeof measure>>;
  if (values.json) {
    console.log(JSON.stringify(r));
    continue;
  }
  const goal = (key: keyof typeof GOALS) => (r.goals ? ` (goal < ${r.goals[key]})` : '');
  console.log(
    `${String(r.ingresses).padStart(6)} Ingresses ${String(r.endpoints).padStart(7)} endpoints: ` +
      `full rebuild: build ${r.buildMs.toFixed(1)} ms + publish ${r.publishMs.toFixed(1)} ms = ${r.totalMs.toFixed(1)} ms${goal('totalMs')}; ` +
      `one EndpointSlice changed: ${r.endpointChangeMs.toFixed(1)} ms${goal('endpointChangeMs')}, p90 ${r.endpointChangeP90Ms.toFixed(1)} ms (medians of ${runs} rebuilds, ${r.endpointChanges} changes); ` +
      `one Ingress added: ${r.ingressChangeMs.toFixed(1)} ms, of which publish ${r.ingressChangePublishMs.toFixed(1)} ms (medians of ${r.ingressChanges}); ` +
      `one more after the idle below: ${r.ingressAfterIdleMs.toFixed(1)} ms (one change, ${r.idleReduced ? 'after' : 'before'} V8's memory reducer ran); ` +
      `table ${(r.tableBytes / 2 ** 20).toFixed(1)} MiB, ${r.rules} rules; controller RSS idle ${r.rssMiB} MiB${goal('rssMiB')} after ${r.idleS} s (${r.rssJustAfterMiB} MiB right after the last build, peak ${r.maxRssMiB} MiB), heap ${r.heapMiB} MiB; ` +
      `load average ${r.loadAverage.toFixed(2)}`,
  );
}
if (!values.json) console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
