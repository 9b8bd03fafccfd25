// The proxy benchmark: requests/s and latency through ATS for each way of
// routing, side by side in one run, with ratios against the goals.
//
//   node dist/bench/proxy/proxy-bench.js [--quick] [--json] [--rounds N] [--seconds S] [--routes 10,100000]
//
// Variants, each a private ATS (test/harness/ats.ts, its cache on) in front
// of one private nginx, at each table size:
//   static  ATS with one remap.config rule per route (ATS's own ceiling)
//   global  the ats_ingress plugin in plugin.config
//   remap   the ats_ingress plugin behind a catch-all remap rule
//   lua     tslua asking a private redis-server per request in the replaced
//           controller's lookup order, one blocking round trip per SELECT and
//           per SMEMBERS (6 for the benchmarked request; the design we replace)
//   lua-1rt the same script and data, the same lookups pipelined into one round
//           trip (that design at its best)
// Each of these asks for an answer nginx sends without Cache-Control: ATS
// looks it up in its cache, misses and does not store it (a miss, not
// cacheable). Then, on the same ATS as static, global and remap:
//   static-hit, global-hit, remap-hit  the same route, a path nginx answers
//           with Cache-Control: public, max-age=3600, in ATS's cache before
//           the load; nginx counts the requests that still reach it
// plus `direct`: wrk straight at nginx, to show the backend is not the limit.
// Every variant gets the same request: GET /p<j>/item with the Host of a route
// in the middle of the table, routed by its Prefix rule /p<j>.
// wrk runs every variant once per round (all table sizes in one round), the
// order rotating from round to round, and the report gives the median of the
// rounds, so that noise on this shared machine hits all variants alike.
//
// Exit status: 0 when every variant routed its check request to the backend
// and answered under load with under 1% errors (and, for a hit variant, with
// under 1% of its requests reaching nginx); 1 when one did not; 2 when the
// benchmark could not run (missing tool, time bound hit).

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import {
  ATS_MODULES_DIR,
  AtsStartError,
  httpRequest,
  startAts,
  type AtsInstance,
  type AtsOptions,
  type HttpResponse,
} from '../../test/harness/ats.js';
import { RouteTable } from '../../src/route-table/route-table.js';
import {
  BACKEND_BODY,
  CACHEABLE_CACHE_CONTROL,
  CACHEABLE_SUFFIX,
  cpuNs,
  ensureNginx,
  makeWorkDir,
  redisCommandCalls,
  redisPipeline,
  startNginx,
  startRedis,
  type Nginx,
  type Redis,
} from './processes.js';
import { redisCommands, redisDbs, remapLines, routeSet, tableModel, type RouteSet } from './routes.js';
import { runWrk, wrkCommandLine, type WrkOptions, type WrkResult } from './wrk.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const HERE = path.join(ROOT, 'bench/proxy');
const PLUGIN_SO = process.env.ATS_INGRESS_PLUGIN ?? path.join(ROOT, 'ats-plugin/build/ats_ingress.so');
const LUA_SCRIPT = path.join(HERE, 'redis-route.lua');
const WRK_SCRIPT = path.join(HERE, 'wrk-report.lua');
const LUAJIT = '/usr/lib/x86_64-linux-gnu/libluajit-5.1.so.2';
const TSLUA = path.join(ATS_MODULES_DIR, 'tslua.so');
const LIBLOADER = path.join(ATS_MODULES_DIR, 'libloader.so');

const THREADS = 2;
const CONNECTIONS = 50;
/** Goals from the design: plugin ≥ 0.97 × static remap, plugin ≥ 5 × Lua+Redis (in the replaced controller's lookup order). */
const GOAL_VS_STATIC = 0.97;
const GOAL_VS_LUA = 5;
/** More failed answers than this share of a run's requests fails the run. */
const MAX_ERROR_SHARE = 0.01;
/** A hit variant fails when more than this share of its requests reached nginx. */
const MAX_BACKEND_SHARE_HIT = 0.01;
/** Bound on ATS loading a large remap.config; past it the static variant is skipped at that size. */
const STATIC_START_TIMEOUT_MS = 120_000;
const ATS_START_TIMEOUT_MS = 30_000;
const CHECK_TIMEOUT_MS = 8_000;

// ---------------------------------------------------------------------------
// Arguments

interface Args {
  quick: boolean;
  json: boolean;
  rounds: number;
  seconds: number;
  warmupSeconds: number;
  sizes: number[];
}

const USAGE = `usage: node dist/bench/proxy/proxy-bench.js [--quick] [--json] [--rounds N] [--seconds S] [--routes N,N]
  --quick       one round of 1 s per variant at 10 routes (the test suite runs this so it cannot rot)
  --json        print the results as JSON on stdout (progress stays on stderr)
  --rounds N    rounds (default 5; quick 1): each runs every variant once, all table
                sizes, the order rotating by one from round to round; the report
                gives each variant's median over the rounds and ratios of medians
  --seconds S   wrk duration per run (default 5; quick 1)
  --routes LIST table sizes (default 10,100000; quick 10)`;

