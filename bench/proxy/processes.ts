// The processes the proxy benchmark starts besides ATS (which the test
// harness runs): nginx as the backend, redis-server for the Lua design, and
// wrk. Each is a ManagedProcess of the harness (test/harness/processes.ts):
// its own process group, stopped by its PID, killed by the harness's 'exit'
// hook or its watchdog if the driver ends without stopping it.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';

import { httpRequest } from '../../test/harness/http-request.js';
import { freePort } from '../../test/harness/ports.js';
import { ManagedProcess, runCommand, type CommandResult } from '../../test/harness/processes.js';

const STOP_WAIT_MS = 5_000;
const READY_TIMEOUT_MS = 10_000;

/** Spawns `cmd args` in its own process group, stdout and stderr appended to `logFile`. */
function startDaemon(name: string, cmd: string, args: string[], opts: { cwd: string; logFile: string }): Promise<ManagedProcess> {
  return ManagedProcess.start(cmd, args, { name, cwd: opts.cwd, output: { file: opts.logFile }, graceMs: STOP_WAIT_MS });
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port; fails if `daemon` exits or time runs out. */
export async function waitForPort(daemon: ManagedProcess, port: number, timeoutMs = READY_TIMEOUT_MS): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (!daemon.running) throw new Error(`${daemon.describeExit()} during start:\n${daemon.logTail()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port });
      s.setTimeout(500);
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
      s.once('timeout', () => {
        s.destroy();
        resolve(false);
      });
    });
    if (ok) return;
    if (performance.now() > deadline) throw new Error(`${daemon.name} did not listen on 127.0.0.1:${port} within ${timeoutMs} ms:\n${daemon.logTail()}`);
    await delay(20);
  }
}

// ---------------------------------------------------------------------------
// nginx: the backend

/** The body every backend answer carries: 25 bytes. */
export const BACKEND_BODY = 'hello from bench backend\n';

/**
 * A path ending in this is cacheable: nginx answers it with the same body and
 * `Cache-Control: public, max-age=3600`, and logs each such request (the
 * only requests it logs), so that the benchmark can count the ones that got
 * past ATS's cache. Every other path is answered without Cache-Control, which
 * ATS's records (only explicit freshness is stored) never store.
 */
export const CACHEABLE_SUFFIX = '/cacheable';
export const CACHEABLE_CACHE_CONTROL = 'public, max-age=3600';

const NGINX_CANDIDATES = ['/usr/sbin/nginx', '/usr/bin/nginx'];

function findNginx(): string | undefined {
  return NGINX_CANDIDATES.find((p) => existsSync(p));
}

function describe(r: CommandResult): string {
  return `${r.timedOut ? 'timed out' : `exit ${r.code}`}\n${(r.stdout + r.stderr).trim().slice(-2_000)}`;
}

/**
 * The nginx binary; installs Debian's `nginx` package with apt-get when it is
 * missing (root only). `log` receives progress lines.
 */
export async function ensureNginx(log: (line: string) => void): Promise<string> {
  const found = findNginx();
  if (found !== undefined) return found;
  const root = process.getuid?.() === 0;
  if (!root || !existsSync('/usr/bin/apt-get')) {
    throw new Error('nginx is not installed and cannot be installed here (needs root and apt-get): apt-get install -y nginx');
  }
  log('nginx is missing: installing Debian\'s nginx package with apt-get');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = await runCommand('apt-get', ['update', '-qq'], { env, timeoutMs: 240_000 });
  if (update.code !== 0) throw new Error(`apt-get update failed: ${describe(update)}`);
  const install = await runCommand('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'nginx'], { env, timeoutMs: 300_000 });
  if (install.code !== 0) throw new Error(`apt-get install nginx failed: ${describe(install)}`);
  // Where systemd runs, the package starts a system-wide nginx on port 80; ours runs privately.
  if (existsSync('/usr/bin/systemctl') || existsSync('/bin/systemctl')) {
    const active = await runCommand('systemctl', ['is-active', '--quiet', 'nginx'], { timeoutMs: 10_000 });
    if (active.code === 0) await runCommand('systemctl', ['disable', '--now', 'nginx'], { timeoutMs: 30_000 });
  }
  const installed = findNginx();
  if (installed === undefined) throw new Error(`apt-get installed nginx but none of ${NGINX_CANDIDATES.join(', ')} exists`);
  return installed;
}

export interface Nginx {
  readonly port: number;
  readonly daemon: ManagedProcess;
  /** How many requests for a cacheable path (CACHEABLE_SUFFIX) nginx has answered so far (its access log). */
  cacheableRequests(): Promise<number>;
  /**
   * How many requests nginx has received so far, of any path, not counting
   * the ones this asks (stub_status, whose counter nginx keeps anyway).
   */
  requests(): Promise<number>;
  stop(): Promise<void>;
}

/** The access log of the cacheable location, in nginx's dir. */
const CACHEABLE_LOG = 'cacheable.log';
/** nginx's request counter (stub_status), asked directly, never through ATS. */
const STATUS_PATH = '/bench-nginx-status';

function nginxConfig(dir: string, port: number): string {
  // One worker without a master process: the PID we spawn is the one serving,
  // and it leaves the second core to ATS and wrk. Nothing outside `dir` is
  // written: pid file, logs and temp paths all live there.
  const body = BACKEND_BODY.replace(/\n/g, '\\n');
  return `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  log_format cacheable '$msec $request_uri';
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 75s;
  server {
    listen 127.0.0.1:${port} reuseport backlog=4096;
    location / {
      default_type text/plain;
      return 200 "${body}";
    }
    # The cacheable object: same body, explicit freshness, every request
    # logged unbuffered (one line each) so that the ones ATS did not serve
    # from its cache can be counted.
    location ~ ${CACHEABLE_SUFFIX}$ {
      access_log ${dir}/${CACHEABLE_LOG} cacheable;
      default_type text/plain;
      add_header Cache-Control "${CACHEABLE_CACHE_CONTROL}";
      return 200 "${body}";
    }
    location = ${STATUS_PATH} {
      stub_status;
    }
  }
}
`;
}

/**
 * A private nginx on 127.0.0.1 answering every request with 200 and
 * BACKEND_BODY; cacheable (and counted) for paths ending in CACHEABLE_SUFFIX.
 */
export async function startNginx(bin: string, workDir: string): Promise<Nginx> {
  for (let attempt = 1; ; attempt++) {
    const dir = await mkdtemp(path.join(workDir, 'nginx-'));
    const port = await freePort();
    const conf = path.join(dir, 'nginx.conf');
    await writeFile(conf, nginxConfig(dir, port));
    // -e: the error log before the configuration is read (else /var/log/nginx/error.log).
    const daemon = await startDaemon('nginx', bin, ['-p', `${dir}/`, '-e', `${dir}/error.log`, '-c', conf], {
      cwd: dir,
      logFile: path.join(dir, 'stdout.log'),
    });
    try {
      await waitForPort(daemon, port);
      const stop = async (): Promise<void> => {
        await daemon.stop();
      };
      const cacheableRequests = async (): Promise<number> => {
        // nginx opens the log when it starts: absent is an error.
        const text = await readFile(path.join(dir, CACHEABLE_LOG), 'utf8');
        let n = 0;
        for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
        return n;
      };
      let statusReads = 0;
      const requests = async (): Promise<number> => {
        const r = await httpRequest({ port, path: STATUS_PATH, fresh: true, timeoutMs: 3_000 });
        // "Active connections: 1\nserver accepts handled requests\n 1 1 1\n..."; the count includes this request.
        const m = /accepts handled requests\s+\d+\s+\d+\s+(\d+)/.exec(r.body);
        if (r.status !== 200 || m === null) throw new Error(`nginx ${STATUS_PATH}: ${r.status} ${JSON.stringify(r.body.slice(0, 200))}`);
        statusReads++;
        return Number(m[1]) - statusReads;
      };
      return { port, daemon, cacheableRequests, requests, stop };
    } catch (err) {
      await daemon.stop();
      const log = await readFile(path.join(dir, 'error.log'), 'utf8').catch(() => '');
      if (attempt < 3 && /Address already in use/.test(log)) continue;
      throw new Error(`${(err as Error).message}\n${log.slice(-2_000)}`);
    }
  }
}

// ---------------------------------------------------------------------------
// redis-server: the store of the design we replace

export interface Redis {
  readonly port: number;
  readonly daemon: ManagedProcess;
  stop(): Promise<void>;
}

/** A private redis-server on 127.0.0.1 with no persistence at all, with `databases` databases. */
export async function startRedis(workDir: string, databases = 16): Promise<Redis> {
  for (let attempt = 1; ; attempt++) {
    const dir = await mkdtemp(path.join(workDir, 'redis-'));
    const port = await freePort();
    const args = [
      '--bind', '127.0.0.1',
      '--port', String(port),
      '--save', '',
      '--appendonly', 'no',
      '--dir', dir,
      '--daemonize', 'no',
      '--logfile', '',
      '--databases', String(databases),
      '--maxclients', '4096',
    ];
    const daemon = await startDaemon('redis-server', '/usr/bin/redis-server', args, { cwd: dir, logFile: path.join(dir, 'redis.log') });
    try {
      await waitForPort(daemon, port);
      const stop = async (): Promise<void> => {
        await daemon.stop();
      };
      return { port, daemon, stop };
    } catch (err) {
      await daemon.stop();
      if (attempt < 3 && /Address already in use/.test(daemon.logTail())) continue;
      throw err;
    }
  }
}

function resp(args: string[]): string {
  let s = `*${args.length}\r\n`;
  for (const a of args) s += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
  return s;
}

/**
 * Sends `commands` pipelined on one connection and returns their replies.
 * Only for commands with one-line replies (+OK, :n, -ERR): SELECT, SADD,
 * DBSIZE, FLUSHDB.
 */
export async function redisPipeline(port: number, commands: string[][], timeoutMs = 60_000): Promise<string[]> {
  const payload = commands.map(resp).join('');
  return await new Promise<string[]>((resolve, reject) => {
    const replies: string[] = [];
    let buffered = '';
    const socket = net.connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`redis on port ${port}: ${replies.length} of ${commands.length} replies within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(payload));
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      let from = 0;
      let nl: number;
      while ((nl = buffered.indexOf('\r\n', from)) >= 0) {
        replies.push(buffered.slice(from, nl));
        from = nl + 2;
      }
      buffered = buffered.slice(from);
      if (replies.length >= commands.length) {
        clearTimeout(timer);
        socket.end();
        resolve(replies);
      }
    });
    socket.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`redis on port ${port}: ${e.message}`));
    });
  });
}

