// HTTPS listeners of Gateways through real Traffic Server: objects built by
// build(), published by the controller's own publishers (route table and
// TLS table), and TLS connections made to each Gateway's address. A
// connection is served its Gateway's certificate by SNI (the most specific
// listener hostname: exact, then wildcard, one or more labels), never
// another Gateway's or an Ingress's, and no listener taking the name fails
// the handshake; an HTTP request over it is routed by the listener's
// HTTPRoute.
//
// Run: bash scripts/build.sh && node --test dist/test/plugin/gateway-tls.test.js

import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';

import { buildConfig } from '../../src/config/config.js';
import { parseAddressRange, parseGatewayPorts, type AddressRange, type GatewayPorts } from '../../src/config/gateway.js';
import { build } from '../../src/model/build.js';
import { silentLogger } from '../../src/observe/logger.js';
import { controllerMetrics } from '../../src/observe/metrics.js';
import { TlsPublisher } from '../../src/publish/tls-publisher.js';
import { RouteTable } from '../../src/route-table/route-table.js';
import { app, ingress, ingressClass, prefix, snapshotFrom, tlsSecret, type ObjectLike } from '../../src/testing/fixtures.js';
import { backend, gateway, gatewayClass, httpRoute, prefixPath, match } from '../../src/testing/gateway-fixtures.js';
import { isInvalid } from '../../src/validate/invalid.js';
import { startAts, type AtsInstance } from '../harness/ats.js';
import { closeBackends, startBackend, type Backend, type BackendEcho } from '../harness/backends.js';
import { certKit, type CertKit, type Pem } from '../harness/certs.js';
import { pluginSetup, pollUntil, tableName } from './helpers.js';

// Addresses of this process's own (gateway.test.ts takes 127.77.x), so that
// parallel runs do not meet.
const NET = `127.79.${process.pid % 250}`;
const ONE = `${NET}.1`;
const TWO = `${NET}.2`;

const name = tableName('gwtls');
let ats: AtsInstance;
let kit: CertKit;
let table: RouteTable | undefined;
let tlsPublisher: TlsPublisher | undefined;
const pods: Record<string, Backend> = {};
const certs: Record<string, Pem> = {};

function ok<T>(v: T | { invalid: string }): T {
  if (isInvalid(v)) throw new Error(v.invalid);
  return v;
}

const fp = (p: Pem) => new X509Certificate(p.cert).fingerprint256;

function objects(): ObjectLike[] {
  const svc = (key: string) => app(key, 80, pods[key]!.port, '127.0.0.1');
  const secret = (key: string, p: Pem) => tlsSecret(key).cert(p.cert, p.key);
  const https = (secretName: string, hostname: string) => ({ protocol: 'HTTPS', hostname, certificates: [secretName] });
  return [
    ...svc('app/web'), ...svc('app/api'), ...svc('app/canary'), ...svc('other/ing'),
    secret('app/one-cert', certs.one!), secret('app/two-cert', certs.two!), secret('app/wild-cert', certs.wild!),
    secret('app/deep-cert', certs.deep!), secret('other/ing-cert', certs.ingress!),
    gatewayClass('ats'),
    // Two Gateways with an HTTPS listener for the same hostname: only the address tells them apart.
    gateway('app/one').listener('https', 443, https('one-cert', 'same.test'))
      .listener('wild', 443, https('wild-cert', '*.wild.test')).listener('deep', 443, https('deep-cert', '*.deep.wild.test')).created(1),
    gateway('app/two').listener('https', 443, https('two-cert', 'same.test')).created(2),
    httpRoute('app/on-one').parent('app/one', { sectionName: 'https' }).rule({ backends: [backend('web', 80)] }),
    httpRoute('app/on-two').parent('app/two').rule({ backends: [backend('api', 80)] }),
    httpRoute('app/wild').parent('app/one', { sectionName: 'wild' }).rule({ matches: [match({ path: prefixPath('/') })], backends: [backend('canary', 80)] }),
    // An Ingress for the same host with its own certificate, on ATS's own address.
    ingressClass('ats'),
    ingress('other/ing').className('ats').tls('ing-cert', 'same.test').rule('same.test', prefix('/', 'ing', 80)),
  ];
}

interface Handshake {
  fingerprint: string;
  subject: string;
}

// The chain is verified against the test CA; the name is not: X.509
// wildcards cover one label, a Gateway listener's one or more, and which
// certificate was presented is what these tests check.
const chainOnly = { ca: '', rejectUnauthorized: true, checkServerIdentity: () => undefined };

/** One new TLS connection to `address`: the certificate presented. */
async function handshake(address: string, servername: string | undefined): Promise<Handshake> {
  const socket = tls.connect({ ...chainOnly, ca: kit.ca.cert, host: address, port: ats.httpsPort!, ...(servername !== undefined ? { servername } : {}) });
  try {
    await Promise.race([once(socket, 'secureConnect'), once(socket, 'error').then(([e]) => Promise.reject(e as Error))]);
    const peer = socket.getPeerX509Certificate();
    return { fingerprint: peer?.fingerprint256 ?? '', subject: peer?.subject.replace(/\n/g, ', ') ?? '' };
  } finally {
    socket.destroy();
  }
}