function parseArgs(argv: string[]): Args {
  const a: Args = { quick: false, json: false, rounds: 5, seconds: 5, warmupSeconds: 2, sizes: [10, 100_000] };
  let rounds: number | undefined;
  let seconds: number | undefined;
  let sizes: number[] | undefined;
  const positive = (flag: string, v: string | undefined, max: number): number => {
    const n = Number(v);
    if (v === undefined || !Number.isInteger(n) || n < 1 || n > max) usage(`${flag} needs a whole number from 1 to ${max}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--quick') a.quick = true;
    else if (arg === '--json') a.json = true;
    else if (arg === '--rounds') rounds = positive(arg, argv[++i], 20);
    else if (arg === '--seconds') seconds = positive(arg, argv[++i], 120);
    else if (arg === '--routes') {
      const v = argv[++i];
      if (v === undefined) usage('--routes needs a list such as 10,100000');
      sizes = v.split(',').map((s) => positive('--routes', s, 1_000_000));
    } else if (arg === '--help' || arg === '-h') {
      process.stdout.write(USAGE + '\n');
      process.exit(0);
    } else usage(`unknown argument ${JSON.stringify(arg)}`);
  }
  if (a.quick) {
    a.rounds = 1;
    a.seconds = 1;
    a.warmupSeconds = 0;
    a.sizes = [10];
  }
  a.rounds = rounds ?? a.rounds;
  a.seconds = seconds ?? a.seconds;
  a.sizes = sizes ?? a.sizes;
  return a;
}

function usage(message: string): never {
  process.stderr.write(`proxy-bench: ${message}\n${USAGE}\n`);
  process.exit(2);
}

// ---------------------------------------------------------------------------
// Progress and clean-up

const t0 = performance.now();
function progress(line: string): void {
  process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${line}\n`);
}

/** Clean-up steps, run last-registered first, each at most once. */
class Cleanup {
  private steps: Array<{ what: string; fn: () => Promise<void> | void }> = [];
  private running: Promise<void> | undefined;

  add(what: string, fn: () => Promise<void> | void): void {
    this.steps.push({ what, fn });
  }

  run(): Promise<void> {
    this.running ??= (async () => {
      for (const step of this.steps.reverse()) {
        try {
          await step.fn();
        } catch (err) {
          progress(`clean-up: ${step.what}: ${(err as Error).message}`);
        }
      }
    })();
    return this.running;
  }
}

class BenchFailure extends Error {}

// ---------------------------------------------------------------------------
// Variants

/** A way of routing, as ATS is started for it. */
type AtsKind = 'static' | 'global' | 'remap' | 'lua' | 'lua-1rt';
/** The same ATS as `static`, `global` or `remap`, asked for an object in its cache. */
type HitKind = 'static-hit' | 'global-hit' | 'remap-hit';
type Kind = 'direct' | AtsKind | HitKind;

const KIND_LABEL: Record<Kind, string> = {
  direct: 'nginx direct (no proxy)',
  static: 'ATS static remap.config',
  global: 'plugin, global mode',
  remap: 'plugin, remap mode',
  lua: 'tslua + Redis, original order',
  'lua-1rt': 'tslua + Redis, 1 round trip',
  'static-hit': 'ATS static remap.config',
  'global-hit': 'plugin, global mode',
  'remap-hit': 'plugin, remap mode',
};

/** The hit variant measured on each kind's ATS. */
const HIT_OF: Partial<Record<AtsKind, HitKind>> = { static: 'static-hit', global: 'global-hit', remap: 'remap-hit' };

/** What ATS's cache does for a variant's requests. */
type CacheUse = 'none' | 'miss' | 'hit';

function cacheUse(kind: Kind): CacheUse {
  if (kind === 'direct') return 'none';
  return kind.endsWith('-hit') ? 'hit' : 'miss';
}

const CACHE_LABEL: Record<CacheUse, string> = { none: '-', miss: 'miss (not cacheable)', hit: 'hit' };

interface Variant {
  kind: Kind;
  /** Route count; undefined for `direct`. */
  routes: number | undefined;
  port: number;
  target: { host: string; path: string };
  /** The ATS it runs on; a hit variant shares its miss variant's. */
  ats?: AtsInstance;
  /** Why it was not measured, when it was not. */
  skipped?: string;
  /** Why it failed (no 200 from the backend, or too many errors under load). */
  failed?: string;
  /** Processes whose CPU time per request is reported: the proxy (ATS, or nginx for `direct`) and Redis. */
  cpu: { proxy?: number; redis?: number };
  /** Hit variants: how many requests for the cacheable path nginx has answered so far. */
  backendCount?: () => Promise<number>;
  /** Lua variants: how many SELECT and SMEMBERS redis-server has run so far (nothing else asks it during a run). */
  redisCalls?: () => Promise<number>;
  runs: Run[];
}

interface Run extends WrkResult {
  /** CPU time of the proxy process per request, µs. */
  proxyCpuUs: number | null;
  /** CPU time of redis-server per request, µs (Lua variants). */
  redisCpuUs: number | null;
  /** Hit variants: requests of this run that reached nginx (ATS's cache did not answer them). */
  backendRequests: number | null;
  /** Lua variants: SELECT and SMEMBERS commands redis-server ran per request. */
  redisCommandsPerRequest: number | null;
}

/**
 * Runs wrk and measures the CPU the variant's processes spent per request
 * meanwhile, and for a hit variant how many requests got past the cache
 * (nothing else asks nginx for the cacheable path while it runs).
 */
async function measure(v: Variant, o: WrkOptions): Promise<Run> {
  const read = (pid: number | undefined): number | undefined => (pid === undefined ? undefined : cpuNs(pid));
  const backendBefore = await v.backendCount?.();
  const redisBefore = await v.redisCalls?.();
  const before = { proxy: read(v.cpu.proxy), redis: read(v.cpu.redis) };
  const r = await runWrk(o);
  const after = { proxy: read(v.cpu.proxy), redis: read(v.cpu.redis) };
  const redisAfter = await v.redisCalls?.();
  const backendAfter = await v.backendCount?.();
  const perRequest = (a: number | undefined, b: number | undefined): number | null =>
    a === undefined || b === undefined || r.requests === 0 ? null : (b - a) / 1000 / r.requests;
  return {
    ...r,
    proxyCpuUs: perRequest(before.proxy, after.proxy),
    redisCpuUs: perRequest(before.redis, after.redis),
    backendRequests: backendBefore === undefined || backendAfter === undefined ? null : backendAfter - backendBefore,
    redisCommandsPerRequest:
      redisBefore === undefined || redisAfter === undefined || r.requests === 0 ? null : (redisAfter - redisBefore) / r.requests,
  };
}

/** SELECT and SMEMBERS run by redis-server so far: the Lua variants' lookups. */
async function redisLookupCalls(port: number): Promise<number> {
  const calls = await redisCommandCalls(port);
  return (calls.get('select') ?? 0) + (calls.get('smembers') ?? 0);
}

function variantName(v: Variant): string {
  return v.routes === undefined ? v.kind : `${v.kind}@${routeSet(v.routes).label}`;
}

function atsOptions(
  kind: AtsKind,
  set: RouteSet,
  ctx: { table: string; backendPort: number; redisPort: number; redisDbs: { exact: number; prefix: number } },
): AtsOptions {
  // Same records for every variant; the harness sizes ATS for 2 cores (2 event threads).
  const base: AtsOptions = { startTimeoutMs: ATS_START_TIMEOUT_MS, stopTimeoutMs: 5_000 };
  switch (kind) {
    case 'static':
      return { ...base, remap: remapLines(set, ctx.backendPort), startTimeoutMs: STATIC_START_TIMEOUT_MS };
    case 'global':
      return { ...base, plugins: [`${PLUGIN_SO} --table=${ctx.table}`] };
    case 'remap':
      return { ...base, remap: [`map / http://127.0.0.1:1/ @plugin=${PLUGIN_SO} @pparam=--table=${ctx.table}`] };
    case 'lua':
    case 'lua-1rt': {
      const mode = kind === 'lua' ? 'original' : 'pipelined';
      const args = `port=${ctx.redisPort} exact=${ctx.redisDbs.exact} prefix=${ctx.redisDbs.prefix} mode=${mode}`;
      return { ...base, plugins: [`${LIBLOADER} ${LUAJIT}`, `${TSLUA} ${LUA_SCRIPT} ${args}`] };
    }
  }
}

function get(v: Variant): Promise<HttpResponse> {
  return httpRequest({ port: v.port, host: v.target.host, path: v.target.path, fresh: true, timeoutMs: 3_000 });
}

function describeAnswer(r: HttpResponse): string {
  const h = (name: string): string => (r.headers[name] === undefined ? '' : `, ${name}: ${String(r.headers[name])}`);
  return `${r.status} ${JSON.stringify(r.body.slice(0, 200))}${h('cache-control')}${h('age')}`;
}

/**
 * One request like wrk's; passes when the backend answered 200 with its body
 * (through ATS: with the Cache-Control nginx sent, none or the cacheable
 * one). Retries briefly.
 */
async function checkRoutes(v: Variant): Promise<string | undefined> {
  const deadline = performance.now() + CHECK_TIMEOUT_MS;
  const cacheControl = cacheUse(v.kind) === 'hit' ? CACHEABLE_CACHE_CONTROL : undefined;
  let last = '';
  for (;;) {
    try {
      const r = await get(v);
      if (r.status === 200 && r.body === BACKEND_BODY) {
        if (v.kind === 'direct' || r.headers['cache-control'] === cacheControl) return undefined;
        return `GET http://${v.target.host}${v.target.path}: Cache-Control ${JSON.stringify(r.headers['cache-control'] ?? null)}, not ${JSON.stringify(cacheControl ?? null)}`;
      }
      last = describeAnswer(r);
    } catch (err) {
      last = (err as Error).message;
    }
    if (performance.now() > deadline) {
      return `GET http://${v.target.host}${v.target.path} did not reach the backend within ${CHECK_TIMEOUT_MS} ms; last answer: ${last}`;
    }
    await delay(100);
  }
}

/**
 * After checkRoutes: a miss variant's request must still reach nginx the
 * second time (ATS did not store the answer); a hit variant's must not (it
 * comes from the cache, with an Age header). ATS 9.2 puts `Age: 0` on
 * answers it did not cache too, so nginx's counts are the proof, not Age.
 * ATS may store the object a moment after the first answer, so a hit
 * variant retries briefly.
 */
async function checkCache(v: Variant, nginx: Nginx): Promise<string | undefined> {
  const use = cacheUse(v.kind);
  if (use === 'none') return undefined;
  const what = `GET http://${v.target.host}${v.target.path}`;
  if (use === 'miss') {
    const before = await nginx.requests();
    const r = await get(v);
    const reached = (await nginx.requests()) - before;
    if (reached === 1) return undefined;
    return `${what}: a second request made ${reached} requests to nginx, not 1 (${describeAnswer(r)}); this variant must miss ATS's cache`;
  }
  const count = v.backendCount;
  if (count === undefined) return `${what}: no count of nginx's requests`;
  const deadline = performance.now() + CHECK_TIMEOUT_MS;
  let last = '';
  for (;;) {
    try {
      const before = await count();
      const r = await get(v);
      const reached = (await count()) - before;
      if (r.status === 200 && r.body === BACKEND_BODY && r.headers.age !== undefined && reached === 0) return undefined;
      last = `${describeAnswer(r)}; ${reached} request${reached === 1 ? '' : 's'} reached nginx`;
    } catch (err) {
      last = (err as Error).message;
    }
    if (performance.now() > deadline) return `${what} was not served from ATS's cache within ${CHECK_TIMEOUT_MS} ms; last answer: ${last}`;
    await delay(100);
  }
}

// ---------------------------------------------------------------------------
// Statistics and the report

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return NaN;
  return n % 2 === 1 ? (s[(n - 1) / 2] as number) : ((s[n / 2 - 1] as number) + (s[n / 2] as number)) / 2;
}

