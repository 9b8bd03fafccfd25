// Upstream https: a backend whose scheme is 'https' (a Node https server with
// a self-signed certificate made by openssl) gets TLS from ATS; and the
// redirectToHttps option answers plain http with 308 and a Location, while the
// same request over TLS is routed. Both plugin modes.
//
// Run: bash scripts/build.sh && node --test dist/test/plugin/https.test.js

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { RouteTable } from '../../src/route-table/route-table.js';
import { startAts, type AtsInstance } from '../harness/ats.js';
import { runCommand } from '../harness/processes.js';
import { closeBackends, startBackend, type Backend } from '../harness/backends.js';
import { backendOf, echoOf, pluginSetup, tableName } from './helpers.js';

interface TlsEcho {
  service: string;
  tls: boolean;
  servername: string | false | null;
  host: string;
  url: string;
  method: string;
  body: string;
}

const table = RouteTable.open(tableName('https'));
let tmp: string;
let cert = '';
let key = '';
let tlsServer: https.Server | undefined;
let tlsPort = 0;
let plain: Backend;
let skipReason: string | undefined;

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'ats-ingress-ptest-tls-'));
  const gen = await runCommand(
    'openssl',
    [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-keyout', path.join(tmp, 'key.pem'), '-out', path.join(tmp, 'cert.pem'),
      '-subj', '/CN=secure.test', '-addext', 'subjectAltName=DNS:secure.test,DNS:redirect.test,IP:127.0.0.1',
    ],
    { timeoutMs: 15_000 },
  );
  if (gen.code !== 0) {
    skipReason = `openssl failed: ${gen.stderr.slice(0, 300)}`;
    return;
  }
  cert = await readFile(path.join(tmp, 'cert.pem'), 'utf8');
  key = await readFile(path.join(tmp, 'key.pem'), 'utf8');

  const server = https.createServer({ cert, key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const socket = req.socket as TLSSocket;
      const echo: TlsEcho = {
        service: 'ns/secure',
        tls: socket.encrypted === true,
        servername: socket.servername,
        host: req.headers.host ?? '',
        url: req.url ?? '',
        method: req.method ?? '',
        body: Buffer.concat(chunks).toString('utf8'),
      };
      const payload = JSON.stringify(echo);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
      res.end(payload);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => resolve());
  });
  tlsServer = server;
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no address');
  tlsPort = addr.port;
  plain = await startBackend({ service: 'ns/plain', pod: 'plain-0' });

  table.publish({
    backends: [
      { service: 'ns/secure', port: 'https', scheme: 'https', endpoints: [{ address: '127.0.0.1', port: tlsPort }] },
      backendOf('ns/plain', [plain], { options: { redirectToHttps: true } }),
    ],
    hosts: [
      { name: 'secure.test', rules: [{ path: '/', pathType: 'Prefix', backend: 0, source: 'ns/secure' }] },
      { name: 'redirect.test', rules: [{ path: '/', pathType: 'Prefix', backend: 1, source: 'ns/redirect' }] },
    ],
  });
});

after(async () => {
  table.remove();
  table.close();
  if (tlsServer) {
    const s = tlsServer;
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  }
  await closeBackends([plain]);
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

for (const mode of ['global', 'remap'] as const) {
  describe(`${mode} mode`, () => {
    let ats: AtsInstance | undefined;

    before(async () => {
      if (skipReason) return;
      ats = await startAts({
        ...pluginSetup(mode, table.name, ['--debug-header']),
        certs: [{ name: 'ingress', cert, key, default: true }],
      });
    });
    after(async () => {
      await ats?.stop({ kill: true });
    });

    test('an https backend gets TLS from ATS, with the client Host, path, query and body', async (t) => {
      if (skipReason || !ats) return t.skip(skipReason);
      const r = await ats.request({ host: 'secure.test', path: '/s/page?x=1', fresh: true });
      assert.equal(r.status, 200, r.body);
      const echo = JSON.parse(r.body) as TlsEcho;
      assert.equal(echo.service, 'ns/secure');
      assert.equal(echo.tls, true, 'the backend connection is TLS');
      assert.equal(echo.host, 'secure.test');
      assert.equal(echo.url, '/s/page?x=1');
      t.diagnostic(`SNI ATS sent upstream: ${JSON.stringify(echo.servername)}`);
      assert.match(String(r.headers['x-ats-ingress-route']), new RegExp(`service=ns/secure:https endpoint=127\\.0\\.0\\.1:${tlsPort} `));

      const post = await ats.request({ host: 'secure.test', method: 'POST', path: '/s/post', body: 'over tls', fresh: true });
      const postEcho = JSON.parse(post.body) as TlsEcho;
      assert.equal(postEcho.method, 'POST');
      assert.equal(postEcho.body, 'over tls');
      assert.equal(postEcho.tls, true);

      // The client side may be TLS too.
      const both = await ats.request({ host: 'secure.test', path: '/s/both', tls: true, fresh: true });
      assert.equal(both.status, 200, both.body);
      assert.equal((JSON.parse(both.body) as TlsEcho).tls, true);
    });

    test('redirectToHttps: plain http gets 308 with a Location', async (t) => {
      if (skipReason || !ats) return t.skip(skipReason);
      const before = plain.requests;
      for (const [reqPath, location] of [
        ['/', 'https://redirect.test/'],
        ['/a/b?x=1&y=2', 'https://redirect.test/a/b?x=1&y=2'],
      ] as const) {
        const r = await ats.request({ host: 'redirect.test', path: reqPath });
        assert.equal(r.status, 308, r.body);
        assert.equal(r.headers.location, location);
        assert.equal(r.body, '308 use https\n');
      }
      const post = await ats.request({ host: 'redirect.test', method: 'POST', path: '/form', body: 'a=1' });
      assert.equal(post.status, 308, 'POST is redirected too (308 keeps the method)');
      assert.equal(post.headers.location, 'https://redirect.test/form');
      assert.equal(plain.requests, before, 'the backend saw none of them');
    });

    test('redirectToHttps: the same request over TLS is routed', async (t) => {
      if (skipReason || !ats) return t.skip(skipReason);
      const r = await ats.request({ host: 'redirect.test', path: '/a/b?x=1', tls: true, fresh: true });
      const echo = echoOf(r, 'https to ATS');
      assert.equal(echo.service, 'ns/plain');
      assert.equal(echo.url, '/a/b?x=1');
      assert.equal(echo.host, 'redirect.test');
      assert.equal(r.headers.location, undefined);
    });
  });
}
