// The end-to-end setup shared by test/e2e/*.test.ts and
// bench/controller/latency-bench.ts: a real kube-apiserver (test/harness/kube.ts)
// with the shipped namespace and RBAC applied, a test network namespace with
// echo backends on "pod" addresses (the API server refuses loopback addresses
// in EndpointSlices), a real traffic_server with the ats_ingress plugin in
// global mode and stats_over_http, and the controller as a child process
// (`node dist/src/cli/main.js controller`) running with the controller's
// ServiceAccount token, so the shipped RBAC is all it has.
//
// There is no kube-controller-manager: the tests write the EndpointSlices
// (server-side apply, labelled kubernetes.io/service-name, managed by
// e2e.ats-ingress.test) themselves.
//
// Everything is bounded in time and stopped by PID in close(), which also
// checks that nothing is left: processes, the network namespace, the table's
// shared-memory objects.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';

import { RouteTable } from '../../src/route-table/route-table.js';
import { CONTROLLER_NODE_FLAGS } from '../../src/controller/node-flags.js';
import { ATS_MODULES_DIR, httpRequest, startAts, type AtsInstance, type HttpRequestOptions, type HttpResponse } from '../harness/ats.js';
import type { BackendEcho } from '../harness/backends.js';
import { startKube, type KubeCluster } from '../harness/kube.js';
import { createTestNetwork, type NetnsBackends, type NetnsBackendSpec, type TestNetwork } from '../harness/netns.js';
import { freePort } from '../harness/ports.js';
import { ManagedProcess, type ExitStatus } from '../harness/processes.js';
import { PLUGIN_SO, ROOT } from '../plugin/helpers.js';

export { ROOT };
export const MAIN_JS = resolve(ROOT, 'dist/src/cli/main.js');
export const K8S_DIR = resolve(ROOT, 'k8s');
export const MANAGED_BY = 'e2e.ats-ingress.test';
export const STATS_PATH = '/_stats';

export interface E2eOptions {
  /** A short tag for the table name (`e2e-<tag>-<pid>`). */
  tag: string;
  /** Pod addresses in the test network. */
  pods: number;
  /** Echo backends to start in the test network (host: an index into the pod addresses). */
  backends: Array<{ service: string; pod: string; podIndex: number; port: number }>;
  /** Start ATS now (default true); false: call startAts() later. */
  ats?: boolean;
  /** ATS as the pod runs it: under traffic_manager (records), with a TLS port (default false: traffic_server alone, http only, faster). */
  pod?: boolean;
  /** Install the Gateway API's standard-channel CRDs before anything else (default false). */
  gatewayApiCrds?: boolean;
  /** Addresses ATS listens on besides 127.0.0.1, on the same port (e.g. the Gateways' addresses). */
  atsAlsoBind?: string[];
}

/** One controller child process: a ManagedProcess of the harness (test/harness/processes.ts). */
export class ControllerProcess {
  readonly adminPort: number;
  readonly #proc: ManagedProcess;

  private constructor(proc: ManagedProcess, adminPort: number) {
    this.#proc = proc;
    this.adminPort = adminPort;
  }

  /** Starts `node FLAGS dist/src/cli/main.js controller ARGS` (the Deployment's flags); its stdout and stderr are kept (the last 200,000 characters at least). */
  static async start(args: string[], adminPort: number): Promise<ControllerProcess> {
    const proc = await ManagedProcess.start(process.execPath, [...CONTROLLER_NODE_FLAGS, MAIN_JS, 'controller', ...args], {
      name: 'controller',
      output: 'memory',
      tailChars: 200_000,
      graceMs: 10_000,
    });
    return new ControllerProcess(proc, adminPort);
  }

  get pid(): number {
    return this.#proc.pid;
  }

  /** How it exited; undefined while it runs. */
  get exited(): ExitStatus | undefined {
    return this.#proc.exitStatus;
  }

  get running(): boolean {
    return this.#proc.running;
  }

  /** The controller's log lines (JSON), last `chars` characters. */
  log(chars = 6_000): string {
    return this.#proc.output(chars);
  }

  /** GET on the admin port: status and parsed JSON (undefined when not JSON). */
  async admin(path: '/healthz' | '/readyz' | '/metrics'): Promise<{ status: number; body: any; text: string }> {
    const r = await getLocal(this.adminPort, path, 3_000);
    let body: any;
    try {
      body = JSON.parse(r.body);
    } catch {
      body = undefined;
    }
    return { status: r.status, body, text: r.body };
  }

