import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { test } from 'node:test';
import { SerialTask } from './serial-task.js';

/** A task whose runs end when the test says so. */
function gated() {
  const ends: Array<() => void> = [];
  let runs = 0;
  let concurrent = 0;
  let most = 0;
  const task = new SerialTask(
    () => {
      runs++;
      concurrent++;
      most = Math.max(most, concurrent);
      return new Promise<void>((resolve) => ends.push(() => { concurrent--; resolve(); }));
    },
    () => undefined,
  );
  return { task, ends, runs: () => runs, most: () => most };
}

test('kicks while a run is under way make one more run after it, never two at once', async () => {
  const g = gated();
  g.task.kick();
  g.task.kick();
  g.task.kick();
  assert.equal(g.runs(), 1);
  g.ends.shift()!();
  await delay(1);
  assert.equal(g.runs(), 2, 'one rerun for the two kicks');
  g.ends.shift()!();
  await delay(1);
  assert.equal(g.runs(), 2);
  assert.equal(g.most(), 1);
});

test('a run that throws goes to onError, and the next kick runs', async () => {
  const errors: unknown[] = [];
  let runs = 0;
  const task = new SerialTask(async () => {
    runs++;
    if (runs === 1) throw new Error('boom');
  }, (err) => errors.push(err));
  task.kick();
  await delay(1);
  task.kick();
  await delay(1);
  assert.equal(runs, 2);
  assert.deepEqual(errors.map((e) => (e as Error).message), ['boom']);
});

test('retryIn kicks once after the delay, one timer at a time', async () => {
  let runs = 0;
  const task = new SerialTask(async () => void runs++, () => undefined);
  task.retryIn(20);
  task.retryIn(20);
  await delay(60);
  assert.equal(runs, 1);
});

test('stop() waits for the run under way, runs nothing after, and cancels a waiting retry', async () => {
  const g = gated();
  g.task.kick();
  g.task.kick(); // a rerun is due
  g.task.retryIn(10);
  let stopped = false;
  const stopping = g.task.stop().then(() => (stopped = true));
  await delay(1);
  assert.equal(stopped, false, 'the run is still under way');
  g.ends.shift()!();
  await delay(30);
  await stopping;
  assert.equal(g.task.stopped, true);
  assert.equal(g.runs(), 1, 'no rerun and no retry after stop()');
  g.task.kick();
  assert.equal(g.runs(), 1);
});
