// Time from a write to the Kubernetes API to the change being served through
// ATS, end to end: a real kube-apiserver, the controller as a child process
// (watch → cache → batched build → shared-memory publish), traffic_server
// with the ats_ingress plugin, echo backends in a test network namespace
// (the setup of test/e2e, see test/e2e/env.ts). Two kinds of change:
//
//   (a) a new Ingress with a new host (POST), until that host answers 200
//   (b) an endpoint change: the EndpointSlice of a Service moved to another
//       pod (server-side apply), until the echo names the new pod. Each move
//       goes to a pod address ATS has never contacted, as in a rollout or a
//       scale-up; ATS 9.2 adds about 20 ms to its first request to a new
//       address (HostDB delays its answer for an IP literal by one turn of
//       its event loop), so a second row (b') moves a Service back and forth
//       between two pods ATS already knows.
//
// Each change is timed from just before the write request to the first
// answer through ATS that shows it, polling ATS every ~2 ms on a keep-alive
// connection (bounded: a change not served in 5 s counts as failed). Changes
// run one after another. The controller runs once per --hold-ms value (its
// --batch-hold-ms; 0 is its default, the hold then follows the cost of a build): a fixed hold limits how often builds start
// each change, so it shows directly in the figures.
//
// Then, at the first hold value, churn: CHURN_RATE EndpointSlice writes a
// second for --churn-seconds (a Service moved between two pods, at most
// CHURN_IN_FLIGHT writes outstanding, bounded in count and time), reporting
// the share of the time the controller spent building and publishing (its
// own ats_ingress_build_seconds and ats_ingress_publisher_seconds), which
// --max-build-share (default 0.5) bounds with the burst allowance (ADR 0021:
// 0.5 × (window + 0.5 s)), the controller process's CPU over
// the same window (/proc/PID/stat), and the time until the last write is
// served once the churn stops.
//
// With --background N, N more Ingresses (10 paths each, one Service and
// one EndpointSlice of 10 endpoints each) are created first, so that builds
// cost what they cost at that size; every figure is then measured with them.
//
//   node dist/bench/controller/latency-bench.js [--quick] [--json] [--changes N] [--hold-ms 0,50] [--churn-seconds S] [--background N]
//
// --quick: 10 changes of each kind, default hold only, 3 s of churn (for npm test). Needs
// root (a network namespace), Debian's trafficserver, the built plugin and
// addon, and the kube binaries (scripts/kubebin.sh). Exit status: 0 when every
// change was served, 1 when one was not, 2 when the benchmark could not run.

import { readFile, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';

import type { HttpResponse } from '../../test/harness/ats.js';
import { E2e, echo, endpointSlice, quantile, type ControllerProcess } from '../../test/e2e/env.js';
import { DEFAULT_BUILD_BURST_MS } from '../../src/controller/loop.js';

/** Goals (issue 12): p50 within 3 ms of the write's own round trip, p99 under 20 ms, at the default settings. */
const GOAL_P50_OVER_WRITE_MS = 3;
const GOAL_P99_MS = 20;
const POLL_MS = 2;
const CHANGE_TIMEOUT_MS = 5_000;
const NS = 'latency-bench';
const WEB_PORT = 8080;
const MOVE_PORT = 8090;
const KNOWN_PORT = 8091;
/** Pod addresses 0 and 1 hold web-*, known-* and the first move-* pod; moves go to 2, 3, ... */
const FIRST_FRESH = 2;
const MAX_PODS = 250;
/** Churn: writes a second, the most outstanding at once, and the default build share it is read against (--max-build-share). */
const CHURN_RATE = 100;
const CHURN_IN_FLIGHT = 8;
const MAX_BUILD_SHARE = 0.5;

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    changes: { type: 'string' },
    'hold-ms': { type: 'string' },
    'churn-seconds': { type: 'string' },
    background: { type: 'string' },
  },
});
const quick = values.quick ?? false;
const changes = Number(values.changes ?? (quick ? 10 : 100));
const holds = (values['hold-ms'] ?? (quick ? '0' : '0,50')).split(',').map(Number);
if (!Number.isInteger(changes) || changes < 1 || changes > 10_000) fatal(`--changes "${values.changes}": a whole number from 1 to 10000`);
if (holds.some((h) => !Number.isInteger(h) || h < 0 || h > 60_000)) fatal(`--hold-ms "${values['hold-ms']}": comma-separated whole numbers of ms`);
const churnSeconds = Number(values['churn-seconds'] ?? (quick ? 3 : 30));
if (!Number.isInteger(churnSeconds) || churnSeconds < 0 || churnSeconds > 600) fatal(`--churn-seconds "${values['churn-seconds']}": a whole number from 0 (none) to 600`);
const background = Number(values.background ?? 0);
if (!Number.isInteger(background) || background < 0 || background > 20_000) fatal(`--background "${values.background}": a whole number from 0 to 20000`);
// One fresh pod address per endpoint change.
const PODS = FIRST_FRESH + changes * holds.length;
if (PODS > MAX_PODS) fatal(`--changes × hold values must stay under ${MAX_PODS - FIRST_FRESH} (each endpoint change moves to a new pod address)`);

