// The TLS publisher through the real addon: what each host is served, the
// last good certificate kept when a Secret turns bad (also across a
// controller restart), forgotten when no host asks for it, and nothing
// published when nothing changed.
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { buildConfig } from '../config/config.js';
import { build, buildContext } from '../model/build.js';
import { silentLogger } from '../observe/logger.js';
import { controllerMetrics } from '../observe/metrics.js';
import { RouteTable } from '../route-table/route-table.js';
import { CA_CERT, FIXTURE_CERT, OTHER_CERT, OTHER_KEY } from '../testing/fixture-certs.js';
import { ingress, ingressClass, prefix, snapshotFrom, tlsSecret, type ObjectLike } from '../testing/fixtures.js';
import { gateway, gatewayClass } from '../testing/gateway-fixtures.js';
import { parseGatewayPorts, type GatewayPorts } from '../config/gateway.js';
import { TlsPublisher } from './tls-publisher.js';

const NAME = `t-tlspub-${process.pid}`;
const NOW = Date.parse('2030-01-01T00:00:00Z');
const ours = ingressClass('ats');
const ing = (key: string) => ingress(key).className('ats');

function result(objects: ObjectLike[], config = buildConfig()) {
  return build(snapshotFrom(objects), config, buildContext(NOW));
}

/** What the live TLS table serves each host, as `host: secret` (or `default`), plus the default. */
function served(): string[] {
  const t = RouteTable.open(NAME);
  try {
    const live = t.readTls(false);
    const lines = live.hosts.map((h) => `${h.name}: ${h.certificate !== undefined ? live.certificates[h.certificate]!.secret : 'default'}`);
    if (live.defaultCertificate !== undefined) lines.push(`default: ${live.certificates[live.defaultCertificate]!.secret}`);
    return lines;
  } finally {
    t.close();
  }
}

function chainOf(host: string): string | undefined {
  const t = RouteTable.open(NAME);
  try {
    const live = t.readTls(true);
    const h = live.hosts.find((x) => x.name === host);
    return h?.certificate !== undefined ? live.certificates[h.certificate]!.chainPem : undefined;
  } finally {
    t.close();
  }
}

