// Runs the upstream Gateway API conformance suite, unchanged (the test binary
// scripts/conformance-bin.sh prebuilds from tools/conformance), against
// ats-ingress on this machine:
//
// - a real API server with the v1.6.3 standard-channel CRDs (the suite checks
//   their bundle-version against its own) and kube-controller-manager
//   (test/harness/kube.ts), and the process kubelet
//   (test/harness/process-kubelet.ts) running the suite's echo server
//   (conformance/echo-basic) for its backend image, each Pod in a network
//   namespace of its own;
// - Traffic Server as root on ports 80 and 443 of 127.0.0.1 and of every
//   address of GATEWAY_ADDRESSES, with the plugin in global mode and
//   stats_over_http on 127.0.0.1:80;
// - the controller as a child process with the shipped namespace and RBAC
//   (it runs as its ServiceAccount), `--gateway-addresses GATEWAY_ADDRESSES
//   --gateway-ports 80,443 --ats-stats-url`, and our GatewayClass;
// - an unreachable route for the cluster's Service range while the suite
//   runs: there is no kube-proxy, and a packet to a cluster IP would leave
//   the machine, so a mistake fails fast instead;
// - then the suite binary with the admin kubeconfig; its -v output and the
//   report YAML it writes come back in a ConformanceRun.
//
// Everything is stopped by PID in reverse order, also when a step fails.
// Ports 80 and 443 make it one run per machine: a lock file says whose.

import { SUPPORTED_FEATURES } from '../../src/model/gateway/class-status.js';
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

import { ATS_MODULES_DIR, startAts, type AtsInstance } from '../harness/ats.js';
import { ECHO_BASIC_IMAGE, echoBasicBinary } from '../harness/echo-basic.js';
import { startKube, type KubeCluster } from '../harness/kube.js';
import { pollUntil } from '../harness/poll.js';
import { freePort } from '../harness/ports.js';
import { atExit, ManagedProcess, runCommand, type ExitStatus } from '../harness/processes.js';
import { startProcessKubelet, type ProcessKubelet } from '../harness/process-kubelet.js';
import { K8S_DIR, MAIN_JS, ROOT } from '../e2e/env.js';
import { PLUGIN_SO } from '../plugin/helpers.js';
import { failureMessage, parseGoTestOutput, parseReport, reportSummary, type ConformanceReport, type SuiteTest } from './report.js';
import { RouteTable } from '../../src/route-table/route-table.js';
import { CONTROLLER_NODE_FLAGS } from '../../src/controller/node-flags.js';

/** Our Gateways' addresses: 14 hosts of a /28 of loopback, apart from the e2e tests' 127.77.x and 127.78.x and the demo's 127.0.1.0/29. */
export const GATEWAY_ADDRESSES = '127.0.80.0/28';
/** The Service range test/harness/kube.ts gives kube-apiserver (--service-cluster-ip-range); checked against the `kubernetes` Service at start. */
export const SERVICE_CIDR = '10.0.0.0/24';
export const GATEWAY_CLASS = 'ats-ingress';
export const CONTROLLER_NAME = 'ats.ingress.kubernetes.io/gateway-controller';
const STATS_PATH = '/_stats';
/**
 * The suite's base manifests also run CoreDNS, for the UDPRoute tests (not
 * in GATEWAY-HTTP); its Pod must be Ready before any test starts. It stands
 * in as a process that only waits: nothing here talks to it, and a real one
 * would forward queries off the machine. The container's args follow as $1...
 */
export const COREDNS_IMAGE = 'registry.k8s.io/coredns/coredns';
const COREDNS_STAND_IN = { command: 'bash', args: ['-c', 'exec sleep infinity', 'coredns-stand-in'] };
const LOCK_FILE = join(os.tmpdir(), 'ats-ingress-conformance.lock');