function medianOrNull(xs: Array<number | null>): number | null {
  const known = xs.filter((x): x is number => x !== null);
  return known.length === 0 ? null : median(known);
}

interface Summary {
  variant: string;
  kind: Kind;
  label: string;
  /** What ATS's cache did for its requests: 'miss' (looked up, not found, not stored: nginx's answer is not cacheable), 'hit', or 'none' (direct). */
  cache: CacheUse;
  routes: number | null;
  rps: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  rpsPerRound: number[];
  /** Median CPU µs per request: the proxy process (ATS; nginx for direct), and Redis for the Lua design. */
  proxyCpuUs: number | null;
  redisCpuUs: number | null;
  /** Lua variants: median SELECT + SMEMBERS commands per request. */
  redisCommandsPerRequest: number | null;
  statusErrors: number;
  socketErrors: number;
  /** All measured requests (every round). */
  requests: number;
  /** Hit variants: how many of `requests` reached nginx; null for the others. */
  backendRequests: number | null;
  skipped?: string;
  failed?: string;
}

function sumOrNull(xs: Array<number | null>): number | null {
  return xs.length === 0 || xs.some((x) => x === null) ? null : xs.reduce<number>((a, x) => a + (x as number), 0);
}

function summarize(v: Variant): Summary {
  const measured = v.runs.length > 0;
  return {
    variant: variantName(v),
    kind: v.kind,
    label: KIND_LABEL[v.kind],
    cache: cacheUse(v.kind),
    routes: v.routes ?? null,
    rps: measured ? median(v.runs.map((r) => r.rps)) : null,
    p50Ms: measured ? median(v.runs.map((r) => r.p50Ms)) : null,
    p99Ms: measured ? median(v.runs.map((r) => r.p99Ms)) : null,
    rpsPerRound: v.runs.map((r) => Math.round(r.rps)),
    proxyCpuUs: medianOrNull(v.runs.map((r) => r.proxyCpuUs)),
    redisCpuUs: medianOrNull(v.runs.map((r) => r.redisCpuUs)),
    redisCommandsPerRequest: medianOrNull(v.runs.map((r) => r.redisCommandsPerRequest)),
    statusErrors: v.runs.reduce((s, r) => s + r.statusErrors, 0),
    socketErrors: v.runs.reduce((s, r) => s + r.socketErrors, 0),
    requests: v.runs.reduce((s, r) => s + r.requests, 0),
    backendRequests: sumOrNull(v.runs.map((r) => r.backendRequests)),
    ...(v.skipped !== undefined ? { skipped: v.skipped } : {}),
    ...(v.failed !== undefined ? { failed: v.failed } : {}),
  };
}

