// A process kubelet: Pods of the test cluster run as local processes, each in
// a network namespace of its own with its own address. There is no container
// runtime here; with the real kube-controller-manager (startKube({
// controllerManager: true })) this is enough for Deployments, Services with
// EndpointSlices, and suites that wait for Pods to be Ready.
//
//   const kubelet = await startProcessKubelet(kube, { images: { 'example/echo': { command: '/path/to/echo' } } });
//   ... create a Deployment; its Pods become Running with addresses on kubelet.bridge ...
//   await kubelet.stop();
//
// What it does:
// - registers a Node (Ready, capacity and allocatable, no taints) and posts
//   its status once: no heartbeat and no Lease, so the controller manager
//   runs without node-lifecycle-controller;
// - watches every Pod (list, then watch; relists after an error, with
//   backoff) and binds each pending Pod without spec.nodeName to its Node
//   through pods/binding (there is no scheduler);
// - for each Pod bound to it, runs one process per container: the command
//   the image table gives for the container's image, in the Pod's network
//   namespace, with the Pod's environment and volumes (below); a Pod whose
//   image the table lacks stays Pending with an ErrImagePull status and a
//   Warning Event naming the image;
// - reports phase Running, podIP/podIPs, hostIP, Ready / ContainersReady /
//   Initialized / PodScheduled / PodReadyToStartContainers and ready
//   containerStatuses once every container passes its readiness check: the
//   readinessProbe (httpGet or tcpSocket) if it has one, else a TCP connect
//   to each TCP containerPort it declares, else being started;
// - restarts a process that exits (restartPolicy Always, or OnFailure after
//   a failure) after a backoff doubling from 0.5 s to 10 s (reset after 10 s
//   of running), counting restartCount; with Never (or OnFailure and exit 0)
//   the Pod ends Succeeded or Failed;
// - on a Pod's deletion (deletionTimestamp): SIGTERM to its processes, SIGKILL
//   after min(its grace, stopGraceMs), then DELETE with gracePeriodSeconds 0;
// - stop() kills every process it started (by process group, processes.ts),
//   deletes every network namespace and the bridge, and the Node; if this
//   process exits without stop(), processes.ts's exit hook kills the
//   processes and an atExit clean-up deletes the namespaces and the bridge;
//   if it is killed, a watchdog shell deletes them.
//
// The network: a bridge in the root namespace with 10.214.N.1/24 (N derived
// from the PID, skipping a /24 some interface already routes, so parallel
// runs differ); each Pod a veth pair, one end on the bridge, the other in
// its namespace with 10.214.N.k/24 and `lo` up. Pods get no default route:
// they reach the root namespace's bridge address and each other, nothing
// else, so no packet of theirs can leave the machine.
//
// The environment: PATH and HOME of this process, HOSTNAME (the Pod's name),
// PROCESS_KUBELET_ROOT (below), the image entry's `env`, then envFrom and
// env in order with $(VAR) expansion; valueFrom supports fieldRef
// (metadata.name, metadata.namespace, metadata.uid, metadata.labels['k'],
// metadata.annotations['k'], spec.nodeName, spec.serviceAccountName,
// status.podIP, status.podIPs, status.hostIP, status.hostIPs) and
// secretKeyRef / configMapKeyRef; resourceFieldRef is not supported (the
// variable is left out).
//
// Files: each Pod has a root dir (PROCESS_KUBELET_ROOT, also the processes'
// working directory). Secret, ConfigMap (with items, defaultMode and
// optional) and emptyDir volumes are written under <pod dir>/volumes/<name>,
// and each volumeMount appears at <root><mountPath> (a symlink; subPath
// links the entry inside). A process does not see its files at the
// mountPath itself, so every env value and argument that is a mountPath or a
// path under one is rewritten to <root><that path>; e.g. the conformance
// echo server's TLS_SERVER_CERT=/etc/secret-volume/crt becomes
// <root>/etc/secret-volume/crt. Volumes are written once, when the Pod
// starts (later changes to the Secret are not followed).
//
// The argv: the image entry's command and args, then the container's args
// (with $(VAR) expansion and path rewriting); the container's `command`
// cannot replace the entry's and is ignored. Init containers are not run.

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

import type { KubeCluster, KubeResponse } from './kube.js';
import { atExit, ManagedProcess, runCommand, spawnGroup, signalGroup } from './processes.js';
import { freeSubnet } from './subnets.js';

// ---------------------------------------------------------------------------
// Options and the public shape

/** What runs for an image: a local program standing in for it. */
export interface ImageCommand {
  /** The program (an absolute path, or a name on PATH). */
  command: string;
  /** Arguments before the container's own `args`. */
  args?: string[];
  /** Environment under the Pod's own (the Pod's env wins). */
  env?: Record<string, string>;
}

/**
 * Image to command. A key with a tag or digest ('repo:tag', 'repo@sha256:…')
 * matches that image exactly; a key without one ('repo') matches the image
 * with any tag or digest.
 */
export type ImageTable = Record<string, ImageCommand>;

export interface ProcessKubeletOptions {
  images: ImageTable;
  /** Default process-kubelet-<pid>-<n>. */
  nodeName?: string;
  /** Bind pending Pods without spec.nodeName to this Node (default true). */
  schedule?: boolean;
  /** On a Pod's deletion: SIGTERM, then SIGKILL after min(its grace, this). Default 2 s. */
  stopGraceMs?: number;
  /** The restart backoff: doubles from initialMs up to maxMs. Default 500 ms to 10 s. */
  restartBackoff?: { initialMs: number; maxMs: number };
  /** Leave the temp dir (per-pod files and process logs) after stop(). Default: $ATS_INGRESS_KEEP_KUBE set. */
  keepTempDir?: boolean;
}

export interface KubeletPod {
  namespace: string;
  name: string;
  uid: string;
  /** Undefined until its network exists. */
  ip: string | undefined;
  /** Its network namespace (ip netns), when it has one. */
  netns: string | undefined;
  /** PIDs of its running processes, by container. */
  pids: Record<string, number>;
  /** Restarts, by container. */
  restarts: Record<string, number>;
}

export interface ProcessKubelet {
  readonly nodeName: string;
  /** The bridge in the root namespace and its address (the Node's InternalIP, the Pods' hostIP). */
  readonly bridge: { name: string; address: string; subnet: string };
  /** The temp dir: pods/<ns>_<name>_<uid>/ (root, volumes) and logs/<ns>_<pod>_<container>.log. */
  readonly dir: string;
  /** The Pods it runs now. */
  pods(): KubeletPod[];
  /** Every network namespace it made and has not deleted. */
  networkNamespaces(): string[];
  /** The output of a Pod's container (all its runs), for messages. */
  containerLog(namespace: string, pod: string, container: string): string;
  /** Its own last lines of activity, for messages. */
  logTail(lines?: number): string;
  /** Kills every process, deletes every namespace, the bridge and the Node; idempotent. */
  stop(): Promise<void>;
}

