// Instructions per request of the whole traffic_server process, counted by
// callgrind, for the proxy benchmark's ways of routing: counting, not
// timing, so that other load on the machine does not move it, and
// callgrind_annotate says where two variants differ.
//
//   node dist/bench/proxy/instructions.js [--requests N] [--routes N] [--kinds static,global,remap] [--keep DIR]
//
// For each kind: nginx as in proxy-bench, one ATS (the harness's, its cache
// on) run under `valgrind --tool=callgrind`, a warm-up of 300 requests, then
// callgrind's counters zeroed, N requests (default 3,000) of the benchmark's
// kind (GET /p<j>/item, a miss, and PATH/cacheable, a hit) on 4 keep-alive
// connections, and the counters dumped. Ir / N includes what ATS's idle
// threads ran meanwhile (small next to N requests) except its records sync
// (sync_cont::sync, by callgrind_annotate): that runs on a net thread every
// few seconds, about 30,000 Ir a request in a window that caught it and none
// in one that did not, which made two variants' difference mean little; the
// figure with it is printed beside. With --keep DIR the dumps stay in DIR for
// callgrind_annotate.

import { mkdir, readdir, readFile, writeFile, chmod, copyFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';

import { startAts, type AtsInstance } from '../../test/harness/ats.js';
import { runCommand } from '../../test/harness/processes.js';
import { RouteTable } from '../../src/route-table/route-table.js';
import { CACHEABLE_SUFFIX, ensureNginx, makeWorkDir, startNginx } from './processes.js';
import { remapLines, routeSet, tableModel } from './routes.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const PLUGIN_SO = process.env.ATS_INGRESS_PLUGIN ?? path.join(ROOT, 'ats-plugin/build/ats_ingress.so');
const WARMUP = 300;
const CONNECTIONS = 4;
const REQUEST_TIMEOUT_MS = 10_000;

type Kind = 'static' | 'global' | 'remap';

interface Args {
  requests: number;
  routes: number;
  kinds: Kind[];
  keep: string | undefined;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { requests: 3_000, routes: 10, kinds: ['static', 'global', 'remap'], keep: undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const v = argv[++i];
    if (arg === '--requests' && Number(v) >= 100 && Number(v) <= 100_000) a.requests = Number(v);
    else if (arg === '--routes' && Number(v) >= 1 && Number(v) <= 1_000_000) a.routes = Number(v);
    else if (arg === '--kinds' && v !== undefined && v.split(',').every((k) => ['static', 'global', 'remap'].includes(k))) a.kinds = v.split(',') as Kind[];
    else if (arg === '--keep' && v !== undefined) a.keep = path.resolve(v);
    else {
      process.stderr.write('usage: node dist/bench/proxy/instructions.js [--requests 100..100000] [--routes N] [--kinds static,global,remap] [--keep DIR]\n');
      process.exit(2);
    }
  }
  return a;
}

/** `count` GETs on CONNECTIONS keep-alive connections; throws on any non-200. */
async function load(port: number, host: string, urlPath: string, count: number): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  let next = 0;
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path: urlPath, headers: { host }, agent, timeout: REQUEST_TIMEOUT_MS }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`GET ${host}${urlPath}: ${res.statusCode}`))));
      });
      req.on('timeout', () => req.destroy(new Error(`GET ${host}${urlPath}: no answer within ${REQUEST_TIMEOUT_MS} ms`)));
      req.on('error', reject);
    });
  const worker = async (): Promise<void> => {
    while (next < count) {
      next++;
      await one();
    }
  };
  try {
    await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  } finally {
    agent.destroy();
  }
}

async function callgrindControl(flag: string, pid: number): Promise<void> {
  const r = await runCommand('callgrind_control', [flag, String(pid)], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`callgrind_control ${flag} ${pid}: ${r.code} ${r.stdout}${r.stderr}`);
}

/** The Ir total of the newest dump in `dir` (its `summary:` or `totals:` line). */
async function lastDumpIr(dir: string, before: Set<string>): Promise<{ file: string; ir: number }> {
  for (let i = 0; i < 100; i++) {
    const fresh = (await readdir(dir)).filter((f) => f.startsWith('cg.') && !before.has(f)).sort();
    const file = fresh[fresh.length - 1];
    if (file !== undefined) {
      const text = await readFile(path.join(dir, file), 'utf8');
      const m = /^(?:summary|totals): (\d+)/m.exec(text);
      if (m !== null) return { file: path.join(dir, file), ir: Number(m[1]) };
    }
    await delay(100);
  }
  throw new Error(`no callgrind dump appeared in ${dir}`);
}

