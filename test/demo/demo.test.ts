// npm run demo, as a person would use it: start, the walkthrough's five
// requests, Ctrl-C, nothing left running; a port in use gives a clear error.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { httpRequest } from '../harness/ats.js';
import { freePorts } from '../harness/ports.js';

const DEMO = fileURLToPath(new URL('../../demo/run-demo.js', import.meta.url));

function startDemo(args: string[]) {
  const child = spawn(process.execPath, [DEMO, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`demo not ready in 60 s:\n${out}`)), 60_000);
    child.stdout.on('data', () => {
      if (out.includes('DEMO READY')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`demo exited (${code}):\n${out}`));
    });
  });
  return { child, ready, exited, output: () => out };
}

describe('npm run demo', () => {
  it('answers the walkthrough\'s five requests and stops cleanly on Ctrl-C', async () => {
    const [http, https, admin] = await freePorts(3);
    const table = `t-demo-${process.pid}`;
    const demo = startDemo(['--http-port', String(http), '--https-port', String(https), '--admin-port', String(admin), '--table', table]);
    try {
      await demo.ready;
      const out = demo.output();
      for (const c of [
        `curl -vH "HOST:test.media.com" "localhost:${http}/app1"`,
        `curl -vH "HOST:test.edge.com" -k "https://localhost:${https}/app2"`,
      ]) assert.ok(out.includes(c), `prints ${c}`);
      const get = (host: string, path: string, tls = false) =>
        httpRequest({ port: tls ? https! : http!, host, path, fresh: true, tls, servername: host });
      const r1 = await get('test.media.com', '/app1');
      const r2 = await get('test.media.com', '/app2');
      const r3 = await get('test.edge.com', '/app1');
      const r4 = await get('test.edge.com', '/app2');
      const r5 = await get('test.edge.com', '/app2', true);
      for (const r of [r1, r2, r3, r4, r5]) assert.equal(r.status, 200);
      assert.match(r1.body, /Hello from app1/);
      assert.equal(r1.body, r3.body, 'outputs 1 and 3 are the same');
      assert.match(r2.body, /A Small Hello/);
      assert.equal(r2.body, r4.body, 'outputs 2 and 4 are the same');
      assert.equal(r5.body, r4.body, 'the https one is like number 4');
      assert.match(String(r4.headers['x-pod']), /^trafficserver-test-3\/appsvc2-/);
      assert.match(String(r2.headers['x-pod']), /^trafficserver-test-2\/appsvc2-/);
    } finally {
      demo.child.kill('SIGINT');
    }
    assert.equal(await demo.exited, 0, demo.output());
    assert.match(demo.output(), /stopped/);
    for (const p of [http!, https!, admin!]) {
      const free = await new Promise<boolean>((res) => {
        const s = createServer().once('error', () => res(false)).listen(p, '127.0.0.1', () => s.close(() => res(true)));
      });
      assert.ok(free, `port ${p} is free again`);
    }
    assert.ok(!readdirSync('/dev/shm').some((f) => f.startsWith(`ats-ingress.${table}.`)), 'its table is gone');
  });

  it('names the port that is already in use', async () => {
    const [http, https, admin] = await freePorts(3);
    const blocker = createServer().listen(https, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    try {
      const demo = startDemo(['--http-port', String(http), '--https-port', String(https), '--admin-port', String(admin)]);
      await assert.rejects(demo.ready);
      assert.equal(await demo.exited, 1);
      assert.match(demo.output(), new RegExp(`port ${https} \\(https\\) is already in use`));
    } finally {
      blocker.close();
    }
  });
});
