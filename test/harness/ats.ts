// A private Apache Traffic Server (Debian's 9.2 packages) for end-to-end tests.
//
// Every instance lives in its own runroot under a temp dir and listens only on
// 127.0.0.1 ports chosen at start. It runs in its own session and process
// group (spawn detached = setsid), which is what stop() signals; a small
// watchdog shell kills that group if the Node process dies without stop(), and
// a process 'exit' listener does the same on an ordinary exit.
//
// Facts this relies on (see /work/shared/notes/ats-on-debian.md): TS_RUNROOT
// pointing at a folder with runroot.yaml; admin.user_id #-1 to run as root;
// ip_allow.yaml and storage.config are required; traffic_ctl needs
// traffic_manager; a port that cannot be bound is only logged in diags.log
// (ATS keeps running without it), so start() watches for that.

import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';

import { freePorts } from './ports.js';
import { signalGroup, startWatchdog, stopWatchdog } from './process-group.js';

export const DEFAULT_BIN_DIR = '/usr/bin';
export const ATS_MODULES_DIR = '/usr/lib/trafficserver/modules';

const DEFAULT_START_TIMEOUT_MS = 20_000;
const DEFAULT_STOP_TIMEOUT_MS = 10_000;
const KILL_WAIT_MS = 5_000;
const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
const DEFAULT_COMMAND_TIMEOUT_MS = 20_000;
const POLL_MS = 20;
const PROBE_HOST = 'ats-harness-probe.invalid';
const LOG_TAIL_LINES = 40;
const BIND_ERROR = /Could not bind or listen to port|unable to listen on port/;
// traffic_server's last start-up line in diags.log (also under traffic_manager).
const RUNNING = /traffic server running/;

// ---------------------------------------------------------------------------
// Public types

export type RecordValue = string | number;

export interface TlsCert {
  /** Base file name: written as etc/ssl/<name>.pem and etc/ssl/<name>.key. */
  name: string;
  /** PEM certificate (chain). */
  cert: string;
  /** PEM private key. */
  key: string;
  /** Serve it for unknown names and clients without SNI (dest_ip=*). */
  default?: boolean;
}

/** The parts of the configuration that restart() may replace. */
export interface AtsConfig {
  /** remap.config lines. */
  remap?: string[];
  /** plugin.config lines. */
  plugins?: string[];
  /** Extra records.config entries; numbers become INT (FLOAT if not integral), strings STRING. They override the defaults. */
  records?: Record<string, RecordValue>;
  /** Enables diags debug output (to traffic.out) for these tags, e.g. 'http|ats_ingress'. */
  debugTags?: string;
  /** Certificates to serve on the https port (implies https). */
  certs?: TlsCert[];
  /** Raw ssl_multicert.config lines; replaces the lines generated from certs (implies https). */
  sslMulticert?: string[];
  /** Extra files written under etc/ (relative names), e.g. a header_rewrite config. */
  files?: Record<string, string>;
}

export interface AtsOptions extends AtsConfig {
  /** Run traffic_manager --nosyslog (which runs traffic_server) so that traffic_ctl works. Slower start (~3 s). */
  manager?: boolean;
  /** Open an https port even without certificates. */
  https?: boolean;
  /** A 64 MB cache file and proxy.config.http.cache.http 1 (default: no cache, fastest start). */
  cache?: boolean;
  /** Fixed ports instead of free ones (no retry on a bind failure then). */
  httpPort?: number;
  httpsPort?: number;
  /** Keep the temp dir after stop() (also with env ATS_INGRESS_KEEP_TMP=1). */
  keep?: boolean;
  /** Bound on start and on each restart (default 20 s). */
  startTimeoutMs?: number;
  /** Time between SIGTERM and SIGKILL in stop() (default 10 s). */
  stopTimeoutMs?: number;
  /** Where traffic_server, traffic_manager and traffic_ctl live (default /usr/bin). */
  binDir?: string;
  /** Extra environment for the ATS processes. */
  env?: Record<string, string>;
}

