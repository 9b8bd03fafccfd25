// The process library and the port helpers of the harness, on real processes.
// Run: npx tsc -p . && node --test dist/test/harness/processes.test.js

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';

import { freePort, isPortFree } from './ports.js';
import { liveGroupMembers, ManagedProcess, runCommand } from './processes.js';

/** Whether `pid` runs (a zombie waiting for its parent to reap it does not). */
function isAlive(pid: number): boolean {
  try {
    return !/^\S+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

test('runCommand collects stdout, stderr, the exit code, and feeds its input', async () => {
  const r = await runCommand('/bin/sh', ['-c', 'read line; echo "out:$line"; echo err >&2; exit 3'], { input: 'hello\n' });
  assert.equal(r.code, 3);
  assert.equal(r.signal, null);
  assert.equal(r.stdout, 'out:hello\n');
  assert.equal(r.stderr, 'err\n');
  assert.equal(r.timedOut, false);
  assert.equal(r.spawnError, undefined);
});

test('runCommand: the time bound kills the whole process group', async () => {
  const t0 = performance.now();
  // A background grandchild and a foreground one, both in the command's group.
  const r = await runCommand('/bin/sh', ['-c', 'sleep 30 & echo $!; sleep 30'], { timeoutMs: 300 });
  assert.equal(r.timedOut, true);
  assert.ok(performance.now() - t0 < 5_000, 'bounded');
  const grandchild = Number(r.stdout.trim());
  assert.ok(grandchild > 0, r.stdout);
  assert.equal(isAlive(grandchild), false, `background child ${grandchild} still runs`);
});

test('runCommand reports a command that cannot start', async () => {
  const r = await runCommand('/nonexistent/ats-ingress-no-such-command', []);
  assert.equal(r.code, null);
  assert.match(r.spawnError ?? '', /ENOENT/);
});

test('ManagedProcess: output, stop by SIGTERM, and nothing of its group left', async () => {
  const p = await ManagedProcess.start('/bin/sh', ['-c', 'sleep 30 & echo "child $!"; echo ready; wait'], { name: 'sh-test' });
  const m = await p.waitForOutput(/^child (\d+)$/m, 5_000);
  await p.waitForOutput(/^ready$/m, 5_000);
  const child = Number(m[1]);
  assert.ok(p.running);
  assert.deepEqual(p.groupMembers().sort(), [p.pid, child].sort());
  const status = await p.stop();
  assert.equal(status.signal, 'SIGTERM');
  assert.equal(p.running, false);
  assert.equal(isAlive(child), false);
  assert.deepEqual(liveGroupMembers(p.pid), []);
  assert.match(p.describeExit(), /sh-test \(pid \d+\) was killed by SIGTERM/);
  assert.deepEqual(await p.stop(), status, 'idempotent');
});

test('ManagedProcess: SIGKILL after the grace when SIGTERM is ignored; kill() at once', async () => {
  const stubborn = await ManagedProcess.start('/bin/sh', ['-c', "trap '' TERM; echo ready; while :; do sleep 0.1; done"], { graceMs: 300 });
  await stubborn.waitForOutput(/ready/, 5_000);
  const t0 = performance.now();
  const s = await stubborn.stop();
  assert.equal(s.signal, 'SIGKILL');
  assert.ok(performance.now() - t0 >= 250, 'waited for the grace');
  assert.deepEqual(liveGroupMembers(stubborn.pid), []);

  const other = await ManagedProcess.start('sleep', ['30']);
  const k = await other.kill();
  assert.equal(k.signal, 'SIGKILL');
  assert.deepEqual(liveGroupMembers(other.pid), []);
});

test('ManagedProcess: waitForOutput fails when the process exits first, naming how', async () => {
  const p = await ManagedProcess.start('/bin/sh', ['-c', 'echo bye; exit 7'], { name: 'quitter' });
  await assert.rejects(p.waitForOutput(/never/, 5_000), /quitter \(pid \d+\) exited with code 7 before its output matched/);
  assert.deepEqual(await p.exited, { code: 7, signal: null });
  assert.match(p.logTail(), /bye/);
});

test('ManagedProcess.start rejects a command that cannot start', async () => {
  await assert.rejects(ManagedProcess.start('/nonexistent/ats-ingress-no-such-daemon', []), /cannot start/);
});

test('isPortFree: true for a free port, false for one held', async () => {
  const port = await freePort();
  assert.equal(await isPortFree(port, '127.0.0.1'), true);
  const holder = net.createServer();
  await new Promise<void>((resolve) => holder.listen(port, '127.0.0.1', resolve));
  try {
    assert.equal(await isPortFree(port, '127.0.0.1'), false);
  } finally {
    await new Promise<void>((resolve) => holder.close(() => resolve()));
  }
  assert.equal(await isPortFree(port), true, 'free again');
});
