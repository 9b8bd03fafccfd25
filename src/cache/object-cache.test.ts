import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { build } from '../model/build.js';
import { buildConfig } from '../config/config.js';
import { configMap, ingress, ingressClass, prefix, service, serviceRef, slice, snapshotFrom, tlsSecret } from '../testing/fixtures.js';
import type { Ingress } from '../kube/types.js';
import { ObjectCache } from './object-cache.js';

/** A cache that already knows our IngressClass. */
function cacheWithClass(...args: ConstructorParameters<typeof ObjectCache>): ObjectCache {
  const cache = new ObjectCache(...args);
  cache.upsert(ingressClass('ats').build());
  return cache;
}

const web = (): ReturnType<typeof ingress> => ingress('ns/web').className('ats').tls('cert', 'a.com').rule('a.com', prefix('/', 'a', 80));

describe('object cache: whether a change can affect the route model', () => {
  test('a Service or EndpointSlice no claimed Ingress names does not', () => {
    const cache = cacheWithClass();
    assert.equal(cache.upsert(service('ns/a').port('http', 80).build()), false);
    assert.equal(cache.upsert(slice('ns/a').port('http', 80).ready('10.0.0.1').build()), false);
    assert.equal(cache.upsert(web().build()), true);
    assert.equal(cache.upsert(service('ns/a').port('http', 80, 8080).build()), true);
    assert.equal(cache.upsert(slice('ns/a').port('http', 8080).ready('10.0.0.2').build()), true);
    assert.equal(cache.upsert(service('ns/b').port('http', 80).build()), false);
    assert.equal(cache.upsert(service('other/a').port('http', 80).build()), false);
    assert.equal(cache.upsert(slice('ns/b').port('http', 80).ready('10.0.0.3').build()), false);
  });

  test('an EndpointSlice moving away from a named Service does', () => {
    const cache = cacheWithClass();
    cache.upsert(web().build());
    cache.upsert(slice('ns/a').port('http', 80).ready('10.0.0.1').build());
    const moved = slice('ns/a').port('http', 80).ready('10.0.0.1').label('kubernetes.io/service-name', 'b').build();
    assert.equal(cache.upsert(moved), true);
    assert.equal(cache.upsert(slice('ns/a').port('http', 80).ready('10.0.0.9').label('kubernetes.io/service-name', 'b').build()), false);
  });

  test('a Secret not named in a claimed Ingress\'s tls does not', () => {
    const cache = cacheWithClass();
    assert.equal(cache.upsert(tlsSecret('ns/cert').build()), false);
    cache.upsert(web().build());
    assert.equal(cache.upsert(tlsSecret('ns/cert').data('tls.crt', 'b3RoZXI=').build()), true);
    assert.equal(cache.upsert(tlsSecret('ns/unrelated').build()), false);
    assert.equal(cache.upsert(ingress('ns/theirs').className('nginx').tls('theirs', 'b.com').build()), false);
    assert.equal(cache.upsert(tlsSecret('ns/theirs').build()), false);
  });

  test('an Ingress of another class does not, unless it was or becomes ours', () => {
    const cache = cacheWithClass();
    const theirs = (): ReturnType<typeof ingress> => ingress('ns/theirs').className('nginx').rule('b.com', prefix('/', 'b', 80));
    assert.equal(cache.upsert(theirs().build()), false);
    assert.equal(cache.upsert(theirs().rule('c.com', prefix('/', 'b', 80)).build()), false);
    assert.equal(cache.upsert(theirs().className('ats').build()), true, 'becomes ours');
    assert.equal(cache.isClaimed('ns/theirs'), true);
    assert.equal(cache.upsert(service('ns/b').port('http', 80).build()), true, 'its Service now matters');
    assert.equal(cache.upsert(theirs().build()), true, 'stops being ours');
    assert.equal(cache.upsert(service('ns/b').port('http', 81).build()), false, 'its Service no longer matters');
    assert.equal(cache.remove('Ingress', 'ns/theirs'), false);
  });

  test('an unchanged object does not, nor a change outside what the build reads', () => {
    const cache = cacheWithClass();
    assert.equal(cache.upsert(web().resourceVersion('1').build()), true);
    assert.equal(cache.upsert(web().resourceVersion('1').build()), false, 'same resourceVersion and content');
    const withStatus: Ingress = { ...web().resourceVersion('2').build(), status: { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } } };
    assert.equal(cache.upsert(withStatus), false, 'status written by us');
    assert.equal(cache.upsert(web().resourceVersion('3').label('team', 'x').build()), false, 'labels');
    assert.equal(cache.upsert(web().resourceVersion('4').ats('cache', 'bypass').build()), true, 'an annotation');
    cache.upsert(service('ns/a').port('http', 80).resourceVersion('1').build());
    assert.equal(cache.upsert(service('ns/a').port('http', 80).resourceVersion('2').label('x', 'y').build()), false);
  });

  test('IngressClasses: another controller\'s do not; ours do, and change which Ingresses are ours', () => {
    const cache = new ObjectCache();
    cache.upsert(ingress('ns/plain').rule('a.com', prefix('/', 'a', 80)).build());
    assert.equal(cache.upsert(service('ns/a').port('http', 80).build()), false);
    assert.equal(cache.upsert(ingressClass('nginx').controller('k8s.io/ingress-nginx').isDefault().build()), false);
    assert.equal(cache.upsert(ingressClass('ats').build()), true);
    assert.equal(cache.isClaimed('ns/plain'), false);
    assert.equal(cache.upsert(ingressClass('ats').isDefault().build()), true);
    assert.equal(cache.isClaimed('ns/plain'), true, 'no class, and ours is the default');
    assert.equal(cache.upsert(service('ns/a').port('http', 8080).build()), true);
    assert.equal(cache.upsert(ingressClass('ats').isDefault().build()), false, 'unchanged');
    assert.equal(cache.remove('IngressClass', 'ats'), true);
    assert.equal(cache.isClaimed('ns/plain'), false);
    assert.equal(cache.upsert(service('ns/a').port('http', 80).build()), false);
    assert.equal(cache.remove('IngressClass', 'nginx'), false);
  });

  test('removals', () => {
    const cache = cacheWithClass();
    assert.equal(cache.remove('Service', 'ns/nothing'), false);
    cache.upsert(web().build());
    cache.upsert(ingress('ns/web2').className('ats').rule('b.com', prefix('/', 'a', 80)).build());
    cache.upsert(service('ns/a').port('http', 80).build());
    cache.upsert(service('ns/unused').port('http', 80).build());
    cache.upsert(tlsSecret('ns/cert').build());
    cache.upsert(slice('ns/a').port('http', 80).ready('10.0.0.1').build());
    assert.equal(cache.remove('Service', 'ns/unused'), false);
    assert.equal(cache.remove('Ingress', 'ns/web'), true);
    assert.equal(cache.upsert(service('ns/a').port('http', 81).build()), true, 'ns/web2 still names it');
    assert.equal(cache.remove('Secret', 'ns/cert'), false, 'no claimed Ingress names it any more');
    assert.equal(cache.remove('Ingress', 'ns/web2'), true);
    assert.equal(cache.remove('EndpointSlice', 'ns/a-a'), false);
    assert.equal(cache.remove('Service', 'ns/a'), false);
  });

  test('the Service of --default-backend does', () => {
    const cache = cacheWithClass(buildConfig({ defaultBackend: serviceRef('sys/fallback:80') }));
    assert.equal(cache.upsert(service('sys/fallback').port('http', 80).build()), true);
    assert.equal(cache.upsert(slice('sys/fallback').port('http', 80).ready('10.0.0.1').build()), true);
    assert.equal(cache.upsert(service('sys/other').port('http', 80).build()), false);
  });

  test("only the records ConfigMap does", () => {
    const cache = cacheWithClass(buildConfig({ recordsConfigMap: { namespace: 'ats', name: 'records' } }));
    assert.equal(cache.upsert(configMap('ats/other').data('proxy.config.http.cache.http', '1').build()), false);
    assert.equal(cache.upsert(configMap('ats/records').data('proxy.config.http.cache.http', '1').build()), true);
    assert.equal(cache.upsert(configMap('ats/records').data('proxy.config.http.cache.http', '1').build()), false);
    assert.equal(cache.upsert(configMap('ats/other').data('a', 'b').build()), false);
    assert.equal(cache.remove('ConfigMap', 'ats/records'), true);
  });

  test('watched namespaces: Ingresses elsewhere are not ours', () => {
    const cache = cacheWithClass(buildConfig({ watchNamespaces: ['team'] }));
    assert.equal(cache.upsert(web().build()), false);
    assert.equal(cache.upsert(ingress('team/web').className('ats').rule('a.com', prefix('/', 'a', 80)).build()), true);
  });
});

