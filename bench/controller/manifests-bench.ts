// `controller --manifests DIR --once` at 10,000 Ingresses (10 paths each,
// one Service and one EndpointSlice of 10 endpoints each): the wall time of
// the whole command, from its start to its exit, and its peak RSS. That is
// reading and checking every manifest, one build and one publish into
// shared memory, as `npm run demo` or a CI check of a manifests directory
// runs it.
//
// The manifests come in the two shapes a user hands over:
// - list: one file with a `kind: List` of every object, as
//   `kubectl get -o json` gives them;
// - documents: one file of JSON documents between `---` lines.
// Both in compact JSON (see writeShape).
// Each shape runs twice on one table name: first with no table in place (a
// controller's first start), then with the table of that run in place (a
// restart: the last table's stats slots are read). The summary goes to a
// file, as a user would redirect it; its first line is checked.
//
// The controller is the real command in a process of its own; its peak RSS
// is getrusage's ru_maxrss (what `/usr/bin/time -f %M` prints), reported
// by a module loaded before it (manifests-bench-rusage.ts).
//
//   node dist/bench/controller/manifests-bench.js [--quick] [--json] [--runs N]
//
// --quick: 100 Ingresses, one run of each (for npm test).
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, type WriteStream } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { ingress, ingressClass, prefix, service, slice } from '../../src/testing/fixtures.js';
import type { KubeObject } from '../../src/kube/types.js';
import { RouteTable } from '../../src/route-table/route-table.js';
import { CONTROLLER_NODE_FLAGS } from '../../src/controller/node-flags.js';

/** The goals of issue 12 at 10,000 Ingresses of 10 paths each. */
const GOALS = { seconds: 3, peakRssMiB: 400 } as const;
const PATHS = 10;
const PER_SERVICE = 10;
/** A run that takes longer than this is stopped and counts as failed. */
const RUN_TIMEOUT_MS = 120_000;

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    runs: { type: 'string' },
  },
});
const ingresses = values.quick ? 100 : 10_000;
const runs = values.runs !== undefined ? Number(values.runs) : values.quick ? 1 : 3;
if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs: a whole number of at least 1');

/** Every object of the cluster, one at a time. */
function* cluster(): Generator<KubeObject> {
  yield ingressClass('ats').build();
  for (let i = 0; i < ingresses; i++) {
    const ns = `team-${i % 100}`;
    const name = `app-${i}`;
    const paths = Array.from({ length: PATHS }, (_, p) => prefix(`/path-${p}`, name, 'http'));
    yield ingress(`${ns}/${name}`).className('ats').created(i).rule(`${name}.${ns}.example.com`, ...paths).build();
    yield service(`${ns}/${name}`).port('http', 80, 8080).build();
    const s = slice(`${ns}/${name}`).port('http', 8080);
    for (let e = 0; e < PER_SERVICE; e++) s.ready(`10.${(i >> 8) & 255}.${i & 255}.${e + 1}`);
    yield s.build();
  }
}

/**
 * Compact JSON, as issue 12 sized the goal (one 24 MB file at this size);
 * kubectl's indented output of the same objects is four to five times
 * larger (bench/README.md). Written piece by piece: the whole file as one
 * string would be the bench's memory, not the controller's.
 */
async function writeShape(file: string, shape: 'list' | 'documents'): Promise<void> {
  const out = createWriteStream(file);
  const write = (text: string) => (out.write(text) ? Promise.resolve() : new Promise<void>((resolve) => out.once('drain', resolve)));
  let first = true;
  if (shape === 'list') await write('{"apiVersion":"v1","kind":"List","metadata":{"resourceVersion":""},"items":[');
  for (const o of cluster()) {
    if (shape === 'list') await write(`${first ? '' : ','}${JSON.stringify(o)}`);
    else await write(`${first ? '' : '---\n'}${JSON.stringify(o)}\n`);
    first = false;
  }
  if (shape === 'list') await write(']}\n');
  await close(out);
}

