import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { TableModel } from '../model/table-model.js';
import { TrafficStats, type StatsSnapshot } from './traffic-stats.js';

const NONE = 0xffffffff;
const COUNTERS = 2;

/** A plugin region as the tests say: counts by slot. */
class Region {
  instance = 1n;
  counts = new Map<number, [number, number]>();
  exists = true;
  add(slot: number, a: number, b = 0): void {
    const c = this.counts.get(slot) ?? [0, 0];
    this.counts.set(slot, [c[0] + a, c[1] + b]);
  }
  restart(): void {
    this.instance++;
    this.counts.clear();
  }
  read = (): StatsSnapshot | undefined => {
    if (!this.exists) return undefined;
    const slots = Math.max(0, ...[...this.counts.keys()].map((s) => s + 1));
    const counters = new BigUint64Array(slots * COUNTERS);
    for (const [s, [a, b]] of this.counts) {
      counters[s * COUNTERS] = BigInt(a);
      counters[s * COUNTERS + 1] = BigInt(b);
    }
    return { instance: this.instance, slots, dropped: 0n, counters };
  };
}

const backend = (service: string) => ({ service, port: '80', scheme: 'http' as const, endpoints: [] });

/** hosts a.com (ns/web → ns/a, and its default ns/web → ns/b) and b.com (ns/api → ns/a); the controller's default ns/d. */
function model(opts: { withApi?: boolean; extra?: string } = {}): TableModel {
  const backends = [backend('ns/a'), backend('ns/b'), backend('ns/d')];
  const hosts: TableModel['hosts'] = [
    { name: 'a.com', rules: [{ path: '/', pathType: 'Prefix', backend: 0, source: 'ns/web' }], defaultBackend: 1, defaultSource: 'ns/web' },
  ];
  if (opts.withApi !== false) {
    backends.push(backend('ns/a'));
    hosts.push({ name: 'b.com', rules: [{ path: '/', pathType: 'Prefix', backend: 3, source: 'ns/api' }] });
  }
  if (opts.extra) {
    backends.push(backend('ns/x'));
    hosts.push({ name: `${opts.extra}.com`, rules: [{ path: '/', pathType: 'Prefix', backend: backends.length - 1, source: `ns/${opts.extra}` }] });
  }
  return { backends, hosts, defaultBackend: 2 };
}

function byLabels(stats: TrafficStats): Record<string, readonly number[]> {
  return Object.fromEntries(stats.rows().rows.map((r) => [`${r.namespace}/${r.ingress}/${r.service}`, r.counts]));
}