export interface ConformanceOptions {
  /** -conformance-profiles (default GATEWAY-HTTP). */
  profiles?: string[];
  /** -supported-features beyond the profile's Core ones (which are always named, so the suite never infers them). */
  extendedFeatures?: string[];
  /** -skip-tests. */
  skipTests?: string[];
  /** -run-test: one test only. */
  runTest?: string;
  /** -timeout-config-overrides, e.g. 'MaxTimeToConsistency=10;HTTPRouteMustHaveCondition=20' (seconds). */
  timeoutOverrides?: string;
  /** Bound on the suite binary (-test.timeout and our own kill). Default 40 min. */
  suiteTimeoutMs?: number;
  /** The implementation the report names. */
  implementation?: { organization?: string; project?: string; url?: string; version?: string; contact?: string[] };
  /** The suite's -v output as it comes (e.g. process.stdout.write); default kept only. */
  onOutput?: (chunk: string) => void;
  /** Progress lines of the runner itself. */
  log?: (line: string) => void;
  /** -debug: the suite logs every request and response. */
  debug?: boolean;
  /** How long to wait for another run on this machine to end (default 0: fail at once). */
  lockWaitMs?: number;
  /** -disable-parallel-tests: one test at a time (default: the suite's own parallelism). */
  serial?: boolean;
}

export interface Phase {
  name: string;
  ms: number;
}

export interface ConformanceRun {
  /** The suite's exit code (0: every test it ran passed). */
  exitCode: number | null;
  /** The report it wrote, as text and parsed; undefined when it wrote none (it failed in setup). */
  reportYaml: string | undefined;
  report: ConformanceReport | undefined;
  tests: SuiteTest[];
  /** What the suite logged before its first test (setup, and why it stopped if it never got to one). */
  setupLog: string[];
  output: string;
  phases: Phase[];
  totalMs: number;
  /** The highest sum, sampled every second, of the resident memory of this process and every process below it. */
  peakRssBytes: number;
  /** At that peak, by command name (node counts this process and the controller), largest first. */
  peakRssByName: Array<[string, number]>;
  /** The controller's last log lines, for failures. */
  controllerLog: string;
  /** What the clean-up could not do (empty when everything was stopped and removed). */
  cleanupErrors: string[];
}

/** The folder scripts/conformance-bin.sh builds the suite binary into (building it when missing). */
export async function conformanceBinary(timeoutMs = 20 * 60_000): Promise<string> {
  const r = await runCommand('bash', [join(ROOT, 'scripts', 'conformance-bin.sh')], { cwd: ROOT, timeoutMs, stderr: 'inherit' });
  const dir = r.stdout.trim().split('\n').pop() ?? '';
  const bin = join(dir, 'conformance.test');
  if (r.code !== 0 || !existsSync(bin)) throw new Error(`conformance: scripts/conformance-bin.sh failed (exit ${r.code}${r.timedOut ? ', timed out' : ''})\n${r.stdout}${r.stderr}`);
  return bin;
}

/** The addresses of a CIDR's hosts (network and broadcast left out), IPv4. */
export function hostsOf(cidr: string): string[] {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr);
  if (!m) throw new TypeError(`not an IPv4 CIDR: ${cidr}`);
  const bits = Number(m[5]);
  const base = ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
  const size = 2 ** (32 - bits);
  const out: string[] = [];
  for (let i = 1; i < size - 1; i++) {
    const a = (base + i) >>> 0;
    out.push([a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255].join('.'));
  }
  return out;
}

/** VmRSS of `root` and every process below it (by PPid), in bytes: the sum, and by command name. */
export function treeRss(root = process.pid): { total: number; byName: Map<string, number> } {
  const parent = new Map<number, number>();
  const rss = new Map<number, { name: string; bytes: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      const ppid = /^PPid:\s+(\d+)/m.exec(status);
      const vm = /^VmRSS:\s+(\d+) kB/m.exec(status);
      const name = /^Name:\s+(.*)$/m.exec(status);
      parent.set(Number(entry), ppid ? Number(ppid[1]) : 0);
      rss.set(Number(entry), { name: name ? name[1]!.trim() : '?', bytes: vm ? Number(vm[1]) * 1024 : 0 });
    } catch {
      /* gone meanwhile */
    }
  }
  let total = 0;
  const byName = new Map<string, number>();
  for (const pid of parent.keys()) {
    for (let p: number | undefined = pid, hops = 0; p !== undefined && p > 0 && hops < 64; p = parent.get(p), hops++) {
      if (p === root) {
        const r = rss.get(pid)!;
        total += r.bytes;
        byName.set(r.name, (byName.get(r.name) ?? 0) + r.bytes);
        break;
      }
    }
  }
  return { total, byName };
}