export interface HttpRequestOptions {
  /** Host header (default: the address:port connected to). */
  host?: string;
  method?: string;
  /** Path and query (default '/'). */
  path?: string;
  headers?: http.OutgoingHttpHeaders;
  body?: string | Buffer;
  /** A new connection for this request only (agent: false). */
  fresh?: boolean;
  /** Default 10 s. */
  timeoutMs?: number;
  /** Use TLS (the https port for AtsInstance.request). */
  tls?: boolean;
  /** TLS SNI name (default: the Host header's name when it is not an IP). */
  servername?: string;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface CommandResult {
  /** Exit code; null when killed by a signal or not started. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface AtsInstance {
  /** PID (and process group) of the process started: traffic_server, or traffic_manager in manager mode. Changes on restart(); throws after stop(). */
  readonly pid: number;
  /** The runroot (temp dir). */
  readonly dir: string;
  readonly etcDir: string;
  readonly logDir: string;
  readonly httpPort: number;
  readonly httpsPort: number | undefined;
  readonly manager: boolean;
  /** Milliseconds from spawn to the first answer on the http port, for the latest (re)start. */
  readonly startMs: number;
  /** Whether the process is running (started and not stopped). */
  readonly running: boolean;
  /** http://127.0.0.1:<httpPort><path> (https and the https port with scheme 'https'). */
  url(path?: string, scheme?: 'http' | 'https'): string;
  /** A request to 127.0.0.1 on the http (or, with tls, https) port. */
  request(opts?: HttpRequestOptions): Promise<HttpResponse>;
  /** traffic.out, diags.log, error.log (and manager.log) concatenated, each under a header. */
  logs(): Promise<string>;
  /** Writes a file under etc/ (e.g. remap.config before `traffic_ctl config reload`). */
  writeConfig(name: string, content: string): Promise<void>;
  /** traffic_ctl with this runroot (manager mode only). */
  trafficCtl(args: string[], opts?: { timeoutMs?: number }): Promise<CommandResult>;
  /**
   * SIGTERM, then SIGKILL after stopTimeoutMs, to the process group; waits until none of it is left;
   * removes the dir unless kept. Idempotent. traffic_server takes about 1 s to act on SIGTERM;
   * `kill: true` sends SIGKILL at once for a fast teardown.
   */
  stop(opts?: { kill?: boolean }): Promise<void>;
  /** Stops the processes (keeping the dir and ports), rewrites the configuration with `update` merged in, and starts again. */
  restart(update?: AtsConfig): Promise<void>;
}

export class AtsStartError extends Error {
  constructor(
    message: string,
    readonly portInUse: boolean,
  ) {
    super(message);
    this.name = 'AtsStartError';
  }
}

// ---------------------------------------------------------------------------
// Process groups

/** PIDs of live (non-zombie) processes in process group `pgid`. */
export function liveGroupMembers(pgid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    try {
      process.kill(-pgid, 0);
      return [pgid];
    } catch {
      return [];
    }
  }
  const members: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // "pid (comm) state ppid pgrp ..."; comm may contain spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = fields[0];
    if (state === 'Z' || state === 'X') continue;
    if (Number(fields[2]) === pgid) members.push(Number(entry));
  }
  return members;
}


async function waitFor(cond: () => boolean, timeoutMs: number, intervalMs = POLL_MS): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (cond()) return true;
    if (performance.now() >= deadline) return false;
    await delay(intervalMs);
  }
}



// ---------------------------------------------------------------------------
// Bounded commands

/**
 * Runs a command in its own process group with a bound; on timeout the whole
 * group is killed. Anything left in the group when the command exits is killed too.
 */
