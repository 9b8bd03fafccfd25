// Checks the kube harness itself: a real etcd + kube-apiserver, RBAC, kubectl,
// restart keeping data, and no process left behind.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';

import { CONTROLLER_USER, endpointAddress, startKube, type KubeCluster } from './kube.js';

let kube: KubeCluster;
let stopped = false;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie or a reused PID would not run our binaries.
  try {
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

before(async () => {
  const t0 = Date.now();
  kube = await startKube();
  console.log(`# kube-apiserver ready at ${kube.url} in ${Date.now() - t0} ms (bin ${kube.binDir})`);
}, { timeout: 70 * 60_000 });

after(async () => {
  if (kube && !stopped) await kube.stop();
});

test('admin creates a namespace, an Ingress and an EndpointSlice', async () => {
  const ns = await kube.request('POST', '/api/v1/namespaces', { metadata: { name: 'harness-a' } });
  assert.equal(ns.status, 201, ns.text);

  const ing = await kube.request('POST', '/apis/networking.k8s.io/v1/namespaces/harness-a/ingresses', {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'web' },
    spec: {
      rules: [
        {
          host: 'example.test',
          http: {
            paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }],
          },
        },
      ],
    },
  });
  assert.equal(ing.status, 201, ing.text);
  assert.equal(ing.body.spec.rules[0].host, 'example.test');

  const sliceOf = (name: string, address: string) => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name,
      labels: { 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'ats-ingress-tests' },
    },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: [{ addresses: [address], conditions: { ready: true } }],
  });
  const slices = '/apis/discovery.k8s.io/v1/namespaces/harness-a/endpointslices';
  const slice = await kube.request('POST', slices, sliceOf('web-1', endpointAddress()));
  assert.equal(slice.status, 201, slice.text);
  // Loopback endpoints are invalid: test backends cannot be on 127.0.0.1.
  const loop = await kube.request('POST', slices, sliceOf('web-loop', '127.0.0.1'));
  assert.equal(loop.status, 422, loop.text);
  assert.match(loop.body.message, /loopback/);

  const list = await kube.request('GET', '/apis/discovery.k8s.io/v1/namespaces/harness-a/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dweb');
  assert.equal(list.status, 200, list.text);
  assert.equal(list.body.items.length, 1);

  // Status subresource with the default merge patch.
  const st = await kube.request('PATCH', '/apis/networking.k8s.io/v1/namespaces/harness-a/ingresses/web/status', {
    status: { loadBalancer: { ingress: [{ ip: '127.0.0.1' }] } },
  });
  assert.equal(st.status, 200, st.text);
  assert.equal(st.body.status.loadBalancer.ingress[0].ip, '127.0.0.1');
});

test('the controller token has no rights before RBAC is applied', async () => {
  const who = await kube.request('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'SelfSubjectReview',
  }, 'controller');
  assert.equal(who.status, 201, who.text);
  assert.equal(who.body.status.userInfo.username, CONTROLLER_USER);
  assert.ok(who.body.status.userInfo.groups.includes('system:serviceaccounts:ats-ingress'));

  const r = await kube.request('POST', '/api/v1/namespaces', { metadata: { name: 'harness-forbidden' } }, 'controller');
  assert.equal(r.status, 403, r.text);
  assert.equal(r.body.reason, 'Forbidden');
  const l = await kube.request('GET', '/apis/networking.k8s.io/v1/ingresses', undefined, 'controller');
  assert.equal(l.status, 403, l.text);
});

test('kubectl works as admin and as the controller', async () => {
  const r = await kube.kubectl(['get', 'ns', '-o', 'name']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^namespace\/default$/m);

  const applied = await kube.kubectl(['apply', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'default' }, data: { a: '1' } }),
  });
  assert.equal(applied.code, 0, applied.stderr);
  assert.match(applied.stdout, /configmap\/cm (created|configured)/);

  const denied = await kube.kubectl(['get', 'ns'], { user: 'controller' });
  assert.notEqual(denied.code, 0);
  assert.match(denied.stderr, /forbidden/i);
  assert.ok(existsSync(kube.kubeconfig('controller')));
});

test('restartApiServer keeps the data in etcd', async () => {
  const ns = await kube.request('POST', '/api/v1/namespaces', { metadata: { name: 'harness-survivor' } });
  assert.equal(ns.status, 201, ns.text);
  const before = kube.pids();
  const t0 = Date.now();
  await kube.restartApiServer();
  console.log(`# kube-apiserver restarted in ${Date.now() - t0} ms`);
  const afterPids = kube.pids();
  assert.equal(afterPids.etcd, before.etcd);
  assert.notEqual(afterPids.apiserver, before.apiserver);
  assert.ok(before.apiserver !== undefined && !alive(before.apiserver));
  const got = await kube.request('GET', '/api/v1/namespaces/harness-survivor');
  assert.equal(got.status, 200, got.text);
  const ing = await kube.request('GET', '/apis/networking.k8s.io/v1/namespaces/harness-a/ingresses/web');
  assert.equal(ing.status, 200, ing.text);
});

test('restartEtcd keeps the data; the same API server serves again and writes', async () => {
  const before = kube.pids();
  const t0 = Date.now();
  await kube.restartEtcd();
  console.log(`# etcd restarted in ${Date.now() - t0} ms (until the API server served again)`);
  const afterPids = kube.pids();
  assert.equal(afterPids.apiserver, before.apiserver);
  assert.notEqual(afterPids.etcd, before.etcd);
  assert.ok(before.etcd !== undefined && !alive(before.etcd));
  const got = await kube.request('GET', '/api/v1/namespaces/harness-survivor');
  assert.equal(got.status, 200, got.text);
  const ns = await kube.request('POST', '/api/v1/namespaces', { metadata: { name: 'harness-after-etcd' } });
  assert.equal(ns.status, 201, ns.text);
});

test('stop leaves no process and no temp dir behind', async () => {
  const { etcd, apiserver } = kube.pids();
  assert.ok(etcd !== undefined && apiserver !== undefined);
  assert.ok(alive(etcd) && alive(apiserver));
  await kube.stop();
  stopped = true;
  assert.ok(!alive(etcd), `etcd pid ${etcd} still running`);
  assert.ok(!alive(apiserver), `kube-apiserver pid ${apiserver} still running`);
  assert.ok(!existsSync(kube.dir), `${kube.dir} still exists`);
  await kube.stop(); // idempotent
});

test('startKube({ gatewayApiCrds: true }): the standard-channel Gateway API kinds are served when it resolves', { timeout: 5 * 60_000 }, async () => {
  const withCrds = await startKube({ gatewayApiCrds: true });
  try {
    for (const path of ['/apis/gateway.networking.k8s.io/v1/gatewayclasses', '/apis/gateway.networking.k8s.io/v1/namespaces/default/httproutes', '/apis/gateway.networking.k8s.io/v1beta1/namespaces/default/referencegrants']) {
      const r = await withCrds.request('GET', path);
      assert.equal(r.status, 200, `${path}: ${r.text}`);
    }
    const crd = await withCrds.request('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/httproutes.gateway.networking.k8s.io');
    assert.equal(crd.body.metadata.annotations['gateway.networking.k8s.io/bundle-version'], 'v1.6.3');
    assert.equal(crd.body.metadata.annotations['gateway.networking.k8s.io/channel'], 'standard');
    await withCrds.installGatewayApiCrds(); // idempotent
  } finally {
    await withCrds.stop();
  }
});
