// A real Kubernetes API server for tests: etcd plus kube-apiserver on
// 127.0.0.1 ports, in a private temp dir, with RBAC on and token auth.
//
// The binaries are built from tools/kubebin by scripts/kubebin.sh (once per
// machine, cached under ~/.cache/ats-ingress/kubebin) or taken from the folder
// named by ATS_INGRESS_KUBEBIN. By default no controller manager, scheduler
// or kubelet runs: tests create EndpointSlices themselves, namespaces never
// finish deleting, nothing is garbage collected. startKube({
// controllerManager: true }) adds kube-controller-manager
// (controller-manager.ts), and a process kubelet (process-kubelet.ts) runs
// Pods; there is never a scheduler. Every process and every kubectl
// run are started through processes.ts (own process group, bounded, killed
// with the test process).
//
//   const kube = await startKube();
//   try {
//     const r = await kube.request('POST', '/api/v1/namespaces', { metadata: { name: 'x' } });
//     const out = await kube.kubectl(['get', 'ns'], { user: 'controller' });
//   } finally {
//     await kube.stop();
//   }

import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { networkInterfaces, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { startControllerManager, type ControllerManagerOptions } from './controller-manager.js';
import { tailLines } from './log-files.js';
import { freePorts } from './ports.js';
import { atExit, ManagedProcess, runCommand } from './processes.js';

export type KubeUser = 'admin' | 'controller';

/** The namespace and name of the ServiceAccount the controller token stands for. */
export const CONTROLLER_NAMESPACE = 'ats-ingress';
export const CONTROLLER_SERVICE_ACCOUNT = 'ats-ingress';
export const CONTROLLER_USER = `system:serviceaccount:${CONTROLLER_NAMESPACE}:${CONTROLLER_SERVICE_ACCOUNT}`;

export interface StartKubeOptions {
  /** Folder holding kube-apiserver, etcd, kubectl (and kube-controller-manager). Default: $ATS_INGRESS_KUBEBIN, else built by scripts/kubebin.sh. */
  binDir?: string;
  /** Bound on etcd + kube-apiserver becoming ready (and on each restart). Default 90 s. */
  startTimeoutMs?: number;
  /** Bound on scripts/kubebin.sh when it has to build. Default 60 min (a cold build takes many minutes). */
  buildTimeoutMs?: number;
  /** Leave the temp dir (logs, etcd data) behind after stop(), for debugging. Default: $ATS_INGRESS_KEEP_KUBE set. */
  keepTempDir?: boolean;
  /** Extra kube-apiserver flags, e.g. ['--v=4']. */
  apiServerArgs?: string[];
  /**
   * Install the Gateway API's standard-channel CRDs (the release pinned in
   * tools/gateway-api, fetched by scripts/gateway-crds.sh into the cache)
   * before startKube() resolves. Default false: a cluster without them.
   */
  gatewayApiCrds?: boolean;
  /**
   * Also run kube-controller-manager (controller-manager.ts): Deployments
   * become ReplicaSets and Pods, Services get EndpointSlices, namespaces
   * finish deleting, garbage is collected. Pods only run with a process
   * kubelet (process-kubelet.ts). Default false.
   */
  controllerManager?: boolean | ControllerManagerOptions;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface KubectlOptions {
  user?: KubeUser;
  /** Written to kubectl's stdin (e.g. a manifest for `apply -f -`). */
  input?: string;
  /** Default 60 s. */
  timeoutMs?: number;
}

export interface KubeResponse<T = any> {
  status: number;
  /** Parsed JSON, or undefined when the body was empty or not JSON. */
  body: T;
  /** The raw body. */
  text: string;
  headers: http.IncomingHttpHeaders;
}

export interface RequestOptions {
  /** Default: application/merge-patch+json for PATCH, application/json otherwise. */
  contentType?: string;
  /** Default 30 s. */
  timeoutMs?: number;
}

export interface KubeCluster {
  /** https://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  /** PEM file that verifies the API server (its self-signed cert chain from --cert-dir). */
  readonly caFile: string;
  /** Contents of caFile. */
  readonly ca: string;
  /** Bearer token of user `admin`, group system:masters. */
  readonly adminToken: string;
  /** Bearer token of user system:serviceaccount:ats-ingress:ats-ingress (no RBAC granted). */
  readonly controllerToken: string;
  readonly controllerUser: string;
  /** The private temp dir: logs (etcd.log, kube-apiserver.log), etcd data, pki. */
  readonly dir: string;
  readonly binDir: string;
  readonly etcdUrl: string;
  /** Writes (once) and returns the path of a kubeconfig for that user. */
  kubeconfig(user?: KubeUser): string;
  /** Runs kubectl against this cluster as that user (default admin). Never rejects on a non-zero exit. */
  kubectl(args: string[], opts?: KubectlOptions): Promise<ExecResult>;
  /** A JSON request to the API server as that user (default admin). Never rejects on an HTTP error status. */
  request<T = any>(method: string, path: string, body?: unknown, user?: KubeUser, opts?: RequestOptions): Promise<KubeResponse<T>>;
  /**
   * Installs the Gateway API's standard-channel CRDs (server-side apply:
   * some are larger than the last-applied annotation allows) and resolves
   * once each is Established and its kinds are served. Idempotent.
   */
  installGatewayApiCrds(): Promise<void>;
  /** Stops kube-apiserver and starts it again on the same port against the same etcd; resolves when ready. */
  restartApiServer(): Promise<void>;
  /**
   * Stops etcd (SIGTERM) and starts it again on the same ports with the same
   * data; kube-apiserver keeps running and reconnects. Resolves when etcd is
   * healthy and the API server serves again.
   */
  restartEtcd(): Promise<void>;
  /** Starts kube-controller-manager (see StartKubeOptions.controllerManager) if it is not running; resolves when it is healthy. */
  startControllerManager(opts?: ControllerManagerOptions): Promise<void>;
  /** Stops its processes (by their process groups: SIGTERM, then SIGKILL), waits until none is left and removes the temp dir. Idempotent. */
  stop(): Promise<void>;
  /** PIDs of the processes now running (undefined once exited or never started). */
  pids(): { etcd: number | undefined; apiserver: number | undefined; controllerManager: number | undefined };
}

/**
 * An IPv4 address of this machine that an EndpointSlice may hold. The API
 * server rejects loopback (127.0.0.0/8, ::1), link-local and unspecified
 * endpoint addresses with HTTP 422, so test backends that must appear in
 * EndpointSlices listen on this address (a local interface such as eth0's)
 * rather than on 127.0.0.1.
 */
export function endpointAddress(): string {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.family === 'IPv4' && !a.internal && !a.address.startsWith('169.254.') && a.address !== '0.0.0.0') return a.address;
    }
  }
  throw new Error('kube harness: this machine has no non-loopback IPv4 address; EndpointSlices cannot point at 127.0.0.1');
}