describe('TlsPublisher', () => {
  const publishers: TlsPublisher[] = [];
  const publisher = () => {
    const p = new TlsPublisher(NAME, silentLogger, controllerMetrics());
    publishers.push(p);
    return p;
  };
  after(() => {
    for (const p of publishers) p.close();
    const t = RouteTable.open(NAME);
    t.remove();
    t.close();
  });

  test('publishes each host\'s certificate; the objects are readable by their owner only', async () => {
    const p = publisher();
    await p.publish(result([ours, tlsSecret('ns/cert'), tlsSecret('ns/other').cert(OTHER_CERT, OTHER_KEY), ing('ns/web').tls('cert', 'a.com').tls('other', 'other.test').tls(undefined, 'b.com')]));
    assert.deepEqual(served(), ['a.com: ns/cert', 'b.com: default', 'other.test: ns/other']);
    assert.equal(chainOf('a.com'), FIXTURE_CERT);
    assert.equal(statSync(`/dev/shm/ats-ingress.${NAME}.tls.${p.last!.generation}`).mode & 0o777, 0o600);
  });

  test("a Gateway's HTTPS listeners: their certificates by address, port and hostname, shared with the Ingresses' by Secret", async () => {
    const p = publisher();
    const config = buildConfig({ gatewayPorts: parseGatewayPorts('443=18443') as GatewayPorts });
    await p.publish(result([
      ours, gatewayClass('ats'), tlsSecret('ns/cert'), tlsSecret('ns/other').cert(OTHER_CERT, OTHER_KEY), ing('ns/web').tls('cert', 'a.com'),
      gateway('ns/gw').listener('exact', 443, { protocol: 'HTTPS', hostname: 'a.com', certificates: ['cert'] }).listener('any', 443, { protocol: 'HTTPS', certificates: ['other'] }),
    ], config));
    const t = RouteTable.open(NAME);
    try {
      const live = t.readTls(false);
      assert.deepEqual(live.certificates.map((c) => c.secret), ['ns/cert', 'ns/other']);
      assert.deepEqual(live.gatewayListeners?.map((l) => `${l.address}:${l.port} ${l.hostname || '(any)'} ${live.certificates[l.certificate]!.secret} ${l.gateway}/${l.listener}`), [
        '127.0.1.1:18443 a.com ns/cert ns/gw/exact',
        '127.0.1.1:18443 (any) ns/other ns/gw/any',
      ]);
    } finally {
      t.close();
    }
    assert.deepEqual(served(), ['a.com: ns/cert']);
  });

  test('nothing changed: nothing published', async () => {
    const p = publishers[0]!;
    const before = p.last!.generation;
    await p.publish(result([ours, tlsSecret('ns/cert'), tlsSecret('ns/other').cert(OTHER_CERT, OTHER_KEY), ing('ns/web').tls('cert', 'a.com').tls('other', 'other.test').tls(undefined, 'b.com')]));
    assert.equal(p.last!.generation, before);
  });

  test('a Secret that turns bad: its hosts keep the certificate they had, and a restarted controller keeps it too', async () => {
    const p = publishers[0]!;
    const broken = tlsSecret('ns/cert').cert(FIXTURE_CERT, OTHER_KEY); // a key that does not match
    await p.publish(result([ours, broken, tlsSecret('ns/other').cert(OTHER_CERT, OTHER_KEY), ing('ns/web').tls('cert', 'a.com').tls('other', 'other.test')]));
    assert.deepEqual(served(), ['a.com: ns/cert', 'other.test: ns/other']);
    assert.equal(chainOf('a.com'), FIXTURE_CERT, 'the previous certificate');
    assert.equal(p.last!.previous, 1);
    // A controller that starts now reads what is live and keeps serving it.
    const restarted = publisher();
    await restarted.publish(result([ours, broken, ing('ns/web').tls('cert', 'a.com')]));
    assert.deepEqual(served(), ['a.com: ns/cert']);
    assert.equal(chainOf('a.com'), FIXTURE_CERT);
  });

  test('a host that never had a certificate from a bad Secret gets the default', async () => {
    const p = publishers.at(-1)!;
    await p.publish(result([ours, tlsSecret('ns/cert').without('tls.key'), ing('ns/web').tls('cert', 'a.com', 'c.com')]));
    assert.deepEqual(served(), ['a.com: ns/cert', 'c.com: default']);
  });

  test('an Ingress removed: its certificate is forgotten, and not served again when the Secret stays bad', async () => {
    const p = publishers.at(-1)!;
    await p.publish(result([ours]));
    assert.deepEqual(served(), []);
    await p.publish(result([ours, tlsSecret('ns/cert').without('tls.key'), ing('ns/web').tls('cert', 'a.com')]));
    assert.deepEqual(served(), ['a.com: default']);
  });

  test('--default-certificate, and policies: a CA that cannot be used refuses (fails closed)', async () => {
    const p = publishers.at(-1)!;
    await p.publish(result(
      [ours, tlsSecret('sys/default'), tlsSecret('ns/ca').ca(CA_CERT), ing('ns/a').ats('auth-tls-secret', 'ca').rule('a.com', prefix('/', 's', 80)), ing('ns/b').ats('auth-tls-secret', 'missing').rule('b.com', prefix('/', 's', 80))],
      buildConfig({ defaultCertificate: { namespace: 'sys', name: 'default' } }),
    ));
    assert.deepEqual(served(), ['a.com: default', 'b.com: default', 'default: sys/default']);
    const t = RouteTable.open(NAME);
    const live = t.readTls(false);
    t.close();
    assert.deepEqual(live.policies.map((x) => x.verifyClient), ['on', 'refuse']);
    assert.equal(live.policies[0]!.caPem, CA_CERT);
    assert.deepEqual(live.certificates.map((c) => c.keyPem), [''], 'no key without asking');
    assert.equal(live.certificates[0]!.chainPem, FIXTURE_CERT);
  });
});
