// Certificates served by SNI from the TLS table, through real Traffic Server
// with the plugin in global mode and an empty ssl_multicert.config: two
// exact names and a wildcard, unknown and absent SNI get the default,
// HTTP/2 over TLS 1.2 and 1.3, a renewal picked up with no reload, a
// corrupted TLS object refused while the last good one serves, per-host
// minimum version, mutual TLS (on, optional, refused), the verified subject
// handed to the pod, and forged client-certificate headers dropped.
import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import http2 from 'node:http2';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import { RouteTable, type TlsTable } from '../../src/route-table/route-table.js';
import { startAts, type AtsInstance } from '../harness/ats.js';
import { closeBackends, startBackend, type Backend } from '../harness/backends.js';
import { certKit, type CertKit, type Pem } from '../harness/certs.js';
import { runCommand } from '../harness/processes.js';
import { backendOf, pluginSetup, pollUntil, tableName } from './helpers.js';

const name = tableName('tls');
const SHM = `/dev/shm/ats-ingress.${name}.tls`;

let ats: AtsInstance;
let backend: Backend;
let kit: CertKit;
let clients: CertKit;
const certs: Record<string, Pem> = {};
const table = RouteTable.open(name);

interface Handshake {
  subject: string;
  fingerprint: string;
  alpn: string | false | null;
  protocol: string | null;
}

/** One new TLS connection: what the server presented. Verifies the chain against our CA when `verify`. */
async function handshake(servername: string | undefined, opts: { verify?: boolean; alpn?: string[]; version?: tls.SecureVersion; client?: Pem } = {}): Promise<Handshake> {
  const socket = tls.connect({
    host: '127.0.0.1',
    port: ats.httpsPort!,
    ...(servername !== undefined ? { servername } : {}),
    ca: kit.ca.cert,
    rejectUnauthorized: opts.verify ?? false,
    ...(opts.alpn ? { ALPNProtocols: opts.alpn } : {}),
    ...(opts.version ? { minVersion: opts.version, maxVersion: opts.version } : {}),
    ...(opts.client ? { cert: opts.client.cert, key: opts.client.key } : {}),
  });
  try {
    await Promise.race([once(socket, 'secureConnect'), once(socket, 'error').then(([e]) => Promise.reject(e as Error))]);
    const peer = socket.getPeerX509Certificate();
    return { subject: peer?.subject.replace(/\n/g, ', ') ?? '', fingerprint: peer?.fingerprint256 ?? '', alpn: socket.alpnProtocol, protocol: socket.getProtocol() };
  } finally {
    socket.destroy();
  }
}

/** An HTTP/1.1 request over a new TLS connection, with a client certificate when given. */
async function httpsGet(host: string, opts: { client?: Pem; headers?: Record<string, string>; servername?: string } = {}): Promise<{ status: number; body: string }> {
  const socket = tls.connect({ host: '127.0.0.1', port: ats.httpsPort!, servername: opts.servername ?? host, ca: kit.ca.cert, ...(opts.client ? { cert: opts.client.cert, key: opts.client.key } : {}) });
  try {
    await Promise.race([once(socket, 'secureConnect'), once(socket, 'error').then(([e]) => Promise.reject(e as Error))]);
    const extra = Object.entries(opts.headers ?? {}).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    socket.write(`GET /echo HTTP/1.1\r\nHost: ${host}\r\n${extra}Connection: close\r\n\r\n`);
    let text = '';
    socket.setEncoding('utf8');
    for await (const chunk of socket) text += chunk as string;
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
    return { status, body: text.slice(text.indexOf('\r\n\r\n') + 4) };
  } finally {
    socket.destroy();
  }
}

function tlsTable(over: Partial<TlsTable> = {}): TlsTable {
  const c = (secret: string, p: Pem) => ({ secret, chainPem: p.cert, keyPem: p.key, notAfter: Date.parse(new X509Certificate(p.cert).validTo) });
  return {
    certificates: [c('ns/a', certs.a!), c('ns/b', certs.b!), c('ns/wild', certs.wild!), c('sys/default', certs.default!)],
    policies: [],
    hosts: [{ name: '*.w.test', certificate: 2 }, { name: 'a.test', certificate: 0 }, { name: 'b.test', certificate: 1 }],
    defaultCertificate: 3,
    ...over,
  };
}

const fp = (p: Pem) => new X509Certificate(p.cert).fingerprint256;

before(async () => {
  [kit, clients] = await Promise.all([certKit('Server CA'), certKit('Client CA')]);
  certs.a = await kit.leaf('a.test');
  certs.b = await kit.leaf('b.test');
  certs.wild = await kit.leaf('*.w.test');
  certs.default = await kit.leaf('default.test');
  certs.mtls = await kit.leaf('mtls.test', { dns: ['mtls.test', 'opt.test', 'new.test'] });
  certs.renewed = await kit.leaf('a.test');
  certs.alice = await clients.leaf('alice', { client: true, subject: '/O=Example/CN=alice' });
  certs.mallory = await kit.leaf('mallory', { client: true });
  backend = await startBackend({ service: 'ns/web', pod: 'web-0' });
  const hosts = ['a.test', 'b.test', '*.w.test', 'mtls.test', 'opt.test', 'new.test', 'plain.test'];
  table.publish({ backends: [backendOf('ns/web', [backend])], hosts: hosts.map((h) => ({ name: h, rules: [{ path: '/', pathType: 'Prefix', backend: 0, source: 'ns/web' }] })) });
  table.publishTls(tlsTable());
  ats = await startAts({ https: true, ...pluginSetup('global', name) });
});

