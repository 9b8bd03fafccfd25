// RouteTable.readStats(): the plugin's request counters, written here by
// native/test/stats_cli (a test-only executable that does what the plugin
// does: a fresh counters object per start, counts per thread), read through
// the addon.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { RouteTable, TableError, statsCounterNames, type RouteStats } from './route-table.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const cli = process.env.ATS_INGRESS_STATS_CLI ?? resolve(root, 'native/build/stats_cli');

/** What the plugin does when ATS starts, then per request: returns the new instance id. */
function plugin(table: RouteTable, args: string[]): bigint {
  assert.ok(existsSync(cli), `${cli} is missing: build it with bash scripts/build.sh`);
  const out = execFileSync(cli, [table.name, ...args], { encoding: 'utf8', timeout: 10_000 });
  return BigInt(out.trim());
}

const opened: RouteTable[] = [];
function fresh(tag: string): RouteTable {
  const t = RouteTable.open(`t-stats-${tag}-${process.pid}`);
  opened.push(t);
  return t;
}
after(() => {
  for (const t of opened) {
    if (t.closed) continue;
    t.remove();
    t.close();
  }
});

function counter(s: RouteStats, slot: number, name: string): bigint {
  const i = s.counterNames.indexOf(name);
  assert.ok(i >= 0, name);
  return s.counters[slot * s.counterNames.length + i] ?? 0n;
}

describe('RouteTable.readStats', () => {
  it('names the counters of a slot in the order C++ defines', () => {
    assert.deepEqual(
      [...statsCounterNames()],
      ['1xx', '2xx', '3xx', '4xx', '5xx', 'hit_fresh', 'hit_stale', 'miss', 'not_cacheable'],
    );
  });

  it('is undefined until the plugin has created its counters', () => {
    const t = fresh('none');
    assert.equal(t.readStats(), undefined);
    assert.equal(t.readStats(), undefined);
  });

  it('sums what every thread counted, per slot, by status class and cache result', () => {
    const t = fresh('sums');
    const before = Date.now();
    const instance = plugin(t, [
      '--slots', '64', '--threads', '2', '--workers', '3', // the third worker counts in the overflow block
      '0:200:hit_fresh:5', '0:304:hit_stale', '2:404:miss:2', '2:503:not_cacheable', '2:200:miss:3',
      '7:101:not_cacheable',
      '64:200:miss:4', '1:99:miss', '1:200:9', // dropped: a slot past 64, a status below 100, no such cache result
    ]);
    const s = t.readStats();
    assert.ok(s);
    assert.equal(s.instance, instance);
    assert.ok(s.instance !== 0n);
    assert.ok(s.createdMs >= before - 1000 && s.createdMs <= Date.now() + 1000, String(s.createdMs));
    assert.equal(s.slots, 8);
    assert.equal(s.maxSlots, 64);
    assert.equal(s.threads, 3);
    assert.equal(s.dropped, 6n);
    assert.ok(s.counters instanceof BigUint64Array);
    assert.equal(s.counters.length, 8 * 9);
    assert.equal(counter(s, 0, '2xx'), 5n);
    assert.equal(counter(s, 0, '3xx'), 1n);
    assert.equal(counter(s, 0, 'hit_fresh'), 5n);
    assert.equal(counter(s, 0, 'hit_stale'), 1n);
    assert.equal(counter(s, 2, '2xx'), 3n);
    assert.equal(counter(s, 2, '4xx'), 2n);
    assert.equal(counter(s, 2, '5xx'), 1n);
    assert.equal(counter(s, 2, 'miss'), 5n);
    assert.equal(counter(s, 2, 'not_cacheable'), 1n);
    assert.equal(counter(s, 7, '1xx'), 1n);
    assert.equal(counter(s, 7, 'not_cacheable'), 1n);
    assert.equal(counter(s, 1, '2xx'), 0n);
    const total = s.counters.reduce((a, b) => a + b, 0n);
    assert.equal(total, 2n * 13n, 'each request once by status, once by cache result');
  });

  it('sees a new instance counting from zero when ATS starts again', () => {
    const t = fresh('restart');
    const first = plugin(t, ['--slots', '16', '3:200:miss:10']);
    const a = t.readStats();
    assert.equal(a?.instance, first);
    assert.equal(a && counter(a, 3, '2xx'), 10n);
    const second = plugin(t, ['--slots', '16', '1:500:miss']);
    assert.notEqual(second, first);
    const b = t.readStats();
    assert.ok(b);
    assert.equal(b.instance, second);
    assert.equal(b.slots, 2);
    assert.equal(counter(b, 3, '2xx'), 0n);
    assert.equal(counter(b, 1, '5xx'), 1n);
    // Another handle of the name reads the same.
    const other = RouteTable.open(t.name);
    assert.equal(other.readStats()?.instance, second);
    other.close();
  });

  it('is empty, not undefined, when the plugin has created its counters and counted nothing', () => {
    const t = fresh('empty');
    const instance = plugin(t, []);
    const s = t.readStats();
    assert.equal(s?.instance, instance);
    assert.equal(s?.slots, 0);
    assert.equal(s?.counters.length, 0);
    assert.equal(s?.dropped, 0n);
  });

  it('refuses a malformed object with ERR_INVALID_STATS', () => {
    const t = fresh('bad');
    writeFileSync(`/dev/shm/ats-ingress.${t.name}.stats`, Buffer.alloc(8192, 0x41));
    assert.throws(
      () => t.readStats(),
      (e: unknown) => e instanceof TableError && e.code === 'ERR_INVALID_STATS' && /wrong magic/.test(e.message),
    );
    writeFileSync(`/dev/shm/ats-ingress.${t.name}.stats`, Buffer.alloc(100));
    assert.throws(() => t.readStats(), { code: 'ERR_INVALID_STATS' });
  });

  it('remove() unlinks the counters too; a closed table throws ERR_TABLE_CLOSED', () => {
    const t = fresh('remove');
    plugin(t, ['--slots', '4', '0:200:miss']);
    assert.ok(t.readStats());
    t.remove();
    assert.equal(t.readStats(), undefined);
    assert.ok(!existsSync(`/dev/shm/ats-ingress.${t.name}.stats`));
    t.close();
    assert.throws(() => t.readStats(), { code: 'ERR_TABLE_CLOSED' });
  });
});