function close(out: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

interface Run {
  seconds: number;
  peakRssMiB: number;
}

/** One `controller --manifests DIR --once` in a process of its own. */
async function runOnce(dir: string, table: string, scratch: string, label: string): Promise<Run> {
  const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
  const rusage = fileURLToPath(new URL('./manifests-bench-rusage.js', import.meta.url));
  const summary = join(scratch, `${label}.out`);
  const usageFile = join(scratch, `${label}.rusage`);
  const out = createWriteStream(summary);
  await new Promise<void>((resolve) => out.once('open', () => resolve()));
  const t0 = performance.now();
  const child = spawn(process.execPath, [...CONTROLLER_NODE_FLAGS, '--import', rusage, main, 'controller', '--manifests', dir, '--once', '--table', table],
    { stdio: ['ignore', out, 'pipe'], env: { ...process.env, ATS_INGRESS_BENCH_RUSAGE: usageFile } });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => { if (stderr.length < 64_000) stderr += d; });
  const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  const seconds = (performance.now() - t0) / 1000;
  clearTimeout(timer);
  await close(out);
  if (code !== 0) throw new Error(`controller --once (${label}) exited with ${code}: ${stderr.slice(-2000)}`);
  const head = readFileSync(summary, 'utf8').split('\n', 1)[0] ?? '';
  const want = `${ingresses} hosts, ${ingresses * PATHS} rules`;
  if (!head.includes(want)) throw new Error(`controller --once (${label}) published something else: "${head}" (expected ${want})`);
  const usage = JSON.parse(readFileSync(usageFile, 'utf8')) as { maxRSS: number };
  return { seconds, peakRssMiB: Math.round(usage.maxRSS / 1024) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

const scratch = mkdtempSync(join(tmpdir(), 'ats-ingress-manifests-bench-'));
const tables: string[] = [];
const results: Record<string, unknown>[] = [];
try {
  if (!values.json) console.log(`load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  for (const shape of ['list', 'documents'] as const) {
    const dir = join(scratch, shape);
    mkdirSync(dir);
    const file = join(dir, shape === 'list' ? 'cluster.json' : 'cluster.yaml');
    await writeShape(file, shape);
    const bytes = statSync(file).size;
    const fresh: Run[] = [];
    const restart: Run[] = [];
    for (let r = 0; r < runs; r++) {
      const table = `bench-manifests-${process.pid}-${shape}-${r}`;
      tables.push(table);
      fresh.push(await runOnce(dir, table, scratch, `${shape}-${r}-fresh`));
      restart.push(await runOnce(dir, table, scratch, `${shape}-${r}-restart`));
      removeTable(table);
    }
    const row = {
      shape,
      ingresses,
      rules: ingresses * PATHS,
      fileMiB: Math.round((bytes / 2 ** 20) * 10) / 10,
      runs,
      seconds: median(fresh.map((x) => x.seconds)),
      peakRssMiB: median(fresh.map((x) => x.peakRssMiB)),
      restartSeconds: median(restart.map((x) => x.seconds)),
      restartPeakRssMiB: median(restart.map((x) => x.peakRssMiB)),
      secondsRange: [Math.min(...fresh.map((x) => x.seconds)), Math.max(...fresh.map((x) => x.seconds))],
      loadAverage: loadavg()[0]!,
      ...(ingresses === 10_000 ? { goals: GOALS } : {}),
    };
    results.push(row);
    if (values.json) {
      console.log(JSON.stringify(row));
      continue;
    }
    const goal = (key: keyof typeof GOALS) => (row.goals ? ` (goal < ${row.goals[key]})` : '');
    console.log(
      `${shape.padEnd(9)} ${ingresses} Ingresses, ${row.rules} rules, one ${row.fileMiB} MiB file: ` +
        `no table yet ${row.seconds.toFixed(2)} s${goal('seconds')}, peak RSS ${row.peakRssMiB} MiB${goal('peakRssMiB')}; ` +
        `its table in place ${row.restartSeconds.toFixed(2)} s, peak RSS ${row.restartPeakRssMiB} MiB ` +
        `(medians of ${runs}; load average ${row.loadAverage.toFixed(2)})`,
    );
  }
  if (!values.json) console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
} finally {
  for (const t of tables) removeTable(t);
  rmSync(scratch, { recursive: true, force: true });
}

/** Removes a table if it is there (a run that failed may leave none). */
function removeTable(name: string): void {
  const table = RouteTable.open(name);
  table.remove();
  table.close();
}
