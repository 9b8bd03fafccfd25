import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { buildConfig } from '../config/config.js';
import { ingress, ingressClass, prefix, service, slice } from '../testing/fixtures.js';
import type { BuildResult } from '../model/model.js';
import { ObjectCache } from '../cache/object-cache.js';
import { silentLogger } from '../observe/logger.js';
import { controllerMetrics } from '../observe/metrics.js';
import { ControllerLoop } from './loop.js';

/** A loop whose only publisher records every build. */
function countingLoop(options: { holdMs?: number; coalesceMs?: number; startPaused?: boolean; maxBuildShare?: number; buildBurstMs?: number; publishMs?: number }) {
  const builds: BuildResult[] = [];
  const cycles: Array<{ start: number; end: number }> = [];
  const { publishMs, ...loopOptions } = options;
  const config = buildConfig();
  const metrics = controllerMetrics();
  const loop = new ControllerLoop({
    cache: new ObjectCache(config),
    config,
    logger: silentLogger,
    metrics,
    ...loopOptions,
    publishers: [
      {
        name: 'count',
        publish: async (r) => {
          const start = Date.now();
          builds.push(r);
          // A publisher as slow as a big table's: the cycle's cost.
          if (publishMs) await delay(publishMs);
          cycles.push({ start, end: Date.now() });
        },
      },
    ],
  });
  return { loop, builds, cycles, metrics };
}

/** The count and sum (s) of a histogram's observations. */
async function observed(h: ReturnType<typeof controllerMetrics>['buildWaitSeconds']): Promise<{ count: number; sum: number }> {
  const values = (await h.get()).values;
  const of = (suffix: string) => values.find((v) => v.metricName?.endsWith(suffix))?.value ?? 0;
  return { count: of('_count'), sum: of('_sum') };
}

/** The same, already holding one Ingress of ours and its Service. */
function loopWithCounter(holdMs: number, coalesceMs: number) {
  const counting = countingLoop({ holdMs, coalesceMs });
  counting.loop.apply([
    { type: 'upsert', object: ingressClass('ats').build() },
    { type: 'upsert', object: ingress('ns/web').className('ats').rule('a.com', prefix('/', 'web', 80)).build() },
    { type: 'upsert', object: service('ns/web').port('http', 80, 8080).build() },
  ]);
  return counting;
}

