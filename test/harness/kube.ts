// A real Kubernetes API server for tests: etcd plus kube-apiserver on
// 127.0.0.1 ports, in a private temp dir, with RBAC on and token auth.
//
// The binaries are built from tools/kubebin by scripts/kubebin.sh (once per
// machine, cached under ~/.cache/ats-ingress/kubebin) or taken from the folder
// named by ATS_INGRESS_KUBEBIN. No controller manager, scheduler or kubelet
// runs: tests create EndpointSlices themselves, namespaces never finish
// deleting, nothing is garbage collected.
//
//   const kube = await startKube();
//   try {
//     const r = await kube.request('POST', '/api/v1/namespaces', { metadata: { name: 'x' } });
//     const out = await kube.kubectl(['get', 'ns'], { user: 'controller' });
//   } finally {
//     await kube.stop();
//   }

import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type KubeUser = 'admin' | 'controller';

/** The namespace and name of the ServiceAccount the controller token stands for. */
export const CONTROLLER_NAMESPACE = 'ats-ingress';
export const CONTROLLER_SERVICE_ACCOUNT = 'ats-ingress';
export const CONTROLLER_USER = `system:serviceaccount:${CONTROLLER_NAMESPACE}:${CONTROLLER_SERVICE_ACCOUNT}`;

export interface StartKubeOptions {
  /** Folder holding kube-apiserver, etcd and kubectl. Default: $ATS_INGRESS_KUBEBIN, else built by scripts/kubebin.sh. */
  binDir?: string;
  /** Bound on etcd + kube-apiserver becoming ready (and on each restart). Default 90 s. */
  startTimeoutMs?: number;
  /** Bound on scripts/kubebin.sh when it has to build. Default 60 min (a cold build takes many minutes). */
  buildTimeoutMs?: number;
  /** Leave the temp dir (logs, etcd data) behind after stop(), for debugging. Default: $ATS_INGRESS_KEEP_KUBE set. */
  keepTempDir?: boolean;
  /** Extra kube-apiserver flags, e.g. ['--v=4']. */
  apiServerArgs?: string[];
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
  /** Stops kube-apiserver and starts it again on the same port against the same etcd; resolves when ready. */
  restartApiServer(): Promise<void>;
  /** Kills both processes (by PID), waits for them to exit and removes the temp dir. Idempotent. */
  stop(): Promise<void>;
  /** PIDs of the processes now running (undefined once exited). */
  pids(): { etcd: number | undefined; apiserver: number | undefined };
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

// ---------------------------------------------------------------------------
// Small process and network helpers

interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string;
  timeoutMs: number;
  stderr?: 'pipe' | 'inherit';
}