/** The inclusive Ir of ATS's records sync in a dump (0 when it did not run). */
async function recordsSyncIr(file: string): Promise<number> {
  const r = await runCommand('callgrind_annotate', ['--inclusive=yes', '--threshold=100', file], { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`callgrind_annotate ${file}: ${r.code} ${r.stderr}`);
  // Its outermost frame: a recursive call would be named sync_cont::sync(int, Event*)'2.
  const m = /^\s*([\d,]+) \([^)]*\)\s+\S*sync_cont::sync\(int, Event\*\) /m.exec(r.stdout);
  return m === null ? 0 : Number(m[1]!.replaceAll(',', ''));
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const work = await makeWorkDir();
  const out = args.keep ?? path.join(work.dir, 'callgrind');
  await mkdir(out, { recursive: true });
  // A bin dir whose traffic_server is the real one under callgrind.
  const bin = path.join(work.dir, 'bin');
  await mkdir(bin);
  await writeFile(
    path.join(bin, 'traffic_server'),
    `#!/bin/sh\nexec valgrind --tool=callgrind --callgrind-out-file=${out}/cg.$KIND.%p /usr/bin/traffic_server "$@"\n`,
  );
  await chmod(path.join(bin, 'traffic_server'), 0o755);
  for (const tool of ['traffic_ctl', 'traffic_manager']) await copyFile(`/usr/bin/${tool}`, path.join(bin, tool)).catch(() => undefined);

  const nginx = await startNginx(await ensureNginx((l) => process.stderr.write(`${l}\n`)), work.dir);
  const set = routeSet(args.routes);
  const tableName = `bench-instr-${set.label}-${process.pid}`;
  const rt = RouteTable.open(tableName);
  let ats: AtsInstance | undefined;
  try {
    rt.publish(tableModel(set, nginx.port));
    process.stdout.write(`traffic_server under callgrind, ${set.routes} routes, Host ${set.target.host}; Ir per request over ${args.requests} requests after ${WARMUP}; load average ${(await readFile('/proc/loadavg', 'utf8')).trim()}\n`);
    for (const kind of args.kinds) {
      const opts = {
        binDir: bin,
        env: { KIND: kind },
        startTimeoutMs: 300_000,
        stopTimeoutMs: 60_000,
        ...(kind === 'static' ? { remap: remapLines(set, nginx.port) } : {}),
        ...(kind === 'global' ? { plugins: [`${PLUGIN_SO} --table=${tableName}`] } : {}),
        ...(kind === 'remap' ? { remap: [`map / http://127.0.0.1:1/ @plugin=${PLUGIN_SO} @pparam=--table=${tableName}`] } : {}),
      };
      ats = await startAts(opts);
      for (const [what, urlPath] of [
        ['miss', set.target.path],
        ['hit', `${set.target.path}${CACHEABLE_SUFFIX}`],
      ] as const) {
        await load(ats.httpPort, set.target.host, urlPath, WARMUP);
        const before = new Set(await readdir(out));
        await callgrindControl('-z', ats.pid);
        await load(ats.httpPort, set.target.host, urlPath, args.requests);
        await callgrindControl('-d', ats.pid);
        const dump = await lastDumpIr(out, before);
        const named = path.join(out, `${kind}-${what}.callgrind`);
        await copyFile(dump.file, named);
        const sync = await recordsSyncIr(named);
        const perRequest = (ir: number): string => Math.round(ir / args.requests).toLocaleString('en-US');
        process.stdout.write(
          `${kind.padEnd(7)} ${what.padEnd(5)} ${perRequest(dump.ir - sync).padStart(9)} Ir/request  (with the records sync ${perRequest(dump.ir)}; ${named})\n`,
        );
      }
      await ats.stop();
      ats = undefined;
    }
    process.stdout.write(`load average after: ${(await readFile('/proc/loadavg', 'utf8')).trim()}\n`);
  } finally {
    await ats?.stop({ kill: true });
    rt.remove();
    rt.close();
    await nginx.stop();
    await work.remove();
  }
}

await main();
