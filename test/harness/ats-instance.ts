// A private Apache Traffic Server (Debian's 9.2 packages) for end-to-end
// tests: startAts() and the AtsInstance it gives.
//
// Every instance lives in its own runroot under a temp dir (production's
// configuration, see ats-runroot.ts) and listens only on 127.0.0.1 ports
// chosen at start. It runs as a ManagedProcess (processes.ts): its own
// process group, which is what stop() signals, a watchdog for when the test
// process dies, and the 'exit' hook for an ordinary exit.
//
// Facts this relies on (see /work/shared/notes/ats-on-debian.md): TS_RUNROOT
// pointing at a folder with runroot.yaml; traffic_ctl needs traffic_manager;
// a port that cannot be bound is only logged (ATS keeps running without it),
// so start() watches its diagnostics for that. Production's records send the
// diagnostics to stderr, which --bind_stderr puts in traffic.out; start()
// reads diags.log too, for a test whose records send them there.

import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';

import { DEFAULT_BIN_DIR, keepTmp, writeEtcFile, writeHarnessRunroot, type AtsConfig, type AtsPorts } from './ats-runroot.js';
import { httpRequest, type HttpRequestOptions, type HttpResponse } from './http-request.js';
import { readText, tailLines } from './log-files.js';
import { freePorts } from './ports.js';
import { atExit, ManagedProcess, runCommand, type CommandResult } from './processes.js';

const DEFAULT_START_TIMEOUT_MS = 20_000;
const DEFAULT_STOP_TIMEOUT_MS = 10_000;
const DEFAULT_COMMAND_TIMEOUT_MS = 20_000;
const POLL_MS = 20;
const PROBE_HOST = 'ats-harness-probe.invalid';
const LOG_TAIL_LINES = 40;
const BIND_ERROR = /Could not bind or listen to port|unable to listen on port/;
// traffic_server's last start-up line (also under traffic_manager).
const RUNNING = /traffic server running/;
// Where ATS's diagnostics may be: its stderr (production's records) and diags.log.
const DIAGS_FILES = ['traffic.out', 'diags.log'];

export interface AtsOptions extends AtsConfig {
  /** Run traffic_manager --nosyslog (which runs traffic_server) so that traffic_ctl works. Slower start (~3 s). */
  manager?: boolean;
  /** Open an https port even without certificates. */
  https?: boolean;
  /** Addresses ATS listens on besides 127.0.0.1 (a test network's host address: clients from elsewhere). */
  alsoBind?: string[];
  /** The cache on, 64 MiB on disk and 16 MiB of RAM (default); false: none (a faster start). */
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
    /** The process exited before it answered (traffic_manager sometimes dies at start on a busy machine). */
    readonly exitedEarly = false,
  ) {
    super(message);
    this.name = 'AtsStartError';
  }
}

/** traffic_ctl against the runroot `dir` (needs traffic_manager running there). */
export async function trafficCtl(dir: string, args: string[], opts: { timeoutMs?: number; binDir?: string } = {}): Promise<CommandResult> {
  return runCommand(path.join(opts.binDir ?? DEFAULT_BIN_DIR, 'traffic_ctl'), args, {
    env: { ...process.env, TS_RUNROOT: dir },
    cwd: dir,
    timeoutMs: opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
  });
}