/**
 * One run per machine (ports 80 and 443): the lock file holds the PID of the
 * run that has it. Waits up to `waitMs` for a live holder to finish; takes
 * over from a dead one.
 */
async function takeLock(waitMs: number, log: (line: string) => void): Promise<() => void> {
  const deadline = Date.now() + waitMs;
  let said = false;
  for (;;) {
    try {
      const fd = openSync(LOCK_FILE, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      const forget = atExit(() => rmSync(LOCK_FILE, { force: true }));
      return () => {
        forget();
        rmSync(LOCK_FILE, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let holder = NaN;
    try {
      holder = Number(readFileSync(LOCK_FILE, 'utf8').trim());
    } catch {
      continue; // removed meanwhile: try again
    }
    let alive = false;
    try {
      if (Number.isInteger(holder) && holder > 0) {
        process.kill(holder, 0);
        alive = true;
      }
    } catch {
      alive = false;
    }
    if (!alive) {
      rmSync(LOCK_FILE, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`conformance: another run (PID ${holder}) holds ${LOCK_FILE} (it uses ports 80 and 443), still after ${Math.round(waitMs / 1000)} s`);
    if (!said) log(`waiting for another run (PID ${holder}, ${LOCK_FILE}) to end`);
    said = true;
    await new Promise<void>((res) => setTimeout(res, 1_000));
  }
}

async function ip(args: string[]): Promise<{ code: number | null; out: string }> {
  const r = await runCommand('ip', args, { timeoutMs: 10_000 });
  return { code: r.code, out: `${r.stdout}${r.stderr}`.trim() };
}

/** Adds `unreachable CIDR` (keeping one a killed run left) and returns its removal. */
async function blockServiceRange(cidr: string): Promise<() => Promise<void>> {
  const added = await ip(['route', 'add', 'unreachable', cidr]);
  if (added.code !== 0) {
    const shown = await ip(['route', 'show', cidr]);
    if (!shown.out.startsWith(`unreachable ${cidr}`)) throw new Error(`conformance: ip route add unreachable ${cidr}: ${added.out} (the range is routed: ${shown.out})`);
  }
  const del = () => runCommand('ip', ['route', 'del', 'unreachable', cidr], { timeoutMs: 10_000 });
  const forget = atExit(() => {
    try {
      execFileSync('ip', ['route', 'del', 'unreachable', cidr], { stdio: 'ignore', timeout: 5_000 });
    } catch {
      /* already gone */
    }
  });
  return async () => {
    forget();
    const r = await del();
    if (r.code !== 0) throw new Error(`ip route del unreachable ${cidr}: ${r.stderr}`);
  };
}

function argsFor(o: ConformanceOptions, reportPath: string, suiteTimeoutMs: number): string[] {
  const impl = o.implementation ?? {};
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; homepage?: string };
  const core = CORE_FEATURES;
  const args = [
    '-test.v',
    `-test.timeout=${Math.ceil(suiteTimeoutMs / 1000)}s`,
    '-test.run=^TestConformance$',
    `-gateway-class=${GATEWAY_CLASS}`,
    `-conformance-profiles=${(o.profiles ?? ['GATEWAY-HTTP']).join(',')}`,
    `-supported-features=${[...core, ...(o.extendedFeatures ?? [])].join(',')}`,
    `-report-output=${reportPath}`,
    `-organization=${impl.organization ?? 'ats-ingress'}`,
    `-project=${impl.project ?? 'ats-ingress'}`,
    `-url=${impl.url ?? pkg.homepage ?? 'unpublished'}`,
    `-version=${impl.version ?? `v${pkg.version}`}`,
    `-contact=${(impl.contact ?? ['unpublished']).join(',')}`,
    '-cleanup-base-resources=true',
  ];
  if (o.skipTests?.length) args.push(`-skip-tests=${o.skipTests.join(',')}`);
  if (o.runTest) args.push(`-run-test=${o.runTest}`);
  if (o.timeoutOverrides) args.push(`-timeout-config-overrides=${o.timeoutOverrides}`);
  if (o.debug) args.push('-debug');
  if (o.serial) args.push('-disable-parallel-tests');
  return args;
}

/** Runs the suite once (see the top of this file); rejects only when the set-up fails. */
export async function runConformance(o: ConformanceOptions = {}): Promise<ConformanceRun> {
  if (process.getuid?.() !== 0) throw new Error('conformance: needs root (ATS on ports 80 and 443, network namespaces, ip route)');
  const log = o.log ?? (() => undefined);
  const suiteTimeoutMs = o.suiteTimeoutMs ?? 40 * 60_000;
  const t0 = performance.now();
  const phases: Phase[] = [];
  let mark = t0;
  const phase = (name: string) => {
    const now = performance.now();
    phases.push({ name, ms: now - mark });
    mark = now;
    log(`${name}: ${((now - t0) / 1000).toFixed(1)} s`);
  };
  let peakRssBytes = 0;
  let peakByName = new Map<string, number>();
  const sample = () => {
    try {
      const r = treeRss();
      if (r.total > peakRssBytes) {
        peakRssBytes = r.total;
        peakByName = r.byName;
      }
    } catch {
      /* /proc unreadable: no figure */
    }
  };
  const unlock = await takeLock(o.lockWaitMs ?? 0, log);
  phase('lock');
  const sampler = setInterval(sample, 1_000);
  const cleanups: Array<[string, () => Promise<unknown>]> = [];
  const tmp = await mkdtemp(join(os.tmpdir(), 'ats-ingress-conformance-'));
  cleanups.push(['temp dir', () => rm(tmp, { recursive: true, force: true })]);
  const table = `conformance-${process.pid}`;
  let controller: ManagedProcess | undefined;
  let result: ConformanceRun | undefined;
  try {
    log('building or finding: the suite, echo-basic, the Kubernetes binaries');
    const [suiteBin, echoBin] = await Promise.all([conformanceBinary(), echoBasicBinary()]);
    phase('binaries');

    const kube: KubeCluster = await startKube({ gatewayApiCrds: true, controllerManager: true });
    cleanups.push(['kube', () => kube.stop()]);
    for (const f of ['00-namespace.yaml', '10-rbac.yaml']) {
      const r = await kube.kubectl(['apply', '-f', join(K8S_DIR, 'traffic-server', f)]);
      if (r.code !== 0) throw new Error(`kubectl apply ${f}: ${r.stderr}`);
    }
    const svc = await kube.request<{ spec: { clusterIP: string } }>('GET', '/api/v1/namespaces/default/services/kubernetes');
    const clusterIp = svc.body?.spec?.clusterIP ?? '';
    if (!hostsOf(SERVICE_CIDR).includes(clusterIp)) throw new Error(`conformance: the kubernetes Service has cluster IP ${clusterIp}, outside ${SERVICE_CIDR}: update SERVICE_CIDR`);
    phase('API server, CRDs, controller manager');

    const kubelet: ProcessKubelet = await startProcessKubelet(kube, { images: { [ECHO_BASIC_IMAGE]: { command: echoBin }, [COREDNS_IMAGE]: COREDNS_STAND_IN } });
    cleanups.push(['process kubelet', () => kubelet.stop()]);

    const statsConfig = join(tmp, 'stats_over_http.config');
    await writeFile(statsConfig, `path=${STATS_PATH.slice(1)}\nallow_ip=127.0.0.1\n`);
    const ats: AtsInstance = await startAts({
      httpPort: 80,
      httpsPort: 443,
      https: true,
      alsoBind: hostsOf(GATEWAY_ADDRESSES),
      plugins: [`${join(ATS_MODULES_DIR, 'stats_over_http.so')} ${statsConfig}`, `${PLUGIN_SO} --table ${table}`],
      startTimeoutMs: 30_000,
    });
    cleanups.push(['ATS', () => ats.stop({ kill: true })]);
    cleanups.push([
      'table',
      async () => {
        const t = RouteTable.open(table);
        t.remove();
        t.close();
      },
    ]);
    phase('process kubelet, ATS');

    const adminPort = await freePort();
    controller = await ManagedProcess.start(
      process.execPath,
      [
        ...CONTROLLER_NODE_FLAGS,
        MAIN_JS,
        'controller',
        '--kubeconfig',
        kube.kubeconfig('controller'),
        '--table',
        table,
        '--admin-address',
        `127.0.0.1:${adminPort}`,
        '--gateway-addresses',
        GATEWAY_ADDRESSES,
        '--gateway-ports',
        '80,443',
        '--ats-stats-url',
        `http://127.0.0.1:80${STATS_PATH}`,
      ],
      { name: 'controller', output: { file: join(tmp, 'controller.log') }, graceMs: 10_000 },
    );
    const ctl = controller;
    cleanups.push(['controller', () => ctl.stop(5_000)]);
    const gc = {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'GatewayClass',
      metadata: { name: GATEWAY_CLASS },
      spec: { controllerName: CONTROLLER_NAME, description: 'ats-ingress: Apache Traffic Server' },
    };
    const created = await kube.request('POST', '/apis/gateway.networking.k8s.io/v1/gatewayclasses', gc);
    if (created.status !== 201) throw new Error(`creating GatewayClass ${GATEWAY_CLASS}: HTTP ${created.status} ${created.text}`);
    await pollUntil(
      `GatewayClass ${GATEWAY_CLASS} Accepted`,
      () => kube.request<{ status?: { conditions?: Array<{ type: string; status: string }> } }>('GET', `/apis/gateway.networking.k8s.io/v1/gatewayclasses/${GATEWAY_CLASS}`),
      (r) => (r.body?.status?.conditions ?? []).some((c) => c.type === 'Accepted' && c.status === 'True'),
      { timeoutMs: 60_000, intervalMs: 200, context: () => ctl.logTail(40) },
    );
    phase('controller, GatewayClass accepted');

    const unblock = await blockServiceRange(SERVICE_CIDR);
    cleanups.push([`route unreachable ${SERVICE_CIDR}`, unblock]);

    const reportPath = join(tmp, 'report.yaml');
    const args = argsFor(o, reportPath, suiteTimeoutMs);
    log(`suite: ${suiteBin} ${args.join(' ')}`);
    const env: NodeJS.ProcessEnv = { ...process.env, KUBECONFIG: kube.kubeconfig('admin') };
    delete env['KUBERNETES_SERVICE_HOST'];
    const suite = await ManagedProcess.start(suiteBin, args, { name: 'conformance.test', env, cwd: tmp, output: { file: join(tmp, 'suite.log') }, graceMs: 5_000 });
    cleanups.push(['suite', () => suite.stop(2_000)]);
    // Follow its log file as it grows, for onOutput.
    let shown = 0;
    const follow = async () => {
      const text = await readFile(join(tmp, 'suite.log'), 'utf8').catch(() => '');
      if (text.length > shown) {
        o.onOutput?.(text.slice(shown));
        shown = text.length;
      }
    };
    const follower = setInterval(() => void follow(), 500);
    let exit: ExitStatus | undefined;
    let bound: ReturnType<typeof setTimeout> | undefined;
    try {
      exit = await Promise.race([suite.exited, new Promise<undefined>((res) => (bound = setTimeout(() => res(undefined), suiteTimeoutMs + 60_000)))]);
    } finally {
      clearInterval(follower);
      clearTimeout(bound);
    }
    await follow();
    if (exit === undefined) await suite.kill();
    phase('suite');

    const output = await readFile(join(tmp, 'suite.log'), 'utf8');
    const parsed = parseGoTestOutput(output);
    const reportYaml = existsSync(reportPath) ? await readFile(reportPath, 'utf8') : undefined;
    sample();
    result = {
      exitCode: exit?.code ?? null,
      reportYaml,
      report: reportYaml !== undefined ? parseReport(reportYaml) : undefined,
      tests: parsed.tests,
      setupLog: parsed.setup,
      output,
      phases,
      totalMs: performance.now() - t0,
      peakRssBytes,
      peakRssByName: [...peakByName].sort((a, b) => b[1] - a[1]),
      controllerLog: readFileSync(join(tmp, 'controller.log'), 'utf8').slice(-20_000),
      cleanupErrors: [],
    };
    return result;
  } finally {
    clearInterval(sampler);
    const errors: string[] = [];
    for (const [what, fn] of cleanups.reverse()) {
      try {
        await fn();
      } catch (err) {
        errors.push(`${what}: ${(err as Error).message}`);
      }
    }
    unlock();
    phase('clean-up');
    if (errors.length) log(`clean-up problems:\n  ${errors.join('\n  ')}`);
    if (result) {
      result.cleanupErrors = errors;
      result.totalMs = performance.now() - t0;
    }
  }
}

/**
 * The Extended features of GATEWAY-HTTP that ats-ingress implements and
 * passes (README, "Gateway API"), claimed in the published report. The Core
 * test in `npm test` (conformance.test.ts) runs without them. Not claimed:
 * what needs listener port 8080 (GatewayPort8080, HTTPRouteParentRefPort,
 * GatewayAddressEmpty), which this run's ATS does not open.
 */
/** GATEWAY-HTTP's Core features. */
export const CORE_FEATURES: readonly string[] = ['Gateway', 'HTTPRoute', 'ReferenceGrant'];
export const EXTENDED_FEATURES: readonly string[] = SUPPORTED_FEATURES.filter((f) => !CORE_FEATURES.includes(f));

const mib = (b: number) => `${Math.round(b / 2 ** 20)} MiB`;
const secs = (ms: number) => `${(ms / 1000).toFixed(0)} s`;

/** The lines printed after a run: phases, time, memory, the report's summary, each failure with the suite's message. */
export function describeRun(run: ConformanceRun): string[] {
  const out: string[] = [];
  out.push(`run time ${secs(run.totalMs)} (${run.phases.map((p) => `${p.name} ${secs(p.ms)}`).join(', ')})`);
  out.push(`peak memory ${mib(run.peakRssBytes)} resident, this process and all below it: ${run.peakRssByName.slice(0, 6).map(([n, b]) => `${n} ${mib(b)}`).join(', ')}`);
  if (run.report) out.push(...reportSummary(run.report));
  else out.push(`the suite wrote no report (exit ${run.exitCode}); its set-up log ends:`, ...run.setupLog.slice(-30));
  const failed = run.tests.filter((t) => t.result === 'fail');
  const passed = run.tests.filter((t) => t.result === 'pass');
  const skipped = run.tests.filter((t) => t.result === 'skip');
  out.push(`tests: ${passed.length} passed, ${failed.length} failed, ${skipped.length} skipped`);
  for (const t of failed) {
    out.push(`FAIL ${t.name} (${t.seconds.toFixed(1)} s)${t.failedSubtests.length ? `, subtests: ${t.failedSubtests.join(', ')}` : ''}`);
    for (const l of failureMessage(t).split('\n')) out.push(`    ${l}`);
  }
  if (run.cleanupErrors.length) out.push('clean-up problems:', ...run.cleanupErrors.map((e) => `  ${e}`));
  return out;
}