interface Ratio {
  name: string;
  /** The variants compared: numerator and denominator kinds. */
  of: [Kind, Kind];
  /** 'req/s': ratio of median requests/s. 'cpu': ratio of CPU per request the other way round (their cost / plugin's), an estimate of the same ratio on a machine where the proxy is the only load. */
  basis: 'req/s' | 'cpu';
  routes: number;
  value: number | null;
  /** null: a figure without a goal (what the cache buys). */
  goal: number | null;
  met: boolean | null;
}

/** The ratios reported: plain kinds are misses (not cacheable), `-hit` kinds answers from ATS's cache. */
const RATIOS: ReadonlyArray<{ num: Kind; den: Kind; name: string; goal: number | null }> = [
  { num: 'global', den: 'static', name: 'plugin global / static', goal: GOAL_VS_STATIC },
  { num: 'remap', den: 'static', name: 'plugin remap / static', goal: GOAL_VS_STATIC },
  { num: 'global', den: 'lua', name: 'plugin global / lua (original order)', goal: GOAL_VS_LUA },
  { num: 'remap', den: 'lua', name: 'plugin remap / lua (original order)', goal: GOAL_VS_LUA },
  { num: 'global', den: 'lua-1rt', name: 'plugin global / lua-1rt', goal: null },
  { num: 'remap', den: 'lua-1rt', name: 'plugin remap / lua-1rt', goal: null },
  { num: 'global-hit', den: 'static-hit', name: 'plugin global hit / static hit', goal: GOAL_VS_STATIC },
  { num: 'remap-hit', den: 'static-hit', name: 'plugin remap hit / static hit', goal: GOAL_VS_STATIC },
  { num: 'global-hit', den: 'global', name: 'plugin global hit / plugin global miss', goal: null },
];