function wantsHttps(opts: AtsOptions): boolean {
  return opts.https === true || (opts.certs?.length ?? 0) > 0 || (opts.sslMulticert?.length ?? 0) > 0 || opts.httpsPort !== undefined;
}

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
  private readonly ports: AtsPorts;
  private proc: ManagedProcess | undefined;
  private agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  private tlsAgent = new https.Agent({ keepAlive: true, maxSockets: 64 });
  private stopped: Promise<void> | undefined;
  /** Removes the dir if Node exits without stop() (after the 'exit' hook killed ATS). */
  private readonly forgetDirAtExit: () => void;

  constructor(dir: string, options: AtsOptions, ports: AtsPorts) {
    this.dir = dir;
    this.etcDir = path.join(dir, 'etc');
    this.logDir = path.join(dir, 'log');
    this.manager = options.manager === true;
    this.options = { ...options };
    this.ports = ports;
    this.forgetDirAtExit = keepTmp(options) ? () => undefined : atExit(() => rmSync(dir, { recursive: true, force: true }));
  }

  get pid(): number {
    if (this.proc === undefined) throw new Error('traffic_server is not running');
    return this.proc.pid;
  }

  get running(): boolean {
    return this.proc?.running === true;
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
    const names = [...DIAGS_FILES, ...(this.manager ? ['manager.log'] : [])];
    const parts: string[] = [];
    for (const name of names) {
      const text = await readText(path.join(this.logDir, name));
      parts.push(`--- ${name} (last ${LOG_TAIL_LINES} lines) ---\n${text === '' ? '(empty or missing)' : tailLines(text, LOG_TAIL_LINES)}`);
    }
    return parts.join('\n');
  }

  /** What each diagnostics file holds now, from `since` (lengths before the start) on. */
  private async diagsSince(since: readonly number[]): Promise<string> {
    const parts: string[] = [];
    for (const [i, name] of DIAGS_FILES.entries()) {
      const whole = await readText(path.join(this.logDir, name));
      const from = since[i] ?? 0;
      parts.push(whole.length >= from ? whole.slice(from) : whole);
    }
    return parts.join('\n');
  }

  async writeConfig(name: string, content: string): Promise<void> {
    await writeEtcFile(this.etcDir, name, content);
  }

  trafficCtl(args: string[], opts: { timeoutMs?: number } = {}): Promise<CommandResult> {
    if (!this.manager) return Promise.reject(new Error('traffic_ctl needs traffic_manager: start with { manager: true }'));
    return trafficCtl(this.dir, args, { ...opts, binDir: this.options.binDir });
  }

  async writeAll(): Promise<void> {
    await writeHarnessRunroot(this.dir, this.options, this.ports);
  }

  /** Spawns ATS and waits until it answers on the http port; on failure nothing is left running. */
  /**
   * launchOnce(), again when traffic_manager died at start (the notes: 2 of
   * 19 starts on a busy machine): whatever starts it must check and retry.
   */
  async launch(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.launchOnce();
        return;
      } catch (err) {
        if (!(this.manager && err instanceof AtsStartError && err.exitedEarly && attempt < 3)) throw err;
      }
    }
  }

  async launchOnce(): Promise<void> {
    const binDir = this.options.binDir ?? DEFAULT_BIN_DIR;
    const out = path.join(this.logDir, 'traffic.out');
    const bin = path.join(binDir, this.manager ? 'traffic_manager' : 'traffic_server');
    const args = [...(this.manager ? ['--nosyslog'] : []), '--bind_stdout', out, '--bind_stderr', out];
    const timeoutMs = this.options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    const before = await Promise.all(DIAGS_FILES.map(async (name) => (await readText(path.join(this.logDir, name))).length));

    const t0 = performance.now();
    let proc: ManagedProcess;
    try {
      proc = await ManagedProcess.start(bin, args, {
        env: { ...process.env, ...(this.options.env ?? {}), TS_RUNROOT: this.dir },
        cwd: this.dir,
        // ATS writes its own logs (--bind_stdout, --bind_stderr).
        output: 'ignore',
        graceMs: this.options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS,
        ...(keepTmp(this.options) ? {} : { removeDirOnDeath: this.dir }),
      });
    } catch (err) {
      throw new AtsStartError((err as Error).message, false);
    }
    this.proc = proc;

    const deadline = t0 + timeoutMs;
    let failure: string | undefined;
    let portInUse = false;
    let exitedEarly = false;
    for (;;) {
      if (!proc.running) {
        failure = `${path.basename(bin)} exited during start (${proc.describeExit()})`;
        exitedEarly = true;
        break;
      }
      const diags = await this.diagsSince(before);
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
    throw new AtsStartError(`${failure}\nrunroot: ${this.dir}\n${tails}`, portInUse, exitedEarly);
  }

  /** Stops the process group (SIGTERM, or SIGKILL with `kill`) and waits until nothing of it is left. Keeps the dir. */
  async halt(kill = false): Promise<void> {
    const proc = this.proc;
    if (proc === undefined) return;
    try {
      await (kill ? proc.kill() : proc.stop());
    } finally {
      this.agent.destroy();
      this.tlsAgent.destroy();
      this.agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
      this.tlsAgent = new https.Agent({ keepAlive: true, maxSockets: 64 });
    }
  }

  async removeDir(): Promise<void> {
    this.forgetDirAtExit();
    if (!keepTmp(this.options)) await rm(this.dir, { recursive: true, force: true });
  }

  stop(opts: { kill?: boolean } = {}): Promise<void> {
    this.stopped ??= (async () => {
      try {
        await this.halt(opts.kill === true);
      } finally {
        this.proc = undefined;
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

async function allocatePorts(opts: AtsOptions): Promise<AtsPorts> {
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