describe('object cache: snapshots and relists', () => {
  test('a snapshot does not see later changes', () => {
    const cache = cacheWithClass();
    cache.upsert(web().build());
    const before = cache.snapshot();
    cache.upsert(ingress('ns/web2').className('ats').build());
    cache.remove('Ingress', 'ns/web');
    assert.deepEqual([...before.ingresses.keys()], ['ns/web']);
    assert.deepEqual([...cache.snapshot().ingresses.keys()], ['ns/web2']);
    assert.equal(cache.get('Ingress', 'ns/web2')?.metadata.name, 'web2');
    assert.equal(cache.get('Service', 'ns/web2'), undefined);
  });

  test('replaceAll keeps exactly the listed objects', () => {
    const cache = cacheWithClass();
    cache.upsert(web().build());
    cache.upsert(ingress('ns/gone').className('ats').build());
    assert.equal(cache.replaceAll('Ingress', [web().build()]), true, 'ns/gone was ours');
    assert.deepEqual(cache.keys('Ingress'), ['ns/web']);
    assert.equal(cache.replaceAll('Ingress', [web().build()]), false);
    assert.equal(cache.replaceAll('Service', [service('ns/unused').port('http', 80).build()]), false);
  });

  test('build() over the cache gives what it gives over the same objects', () => {
    const objects = [
      ingressClass('ats'),
      web(),
      service('ns/a').port('http', 80, 8080),
      slice('ns/a').port('http', 8080).ready('10.0.0.1'),
      tlsSecret('ns/cert'),
    ];
    const cache = new ObjectCache();
    for (const o of objects) cache.upsert(o.build());
    assert.deepEqual(build(cache.snapshot()), build(snapshotFrom(objects)));
  });
});