export async function runCommand(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<CommandResult> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const child = spawn(cmd, args, {
    env: opts.env ?? process.env,
    cwd: opts.cwd,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on('data', (c: Buffer) => out.push(c));
  child.stderr?.on('data', (c: Buffer) => err.push(c));

  return await new Promise<CommandResult>((resolve) => {
    let timedOut = false;
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const finish = (code: number | null, signal: NodeJS.Signals | null, extra = ''): void => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8') + extra,
        timedOut,
      });
    };
    const killRest = (): void => {
      if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
    };
    timers.push(
      setTimeout(() => {
        timedOut = true;
        killRest();
        timers.push(setTimeout(() => finish(null, 'SIGKILL', `\n[harness] ${cmd} timed out after ${timeoutMs} ms`), 2_000));
      }, timeoutMs),
    );
    child.once('error', (e) => finish(null, null, `\n[harness] cannot run ${cmd}: ${e.message}`));
    child.once('exit', (code, signal) => {
      // Leftovers in the group would hold the pipes open: kill them, then give 'close' a moment.
      if (child.pid !== undefined && liveGroupMembers(child.pid).length > 0) killRest();
      timers.push(setTimeout(() => finish(code, signal), 2_000));
    });
    child.once('close', (code, signal) => finish(code, signal));
  });
}

/** traffic_ctl against the runroot `dir` (needs traffic_manager running there). */
export async function trafficCtl(
  dir: string,
  args: string[],
  opts: { timeoutMs?: number; binDir?: string } = {},
): Promise<CommandResult> {
  return runCommand(path.join(opts.binDir ?? DEFAULT_BIN_DIR, 'traffic_ctl'), args, {
    env: { ...process.env, TS_RUNROOT: dir },
    cwd: dir,
    timeoutMs: opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
  });
}

// ---------------------------------------------------------------------------
// HTTP requests

function hostName(hostHeader: string): string {
  if (hostHeader.startsWith('[')) return hostHeader.slice(1, hostHeader.indexOf(']'));
  return hostHeader.replace(/:\d+$/, '');
}

/** One HTTP(S) request to address:port; collects the whole response. */
export async function httpRequest(
  opts: HttpRequestOptions & { port: number; address?: string; agent?: http.Agent | false },
): Promise<HttpResponse> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const headers: http.OutgoingHttpHeaders = { ...(opts.headers ?? {}) };
  if (opts.host !== undefined) headers.host = opts.host;
  const body = opts.body;
  if (body !== undefined && headers['content-length'] === undefined && headers['transfer-encoding'] === undefined) {
    headers['content-length'] = Buffer.byteLength(body);
  }
  const agent = opts.fresh ? false : opts.agent;
  const base: http.RequestOptions = {
    host: opts.address ?? '127.0.0.1',
    port: opts.port,
    method: opts.method ?? 'GET',
    path: opts.path ?? '/',
    headers,
    signal: AbortSignal.timeout(timeoutMs),
    ...(agent === undefined ? {} : { agent }),
  };
  const what = `${base.method} ${opts.tls ? 'https' : 'http'}://${base.host}:${opts.port}${base.path} (Host: ${opts.host ?? '-'})`;

  return await new Promise<HttpResponse>((resolve, reject) => {
    const onResponse = (res: http.IncomingMessage): void => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (e) => reject(new Error(`${what}: ${e.message}`)));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
      );
    };
    let req: http.ClientRequest;
    if (opts.tls) {
      const sni = opts.servername ?? (opts.host !== undefined ? hostName(opts.host) : undefined);
      req = https.request(
        { ...base, rejectUnauthorized: false, ...(sni !== undefined && net.isIP(sni) === 0 ? { servername: sni } : {}) },
        onResponse,
      );
    } else {
      req = http.request(base, onResponse);
    }
    req.on('error', (e) => reject(new Error(`${what}: ${e.name === 'AbortError' ? `no answer within ${timeoutMs} ms` : e.message}`)));
    req.end(body);
  });
}

// ---------------------------------------------------------------------------
// Configuration

function keepTmp(opts: { keep?: boolean }): boolean {
  const env = process.env.ATS_INGRESS_KEEP_TMP;
  return opts.keep === true || (env !== undefined && env !== '' && env !== '0');
}

