// The one process library of the test harness, the benchmarks and the demo.
//
// Every child runs in a process group of its own (spawned detached, which is
// setsid), and is ended through that group only: by the PID this module
// started, never by a name. Everything is bounded in time.
//
// - runCommand: a command run to completion; its time bound kills its whole
//   group; stdout and stderr are collected.
// - ManagedProcess: a long-running child: its output (a bounded tail in
//   memory, or appended to a file), its exit, stop() (SIGTERM, then SIGKILL
//   after a grace) and kill() (SIGKILL), both of which wait until no member
//   of its group is left.
// - Each ManagedProcess has a watchdog, a small detached shell that kills the
//   group if this process dies without stopping it (SIGKILL, a crash); and one
//   'exit' hook kills every group still owned on an ordinary exit, then runs
//   the clean-ups registered with atExit() (removing temp dirs, ...).
//
// Children are unref'd: a test that forgets to stop one still lets Node exit
// (the 'exit' hook then kills it). Every wait here runs a timer, so an awaited
// stop() keeps Node alive until it is done.

import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Readable, Writable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';

import { readTail, tailLines } from './log-files.js';

const DEFAULT_COMMAND_TIMEOUT_MS = 20_000;
/** After a command exits (or is killed), how long its pipes may take to close. */
const COMMAND_CLOSE_WAIT_MS = 2_000;
const DEFAULT_GRACE_MS = 10_000;
/** How long a group may take to disappear after SIGKILL. */
const KILL_WAIT_MS = 5_000;
/** The 'exit' hook waits this long (synchronously) for killed groups to go before running clean-ups. */
const EXIT_WAIT_MS = 2_000;
const POLL_MS = 20;
const DEFAULT_TAIL_CHARS = 256 * 1024;
/** logTail() reads at most this much of a log file. */
const TAIL_READ_BYTES = 64 * 1024;

export interface ExitStatus {
  /** Exit code; null when ended by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
}

// ---------------------------------------------------------------------------
// Process groups

/** Signals every process of group `pgid`; quiet when the group is gone. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is gone already.
  }
}

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

/** Polls `cond` until it holds (true) or `timeoutMs` passes (false). */
async function waitFor(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (cond()) return true;
    if (performance.now() >= deadline) return false;
    await delay(POLL_MS);
  }
}

/** Spawns `cmd` as the leader of a new process group (and session). */
export function spawnGroup(
  cmd: string,
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; stdio: StdioOptions },
): ChildProcess {
  return spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, detached: true, stdio: opts.stdio });
}

// ---------------------------------------------------------------------------
// What this process owns: killed by the 'exit' hook, watched by watchdogs

interface OwnedGroup {
  readonly pgid: number;
  watchdog: ChildProcess | undefined;
}

const owned = new Set<OwnedGroup>();
const exitCleanups = new Set<() => void>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    // Synchronous: nothing asynchronous runs once 'exit' is emitted.
    for (const g of owned) {
      signalGroup(g.pgid, 'SIGKILL');
      stopWatchdog(g.watchdog);
    }
    const pause = new Int32Array(new SharedArrayBuffer(4));
    const deadline = performance.now() + EXIT_WAIT_MS;
    for (const g of owned) {
      while (liveGroupMembers(g.pgid).length > 0 && performance.now() < deadline) Atomics.wait(pause, 0, 0, POLL_MS);
    }
    owned.clear();
    for (const cleanup of exitCleanups) {
      try {
        cleanup();
      } catch {
        // Nothing more can be done at exit.
      }
    }
  });
}

function own(pgid: number, watchdog: ChildProcess | undefined): OwnedGroup {
  installExitHook();
  const g: OwnedGroup = { pgid, watchdog };
  owned.add(g);
  return g;
}

function disown(g: OwnedGroup): void {
  owned.delete(g);
  stopWatchdog(g.watchdog);
  g.watchdog = undefined;
}

/**
 * Runs `fn` (synchronously) when this process exits, after the 'exit' hook
 * killed the groups still owned. Returns the function that unregisters it.
 */