function fatal(msg: string): never {
  process.stderr.write(`latency-bench: ${msg}\n`);
  process.exit(2);
}

const progress = (msg: string) => process.stderr.write(`latency-bench: ${msg}\n`);

interface Row {
  holdMs: number;
  change: 'new Ingress (new host)' | 'endpoint → a new pod address' | 'endpoint → a known pod address';
  n: number;
  failed: number;
  p50: number;
  p99: number;
  max: number;
  /** The write request alone (until the API server answered). */
  writeP50: number;
  /** Requests through ATS per served change, median. */
  polls: number;
  /** Measured time between two polls of ATS (request + pause), mean over served changes. */
  pollEveryMs: number;
  /** Where the time went, from the controller's own metrics over the row's changes: builds per change, the mean wait before a build, and per build the mean ms of build(), of the route-table publisher and of the others. */
  costs: Costs;
  meetsGoal: boolean;
}

interface Costs {
  buildsPerChange: number;
  /** From the first change a build took in to its start: the throttle's hold when the last cycle was dear (ats_ingress_build_wait_seconds). */
  waitMs: number;
  buildMs: number;
  /** The route-table publisher: encode, check and publish into shared memory. */
  tableMs: number;
  /** Every other publisher (status, Events, TLS, records): the API writes a change makes. */
  otherPublishersMs: number;
}

function row(holdMs: number, change: Row['change'], samples: number[], writes: number[], polls: number[], failed: number, costs: Costs): Row {
  const p99 = quantile(samples, 0.99);
  const servedPolls = polls.reduce((a, b) => a + b, 0);
  return {
    holdMs,
    change,
    n: samples.length,
    failed,
    p50: quantile(samples, 0.5),
    p99,
    max: Math.max(...samples),
    writeP50: quantile(writes, 0.5),
    polls: quantile(polls, 0.5),
    pollEveryMs: servedPolls > 0 ? samples.reduce((a, b) => a + b, 0) / servedPolls : NaN,
    costs,
    meetsGoal: failed === 0 && p99 < GOAL_P99_MS && quantile(samples, 0.5) - quantile(writes, 0.5) <= GOAL_P50_OVER_WRITE_MS,
  };
}

/** Polls ATS every ~POLL_MS until `ok`; the time since t0, or undefined after CHANGE_TIMEOUT_MS. */
async function pollServed(e: E2e, host: string, ok: (r: HttpResponse) => boolean, t0: number): Promise<{ ms?: number; polls: number }> {
  let polls = 0;
  for (;;) {
    polls++;
    const began = performance.now();
    const r = await e.ats!.request({ host, path: '/', timeoutMs: 2_000 }).catch(() => undefined);
    const now = performance.now();
    if (r && ok(r)) return { ms: now - t0, polls };
    if (now - t0 > CHANGE_TIMEOUT_MS) return { polls };
    // The next poll starts POLL_MS after this one started (at once when the request took longer).
    const pause = began + POLL_MS - now;
    if (pause >= 1) await delay(pause);
    else await new Promise<void>((res) => setImmediate(res));
  }
}

