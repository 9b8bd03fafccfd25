// The table under attack, through a real ATS: objects in /dev/shm of the
// wrong format version, oversized, rewritten, shrunk or replaced under the
// reader, owned by another user or writable by others, and control objects
// that are untrusted, shrunk, replaced by garbage or sent back to an older
// generation. Each is refused (or, for the table in service, cannot reach
// it), requests keep being answered by the last good table during and after,
// the refusal is counted by reason (plugin.ats_ingress.tables_refused.REASON,
// control_objects_refused.REASON) and logged naming the object, and
// traffic_server never restarts. The rules: docs/security.md ("The
// shared-memory objects").
//
// Needs root for the cases of another user (chown to 65534); they are skipped
// otherwise.
//
// Run: bash scripts/build.sh && node --test dist/test/plugin/attacked.test.js

import assert from 'node:assert/strict';
import { chmodSync, chownSync, closeSync, ftruncateSync, openSync, readdirSync, readFileSync, statSync, truncateSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { RouteTable, type TableModel } from '../../src/route-table/route-table.js';
import { startAts, type AtsInstance } from '../harness/ats.js';
import { closeBackends, startBackend, type Backend } from '../harness/backends.js';
import { backendOf, controlGeneration, fromService, metric, pluginSetup, pollUntil, requestUntil, tableName, writeControlGeneration } from './helpers.js';

const name = tableName('attacked');
const SHM = `/dev/shm/ats-ingress.${name}`;
const M = 'plugin.ats_ingress.';
const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;
const notRoot = isRoot ? false : 'needs root to give an object to another user (chown); run the tests as root';

let ats: AtsInstance;
let good: Backend;
let evil: Backend;
let better: Backend;
let serverPid: number;
/** The service the last good table routes /app to. */
let serving = 'ns/good';
const table = RouteTable.open(name);

/**
 * /app of attacked.test to `service`, after 400 other hosts: the table spans
 * about 20 pages, so that a reader mapping its object would fault on a page
 * a shrink took away (before the reader copied tables, traffic_server died
 * of it; with a table of one page, the page's tail read as zeros: 404s).
 */
function model(service: string, pod: Backend): TableModel {
  const rules = [{ path: '/app', pathType: 'Prefix' as const, backend: 0, source: 'ns/attacked' }];
  return {
    backends: [backendOf(service, [pod])],
    hosts: [...Array.from({ length: 400 }, (_, i) => ({ name: `filler-${i}.test`, rules })), { name: 'attacked.test', rules }],
  };
}

const ctlGeneration = () => controlGeneration(SHM);
const writeControl = (generation: bigint) => writeControlGeneration(SHM, generation);

let donors = 0;
/**
 * The bytes of a valid, sealed table of `generation` routing /app to `pod`:
 * published that many times under a table name of its own.
 */
function validTable(generation: bigint, service: string, pod: Backend): Buffer {
  const donorName = tableName(`donor${++donors}`);
  const donor = RouteTable.open(donorName);
  try {
    for (let g = 0n; g < generation; g++) donor.publish(model(service, pod));
    return readFileSync(`/dev/shm/ats-ingress.${donorName}.${generation}`);
  } finally {
    donor.remove();
    donor.close();
  }
}

/** Writes `bytes` as the object of the next generation (with `mode`, and `owner`) and points the control block at it. */
function plant(bytes: Buffer, opts: { mode?: number; owner?: number; generation?: bigint } = {}): bigint {
  const g = opts.generation ?? ctlGeneration() + 1n;
  const file = `${SHM}.${g}`;
  writeFileSync(file, bytes, { mode: 0o600 });
  chmodSync(file, opts.mode ?? 0o644);
  if (opts.owner !== undefined) chownSync(file, opts.owner, -1);
  writeControl(g);
  return g;
}

/** The traffic_server under the manager (restarted by it after a crash). */
function findServerPid(): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === ats.pid && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('traffic_server')) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return -1;
}

async function metricUntil(short: string, ok: (v: number) => boolean, what: string): Promise<number> {
  const r = await pollUntil(
    `${what} (${M}${short})`,
    async () => (await metric(ats, M + short)) ?? NaN,
    (v) => !Number.isNaN(v) && ok(v),
    { timeoutMs: 20_000, intervalMs: 200 },
  );
  return r.value;
}