// ---------------------------------------------------------------------------
// Binaries

let binDirPromise: Promise<string> | undefined;

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'scripts', 'kubebin.sh')) && existsSync(join(dir, 'tools', 'kubebin', 'go.mod'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`kube harness: cannot find the repository root (scripts/kubebin.sh) above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

function checkBinDir(dir: string, from: string): string {
  for (const b of ['kube-apiserver', 'etcd', 'kubectl']) {
    const p = join(dir, b);
    let ok = false;
    try {
      ok = statSync(p).isFile() && (statSync(p).mode & 0o111) !== 0;
    } catch {
      ok = false;
    }
    if (!ok) throw new Error(`kube harness: ${p} (from ${from}) is missing or not executable; run 'bash scripts/kubebin.sh'`);
  }
  return dir;
}

/** Finds (building when needed) the folder with kube-apiserver, etcd and kubectl. Cached per process. */
export function kubeBinDir(buildTimeoutMs = 60 * 60_000): Promise<string> {
  const fromEnv = process.env['ATS_INGRESS_KUBEBIN'];
  if (fromEnv) return Promise.resolve(checkBinDir(resolve(fromEnv), 'ATS_INGRESS_KUBEBIN'));
  binDirPromise ??= (async () => {
    const root = repoRoot();
    // Progress (stderr) goes straight through: a cold build takes many minutes.
    const r = await run('bash', [join(root, 'scripts', 'kubebin.sh')], {
      cwd: root,
      timeoutMs: buildTimeoutMs,
      stderr: 'inherit',
    });
    if (r.code !== 0) throw new Error(`kube harness: scripts/kubebin.sh failed with exit code ${r.code}\n${r.stdout}${r.stderr}`);
    const last = r.stdout.trim().split('\n').pop() ?? '';
    return checkBinDir(last, 'scripts/kubebin.sh');
  })();
  binDirPromise.catch(() => {
    binDirPromise = undefined;
  });
  return binDirPromise;
}

let crdDirPromise: Promise<string> | undefined;

/** Finds (fetching when needed) the folder with the Gateway API CRDs. Cached per process. */
export function gatewayApiCrdDir(timeoutMs = 10 * 60_000): Promise<string> {
  crdDirPromise ??= (async () => {
    const root = repoRoot();
    const r = await run('bash', [join(root, 'scripts', 'gateway-crds.sh')], { cwd: root, timeoutMs, stderr: 'inherit' });
    if (r.code !== 0) throw new Error(`kube harness: scripts/gateway-crds.sh failed with exit code ${r.code}\n${r.stdout}${r.stderr}`);
    const dir = r.stdout.trim().split('\n').pop() ?? '';
    if (!existsSync(join(dir, '.complete'))) throw new Error(`kube harness: scripts/gateway-crds.sh gave ${JSON.stringify(dir)}, which holds no CRDs`);
    return dir;
  })();
  crdDirPromise.catch(() => {
    crdDirPromise = undefined;
  });
  return crdDirPromise;
}

// ---------------------------------------------------------------------------
// Small process and network helpers

interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string;
  timeoutMs: number;
  stderr?: 'pipe' | 'inherit';
}

/** Runs a command to completion (processes.ts: its own group, bounded); rejects only on spawn failure or timeout. */
async function run(cmd: string, args: string[], opts: RunOptions): Promise<ExecResult> {
  const r = await runCommand(cmd, args, opts);
  if (r.spawnError !== undefined) throw new Error(`kube harness: cannot run ${cmd}: ${r.spawnError}`);
  if (r.timedOut) {
    throw new Error(`kube harness: '${cmd} ${args.join(' ')}' timed out after ${opts.timeoutMs} ms\nstdout: ${tailLines(r.stdout, 40)}\nstderr: ${tailLines(r.stderr, 40)}`);
  }
  return { code: r.code ?? (r.signal ? 128 : 1), stdout: r.stdout, stderr: r.stderr };
}

const sleep = (ms: number) => new Promise<void>((res) => setTimeout(res, ms));

interface RawResponse {
  status: number;
  text: string;
  headers: http.IncomingHttpHeaders;
}

function rawRequest(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
  ca: string | undefined,
  timeoutMs: number,
): Promise<RawResponse> {
  return new Promise((res, rej) => {
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.request(
      url,
      { method, headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) }, ...(ca ? { ca } : {}), agent: false },
      (resp) => {
        let text = '';
        resp.setEncoding('utf8');
        resp.on('data', (d: string) => (text += d));
        resp.on('end', () => res({ status: resp.statusCode ?? 0, text, headers: resp.headers }));
        resp.on('error', rej);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${url.href} timed out after ${timeoutMs} ms`)));
    req.on('error', rej);
    req.end(body);
  });
}