  /** Waits until /readyz answers 200 (bounded). */
  async waitReady(timeoutMs = 30_000): Promise<number> {
    const t0 = performance.now();
    let last = '(no answer)';
    while (performance.now() - t0 < timeoutMs) {
      if (!this.running) break;
      try {
        const r = await this.admin('/readyz');
        if (r.status === 200) return performance.now() - t0;
        last = `${r.status} ${r.text}`;
      } catch (err) {
        last = (err as Error).message;
      }
      await delay(50);
    }
    assert.fail(`controller not ready within ${timeoutMs} ms (${this.running ? 'running' : `exited: ${JSON.stringify(this.exited)}`}); last /readyz: ${last}\n${this.log()}`);
  }

  /** SIGTERM (a clean stop), SIGKILL after `graceMs`; resolves when it has exited and nothing of its process group is left. */
  stop(graceMs = 10_000): Promise<ExitStatus> {
    return this.#proc.stop(graceMs);
  }

  /** SIGKILL now; resolves when it has exited. */
  async kill(): Promise<void> {
    await this.#proc.kill();
  }
}

/** A GET to 127.0.0.1:port on a fresh connection. */
export function getLocal(port: number, path: string, timeoutMs: number): Promise<HttpResponse> {
  return new Promise((res, rej) => {
    const req = http.request({ host: '127.0.0.1', port, path, agent: false, signal: AbortSignal.timeout(timeoutMs) }, (r) => {
      let body = '';
      r.setEncoding('utf8');
      r.on('data', (d: string) => (body += d));
      r.on('end', () => res({ status: r.statusCode ?? 0, headers: r.headers, body }));
      r.on('error', rej);
    });
    req.on('error', rej);
    req.end();
  });
}

/** The pod and service that answered, or the status when no backend did. */
export function who(r: HttpResponse): string {
  if (r.status === 200 && String(r.headers['content-type']).includes('application/json')) {
    const e = JSON.parse(r.body) as BackendEcho;
    return `${e.service}@${e.pod}`;
  }
  return String(r.status);
}

export function echo(r: HttpResponse): BackendEcho | undefined {
  if (r.status !== 200 || !String(r.headers['content-type']).includes('application/json')) return undefined;
  return JSON.parse(r.body) as BackendEcho;
}

export interface SliceSpec {
  namespace: string;
  service: string;
  /** The slice's name; default `<service>-e2e`. */
  name?: string;
  /** The Service port's name (the slice port must carry it). Default 'http'. */
  portName?: string;
  port: number;
  addresses: readonly string[];
}

export function endpointSlice(s: SliceSpec): Record<string, unknown> {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: s.name ?? `${s.service}-e2e`,
      namespace: s.namespace,
      labels: { 'kubernetes.io/service-name': s.service, 'endpointslice.kubernetes.io/managed-by': MANAGED_BY },
    },
    addressType: 'IPv4',
    ports: [{ name: s.portName ?? 'http', port: s.port, protocol: 'TCP' }],
    endpoints: s.addresses.map((a) => ({ addresses: [a], conditions: { ready: true } })),
  };
}

/** Rounds to 0.1 ms for printing. */
export const ms = (x: number) => Math.round(x * 10) / 10;

export class E2e {
  readonly table: string;
  readonly kube: KubeCluster;
  readonly net: TestNetwork;
  readonly backends: NetnsBackends;
  ats: AtsInstance | undefined;
  /** The port ATS listens on (chosen before it starts, so --ats-stats-url can name it). */
  readonly atsPort: number;
  readonly controllers: ControllerProcess[] = [];
  readonly #tmp: string;
  #closed = false;
  #pod = false;
  #alsoBind: string[] = [];

  private constructor(table: string, kube: KubeCluster, net: TestNetwork, backends: NetnsBackends, atsPort: number, tmp: string) {
    this.table = table;
    this.kube = kube;
    this.net = net;
    this.backends = backends;
    this.atsPort = atsPort;
    this.#tmp = tmp;
  }