function runrootYaml(dir: string): string {
  return [
    `prefix: ${dir}`,
    'exec_prefix: /usr',
    'bindir: /usr/bin',
    'sbindir: /usr/sbin',
    `sysconfdir: ${dir}/etc`,
    `datadir: ${dir}/cache`,
    'includedir: /usr/include',
    'libdir: /usr/lib/trafficserver',
    `libexecdir: ${ATS_MODULES_DIR}`,
    `localstatedir: ${dir}`,
    `runtimedir: ${dir}/run`,
    `logdir: ${dir}/log`,
    `cachedir: ${dir}/cache`,
    '',
  ].join('\n');
}

const IP_ALLOW_YAML = `ip_allow:
  - apply: in
    ip_addrs: [127.0.0.1, ::1]
    action: allow
    methods: ALL
`;

function recordLine(name: string, value: RecordValue): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new Error(`bad record name ${JSON.stringify(name)}`);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`bad value for ${name}: ${value}`);
    return `CONFIG ${name} ${Number.isInteger(value) ? 'INT' : 'FLOAT'} ${value}`;
  }
  if (/[\r\n]/.test(value)) throw new Error(`bad value for ${name}: contains a newline`);
  return `CONFIG ${name} STRING ${value}`;
}

interface Ports {
  http: number;
  https: number | undefined;
}

function wantsHttps(opts: AtsOptions): boolean {
  return opts.https === true || (opts.certs?.length ?? 0) > 0 || (opts.sslMulticert?.length ?? 0) > 0 || opts.httpsPort !== undefined;
}

function recordsConfig(dir: string, opts: AtsOptions, ports: Ports): string {
  const serverPorts = [`${ports.http}:ip-in=127.0.0.1`];
  if (ports.https !== undefined) serverPorts.push(`${ports.https}:ssl:ip-in=127.0.0.1`);
  const records: Record<string, RecordValue> = {
    'proxy.config.http.server_ports': serverPorts.join(' '),
    'proxy.config.admin.user_id': '#-1',
    'proxy.config.url_remap.remap_required': 1,
    'proxy.config.url_remap.pristine_host_hdr': 1,
    'proxy.config.reverse_proxy.enabled': 1,
    'proxy.config.http.cache.http': opts.cache ? 1 : 0,
    'proxy.config.cache.ram_cache.size': 16 * 1024 * 1024,
    'proxy.config.net.connections_throttle': 10000,
    // Sized for a 2-core machine running tests next to ATS.
    'proxy.config.exec_thread.autoconfig': 0,
    'proxy.config.exec_thread.limit': 2,
    'proxy.config.accept_threads': 1,
    'proxy.config.task_threads': 1,
    'proxy.config.cache.threads_per_disk': 2,
    'proxy.config.ssl.server.cert.path': `${dir}/etc/ssl`,
    'proxy.config.ssl.server.private_key.path': `${dir}/etc/ssl`,
    'proxy.config.diags.debug.enabled': opts.debugTags ? 1 : 0,
    ...(opts.debugTags ? { 'proxy.config.diags.debug.tags': opts.debugTags } : {}),
    ...(opts.records ?? {}),
  };
  return [
    '# Written by test/harness/ats.ts',
    ...Object.entries(records).map(([k, v]) => recordLine(k, v)),
    '',
  ].join('\n');
}

function sslMulticertConfig(opts: AtsConfig): string | undefined {
  if (opts.sslMulticert !== undefined) return opts.sslMulticert.join('\n') + '\n';
  if (!opts.certs?.length) return undefined;
  return (
    opts.certs
      .map((c) => `${c.default ? 'dest_ip=* ' : ''}ssl_cert_name=${c.name}.pem ssl_key_name=${c.name}.key`)
      .join('\n') + '\n'
  );
}

function resolveUnder(base: string, name: string): string {
  const full = path.resolve(base, name);
  if (full !== base && !full.startsWith(base + path.sep)) throw new Error(`${name} is outside ${base}`);
  return full;
}

