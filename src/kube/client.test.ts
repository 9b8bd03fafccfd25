// The Kubernetes HTTP client's small parts, and its error reporting against
// a local HTTP server that answers like a broken or unfriendly API server.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient, encodeQuery, type RawWatchEvent } from './client.js';
import { KubeApiError, statusOf } from './errors.js';
import { kubeTime, microTime } from './time.js';

let server: http.Server;
let url = '';
let handler: (req: http.IncomingMessage, res: http.ServerResponse) => void = (_q, res) => res.end();

before(async () => {
  server = http.createServer((req, res) => handler(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

function client(): KubeClient {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: url, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'secret-token' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return new KubeClient(kc);
}

describe('kube-client', () => {
  test('helpers', () => {
    assert.equal(encodeQuery({ a: 'x y', b: undefined, c: 3, d: true }), '?a=x+y&c=3&d=true');
    assert.equal(encodeQuery({}), '');
    assert.match(microTime(new Date('2024-05-01T12:00:00.123Z')), /^2024-05-01T12:00:00\.123000Z$/);
    assert.equal(kubeTime(new Date('2024-05-01T12:00:00.123Z')), '2024-05-01T12:00:00Z');
    assert.deepEqual(statusOf({ kind: 'Status', code: 410, reason: 'Expired', message: 'too old' }), { code: 410, reason: 'Expired', message: 'too old' });
    assert.equal(statusOf({ kind: 'Pod' }), undefined);
    assert.equal(new KubeApiError('x', 410, 'HTTP_410').gone, true);
    assert.equal(new KubeApiError('x', 500, 'WATCH_500', 'Expired').gone, true);
    assert.equal(new KubeApiError('x', 403, 'HTTP_403', 'Forbidden').gone, false);
  });

  test('bad configuration says what is wrong', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kc-'));
    try {
      await assert.rejects(KubeClient.create({ kubeconfig: join(dir, 'missing.yaml') }), /cannot load kubeconfig .*missing\.yaml: .*ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const saved = { h: process.env['KUBERNETES_SERVICE_HOST'], p: process.env['KUBERNETES_SERVICE_PORT'] };
    delete process.env['KUBERNETES_SERVICE_HOST'];
    delete process.env['KUBERNETES_SERVICE_PORT'];
    try {
      await assert.rejects(KubeClient.create({}), /not running in a cluster .*pass --kubeconfig/);
    } finally {
      if (saved.h !== undefined) process.env['KUBERNETES_SERVICE_HOST'] = saved.h;
      if (saved.p !== undefined) process.env['KUBERNETES_SERVICE_PORT'] = saved.p;
    }
  });

  test('requests: auth header, JSON both ways, Status errors typed, timeouts, aborts', async () => {
    const c = client();
    try {
      let seen: { auth?: string; ct?: string; body: string; url?: string } = { body: '' };
      handler = (req, res) => {
        let body = '';
        req.on('data', (d: Buffer) => (body += d));
        req.on('end', () => {
          seen = { auth: req.headers.authorization, ct: req.headers['content-type'], body, url: req.url };
          if (req.url?.startsWith('/forbidden')) {
            res.writeHead(403, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ kind: 'Status', status: 'Failure', reason: 'Forbidden', code: 403, message: 'nope, you cannot' }));
          } else if (req.url?.startsWith('/slow')) {
            const t = setTimeout(() => res.end('{}'), 2_000);
            res.on('close', () => clearTimeout(t));
          } else if (req.url?.startsWith('/html')) {
            res.writeHead(502);
            res.end('<html>bad gateway</html>');
          } else {
            res.end(JSON.stringify({ ok: true }));
          }
        });
      };
      assert.deepEqual(await c.request({ method: 'PATCH', path: '/x', query: { a: 1 }, body: { b: 2 } }), { ok: true });
      assert.equal(seen.auth, 'Bearer secret-token');
      assert.equal(seen.ct, 'application/merge-patch+json');
      assert.equal(seen.body, '{"b":2}');
      assert.equal(seen.url, '/x?a=1');

      await assert.rejects(c.request({ method: 'GET', path: '/forbidden' }), (e: KubeApiError) => {
        assert.ok(e instanceof KubeApiError);
        assert.equal(e.status, 403);
        assert.equal(e.reason, 'Forbidden');
        assert.equal(e.message, 'GET /forbidden: HTTP 403 Forbidden: nope, you cannot');
        return true;
      });
      await assert.rejects(c.request({ method: 'GET', path: '/html' }), /GET \/html: HTTP 502: <html>bad gateway<\/html>/);
      await assert.rejects(c.request({ method: 'GET', path: '/slow', timeoutMs: 100 }), (e: KubeApiError) => e.code === 'TIMEOUT');
      const ctrl = new AbortController();
      setTimeout(() => ctrl.abort(), 50);
      await assert.rejects(c.request({ method: 'GET', path: '/slow', signal: ctrl.signal }), (e: KubeApiError) => e.aborted);
    } finally {
      c.close();
    }
  });

  test('connection refused is a typed error with the code', async () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: 'http://127.0.0.1:1', skipTLSVerify: true }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const c = new KubeClient(kc);
    await assert.rejects(c.request({ method: 'GET', path: '/api' }), (e: KubeApiError) => e.status === 0 && e.code === 'ECONNREFUSED');
    c.close();
  });

  test('watch: lines split across chunks, several per chunk, a clean end, a broken stream, an error status', async () => {
    const c = client();
    try {
      handler = (req, res) => {
        if (req.url?.includes('status')) {
          res.writeHead(410, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' }));
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        const ev = (n: number) => JSON.stringify({ type: 'ADDED', object: { metadata: { name: `o${n}` } } }) + '\n';
        const two = ev(1) + ev(2);
        res.write(two.slice(0, 10));
        setTimeout(() => {
          res.write(two.slice(10) + ev(3));
          if (req.url?.includes('broken')) setTimeout(() => res.socket?.destroy(), 20);
          else setTimeout(() => res.end(), 20);
        }, 20);
      };
      const batches: string[][] = [];
      let opened = 0;
      const onEvents = (evs: readonly RawWatchEvent[]) => batches.push(evs.map((e) => (e.object as { metadata: { name: string } }).metadata.name));
      await c.watch({ path: '/w', query: {}, signal: new AbortController().signal, onOpen: () => opened++, onEvents });
      assert.equal(opened, 1);
      assert.deepEqual(batches, [['o1', 'o2', 'o3']]);
      batches.length = 0;
      await assert.rejects(c.watch({ path: '/broken', query: {}, signal: new AbortController().signal, onEvents }), (e: KubeApiError) => e.code === 'ECONNRESET');
      assert.deepEqual(batches, [['o1', 'o2', 'o3']]);
      await assert.rejects(c.watch({ path: '/status', query: {}, signal: new AbortController().signal, onEvents }), (e: KubeApiError) => e.gone && /too old resource version/.test(e.message));
    } finally {
      c.close();
    }
  });
});