describe('the loop batches changes', () => {
  it('starts a second build only once the hold since the first has passed', async () => {
    const { loop, builds, metrics } = loopWithCounter(1000, 5);
    await loop.idle();
    assert.equal(builds.length, 1);
    const first = await observed(metrics.buildWaitSeconds);
    assert.equal(first.count, 1, 'the first build took in the first changes');
    assert.ok(first.sum >= 0.004 && first.sum < 0.9, `the first build waited ${first.sum} s: the coalescing (5 ms), not the hold`);
    const t0 = Date.now();
    loop.apply([{ type: 'upsert', object: slice('ns/web').port('http', 8080).ready('10.0.0.1').build() }]);
    // The hold (1 s) limits how often builds start, and the first build was
    // long ago enough only if we wait; here it was just now, so this waits.
    await loop.idle();
    assert.equal(builds.length, 2);
    assert.ok(Date.now() - t0 >= 800, 'a second build within the hold period waits for it');
    // And the metric says so: the wait is the change's, from its arrival.
    const second = await observed(metrics.buildWaitSeconds);
    assert.equal(second.count, 2);
    assert.ok(second.sum - first.sum >= 0.8, `the second build waited ${second.sum - first.sum} s`);
  });

  it('builds a change after a quiet spell without waiting for the hold', async () => {
    // No build yet, so the spell is as long as can be. A 20 s hold would
    // show as a 20 s wait; the bound leaves room for any slow machine.
    const { loop, builds } = loopWithCounter(20_000, 5);
    const t0 = Date.now();
    await loop.idle();
    assert.equal(builds.length, 1);
    assert.ok(Date.now() - t0 < 10_000, `built ${Date.now() - t0} ms after the change`);
  });

  it('batches churn to at most one build per hold, the last one seeing the last change', async () => {
    const { loop, builds } = loopWithCounter(200, 5);
    await loop.idle();
    const before = builds.length;
    const t0 = Date.now();
    for (let i = 0; i < 60; i++) {
      loop.apply([{ type: 'upsert', object: slice('ns/web').port('http', 8080).ready(`10.0.1.${i + 1}`).build() }]);
      await delay(10);
    }
    await loop.idle();
    // Builds start at least 200 ms apart, however long the 60 changes took,
    // and churn over 600 ms or more is not held back until it ends.
    const churnBuilds = builds.length - before;
    const allowed = Math.floor((Date.now() - t0) / 200) + 1;
    assert.ok(churnBuilds >= 2 && churnBuilds <= allowed, `${churnBuilds} builds for 60 changes in ${Date.now() - t0} ms`);
    // The last build saw the last change.
    const last = builds.at(-1)!.model.table.backends[0]!;
    assert.deepEqual(last.endpoints.map((e) => e.address), ['10.0.1.60']);
  });

  it('a paused loop applies changes but builds only from runNow()', async () => {
    const { loop, builds } = countingLoop({ startPaused: true, coalesceMs: 1 });
    // Ingresses listed first, their Services later: no table in between.
    loop.apply([
      { type: 'replace', kind: 'IngressClass', objects: [ingressClass('ats').build()] },
      { type: 'replace', kind: 'Ingress', objects: [ingress('ns/web').className('ats').rule('a.com', prefix('/', 'web', 80)).build()] },
    ]);
    await delay(30);
    assert.equal(builds.length, 0);
    loop.apply([{ type: 'replace', kind: 'Service', objects: [service('ns/web').port('http', 80, 8080).build()] }]);
    const first = await loop.runNow();
    assert.equal(builds.length, 1);
    assert.equal(first.model.table.backends[0]!.problem, undefined, 'the first table already has the Service');
    loop.apply([{ type: 'upsert', object: slice('ns/web').port('http', 8080).ready('10.0.0.1').build() }]);
    await loop.idle();
    assert.equal(builds.length, 2, 'after runNow() changes build as usual');
  });

  it('events that arrived together are one build, with no wait of its own', async () => {
    const { loop, builds } = countingLoop({});
    loop.apply([{ type: 'upsert', object: ingressClass('ats').build() }]);
    loop.apply([{ type: 'upsert', object: ingress('ns/web').className('ats').rule('a.com', prefix('/', 'web', 80)).build() }]);
    loop.apply([{ type: 'upsert', object: service('ns/web').port('http', 80, 8080).build() }]);
    await loop.idle();
    assert.equal(builds.length, 1);
    assert.equal(builds[0]!.model.table.backends[0]!.problem, undefined, 'the build saw all three');
  });

  /** Churn: the first three objects, then 100 EndpointSlice changes 5 ms apart; the cycles and how long it all took. */
  async function churn(loop: ControllerLoop, cycles: Array<{ start: number; end: number }>): Promise<{ elapsed: number; busy: number }> {
    loop.apply([
      { type: 'upsert', object: ingressClass('ats').build() },
      { type: 'upsert', object: ingress('ns/web').className('ats').rule('a.com', prefix('/', 'web', 80)).build() },
      { type: 'upsert', object: service('ns/web').port('http', 80, 8080).build() },
    ]);
    const t0 = Date.now();
    for (let i = 0; i < 100; i++) {
      loop.apply([{ type: 'upsert', object: slice('ns/web').port('http', 8080).ready(`10.0.2.${i + 1}`).build() }]);
      await delay(5);
    }
    await loop.idle();
    return { elapsed: Date.now() - t0, busy: cycles.reduce((n, c) => n + (c.end - c.start), 0) };
  }

  it('under churn, builds take at most their share of the time: the hold follows what a cycle costs', async () => {
    // Every cycle takes 40 ms; with a share of 0.5 and no burst the loop waits as long again before the next.
    const { loop, cycles } = countingLoop({ maxBuildShare: 0.5, buildBurstMs: 0, publishMs: 40 });
    const { elapsed, busy } = await churn(loop, cycles);
    // Counting, not timing: each idle gap after a cycle is at least (nearly) as long as the cycle.
    for (let i = 1; i < cycles.length; i++) {
      const gap = cycles[i]!.start - cycles[i - 1]!.end;
      const cost = cycles[i - 1]!.end - cycles[i - 1]!.start;
      assert.ok(gap >= cost - 5, `gap ${gap} ms after a cycle of ${cost} ms`);
    }
    assert.ok(cycles.length >= 3 && busy <= elapsed * 0.5 + 100, `${cycles.length} cycles, ${busy} ms busy of ${elapsed} ms`);
  });

  it('with a burst allowance, builds run ahead of their share by at most that much, then keep to it', async () => {
    const burst = 120;
    const { loop, cycles } = countingLoop({ maxBuildShare: 0.5, buildBurstMs: burst, publishMs: 40 });
    const { elapsed, busy } = await churn(loop, cycles);
    // At every start, the time spent in cycles before it is at most the
    // share of the time since the first start, plus the share of the burst.
    let before = 0;
    for (let i = 1; i < cycles.length; i++) {
      before += cycles[i - 1]!.end - cycles[i - 1]!.start;
      const since = cycles[i]!.start - cycles[0]!.start;
      assert.ok(before <= 0.5 * (since + burst) + 5, `cycle ${i}: ${before} ms in cycles within ${since} ms`);
    }
    // The first cycles ran back to back (the burst), the later ones did not.
    assert.ok(cycles[1]!.start - cycles[0]!.end < 20, `a gap of ${cycles[1]!.start - cycles[0]!.end} ms inside the burst`);
    assert.ok(cycles.length >= 4 && busy <= 0.5 * (elapsed + burst) + 100, `${cycles.length} cycles, ${busy} ms busy of ${elapsed} ms`);
  });

  it('builds a change right after a costly build at once when the loop is within its burst allowance', async () => {
    for (const buildBurstMs of [0, 500]) {
      const { loop, cycles, metrics } = countingLoop({ buildBurstMs, publishMs: 60 });
      loop.apply([
        { type: 'upsert', object: ingressClass('ats').build() },
        { type: 'upsert', object: ingress('ns/web').className('ats').rule('a.com', prefix('/', 'web', 80)).build() },
        { type: 'upsert', object: service('ns/web').port('http', 80, 8080).build() },
      ]);
      await loop.idle();
      const first = await observed(metrics.buildWaitSeconds);
      // A lone change 10 ms after a 60 ms cycle: with no burst it waits out
      // the cycle's share (about 50 ms more); with one it waits for nothing.
      await delay(10);
      loop.apply([{ type: 'upsert', object: slice('ns/web').port('http', 8080).ready('10.0.0.1').build() }]);
      await loop.idle();
      assert.equal(cycles.length, 2);
      const waitMs = ((await observed(metrics.buildWaitSeconds)).sum - first.sum) * 1000;
      if (buildBurstMs === 0) assert.ok(waitMs >= 35, `with no burst allowance the change waited ${waitMs} ms`);
      else assert.ok(waitMs < 30, `within the burst allowance the change waited ${waitMs} ms`);
    }
  });

  it('an irrelevant change builds nothing', async () => {
    const { loop, builds } = loopWithCounter(10, 1);
    await loop.idle();
    const n = builds.length;
    loop.apply([{ type: 'upsert', object: service('other/unrelated').port('http', 80, 8080).build() }]);
    await delay(50);
    await loop.idle();
    assert.equal(builds.length, n);
  });
});