export function atExit(fn: () => void): () => void {
  installExitHook();
  exitCleanups.add(fn);
  return () => {
    exitCleanups.delete(fn);
  };
}

// The watchdog: polls this process; once it is gone, kills the group (unless
// the group went first: then its number may be another's) and removes `dir`.
// dash's kill takes a negative PID as a group only without '--'.
const WATCHDOG_SCRIPT = [
  'parent=$1; pgid=$2; dir=$3; alive=1',
  'while kill -0 "$parent" 2>/dev/null; do',
  '  if [ "$alive" = 1 ] && ! kill -0 "-$pgid" 2>/dev/null; then alive=0; [ -n "$dir" ] || exit 0; fi',
  '  sleep 0.5',
  'done',
  '[ "$alive" = 1 ] && kill -KILL "-$pgid" 2>/dev/null',
  'if [ -n "$dir" ]; then sleep 1; rm -rf -- "$dir"; fi',
  'exit 0',
].join('\n');

function startWatchdog(pgid: number, removeDir: string | undefined): ChildProcess {
  const child = spawnGroup('/bin/sh', ['-c', WATCHDOG_SCRIPT, 'ats-ingress-watchdog', String(process.pid), String(pgid), removeDir ?? ''], {
    stdio: 'ignore',
  });
  child.on('error', () => {
    // Best effort: the 'exit' hook still covers an ordinary exit.
  });
  child.unref();
  return child;
}

function stopWatchdog(child: ChildProcess | undefined): void {
  if (child?.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
}

// ---------------------------------------------------------------------------
// Bounded commands

export interface CommandOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Default 20 s; then the whole group is killed. */
  timeoutMs?: number;
  /** Written to the command's stdin (default: stdin is /dev/null). */
  input?: string;
  /** 'inherit': the command's stderr goes to ours (progress of a long build); default collected. */
  stderr?: 'pipe' | 'inherit';
}

export interface CommandResult {
  /** Exit code; null when killed by a signal or not started. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** Set when the command could not be started at all. */
  spawnError?: string;
}

/**
 * Runs a command in its own process group with a bound; on timeout the whole
 * group is killed. Anything left in the group when the command exits is
 * killed too. Never rejects: a failure to start is in `spawnError`.
 */
export async function runCommand(cmd: string, args: readonly string[], opts: CommandOptions = {}): Promise<CommandResult> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const child = spawnGroup(cmd, args, {
    env: opts.env,
    cwd: opts.cwd,
    stdio: [opts.input !== undefined ? 'pipe' : 'ignore', 'pipe', opts.stderr ?? 'pipe'],
  });
  const group = child.pid !== undefined ? own(child.pid, undefined) : undefined;
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on('data', (c: Buffer) => out.push(c));
  child.stderr?.on('data', (c: Buffer) => err.push(c));
  if (child.stdin) {
    child.stdin.on('error', () => {
      // The command may exit without reading its input.
    });
    child.stdin.end(opts.input);
  }

  return await new Promise<CommandResult>((resolve) => {
    let timedOut = false;
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const killGroup = (): void => {
      if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
    };
    const finish = (code: number | null, signal: NodeJS.Signals | null, extra = '', spawnError?: string): void => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      if (child.pid !== undefined && liveGroupMembers(child.pid).length > 0) killGroup();
      if (group) disown(group);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8') + extra,
        timedOut,
        ...(spawnError !== undefined ? { spawnError } : {}),
      });
    };
    timers.push(
      setTimeout(() => {
        timedOut = true;
        killGroup();
        timers.push(setTimeout(() => finish(null, 'SIGKILL', `\n[harness] ${cmd} timed out after ${timeoutMs} ms`), COMMAND_CLOSE_WAIT_MS));
      }, timeoutMs),
    );
    child.once('error', (e) => finish(null, null, `\n[harness] cannot run ${cmd}: ${e.message}`, e.message));
    child.once('exit', (code, signal) => {
      // Leftovers in the group would hold the pipes open: kill them, then give 'close' a moment.
      if (child.pid !== undefined && liveGroupMembers(child.pid).length > 0) killGroup();
      timers.push(setTimeout(() => finish(code, signal), COMMAND_CLOSE_WAIT_MS));
    });
    child.once('close', (code, signal) => finish(code, signal));
  });
}