  /** Starts everything but the controller. On failure, stops what started. */
  static async start(o: E2eOptions): Promise<E2e> {
    const table = `e2e-${o.tag}-${process.pid}`;
    const tmp = await mkdtemp(join(os.tmpdir(), 'ats-ingress-e2e-'));
    let kube: KubeCluster | undefined;
    let net: TestNetwork | undefined;
    let backends: NetnsBackends | undefined;
    try {
      // The API server (~5 s) and the network start side by side.
      [kube, net] = await Promise.all([startKube(o.gatewayApiCrds ? { gatewayApiCrds: true } : {}), createTestNetwork(o.pods)]);
      const n = net;
      const specs: NetnsBackendSpec[] = o.backends.map((b) => {
        const host = n.podAddresses[b.podIndex];
        if (host === undefined) throw new Error(`backend ${b.pod}: no pod address ${b.podIndex}`);
        return { service: b.service, pod: b.pod, host, port: b.port };
      });
      const [started] = await Promise.all([
        n.startBackends(specs),
        // The shipped namespace and RBAC, as the cluster admin.
        (async () => {
          for (const f of ['00-namespace.yaml', '10-rbac.yaml']) {
            const r = await kube!.kubectl(['apply', '-f', join(K8S_DIR, 'traffic-server', f)]);
            if (r.code !== 0) throw new Error(`kubectl apply ${f}: ${r.stderr}`);
          }
        })(),
      ]);
      backends = started;
      const e = new E2e(table, kube, net, backends, await freePort(), tmp);
      e.#pod = o.pod === true;
      e.#alsoBind = o.atsAlsoBind ?? [];
      if (o.ats !== false) await e.startAts();
      return e;
    } catch (err) {
      await backends?.close().catch(() => undefined);
      await net?.close().catch(() => undefined);
      await kube?.stop().catch(() => undefined);
      await rm(tmp, { recursive: true, force: true });
      throw err;
    }
  }

  get statsUrl(): string {
    return `http://127.0.0.1:${this.atsPort}${STATS_PATH}`;
  }