/** The last line of ATS's diagnostics that has `includes` and matches `pattern` (waiting for it). */
async function diagsLine(includes: string, pattern: RegExp): Promise<string> {
  const matching = (text: string) => text.split('\n').filter((l) => l.includes(includes) && pattern.test(l));
  const r = await pollUntil(
    `a line with "${includes}" matching ${pattern} in ATS's diagnostics`,
    () => readFile(path.join(ats.logDir, 'traffic.out'), 'utf8').catch(() => ''),
    (text) => matching(text).length > 0,
    { timeoutMs: 10_000, intervalMs: 100 },
  );
  return matching(r.value).at(-1)!;
}

/**
 * Runs `attack` while requests go on in a loop; every one of them, and five
 * after, must be answered by the last good table's backend.
 */
async function servedThroughout(what: string, attack: () => Promise<void>): Promise<void> {
  let stop = false;
  let answered = 0;
  const bad: string[] = [];
  const loop = (async () => {
    while (!stop) {
      try {
        const r = await ats.request({ host: 'attacked.test', path: `/app/during/${answered}`, timeoutMs: 5_000 });
        if (fromService(serving)(r)) answered++;
        else bad.push(`${r.status} ${r.body.slice(0, 120)}`);
      } catch (err) {
        bad.push(`error: ${(err as Error).message}`);
      }
    }
  })();
  try {
    await attack();
  } finally {
    stop = true;
    await loop;
  }
  assert.deepEqual(bad.slice(0, 5), [], `${what}: requests during the attack not answered by ${serving} (${bad.length} of ${bad.length + answered})`);
  assert.ok(answered > 0, `${what}: no request answered during the attack`);
  for (let i = 0; i < 5; i++) {
    const r = await ats.request({ host: 'attacked.test', path: `/app/after/${i}`, fresh: i === 0 });
    assert.ok(fromService(serving)(r), `${what}: after the attack: ${r.status} ${r.body.slice(0, 200)}`);
  }
  assert.equal(findServerPid(), serverPid, `${what}: traffic_server restarted (crashed?)`);
  console.log(`${what}: ${answered} requests answered by ${serving} during the attack, none failed`);
}

/** Refused, counted under `reason` once, logged naming `object` with `why`; the table in service unchanged. */
async function refusedAs(kind: 'tables_refused' | 'control_objects_refused', reason: string, before: number, object: string, why: RegExp): Promise<void> {
  const served = await metric(ats, `${M}table_generation`);
  await metricUntil(`${kind}.${reason}`, (v) => v >= before + 1, `refused (${reason})`);
  await new Promise((r) => setTimeout(r, 300)); // a few polls more: still counted once
  assert.equal(await metric(ats, `${M}${kind}.${reason}`), before + 1, `counted once (${kind}.${reason})`);
  const prefix = kind === 'tables_refused' ? 'refused table: ' : 'refused control object: ';
  const line = await diagsLine(`${prefix}${object}`, why);
  assert.match(line, /ERROR/);
  assert.match(line, new RegExp(`still serving generation ${served}$`));
  assert.equal(await metric(ats, `${M}table_generation`), served, 'the generation in service did not change');
  console.log(`logged: ${line.replace(/^.*?\[ats_ingress\] /, '')}`);
}

async function count(short: string): Promise<number> {
  return (await metric(ats, M + short)) ?? 0;
}

before(async () => {
  good = await startBackend({ service: 'ns/good', pod: 'good-0' });
  evil = await startBackend({ service: 'ns/evil', pod: 'evil-0' });
  better = await startBackend({ service: 'ns/better', pod: 'better-0' });
  table.publish(model('ns/good', good));
  ats = await startAts({
    manager: true,
    records: { 'proxy.config.raw_stat_sync_interval_ms': 200, 'proxy.config.remote_sync_interval_ms': 200 },
    ...pluginSetup('global', name),
  });
  await requestUntil(ats, { host: 'attacked.test', path: '/app/first' }, fromService('ns/good'), 'the first table');
  serverPid = findServerPid();
  assert.ok(serverPid > 0, 'traffic_server under the manager');
  await metricUntil('tables_refused.invalid', (v) => v === 0, 'the reason metrics exist');
});