/** The part of KubeCluster the kubelet uses. */
export type KubeletApi = Pick<KubeCluster, 'url' | 'ca' | 'adminToken' | 'request'>;

// ---------------------------------------------------------------------------
// The Pod shape (only what is read here)

interface ObjectMeta {
  name: string;
  namespace: string;
  uid: string;
  resourceVersion?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

interface KeyRef {
  name: string;
  key: string;
  optional?: boolean;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    fieldRef?: { fieldPath: string };
    secretKeyRef?: KeyRef;
    configMapKeyRef?: KeyRef;
    resourceFieldRef?: unknown;
  };
}

interface EnvFrom {
  prefix?: string;
  configMapRef?: { name: string; optional?: boolean };
  secretRef?: { name: string; optional?: boolean };
}

interface Probe {
  httpGet?: { path?: string; port: number | string; scheme?: string };
  tcpSocket?: { port: number | string };
}

export interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: EnvVar[];
  envFrom?: EnvFrom[];
  ports?: Array<{ name?: string; containerPort: number; protocol?: string }>;
  volumeMounts?: Array<{ name: string; mountPath: string; subPath?: string; readOnly?: boolean }>;
  readinessProbe?: Probe;
}

interface KeyToPath {
  key: string;
  path: string;
  mode?: number;
}

export interface Volume {
  name: string;
  secret?: { secretName: string; items?: KeyToPath[]; defaultMode?: number; optional?: boolean };
  configMap?: { name: string; items?: KeyToPath[]; defaultMode?: number; optional?: boolean };
  emptyDir?: unknown;
}

export interface Pod {
  metadata: ObjectMeta;
  spec: {
    nodeName?: string;
    serviceAccountName?: string;
    restartPolicy?: 'Always' | 'OnFailure' | 'Never';
    terminationGracePeriodSeconds?: number;
    containers: Container[];
    volumes?: Volume[];
  };
  status?: { phase?: string };
}

interface Condition {
  type: string;
  status: 'True' | 'False';
  lastTransitionTime: string;
  lastProbeTime: null;
  reason?: string;
  message?: string;
}

// ---------------------------------------------------------------------------
// Pure helpers (tested without a cluster)

/** The table entry for an image: an exact key first, else its repository without tag or digest. */
export function lookupImage(images: ImageTable, image: string): ImageCommand | undefined {
  if (Object.hasOwn(images, image)) return images[image];
  const at = image.indexOf('@');
  let repo = at >= 0 ? image.slice(0, at) : image;
  // A ':' after the last '/' starts a tag (a ':' before it is a registry's port).
  const colon = repo.lastIndexOf(':');
  if (colon > repo.lastIndexOf('/')) repo = repo.slice(0, colon);
  return Object.hasOwn(images, repo) ? images[repo] : undefined;
}

/** Kubernetes' $(VAR) expansion: a defined VAR is replaced, $$ is a literal $, anything else is kept. */
export function expandVars(text: string, vars: ReadonlyMap<string, string>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (whole: string, name: string | undefined) => {
    if (name === undefined) return '$';
    return vars.get(name) ?? whole;
  });
}

/** `value` with its leading mountPath moved under `root`, when it is a mountPath or a path under one (the longest wins). */
export function rewriteMountPath(value: string, mountPaths: readonly string[], root: string): string {
  let best: string | undefined;
  for (const raw of mountPaths) {
    const mp = normalize(raw).replace(/\/+$/, '') || '/';
    if (mp === '/' || !mp.startsWith('/')) continue;
    if ((value === mp || value.startsWith(mp + '/')) && (best === undefined || mp.length > best.length)) best = mp;
  }
  return best === undefined ? value : root + value;
}

/** The value of a fieldRef, or undefined for a path it does not support. */
export function fieldRefValue(pod: Pod, fieldPath: string, ip: string | undefined, hostIp: string): string | undefined {
  const m = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(fieldPath);
  if (m) return (m[1] === 'labels' ? pod.metadata.labels : pod.metadata.annotations)?.[m[2] as string] ?? '';
  switch (fieldPath) {
    case 'metadata.name':
      return pod.metadata.name;
    case 'metadata.namespace':
      return pod.metadata.namespace;
    case 'metadata.uid':
      return pod.metadata.uid;
    case 'spec.nodeName':
      return pod.spec.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec.serviceAccountName ?? '';
    case 'status.podIP':
    case 'status.podIPs':
      return ip ?? '';
    case 'status.hostIP':
    case 'status.hostIPs':
      return hostIp;
    default:
      return undefined;
  }
}

/** RFC 3339 in whole seconds, as metav1.Time writes it. */
function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// ---------------------------------------------------------------------------
// ip(8)

const IP_TIMEOUT_MS = 10_000;