after(async () => {
  await ats?.stop({ kill: true });
  table.remove();
  table.close();
  await closeBackends([backend]);
  await kit?.close();
  await clients?.close();
});

describe('certificates by SNI from the TLS table', () => {
  test('ssl_multicert.config is empty: the plugin serves every certificate', () => {
    assert.equal(readFileSync(`${ats.etcDir}/ssl_multicert.config`, 'utf8'), '');
  });

  test('two exact names and a wildcard, each verified by a client that checks the name', async () => {
    for (const [sni, want] of [['a.test', certs.a!], ['b.test', certs.b!], ['x.w.test', certs.wild!]] as const) {
      const h = await handshake(sni, { verify: true });
      assert.equal(h.fingerprint, fp(want), sni);
    }
  });

  test('openssl s_client -servername sees the same', async () => {
    const caFile = `${ats.dir}/test-ca.pem`;
    writeFileSync(caFile, kit.ca.cert);
    for (const [sni, cn] of [['a.test', 'a.test'], ['y.w.test', '*.w.test']] as const) {
      const r = await runCommand('openssl', ['s_client', '-connect', `127.0.0.1:${ats.httpsPort}`, '-servername', sni, '-verify_return_error', '-CAfile', caFile], { input: '', timeoutMs: 15_000 });
      assert.match(r.stdout, new RegExp(`subject=CN = ${cn.replace(/[.*]/g, '\\$&')}`), r.stdout + r.stderr);
      assert.match(r.stdout, /Verify return code: 0 \(ok\)/);
    }
  });

  test('a wildcard covers one label only; unknown names and no SNI get the default', async () => {
    for (const sni of ['y.x.w.test', 'w.test', 'unknown.test', undefined]) {
      assert.equal((await handshake(sni)).fingerprint, fp(certs.default!), String(sni));
    }
  });

  test('HTTP/2 is negotiated (ALPN) over TLS 1.2 and TLS 1.3', async () => {
    for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
      const h = await handshake('a.test', { verify: true, alpn: ['h2', 'http/1.1'], version });
      assert.equal(h.protocol, version);
      assert.equal(h.alpn, 'h2', version);
    }
    // And a request over it reaches the pod.
    const session = http2.connect(`https://a.test:${ats.httpsPort}`, { ca: kit.ca.cert, createConnection: () => tls.connect({ host: '127.0.0.1', port: ats.httpsPort!, servername: 'a.test', ca: kit.ca.cert, ALPNProtocols: ['h2'] }) });
    try {
      const req = session.request({ ':path': '/h2' });
      const [headers] = (await once(req, 'response')) as [http2.IncomingHttpHeaders];
      let body = '';
      req.setEncoding('utf8');
      for await (const chunk of req) body += chunk as string;
      assert.equal(headers[':status'], 200);
      assert.equal(JSON.parse(body).pod, 'web-0');
    } finally {
      session.close();
    }
  });

  test('a renewal is served within milliseconds, with no reload and the same ATS', async () => {
    const pid = ats.pid;
    const times: number[] = [];
    for (let i = 0; i < 10; i++) {
      const next = i % 2 === 0 ? certs.renewed! : certs.a!;
      const t0 = performance.now();
      const certificates = [...tlsTable().certificates];
      certificates[0] = { ...certificates[0]!, chainPem: next.cert, keyPem: next.key };
      table.publishTls(tlsTable({ certificates }));
      const seen = await pollUntil('the renewed certificate', () => handshake('a.test'), (h) => h.fingerprint === fp(next), { timeoutMs: 5_000, intervalMs: 2 });
      times.push(performance.now() - t0);
      void seen;
    }
    times.sort((x, y) => x - y);
    console.log(`# publishTls → first handshake with the new certificate: p50 ${times[5]!.toFixed(1)} ms, max ${times[9]!.toFixed(1)} ms (10 renewals)`);
    assert.equal(ats.pid, pid);
  });

  test('a corrupted TLS object is refused; the last good certificates keep serving', async () => {
    table.publishTls(tlsTable());
    const before = (await handshake('b.test')).fingerprint;
    const gen = readFileSync(`${SHM}.ctl`).readBigUInt64LE(16) + 1n;
    const good = readFileSync(`${SHM}.${gen - 1n}`);
    const bad = Buffer.from(good);
    bad[bad.length - 10] ^= 0xff; // past the header: the checksum catches it
    writeFileSync(`${SHM}.${gen}`, bad, { mode: 0o600 });
    const buf = Buffer.alloc(8);
    buf.writeBigUInt64LE(gen);
    const fd = openSync(`${SHM}.ctl`, 'r+');
    writeSync(fd, buf, 0, 8, 16);
    closeSync(fd);
    await pollUntil('the refusal in the log', async () => (await ats.logs()).includes(`refused`), (v) => v, { timeoutMs: 5_000 });
    assert.equal((await handshake('b.test')).fingerprint, before);
    assert.match(await ats.logs(), /refused TLS table: .*still serving generation/);
    // A good table afterwards is taken.
    table.publishTls(tlsTable({ hosts: [{ name: 'b.test', certificate: 0 }] }));
    await pollUntil('the next good table', () => handshake('b.test'), (h) => h.fingerprint === fp(certs.a!), { timeoutMs: 5_000 });
  });
});

