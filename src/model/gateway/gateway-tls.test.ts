// The Gateways' HTTPS listeners in the TLS model: each served one's
// certificate by address, local port and hostname; a listener whose
// certificateRefs do not resolve is served neither in the TLS model nor in
// the route table, as its status says (Programmed=False/Invalid); the
// certificates are shared with the Ingresses' by Secret.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildConfig } from '../../config/config.js';
import { parseAddressRange, parseGatewayPorts, type AddressRange, type GatewayPorts } from '../../config/gateway.js';
import { isInvalid } from '../../validate/invalid.js';
import { app, ingress, ingressClass, prefix, snapshotFrom, tlsSecret, type ObjectLike } from '../../testing/fixtures.js';
import { backend, gateway, gatewayClass, httpRoute, referenceGrant } from '../../testing/gateway-fixtures.js';
import { build } from '../build.js';
import { CertificateCache } from '../certificates.js';
import { gatewayApiStatuses } from './status.js';

function ok<T>(v: T | { invalid: string }): T {
  if (isInvalid(v)) throw new Error(v.invalid);
  return v;
}

const config = buildConfig({
  gatewayAddresses: ok<AddressRange>(parseAddressRange('127.0.1.0/24')),
  gatewayPorts: ok<GatewayPorts>(parseGatewayPorts('80=18080,443=18443')),
});

function built(objects: ObjectLike[]) {
  const snapshot = snapshotFrom([gatewayClass('ats'), ...app('app/web', 80, 8080, '10.0.0.1'), ...objects]);
  const result = build(snapshot, config);
  return { result, snapshot };
}

/** "address:port hostname → Secret (gateway/listener)" per TLS Gateway listener. */
function tlsListeners(objects: ObjectLike[]): string[] {
  return (built(objects).result.model.tls.gatewayListeners ?? []).map((l) => `${l.address}:${l.port} ${l.hostname || '(any)'} -> ${l.secret} (${l.gateway}/${l.listener})`);
}

const https = (certificates: string[], hostname?: string) => ({ protocol: 'HTTPS', certificates, ...(hostname !== undefined ? { hostname } : {}) });