async function writeFiles(base: string, files: Record<string, string>): Promise<void> {
  for (const [name, content] of Object.entries(files)) {
    const full = resolveUnder(base, name);
    await mkdir(path.dirname(full), { recursive: true });
    await writeFile(full, content);
  }
}

/** Writes a complete runroot for `opts` into `dir` (which exists). */
async function writeRunroot(dir: string, opts: AtsOptions, ports: Ports): Promise<void> {
  for (const sub of ['etc', 'etc/ssl', 'log', 'run', 'cache']) await mkdir(path.join(dir, sub), { recursive: true });
  const etc = path.join(dir, 'etc');
  const files: Record<string, string> = {
    'records.config': recordsConfig(dir, opts, ports),
    'ip_allow.yaml': IP_ALLOW_YAML,
    'storage.config': opts.cache ? `${dir}/cache 64M\n` : '',
    'plugin.config': (opts.plugins ?? []).map((l) => l + '\n').join(''),
    'remap.config': (opts.remap ?? []).map((l) => l + '\n').join(''),
  };
  const multicert = sslMulticertConfig(opts);
  if (multicert !== undefined) files['ssl_multicert.config'] = multicert;
  for (const c of opts.certs ?? []) {
    files[`ssl/${c.name}.pem`] = c.cert;
    files[`ssl/${c.name}.key`] = c.key;
  }
  await writeFile(path.join(dir, 'runroot.yaml'), runrootYaml(dir));
  await writeFiles(etc, { ...files, ...(opts.files ?? {}) });
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return '';
  }
}

function tail(text: string, lines: number): string {
  const all = text.trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}

// ---------------------------------------------------------------------------
// The instance

/** One HTTP request with any answer = ready. */
function probe(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: '/',
        headers: { host: PROBE_HOST, connection: 'close' },
        agent: false,
        signal: AbortSignal.timeout(Math.max(50, timeoutMs)),
      },
      (res) => {
        res.resume();
        res.on('error', () => resolve(true));
        res.on('end', () => resolve(true));
      },
    );
    req.on('error', () => resolve(false));
    req.end();
  });
}

class AtsProcess implements AtsInstance {
  readonly dir: string;
  readonly etcDir: string;
  readonly logDir: string;
  readonly manager: boolean;
  startMs = 0;

  private options: AtsOptions;
  private readonly ports: Ports;
  private child: ChildProcess | undefined;
  private pgid: number | undefined;
  private exited = false;
  private exitInfo = '';
  private watchdog: ChildProcess | undefined;
  private agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  private tlsAgent = new https.Agent({ keepAlive: true, maxSockets: 64 });
  private stopped: Promise<void> | undefined;
  private readonly onProcessExit = (): void => {
    // Synchronous last resort when Node exits without stop().
    const pgid = this.pgid;
    if (pgid !== undefined) signalGroup(pgid, 'SIGKILL');
    stopWatchdog(this.watchdog);
    if (!keepTmp(this.options)) {
      // Let the killed processes go before removing the dir they write into (bounded, synchronous).
      const pause = new Int32Array(new SharedArrayBuffer(4));
      for (let i = 0; i < 100 && pgid !== undefined && liveGroupMembers(pgid).length > 0; i++) Atomics.wait(pause, 0, 0, 20);
      try {
        rmSync(this.dir, { recursive: true, force: true });
      } catch {
        /* nothing more to do at exit */
      }
    }
  };

  constructor(dir: string, options: AtsOptions, ports: Ports) {
    this.dir = dir;
    this.etcDir = path.join(dir, 'etc');
    this.logDir = path.join(dir, 'log');
    this.manager = options.manager === true;
    this.options = { ...options };
    this.ports = ports;
  }

  get pid(): number {
    if (this.child?.pid === undefined) throw new Error('traffic_server is not running');
    return this.child.pid;
  }

  get running(): boolean {
    return this.child !== undefined && !this.exited;
  }