function ratios(summaries: Summary[], sizes: number[]): Ratio[] {
  const find = (kind: Kind, routes: number): Summary | undefined => summaries.find((s) => s.kind === kind && s.routes === routes);
  const cost = (s: Summary | undefined): number | null =>
    s?.proxyCpuUs === null || s?.proxyCpuUs === undefined ? null : s.proxyCpuUs + (s.redisCpuUs ?? 0);
  const out: Ratio[] = [];
  for (const basis of ['req/s', 'cpu'] as const) {
    for (const { num, den, name: base, goal } of RATIOS) {
      for (const routes of sizes) {
        const a = find(num, routes);
        const b = find(den, routes);
        let value: number | null = null;
        if (basis === 'req/s') {
          if (a?.rps != null && b?.rps != null && b.rps > 0) value = a.rps / b.rps;
        } else {
          const ca = cost(a);
          const cb = cost(b);
          if (ca !== null && cb !== null && ca > 0) value = cb / ca;
        }
        const name = basis === 'req/s' ? base : `${base}, by CPU per request`;
        const met = value === null || goal === null ? null : value >= goal;
        out.push({ name, of: [num, den], basis, routes, value, goal, met });
      }
    }
  }
  return out;
}

const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');
const fmtMs = (n: number | null): string => (n === null ? '-' : n < 10 ? `${n.toFixed(2)} ms` : `${n.toFixed(1)} ms`);
const fmtCpu = (s: Summary): string =>
  s.proxyCpuUs === null ? '-' : s.redisCpuUs === null ? s.proxyCpuUs.toFixed(0) : `${s.proxyCpuUs.toFixed(0)}+${s.redisCpuUs.toFixed(0)} redis`;
const fmtLoad = (l: number[]): string => l.map((x) => x.toFixed(2)).join(' ');

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd())
    .join('\n');
}

interface Report {
  command: string;
  wrk: string;
  quick: boolean;
  rounds: number;
  seconds: number;
  machine: { cpus: number; cpuModel: string; note: string };
  loadBefore: number[];
  loadAfter: number[];
  routeSets: Array<{ routes: number; hosts: number; pathsPerHost: number; target: string }>;
  setup: string[];
  results: Summary[];
  ratios: Ratio[];
  goals: { pluginVsStatic: number; pluginVsLua: number };
  ok: boolean;
}