describe('TrafficStats', () => {
  test('one slot per (Ingress, Service), the same across builds; the default backend has one of its own', () => {
    const region = new Region();
    const stats = new TrafficStats(region.read, COUNTERS, 100);
    assert.deepEqual([...stats.assign(model())], [0, 1, 2, 3]);
    assert.deepEqual([...stats.assign(model())], [0, 1, 2, 3]);
    region.add(0, 5);
    region.add(1, 1, 1);
    region.add(2, 7);
    region.add(3, 2);
    assert.deepEqual(byLabels(stats), { 'ns/web/a': [5, 0], 'ns/web/b': [1, 1], 'ns//d': [7, 0], 'ns/api/a': [2, 0] });
  });

  test('the same hosts again (only endpoints changed): the same slots; the same hosts with a backend of another Service: that one gets a slot of its own', () => {
    const stats = new TrafficStats(new Region().read, COUNTERS, 100);
    const m = model();
    assert.deepEqual([...stats.assign(m)], [0, 1, 2, 3]);
    const endpointsChanged = { ...m, backends: m.backends.map((b) => ({ ...b, endpoints: [{ address: '10.0.0.9', port: 80 }] })) };
    assert.deepEqual([...stats.assign(endpointsChanged)], [0, 1, 2, 3]);
    const serviceChanged = { ...m, backends: m.backends.map((b, i) => (i === 3 ? backend('ns/c') : b)) };
    assert.deepEqual([...stats.assign(serviceChanged)], [0, 1, 2, 4]);
    assert.deepEqual(Object.keys(byLabels(stats)).sort(), ['ns//d', 'ns/api/c', 'ns/web/a', 'ns/web/b'], "ns/api's other Service went, ns/api stayed");
    assert.deepEqual([...stats.assign(m)], [0, 1, 2, 5], 'slot 3 waits out its quarantine');
  });

  test('with more owners than slots, the same hosts are assigned again, and an owner gets the slot one leaves', () => {
    let now = 0;
    const stats = new TrafficStats(new Region().read, COUNTERS, 3, () => now);
    const m = model();
    assert.deepEqual([...stats.assign(m)], [0, 1, 2, NONE]);
    assert.ok(stats.full);
    const without = { ...m, hosts: m.hosts.map((h) => (h.name === 'a.com' ? { ...h, rules: [] } : h)) };
    assert.deepEqual([...stats.assign(without)], [NONE, 1, 2, NONE]);
    now += 10 * 60_000;
    assert.deepEqual([...stats.assign(without)], [NONE, 1, 2, 0]);
  });

  test('an Ingress that names one Service, then two, then the other alone, keeps each pair\'s slot', () => {
    const stats = new TrafficStats(new Region().read, COUNTERS, 100);
    const web = (...services: string[]): TableModel => ({
      backends: services.map(backend),
      hosts: [{ name: 'a.com', rules: services.map((_, i) => ({ path: `/${i}`, pathType: 'Prefix' as const, backend: i, source: 'ns/web' })) }],
    });
    assert.deepEqual([...stats.assign(web('ns/a'))], [0]);
    assert.deepEqual([...stats.assign(web('ns/a', 'ns/b'))], [0, 1]);
    assert.deepEqual([...stats.assign(web('ns/b'))], [1]);
    assert.deepEqual(Object.keys(byLabels(stats)), ['ns/web/b']);
    assert.deepEqual([...stats.assign(web('ns/c', 'ns/b'))], [2, 1], 'slot 0 waits out its quarantine');
  });

  test('a backend no rule uses gets no slot', () => {
    const stats = new TrafficStats(new Region().read, COUNTERS, 100);
    const m = model();
    m.backends.push(backend('ns/unused'));
    assert.equal(stats.assign(m)[4], NONE);
  });

  test('counts the plugin had before this controller saw a slot are not counted (a baseline)', () => {
    const region = new Region();
    region.add(0, 40); // an earlier controller's owner of slot 0
    const stats = new TrafficStats(region.read, COUNTERS, 100);
    stats.assign(model());
    region.add(0, 2);
    assert.deepEqual(byLabels(stats)['ns/web/a'], [2, 0]);
  });

  test('a freed slot waits out the quarantine, then its new owner starts from zero', () => {
    let now = 1_000_000;
    const region = new Region();
    const stats = new TrafficStats(region.read, COUNTERS, 5, () => now);
    stats.assign(model()); // slots 0..3
    region.add(3, 9); // ns/api's
    stats.assign(model({ withApi: false })); // ns/api goes away: slot 3 quarantined
    assert.equal(stats.assign(model({ withApi: false, extra: 'one' }))[3], 4, 'a new slot, not the quarantined one');
    now += 121_000;
    const slots = stats.assign(model({ withApi: false, extra: 'two' }));
    assert.equal(slots[3], 3, 'the quarantined slot, now free');
    region.add(3, 1);
    const rows = byLabels(stats);
    assert.deepEqual(rows['ns/two/x'], [1, 0]);
    assert.equal(rows['ns/api/a'], undefined);
  });

  test("a restarted controller keeps the slots of the table the last one left, and quarantines the ones it did not use", () => {
    let now = 1_000_000;
    const region = new Region();
    // The killed controller's table: slots given in the order objects came, not this model's order.
    const left = model({ withApi: false, extra: 'one' });
    const leftSlots = [4, 0, 2, 1]; // ns/web→a, ns/web→b (default), the controller's default, ns/one→x; 3 was freed
    left.backends.forEach((b, i) => (b.options = { statsSlot: leftSlots[i]! }));
    region.add(4, 30); // what ATS counted for ns/web → ns/a before this controller started
    const stats = new TrafficStats(region.read, COUNTERS, 6, () => now);
    stats.adopt(left);
    const slots = stats.assign(model({ extra: 'one' })); // ns/api came back meanwhile
    assert.deepEqual([...slots], [4, 0, 2, 5, 1], 'the pairs still there keep their slots; ns/api gets a new one, not the quarantined 3');
    region.add(4, 2);
    assert.deepEqual(byLabels(stats)['ns/web/a'], [2, 0], 'counted from when this controller took the slot over');
    now += 121_000;
    assert.equal(stats.assign(model({ extra: 'one', withApi: true }))[3], 5);
    assert.equal(stats.assign(model({ withApi: false, extra: 'two' }))[3], 3, 'slot 3 is free once its quarantine is over');
  });

  test('a damaged previous table (a slot twice, one out of range) is taken over only where it is sound', () => {
    const left = model();
    [0, 0, 99, 1].forEach((slot, i) => (left.backends[i]!.options = { statsSlot: slot }));
    const stats = new TrafficStats(new Region().read, COUNTERS, 10);
    stats.adopt(left);
    const slots = [...stats.assign(model())];
    assert.equal(new Set(slots).size, 4, `one slot per pair: ${slots}`);
    assert.equal(slots[0], 0);
    assert.equal(slots[3], 1);
  });

  test('when ATS starts again the counters keep growing from what they had', () => {
    const region = new Region();
    const stats = new TrafficStats(region.read, COUNTERS, 100);
    stats.assign(model());
    region.add(0, 10, 3);
    assert.deepEqual(byLabels(stats)['ns/web/a'], [10, 3]);
    region.restart();
    region.add(0, 4);
    assert.deepEqual(byLabels(stats)['ns/web/a'], [14, 3]);
  });

  test('before ATS made its region: zero, and counting starts with it', () => {
    const region = new Region();
    region.exists = false;
    const stats = new TrafficStats(region.read, COUNTERS, 100);
    stats.assign(model());
    assert.deepEqual(byLabels(stats)['ns/web/a'], [0, 0]);
    region.exists = true;
    region.add(0, 3);
    assert.deepEqual(byLabels(stats)['ns/web/a'], [3, 0]);
  });

  test('more (Ingress, Service) pairs than slots: the rest are not counted, and it says so', () => {
    const stats = new TrafficStats(new Region().read, COUNTERS, 3);
    const slots = stats.assign(model());
    assert.equal(slots.filter((s) => s === NONE).length, 1);
    assert.equal(stats.full, true);
  });
});