// ---------------------------------------------------------------------------
// The cluster

/** Starts etcd and kube-apiserver in a new temp dir and waits until the API serves namespace `default`. */
export async function startKube(opts: StartKubeOptions = {}): Promise<KubeCluster> {
  const startTimeoutMs = opts.startTimeoutMs ?? 90_000;
  const keep = opts.keepTempDir ?? !!process.env['ATS_INGRESS_KEEP_KUBE'];
  const binDir = opts.binDir ? checkBinDir(resolve(opts.binDir), 'options.binDir') : await kubeBinDir(opts.buildTimeoutMs);
  const dir = mkdtempSync(join(tmpdir(), 'ats-ingress-kube-'));
  const cluster = new Cluster(dir, binDir, keep, startTimeoutMs, opts.apiServerArgs ?? []);
  try {
    await cluster.start();
    if (opts.gatewayApiCrds) await cluster.installGatewayApiCrds();
    if (opts.controllerManager) await cluster.startControllerManager(opts.controllerManager === true ? {} : opts.controllerManager);
  } catch (err) {
    await cluster.stop().catch(() => undefined);
    throw err;
  }
  return cluster;
}

class Cluster implements KubeCluster {
  readonly adminToken = randomBytes(24).toString('hex');
  readonly controllerToken = randomBytes(24).toString('hex');
  readonly controllerUser = CONTROLLER_USER;
  url = '';
  port = 0;
  etcdUrl = '';
  readonly caFile: string;
  ca = '';
  private etcdPeerPort = 0;
  private etcd: ManagedProcess | undefined;
  private apiserver: ManagedProcess | undefined;
  private controllerManager: ManagedProcess | undefined;
  private readonly kubeconfigs = new Map<KubeUser, string>();
  private stopped = false;
  private stopping: Promise<void> | undefined;
  private restarting: Promise<void> | undefined;
  /** Removes the dir if Node exits without stop() (after the 'exit' hook killed etcd and kube-apiserver). */
  private readonly forgetDirAtExit: () => void;

