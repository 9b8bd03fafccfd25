// The object cache and the Gateway API kinds: a change matters when it
// touches our GatewayClasses (spec.controllerName = --gateway-controller-name),
// their Gateways, the HTTPRoutes attached to those, the Services and Secrets
// they name, or a ReferenceGrant; a Namespace's labels while one of our
// Gateways selects namespaces by label.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildConfig } from '../config/config.js';
import { namespace, service, tlsSecret } from '../testing/fixtures.js';
import { backend, gateway, gatewayClass, httpRoute, referenceGrant } from '../testing/gateway-fixtures.js';
import { ObjectCache } from './object-cache.js';

const route = () => httpRoute('app/web').parent('infra/gw').rule({ backends: [backend('web', 80)] });

describe('object cache: Gateway API changes that can matter', () => {
  test('a GatewayClass of another controller does not; ours does, once per change', () => {
    const cache = new ObjectCache();
    assert.equal(cache.upsert(gatewayClass('other').controller('example.com/other').build()), false);
    assert.equal(cache.upsert(gatewayClass('ats').build()), true);
    assert.equal(cache.upsert(gatewayClass('ats').build()), false, 'the same again');
    assert.equal(cache.upsert(gatewayClass('ats').generation(2).build()), true, 'a new generation (status says observedGeneration)');
    assert.equal(cache.remove('GatewayClass', 'other'), false);
    assert.equal(cache.remove('GatewayClass', 'ats'), true);
  });

  test('--gateway-controller-name chooses our classes', () => {
    const cache = new ObjectCache(buildConfig({ gatewayControllerName: 'example.com/mine' }));
    assert.equal(cache.upsert(gatewayClass('ats').build()), false);
    assert.equal(cache.upsert(gatewayClass('mine').controller('example.com/mine').build()), true);
  });

  test('a Gateway matters when its class is ours, also when the class comes after it', () => {
    const cache = new ObjectCache();
    assert.equal(cache.upsert(gateway('infra/gw').className('ats').listener('http', 80).build()), false, 'no class of ours yet');
    assert.equal(cache.upsert(gateway('infra/x').className('other').listener('http', 80).build()), false);
    assert.equal(cache.upsert(gatewayClass('ats').build()), true);
    assert.equal(cache.upsert(gateway('infra/gw').className('ats').listener('http', 80).listener('b', 81).build()), true);
    assert.equal(cache.upsert(gateway('infra/x').className('other').listener('http', 81).build()), false);
    assert.equal(cache.remove('Gateway', 'infra/gw'), true);
  });

  test('an HTTPRoute matters when it names one of our Gateways (or did); its Services then matter too', () => {
    const cache = new ObjectCache();
    cache.upsert(gatewayClass('ats').build());
    assert.equal(cache.upsert(httpRoute('app/other').parent('infra/nope').build()), false, 'no such Gateway of ours');
    assert.equal(cache.upsert(gateway('infra/gw').listener('http', 80).build()), true);
    assert.equal(cache.upsert(route().build()), true);
    assert.equal(cache.upsert(route().build()), false, 'the same again');
    assert.equal(cache.upsert(service('app/web').port('http', 80).build()), true, 'a backendRef names it');
    assert.equal(cache.upsert(service('app/unnamed').port('http', 80).build()), false);
    assert.equal(cache.upsert(httpRoute('app/web').parent('infra/nope').build()), true, 'moved away from our Gateway');
    assert.equal(cache.upsert(httpRoute('app/web').parent('infra/nope').hostnames('a.com').build()), false, 'and not back');
    assert.equal(cache.remove('HTTPRoute', 'app/web'), false);
  });

  test('a Secret a Gateway listener names matters; a ReferenceGrant always does', () => {
    const cache = new ObjectCache();
    cache.upsert(gatewayClass('ats').build());
    const gw = gateway('infra/gw').listener('https', 443, { protocol: 'HTTPS' }).build();
    const withCert = { ...gw, spec: { ...gw.spec, listeners: gw.spec.listeners.map((l) => ({ ...l, tls: { certificateRefs: [{ name: 'cert' }] } })) } };
    cache.upsert(withCert);
    assert.equal(cache.upsert(tlsSecret('infra/cert').build()), true);
    assert.equal(cache.upsert(tlsSecret('infra/other').build()), false);
    assert.equal(cache.upsert(referenceGrant('svc/allow').from('HTTPRoute', 'app').to('Service').build()), true);
    assert.equal(cache.upsert(referenceGrant('svc/allow').from('HTTPRoute', 'app').to('Service').build()), false);
    assert.equal(cache.remove('ReferenceGrant', 'svc/allow'), true);
  });

  test('the snapshot holds the Gateway API kinds', () => {
    const cache = new ObjectCache();
    cache.upsert(gatewayClass('ats').build());
    cache.upsert(route().build());
    const s = cache.snapshot();
    assert.deepEqual([...s.gatewayClasses.keys()], ['ats']);
    assert.deepEqual([...s.httpRoutes.keys()], ['app/web']);
  });

  test('a Namespace matters only while one of our Gateways selects namespaces by label, and then only its labels', () => {
    const cache = new ObjectCache();
    cache.upsert(gatewayClass('ats').build());
    assert.equal(cache.upsert(namespace('app').label('team', 'web').build()), false, 'no Gateway at all');
    assert.equal(cache.upsert(gateway('infra/gw').listener('http', 80, { from: 'All' }).build()), true);
    assert.equal(cache.upsert(namespace('app').label('team', 'db').build()), false, 'no listener selects by label');
    const selecting = gateway('infra/gw').listener('http', 80, { from: 'Selector', selector: { matchLabels: { team: 'web' } } });
    assert.equal(cache.upsert(selecting.build()), true);
    assert.equal(cache.upsert(namespace('app').label('team', 'web').build()), true, 'relabelled');
    assert.equal(cache.upsert(namespace('app').label('team', 'web').resourceVersion('9').annotation('a', 'b').created(60).build()), false, 'the same labels: nothing else counts');
    assert.equal(cache.upsert(namespace('new').build()), true, 'a new namespace');
    assert.equal(cache.remove('Namespace', 'new'), true);
    assert.equal(cache.remove('Namespace', 'never'), false);
    assert.equal(cache.upsert(gateway('infra/other').className('not-ours').listener('http', 80, { from: 'Selector', selector: {} }).build()), false);
    assert.equal(cache.upsert(gateway('infra/gw').listener('http', 80, { from: 'Same' }).build()), true, 'no longer selecting');
    assert.equal(cache.upsert(namespace('app').label('team', 'db').build()), false, 'another class\'s Gateway does not count');
    cache.upsert(selecting.build());
    assert.equal(cache.remove('GatewayClass', 'ats'), true);
    assert.equal(cache.upsert(namespace('app').label('team', 'web').build()), false, 'the class gone, its Gateways are not ours');
    assert.deepEqual([...cache.snapshot().namespaces.keys()], ['app']);
  });
});