/** Runs a command to completion, bounded in time; rejects only on spawn failure or timeout. */
function run(cmd: string, args: string[], opts: RunOptions): Promise<ExecResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['pipe', 'pipe', opts.stderr ?? 'pipe'],
      // Its own process group, so a timeout also ends what it started (go build).
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
      reject(new Error(`kube harness: '${cmd} ${args.join(' ')}' timed out after ${opts.timeoutMs} ms\nstdout: ${tail(stdout)}\nstderr: ${tail(stderr)}`));
    }, opts.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`kube harness: cannot run ${cmd}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
    child.stdin!.on('error', () => {
      /* the child may exit without reading its input */
    });
    child.stdin!.end(opts.input ?? '');
  });
}

function tail(text: string, lines = 40): string {
  const all = text.trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}

function fileTail(path: string, lines = 40): string {
  try {
    return tail(readFileSync(path, 'utf8'), lines);
  } catch {
    return '(no log)';
  }
}

/** Picks n distinct free ports on 127.0.0.1 (holding them all open at once so they differ). */
async function freePorts(n: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const srv = net.createServer();
      servers.push(srv);
      await new Promise<void>((res, rej) => {
        srv.once('error', rej);
        srv.listen(0, '127.0.0.1', () => res());
      });
    }
    return servers.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((res) => s.close(() => res()))));
  }
}

const sleep = (ms: number) => new Promise<void>((res) => setTimeout(res, ms));

// PIDs this module started and has not seen exit: killed if the test process exits without stop().
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of live) {
        try {
          if (c.pid !== undefined) process.kill(c.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    });
  }
}

class Proc {
  readonly child: ChildProcess;
  readonly pid: number;
  exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exitPromise: Promise<void>;

  constructor(
    readonly name: string,
    bin: string,
    args: string[],
    readonly logFile: string,
  ) {
    const fd = openSync(logFile, 'a');
    try {
      writeFileSync(fd, `\n==== ${new Date().toISOString()} ${bin} ${args.join(' ')}\n`);
      this.child = spawn(bin, args, { stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    if (this.child.pid === undefined) throw new Error(`kube harness: cannot start ${bin}`);
    this.pid = this.child.pid;
    track(this.child);
    this.exitPromise = new Promise((res) => {
      this.child.once('exit', (code, signal) => {
        this.exited = { code, signal };
        res();
      });
    });
    this.child.on('error', () => {
      /* reported through exit / readiness timeout */
    });
  }

  describeExit(): string {
    if (!this.exited) return `${this.name} (pid ${this.pid}) is running`;
    return `${this.name} (pid ${this.pid}) exited with ${this.exited.signal ?? `code ${this.exited.code}`}`;
  }

  logTail(): string {
    return `--- last lines of ${this.logFile} ---\n${fileTail(this.logFile)}`;
  }

  /** SIGTERM, then SIGKILL after graceMs; resolves when the process has exited (bounded). */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.exited) return;
    try {
      process.kill(this.pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
    const done = await Promise.race([this.exitPromise.then(() => true), sleep(graceMs).then(() => false)]);
    if (done) return;
    try {
      process.kill(this.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
    const killed = await Promise.race([this.exitPromise.then(() => true), sleep(5_000).then(() => false)]);
    if (!killed) throw new Error(`kube harness: ${this.name} (pid ${this.pid}) did not exit after SIGKILL`);
  }
}

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
  private etcd: Proc | undefined;
  private apiserver: Proc | undefined;
  private readonly kubeconfigs = new Map<KubeUser, string>();
  private stopped = false;
  private stopping: Promise<void> | undefined;
  private restarting: Promise<void> | undefined;

  constructor(
    readonly dir: string,
    readonly binDir: string,
    private readonly keep: boolean,
    private readonly startTimeoutMs: number,
    private readonly extraApiServerArgs: string[],
  ) {
    this.caFile = join(dir, 'pki', 'apiserver.crt');
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
    this.writeWatchdog();

    const deadline = Date.now() + this.startTimeoutMs;
    this.etcd = new Proc('etcd', join(this.binDir, 'etcd'), this.etcdArgs(), join(this.dir, 'etcd.log'));
    this.savePids();
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
   * A detached shell that outlives a crashed test process: when this process
   * dies without stop(), it kills the PIDs in dir/pids (only if they still run
   * our binaries) and removes the dir. It exits by itself once dir is gone.
   */
  private writeWatchdog(): void {
    const script = [
      'parent=$1; dir=$2; bin=$3',
      'while kill -0 "$parent" 2>/dev/null && [ -d "$dir" ]; do sleep 1; done',
      '[ -d "$dir" ] || exit 0',
      'for p in $(cat "$dir/pids" 2>/dev/null); do',
      '  exe=$(readlink "/proc/$p/exe" 2>/dev/null) || continue',
      '  case "$exe" in "$bin"/*) kill -9 "$p" 2>/dev/null;; esac',
      'done',
      'sleep 1',
      '[ -n "$ATS_INGRESS_KEEP_KUBE" ] || rm -rf "$dir"',
    ].join('\n');
    const child = spawn('sh', ['-c', script, 'kube-watchdog', String(process.pid), this.dir, this.binDir], {
      detached: true,
      stdio: 'ignore',
      env: { ...process.env, ATS_INGRESS_KEEP_KUBE: this.keep ? '1' : '' },
    });
    child.on('error', () => undefined);
    child.unref();
  }

  private savePids(): void {
    const pids = [this.etcd, this.apiserver].filter((p): p is Proc => !!p && !p.exited).map((p) => p.pid);
    try {
      writeFileSync(join(this.dir, 'pids'), pids.join('\n') + '\n');
    } catch {
      /* dir removed: stopping */
    }
  }

  private async waitEtcd(deadline: number): Promise<void> {
    let last = '';
    while (Date.now() < deadline) {
      if (this.etcd!.exited) throw new Error(`kube harness: ${this.etcd!.describeExit()} before it was ready\n${this.etcd!.logTail()}`);
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
    this.apiserver = new Proc('kube-apiserver', join(this.binDir, 'kube-apiserver'), this.apiServerArgs(), join(this.dir, 'kube-apiserver.log'));
    this.savePids();
    const fail = (what: string) =>
      new Error(`kube harness: kube-apiserver ${what}\n${this.apiserver!.describeExit()}; ${this.etcd!.describeExit()}\n${this.apiserver!.logTail()}`);
    let last = '';
    // The self-signed cert appears in --cert-dir before the server listens.
    while (!this.ca) {
      if (this.apiserver.exited) throw fail('exited before it was ready');
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
        if (this.apiserver.exited) throw fail('exited before it was ready');
        if (Date.now() > deadline) throw fail(`not ready within ${this.startTimeoutMs} ms: GET ${path} last gave ${last}`);
        try {
          const r = await rawRequest(new URL(path, this.url), 'GET', { authorization: `Bearer ${this.adminToken}` }, undefined, this.ca, 5_000);
          if (want(r)) break;
          last = `HTTP ${r.status} ${tail(r.text, 5)}`;
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
        this.savePids();
        await this.startApiServer(Date.now() + this.startTimeoutMs);
      } finally {
        this.restarting = undefined;
      }
    })();
    return this.restarting;
  }

  stop(): Promise<void> {
    this.stopped = true;
    this.stopping ??= (async () => {
      await this.restarting?.catch(() => undefined);
      const errors: string[] = [];
      for (const p of [this.apiserver, this.etcd]) {
        try {
          await p?.stop();
        } catch (err) {
          errors.push((err as Error).message);
        }
      }
      if (!this.keep) rmSync(this.dir, { recursive: true, force: true, maxRetries: 3 });
      if (errors.length) throw new Error(errors.join('\n'));
    })();
    return this.stopping;
  }

  /** PIDs of the running processes (for tests of the harness itself). */
  pids(): { etcd: number | undefined; apiserver: number | undefined } {
    return { etcd: this.etcd?.exited ? undefined : this.etcd?.pid, apiserver: this.apiserver?.exited ? undefined : this.apiserver?.pid };
  }
}