  constructor(
    readonly dir: string,
    readonly binDir: string,
    private readonly keep: boolean,
    private readonly startTimeoutMs: number,
    private readonly extraApiServerArgs: string[],
  ) {
    this.caFile = join(dir, 'pki', 'apiserver.crt');
    this.forgetDirAtExit = keep ? () => undefined : atExit(() => rmSync(dir, { recursive: true, force: true }));
  }

  async start(): Promise<void> {
    const [etcdPort, peerPort, apiPort] = await freePorts(3);
    this.etcdPeerPort = peerPort!;
    this.port = apiPort!;
    this.url = `https://127.0.0.1:${this.port}`;
    this.etcdUrl = `http://127.0.0.1:${etcdPort}`;

    const { privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    writeFileSync(join(this.dir, 'sa.key'), privateKey, { mode: 0o600 });
    writeFileSync(
      join(this.dir, 'tokens.csv'),
      [
        `${this.adminToken},admin,${randomUUID()},"system:masters"`,
        `${this.controllerToken},${CONTROLLER_USER},${randomUUID()},"system:serviceaccounts,system:serviceaccounts:${CONTROLLER_NAMESPACE},system:authenticated"`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );

    const deadline = Date.now() + this.startTimeoutMs;
    this.etcd = await this.startProcess('etcd', this.etcdArgs());
    await this.waitEtcd(deadline);
    await this.startApiServer(deadline);
  }

  private etcdArgs(): string[] {
    const peer = `http://127.0.0.1:${this.etcdPeerPort}`;
    return [
      '--name=default',
      `--data-dir=${join(this.dir, 'etcd')}`,
      `--listen-client-urls=${this.etcdUrl}`,
      `--advertise-client-urls=${this.etcdUrl}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=default=${peer}`,
      '--unsafe-no-fsync',
      '--log-level=warn',
    ];
  }

  private apiServerArgs(): string[] {
    return [
      `--etcd-servers=${this.etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${this.port}`,
      `--cert-dir=${join(this.dir, 'pki')}`,
      '--service-cluster-ip-range=10.0.0.0/24',
      `--service-account-issuer=${this.url}`,
      `--service-account-key-file=${join(this.dir, 'sa.key')}`,
      `--service-account-signing-key-file=${join(this.dir, 'sa.key')}`,
      '--authorization-mode=RBAC',
      `--token-auth-file=${join(this.dir, 'tokens.csv')}`,
      '--disable-admission-plugins=ServiceAccount',
      '--allow-privileged=true',
      ...this.extraApiServerArgs,
    ];
  }

  /**
   * etcd or kube-apiserver as a ManagedProcess (processes.ts): its own
   * process group, its output appended to <dir>/<name>.log; if the test
   * process dies without stop(), its watchdog kills it and removes the dir.
   */
  private startProcess(name: 'etcd' | 'kube-apiserver', args: string[]): Promise<ManagedProcess> {
    return ManagedProcess.start(join(this.binDir, name), args, {
      name,
      output: { file: join(this.dir, `${name}.log`) },
      graceMs: 10_000,
      ...(this.keep ? {} : { removeDirOnDeath: this.dir }),
    });
  }

  private async waitEtcd(deadline: number): Promise<void> {
    let last = '';
    while (Date.now() < deadline) {
      if (!this.etcd!.running) throw new Error(`kube harness: ${this.etcd!.describeExit()} before it was ready\n${this.etcd!.logTail()}`);
      try {
        const r = await rawRequest(new URL('/health', this.etcdUrl), 'GET', {}, undefined, undefined, 2_000);
        if (r.status === 200 && /"health":\s*"true"/.test(r.text)) return;
        last = `HTTP ${r.status} ${r.text.trim()}`;
      } catch (err) {
        last = (err as Error).message;
      }
      await sleep(100);
    }
    throw new Error(`kube harness: etcd not healthy at ${this.etcdUrl} within ${this.startTimeoutMs} ms (last: ${last})\n${this.etcd!.logTail()}`);
  }

  private async startApiServer(deadline: number): Promise<void> {
    this.apiserver = await this.startProcess('kube-apiserver', this.apiServerArgs());
    const fail = (what: string) =>
      new Error(`kube harness: kube-apiserver ${what}\n${this.apiserver!.describeExit()}; ${this.etcd!.describeExit()}\n${this.apiserver!.logTail()}`);
    let last = '';
    // The self-signed cert appears in --cert-dir before the server listens.
    while (!this.ca) {
      if (!this.apiserver.running) throw fail('exited before it was ready');
      if (Date.now() > deadline) throw fail(`wrote no ${this.caFile} within ${this.startTimeoutMs} ms`);
      try {
        const pem = readFileSync(this.caFile, 'utf8');
        if (pem.includes('-----END CERTIFICATE-----')) this.ca = pem;
      } catch {
        /* not yet */
      }
      if (!this.ca) await sleep(100);
    }
    for (const [path, want] of [
      ['/readyz', (r: RawResponse) => r.status === 200],
      ['/api/v1/namespaces/default', (r: RawResponse) => r.status === 200],
    ] as const) {
      for (;;) {
        if (!this.apiserver.running) throw fail('exited before it was ready');
        if (Date.now() > deadline) throw fail(`not ready within ${this.startTimeoutMs} ms: GET ${path} last gave ${last}`);
        try {
          const r = await rawRequest(new URL(path, this.url), 'GET', { authorization: `Bearer ${this.adminToken}` }, undefined, this.ca, 5_000);
          if (want(r)) break;
          last = `HTTP ${r.status} ${tailLines(r.text, 5)}`;
        } catch (err) {
          last = (err as Error).message;
        }
        await sleep(200);
      }
    }
  }

  private tokenOf(user: KubeUser): string {
    if (user === 'admin') return this.adminToken;
    if (user === 'controller') return this.controllerToken;
    throw new Error(`kube harness: unknown user ${String(user)} (admin or controller)`);
  }

  kubeconfig(user: KubeUser = 'admin'): string {
    const known = this.kubeconfigs.get(user);
    if (known) return known;
    const path = join(this.dir, `kubeconfig-${user}.yaml`);
    const config = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'test', cluster: { server: this.url, 'certificate-authority': this.caFile } }],
      users: [{ name: user, user: { token: this.tokenOf(user) } }],
      contexts: [{ name: user, context: { cluster: 'test', user, namespace: 'default' } }],
      'current-context': user,
      preferences: {},
    };
    // JSON is YAML: kubectl and client libraries read it as a kubeconfig.
    writeFileSync(path, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
    this.kubeconfigs.set(user, path);
    return path;
  }

