// The route-table publisher through the real addon: a table is published
// once per change, and the memory the addon freed goes back to the system
// once publishing pauses, not between the publishes of a burst.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, test } from 'node:test';
import { buildConfig } from '../config/config.js';
import { build, buildContext } from '../model/build.js';
import { silentLogger } from '../observe/logger.js';
import { controllerMetrics } from '../observe/metrics.js';
import { RouteTable, trimNativeMemory } from '../route-table/route-table.js';
import { ingress, ingressClass, prefix, service, slice, snapshotFrom } from '../testing/fixtures.js';
import { RouteTablePublisher, TRIM_AFTER_MS } from './route-table-publisher.js';

const NAME = `t-rtpub-${process.pid}`;
const metrics = controllerMetrics();
after(() => {
  const t = RouteTable.open(NAME);
  t.remove();
  t.close();
});

function result(endpoint: string) {
  return build(snapshotFrom([
    ingressClass('ats'),
    ingress('ns/web').className('ats').rule('web.example', prefix('/', 'web', 80)),
    service('ns/web').port('http', 80, 8080),
    slice('ns/web').port('http', 8080).ready(endpoint),
  ]), buildConfig(), buildContext());
}

test('trimNativeMemory answers whether memory went back, and can be asked at any time', () => {
  assert.equal(typeof trimNativeMemory(), 'boolean');
  assert.equal(typeof trimNativeMemory(), 'boolean');
});

test('freed memory goes back once publishing pauses for TRIM_AFTER_MS, once per burst', async () => {
  const p = new RouteTablePublisher(NAME, silentLogger, metrics);
  try {
    await p.publish(result('10.0.0.1'));
    const first = p.last!.generation;
    await sleep(TRIM_AFTER_MS / 2);
    await p.publish(result('10.0.0.2'));
    assert.ok(p.last!.generation > first);
    // The second publish put it off: nothing yet where the first alone would have trimmed.
    await sleep(TRIM_AFTER_MS * 0.7);
    assert.equal(p.trims, 0);
    await sleep(TRIM_AFTER_MS * 0.6);
    assert.equal(p.trims, 1);
    // An unchanged model publishes nothing, so it asks for nothing.
    await p.publish(result('10.0.0.2'));
    await sleep(TRIM_AFTER_MS * 1.3);
    assert.equal(p.trims, 1);
  } finally {
    p.close();
  }
});

test('a publisher closed before the pause ends asks for nothing', async () => {
  const p = new RouteTablePublisher(NAME, silentLogger, metrics);
  await p.publish(result('10.0.0.3'));
  p.close();
  await sleep(TRIM_AFTER_MS * 1.3);
  assert.equal(p.trims, 0);
});

test('a publisher started over the table a previous one left keeps its (Ingress, Service) slots', async () => {
  const name = `${NAME}-adopt`;
  const objects = (withA: boolean) => [
    ingressClass('ats'),
    ...(withA ? [ingress('ns/a').className('ats').rule('a.example', prefix('/', 'a', 80)), service('ns/a').port('http', 80, 8080), slice('ns/a').port('http', 8080).ready('10.0.0.1')] : []),
    ingress('ns/b').className('ats').rule('b.example', prefix('/', 'b', 80)),
    service('ns/b').port('http', 80, 8080),
    slice('ns/b').port('http', 8080).ready('10.0.0.2'),
  ];
  const slotOf = (t: RouteTable, svc: string) => t.read().backends.find((b) => b.service === svc)?.options?.statsSlot;
  const reader = RouteTable.open(name);
  try {
    const first = new RouteTablePublisher(name, silentLogger, metrics);
    await first.publish(build(snapshotFrom(objects(true)), buildConfig(), buildContext()));
    first.close();
    const [a, b] = [slotOf(reader, 'ns/a'), slotOf(reader, 'ns/b')];
    assert.ok(a !== undefined && b !== undefined && a !== b);
    // A publisher that had not read the old table would give ns/b the first slot.
    assert.notEqual(b, 0, 'ns/b was not given the first slot, so keeping it is seen');
    const second = new RouteTablePublisher(name, silentLogger, metrics);
    await second.publish(build(snapshotFrom(objects(false)), buildConfig(), buildContext()));
    second.close();
    assert.equal(slotOf(reader, 'ns/b'), b);
    assert.equal(slotOf(reader, 'ns/a'), undefined);
  } finally {
    reader.remove();
    reader.close();
  }
});