/**
 * How many times redis-server has run each command so far (INFO
 * commandstats, lower-case names: `select`, `smembers`), so that the
 * benchmark can report the commands each request cost.
 */
export async function redisCommandCalls(port: number, timeoutMs = 5_000): Promise<Map<string, number>> {
  const text = await new Promise<string>((resolve, reject) => {
    let buffered = '';
    const socket = net.connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`redis on port ${port}: no INFO reply within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(resp(['INFO', 'commandstats'])));
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      // A bulk reply: $<bytes>\r\n<bytes>\r\n (the text is ASCII).
      const m = /^\$(\d+)\r\n/.exec(buffered);
      if (m === null) {
        if (buffered.includes('\r\n')) {
          clearTimeout(timer);
          socket.destroy();
          reject(new Error(`redis on port ${port}: INFO answered ${JSON.stringify(buffered.slice(0, 200))}`));
        }
        return;
      }
      const start = (m[0] as string).length;
      const length = Number(m[1]);
      if (buffered.length < start + length) return;
      clearTimeout(timer);
      socket.end();
      resolve(buffered.slice(start, start + length));
    });
    socket.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`redis on port ${port}: ${e.message}`));
    });
  });
  const calls = new Map<string, number>();
  for (const m of text.matchAll(/^cmdstat_([a-z|_-]+):calls=(\d+)/gm)) calls.set(m[1] as string, Number(m[2]));
  return calls;
}

/** A temp dir for one run; removed by the returned function. */
export async function makeWorkDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ats-ingress-proxy-bench-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * CPU time (ns) that process `pid` has used so far, all threads: the sum of
 * /proc/PID/task/TID/schedstat. Undefined when it cannot be read.
 */
export function cpuNs(pid: number): number | undefined {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return undefined;
  }
  let total = 0;
  for (const tid of tasks) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // A thread that ended between the listing and the read.
    }
  }
  return Number.isFinite(total) ? total : undefined;
}