  /** ATS with stats_over_http (on /_stats, 127.0.0.1 only) then the plugin in global mode, on atsPort. */
  async startAts(): Promise<AtsInstance> {
    assert.equal(this.ats, undefined, 'ATS already started');
    const statsConfig = join(this.#tmp, 'stats_over_http.config');
    await writeFile(statsConfig, `path=${STATS_PATH.slice(1)}\nallow_ip=127.0.0.1\n`);
    this.ats = await startAts({
      httpPort: this.atsPort,
      plugins: [`${join(ATS_MODULES_DIR, 'stats_over_http.so')} ${statsConfig}`, `${PLUGIN_SO} --table ${this.table}`],
      startTimeoutMs: 30_000,
      ...(this.#alsoBind.length ? { alsoBind: this.#alsoBind } : {}),
      ...(this.#pod ? { manager: true, https: true } : {}),
    });
    return this.ats;
  }

  /** The controller flags that let it apply records through this ATS's traffic_manager (pod mode). */
  recordsArgs(): string[] {
    assert.ok(this.#pod && this.ats, 'records need ATS under traffic_manager: E2e.start({ pod: true })');
    return ['--ats-runroot', this.ats.dir];
  }

  /** The generation the plugin reports through stats_over_http (undefined when not known). */
  async atsGeneration(): Promise<number | undefined> {
    const r = await getLocal(this.atsPort, STATS_PATH, 3_000);
    if (r.status !== 200) return undefined;
    const v = (JSON.parse(r.body) as { global?: Record<string, string> }).global?.['plugin.ats_ingress.table_generation'];
    return v === undefined ? undefined : Number(v);
  }

  /**
   * Starts a controller child with the controller's kubeconfig, this table and
   * a free admin port; `args` come after (they may repeat flags).
   */
  async startController(args: string[] = []): Promise<ControllerProcess> {
    const adminPort = await freePort();
    const c = await ControllerProcess.start(
      ['--kubeconfig', this.kube.kubeconfig('controller'), '--table', this.table, '--admin-address', `127.0.0.1:${adminPort}`, ...args],
      adminPort,
    );
    this.controllers.push(c);
    return c;
  }

  /** kubectl as admin; fails the test on a non-zero exit. */
  async kubectl(args: string[], input?: string): Promise<string> {
    const r = await this.kube.kubectl(args, input !== undefined ? { input } : {});
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  readonly #agent = new https.Agent({ keepAlive: true, maxSockets: 4 });

  /**
   * A JSON request to the API server as admin on a kept-alive connection (so
   * that a timed write is one request, not a TLS handshake and a request).
   */
  write(method: string, path: string, body: unknown, contentType = 'application/json'): Promise<{ status: number; text: string }> {
    const data = JSON.stringify(body);
    return new Promise((res, rej) => {
      const req = https.request(
        new URL(path, this.kube.url),
        {
          method,
          agent: this.#agent,
          ca: this.kube.ca,
          headers: { authorization: `Bearer ${this.kube.adminToken}`, 'content-type': contentType, accept: 'application/json', 'content-length': Buffer.byteLength(data) },
          signal: AbortSignal.timeout(15_000),
        },
        (r) => {
          let text = '';
          r.setEncoding('utf8');
          r.on('data', (d: string) => (text += d));
          r.on('end', () => res({ status: r.statusCode ?? 0, text }));
          r.on('error', rej);
        },
      );
      req.on('error', rej);
      req.end(data);
    });
  }

  /** Creates or updates an object with server-side apply (one request). */
  async apply(path: string, obj: Record<string, unknown>): Promise<void> {
    const r = await this.write('PATCH', `${path}?fieldManager=${MANAGED_BY}&force=true`, obj, 'application/apply-patch+yaml');
    assert.ok(r.status === 200 || r.status === 201, `apply ${path}: HTTP ${r.status} ${r.text}`);
  }

  /** Creates or replaces an EndpointSlice. */
  async putSlice(s: SliceSpec): Promise<void> {
    const name = s.name ?? `${s.service}-e2e`;
    await this.apply(`/apis/discovery.k8s.io/v1/namespaces/${s.namespace}/endpointslices/${name}`, endpointSlice(s));
  }

  /** A request through ATS on a fresh connection; to 127.0.0.1, or to `address` (one of atsAlsoBind) on the same port. */
  request(req: HttpRequestOptions & { address?: string }): Promise<HttpResponse> {
    assert.ok(this.ats, 'ATS is not running');
    const { address, ...rest } = req;
    if (address !== undefined) return httpRequest({ fresh: true, timeoutMs: 5_000, ...rest, port: this.atsPort, address });
    return this.ats.request({ fresh: true, timeoutMs: 5_000, ...rest });
  }

  /**
   * Polls ATS (fresh connections, every `intervalMs`) until `ok` holds;
   * returns the time since `since` (performance.now()) and the answer.
   */
  async until(
    what: string,
    req: HttpRequestOptions & { address?: string },
    ok: (r: HttpResponse) => boolean,
    opts: { since?: number; timeoutMs?: number; intervalMs?: number } = {},
  ): Promise<{ ms: number; response: HttpResponse }> {
    const since = opts.since ?? performance.now();
    const timeoutMs = opts.timeoutMs ?? 15_000;
    let last = '(no answer yet)';
    for (;;) {
      try {
        const r = await this.request(req);
        if (ok(r)) return { ms: performance.now() - since, response: r };
        last = `${r.status} ${r.body.slice(0, 300)}`;
      } catch (err) {
        last = (err as Error).message;
      }
      if (performance.now() - since > timeoutMs) {
        const logs = this.controllers.map((c) => `--- controller ${c.pid} ---\n${c.log(4_000)}`).join('\n');
        assert.fail(`${what}: not within ${timeoutMs} ms; last: ${last}\n${logs}`);
      }
      await delay(opts.intervalMs ?? 10);
    }
  }

  /** `ats-ingress routes --table T --json` of this table. */
  routes(): { generation: string; hosts: unknown[]; backends: unknown[] } & Record<string, unknown> {
    const out = execFileSync(process.execPath, [MAIN_JS, 'routes', '--table', this.table, '--json'], { timeout: 20_000, encoding: 'utf8' });
    return JSON.parse(out);
  }

  /** Stops everything (controllers by SIGTERM then SIGKILL, ATS, backends, network, API server) and checks nothing is left. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#agent.destroy();
    const errors: string[] = [];
    const step = async (what: string, fn: () => Promise<unknown>) => {
      try {
        await fn();
      } catch (err) {
        errors.push(`${what}: ${(err as Error).message}`);
      }
    };
    for (const c of this.controllers) await step(`controller ${c.pid}`, () => c.stop(5_000));
    await step('ATS', async () => this.ats?.stop({ kill: true }));
    await step('backends', () => this.backends.close());
    await step('network', () => this.net.close());
    const pids = this.kube.pids();
    await step('kube', () => this.kube.stop());
    await step('table', async () => {
      const t = RouteTable.open(this.table);
      t.remove();
      t.close();
    });
    await rm(this.#tmp, { recursive: true, force: true });

    // Nothing left behind.
    const alive = (pid: number | undefined) => {
      if (pid === undefined) return false;
      try {
        process.kill(pid, 0);
        return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      } catch {
        return false;
      }
    };
    for (const c of this.controllers) if (alive(c.pid) && c.running) errors.push(`controller ${c.pid} still runs`);
    if (alive(pids.etcd)) errors.push(`etcd ${pids.etcd} still runs`);
    if (alive(pids.apiserver)) errors.push(`kube-apiserver ${pids.apiserver} still runs`);
    const netns = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8', timeout: 10_000 });
    if (netns.includes(this.net.namespace)) errors.push(`network namespace ${this.net.namespace} left: ${netns}`);
    const shm = existsSync('/dev/shm') ? readdirSync('/dev/shm').filter((f) => f.startsWith(`ats-ingress.${this.table}.`)) : [];
    if (shm.length) errors.push(`shared memory left: ${shm.join(', ')}`);
    if (errors.length) throw new Error(`e2e clean-up:\n  ${errors.join('\n  ')}`);
  }
}

/** p-quantile (0..1) of a list, nearest rank. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}