async function ip(...args: string[]): Promise<void> {
  const r = await runCommand('ip', args, { timeoutMs: IP_TIMEOUT_MS });
  if (r.code !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim() || (r.timedOut ? 'timed out' : `exit ${r.code}`)}`);
}

function ipSync(args: string[]): void {
  try {
    execFileSync('ip', args, { stdio: 'ignore', timeout: 5_000 });
  } catch {
    // Best effort at exit: it may be gone already.
  }
}

let kubeletCounter = 0;

// ---------------------------------------------------------------------------
// The API: JSON requests through the harness, and a watch of its own

const WATCH_TIMEOUT_S = 60;
/** A watch that carries nothing (not even a bookmark) for this long is dropped and made again. */
const WATCH_IDLE_MS = 90_000;

class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

function check<T>(r: KubeResponse<T>, what: string, ok: number[] = [200, 201]): KubeResponse<T> {
  if (!ok.includes(r.status)) throw new ApiError(`${what}: HTTP ${r.status} ${r.text.slice(0, 400)}`, r.status);
  return r;
}

interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: Pod & { code?: number; message?: string };
}

/**
 * One watch request: calls `onEvent` for each line until the server ends it
 * (resolves), or it fails, goes idle, or `abort` fires (rejects / resolves).
 */
function watchOnce(api: KubeletApi, path: string, onEvent: (e: WatchEvent) => void, abort: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, api.url);
    const req = https.request(
      url,
      { method: 'GET', headers: { authorization: `Bearer ${api.adminToken}`, accept: 'application/json' }, ca: api.ca, agent: false, signal: abort },
      (res) => {
        if (res.statusCode !== 200) {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', () => reject(new ApiError(`watch ${path}: HTTP ${res.statusCode ?? 0} ${text.slice(0, 300)}`, res.statusCode ?? 0)));
          res.on('error', reject);
          return;
        }
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          buf += d;
          for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
            const line = buf.slice(0, nl).trim();
            buf = buf.slice(nl + 1);
            if (!line) continue;
            try {
              onEvent(JSON.parse(line) as WatchEvent);
            } catch (err) {
              req.destroy(err as Error);
              return;
            }
          }
        });
        res.on('end', () => resolve());
        res.on('error', (err) => (abort.aborted ? resolve() : reject(err)));
      },
    );
    req.setTimeout(WATCH_IDLE_MS, () => req.destroy(new Error(`watch ${path}: nothing for ${WATCH_IDLE_MS} ms`)));
    req.on('error', (err) => (abort.aborted ? resolve() : reject(err)));
    req.end();
  });
}

// ---------------------------------------------------------------------------
// The kubelet

const DEFAULT_STOP_GRACE_MS = 2_000;
const PROBE_INTERVAL_MS = 100;
const PROBE_TIMEOUT_MS = 1_000;
/** A run this long resets the restart backoff. */
const BACKOFF_RESET_MS = 10_000;
/** Retry of a failed start (a missing Secret, an API error) or status write. */
const RETRY_MS = 1_000;
const LOG_LINES = 500;

/** Registers the Node, starts watching Pods and resolves once the first list is handled. */
export async function startProcessKubelet(api: KubeletApi, opts: ProcessKubeletOptions): Promise<ProcessKubelet> {
  if (process.getuid?.() !== 0) throw new Error('a process kubelet needs root (ip netns): run the tests as root');
  for (const [image, entry] of Object.entries(opts.images)) {
    if (typeof entry?.command !== 'string' || entry.command === '') throw new TypeError(`images[${JSON.stringify(image)}].command must be a non-empty string`);
  }
  const n = ++kubeletCounter;
  const kubelet = new Kubelet(api, opts, n, await freeSubnet('10.214', process.pid * 7 + n));
  try {
    await kubelet.start();
  } catch (err) {
    await kubelet.stop().catch(() => undefined);
    throw err;
  }
  return kubelet;
}

class Kubelet implements ProcessKubelet {
  readonly nodeName: string;
  readonly bridge: { name: string; address: string; subnet: string };
  readonly dir: string;
  readonly images: ImageTable;
  readonly stopGraceMs: number;
  readonly backoff: { initialMs: number; maxMs: number };
  /** Short, unique per kubelet: names of its namespaces and interfaces. */
  readonly tag: string;
  readonly netnsPrefix: string;
  readonly netnsNames = new Set<string>();
  private readonly workers = new Map<string, PodWorker>();
  /** UIDs of Pods it finished with (bounded): a late event about one starts nothing. */
  private readonly finished = new Set<string>();
  private readonly binding = new Set<string>();
  private readonly usedAddresses = new Set<number>();
  private nextAddress = 2;
  private podCounter = 0;
  private readonly lines: string[] = [];
  private readonly abort = new AbortController();
  private watchLoop: Promise<void> | undefined;
  private watchdog: number | undefined;
  private stopping: Promise<void> | undefined;
  private readonly forgetAtExit: () => void;
  private readonly keep: boolean;
  stopped = false;

  constructor(
    readonly api: KubeletApi,
    private readonly opts: ProcessKubeletOptions,
    n: number,
    subnet: string,
  ) {
    this.nodeName = opts.nodeName ?? `process-kubelet-${process.pid}-${n}`;
    this.tag = `${process.pid.toString(36)}${n.toString(36)}`;
    this.netnsPrefix = `akp-${this.tag}-`;
    this.bridge = { name: `akb${this.tag}`.slice(0, 15), address: `${subnet}.1`, subnet: `${subnet}.0/24` };
    this.images = opts.images;
    this.stopGraceMs = opts.stopGraceMs ?? DEFAULT_STOP_GRACE_MS;
    this.backoff = opts.restartBackoff ?? { initialMs: 500, maxMs: 10_000 };
    this.dir = mkdtempSync(join(tmpdir(), 'ats-ingress-kubelet-'));
    this.keep = opts.keepTempDir ?? !!process.env['ATS_INGRESS_KEEP_KUBE'];
    // After the exit hook killed the processes: the namespaces, the bridge, the dir.
    this.forgetAtExit = atExit(() => {
      for (const ns of this.netnsNames) ipSync(['netns', 'del', ns]);
      ipSync(['link', 'del', this.bridge.name]);
      if (!this.keep) rmSync(this.dir, { recursive: true, force: true });
    });
  }

  log(line: string): void {
    this.lines.push(`${new Date().toISOString()} ${line}`);
    if (this.lines.length > LOG_LINES) this.lines.splice(0, this.lines.length - LOG_LINES);
  }

  logTail(lines = 40): string {
    return `--- process kubelet ${this.nodeName} ---\n${this.lines.slice(-lines).join('\n')}`;
  }

  async start(): Promise<void> {
    mkdirSync(join(this.dir, 'pods'));
    mkdirSync(join(this.dir, 'logs'));
    await ip('link', 'add', this.bridge.name, 'type', 'bridge');
    this.startWatchdog();
    await ip('addr', 'add', `${this.bridge.address}/24`, 'dev', this.bridge.name);
    await ip('link', 'set', this.bridge.name, 'up');
    await this.registerNode();
    // The first list before start() resolves; then the watch runs until stop().
    const first = await this.list();
    this.watchLoop = this.watchPods(first);
  }

  /**
   * If this process is killed (no exit hook runs), a detached shell deletes
   * the namespaces named with this kubelet's prefix, the bridge and the temp
   * dir (unless kept); the processes' own watchdogs (processes.ts) kill them.
   */
  private startWatchdog(): void {
    const script = [
      'parent=$1; prefix=$2; bridge=$3; dir=$4',
      'while kill -0 "$parent" 2>/dev/null; do sleep 1; done',
      'sleep 1',
      'for ns in $(ip netns list | awk \'{print $1}\'); do case "$ns" in "$prefix"*) ip netns del "$ns";; esac; done',
      'ip link del "$bridge" 2>/dev/null',
      'if [ -n "$dir" ]; then rm -rf -- "$dir"; fi',
      'exit 0',
    ].join('\n');
    const dir = this.keep ? '' : this.dir;
    const child = spawnGroup('/bin/sh', ['-c', script, 'process-kubelet-watchdog', String(process.pid), this.netnsPrefix, this.bridge.name, dir], { stdio: 'ignore' });
    child.on('error', () => {
      // Best effort: the exit hook still covers an ordinary exit.
    });
    child.unref();
    this.watchdog = child.pid;
  }

  private async registerNode(): Promise<void> {
    const labels = { 'kubernetes.io/hostname': this.nodeName, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': process.arch === 'x64' ? 'amd64' : process.arch };
    const created = await this.api.request('POST', '/api/v1/nodes', {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: this.nodeName, labels },
      spec: { podCIDR: this.bridge.subnet, podCIDRs: [this.bridge.subnet] },
    });
    check(created, `creating Node ${this.nodeName}`, [201, 409]);
    const t = now();
    const resources = { cpu: '8', memory: '16Gi', pods: '250', 'ephemeral-storage': '100Gi' };
    const condition = (type: string, status: 'True' | 'False', reason: string, message: string) => ({
      type,
      status,
      reason,
      message,
      lastHeartbeatTime: t,
      lastTransitionTime: t,
    });
    const status = await this.api.request('PATCH', `/api/v1/nodes/${this.nodeName}/status`, {
      status: {
        capacity: resources,
        allocatable: resources,
        conditions: [
          condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'process kubelet'),
          condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'process kubelet'),
          condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'process kubelet'),
          condition('Ready', 'True', 'KubeletReady', 'process kubelet is posting ready status'),
        ],
        addresses: [
          { type: 'InternalIP', address: this.bridge.address },
          { type: 'Hostname', address: this.nodeName },
        ],
        daemonEndpoints: { kubeletEndpoint: { Port: 0 } },
        nodeInfo: {
          machineID: '',
          systemUUID: '',
          bootID: '',
          kernelVersion: '',
          osImage: 'process kubelet (test harness)',
          containerRuntimeVersion: 'process://0',
          kubeletVersion: 'v0.0.0-process-kubelet',
          kubeProxyVersion: '',
          operatingSystem: 'linux',
          architecture: labels['kubernetes.io/arch'],
        },
      },
    });
    check(status, `posting Node ${this.nodeName} status`);
    this.log(`node ${this.nodeName} registered (InternalIP ${this.bridge.address})`);
  }

  // --- Pods from the API -------------------------------------------------

  private async list(): Promise<string> {
    const r = check(await this.api.request<{ metadata: { resourceVersion: string }; items: Pod[] }>('GET', '/api/v1/pods'), 'listing Pods');
    const seen = new Set<string>();
    for (const pod of r.body.items) {
      seen.add(pod.metadata.uid);
      this.observe(pod);
    }
    // Deleted while no watch ran.
    for (const [uid, w] of this.workers) if (!seen.has(uid)) w.deleted();
    return r.body.metadata.resourceVersion;
  }

  private async watchPods(resourceVersion: string): Promise<void> {
    let rv = resourceVersion;
    let failures = 0;
    while (!this.stopped) {
      try {
        await watchOnce(
          this.api,
          `/api/v1/pods?watch=true&allowWatchBookmarks=true&timeoutSeconds=${WATCH_TIMEOUT_S}&resourceVersion=${rv}`,
          (e) => {
            if (e.type === 'ERROR') throw new ApiError(`watch error: ${e.object.message ?? ''}`, e.object.code ?? 0);
            if (e.object.metadata?.resourceVersion) rv = e.object.metadata.resourceVersion;
            if (e.type === 'ADDED' || e.type === 'MODIFIED') this.observe(e.object);
            else if (e.type === 'DELETED') this.workers.get(e.object.metadata.uid)?.deleted();
          },
          this.abort.signal,
        );
        failures = 0;
      } catch (err) {
        if (this.stopped) return;
        failures++;
        this.log(`watch failed (${(err as Error).message}); relisting`);
        await delay(Math.min(200 * 2 ** Math.min(failures, 5), 5_000), undefined, { signal: this.abort.signal }).catch(() => undefined);
        if (this.stopped) return;
        try {
          rv = await this.list();
        } catch (listErr) {
          this.log(`relist failed: ${(listErr as Error).message}`);
        }
      }
    }
  }

  /** The one entry of Pod objects: pending ones are bound, ours get a worker. */
  private observe(pod: Pod): void {
    if (this.stopped) return;
    const uid = pod.metadata.uid;
    const worker = this.workers.get(uid);
    if (worker) {
      worker.update(pod);
      return;
    }
    if (!pod.spec.nodeName) {
      if (this.opts.schedule !== false && !pod.metadata.deletionTimestamp) this.bind(pod);
      return;
    }
    if (pod.spec.nodeName !== this.nodeName || this.finished.has(uid)) return;
    // Finished before this kubelet saw it: nothing to run.
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return;
    const w = new PodWorker(this, pod, ++this.podCounter);
    this.workers.set(uid, w);
    w.update(pod);
  }

  private bind(pod: Pod): void {
    const { namespace, name, uid } = pod.metadata;
    if (this.binding.has(uid)) return;
    this.binding.add(uid);
    const task = (async () => {
      const r = await this.api.request('POST', `/api/v1/namespaces/${namespace}/pods/${name}/binding`, {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name, namespace, uid },
        target: { apiVersion: 'v1', kind: 'Node', name: this.nodeName },
      });
      if (r.status === 201) {
        this.log(`bound ${namespace}/${name} to ${this.nodeName}`);
        await this.event(pod, 'Normal', 'Scheduled', `Successfully assigned ${namespace}/${name} to ${this.nodeName}`);
      } else {
        // 404: deleted meanwhile; 409: bound by someone else. Both end here.
        this.log(`binding ${namespace}/${name}: HTTP ${r.status} ${r.text.slice(0, 200)}`);
        if (r.status !== 404 && r.status !== 409) this.binding.delete(uid);
      }
    })();
    task.catch((err: Error) => {
      this.binding.delete(uid);
      this.log(`binding ${namespace}/${name} failed: ${err.message}`);
    });
  }

  /** Posts a core/v1 Event about the Pod; failures are logged, not thrown. */
  async event(pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const t = now();
    const { namespace, name, uid } = pod.metadata;
    try {
      const r = await this.api.request('POST', `/api/v1/namespaces/${namespace}/events`, {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `${name}.${randomBytes(8).toString('hex')}`, namespace },
        involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace, name, uid },
        type,
        reason,
        message,
        source: { component: 'process-kubelet', host: this.nodeName },
        reportingComponent: 'process-kubelet',
        reportingInstance: this.nodeName,
        firstTimestamp: t,
        lastTimestamp: t,
        count: 1,
      });
      if (r.status !== 201) this.log(`event ${reason} for ${namespace}/${name}: HTTP ${r.status}`);
    } catch (err) {
      this.log(`event ${reason} for ${namespace}/${name}: ${(err as Error).message}`);
    }
  }

  forget(uid: string): void {
    this.workers.delete(uid);
    this.binding.delete(uid);
    this.finished.add(uid);
    if (this.finished.size > 10_000) this.finished.delete(this.finished.values().next().value as string);
  }

  // --- Addresses and namespaces -----------------------------------------

  allocateAddress(): { address: string; index: number } {
    for (let i = 0; i < 253; i++) {
      const k = ((this.nextAddress - 2 + i) % 253) + 2;
      if (!this.usedAddresses.has(k)) {
        this.usedAddresses.add(k);
        // Round-robin: a freed address is not given again at once.
        this.nextAddress = k + 1;
        return { address: this.bridge.address.replace(/\.1$/, `.${k}`), index: k };
      }
    }
    throw new Error(`process kubelet: all 253 addresses of ${this.bridge.subnet} are in use`);
  }

  releaseAddress(index: number): void {
    this.usedAddresses.delete(index);
  }

  // --- The public view ----------------------------------------------------

  pods(): KubeletPod[] {
    return [...this.workers.values()].map((w) => w.describe());
  }

  networkNamespaces(): string[] {
    return [...this.netnsNames].sort();
  }

  containerLog(namespace: string, pod: string, container: string): string {
    try {
      return execFileSync('tail', ['-c', '65536', this.logFile(namespace, pod, container)], { encoding: 'utf8', timeout: 5_000 });
    } catch {
      return '';
    }
  }

  logFile(namespace: string, pod: string, container: string): string {
    return join(this.dir, 'logs', `${namespace}_${pod}_${container}.log`);
  }

  stop(): Promise<void> {
    this.stopped = true;
    this.stopping ??= (async () => {
      this.abort.abort();
      await this.watchLoop?.catch(() => undefined);
      const errors: string[] = [];
      const results = await Promise.allSettled([...this.workers.values()].map((w) => w.teardown(0)));
      for (const r of results) if (r.status === 'rejected') errors.push((r.reason as Error).message);
      await ip('link', 'del', this.bridge.name).catch((err: Error) => {
        if (!/Cannot find device/.test(err.message)) errors.push(err.message);
      });
      // The Node goes too, if the API server still runs.
      await this.api.request('DELETE', `/api/v1/nodes/${this.nodeName}`, undefined, 'admin', { timeoutMs: 5_000 }).catch(() => undefined);
      if (this.watchdog !== undefined) signalGroup(this.watchdog, 'SIGKILL');
      this.forgetAtExit();
      if (!this.keep) rmSync(this.dir, { recursive: true, force: true, maxRetries: 3 });
      if (errors.length) throw new Error(`process kubelet stop: ${errors.join('\n')}`);
    })();
    return this.stopping;
  }
}

// ---------------------------------------------------------------------------
// One Pod

interface ContainerRun {
  spec: Container;
  argv: string[];
  env: NodeJS.ProcessEnv;
  proc: ManagedProcess | undefined;
  startedAt: string | undefined;
  ready: boolean;
  restarts: number;
  /** Consecutive quick exits: the backoff's exponent. */
  quickExits: number;
  lastExit: { code: number | null; signal: string | null; at: string; startedAt: string } | undefined;
  restartTimer: NodeJS.Timeout | undefined;
  /** A ManagedProcess.start() in flight: teardown() waits for it, then stops what it started. */
  pending: Promise<unknown> | undefined;
  /** Exited for good (restartPolicy). */
  done: boolean;
  /** Bumped on each start: a probe or exit of an older run is ignored. */
  run: number;
}

type Stage = 'new' | 'waiting' | 'starting' | 'running' | 'finished' | 'terminating' | 'gone';

class PodWorker {
  private pod: Pod;
  private stage: Stage = 'new';
  /** Why it waits (unknown image, missing volume source): for the status and one Event per reason. */
  private waitReason: { reason: string; message: string } | undefined;
  private readonly evented = new Set<string>();
  private readonly podDir: string;
  private readonly root: string;
  private readonly netns: string;
  private readonly hostIf: string;
  private readonly podIf: string;
  private address: { address: string; index: number } | undefined;
  private netnsMade = false;
  private readonly containers = new Map<string, ContainerRun>();
  private readonly transitions = new Map<string, { status: string; at: string }>();
  private lastStatus = '';
  private busy = false;
  private again = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private startTime: string | undefined;
  private deletedFromApi = false;
  private tearingDown: Promise<void> | undefined;
  /** startPod() in flight: teardown() waits for it (each of its steps is bounded). */
  private starting: Promise<void> | undefined;

  constructor(
    private readonly kubelet: Kubelet,
    pod: Pod,
    k: number,
  ) {
    this.pod = pod;
    const { namespace, name, uid } = pod.metadata;
    this.podDir = join(kubelet.dir, 'pods', `${namespace}_${name}_${uid}`);
    this.root = join(this.podDir, 'root');
    this.netns = `${kubelet.netnsPrefix}${k}`;
    this.hostIf = `akh${kubelet.tag}x${k.toString(36)}`.slice(0, 15);
    this.podIf = `eth0`;
  }

  private get id(): string {
    return `${this.pod.metadata.namespace}/${this.pod.metadata.name}`;
  }

  describe(): KubeletPod {
    const pids: Record<string, number> = {};
    const restarts: Record<string, number> = {};
    for (const [name, c] of this.containers) {
      if (c.proc?.running) pids[name] = c.proc.pid;
      restarts[name] = c.restarts;
    }
    const { namespace, name, uid } = this.pod.metadata;
    return { namespace, name, uid, ip: this.address?.address, netns: this.netnsMade ? this.netns : undefined, pids, restarts };
  }

  update(pod: Pod): void {
    this.pod = pod;
    this.kick();
  }

  /** The Pod is gone from the API (a DELETED event, or missing from a list). */
  deleted(): void {
    this.deletedFromApi = true;
    this.kick();
  }

  /** Runs sync() now, or once more after the one in progress: one sync at a time per Pod. */
  kick(): void {
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    const loop = async () => {
      // Bounded: each round consumes a kick; kicks come from events and timers.
      do {
        this.again = false;
        try {
          await this.sync();
        } catch (err) {
          this.kubelet.log(`${this.id}: ${(err as Error).message}`);
          this.retryLater();
        }
      } while (this.again && !this.kubelet.stopped);
      this.busy = false;
    };
    loop().catch((err: Error) => {
      this.busy = false;
      this.kubelet.log(`${this.id}: sync loop: ${err.message}`);
    });
  }

  private retryLater(ms = RETRY_MS): void {
    if (this.retryTimer || this.kubelet.stopped || this.stage === 'gone') return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.kick();
    }, ms);
    this.retryTimer.unref();
  }

  private async sync(): Promise<void> {
    if (this.kubelet.stopped || this.stage === 'gone') return;
    if (this.deletedFromApi) {
      await this.teardown(0);
      this.stage = 'gone';
      this.kubelet.forget(this.pod.metadata.uid);
      return;
    }
    if (this.pod.metadata.deletionTimestamp) {
      const graceS = this.pod.metadata.deletionGracePeriodSeconds ?? this.pod.spec.terminationGracePeriodSeconds ?? 30;
      this.kubelet.log(`${this.id}: deletion requested (grace ${graceS} s); stopping`);
      await this.teardown(Math.min(graceS * 1000, this.kubelet.stopGraceMs));
      const { namespace, name, uid } = this.pod.metadata;
      const r = await this.kubelet.api.request('DELETE', `/api/v1/namespaces/${namespace}/pods/${name}`, {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        gracePeriodSeconds: 0,
        preconditions: { uid },
      });
      // 404: gone already; 409: a new Pod of that name (another uid).
      check(r, `deleting ${this.id}`, [200, 202, 404, 409]);
      this.kubelet.log(`${this.id}: stopped and deleted`);
      this.stage = 'gone';
      this.kubelet.forget(uid);
      return;
    }
    if (this.tearingDown) return;
    if (this.stage === 'new' || this.stage === 'waiting') {
      this.starting = this.startPod();
      try {
        await this.starting;
      } finally {
        this.starting = undefined;
      }
    }
    if (this.tearingDown) return;
    await this.writeStatus();
  }

  // --- Starting -------------------------------------------------------------

  private async startPod(): Promise<void> {
    const pod = this.pod;
    const entries = new Map<string, ImageCommand>();
    for (const c of pod.spec.containers) {
      const entry = lookupImage(this.kubelet.images, c.image);
      if (!entry) {
        const known = Object.keys(this.kubelet.images).sort().join(', ') || 'none';
        return this.wait('ErrImagePull', `Failed to pull image "${c.image}": the process kubelet has no command for this image (it knows: ${known})`, 'Failed');
      }
      entries.set(c.name, entry);
    }
    for (const v of pod.spec.volumes ?? []) {
      if (!v.secret && !v.configMap && v.emptyDir === undefined) {
        return this.wait('CreateContainerConfigError', `volume "${v.name}": the process kubelet supports only secret, configMap and emptyDir volumes`, 'FailedMount');
      }
    }
    this.stage = 'starting';
    this.startTime ??= now();
    const sources = new Sources(this.kubelet.api, pod.metadata.namespace);
    try {
      // Files first (a missing Secret is a retry, before any network exists).
      rmSync(this.podDir, { recursive: true, force: true });
      mkdirSync(this.root, { recursive: true });
      for (const v of pod.spec.volumes ?? []) await this.writeVolume(v, sources);
      for (const c of pod.spec.containers) this.linkMounts(c);
      this.address ??= this.kubelet.allocateAddress();
      const runs = new Map<string, ContainerRun>();
      for (const c of pod.spec.containers) runs.set(c.name, await this.prepareContainer(c, entries.get(c.name)!, sources));
      if (this.tearingDown || this.kubelet.stopped) return;
      await this.makeNetwork();
      for (const [name, run] of runs) this.containers.set(name, run);
    } catch (err) {
      if (err instanceof MissingSource) {
        this.stage = 'waiting';
        this.retryLater();
        return this.wait('CreateContainerConfigError', err.message, 'FailedMount');
      }
      this.stage = 'waiting';
      throw err;
    }
    if (this.tearingDown || this.kubelet.stopped) return;
    this.waitReason = undefined;
    this.stage = 'running';
    for (const run of this.containers.values()) await this.startContainer(run);
    await this.kubelet.event(pod, 'Normal', 'Started', `Started ${this.containers.size} process(es) on ${this.address.address} in network namespace ${this.netns}`);
  }

  private async wait(reason: string, message: string, eventReason: string): Promise<void> {
    this.stage = 'waiting';
    this.waitReason = { reason, message };
    if (!this.evented.has(message)) {
      this.evented.add(message);
      this.kubelet.log(`${this.id}: ${message}`);
      await this.kubelet.event(this.pod, 'Warning', eventReason, message);
    }
  }

  private async writeVolume(v: Volume, sources: Sources): Promise<void> {
    const dir = join(this.podDir, 'volumes', v.name);
    mkdirSync(dir, { recursive: true });
    const src = v.secret
      ? { data: await sources.secret(v.secret.secretName, v.secret.optional ?? false), items: v.secret.items, mode: v.secret.defaultMode }
      : v.configMap
        ? { data: await sources.configMap(v.configMap.name, v.configMap.optional ?? false), items: v.configMap.items, mode: v.configMap.defaultMode }
        : undefined;
    if (!src?.data) return; // emptyDir, or an optional source that is missing
    const files: Array<{ path: string; value: Buffer; mode: number | undefined }> = src.items
      ? src.items.map((it) => {
          const value = src.data!.get(it.key);
          if (value === undefined) throw new MissingSource(`volume "${v.name}": key "${it.key}" is not in its source`);
          return { path: it.path, value, mode: it.mode };
        })
      : [...src.data].map(([key, value]) => ({ path: key, value, mode: undefined }));
    for (const f of files) {
      const file = join(dir, normalize(f.path));
      if (!file.startsWith(dir + '/')) throw new Error(`volume "${v.name}": path "${f.path}" leaves the volume`);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, f.value);
      chmodSync(file, f.mode ?? src.mode ?? 0o644);
    }
  }

  private linkMounts(c: Container): void {
    for (const m of c.volumeMounts ?? []) {
      const target = join(this.podDir, 'volumes', m.name, m.subPath ?? '');
      const at = join(this.root, normalize(m.mountPath));
      if (!at.startsWith(this.root + '/')) throw new Error(`container "${c.name}": mountPath "${m.mountPath}" is not usable`);
      mkdirSync(dirname(at), { recursive: true });
      rmSync(at, { recursive: true, force: true });
      symlinkSync(target, at);
    }
  }

  private async prepareContainer(c: Container, entry: ImageCommand, sources: Sources): Promise<ContainerRun> {
    const mountPaths = (c.volumeMounts ?? []).map((m) => m.mountPath);
    const rewrite = (s: string) => rewriteMountPath(s, mountPaths, this.root);
    const vars = new Map<string, string>();
    const set = (name: string, value: string) => vars.set(name, rewrite(value));
    for (const from of c.envFrom ?? []) {
      const data = from.configMapRef
        ? await sources.configMap(from.configMapRef.name, from.configMapRef.optional ?? false)
        : from.secretRef
          ? await sources.secret(from.secretRef.name, from.secretRef.optional ?? false)
          : undefined;
      for (const [k, v] of data ?? []) set(`${from.prefix ?? ''}${k}`, v.toString('utf8'));
    }
    for (const e of c.env ?? []) {
      const vf = e.valueFrom;
      if (!vf) {
        set(e.name, expandVars(e.value ?? '', vars));
      } else if (vf.fieldRef) {
        const v = fieldRefValue(this.pod, vf.fieldRef.fieldPath, this.address?.address, this.kubelet.bridge.address);
        if (v === undefined) this.kubelet.log(`${this.id}: env ${e.name}: fieldRef ${vf.fieldRef.fieldPath} is not supported; left out`);
        else set(e.name, v);
      } else if (vf.secretKeyRef || vf.configMapKeyRef) {
        const ref = (vf.secretKeyRef ?? vf.configMapKeyRef)!;
        const data = vf.secretKeyRef ? await sources.secret(ref.name, ref.optional ?? false) : await sources.configMap(ref.name, ref.optional ?? false);
        const v = data?.get(ref.key);
        if (v !== undefined) set(e.name, v.toString('utf8'));
        else if (!ref.optional) throw new MissingSource(`env ${e.name}: key "${ref.key}" of ${vf.secretKeyRef ? 'Secret' : 'ConfigMap'} "${ref.name}" is missing`);
      } else {
        this.kubelet.log(`${this.id}: env ${e.name}: this valueFrom is not supported; left out`);
      }
    }
    const env: NodeJS.ProcessEnv = {
      PATH: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin',
      HOME: this.root,
      HOSTNAME: this.pod.metadata.name,
      PROCESS_KUBELET_ROOT: this.root,
      ...entry.env,
      ...Object.fromEntries(vars),
    };
    const argv = [...(entry.args ?? []), ...(c.args ?? []).map((a) => rewrite(expandVars(a, vars)))];
    return {
      spec: c,
      argv: [entry.command, ...argv],
      env,
      proc: undefined,
      startedAt: undefined,
      ready: false,
      restarts: 0,
      quickExits: 0,
      lastExit: undefined,
      restartTimer: undefined,
      pending: undefined,
      done: false,
      run: 0,
    };
  }

  private async makeNetwork(): Promise<void> {
    if (this.netnsMade) return;
    const { address } = this.address!;
    this.kubelet.netnsNames.add(this.netns);
    this.netnsMade = true;
    await ip('netns', 'add', this.netns);
    await ip('link', 'add', this.hostIf, 'type', 'veth', 'peer', 'name', this.podIf, 'netns', this.netns);
    await ip('link', 'set', this.hostIf, 'master', this.kubelet.bridge.name, 'up');
    await ip('-n', this.netns, 'addr', 'add', `${address}/24`, 'dev', this.podIf);
    await ip('-n', this.netns, 'link', 'set', this.podIf, 'up');
    await ip('-n', this.netns, 'link', 'set', 'lo', 'up');
  }

  private async startContainer(run: ContainerRun): Promise<void> {
    if (this.stage !== 'running' || this.kubelet.stopped) return;
    const { namespace, name } = this.pod.metadata;
    const thisRun = ++run.run;
    run.ready = false;
    const [cmd, ...args] = run.argv as [string, ...string[]];
    let proc: ManagedProcess;
    const pending = ManagedProcess.start('ip', ['netns', 'exec', this.netns, cmd, ...args], {
      name: `${namespace}/${name}/${run.spec.name}`,
      cwd: this.root,
      env: run.env,
      output: { file: this.kubelet.logFile(namespace, name, run.spec.name) },
      graceMs: this.kubelet.stopGraceMs,
    });
    run.pending = pending;
    try {
      proc = await pending;
    } catch (err) {
      this.kubelet.log(`${this.id}/${run.spec.name}: ${(err as Error).message}`);
      if (run.run === thisRun) this.scheduleRestart(run, { code: null, signal: null });
      return;
    } finally {
      run.pending = undefined;
    }
    run.proc = proc;
    run.startedAt = now();
    // teardown() began meanwhile: it stops this process once `pending` settled.
    if (run.run !== thisRun) return;
    const startedMs = Date.now();
    this.kubelet.log(`${this.id}/${run.spec.name}: started pid ${proc.pid}: ${run.argv.join(' ')}`);
    proc.exited
      .then((status) => {
        if (run.run !== thisRun || this.stage !== 'running') return;
        run.quickExits = Date.now() - startedMs >= BACKOFF_RESET_MS ? 0 : run.quickExits + 1;
        this.kubelet.log(`${this.id}/${run.spec.name}: pid ${proc.pid} exited (code ${status.code}, signal ${status.signal})`);
        this.scheduleRestart(run, status);
      })
      .catch((err: Error) => this.kubelet.log(`${this.id}/${run.spec.name}: ${err.message}`));
    this.probe(run, thisRun).catch((err: Error) => this.kubelet.log(`${this.id}/${run.spec.name}: probe: ${err.message}`));
  }

  private scheduleRestart(run: ContainerRun, status: { code: number | null; signal: string | null }): void {
    run.ready = false;
    run.lastExit = { code: status.code, signal: status.signal, at: now(), startedAt: run.startedAt ?? now() };
    run.proc = undefined;
    const policy = this.pod.spec.restartPolicy ?? 'Always';
    if (policy === 'Never' || (policy === 'OnFailure' && status.code === 0)) {
      run.done = true;
      if ([...this.containers.values()].every((c) => c.done)) this.stage = 'finished';
      this.kick();
      return;
    }
    const ms = Math.min(this.kubelet.backoff.initialMs * 2 ** Math.max(run.quickExits - 1, 0), this.kubelet.backoff.maxMs);
    run.restartTimer = setTimeout(() => {
      run.restartTimer = undefined;
      run.restarts++;
      this.startContainer(run)
        .then(() => this.kick())
        .catch((err: Error) => this.kubelet.log(`${this.id}/${run.spec.name}: restart: ${err.message}`));
    }, ms);
    run.restartTimer.unref();
    this.kick();
  }

  /** Polls the container's readiness check until it passes once, or this run ends. */
  private async probe(run: ContainerRun, thisRun: number): Promise<void> {
    const ip4 = this.address!.address;
    const portOf = (p: number | string): number => {
      if (typeof p === 'number') return p;
      const named = run.spec.ports?.find((cp) => cp.name === p)?.containerPort;
      return named ?? Number(p);
    };
    const checks: Array<() => Promise<boolean>> = [];
    const probe = run.spec.readinessProbe;
    if (probe?.httpGet) {
      const g = probe.httpGet;
      checks.push(() => httpOk(g.scheme === 'HTTPS' ? 'https' : 'http', ip4, portOf(g.port), g.path ?? '/'));
    } else if (probe?.tcpSocket) {
      const port = portOf(probe.tcpSocket.port);
      checks.push(() => tcpOk(ip4, port));
    } else {
      for (const p of run.spec.ports ?? []) if ((p.protocol ?? 'TCP') === 'TCP') checks.push(() => tcpOk(ip4, p.containerPort));
    }
    // Bounded by the run: it ends when the process exits, the Pod goes or the kubelet stops.
    while (run.run === thisRun && run.proc?.running && this.stage === 'running' && !this.kubelet.stopped) {
      const results = await Promise.all(checks.map((c) => c()));
      if (results.every(Boolean)) {
        if (run.run === thisRun && run.proc?.running) {
          run.ready = true;
          this.kick();
        }
        return;
      }
      await delay(PROBE_INTERVAL_MS);
    }
  }

  // --- Status ----------------------------------------------------------------

  private condition(type: string, status: boolean, reason?: string, message?: string): Condition {
    const s = status ? 'True' : 'False';
    const prev = this.transitions.get(type);
    const at = prev && prev.status === s ? prev.at : now();
    this.transitions.set(type, { status: s, at });
    return { type, status: s, lastProbeTime: null, lastTransitionTime: at, ...(reason ? { reason } : {}), ...(message ? { message } : {}) };
  }

  private status(): Record<string, unknown> {
    const runs = this.pod.spec.containers.map((c) => ({ spec: c, run: this.containers.get(c.name) }));
    const allReady = this.stage === 'running' && runs.every((r) => r.run?.ready);
    const ip4 = this.address && this.netnsMade ? this.address.address : undefined;
    const notReady = runs.filter((r) => !r.run?.ready).map((r) => r.spec.name);
    const notReadyMessage = notReady.length ? `containers with unready status: [${notReady.join(' ')}]` : undefined;
    const finished = this.stage === 'finished';
    const failed = finished && runs.some((r) => r.run?.lastExit?.code !== 0);
    const phase = this.stage === 'running' ? 'Running' : finished ? (failed ? 'Failed' : 'Succeeded') : 'Pending';
    const containerStatuses = runs.map(({ spec, run }) => {
      let state: Record<string, unknown>;
      if (run?.proc?.running) state = { running: { startedAt: run.startedAt } };
      else if (run?.lastExit && run.done)
        state = { terminated: { exitCode: run.lastExit.code ?? 137, reason: run.lastExit.code === 0 ? 'Completed' : 'Error', startedAt: run.lastExit.startedAt, finishedAt: run.lastExit.at } };
      else if (run?.lastExit) state = { waiting: { reason: 'CrashLoopBackOff', message: `back-off restarting ${spec.name}` } };
      else if (this.waitReason) state = { waiting: { reason: this.waitReason.reason, message: this.waitReason.message } };
      else state = { waiting: { reason: 'ContainerCreating' } };
      return {
        name: spec.name,
        image: spec.image,
        imageID: '',
        ready: !!run?.ready && !!run.proc?.running,
        started: !!run?.proc?.running,
        restartCount: run?.restarts ?? 0,
        state,
        ...(run?.lastExit && !run.done
          ? { lastState: { terminated: { exitCode: run.lastExit.code ?? 137, reason: 'Error', startedAt: run.lastExit.startedAt, finishedAt: run.lastExit.at } } }
          : {}),
        ...(run?.proc?.running ? { containerID: `process://${run.proc.pid}` } : {}),
      };
    });
    const started = this.stage === 'running' || finished;
    return {
      phase,
      hostIP: this.kubelet.bridge.address,
      hostIPs: [{ ip: this.kubelet.bridge.address }],
      ...(ip4 ? { podIP: ip4, podIPs: [{ ip: ip4 }] } : {}),
      ...(this.startTime ? { startTime: this.startTime } : {}),
      conditions: [
        this.condition('PodReadyToStartContainers', !!ip4),
        this.condition('Initialized', true),
        this.condition('Ready', allReady, allReady ? undefined : 'ContainersNotReady', allReady ? undefined : notReadyMessage),
        this.condition('ContainersReady', allReady, allReady ? undefined : 'ContainersNotReady', allReady ? undefined : notReadyMessage),
        this.condition('PodScheduled', true),
      ],
      containerStatuses,
      ...(started ? {} : this.waitReason ? { message: this.waitReason.message, reason: this.waitReason.reason } : {}),
    };
  }

  private async writeStatus(): Promise<void> {
    const status = this.status();
    const text = JSON.stringify(status);
    if (text === this.lastStatus) return;
    const { namespace, name } = this.pod.metadata;
    const r = await this.kubelet.api.request('PATCH', `/api/v1/namespaces/${namespace}/pods/${name}/status`, { status });
    if (r.status === 404) return; // deleted: the watch says so next
    check(r, `writing the status of ${this.id}`);
    this.lastStatus = text;
  }

  // --- Stopping --------------------------------------------------------------

  /** Kills its processes (SIGTERM, SIGKILL after graceMs), deletes its namespace and files. Idempotent. */
  teardown(graceMs: number): Promise<void> {
    this.tearingDown ??= (async () => {
      this.stage = this.stage === 'gone' ? 'gone' : 'terminating';
      if (this.retryTimer) clearTimeout(this.retryTimer);
      await this.starting?.catch(() => undefined);
      const errors: string[] = [];
      await Promise.all(
        [...this.containers.values()].map(async (run) => {
          if (run.restartTimer) clearTimeout(run.restartTimer);
          run.run++;
          run.ready = false;
          await run.pending?.catch(() => undefined);
          try {
            await run.proc?.stop(graceMs);
          } catch (err) {
            errors.push((err as Error).message);
          }
        }),
      );
      if (this.netnsMade) {
        await ip('netns', 'del', this.netns).catch((err: Error) => errors.push(err.message));
        // The veth pair goes with the namespace; this is for a half-made one.
        await ip('link', 'del', this.hostIf).catch(() => undefined);
        this.kubelet.netnsNames.delete(this.netns);
        this.netnsMade = false;
      }
      if (this.address) this.kubelet.releaseAddress(this.address.index);
      rmSync(this.podDir, { recursive: true, force: true });
      if (errors.length) throw new Error(`${this.id}: ${errors.join('; ')}`);
    })();
    return this.tearingDown;
  }
}

