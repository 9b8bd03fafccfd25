// A bounded, fixed-rate load generator for the soak tests: requests through
// ATS at a set rate, each on a new connection, each answer classified (its
// status, or the kind of error: connection refused, reset, timeout, other)
// and, for a 200, the pod and service named in the backend's echo.
//
// It runs in a worker thread (load-worker.ts) so that what the test does
// meanwhile (kubectl, restarts, polls) never delays a request or shows up as
// a stall. It is bounded three ways: a rate, a cap on requests in flight
// (a send that finds the cap reached is counted as skipped, not queued), and
// a time and request-count limit after which the worker stops by itself.
//
// wrk is not used: it gives no per-request error classes, no per-answer
// body, and no fixed rate.

import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';

export interface LoadTarget {
  /** A short name for reports. */
  name: string;
  host: string;
  path: string;
  /** https with SNI = host, verified against `ca`. */
  tls?: boolean;
  ca?: string;
  /** Relative share of the requests (default 1). */
  weight?: number;
}

export interface LoadConfig {
  httpPort: number;
  httpsPort?: number;
  /** Requests per second in all. */
  rate: number;
  targets: LoadTarget[];
  /** Per request (default 5 s): then it counts as a timeout. */
  timeoutMs?: number;
  /** At most this many in flight (default 64). */
  maxInFlight?: number;
  /** The worker stops by itself after this long. */
  maxSeconds: number;
  /** ... or after this many sends. */
  maxRequests: number;
}

export type Outcome = 'ok' | 'status' | 'refused' | 'reset' | 'timeout' | 'other';

/** One request. Times are epoch milliseconds (performance.timeOrigin + now), comparable across threads. */
export interface Sample {
  /** Sent. */
  s: number;
  /** Answered or failed. */
  e: number;
  /** Index into targets. */
  t: number;
  k: Outcome;
  /** HTTP status (0 when there was none). */
  st: number;
  /** For a backend's 200: the pod and service of the echo. */
  pod?: string;
  svc?: string;
  /** For 'other' and 'status': a short description. */
  msg?: string;
}

export interface LoadResult {
  config: LoadConfig;
  samples: Sample[];
  sent: number;
  /** Sends not made because maxInFlight requests were in flight. */
  skipped: number;
  startedAt: number;
  endedAt: number;
}

/** Epoch milliseconds with sub-millisecond resolution; the same clock as Sample times. */
export const clock = (): number => performance.timeOrigin + performance.now();

export interface LoadRun {
  /** Samples received so far (they arrive in batches every ~100 ms). */
  readonly samples: readonly Sample[];
  /** Asks the worker to stop sending, waits for what is in flight, and returns everything. */
  stop(): Promise<LoadResult>;
}

interface DoneMessage {
  type: 'done';
  sent: number;
  skipped: number;
  startedAt: number;
  endedAt: number;
}
type WorkerMessage = { type: 'samples'; samples: Sample[] } | DoneMessage;

export async function startLoad(config: LoadConfig): Promise<LoadRun> {
  const worker = new Worker(new URL('./load-worker.js', import.meta.url), { workerData: config });
  const samples: Sample[] = [];
  let done: DoneMessage | undefined;
  let failure: Error | undefined;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  worker.on('message', (m: WorkerMessage) => {
    if (m.type === 'samples') samples.push(...m.samples);
    else done = m;
  });
  worker.on('error', (err) => {
    failure = err;
  });
  await new Promise<void>((resolve, reject) => {
    worker.once('online', () => resolve());
    worker.once('error', reject);
  });
  let stopped: Promise<LoadResult> | undefined;
  return {
    samples,
    stop() {
      stopped ??= (async () => {
        worker.postMessage('stop');
        // In flight requests end within their timeout; the worker then exits.
        const bound = (config.timeoutMs ?? 5_000) + 10_000;
        const t0 = performance.now();
        await Promise.race([exited, delay(bound)]);
        if (performance.now() - t0 >= bound) {
          await worker.terminate();
          throw new Error(`load worker did not stop within ${bound} ms`);
        }
        if (failure) throw failure;
        if (!done) throw new Error('load worker exited without its final report');
        samples.sort((a, b) => a.s - b.s);
        return { config, samples, sent: done.sent, skipped: done.skipped, startedAt: done.startedAt, endedAt: done.endedAt };
      })();
      return stopped;
    },
  };
}

// ---------------------------------------------------------------------------
// What a run says

export interface Window {
  name: string;
  from: number;
  to: number;
}

/** Counts by a key, sorted by key, for printing. */
export function countBy<T>(items: readonly T[], key: (x: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of items) out[key(x)] = (out[key(x)] ?? 0) + 1;
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** The longest time without a successful answer between `from` and `to` (also counting the edges), and where it was. */
export function longestStall(samples: readonly Sample[], from: number, to: number): { ms: number; at: number } {
  const ends = samples.filter((x) => x.k === 'ok' && x.e >= from && x.e <= to).map((x) => x.e).sort((a, b) => a - b);
  let best = { ms: 0, at: from };
  let prev = from;
  for (const t of [...ends, to]) {
    if (t - prev > best.ms) best = { ms: t - prev, at: prev };
    prev = t;
  }
  return best;
}

/** The window a time falls in, if any. */
export function windowOf(windows: readonly Window[], t: number): Window | undefined {
  return windows.find((w) => t >= w.from && t <= w.to);
}

/** "k=v k=v" for a count record. */
export function formatCounts(c: Record<string, number>): string {
  const parts = Object.entries(c).map(([k, v]) => `${k} ${v}`);
  return parts.length ? parts.join(', ') : 'none';
}
