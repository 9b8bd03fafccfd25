// The table outlives its writer: a child Node process publishes and is killed
// with SIGKILL; the traffic_server that was running keeps serving, a
// traffic_server started afterwards serves the table on its first request, and
// a new writer continues the generations.
//
// Run: bash scripts/build.sh && node --test dist/test/plugin/survival.test.js

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';

import { RouteTable, type TableModel } from '../../src/route-table/route-table.js';
import { startAts, type AtsInstance } from '../harness/ats.js';
import { closeBackends, startBackend, type Backend } from '../harness/backends.js';
import { backendOf, echoOf, fromService, pluginSetup, requestUntil, ROOT, tableName } from './helpers.js';

const name = tableName('survival');
const CTL = `/dev/shm/ats-ingress.${name}.ctl`;
const CHILD_TIMEOUT_MS = 15_000;

let first: Backend;
let second: Backend;
let atsBefore: AtsInstance | undefined;
let atsAfter: AtsInstance | undefined;
let child: ChildProcess | undefined;
let childGeneration = 0n;

function model(service: string, pod: Backend): TableModel {
  return {
    backends: [backendOf(service, [pod])],
    hosts: [{ name: 'survive.test', rules: [{ path: '/', pathType: 'Prefix', backend: 0, source: 'ns/survive' }] }],
  };
}

/** The writer pid the control block records (u64 at byte 32). */
function writerPid(): number {
  return Number(readFileSync(CTL).readBigUInt64LE(32));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

before(async () => {
  first = await startBackend({ service: 'ns/first', pod: 'first-0' });
  second = await startBackend({ service: 'ns/second', pod: 'second-0' });
  atsBefore = await startAts(pluginSetup('global', name));
});

after(async () => {
  if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all([atsBefore?.stop({ kill: true }), atsAfter?.stop({ kill: true })]);
  const t = RouteTable.open(name);
  t.remove();
  t.close();
  await closeBackends([first, second]);
});

test('a child process publishes, then dies by SIGKILL: the running ATS keeps serving', async () => {
  const addon = pathToFileURL(resolve(ROOT, 'dist/src/route-table/route-table.js')).href;
  const code = `
    import { RouteTable } from ${JSON.stringify(addon)};
    const [name, model] = process.argv.slice(1);
    const t = RouteTable.open(name);
    const r = t.publish(JSON.parse(model));
    console.log('published ' + r.generation + ' ' + process.pid);
    setInterval(() => {}, 1000); // stay alive until killed
  `;
  child = spawn(process.execPath, ['--input-type=module', '-e', code, name, JSON.stringify(model('ns/first', first))], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const c = child;
  const line = await new Promise<string>((resolvePromise, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`child did not publish within ${CHILD_TIMEOUT_MS} ms: ${err}`)), CHILD_TIMEOUT_MS);
    c.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /published (\d+) (\d+)\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolvePromise(m[0]);
      }
    });
    c.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    c.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`child exited (${code ?? signal}) before publishing: ${err}`));
    });
  });
  const [, gen, childPid] = /published (\d+) (\d+)/.exec(line) as RegExpExecArray;
  childGeneration = BigInt(gen as string);
  assert.equal(Number(childPid), c.pid);
  assert.equal(writerPid(), c.pid, 'the control block names the child as writer');

  const ats = atsBefore!;
  await requestUntil(ats, { host: 'survive.test', path: '/' }, fromService('ns/first'), 'the running ATS picks up the child table');

  const exited = new Promise<NodeJS.Signals | null>((r) => c.once('exit', (_code, signal) => r(signal)));
  c.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL');
  assert.equal(isAlive(c.pid!), false);
  assert.ok(existsSync(CTL), 'the control object outlives its writer');
  assert.ok(existsSync(`/dev/shm/ats-ingress.${name}.${childGeneration}`), 'the table object outlives its writer');

  for (let i = 0; i < 20; i++) {
    const echo = echoOf(await ats.request({ host: 'survive.test', path: `/after-kill/${i}`, fresh: i % 2 === 0 }));
    assert.equal(echo.service, 'ns/first');
  }
});

test('ATS started after the table was published serves it on its first request', async () => {
  // The writer is dead; nothing will publish until this test has made its request.
  atsAfter = await startAts(pluginSetup('remap', name));
  const r = await atsAfter.request({ host: 'survive.test', path: '/first-request', fresh: true });
  const echo = echoOf(r, 'first request to an ATS started after the publish');
  assert.equal(echo.service, 'ns/first');
  assert.equal(echo.url, '/first-request');
});

test('a new writer continues the generations; both ATS switch', async () => {
  const t = RouteTable.open(name);
  try {
    const { generation } = t.publish(model('ns/second', second));
    assert.equal(generation, childGeneration + 1n);
    assert.equal(writerPid(), process.pid);
  } finally {
    t.close();
  }
  for (const ats of [atsBefore!, atsAfter!]) {
    await requestUntil(ats, { host: 'survive.test', path: '/' }, fromService('ns/second'), 'the new writer table');
  }
});

// Every object of the name removed and a new writer starting again at
// generation 1: the plugin's poller notices the new control object.
test('a table removed and created again from scratch is picked up', async () => {
  const ats = atsBefore!;
  const gone = RouteTable.open(name);
  gone.remove();
  gone.close();
  const fresh = RouteTable.open(name);
  try {
    const { generation } = fresh.publish(model('ns/first', first));
    assert.equal(generation, 1n, 'a new control object starts again at generation 1');
    await requestUntil(ats, { host: 'survive.test', path: '/' }, fromService('ns/first'), 'the re-created table', 2_000);
  } finally {
    fresh.close();
  }
});
