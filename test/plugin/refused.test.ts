// Bad tables are refused and the last good one keeps serving; the plugin's
// metrics, read with `traffic_ctl metric get` (so traffic_manager runs here),
// count requests, switches and refusals (in all and by reason:
// tables_refused.REASON), and name the generation served. More kinds of bad
// object, and bad control objects: attacked.test.ts.
//
// A bad table is written as a confused or broken writer would: an object for
// the next generation straight into /dev/shm, then the control block's
// generation (u64 at byte 16 of /dev/shm/ats-ingress.NAME.ctl) pointed at it
// (see native/core/control_block.h and native/test/shm_test.cc).
//
// Run: bash scripts/build.sh && node --test dist/test/plugin/refused.test.js

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { RouteTable, type TableModel } from '../../src/route-table/route-table.js';
import { startAts, type AtsInstance } from '../harness/ats.js';
import { closeBackends, startBackend, type Backend } from '../harness/backends.js';
import { backendOf, controlGeneration, echoOf, fromService, logTail, metric, pluginSetup, pollUntil, requestUntil, tableName, writeControlGeneration } from './helpers.js';

const name = tableName('refused');
const SHM = `/dev/shm/ats-ingress.${name}`;
const METRIC_TIMEOUT_MS = 20_000;
const M = 'plugin.ats_ingress.';

let ats: AtsInstance;
let good: Backend;
let better: Backend;
let fallback: Backend;
const table = RouteTable.open(name);

function model(service: string, pod: Backend): TableModel {
  return {
    backends: [backendOf(service, [pod]), backendOf('ns/drained', []), backendOf(service, [pod], { port: 'web', options: { redirectToHttps: true } })],
    hosts: [
      {
        name: 'refused.test',
        rules: [
          { path: '/app', pathType: 'Prefix', backend: 0, source: 'ns/refused' },
          { path: '/drained', pathType: 'Prefix', backend: 1, source: 'ns/refused' },
          { path: '/secure', pathType: 'Prefix', backend: 2, source: 'ns/refused' },
        ],
      },
    ],
  };
}

const ctlGeneration = () => controlGeneration(SHM);
const bumpControl = (generation: bigint) => writeControlGeneration(SHM, generation);

/** Polls `traffic_ctl metric get` until `ok` holds; returns the value. */
async function metricUntil(short: string, ok: (v: number) => boolean, what: string): Promise<number> {
  const r = await pollUntil(
    `${what} (${M}${short})`,
    async () => (await metric(ats, M + short)) ?? NaN,
    (v) => !Number.isNaN(v) && ok(v),
    { timeoutMs: METRIC_TIMEOUT_MS, intervalMs: 200 },
  );
  if (process.env.PTEST_VERBOSE) console.log(`${short}=${r.value} after ${r.ms.toFixed(0)} ms`);
  return r.value;
}

before(async () => {
  good = await startBackend({ service: 'ns/good', pod: 'good-0' });
  better = await startBackend({ service: 'ns/better', pod: 'better-0' });
  fallback = await startBackend({ service: 'remap.config', pod: 'fallback-0' });
  table.publish(model('ns/good', good));
  ats = await startAts({
    manager: true,
    // Stats reach traffic_ctl after a raw-stat sync in traffic_server and a sync to the manager (5 s each by default).
    records: { 'proxy.config.raw_stat_sync_interval_ms': 200, 'proxy.config.remote_sync_interval_ms': 200 },
    ...pluginSetup('global', name, [], [`map http://legacy.test/ http://${fallback.hostPort}/`]) });
});

after(async () => {
  await ats?.stop({ kill: true });
  table.remove();
  table.close();
  await closeBackends([good, better, fallback]);
});

test('metrics: table_generation is the published generation; requests are counted by outcome', async () => {
  const gen = Number(ctlGeneration());
  assert.equal(gen, 1);
  assert.equal(await metricUntil('table_generation', (v) => v === gen, 'the generation in service'), gen);
  assert.equal(await metricUntil('table_switches', (v) => v >= 1, 'the first table taken'), 1);
  assert.equal(await metric(ats, `${M}tables_refused`), 0);

  const names = ['requests_routed', 'requests_not_found', 'requests_unavailable', 'requests_redirected', 'requests_declined'] as const;
  const base: Record<string, number> = {};
  for (const n of names) base[n] = await metricUntil(n, (v) => v >= 0, 'metric exists');

  const want = { requests_routed: 7, requests_not_found: 3, requests_unavailable: 2, requests_redirected: 5, requests_declined: 4 };
  for (let i = 0; i < want.requests_routed; i++) echoOf(await ats.request({ host: 'refused.test', path: `/app/${i}` }));
  for (let i = 0; i < want.requests_not_found; i++) assert.equal((await ats.request({ host: 'refused.test', path: '/nothing' })).status, 404);
  for (let i = 0; i < want.requests_unavailable; i++) assert.equal((await ats.request({ host: 'refused.test', path: '/drained' })).status, 503);
  for (let i = 0; i < want.requests_redirected; i++) assert.equal((await ats.request({ host: 'refused.test', path: '/secure' })).status, 308);
  for (let i = 0; i < want.requests_declined; i++) echoOf(await ats.request({ host: 'legacy.test', path: '/x' }));

  const counted: string[] = [];
  for (const n of names) {
    const expected = base[n]! + want[n];
    const got = await metricUntil(n, (v) => v >= expected, `${want[n]} requests counted`);
    assert.equal(got, expected, n);
    counted.push(`${n} +${got - base[n]!}`);
  }
  console.log(`metrics after the requests: ${counted.join(', ')}`);
});