  get httpPort(): number {
    return this.ports.http;
  }

  get httpsPort(): number | undefined {
    return this.ports.https;
  }

  url(p = '/', scheme: 'http' | 'https' = 'http'): string {
    if (scheme === 'https') {
      if (this.ports.https === undefined) throw new Error('no https port (start with https, certs or sslMulticert)');
      return `https://127.0.0.1:${this.ports.https}${p}`;
    }
    return `http://127.0.0.1:${this.ports.http}${p}`;
  }

  request(opts: HttpRequestOptions = {}): Promise<HttpResponse> {
    const port = opts.tls ? this.ports.https : this.ports.http;
    if (port === undefined) return Promise.reject(new Error('no https port (start with https, certs or sslMulticert)'));
    return httpRequest({ ...opts, port, address: '127.0.0.1', agent: opts.tls ? this.tlsAgent : this.agent });
  }

  async logs(): Promise<string> {
    const names = ['traffic.out', 'diags.log', 'error.log', ...(this.manager ? ['manager.log'] : [])];
    const parts: string[] = [];
    for (const name of names) {
      const text = await readText(path.join(this.logDir, name));
      if (text !== '') parts.push(`==> ${name} <==\n${text}`);
    }
    return parts.join('\n');
  }

  private async logTails(): Promise<string> {
    const names = ['traffic.out', 'diags.log', ...(this.manager ? ['manager.log'] : [])];
    const parts: string[] = [];
    for (const name of names) {
      const text = await readText(path.join(this.logDir, name));
      parts.push(`--- ${name} (last ${LOG_TAIL_LINES} lines) ---\n${text === '' ? '(empty or missing)' : tail(text, LOG_TAIL_LINES)}`);
    }
    return parts.join('\n');
  }

  async writeConfig(name: string, content: string): Promise<void> {
    await writeFiles(this.etcDir, { [name]: content });
  }

  trafficCtl(args: string[], opts: { timeoutMs?: number } = {}): Promise<CommandResult> {
    if (!this.manager) return Promise.reject(new Error('traffic_ctl needs traffic_manager: start with { manager: true }'));
    return trafficCtl(this.dir, args, { ...opts, binDir: this.options.binDir });
  }

  async writeAll(): Promise<void> {
    await writeRunroot(this.dir, this.options, this.ports);
  }

  /** Spawns ATS and waits until it answers on the http port; on failure nothing is left running. */
  async launch(): Promise<void> {
    const binDir = this.options.binDir ?? DEFAULT_BIN_DIR;
    const out = path.join(this.logDir, 'traffic.out');
    const bin = path.join(binDir, this.manager ? 'traffic_manager' : 'traffic_server');
    const args = [...(this.manager ? ['--nosyslog'] : []), '--bind_stdout', out, '--bind_stderr', out];
    const timeoutMs = this.options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    const diagsFile = path.join(this.logDir, 'diags.log');
    const diagsBefore = (await readText(diagsFile)).length;

    this.exited = false;
    this.exitInfo = '';
    const t0 = performance.now();
    const child = spawn(bin, args, {
      env: { ...process.env, ...(this.options.env ?? {}), TS_RUNROOT: this.dir },
      cwd: this.dir,
      detached: true,
      stdio: 'ignore',
    });
    child.on('exit', (code, signal) => {
      this.exited = true;
      this.exitInfo = signal !== null ? `killed by ${signal}` : `exit code ${code}`;
    });
    const spawnError = await new Promise<Error | undefined>((resolve) => {
      child.once('spawn', () => resolve(undefined));
      child.once('error', (e) => resolve(e));
    });
    if (spawnError !== undefined || child.pid === undefined) {
      throw new AtsStartError(`cannot start ${bin}: ${spawnError?.message ?? 'no pid'}`, false);
    }
    // Not ref'd: a test that forgets stop() must still let Node exit (the 'exit' listener then kills ATS).
    child.unref();
    this.child = child;
    this.pgid = child.pid;
    process.on('exit', this.onProcessExit);
    this.watchdog = startWatchdog(process.pid, child.pid, 'ats-harness-watchdog');

    const deadline = t0 + timeoutMs;
    let failure: string | undefined;
    let portInUse = false;
    for (;;) {
      if (this.exited) {
        failure = `${path.basename(bin)} exited during start (${this.exitInfo})`;
        break;
      }
      const whole = await readText(diagsFile);
      const diags = whole.length >= diagsBefore ? whole.slice(diagsBefore) : whole;
      if (BIND_ERROR.test(diags)) {
        failure = `${path.basename(bin)} could not bind its ports (${this.ports.http}${this.ports.https ? `, ${this.ports.https}` : ''})`;
        portInUse = true;
        break;
      }
      const left = deadline - performance.now();
      if (left <= 0) {
        failure = `${path.basename(bin)} did not answer on 127.0.0.1:${this.ports.http} within ${timeoutMs} ms`;
        break;
      }
      // Both: ATS says it runs (so the bind check above has seen its port results) and the port answers HTTP.
      if (RUNNING.test(diags) && (await probe(this.ports.http, Math.min(1_000, left)))) break;
      await delay(POLL_MS);
    }
    if (failure === undefined) {
      this.startMs = performance.now() - t0;
      return;
    }
    const tails = await this.logTails();
    await this.halt(true);
    throw new AtsStartError(`${failure}\nrunroot: ${this.dir}\n${tails}`, portInUse);
  }