function printReport(r: Report): void {
  const out: string[] = [];
  out.push(`ats-ingress proxy benchmark: ${r.command}`);
  out.push(`wrk: ${r.wrk}; ${r.rounds} round${r.rounds === 1 ? '' : 's'} of every variant, order rotating; medians`);
  out.push(`machine: ${r.machine.cpus} cores (${r.machine.cpuModel}); ${r.machine.note}`);
  out.push(`load average before: ${fmtLoad(r.loadBefore)}   after: ${fmtLoad(r.loadAfter)}`);
  for (const s of r.routeSets) {
    out.push(`table of ${fmtInt(s.routes)} routes: ${fmtInt(s.hosts)} hosts × ${s.pathsPerHost} Prefix paths; every request: ${s.target}`);
  }
  for (const line of r.setup) out.push(`  ${line}`);
  out.push('');
  const rows: string[][] = [['variant', 'cache', 'routes', 'req/s', 'p50', 'p99', 'CPU µs/req', 'req/s per round', 'non-2xx', 'sock err']];
  for (const s of r.results) {
    const routes = s.routes === null ? '-' : fmtInt(s.routes);
    if (s.rps === null) {
      rows.push([s.label, CACHE_LABEL[s.cache], routes, s.failed !== undefined ? 'FAILED' : 'skipped', '-', '-', '', '', '', '']);
      continue;
    }
    rows.push([
      s.label,
      CACHE_LABEL[s.cache],
      routes,
      fmtInt(s.rps),
      fmtMs(s.p50Ms),
      fmtMs(s.p99Ms),
      fmtCpu(s),
      s.rpsPerRound.map(fmtInt).join(' '),
      String(s.statusErrors),
      String(s.socketErrors),
    ]);
  }
  out.push(table(rows));
  out.push('CPU µs/req: CPU time of the proxy process (ATS; nginx for the direct row) per request, all its threads; for tslua + Redis also redis-server\'s.');
  out.push('cache: miss (not cacheable): nginx\'s answer has no Cache-Control, ATS looks it up, misses and does not store it;');
  out.push(`hit: the same route, a path nginx answers with Cache-Control: ${CACHEABLE_CACHE_CONTROL}, in ATS's cache before the load.`);
  for (const s of r.results) {
    if (s.cache !== 'hit' || s.backendRequests === null) continue;
    out.push(`  ${s.variant}: ${fmtInt(s.backendRequests)} of ${fmtInt(s.requests)} requests reached nginx (at most ${MAX_BACKEND_SHARE_HIT * 100}% allowed)`);
  }
  for (const s of r.results) {
    if (s.redisCommandsPerRequest === null) continue;
    const how = s.kind === 'lua' ? 'each its own round trip' : 'pipelined: one round trip';
    out.push(`  ${s.variant}: ${s.redisCommandsPerRequest.toFixed(2)} Redis commands (SELECT + SMEMBERS) per request, ${how}`);
  }
  const problems = r.results.filter((s) => s.skipped !== undefined || s.failed !== undefined);
  for (const s of problems) out.push(`  ${s.variant}: ${s.failed !== undefined ? `FAILED: ${s.failed}` : `skipped: ${s.skipped}`}`);
  out.push('');
  const sizes = [...new Set(r.ratios.map((x) => x.routes))];
  const ratioRows: string[][] = [
    ['ratio of medians (static: ATS static remap.config; lua: tslua + Redis in the original\'s order; lua-1rt: in one round trip; miss unless "hit")', ...sizes.map((n) => `${routeSet(n).label} routes`), 'goal'],
  ];
  for (const name of [...new Set(r.ratios.map((x) => x.name))]) {
    const cells = sizes.map((n) => {
      const x = r.ratios.find((y) => y.name === name && y.routes === n);
      if (x === undefined || x.value === null) return 'n/a';
      return x.met === null ? x.value.toFixed(2) : `${x.value.toFixed(2)} ${x.met ? 'ok' : 'MISSED'}`;
    });
    const goal = r.ratios.find((y) => y.name === name)?.goal ?? null;
    ratioRows.push([name, ...cells, goal === null ? '-' : `≥ ${goal}`]);
  }
  out.push(table(ratioRows));
  out.push(`goals: plugin ≥ ${r.goals.pluginVsStatic} × static remap, on a miss and on a hit; plugin ≥ ${r.goals.pluginVsLua} × Lua+Redis in the original's order (in requests/s);`);
  out.push('hit / miss and plugin / lua-1rt have no goal: what the cache buys, and the replaced design at its best.');
  out.push('"by CPU per request": their CPU per request / the plugin\'s, an estimate of the requests/s ratio when ATS has the cores to itself;');
  out.push('it moves less with other load on the machine than requests/s does, but it leaves out the time ATS threads sit blocked');
  out.push('on Redis (no CPU used, no request served), so for tslua + Redis it flatters the design we replace.');
  if (r.quick) out.push('quick mode: one short round; the figures mean little, the run checks that every variant routes');
  out.push(r.ok ? 'result: every variant routed' : 'result: FAILED (see above)');
  process.stdout.write(out.join('\n') + '\n');
}

// ---------------------------------------------------------------------------
// The run

function requireFile(file: string, hint: string): void {
  if (!existsSync(file)) throw new BenchFailure(`${file} is missing: ${hint}`);
}

function cpuModel(): string {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    return m?.[1]?.trim() ?? 'unknown CPU';
  } catch {
    return os.cpus()[0]?.model ?? 'unknown CPU';
  }
}