describe("the Gateways' HTTPS listeners in the TLS model", () => {
  test("each served listener's certificate by its Gateway's address, the local port and its hostname, most specific first", () => {
    assert.deepEqual(tlsListeners([
      tlsSecret('infra/one-cert'), tlsSecret('infra/two-cert'), tlsSecret('infra/wild-cert'),
      gateway('infra/one').listener('http', 80).listener('any', 443, https(['one-cert'])).listener('wild', 443, https(['wild-cert'], '*.example.com'))
        .listener('exact', 443, https(['one-cert'], 'same.example.com')).created(1),
      gateway('infra/two').listener('exact', 443, https(['two-cert'], 'same.example.com')).created(2),
    ]), [
      '127.0.1.1:18443 same.example.com -> infra/one-cert (infra/one/exact)',
      '127.0.1.1:18443 *.example.com -> infra/wild-cert (infra/one/wild)',
      '127.0.1.1:18443 (any) -> infra/one-cert (infra/one/any)',
      '127.0.1.2:18443 same.example.com -> infra/two-cert (infra/two/exact)',
    ]);
  });

  test('a certificate an Ingress uses too is in the model once', () => {
    const { result } = built([
      tlsSecret('infra/shared'), ingressClass('ats'),
      ingress('infra/ing').className('ats').tls('shared', 'shared.example.com').rule('shared.example.com', prefix('/', 'web', 80)),
      gateway('infra/gw').listener('https', 443, https(['shared'])),
    ]);
    assert.deepEqual(result.model.tls.certificates.map((c) => c.secret), ['infra/shared']);
    assert.deepEqual(result.model.tls.hosts.map((h) => `${h.name} ${h.secret}`), ['shared.example.com infra/shared']);
    assert.equal(result.model.tls.gatewayListeners?.[0]?.secret, 'infra/shared');
  });

  test('a Secret of another namespace only with a ReferenceGrant from Gateways of that namespace', () => {
    const objects = [tlsSecret('certs/cert'), gateway('infra/gw').listener('https', 443, https(['certs/cert']))];
    assert.deepEqual(tlsListeners(objects), []);
    assert.deepEqual(tlsListeners([...objects, referenceGrant('certs/allow').from('HTTPRoute', 'infra').to('Secret')]), []);
    assert.deepEqual(tlsListeners([...objects, referenceGrant('certs/allow').from('Gateway', 'infra').to('Secret')]), [
      '127.0.1.1:18443 (any) -> certs/cert (infra/gw/https)',
    ]);
  });

  test('only the first certificateRef is served, and a Warning says so; every one must resolve', () => {
    const { result } = built([
      tlsSecret('infra/first'), tlsSecret('infra/second'),
      gateway('infra/gw').listener('https', 443, https(['first', 'second'])),
    ]);
    assert.deepEqual(result.model.tls.gatewayListeners?.map((l) => l.secret), ['infra/first']);
    assert.deepEqual(result.model.tls.certificates.map((c) => c.secret), ['infra/first']);
    assert.ok(result.problems.some((p) => p.severity === 'Warning' && p.field === 'spec.listeners[0].tls.certificateRefs' && /only the first certificateRef \(Secret infra\/first\)/.test(p.message)));
    assert.deepEqual(tlsListeners([tlsSecret('infra/first'), gateway('infra/gw').listener('https', 443, https(['first', 'missing']))]), []);
  });

  test('a listener whose certificate does not resolve is served nowhere, and status agrees (Programmed=False/Invalid)', () => {
    const { result, snapshot } = built([
      tlsSecret('infra/good'), tlsSecret('infra/bad').data('tls.crt', 'bm90IGEgY2VydGlmaWNhdGU='),
      gateway('infra/gw').listener('good', 443, https(['good'], 'good.example.com')).listener('bad', 443, https(['bad'], 'bad.example.com'))
        .listener('missing', 443, https(['missing'], 'missing.example.com')),
      httpRoute('infra/r').parent('infra/gw').rule({ backends: [backend('app/web', 80)] }),
    ]);
    assert.deepEqual(result.model.tls.gatewayListeners?.map((l) => l.listener), ['good']);
    assert.deepEqual(result.model.table.gateway?.listeners.map((l) => l.listener), ['good']);
    assert.ok(result.problems.some((p) => p.kind === 'Gateway' && p.field === 'spec.listeners[1].tls' && /Secret infra\/bad .*: the listener is not served/.test(p.message)));
    assert.ok(result.problems.some((p) => p.field === 'spec.listeners[2].tls' && /Secret infra\/missing does not exist: the listener is not served/.test(p.message)));
    const [status] = gatewayApiStatuses(result.gateway, snapshot, { config, certificates: new CertificateCache(), programmed: () => true, nowMs: 0 });
    assert.ok(status?.kind === 'Gateway');
    const programmed = Object.fromEntries(status.status.listeners.map((l) => [l.name, l.conditions.find((c) => c.type === 'Programmed')?.reason]));
    assert.deepEqual(programmed, { good: 'Programmed', bad: 'Invalid', missing: 'Invalid' });
  });

  test('a listener that is not served anyway (conflicted, port not served, no address) has no certificate either', () => {
    assert.deepEqual(tlsListeners([
      tlsSecret('infra/cert'),
      gateway('infra/gw').listener('a', 443, https(['cert'], 'x.example.com')).listener('b', 443, https(['cert'], 'x.example.com'))
        .listener('odd', 8443, https(['cert'])),
    ]), []);
  });

  test('no HTTPS listener: the TLS model is what the Ingresses make of it', () => {
    const { result } = built([gateway('infra/gw').listener('http', 80)]);
    assert.equal(result.model.tls.gatewayListeners, undefined);
    assert.deepEqual(result.model.tls.certificates, []);
  });
});