/** Requests that must still reach the good table's backend. */
async function stillServing(what: string): Promise<void> {
  for (let i = 0; i < 5; i++) {
    const echo = echoOf(await ats.request({ host: 'refused.test', path: `/app/still/${i}`, fresh: i === 0 }), what);
    assert.equal(echo.service, 'ns/good', what);
  }
}

/** ATS's diagnostics: its stderr, where production's records send them (the harness binds it to traffic.out). */
async function diagsLog(): Promise<string> {
  return readFile(path.join(ats.logDir, 'traffic.out'), 'utf8').catch(() => '');
}

test('a truncated table object is refused; the previous table keeps serving', async () => {
  const gen1 = ctlGeneration();
  const bytes = readFileSync(`${SHM}.${gen1}`);
  const next = gen1 + 1n;
  // The first half of a real table, its header saying the right generation.
  const half = Buffer.from(bytes.subarray(0, Math.floor(bytes.length / 2)));
  half.writeBigUInt64LE(next, 24);
  writeFileSync(`${SHM}.${next}`, half, { mode: 0o644 });
  bumpControl(next);

  await metricUntil('tables_refused', (v) => v >= 1, 'the truncated table refused');
  assert.equal(await metricUntil('tables_refused.invalid', (v) => v >= 1, 'counted as invalid'), 1);
  await stillServing('after the truncated table');
  assert.equal(await metric(ats, `${M}table_generation`), Number(gen1), 'still serving the good generation');
  const diags = await pollUntil(
    'the refusal logged in ATS\'s diagnostics',
    diagsLog,
    (text) => text.includes(`refused table: /ats-ingress.${name}.${next}`),
    { timeoutMs: 10_000, intervalMs: 100 },
  );
  const line = diags.value.split('\n').find((l) => l.includes(`refused table: /ats-ingress.${name}.${next}`))!;
  assert.match(line, /ERROR/);
  assert.match(line, new RegExp(`still serving generation ${gen1}$`));
  console.log(`logged: ${line}`);
});

test('a corrupted table object (checksum mismatch) is refused; the previous table keeps serving', async () => {
  const current = ctlGeneration();
  const served = BigInt((await metric(ats, `${M}table_generation`)) ?? -1);
  const bytes = Buffer.from(readFileSync(`${SHM}.${served}`));
  const next = current + 1n;
  bytes.writeBigUInt64LE(next, 24); // right generation, stale checksum
  bytes[200] = (bytes[200] ?? 0) ^ 1;
  writeFileSync(`${SHM}.${next}`, bytes, { mode: 0o644 });
  bumpControl(next);

  await metricUntil('tables_refused', (v) => v >= 2, 'the corrupted table refused');
  assert.equal(await metricUntil('tables_refused.invalid', (v) => v >= 2, 'counted as invalid'), 2);
  await stillServing('after the corrupted table');
  assert.equal(await metric(ats, `${M}table_generation`), Number(served));
  const diags = await pollUntil('the refusal logged', diagsLog, (t) => t.includes(`refused table: /ats-ingress.${name}.${next}: checksum mismatch`), {
    timeoutMs: 10_000,
    intervalMs: 100,
  });
  assert.ok(diags.value);
});

test('a generation whose object does not exist is refused too', async () => {
  const next = ctlGeneration() + 1n;
  bumpControl(next);
  await metricUntil('tables_refused', (v) => v >= 3, 'the missing table refused');
  assert.equal(await metricUntil('tables_refused.missing', (v) => v >= 1, 'counted as missing'), 1);
  await stillServing('after a missing table');
});

test('then a good publish serves again', async () => {
  const before = ctlGeneration();
  const { generation } = table.publish(model('ns/better', better));
  assert.equal(generation, before + 1n, 'the writer continues after the bad generations');
  await requestUntil(ats, { host: 'refused.test', path: '/app/again' }, fromService('ns/better'), 'the good table after bad ones');
  assert.equal(await metricUntil('table_generation', (v) => v === Number(generation), 'the new generation in service'), Number(generation));
  assert.equal(await metricUntil('table_switches', (v) => v >= 2, 'two tables taken'), 2);
  assert.equal(await metric(ats, `${M}tables_refused`), 3);
  assert.equal(await metric(ats, `${M}control_objects_refused`), 0);
  if (!(await diagsLog()).includes('refused table')) assert.fail(await logTail(ats));
});
