// Build and publish time, and controller memory, at 1,000 and 10,000
// Ingresses with 100,000 endpoints: the full path of one rebuild (cache
// snapshot, build(), model check, addon publish into shared memory).
//
//   node dist/bench/controller/build-publish-bench.js [--quick] [--json]
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { build } from '../../src/model/build.js';
import { exact, ingress, ingressClass, prefix, service, slice } from '../../src/testing/fixtures.js';
import type { KubeObject } from '../../src/kube/types.js';
import { ObjectCache } from '../../src/cache/object-cache.js';
import { encodeModel } from '../../src/route-table/encode-model.js';
import { RouteTable } from '../../src/route-table/route-table.js';

function cluster(ingresses: number, endpoints: number): KubeObject[] {
  const perService = Math.max(1, Math.round(endpoints / ingresses));
  const objects: KubeObject[] = [ingressClass('ats').build()];
  for (let i = 0; i < ingresses; i++) {
    const ns = `team-${i % 100}`;
    const name = `app-${i}`;
    const host = `${name}.${ns}.example.com`;
    objects.push(
      ingress(`${ns}/${name}`).className('ats').created(i).rule(host, prefix('/', name, 'http'), exact('/healthz', name, 'http')).build(),
      service(`${ns}/${name}`).port('http', 80, 8080).build(),
    );
    const s = slice(`${ns}/${name}`).port('http', 8080);
    for (let e = 0; e < perService; e++) s.ready(`10.${(i >> 8) & 255}.${i & 255}.${e + 1}`);
    objects.push(s.build());
  }
  return JSON.parse(JSON.stringify(objects)) as KubeObject[];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function measure(ingresses: number, endpoints: number, runs: number) {
  const objects = cluster(ingresses, endpoints);
  const cache = new ObjectCache();
  for (const o of objects) cache.upsert(o);
  const table = RouteTable.open(`bench-build-${process.pid}`);
  const buildMs: number[] = [];
  const publishMs: number[] = [];
  let bytes = 0;
  let rules = 0;
  try {
    for (let r = 0; r < runs + 1; r++) {
      const t0 = performance.now();
      const result = build(cache.snapshot());
      const t1 = performance.now();
      // What RouteTablePublisher does: encode (which validates, and is the
      // change check), then hand the encoding to the addon.
      const published = table.publishEncoded(encodeModel(result.model.table));
      const t2 = performance.now();
      if (r === 0) continue; // warm-up
      buildMs.push(t1 - t0);
      publishMs.push(t2 - t1);
      bytes = published.bytes;
      rules = result.model.table.hosts.reduce((n, h) => n + h.rules.length, 0);
    }
  } finally {
    table.remove();
    table.close();
  }
  global.gc?.();
  const mem = process.memoryUsage();
  return {
    ingresses,
    endpoints,
    rules,
    tableBytes: bytes,
    buildMs: median(buildMs),
    publishMs: median(publishMs),
    totalMs: median(buildMs.map((b, i) => b + publishMs[i]!)),
    rssMiB: Math.round(mem.rss / 2 ** 20),
    heapMiB: Math.round(mem.heapUsed / 2 ** 20),
  };
}

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } } });
const sizes: Array<[number, number]> = values.quick ? [[100, 1000]] : [[1000, 100_000], [10_000, 100_000]];
const runs = values.quick ? 1 : 5;
if (!values.json) console.log(`load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
for (const [ingresses, endpoints] of sizes) {
  const r = measure(ingresses, endpoints, runs);
  if (values.json) console.log(JSON.stringify(r));
  else {
    console.log(
      `${String(r.ingresses).padStart(6)} Ingresses ${String(r.endpoints).padStart(7)} endpoints: build ${r.buildMs.toFixed(1)} ms + publish ${r.publishMs.toFixed(1)} ms = ${r.totalMs.toFixed(1)} ms (median of ${runs}); table ${(r.tableBytes / 2 ** 20).toFixed(1)} MiB, ${r.rules} rules; controller RSS ${r.rssMiB} MiB, heap ${r.heapMiB} MiB`,
    );
  }
}
if (!values.json) console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