async function run(args: Args, cleanup: Cleanup): Promise<boolean> {
  requireFile(PLUGIN_SO, 'build the plugin with: bash scripts/build.sh');
  requireFile(TSLUA, 'install Debian\'s trafficserver package');
  requireFile(LIBLOADER, 'install Debian\'s trafficserver package');
  requireFile(LUAJIT, 'install Debian\'s libluajit2-5.1-2 (comes with trafficserver)');
  requireFile('/usr/share/lua/5.1/redis.lua', 'apt-get install lua-redis');
  requireFile('/usr/lib/x86_64-linux-gnu/lua/5.1/socket/core.so', 'apt-get install lua-socket');
  requireFile('/usr/bin/redis-server', 'apt-get install redis-server');
  requireFile('/usr/bin/wrk', 'apt-get install wrk');

  const loadBefore = os.loadavg();
  removeStaleTables();
  const nginxBin = await ensureNginx(progress);
  const work = await makeWorkDir();
  cleanup.add('remove the work dir', work.remove);

  const nginx: Nginx = await startNginx(nginxBin, work.dir);
  cleanup.add('stop nginx', () => nginx.stop());
  progress(`nginx (pid ${nginx.daemon.pid}) on 127.0.0.1:${nginx.port}`);
  const redis: Redis = await startRedis(work.dir, Math.max(16, 2 * args.sizes.length));
  cleanup.add('stop redis-server', () => redis.stop());
  progress(`redis-server (pid ${redis.daemon.pid}) on 127.0.0.1:${redis.port}, no persistence`);

  const setup: string[] = [];
  const sets = args.sizes.map(routeSet);
  const variants: Variant[] = [];
  const first = sets[0] as RouteSet;
  variants.push({ kind: 'direct', routes: undefined, port: nginx.port, target: first.target, cpu: { proxy: nginx.daemon.pid }, runs: [] });

  for (const [i, set] of sets.entries()) {
    const tableName = `bench-proxy-${set.label}-${process.pid}`;
    let t = performance.now();
    const model = tableModel(set, nginx.port);
    const rt = RouteTable.open(tableName);
    cleanup.add(`remove table ${tableName}`, () => {
      rt.remove();
      rt.close();
    });
    const published = rt.publish(model);
    setup.push(
      `${set.label} routes: route table ${fmtInt(published.bytes)} bytes, built and published in ${(performance.now() - t).toFixed(0)} ms`,
    );

    t = performance.now();
    const dbs = redisDbs(i);
    const replies = await redisPipeline(redis.port, redisCommands(set, nginx.port, dbs));
    const errors = replies.filter((r) => r.startsWith('-'));
    const dbsize = replies[replies.length - 1];
    if (errors.length > 0 || dbsize !== `:${set.routes}`) {
      throw new BenchFailure(`loading ${set.routes} routes into Redis db ${dbs.prefix}: ${errors.length} errors (${errors[0] ?? ''}), DBSIZE ${dbsize}`);
    }
    setup.push(
      `${set.label} routes: ${fmtInt(set.routes)} Redis sets (key host/path, members ip:port) loaded into db ${dbs.prefix} (Prefix rules; ` +
        `db ${dbs.exact}, Exact rules, empty) in ${(performance.now() - t).toFixed(0)} ms`,
    );

    const hits: Variant[] = [];
    for (const kind of ['static', 'global', 'remap', 'lua', 'lua-1rt'] as const) {
      const lua = kind === 'lua' || kind === 'lua-1rt';
      const v: Variant = {
        kind,
        routes: set.routes,
        port: 0,
        target: set.target,
        cpu: lua ? { redis: redis.daemon.pid } : {},
        ...(lua ? { redisCalls: () => redisLookupCalls(redis.port) } : {}),
        runs: [],
      };
      variants.push(v);
      progress(`starting ATS: ${KIND_LABEL[kind]}, ${fmtInt(set.routes)} routes`);
      try {
        const ats = await startAts(atsOptions(kind, set, { table: tableName, backendPort: nginx.port, redisPort: redis.port, redisDbs: dbs }));
        cleanup.add(`stop ATS (${variantName(v)})`, () => ats.stop({ kill: true }));
        v.ats = ats;
        v.port = ats.httpPort;
        v.cpu.proxy = ats.pid;
        if (kind === 'static' || set.routes >= 10_000) setup.push(`${variantName(v)}: ATS answered ${(ats.startMs / 1000).toFixed(1)} s after launch`);
      } catch (err) {
        const e = err as Error;
        if (kind === 'static' && e instanceof AtsStartError && /did not answer/.test(e.message)) {
          v.skipped = `ATS did not load ${fmtInt(set.routes)} remap.config rules within ${STATIC_START_TIMEOUT_MS / 1000} s`;
        } else {
          v.failed = `ATS did not start: ${e.message.slice(0, 3_000)}`;
        }
        progress(`${variantName(v)}: ${v.skipped ?? v.failed}`);
      }
      // The hit variant: the same ATS (started once, stopped once), the same
      // route, a path below it that nginx answers as cacheable.
      const hitKind = HIT_OF[kind];
      if (hitKind !== undefined) {
        hits.push({
          kind: hitKind,
          routes: set.routes,
          port: v.port,
          target: { host: set.target.host, path: `${set.target.path}${CACHEABLE_SUFFIX}` },
          ...(v.ats !== undefined ? { ats: v.ats } : {}),
          ...(v.skipped !== undefined ? { skipped: `as ${variantName(v)}: ${v.skipped}` } : {}),
          ...(v.failed !== undefined ? { failed: `as ${variantName(v)}: ${v.failed}` } : {}),
          cpu: { ...v.cpu },
          backendCount: () => nginx.cacheableRequests(),
          runs: [],
        });
      }
    }
    variants.push(...hits);
  }

  // Every variant must route the benchmarked request to the backend before any
  // load; a miss variant's answer must not be cached, and a hit variant's
  // object must be in ATS's cache (its first request put it there).
  for (const v of variants) {
    if (v.skipped !== undefined || v.failed !== undefined) continue;
    const problem = (await checkRoutes(v)) ?? (await checkCache(v, nginx));
    if (problem !== undefined) {
      v.failed = problem;
      if (v.ats) v.failed += `\n${(await v.ats.logs()).slice(-3_000)}`;
      progress(`${variantName(v)}: FAILED: ${problem}`);
    }
  }
  const live = variants.filter((v) => v.skipped === undefined && v.failed === undefined);
  progress(`${live.length} of ${variants.length} variants route to the backend (hit variants: from ATS's cache)`);

  const wrkFor = (v: Variant, seconds: number): WrkOptions => ({
    script: WRK_SCRIPT,
    url: `http://127.0.0.1:${v.port}${v.target.path}`,
    host: v.target.host,
    seconds,
    threads: THREADS,
    connections: CONNECTIONS,
  });

  if (args.warmupSeconds > 0) {
    progress(`warm-up: ${args.warmupSeconds} s per variant (not counted)`);
    for (const v of live) await runWrk(wrkFor(v, args.warmupSeconds));
  }
  for (let round = 0; round < args.rounds; round++) {
    const order = live.map((_, k) => live[(k + round) % live.length] as Variant);
    for (const v of order) {
      const r = await measure(v, wrkFor(v, args.seconds));
      v.runs.push(r);
      progress(
        `round ${round + 1}/${args.rounds} ${variantName(v).padEnd(15)} ${fmtInt(r.rps).padStart(7)} req/s  p50 ${fmtMs(r.p50Ms)}  p99 ${fmtMs(r.p99Ms)}` +
          (r.statusErrors + r.socketErrors > 0 ? `  errors: ${r.statusErrors} non-2xx, ${r.socketErrors} socket` : ''),
      );
    }
  }
  for (const v of live) {
    const requests = v.runs.reduce((s, r) => s + r.requests, 0);
    const errors = v.runs.reduce((s, r) => s + r.statusErrors + r.socketErrors, 0);
    const backend = sumOrNull(v.runs.map((r) => r.backendRequests));
    if (requests === 0) v.failed = 'no request completed under load';
    else if (errors > requests * MAX_ERROR_SHARE) {
      v.failed = `${errors} of ${requests} requests failed under load (non-2xx or socket errors)`;
    } else if (cacheUse(v.kind) === 'hit' && (backend === null || backend > requests * MAX_BACKEND_SHARE_HIT)) {
      v.failed = `${backend ?? 'an unknown number'} of ${requests} requests reached nginx under load: not answered from ATS's cache`;
    }
  }
  const loadAfter = os.loadavg();

  const summaries = variants.map(summarize);
  const ok = variants.every((v) => v.failed === undefined);
  const sample = wrkCommandLine({ ...wrkFor(variants[0] as Variant, args.seconds), host: 'HOST', url: 'http://127.0.0.1:PORT/PATH' })
    .replace(` -s ${WRK_SCRIPT}`, '');
  const report: Report = {
    command: `node dist/bench/proxy/proxy-bench.js ${process.argv.slice(2).join(' ')}`.trim(),
    wrk: `${sample} (HOST and PATH: the route, PORT: the variant's ATS)`,
    quick: args.quick,
    rounds: args.rounds,
    seconds: args.seconds,
    machine: {
      cpus: os.cpus().length,
      cpuModel: cpuModel(),
      note: `wrk, ATS (2 event threads each), nginx (1 worker) and Redis all share them, so figures are relative: compare the ratios`,
    },
    loadBefore,
    loadAfter,
    routeSets: sets.map((s) => ({ routes: s.routes, hosts: s.hosts, pathsPerHost: s.pathsPerHost, target: `Host ${s.target.host}, GET ${s.target.path} (Prefix rule ${s.target.route})` })),
    setup,
    results: summaries,
    ratios: ratios(summaries, args.sizes),
    goals: { pluginVsStatic: GOAL_VS_STATIC, pluginVsLua: GOAL_VS_LUA },
    ok,
  };
  if (args.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  else printReport(report);
  if (process.env.ATS_INGRESS_BENCH_OUT) await writeFile(process.env.ATS_INGRESS_BENCH_OUT, JSON.stringify(report, null, 2) + '\n');
  return ok;
}

/** Removes route tables of earlier runs that were killed before their clean-up (their PID is gone). */
function removeStaleTables(): void {
  let names: string[];
  try {
    names = readdirSync('/dev/shm');
  } catch {
    return;
  }
  const stale = new Set<string>();
  for (const n of names) {
    const m = /^ats-ingress\.(bench-proxy-[A-Za-z0-9]+-(\d+))\./.exec(n);
    if (m === null) continue;
    try {
      process.kill(Number(m[2]), 0);
    } catch {
      stale.add(m[1] as string);
    }
  }
  for (const name of stale) {
    const rt = RouteTable.open(name);
    rt.remove();
    rt.close();
    progress(`removed route table ${name} left by a run that was killed`);
  }
}

function budgetMs(args: Args): number {
  // direct, then per size: static, global, remap, lua, lua-1rt and the three hit variants.
  const variants = 1 + 8 * args.sizes.length;
  const perRun = (args.seconds + 8) * 1000;
  const setup = 120_000 + args.sizes.filter((n) => n >= 10_000).length * (STATIC_START_TIMEOUT_MS + 60_000);
  return setup + variants * (args.rounds * perRun + (args.warmupSeconds + 8) * 1000 + CHECK_TIMEOUT_MS);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const cleanup = new Cleanup();
  // The harness's one 'exit' hook kills every ATS and daemon still running if
  // we end without stopping them (a watchdog each if we are killed); the
  // signals below stop them in order.
  const limit = budgetMs(args);
  let code = 2;
  const onSignal = (sig: NodeJS.Signals): void => {
    progress(`${sig}: stopping everything`);
    void cleanup.run().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const timer = setTimeout(() => {
    progress(`time bound of ${(limit / 1000).toFixed(0)} s reached: stopping everything`);
    void cleanup.run().finally(() => process.exit(2));
  }, limit);
  try {
    code = (await run(args, cleanup)) ? 0 : 1;
  } catch (err) {
    progress(`error: ${err instanceof BenchFailure ? err.message : ((err as Error).stack ?? String(err))}`);
    code = 2;
  } finally {
    await cleanup.run();
    clearTimeout(timer);
  }
  process.exitCode = code;
}

await main();
