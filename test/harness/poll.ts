// Polling with a deadline, for tests that wait for something to go live.

import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';

export interface Polled<T> {
  value: T;
  ms: number;
  tries: number;
}

/**
 * Calls `fn` until `ok` holds or `timeoutMs` passes; fails with the last value
 * then (and what `context` says, e.g. a process's log). Errors from `fn`
 * count as "not yet" until the deadline.
 */
export async function pollUntil<T>(
  what: string,
  fn: () => Promise<T>,
  ok: (v: T) => boolean,
  opts: { timeoutMs?: number; intervalMs?: number; context?: () => string } = {},
): Promise<Polled<T>> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const intervalMs = opts.intervalMs ?? 10;
  const t0 = performance.now();
  let tries = 0;
  let last: string = '(nothing yet)';
  for (;;) {
    tries++;
    try {
      const value = await fn();
      if (ok(value)) return { value, ms: performance.now() - t0, tries };
      last = typeof value === 'string' ? value : JSON.stringify(value);
    } catch (err) {
      last = `error: ${(err as Error).message}`;
    }
    if (performance.now() - t0 > timeoutMs) {
      const more = opts.context ? `\n${opts.context()}` : '';
      assert.fail(`${what}: not within ${timeoutMs} ms (${tries} tries); last: ${last.slice(0, 600)}${more}`);
    }
    await delay(intervalMs);
  }
}