// ---------------------------------------------------------------------------
// Long-running processes

export interface ManagedProcessOptions {
  /** A name for messages (default: the command's base name). */
  name?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /**
   * stdout and stderr: 'memory' (default) keeps their last `tailChars` in
   * memory; `{ file }` appends both to that file (after a header line);
   * 'ignore' discards them (for a process that writes its own logs).
   */
  output?: 'memory' | 'ignore' | { file: string };
  /** Bound on the output kept in memory (default 256 KiB). */
  tailChars?: number;
  /** A pipe to its stdin (`stdin`); default /dev/null. */
  stdin?: boolean;
  /** stop(): the time between SIGTERM and SIGKILL (default 10 s). */
  graceMs?: number;
  /** The watchdog removes this dir after killing the group, if this process died without stopping it. */
  removeDirOnDeath?: string;
}

/** A long-running child in its own process group. Start with ManagedProcess.start(). */
export class ManagedProcess {
  readonly name: string;
  /** Its PID, which is also its process group's id. */
  readonly pid: number;
  /** The pipe to its stdin when started with `stdin: true`. */
  readonly stdin: Writable | undefined;
  /** Resolves with how the process ended; never rejects. Await it beside a timer (it does not keep Node alive). */
  readonly exited: Promise<ExitStatus>;

  readonly #child: ChildProcess;
  readonly #output: ManagedProcessOptions['output'];
  readonly #tailChars: number;
  readonly #graceMs: number;
  readonly #group: OwnedGroup;
  #exitStatus: ExitStatus | undefined;
  #text = '';
  readonly #waiters = new Set<() => void>();