after(async () => {
  await ats?.stop({ kill: true });
  table.remove();
  table.close();
  await closeBackends([good, evil, better]);
});

test('a table of another format version is refused as such', async () => {
  const base = await count('tables_refused.version');
  const bytes = validTable(ctlGeneration() + 1n, 'ns/evil', evil);
  bytes.writeUInt32LE(1, 8); // format 1, checked before the checksum
  let g = 0n;
  await servedThroughout('format version 1', async () => {
    g = plant(bytes);
    await refusedAs('tables_refused', 'version', base, `/ats-ingress.${name}.${g}`, /format version 1, this reader knows 3/);
  });
});

test('a table object over the reader\'s bound (2 GiB) is refused before anything is read', async () => {
  const base = await count('tables_refused.size');
  const g = ctlGeneration() + 1n;
  const bytes = validTable(g, 'ns/evil', evil);
  await servedThroughout('an object of 2 GiB + 1 byte', async () => {
    const file = `${SHM}.${g}`;
    writeFileSync(file, bytes, { mode: 0o644 });
    truncateSync(file, 2 ** 31 + 1); // sparse: tmpfs gives it no memory
    writeControl(g);
    await refusedAs('tables_refused', 'size', base, `/ats-ingress.${name}.${g}`, /size 2147483649 is over the bound of 2147483648 bytes/);
    unlinkSync(file);
  });
});

test('the table in service, shrunk, rewritten or replaced under its name, keeps serving as it was read', async () => {
  const g = BigInt((await metric(ats, `${M}table_generation`)) ?? -1);
  const file = `${SHM}.${g}`;
  const refusedBefore = await count('tables_refused');
  const switchesBefore = await count('table_switches');
  const other = validTable(g, 'ns/evil', evil);
  await servedThroughout('the object in service shrunk, rewritten, replaced', async () => {
    // Shrunk in place to 64 bytes: a mapping of it would fault (SIGBUS) on the next lookup past them.
    const fd = openSync(file, 'r+');
    try {
      ftruncateSync(fd, 64);
      await new Promise((r) => setTimeout(r, 300));
      // Rewritten in place with another valid table of the same generation.
      assert.equal(writeSync(fd, other, 0, other.length, 0), other.length);
    } finally {
      closeSync(fd);
    }
    await new Promise((r) => setTimeout(r, 300));
    // Replaced by a new object under the same name.
    unlinkSync(file);
    writeFileSync(file, other, { mode: 0o644 });
    await new Promise((r) => setTimeout(r, 300));
  });
  assert.equal(await count('tables_refused'), refusedBefore, 'nothing refused: nothing was looked at again');
  assert.equal(await count('table_switches'), switchesBefore, 'no switch');
});

test('a table object owned by another user is refused', { skip: notRoot }, async () => {
  const base = await count('tables_refused.owner');
  const g = ctlGeneration() + 1n;
  const bytes = validTable(g, 'ns/evil', evil); // valid and sealed: only its owner is wrong
  await servedThroughout('a table owned by uid 65534', async () => {
    plant(bytes, { generation: g, owner: NOBODY });
    assert.equal(statSync(`${SHM}.${g}`).uid, NOBODY);
    await refusedAs('tables_refused', 'owner', base, `/ats-ingress.${name}.${g}`, /is owned by another user \(uid 65534; trusted: uid 0\)/);
  });
});

test('a table object writable by group or others is refused', async () => {
  for (const mode of [0o666, 0o664]) {
    const base = await count('tables_refused.mode');
    const g = ctlGeneration() + 1n;
    const bytes = validTable(g, 'ns/evil', evil);
    await servedThroughout(`a table of mode 0${mode.toString(8)}`, async () => {
      plant(bytes, { generation: g, mode });
      await refusedAs('tables_refused', 'mode', base, `/ats-ingress.${name}.${g}`, new RegExp(`is writable by group or others \\(mode 0${mode.toString(8)}\\)`));
    });
  }
});