describe('per-host TLS policy', () => {
  before(() => {
    const base = tlsTable();
    table.publishTls({
      ...base,
      certificates: [...base.certificates, { secret: 'ns/mtls', chainPem: certs.mtls!.cert, keyPem: certs.mtls!.key, notAfter: 0 }],
      policies: [
        { verifyClient: 'on', caPem: clients.ca.cert, verifyDepth: 1 },
        { verifyClient: 'optional', caPem: clients.ca.cert, verifyDepth: 1 },
        { verifyClient: 'off', verifyDepth: 1, minVersion: 'TLSv1.3' },
        // A CA Secret that cannot be used: every handshake for the host fails (closed, not open).
        { verifyClient: 'refuse', verifyDepth: 1 },
      ],
      hosts: [
        ...base.hosts,
        { name: 'mtls.test', certificate: 4, policy: 0 },
        { name: 'new.test', certificate: 4, policy: 2 },
        { name: 'opt.test', certificate: 4, policy: 1 },
        { name: 'refused.test', certificate: 4, policy: 3 },
      ].sort((x, y) => (x.name < y.name ? -1 : 1)),
    });
  });

  test('tls-min-version TLSv1.3: a TLS 1.2 client is refused, a 1.3 one served', async () => {
    // new.test (and its certificate) is only in the policy table: once it is served, the table is live.
    await pollUntil('the policy table', () => handshake('new.test', { version: 'TLSv1.3' }).then((h) => h.fingerprint).catch(() => 'no'), (v) => v === fp(certs.mtls!), { timeoutMs: 5_000 });
    await assert.rejects(handshake('new.test', { version: 'TLSv1.2' }));
    assert.equal((await handshake('a.test', { version: 'TLSv1.2' })).protocol, 'TLSv1.2', 'other hosts keep TLS 1.2');
  });

  test('client certificates on: refused without one or with one of another CA; with a good one the pod gets the subject', async () => {
    await assert.rejects(httpsGet('mtls.test'), 'no client certificate');
    await assert.rejects(httpsGet('mtls.test', { client: certs.mallory! }), 'signed by another CA');
    const r = await httpsGet('mtls.test', { client: certs.alice!, headers: { 'ssl-client-subject-dn': 'CN=forged' } });
    assert.equal(r.status, 200, r.body);
    const seen = JSON.parse(r.body).headers as Record<string, string>;
    assert.equal(seen['ssl-client-verify'], 'SUCCESS');
    assert.equal(seen['ssl-client-subject-dn'], 'CN=alice,O=Example');
    assert.equal(seen['ssl-client-issuer-dn'], 'CN=Client CA');
  });

  test('a host whose client CA cannot be used refuses every handshake, with or without a client certificate', async () => {
    await assert.rejects(handshake('refused.test'));
    await assert.rejects(handshake('refused.test', { client: certs.alice! }));
    await assert.rejects(handshake('refused.test', { version: 'TLSv1.2', client: certs.alice! }));
  });

  test('optional: without a certificate the pod is told NONE', async () => {
    const r = await httpsGet('opt.test');
    assert.equal(r.status, 200, r.body);
    const seen = JSON.parse(r.body).headers as Record<string, string>;
    assert.equal(seen['ssl-client-verify'], 'NONE');
    assert.equal(seen['ssl-client-subject-dn'], undefined);
  });

  test('forged client-certificate headers never reach a pod, and a Host that is not the SNI host of a verified connection gets 421', async () => {
    const plain = await ats.request({ host: 'plain.test', path: '/', headers: { 'ssl-client-verify': 'SUCCESS', 'ssl-client-subject-dn': 'CN=admin' }, fresh: true });
    assert.equal(plain.status, 200);
    const seen = JSON.parse(plain.body).headers as Record<string, string>;
    assert.equal(seen['ssl-client-verify'], undefined);
    assert.equal(seen['ssl-client-subject-dn'], undefined);
    // SNI a.test (no client certificate asked) with Host mtls.test would skip the check.
    const sneaky = await httpsGet('mtls.test', { servername: 'a.test' });
    assert.equal(sneaky.status, 421);
  });
});
