// The worker thread of load.ts: sends requests at a fixed rate, each on a new
// connection, and posts what came back in batches. Stops when told, after
// maxSeconds, or after maxRequests sends; then waits for what is in flight
// (each bounded by its timeout) and posts a final report.

import http from 'node:http';
import https from 'node:https';
import { parentPort, workerData } from 'node:worker_threads';

import { clock, type LoadConfig, type Outcome, type Sample } from './load.js';

const config = workerData as LoadConfig;
const port = parentPort!;
const timeoutMs = config.timeoutMs ?? 5_000;
const maxInFlight = config.maxInFlight ?? 64;
const TICK_MS = 5;
const BATCH_MS = 100;

// Targets by weight, interleaved: index i of the sequence picks order[i % length].
const order: number[] = [];
config.targets.forEach((t, i) => {
  for (let w = 0; w < (t.weight ?? 1); w++) order.push(i);
});
// Spread each target's turns over the cycle rather than in runs.
order.sort((a, b) => a - b);
const cycle: number[] = [];
{
  const queues = config.targets.map((_, i) => order.filter((x) => x === i));
  while (queues.some((q) => q.length)) for (const q of queues) if (q.length) cycle.push(q.shift()!);
}

let batch: Sample[] = [];
let sent = 0;
let skipped = 0;
let inFlight = 0;
let stopping = false;
const startedAt = clock();

port.on('message', (m) => {
  if (m === 'stop') stopping = true;
});

function classify(err: NodeJS.ErrnoException): { k: Outcome; msg?: string } {
  const code = err.code ?? '';
  if (code === 'ECONNREFUSED') return { k: 'refused' };
  if (code === 'ECONNRESET' || code === 'EPIPE') return { k: 'reset' };
  if (code === 'ABORT_ERR' || err.name === 'AbortError' || err.name === 'TimeoutError') return { k: 'timeout' };
  return { k: 'other', msg: `${code || err.name}: ${err.message}`.slice(0, 200) };
}

function send(ti: number): void {
  const target = config.targets[ti]!;
  const s = clock();
  inFlight++;
  let settled = false;
  const finish = (x: Omit<Sample, 's' | 'e' | 't'>): void => {
    if (settled) return;
    settled = true;
    inFlight--;
    batch.push({ s, e: clock(), t: ti, ...x });
  };
  const options: https.RequestOptions = {
    host: '127.0.0.1',
    port: target.tls ? config.httpsPort : config.httpPort,
    path: target.path,
    headers: { host: target.host },
    agent: false,
    signal: AbortSignal.timeout(timeoutMs),
    ...(target.tls ? { servername: target.host, ca: target.ca, rejectUnauthorized: true } : {}),
  };
  const onResponse = (res: http.IncomingMessage): void => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('error', (err: NodeJS.ErrnoException) => finish({ ...classify(err), st: res.statusCode ?? 0 }));
    res.on('end', () => {
      const st = res.statusCode ?? 0;
      const body = Buffer.concat(chunks).toString('utf8');
      if (st !== 200) {
        finish({ k: 'status', st, msg: body.slice(0, 120) });
        return;
      }
      try {
        const echo = JSON.parse(body) as { pod?: unknown; service?: unknown };
        if (typeof echo.pod !== 'string' || typeof echo.service !== 'string') throw new Error('no pod');
        finish({ k: 'ok', st, pod: echo.pod, svc: echo.service });
      } catch {
        finish({ k: 'status', st, msg: `200 that is not a backend's echo: ${body.slice(0, 100)}` });
      }
    });
  };
  const req = target.tls ? https.request(options, onResponse) : http.request(options, onResponse);
  req.on('error', (err: NodeJS.ErrnoException) => finish({ ...classify(err), st: 0 }));
  req.end();
}

const flush = (): void => {
  if (batch.length === 0) return;
  port.postMessage({ type: 'samples', samples: batch });
  batch = [];
};

const ticker = setInterval(() => {
  const elapsed = clock() - startedAt;
  if (stopping || elapsed > config.maxSeconds * 1000 || sent + skipped >= config.maxRequests) {
    stopping = true;
    clearInterval(ticker);
    const waitEnd = setInterval(() => {
      if (inFlight > 0) return;
      clearInterval(waitEnd);
      clearInterval(flusher);
      flush();
      port.postMessage({ type: 'done', sent, skipped, startedAt, endedAt: clock() });
      port.close();
    }, TICK_MS);
    return;
  }
  const due = Math.min(config.maxRequests, Math.floor((elapsed / 1000) * config.rate)) - sent - skipped;
  for (let i = 0; i < due; i++) {
    const ti = cycle[(sent + skipped) % cycle.length]!;
    if (inFlight >= maxInFlight) {
      skipped++;
      continue;
    }
    sent++;
    send(ti);
  }
}, TICK_MS);
const flusher = setInterval(flush, BATCH_MS);