test('a control object sent back to an older generation is refused (no replay of an old table)', async () => {
  // Two good publishes: the writer keeps the previous object, which a replay could point at.
  table.publish(model('ns/good', good));
  const { generation } = table.publish(model('ns/good', good));
  await metricUntil('table_generation', (v) => v === Number(generation), 'the new generation in service');
  assert.ok(statSync(`${SHM}.${generation - 1n}`).isFile());
  const base = await count('control_objects_refused.invalid');
  await servedThroughout('the control block sent back a generation', async () => {
    writeControl(generation - 1n);
    await refusedAs('control_objects_refused', 'invalid', base, `/ats-ingress.${name}.ctl`, new RegExp(`went back to generation ${generation - 1n} from ${generation}`));
    writeControl(generation); // as it was
  });
});

test('a control object writable by others is no longer read; trusted again, it is', async () => {
  const base = await count('control_objects_refused.mode');
  await servedThroughout('the control object made 0666', async () => {
    chmodSync(`${SHM}.ctl`, 0o666);
    await refusedAs('control_objects_refused', 'mode', base, `/ats-ingress.${name}.ctl`, /is writable by group or others \(mode 0666\)/);
    // What is published through it now is not taken.
    const { generation } = table.publish(model('ns/evil', evil));
    await new Promise((r) => setTimeout(r, 500));
    assert.notEqual(await metric(ats, `${M}table_generation`), Number(generation));
  });
  chmodSync(`${SHM}.ctl`, 0o644);
  const { generation } = table.publish(model('ns/better', better));
  await requestUntil(ats, { host: 'attacked.test', path: '/app/again' }, fromService('ns/better'), 'the control object trusted again');
  serving = 'ns/better';
  assert.equal(await metricUntil('table_generation', (v) => v === Number(generation), 'the new generation'), Number(generation));
});

test('a control object owned by another user is no longer read', { skip: notRoot }, async () => {
  const base = await count('control_objects_refused.owner');
  await servedThroughout('the control object given to uid 65534', async () => {
    chownSync(`${SHM}.ctl`, NOBODY, -1);
    await refusedAs('control_objects_refused', 'owner', base, `/ats-ingress.${name}.ctl`, /is owned by another user \(uid 65534; trusted: uid 0\)/);
  });
  chownSync(`${SHM}.ctl`, 0, -1);
  await metricUntil('table_generation', (v) => v === Number(ctlGeneration()), 'the control object taken back');
});

test('a control object shrunk in place is dropped at the next poll; the table keeps serving', async () => {
  // No request runs while it is short: a request thread that loaded from it
  // then would fault, and only its owner (the controller's user) can shrink it.
  const base = await count('control_objects_refused.size');
  const served = await metric(ats, `${M}table_generation`);
  truncateSync(`${SHM}.ctl`, 100);
  await refusedAs('control_objects_refused', 'size', base, `/ats-ingress.${name}.ctl`, /size 100 is less than a control object's 4096/);
  await servedThroughout('the control object shrunk (dropped)', async () => {
    await new Promise((r) => setTimeout(r, 300));
  });
  truncateSync(`${SHM}.ctl`, 4096); // its first 100 bytes are the block: whole again
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await metric(ats, `${M}table_generation`), served);
});

test('a control object replaced by garbage is refused; the one mapped goes on', async () => {
  const base = await count('control_objects_refused.invalid');
  await servedThroughout('the control object replaced by garbage', async () => {
    unlinkSync(`${SHM}.ctl`);
    writeFileSync(`${SHM}.ctl`, Buffer.alloc(4096, 'x'), { mode: 0o644 });
    await refusedAs('control_objects_refused', 'invalid', base, `/ats-ingress.${name}.ctl`, /bad magic: not an ats-ingress control object/);
  });
  // The writer still holds the control object the reader maps (unlinked, not
  // gone): its publishes still arrive.
  const { generation } = table.publish(model('ns/good', good));
  await requestUntil(ats, { host: 'attacked.test', path: '/app/last' }, fromService('ns/good'), 'a publish after the garbage');
  serving = 'ns/good';
  assert.equal(await metricUntil('table_generation', (v) => v === Number(generation), 'the last generation'), Number(generation));
  assert.equal(findServerPid(), serverPid, 'traffic_server never restarted');
});