async function newIngresses(e: E2e, controller: ControllerProcess, holdMs: number): Promise<Row> {
  const before = (await controller.admin('/metrics')).text;
  const samples: number[] = [];
  const writes: number[] = [];
  const polls: number[] = [];
  let failed = 0;
  for (let i = 0; i < changes; i++) {
    const name = `lat-h${holdMs}-${i}`;
    const host = `${name}.bench.test`;
    const body = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name, namespace: NS },
      spec: { ingressClassName: 'ats', rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
    };
    const t0 = performance.now();
    const w = e.write('POST', `/apis/networking.k8s.io/v1/namespaces/${NS}/ingresses`, body);
    const served = pollServed(e, host, (r) => echo(r)?.service === `${NS}/web`, t0);
    const [wr, s] = await Promise.all([w.then((r) => ({ r, ms: performance.now() - t0 })), served]);
    if (wr.r.status !== 201) throw new Error(`POST Ingress ${name}: HTTP ${wr.r.status} ${wr.r.text}`);
    writes.push(wr.ms);
    if (s.ms === undefined) failed++;
    else {
      samples.push(s.ms);
      polls.push(s.polls);
    }
    await delay(10 + Math.random() * 10);
  }
  const costs = costsSince(before, (await controller.admin('/metrics')).text, changes);
  return row(holdMs, 'new Ingress (new host)', samples, writes, polls, failed, costs);
}

let freshPod = FIRST_FRESH - 1;
let knownPod = 0;

/** Moves a one-pod Service to another pod `changes` times: to new pod addresses (fresh) or between two pods ATS knows. */
async function endpointMoves(e: E2e, controller: ControllerProcess, holdMs: number, fresh: boolean): Promise<Row> {
  const before = (await controller.admin('/metrics')).text;
  const samples: number[] = [];
  const writes: number[] = [];
  const polls: number[] = [];
  let failed = 0;
  const service = fresh ? 'move' : 'known';
  const port = fresh ? MOVE_PORT : KNOWN_PORT;
  for (let i = 0; i < changes; i++) {
    let index: number;
    if (fresh) index = ++freshPod;
    else index = knownPod = 1 - knownPod;
    const want = `${service}-${index}`;
    const t0 = performance.now();
    const w = e.putSlice({ namespace: NS, service, port, addresses: [e.net.podAddresses[index]!] });
    const served = pollServed(e, `${service}.bench.test`, (r) => echo(r)?.pod === want, t0);
    const [wms, s] = await Promise.all([w.then(() => performance.now() - t0), served]);
    writes.push(wms);
    if (s.ms === undefined) failed++;
    else {
      samples.push(s.ms);
      polls.push(s.polls);
    }
    await delay(10 + Math.random() * 10);
  }
  const costs = costsSince(before, (await controller.admin('/metrics')).text, changes);
  return row(holdMs, fresh ? 'endpoint → a new pod address' : 'endpoint → a known pod address', samples, writes, polls, failed, costs);
}

interface Churn {
  seconds: number;
  /** Writes asked for and answered (the rest were skipped: CHURN_IN_FLIGHT outstanding). */
  writes: number;
  skipped: number;
  failedWrites: number;
  builds: number;
  /** Of the window, the share spent building and publishing (the controller's own metrics). */
  buildShare: number;
  /** The share the loop states for this window: --max-build-share × (window + --max-build-burst-ms) / window (ADR 0021). */
  shareGoal: number;
  /** The controller process's CPU over the window, in cores. */
  cpuCores: number;
  /** From the end of the churn until the last write was served; undefined if it was not within CHANGE_TIMEOUT_MS. */
  settledMs: number | undefined;
  meetsGoal: boolean;
}

