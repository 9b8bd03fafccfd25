// Runs wrk once, bounded in time, and reads the JSON line that
// wrk-report.lua prints at the end.

import { runCommand } from '../../test/harness/processes.js';

export interface WrkOptions {
  /** Script printing the WRK_JSON line (wrk-report.lua). */
  script: string;
  url: string;
  /** Host header. */
  host: string;
  seconds: number;
  threads: number;
  connections: number;
}

export interface WrkResult {
  requests: number;
  /** Requests per second over the measured duration. */
  rps: number;
  /** Latency percentiles in milliseconds. */
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Answers that were not 2xx or 3xx. */
  statusErrors: number;
  /** Connect, read, write errors and timeouts. */
  socketErrors: number;
}

interface WrkJson {
  requests: number;
  durationUs: number;
  bytes: number;
  connectErrors: number;
  readErrors: number;
  writeErrors: number;
  statusErrors: number;
  timeouts: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  maxUs: number;
  meanUs: number;
}

export function wrkArgs(o: WrkOptions): string[] {
  return [
    `-t${o.threads}`,
    `-c${o.connections}`,
    `-d${o.seconds}s`,
    '--timeout', '5s',
    '-s', o.script,
    '-H', `Host: ${o.host}`,
    o.url,
  ];
}

/** The wrk command line as a person would type it (for the report). */
export function wrkCommandLine(o: WrkOptions): string {
  return ['wrk', ...wrkArgs(o)].map((a) => (/[\s:]/.test(a) && !a.startsWith('http') ? `'${a}'` : a)).join(' ');
}

export async function runWrk(o: WrkOptions): Promise<WrkResult> {
  const r = await runCommand('wrk', wrkArgs(o), { timeoutMs: (o.seconds + 30) * 1000 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('WRK_JSON '));
  if (r.code !== 0 || line === undefined) {
    throw new Error(
      `wrk ${r.timedOut ? 'timed out' : `exited ${r.signal ?? r.code}`} without a report:\n${(r.stdout + r.stderr).trim().slice(-2_000)}`,
    );
  }
  const j = JSON.parse(line.slice('WRK_JSON '.length)) as WrkJson;
  const seconds = j.durationUs / 1e6;
  return {
    requests: j.requests,
    rps: seconds > 0 ? j.requests / seconds : 0,
    p50Ms: j.p50Us / 1000,
    p90Ms: j.p90Us / 1000,
    p99Ms: j.p99Us / 1000,
    maxMs: j.maxUs / 1000,
    statusErrors: j.statusErrors,
    socketErrors: j.connectErrors + j.readErrors + j.writeErrors + j.timeouts,
  };
}