  kubectl(args: string[], opts: KubectlOptions = {}): Promise<ExecResult> {
    const env: NodeJS.ProcessEnv = { ...process.env, KUBERC: 'off', KUBECACHEDIR: join(this.dir, 'kubectl-cache') };
    delete env['KUBECONFIG'];
    return run(join(this.binDir, 'kubectl'), [`--kubeconfig=${this.kubeconfig(opts.user ?? 'admin')}`, ...args], {
      env,
      timeoutMs: opts.timeoutMs ?? 60_000,
      ...(opts.input !== undefined ? { input: opts.input } : {}),
    });
  }

  async request<T = any>(method: string, path: string, body?: unknown, user: KubeUser = 'admin', opts: RequestOptions = {}): Promise<KubeResponse<T>> {
    const m = method.toUpperCase();
    const headers: Record<string, string> = { authorization: `Bearer ${this.tokenOf(user)}`, accept: 'application/json' };
    let text: string | undefined;
    if (body !== undefined) {
      text = typeof body === 'string' ? body : JSON.stringify(body);
      headers['content-type'] = opts.contentType ?? (m === 'PATCH' ? 'application/merge-patch+json' : 'application/json');
    }
    const timeoutMs = opts.timeoutMs ?? 30_000;
    let r: RawResponse;
    try {
      r = await rawRequest(new URL(path, this.url), m, headers, text, this.ca, timeoutMs);
    } catch (err) {
      throw new Error(`kube harness: ${m} ${path} as ${user}: ${(err as Error).message}`);
    }
    let parsed: any;
    try {
      parsed = r.text ? JSON.parse(r.text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: r.status, body: parsed as T, text: r.text, headers: r.headers };
  }

  restartApiServer(): Promise<void> {
    if (this.stopped) return Promise.reject(new Error('kube harness: restartApiServer() after stop()'));
    this.restarting ??= (async () => {
      try {
        await this.apiserver?.stop();
        await this.startApiServer(Date.now() + this.startTimeoutMs);
      } finally {
        this.restarting = undefined;
      }
    })();
    return this.restarting;
  }

  async installGatewayApiCrds(): Promise<void> {
    const dir = await gatewayApiCrdDir();
    const r = await this.kubectl(['apply', '--server-side', '--force-conflicts', '-f', dir], { timeoutMs: 120_000 });
    if (r.code !== 0) throw new Error(`kube harness: installing the Gateway API CRDs from ${dir} failed: ${r.stderr || r.stdout}`);
    const names = r.stdout.split('\n').map((l) => l.split(' ')[0]?.replace(/^customresourcedefinition\.apiextensions\.k8s\.io\//, '')).filter((n): n is string => !!n);
    const deadline = Date.now() + 60_000;
    for (const name of names) {
      for (;;) {
        const crd = await this.request('GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`);
        const established = (crd.body?.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Established' && c.status === 'True');
        if (established) {
          // Established, and then served: the first list can still answer 404 for a moment.
          const plural = crd.body.spec.names.plural as string;
          const version = (crd.body.spec.versions as Array<{ name: string; served: boolean; storage: boolean }>).find((v) => v.storage)?.name ?? 'v1';
          const list = await this.request('GET', `/apis/${crd.body.spec.group as string}/${version}/${plural}?limit=1`);
          if (list.status === 200) break;
        }
        if (Date.now() > deadline) throw new Error(`kube harness: CRD ${name} not established and served within 60 s: ${crd.text.slice(0, 500)}`);
        await sleep(100);
      }
    }
  }

  async restartEtcd(): Promise<void> {
    // One restart at a time: wait for one in progress, then restart etcd.
    while (this.restarting) await this.restarting.catch(() => undefined);
    if (this.stopped) throw new Error('kube harness: restartEtcd() after stop()');
    this.restarting = (async () => {
      try {
        await this.etcd?.stop();
        const deadline = Date.now() + this.startTimeoutMs;
        this.etcd = await this.startProcess('etcd', this.etcdArgs());
        await this.waitEtcd(deadline);
        await this.waitApiServerServes(deadline);
      } finally {
        this.restarting = undefined;
      }
    })();
    return this.restarting;
  }

  /** Polls until the running kube-apiserver answers /readyz and namespace `default` (after etcd came back). */
  private async waitApiServerServes(deadline: number): Promise<void> {
    let last = '';
    for (const path of ['/readyz', '/api/v1/namespaces/default']) {
      for (;;) {
        if (!this.apiserver?.running) throw new Error(`kube harness: kube-apiserver is not running (${this.apiserver?.describeExit() ?? 'never started'})`);
        if (Date.now() > deadline) throw new Error(`kube harness: kube-apiserver did not serve again within ${this.startTimeoutMs} ms after etcd restarted: GET ${path} last gave ${last}\n${this.apiserver.logTail()}`);
        try {
          const r = await rawRequest(new URL(path, this.url), 'GET', { authorization: `Bearer ${this.adminToken}` }, undefined, this.ca, 5_000);
          if (r.status === 200) break;
          last = `HTTP ${r.status} ${tailLines(r.text, 5)}`;
        } catch (err) {
          last = (err as Error).message;
        }
        await sleep(100);
      }
    }
  }

  stop(): Promise<void> {
    this.stopped = true;
    this.stopping ??= (async () => {
      await this.restarting?.catch(() => undefined);
      const errors: string[] = [];
      for (const p of [this.controllerManager, this.apiserver, this.etcd]) {
        try {
          await p?.stop();
        } catch (err) {
          errors.push((err as Error).message);
        }
      }
      this.forgetDirAtExit();
      if (!this.keep) rmSync(this.dir, { recursive: true, force: true, maxRetries: 3 });
      if (errors.length) throw new Error(errors.join('\n'));
    })();
    return this.stopping;
  }

  async startControllerManager(opts: ControllerManagerOptions = {}): Promise<void> {
    if (this.stopped) throw new Error('kube harness: startControllerManager() after stop()');
    if (this.controllerManager?.running) return;
    const binary = join(this.binDir, 'kube-controller-manager');
    if (!existsSync(binary)) throw new Error(`kube harness: ${binary} is missing; run 'bash scripts/kubebin.sh' (or point ATS_INGRESS_KUBEBIN at a folder that has it)`);
    this.controllerManager = await startControllerManager(
      {
        binary,
        dir: this.dir,
        kubeconfig: this.kubeconfig('admin'),
        serviceAccountKeyFile: join(this.dir, 'sa.key'),
        rootCaFile: this.caFile,
        serviceClusterIpRange: '10.0.0.0/24',
        ...(this.keep ? {} : { removeDirOnDeath: this.dir }),
      },
      opts,
    );
  }

  /** PIDs of the running processes (for tests of the harness itself). */
  pids(): { etcd: number | undefined; apiserver: number | undefined; controllerManager: number | undefined } {
    const pid = (p: ManagedProcess | undefined) => (p?.running ? p.pid : undefined);
    return { etcd: pid(this.etcd), apiserver: pid(this.apiserver), controllerManager: pid(this.controllerManager) };
  }
}