  /** Stops the process group (SIGTERM, then SIGKILL) and waits until nothing of it is left. Keeps the dir. */
  async halt(kill = false): Promise<void> {
    const pgid = this.pgid;
    if (pgid === undefined) return;
    const gone = (): boolean => this.exited && liveGroupMembers(pgid).length === 0;
    let clean = true;
    if (!gone()) {
      signalGroup(pgid, kill ? 'SIGKILL' : 'SIGTERM');
      if (!(await waitFor(gone, kill ? KILL_WAIT_MS : (this.options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS)))) {
        signalGroup(pgid, 'SIGKILL');
        clean = await waitFor(gone, KILL_WAIT_MS);
      }
    }
    stopWatchdog(this.watchdog);
    this.watchdog = undefined;
    process.off('exit', this.onProcessExit);
    this.agent.destroy();
    this.tlsAgent.destroy();
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    this.tlsAgent = new https.Agent({ keepAlive: true, maxSockets: 64 });
    this.pgid = undefined;
    if (!clean) {
      throw new Error(`process group ${pgid} still has live processes after SIGKILL: ${liveGroupMembers(pgid).join(', ')}`);
    }
  }

  async removeDir(): Promise<void> {
    if (!keepTmp(this.options)) await rm(this.dir, { recursive: true, force: true });
  }

  stop(opts: { kill?: boolean } = {}): Promise<void> {
    this.stopped ??= (async () => {
      try {
        await this.halt(opts.kill === true);
      } finally {
        this.child = undefined;
        await this.removeDir();
      }
    })();
    return this.stopped;
  }

  async restart(update: AtsConfig = {}): Promise<void> {
    if (this.stopped !== undefined) throw new Error('restart() after stop()');
    await this.halt();
    this.options = { ...this.options, ...update };
    await this.writeAll();
    await this.launch();
  }
}

async function allocatePorts(opts: AtsOptions): Promise<Ports> {
  const https = wantsHttps(opts);
  const need = (opts.httpPort === undefined ? 1 : 0) + (https && opts.httpsPort === undefined ? 1 : 0);
  const free = await freePorts(need);
  const httpPort = opts.httpPort ?? (free.shift() as number);
  const httpsPort = https ? (opts.httpsPort ?? (free.shift() as number)) : undefined;
  return { http: httpPort, https: httpsPort };
}

/**
 * Starts a private ATS on 127.0.0.1 and resolves once it answers HTTP.
 * Always stop() it (try/finally or an after() hook).
 */