  private constructor(child: ChildProcess, pid: number, name: string, opts: ManagedProcessOptions) {
    this.#child = child;
    this.pid = pid;
    this.name = name;
    this.#output = opts.output ?? 'memory';
    this.#tailChars = opts.tailChars ?? DEFAULT_TAIL_CHARS;
    this.#graceMs = opts.graceMs ?? DEFAULT_GRACE_MS;
    this.stdin = child.stdin ?? undefined;
    this.stdin?.on('error', () => {
      // It may exit without reading.
    });
    this.#group = own(pid, startWatchdog(pid, opts.removeDirOnDeath));
    for (const stream of [child.stdout, child.stderr]) this.#capture(stream);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.#exitStatus = { code, signal };
        // Nothing left of the group: nothing left to watch.
        if (liveGroupMembers(pid).length === 0) disown(this.#group);
        for (const w of this.#waiters) w();
        resolve(this.#exitStatus);
      });
    });
    child.on('error', () => {
      // After a successful spawn: reported through the exit and the caller's readiness checks.
    });
    child.unref();
    for (const s of [child.stdin, child.stdout, child.stderr]) (s as unknown as { unref?: () => void } | null)?.unref?.();
  }

  /** Spawns `cmd args` in a new process group; rejects when it cannot start. */
  static async start(cmd: string, args: readonly string[], opts: ManagedProcessOptions = {}): Promise<ManagedProcess> {
    const name = opts.name ?? path.basename(cmd);
    const output = opts.output ?? 'memory';
    let fd: number | undefined;
    if (typeof output === 'object') {
      fd = openSync(output.file, 'a');
      writeSync(fd, `\n==== ${new Date().toISOString()} ${cmd} ${args.join(' ')}\n`);
    }
    let child: ChildProcess;
    try {
      const out = fd ?? (output === 'ignore' ? 'ignore' : 'pipe');
      child = spawnGroup(cmd, args, { env: opts.env, cwd: opts.cwd, stdio: [opts.stdin ? 'pipe' : 'ignore', out, out] });
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    const error = await new Promise<Error | undefined>((resolve) => {
      child.once('spawn', () => resolve(undefined));
      child.once('error', (e) => resolve(e));
    });
    if (error !== undefined || child.pid === undefined) throw new Error(`cannot start ${name} (${cmd}): ${error?.message ?? 'no pid'}`);
    return new ManagedProcess(child, child.pid, name, opts);
  }

  #capture(stream: Readable | null): void {
    stream?.on('data', (d: Buffer) => {
      this.#text += d.toString('utf8');
      if (this.#text.length > 2 * this.#tailChars) this.#text = this.#text.slice(-this.#tailChars);
      for (const w of this.#waiters) w();
    });
  }

  /** Whether the process it started (the group's leader) still runs. */
  get running(): boolean {
    return this.#exitStatus === undefined;
  }

  /** How it ended; undefined while it runs. */
  get exitStatus(): ExitStatus | undefined {
    return this.#exitStatus;
  }

  /** "name (pid N) is running" or how it exited, for messages. */
  describeExit(): string {
    const s = this.#exitStatus;
    if (s === undefined) return `${this.name} (pid ${this.pid}) is running`;
    return `${this.name} (pid ${this.pid}) ${s.signal !== null ? `was killed by ${s.signal}` : `exited with code ${s.code}`}`;
  }

  /** The last `chars` characters of its output kept in memory (output 'memory'). */
  output(chars = this.#tailChars): string {
    return this.#text.length > chars ? '…' + this.#text.slice(-chars) : this.#text;
  }

  /** The last `lines` lines of its output (memory or file), under a header, for error messages. */
  logTail(lines = 40): string {
    const out = this.#output;
    if (out === 'ignore') return `--- ${this.name}: output not captured ---`;
    const text = typeof out === 'object' ? readTail(out.file, TAIL_READ_BYTES) : this.#text;
    const where = typeof out === 'object' ? out.file : 'its output';
    return `--- last lines of ${where} ---\n${text.trim() === '' ? '(empty)' : tailLines(text, lines)}`;
  }

  /** Resolves with the first match of `pattern` in its output (memory); rejects when it exits first or time runs out. */
  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(check);
      };
      const check = (): void => {
        const m = pattern.exec(this.#text);
        if (m !== null) {
          done();
          resolve(m);
        } else if (this.#exitStatus !== undefined) {
          done();
          reject(new Error(`${this.describeExit()} before its output matched ${pattern}\n${this.logTail()}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.name} (pid ${this.pid}): no output matching ${pattern} within ${timeoutMs} ms\n${this.logTail()}`));
      }, timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }

  /** PIDs of the live members of its process group. */
  groupMembers(): number[] {
    return liveGroupMembers(this.pid);
  }

  /**
   * SIGTERM to the group, SIGKILL after `graceMs` (default: the start
   * option); resolves once the leader has exited and no member of the group is
   * left; rejects if some are still there after SIGKILL. Idempotent.
   */
  stop(graceMs = this.#graceMs): Promise<ExitStatus> {
    return this.#end('SIGTERM', graceMs);
  }

  /** SIGKILL to the group; resolves once no member of it is left. */
  kill(): Promise<ExitStatus> {
    return this.#end('SIGKILL', KILL_WAIT_MS);
  }

  async #end(first: 'SIGTERM' | 'SIGKILL', waitMs: number): Promise<ExitStatus> {
    const gone = (): boolean => this.#exitStatus !== undefined && liveGroupMembers(this.pid).length === 0;
    if (!gone()) {
      signalGroup(this.pid, first);
      if (!(await waitFor(gone, waitMs))) {
        signalGroup(this.pid, 'SIGKILL');
        if (!(await waitFor(gone, KILL_WAIT_MS))) {
          const left = this.#exitStatus === undefined ? `${this.pid} (the leader)` : liveGroupMembers(this.pid).join(', ');
          throw new Error(`${this.name}: process group ${this.pid} still has live processes after SIGKILL: ${left}`);
        }
      }
    }
    disown(this.#group);
    return this.#exitStatus as ExitStatus;
  }
}