/** Which of our certificates `address` presents for `servername`, or "refused" when the handshake fails. */
async function presented(address: string, servername: string | undefined): Promise<string> {
  let h: Handshake;
  try {
    h = await handshake(address, servername);
  } catch {
    return 'refused';
  }
  const known = Object.entries(certs).find(([, p]) => fp(p) === h.fingerprint);
  return known ? known[0] : `unknown: ${h.subject}`;
}

/** An HTTP/1.1 request over a new TLS connection to `address`: the echoing pod's answer. */
async function httpsGet(address: string, host: string, path = '/'): Promise<{ status: number; echo?: BackendEcho; body: string }> {
  const socket = tls.connect({ ...chainOnly, ca: kit.ca.cert, host: address, port: ats.httpsPort!, servername: host });
  try {
    await Promise.race([once(socket, 'secureConnect'), once(socket, 'error').then(([e]) => Promise.reject(e as Error))]);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    let text = '';
    socket.setEncoding('utf8');
    for await (const chunk of socket) text += chunk as string;
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
    const body = text.slice(text.indexOf('\r\n\r\n') + 4);
    let echo: BackendEcho | undefined;
    try {
      echo = status === 200 ? (JSON.parse(body) as BackendEcho) : undefined;
    } catch {
      echo = undefined;
    }
    return { status, body, ...(echo ? { echo } : {}) };
  } finally {
    socket.destroy();
  }
}

before(async () => {
  kit = await certKit('Gateway CA');
  // Three certificates for the same name: one per Gateway, one for the Ingress.
  certs.one = await kit.leaf('same.test');
  certs.two = await kit.leaf('same.test');
  certs.ingress = await kit.leaf('same.test');
  certs.wild = await kit.leaf('*.wild.test');
  certs.deep = await kit.leaf('*.deep.wild.test');
  for (const key of ['app/web', 'app/api', 'app/canary', 'other/ing']) pods[key] = await startBackend({ service: key, pod: `${key}-0` });
  ats = await startAts({ https: true, ...pluginSetup('global', name), cache: false, alsoBind: [ONE, TWO] });
  const config = buildConfig({
    gatewayAddresses: ok<AddressRange>(parseAddressRange(`${NET}.0/29`)),
    gatewayPorts: ok<GatewayPorts>(parseGatewayPorts(`443=${ats.httpsPort}`)),
  });
  const result = build(snapshotFrom(objects()), config);
  assert.deepEqual([...result.gateway.addresses], [['app/one', ONE], ['app/two', TWO]]);
  assert.deepEqual(result.problems.filter((p) => p.severity === 'Error'), []);
  table = RouteTable.open(name);
  table.publish(result.model.table);
  tlsPublisher = new TlsPublisher(name, silentLogger, controllerMetrics());
  await tlsPublisher.publish(result);
  await pollUntil('the TLS table is served', () => presented(ONE, 'same.test'), (v) => v === 'one', { timeoutMs: 15_000 });
});

after(async () => {
  await ats?.stop({ kill: true });
  tlsPublisher?.close();
  table?.remove();
  table?.close();
  await closeBackends(Object.values(pods));
  await kit?.close();
});

describe('HTTPS listeners of Gateways through ATS', () => {
  test('two Gateways with listeners for the same hostname present their own certificates; the Ingress keeps ATS\'s own address', async () => {
    assert.equal(await presented(ONE, 'same.test'), 'one');
    assert.equal(await presented(TWO, 'same.test'), 'two');
    assert.equal(await presented(TWO, 'SAME.test'), 'two');
    assert.equal(await presented('127.0.0.1', 'same.test'), 'ingress');
  });

  test('a wildcard listener takes one or more labels, the one with more labels first, never its apex', async () => {
    assert.equal(await presented(ONE, 'a.wild.test'), 'wild');
    assert.equal(await presented(ONE, 'a.b.wild.test'), 'wild');
    assert.equal(await presented(ONE, 'x.deep.wild.test'), 'deep');
    assert.equal(await presented(ONE, 'deep.wild.test'), 'wild');
  });

  test('SNI selects among that Gateway\'s listeners only: no match fails the handshake, no Ingress or default certificate', async () => {
    assert.equal(await presented(TWO, 'a.wild.test'), 'refused');
    assert.equal(await presented(ONE, 'wild.test'), 'refused');
    assert.equal(await presented(ONE, 'elsewhere.test'), 'refused');
    assert.equal(await presented(ONE, undefined), 'refused');
    // ATS is still serving.
    assert.equal(await presented(ONE, 'same.test'), 'one');
  });

  test("an HTTP request over TLS to a Gateway's HTTPS listener is routed by its HTTPRoute", async () => {
    const one = await httpsGet(ONE, 'same.test');
    assert.equal(one.status, 200, one.body);
    assert.equal(one.echo?.service, 'app/web');
    const two = await httpsGet(TWO, 'same.test');
    assert.equal(two.echo?.service, 'app/api', two.body);
    const wild = await httpsGet(ONE, 'a.b.wild.test', '/x');
    assert.equal(wild.echo?.service, 'app/canary', wild.body);
    const ing = await httpsGet('127.0.0.1', 'same.test');
    assert.equal(ing.echo?.service, 'other/ing', ing.body);
  });
});