// ---------------------------------------------------------------------------
// Secrets and ConfigMaps, fetched once per Pod start

class MissingSource extends Error {}

class Sources {
  private readonly cache = new Map<string, Map<string, Buffer> | undefined>();

  constructor(
    private readonly api: KubeletApi,
    private readonly namespace: string,
  ) {}

  secret(name: string, optional: boolean): Promise<Map<string, Buffer> | undefined> {
    return this.get('secrets', 'Secret', name, optional, (o) => {
      const data = (o as { data?: Record<string, string> }).data ?? {};
      return new Map(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
    });
  }

  configMap(name: string, optional: boolean): Promise<Map<string, Buffer> | undefined> {
    return this.get('configmaps', 'ConfigMap', name, optional, (o) => {
      const { data = {}, binaryData = {} } = o as { data?: Record<string, string>; binaryData?: Record<string, string> };
      return new Map([
        ...Object.entries(data).map(([k, v]): [string, Buffer] => [k, Buffer.from(v, 'utf8')]),
        ...Object.entries(binaryData).map(([k, v]): [string, Buffer] => [k, Buffer.from(v, 'base64')]),
      ]);
    });
  }

  private async get(
    resource: string,
    kind: string,
    name: string,
    optional: boolean,
    decode: (o: unknown) => Map<string, Buffer>,
  ): Promise<Map<string, Buffer> | undefined> {
    const key = `${resource}/${name}`;
    if (!this.cache.has(key)) {
      const r = await this.api.request('GET', `/api/v1/namespaces/${this.namespace}/${resource}/${name}`);
      if (r.status === 404) this.cache.set(key, undefined);
      else this.cache.set(key, decode(check(r, `reading ${kind} ${this.namespace}/${name}`, [200]).body));
    }
    const data = this.cache.get(key);
    if (data === undefined && !optional) throw new MissingSource(`${kind} "${name}" not found in namespace ${this.namespace}`);
    return data;
  }
}

// ---------------------------------------------------------------------------
// Readiness checks

function tcpOk(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, timeout: PROBE_TIMEOUT_MS });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.once('connect', () => done(true));
    s.once('timeout', () => done(false));
    s.once('error', () => done(false));
  });
}

function httpOk(scheme: 'http' | 'https', host: string, port: number, path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const mod = scheme === 'https' ? https : http;
    const req = mod.get({ host, port, path, agent: false, timeout: PROBE_TIMEOUT_MS, rejectUnauthorized: false }, (res) => {
      res.resume();
      const code = res.statusCode ?? 0;
      resolve(code >= 200 && code < 400);
    });
    req.once('timeout', () => req.destroy(new Error('timeout')));
    req.once('error', () => resolve(false));
  });
}