export async function startAts(opts: AtsOptions = {}): Promise<AtsInstance> {
  const fixedPorts = opts.httpPort !== undefined || opts.httpsPort !== undefined;
  const attempts = fixedPorts ? 1 : 3;
  for (let attempt = 1; ; attempt++) {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ats-ingress-ats-'));
    const ats = new AtsProcess(dir, opts, await allocatePorts(opts));
    try {
      await ats.writeAll();
      await ats.launch();
      return ats;
    } catch (err) {
      await ats.stop();
      if (err instanceof AtsStartError && err.portInUse && attempt < attempts) continue;
      throw err;
    }
  }
}

// ---------------------------------------------------------------------------
// Plugin verification

export interface VerifyResult {
  ok: boolean;
  /** `traffic_server -C "verify_<kind>_plugin <so>"` passed: the .so loads and has the entry points. */
  loads: boolean;
  /** `traffic_server -C verify_config` passed with the plugin configured with `args` (undefined when not run). */
  configures: boolean | undefined;
  /** Command output and diags.log of both steps. */
  output: string;
}

/**
 * Checks a plugin without serving. Step 1: `verify_global_plugin` /
 * `verify_remap_plugin` (ATS 9.2 takes no plugin arguments there: any text
 * after the path is read as part of the path). Step 2, when step 1 passed:
 * `verify_config` with the plugin in plugin.config (global) or behind a remap
 * rule with @pparam=args (remap), which initialises it with `args`.
 * `files` are written under the temp runroot's etc/ (relative args resolve there).
 */
export async function verifyPlugin(
  kind: 'global' | 'remap',
  soPath: string,
  args: string[] = [],
  opts: { files?: Record<string, string>; timeoutMs?: number; binDir?: string; keep?: boolean } = {},
): Promise<VerifyResult> {
  for (const a of [soPath, ...args]) {
    if (a === '' || /\s/.test(a)) throw new Error(`verifyPlugin: empty or whitespace-containing argument ${JSON.stringify(a)}`);
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ats-ingress-verify-'));
  try {
    const [port] = await freePorts(1);
    const base: AtsOptions = { files: opts.files ?? {} };
    await writeRunroot(dir, base, { http: port as number, https: undefined });
    const bin = path.join(opts.binDir ?? DEFAULT_BIN_DIR, 'traffic_server');
    const env = { ...process.env, TS_RUNROOT: dir };
    const timeoutMs = opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    const diagsFile = path.join(dir, 'log', 'diags.log');
    const output: string[] = [];
    const step = async (command: string): Promise<boolean> => {
      await rm(diagsFile, { force: true });
      const r = await runCommand(bin, ['-C', command], { env, cwd: dir, timeoutMs });
      output.push(
        `$ traffic_server -C "${command}"  -> ${r.timedOut ? 'timed out' : r.signal ?? `exit ${r.code}`}`,
        r.stdout.trimEnd(),
        r.stderr.trimEnd(),
        `--- diags.log ---`,
        (await readText(diagsFile)).trimEnd(),
      );
      return r.code === 0 && !r.timedOut;
    };

    const loads = await step(`verify_${kind}_plugin ${soPath}`);
    let configures: boolean | undefined;
    if (loads) {
      if (kind === 'global') {
        await writeFile(path.join(dir, 'etc', 'plugin.config'), [soPath, ...args].join(' ') + '\n');
      } else {
        const pparams = args.map((a) => ` @pparam=${a}`).join('');
        await writeFile(
          path.join(dir, 'etc', 'remap.config'),
          `map http://verify-plugin.invalid/ http://127.0.0.1:1/ @plugin=${soPath}${pparams}\n`,
        );
      }
      configures = await step('verify_config');
    }
    return { ok: loads && configures === true, loads, configures, output: output.filter((l) => l !== '').join('\n') };
  } finally {
    if (!keepTmp(opts)) await rm(dir, { recursive: true, force: true });
  }
}