/** The sum of every series of a metric in the controller's /metrics (those whose labels hold `label`, when given). */
function metricSum(text: string, name: string, label?: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (label !== undefined ? line.startsWith(`${name}{`) && line.includes(label) : line.startsWith(`${name} `) || line.startsWith(`${name}{`)) {
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return sum;
}

/** What the controller spent between two readings of its /metrics, over `changes` changes. */
function costsSince(before: string, after: string, changes: number): Costs {
  const delta = (name: string, label?: string) => metricSum(after, name, label) - metricSum(before, name, label);
  const builds = delta('ats_ingress_builds_total');
  const perBuild = (seconds: number) => (builds > 0 ? (seconds * 1000) / builds : NaN);
  const waits = delta('ats_ingress_build_wait_seconds_count');
  const table = delta('ats_ingress_publisher_seconds_sum', 'publisher="route-table"');
  return {
    buildsPerChange: builds / changes,
    waitMs: waits > 0 ? (delta('ats_ingress_build_wait_seconds_sum') * 1000) / waits : NaN,
    buildMs: perBuild(delta('ats_ingress_build_seconds_sum')),
    tableMs: perBuild(table),
    otherPublishersMs: perBuild(delta('ats_ingress_publisher_seconds_sum') - table),
  };
}

/** utime + stime of a process, in seconds (/proc/PID/stat; clock ticks of 1/100 s on Linux). */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function churn(e: E2e, controller: ControllerProcess): Promise<Churn> {
  const before = (await controller.admin('/metrics')).text;
  const cpu0 = await cpuSeconds(controller.pid);
  const t0 = performance.now();
  const total = CHURN_RATE * churnSeconds;
  let writes = 0;
  let skipped = 0;
  let failedWrites = 0;
  let inFlight = 0;
  let last = knownPod;
  const pending = new Set<Promise<void>>();
  // One write every 1/CHURN_RATE s on a fixed schedule, none left waiting when CHURN_IN_FLIGHT are outstanding.
  for (let i = 0; i < total && performance.now() - t0 < churnSeconds * 1000 + 1_000; i++) {
    const due = t0 + (i * 1000) / CHURN_RATE;
    const wait = due - performance.now();
    if (wait >= 1) await delay(wait);
    if (inFlight >= CHURN_IN_FLIGHT) {
      skipped++;
      continue;
    }
    last = 1 - last;
    inFlight++;
    const w: Promise<void> = e
      .putSlice({ namespace: NS, service: 'known', port: KNOWN_PORT, addresses: [e.net.podAddresses[last]!] })
      .then(() => void writes++, () => void failedWrites++)
      .finally(() => {
        inFlight--;
        pending.delete(w);
      });
    pending.add(w);
  }
  await Promise.all(pending);
  const ended = performance.now();
  const cpu1 = await cpuSeconds(controller.pid);
  const after = (await controller.admin('/metrics')).text;
  const want = `known-${last}`;
  const served = await pollServed(e, 'known.bench.test', (r) => echo(r)?.pod === want, ended);
  knownPod = last;
  const window = (ended - t0) / 1000;
  const busy = ['ats_ingress_build_seconds_sum', 'ats_ingress_publisher_seconds_sum'].reduce((n, m) => n + metricSum(after, m) - metricSum(before, m), 0);
  const buildShare = busy / window;
  const shareGoal = (MAX_BUILD_SHARE * (window + DEFAULT_BUILD_BURST_MS / 1000)) / window;
  return {
    seconds: window,
    writes,
    skipped,
    failedWrites,
    builds: metricSum(after, 'ats_ingress_builds_total') - metricSum(before, 'ats_ingress_builds_total'),
    buildShare,
    shareGoal,
    cpuCores: (cpu1 - cpu0) / window,
    settledMs: served.ms,
    meetsGoal: failedWrites === 0 && served.ms !== undefined && buildShare <= shareGoal,
  };
}

/** --background: Ingresses bg-<i> with 10 paths to their own (headless) Service, whose slice has 10 endpoints (addresses no request goes to). */
async function createBackground(e: E2e): Promise<void> {
  const t0 = performance.now();
  const BATCH = 500;
  for (let from = 0; from < background; from += BATCH) {
    const items: unknown[] = [];
    for (let i = from; i < Math.min(background, from + BATCH); i++) {
      const name = `bg-${i}`;
      items.push(
        // Headless: the test API server's service IP range is too small for thousands.
        { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: NS }, spec: { clusterIP: 'None', ports: [{ name: 'http', port: 80, targetPort: WEB_PORT }] } },
        endpointSlice({ namespace: NS, service: name, port: WEB_PORT, addresses: Array.from({ length: 10 }, (_, k) => `10.${200 + (i >> 16)}.${(i >> 8) & 255}.${((i & 255) * 10 + k) % 250 + 1}`) }),
        {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'Ingress',
          metadata: { name, namespace: NS },
          spec: { ingressClassName: 'ats', rules: [{ host: `${name}.bench.test`, http: { paths: Array.from({ length: 10 }, (_, k) => ({ path: `/p${k}`, pathType: 'Prefix', backend: { service: { name, port: { number: 80 } } } })) } }] },
        },
      );
    }
    await e.kubectl(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
  }
  progress(`${background} background Ingresses with their Services and EndpointSlices created in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

async function setup(e: E2e): Promise<void> {
  await e.kubectl(['create', 'namespace', NS]);
  const svc = (name: string, targetPort: number) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: NS }, spec: { ports: [{ name: 'http', port: 80, targetPort }] } });
  const hostIngress = (name: string) => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: NS },
    spec: { ingressClassName: 'ats', rules: [{ host: `${name}.bench.test`, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name, port: { number: 80 } } } }] } }] },
  });
  const items = [
    { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'ats' }, spec: { controller: 'ats.ingress.kubernetes.io/controller' } },
    svc('web', WEB_PORT),
    svc('move', MOVE_PORT),
    svc('known', KNOWN_PORT),
    hostIngress('move'),
    hostIngress('known'),
  ];
  await e.kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
  if (background > 0) await createBackground(e);
  await e.putSlice({ namespace: NS, service: 'web', port: WEB_PORT, addresses: e.net.podAddresses.slice(0, 2) });
  await e.putSlice({ namespace: NS, service: 'move', port: MOVE_PORT, addresses: [e.net.podAddresses[freshPod]!] });
  // Both "known" pods get traffic through ATS before any measurement.
  await e.putSlice({ namespace: NS, service: 'known', port: KNOWN_PORT, addresses: e.net.podAddresses.slice(0, 2) });
}

function table(rows: Row[]): string {
  const head = ['hold ms', 'change', 'n', 'p50 ms', 'p99 ms', 'max ms', 'write p50 ms', 'polls p50', 'poll every ms', 'builds/change', 'wait ms', 'build ms', 'table ms', 'other publishers ms', 'failed', `p50 − write ≤ ${GOAL_P50_OVER_WRITE_MS}, p99 < ${GOAL_P99_MS} ms`];
  const cells = rows.map((r) => [
    `${r.holdMs}${r.holdMs === 0 ? ' (default)' : ''}`,
    r.change,
    String(r.n),
    r.p50.toFixed(1),
    r.p99.toFixed(1),
    r.max.toFixed(1),
    r.writeP50.toFixed(1),
    String(r.polls),
    r.pollEveryMs.toFixed(1),
    r.costs.buildsPerChange.toFixed(2),
    r.costs.waitMs.toFixed(1),
    r.costs.buildMs.toFixed(1),
    r.costs.tableMs.toFixed(1),
    r.costs.otherPublishersMs.toFixed(1),
    String(r.failed),
    r.meetsGoal ? 'yes' : 'NO',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((x, i) => (i === 1 ? x.padEnd(widths[i]!) : x.padStart(widths[i]!))).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

async function main(): Promise<number> {
  const loadBefore = loadavg();
  progress(`starting kube-apiserver, the test network and ATS (${changes} changes of each kind, hold ${holds.join(', ')} ms)`);
  let e: E2e;
  try {
    e = await E2e.start({
      tag: 'latbench',
      pods: PODS,
      backends: [
        ...[0, 1].flatMap((i) => [
          { service: `${NS}/web`, pod: `web-${i}`, podIndex: i, port: WEB_PORT },
          { service: `${NS}/known`, pod: `known-${i}`, podIndex: i, port: KNOWN_PORT },
        ]),
        ...Array.from({ length: PODS - FIRST_FRESH + 1 }, (_, k) => {
          const i = FIRST_FRESH - 1 + k;
          return { service: `${NS}/move`, pod: `move-${i}`, podIndex: i, port: MOVE_PORT };
        }),
      ],
    });
  } catch (err) {
    progress(`cannot set up: ${(err as Error).message}`);
    return 2;
  }
  const rows: Row[] = [];
  let churned: Churn | undefined;
  const started = performance.now();
  let controller: ControllerProcess | undefined;
  try {
    await setup(e);
    for (const hold of holds) {
      await controller?.stop();
      controller = await e.startController(['--batch-hold-ms', String(hold), '--ats-stats-url', e.statsUrl, '--log-level', 'warn']);
      await controller.waitReady(60_000);
      for (const host of ['move', 'known']) {
        const pods = new Set<string>();
        const t0 = performance.now();
        while (pods.size < (host === 'known' && hold === holds[0] ? 2 : 1) && performance.now() - t0 < 10_000) {
          const pod = echo(await e.ats!.request({ host: `${host}.bench.test`, path: '/', fresh: true }).catch(() => ({ status: 0, headers: {}, body: '' })))?.pod;
          if (pod) pods.add(pod);
        }
        if (pods.size === 0) throw new Error(`${host}.bench.test is not served\n${controller.log()}`);
      }
      if (hold === holds[0]) await e.putSlice({ namespace: NS, service: 'known', port: KNOWN_PORT, addresses: [e.net.podAddresses[knownPod]!] });
      progress(`hold ${hold} ms: ${changes} new Ingresses`);
      rows.push(await newIngresses(e, controller, hold));
      progress(`hold ${hold} ms: ${changes} endpoint changes to new pod addresses`);
      rows.push(await endpointMoves(e, controller, hold, true));
      progress(`hold ${hold} ms: ${changes} endpoint changes between known pod addresses`);
      rows.push(await endpointMoves(e, controller, hold, false));
      if (hold === holds[0] && churnSeconds > 0) {
        progress(`hold ${hold} ms: churn, ${CHURN_RATE} EndpointSlice writes a second for ${churnSeconds} s`);
        churned = await churn(e, controller);
      }
    }
  } catch (err) {
    progress(`failed: ${(err as Error).stack ?? String(err)}`);
    if (controller) progress(`controller log:\n${controller.log()}`);
    await e.close().catch((c: Error) => progress(c.message));
    return 2;
  }
  const runSeconds = (performance.now() - started) / 1000;
  await e.close();
  const loadAfter = loadavg();
  const report = {
    benchmark: 'controller write-to-served latency',
    goal: `p50 within ${GOAL_P50_OVER_WRITE_MS} ms of the write's p50, p99 < ${GOAL_P99_MS} ms`,
    changesPerKind: changes,
    backgroundIngresses: background,
    pollMs: POLL_MS,
    loadAverageBefore: loadBefore,
    loadAverageAfter: loadAfter,
    runSeconds,
    rows,
    ...(churned ? { churn: { ratePerSecond: CHURN_RATE, goalBuildShare: MAX_BUILD_SHARE, ...churned } } : {}),
  };
  if (process.env['ATS_INGRESS_BENCH_OUT']) await writeFile(process.env['ATS_INGRESS_BENCH_OUT'], JSON.stringify(report, null, 2) + '\n');
  if (values.json) {
    console.log(JSON.stringify(report, null, 2));
  } else {
    console.log(`Write to the API server → route served through ATS (${changes} changes of each kind, one at a time, ATS polled every ~${POLL_MS} ms${background > 0 ? `; ${background} background Ingresses of 10 paths each` : ''})`);
    console.log(`load average before: ${loadBefore.map((l) => l.toFixed(2)).join(' ')}; after: ${loadAfter.map((l) => l.toFixed(2)).join(' ')}; ${runSeconds.toFixed(0)} s of measuring`);
    console.log(table(rows));
    if (churned) {
      const c = churned;
      console.log(
        `churn at hold ${holds[0]} ms: ${c.writes} EndpointSlice writes in ${c.seconds.toFixed(1)} s (${(c.writes / c.seconds).toFixed(0)}/s; ${c.skipped} skipped with ${CHURN_IN_FLIGHT} outstanding, ${c.failedWrites} failed), ` +
          `${c.builds} builds; building and publishing ${(c.buildShare * 100).toFixed(1)} % of the time (goal ≤ ${(c.shareGoal * 100).toFixed(1)} %: --max-build-share ${MAX_BUILD_SHARE} of the window and of the ${DEFAULT_BUILD_BURST_MS} ms burst allowance, ${c.buildShare <= c.shareGoal ? 'met' : 'NOT MET'}); ` +
          `the controller process ${(c.cpuCores * 100).toFixed(1)} % of a core; the last write served ${c.settledMs === undefined ? 'NOT within 5 s' : `${c.settledMs.toFixed(1)} ms after the churn ended`}`,
      );
    }
    console.log(`goal: p50 within ${GOAL_P50_OVER_WRITE_MS} ms of the write's own round trip (write p50), p99 < ${GOAL_P99_MS} ms, at the default settings. "hold" is the controller's --batch-hold-ms: at least that long between two builds, so changes one after another wait for it (default 0: the hold follows the cost of a build).`);
  }
  return rows.some((r) => r.failed > 0) || (churned !== undefined && (churned.failedWrites > 0 || churned.settledMs === undefined)) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    progress((err as Error).stack ?? String(err));
    process.exit(2);
  },
);
