// Checks the process kubelet with the real kube-controller-manager: a
// Deployment's Pods run as processes with their own addresses, the
// controllers' EndpointSlices hold them, the Pod's environment and volumes
// reach the process, a dying process restarts, deletion and scale-down
// kill, namespace deletion completes, and stop() leaves nothing behind.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';

import { certKit } from './certs.js';
import { ECHO_BASIC_IMAGE, echoBasicBinary } from './echo-basic.js';
import { startKube, type KubeCluster } from './kube.js';
import { pollUntil } from './poll.js';
import { ManagedProcess, runCommand } from './processes.js';
import {
  expandVars,
  fieldRefValue,
  lookupImage,
  rewriteMountPath,
  startProcessKubelet,
  type Pod,
  type ProcessKubelet,
} from './process-kubelet.js';

const INSPECT_IMAGE = 'example.test/inspect';
const APP = fileURLToPath(new URL('./process-kubelet-app.js', import.meta.url));
const CHILD = fileURLToPath(new URL('./process-kubelet-child.js', import.meta.url));

// ---------------------------------------------------------------------------
// Pure parts

describe('image table, $(VAR), mount paths, fieldRefs', () => {
  test('an image matches its exact key, else its repository with any tag or digest', () => {
    const images = { 'r.io/a/echo': { command: 'any' }, 'r.io/a/echo:v2': { command: 'v2' }, 'localhost:5000/x': { command: 'port' } };
    assert.equal(lookupImage(images, 'r.io/a/echo:v2')?.command, 'v2');
    assert.equal(lookupImage(images, 'r.io/a/echo:v1.5.1')?.command, 'any');
    assert.equal(lookupImage(images, 'r.io/a/echo@sha256:0123')?.command, 'any');
    assert.equal(lookupImage(images, 'r.io/a/echo')?.command, 'any');
    assert.equal(lookupImage(images, 'localhost:5000/x:1')?.command, 'port');
    assert.equal(lookupImage(images, 'r.io/a/other:v1'), undefined);
    assert.equal(lookupImage(images, 'constructor'), undefined);
  });

  test('$(VAR) expands defined variables; $$ is a dollar; others stay', () => {
    const vars = new Map([['A', 'x'], ['B', 'y']]);
    assert.equal(expandVars('$(A)-$(B)-$(C)-$$(A)', vars), 'x-y-$(C)-$(A)');
  });

  test('a mountPath or a path under one moves under the root; the longest mountPath wins', () => {
    const mps = ['/etc/secret-volume', '/etc/secret-volume/inner/', '/data'];
    assert.equal(rewriteMountPath('/etc/secret-volume/crt', mps, '/r'), '/r/etc/secret-volume/crt');
    assert.equal(rewriteMountPath('/etc/secret-volume', mps, '/r'), '/r/etc/secret-volume');
    assert.equal(rewriteMountPath('/etc/secret-volume/inner/k', mps, '/r'), '/r/etc/secret-volume/inner/k');
    assert.equal(rewriteMountPath('/etc/secret-volumes', mps, '/r'), '/etc/secret-volumes');
    assert.equal(rewriteMountPath('/database', mps, '/r'), '/database');
    assert.equal(rewriteMountPath('plain', mps, '/r'), 'plain');
  });

  test('fieldRefs', () => {
    const pod: Pod = {
      metadata: { name: 'p', namespace: 'n', uid: 'u', labels: { app: 'a' } },
      spec: { nodeName: 'node', containers: [] },
    };
    assert.equal(fieldRefValue(pod, 'metadata.name', '10.0.0.5', '10.0.0.1'), 'p');
    assert.equal(fieldRefValue(pod, 'metadata.namespace', undefined, 'h'), 'n');
    assert.equal(fieldRefValue(pod, 'status.podIP', '10.0.0.5', 'h'), '10.0.0.5');
    assert.equal(fieldRefValue(pod, 'spec.nodeName', undefined, 'h'), 'node');
    assert.equal(fieldRefValue(pod, "metadata.labels['app']", undefined, 'h'), 'a');
    assert.equal(fieldRefValue(pod, 'status.hostIP', undefined, 'h'), 'h');
    assert.equal(fieldRefValue(pod, 'spec.unknown', undefined, 'h'), undefined);
  });
});

// ---------------------------------------------------------------------------
// With a cluster

let kube: KubeCluster;
let kubelet: ProcessKubelet;
let kubeletStopped = false;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function get(url: string, opts: https.RequestOptions = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const mod = url.startsWith('https:') ? https : http;
    const req = mod.request(url, { agent: false, timeout: 5_000, ...opts }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

async function create(path: string, body: unknown): Promise<void> {
  const r = await kube.request('POST', path, body);
  assert.equal(r.status, 201, `POST ${path}: ${r.text}`);
}

const context = () => `${kubelet.logTail()}\n${readTailOf(`${kube.dir}/kube-controller-manager.log`)}`;

function readTailOf(file: string): string {
  try {
    return `--- ${file} ---\n${readFileSync(file, 'utf8').split('\n').slice(-30).join('\n')}`;
  } catch {
    return '';
  }
}

interface PodList {
  items: Array<{
    metadata: { name: string; uid: string; deletionTimestamp?: string };
    spec: { nodeName?: string };
    status: {
      phase?: string;
      podIP?: string;
      podIPs?: Array<{ ip: string }>;
      conditions?: Array<{ type: string; status: string }>;
      containerStatuses?: Array<{ ready: boolean; restartCount: number; state: Record<string, unknown> }>;
    };
  }>;
}

const isReady = (p: PodList['items'][number]) =>
  p.status.phase === 'Running' &&
  !!p.status.podIP &&
  ['Ready', 'ContainersReady'].every((t) => p.status.conditions?.some((c) => c.type === t && c.status === 'True')) &&
  (p.status.containerStatuses ?? []).every((c) => c.ready);

async function pods(namespace: string, selector: string): Promise<PodList['items']> {
  const r = await kube.request<PodList>('GET', `/api/v1/namespaces/${namespace}/pods?labelSelector=${encodeURIComponent(selector)}`);
  assert.equal(r.status, 200, r.text);
  return r.body.items;
}

function deployment(namespace: string, name: string, replicas: number, container: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, ...container }], ...extra } },
    },
  };
}

const podEnv = [
  { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
  { name: 'NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
];

before(async () => {
  const t0 = Date.now();
  const [k, echo] = await Promise.all([startKube({ controllerManager: true }), echoBasicBinary()]);
  kube = k;
  kubelet = await startProcessKubelet(kube, {
    images: {
      [ECHO_BASIC_IMAGE]: { command: echo },
      [INSPECT_IMAGE]: { command: process.execPath, args: [APP] },
    },
    restartBackoff: { initialMs: 200, maxMs: 2_000 },
  });
  console.log(`# cluster with kube-controller-manager and a process kubelet (${kubelet.nodeName}, bridge ${kubelet.bridge.address}) in ${Date.now() - t0} ms`);
}, { timeout: 70 * 60_000 });

after(async () => {
  if (kubelet && !kubeletStopped) await kubelet.stop();
  if (kube) await kube.stop();
});

describe('with kube-controller-manager', () => {
  test('the Node is registered Ready with allocatable resources', async () => {
    const r = await kube.request('GET', `/api/v1/nodes/${kubelet.nodeName}`);
    assert.equal(r.status, 200, r.text);
    assert.ok(r.body.status.conditions.some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True'));
    assert.equal(r.body.status.allocatable.pods, '250');
    assert.deepEqual(r.body.status.addresses[0], { type: 'InternalIP', address: kubelet.bridge.address });
  });

  test('a Deployment of 2 echo servers: Running Pods with addresses, an EndpointSlice of both, requests from the root namespace', async () => {
    await create('/api/v1/namespaces', { metadata: { name: 'pk-echo' } });
    await create('/apis/apps/v1/namespaces/pk-echo/deployments', deployment('pk-echo', 'echo', 2, { image: `${ECHO_BASIC_IMAGE}:v1.5.1`, env: podEnv, ports: [{ containerPort: 3000 }] }));
    await create('/api/v1/namespaces/pk-echo/services', {
      metadata: { name: 'echo' },
      spec: { selector: { app: 'echo' }, ports: [{ name: 'http', port: 80, targetPort: 3000 }] },
    });
    const { value: running, ms } = await pollUntil('2 Ready Pods', () => pods('pk-echo', 'app=echo'), (ps) => ps.length === 2 && ps.every(isReady), {
      timeoutMs: 30_000,
      intervalMs: 100,
      context,
    });
    console.log(`# Deployment to 2 Ready Pods in ${Math.round(ms)} ms`);
    const ips = running.map((p) => p.status.podIP!).sort();
    assert.notEqual(ips[0], ips[1]);
    for (const p of running) {
      assert.equal(p.spec.nodeName, kubelet.nodeName);
      assert.deepEqual(p.status.podIPs, [{ ip: p.status.podIP }]);
      assert.ok(p.status.podIP!.startsWith(kubelet.bridge.address.replace(/\.1$/, '.')));
    }

    // The real endpointslice controller's slice.
    interface SliceList {
      items: Array<{ metadata: { labels: Record<string, string> }; endpoints?: Array<{ addresses: string[]; conditions: { ready?: boolean } }> }>;
    }
    const readyAddresses = (b: SliceList) => b.items.flatMap((s) => s.endpoints ?? []).filter((e) => e.conditions.ready).flatMap((e) => e.addresses).sort();
    const { value: slices, ms: sliceMs } = await pollUntil(
      'an EndpointSlice with both Pods ready',
      async () => (await kube.request<SliceList>('GET', '/apis/discovery.k8s.io/v1/namespaces/pk-echo/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Decho')).body,
      (b) => readyAddresses(b).length === 2,
      { timeoutMs: 20_000, intervalMs: 100, context },
    );
    console.log(`# EndpointSlice with both addresses ready ${Math.round(sliceMs)} ms after the Pods`);
    assert.equal(slices.items[0]!.metadata.labels['endpointslice.kubernetes.io/managed-by'], 'endpointslice-controller.k8s.io');
    assert.deepEqual(readyAddresses(slices), ips);

    // Each process answers on its own address, knowing its Pod (fieldRefs).
    for (const p of running) {
      const r = await get(`http://${p.status.podIP}:3000/some/path`);
      assert.equal(r.status, 200);
      const echo = JSON.parse(r.body) as { path: string; pod: string; namespace: string };
      assert.equal(echo.path, '/some/path');
      assert.equal(echo.pod, p.metadata.name);
      assert.equal(echo.namespace, 'pk-echo');
    }

    // Scaling to 1: one Pod goes, its process is killed, its namespace deleted.
    const before = kubelet.pods().filter((p) => p.namespace === 'pk-echo');
    assert.equal(before.length, 2);
    const r = await kube.request('PATCH', '/apis/apps/v1/namespaces/pk-echo/deployments/echo/scale', { spec: { replicas: 1 } });
    assert.equal(r.status, 200, r.text);
    const { ms: scaleMs } = await pollUntil('1 Pod left', () => pods('pk-echo', 'app=echo'), (ps) => ps.length === 1 && isReady(ps[0]!), { timeoutMs: 20_000, intervalMs: 100, context });
    console.log(`# scaled to 1 in ${Math.round(scaleMs)} ms`);
    const left = (await pods('pk-echo', 'app=echo'))[0]!;
    const gone = before.find((p) => p.uid !== left.metadata.uid)!;
    assert.ok(!alive(gone.pids['echo']!), `pid ${gone.pids['echo']} of the deleted Pod still runs`);
    assert.ok(!kubelet.networkNamespaces().includes(gone.netns!));
    await assert.rejects(get(`http://${gone.ip}:3000/`, { timeout: 1_000 }));
  });

  test('env, fieldRefs and a ConfigMap volume reach the process; a process that dies is restarted', async () => {
    await create('/api/v1/namespaces', { metadata: { name: 'pk-inspect' } });
    await create('/api/v1/namespaces/pk-inspect/configmaps', { metadata: { name: 'conf' }, data: { 'app.conf': 'greeting = hello\n', other: 'x' } });
    await create('/api/v1/namespaces/pk-inspect/secrets', { metadata: { name: 'token' }, stringData: { token: 's3cret' } });
    await create(
      '/apis/apps/v1/namespaces/pk-inspect/deployments',
      deployment(
        'pk-inspect',
        'inspect',
        1,
        {
          image: INSPECT_IMAGE,
          ports: [{ containerPort: 8080 }],
          env: [
            { name: 'GREETING', value: 'hi' },
            { name: 'MESSAGE', value: '$(GREETING) there' },
            { name: 'CONFIG_FILE', value: '/etc/app/app.conf' },
            { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
            { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
            { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'token', key: 'token' } } },
            ...podEnv,
          ],
          volumeMounts: [{ name: 'conf', mountPath: '/etc/app' }],
        },
        // A short grace: the namespace controller waits about half of it before it looks again.
        { volumes: [{ name: 'conf', configMap: { name: 'conf', items: [{ key: 'app.conf', path: 'app.conf' }] } }], terminationGracePeriodSeconds: 2 },
      ),
    );
    const { value: ready } = await pollUntil('the inspect Pod Ready', () => pods('pk-inspect', 'app=inspect'), (ps) => ps.length === 1 && isReady(ps[0]!), {
      timeoutMs: 20_000,
      intervalMs: 100,
      context,
    });
    const pod = ready[0]!;
    const base = `http://${pod.status.podIP}:8080`;
    const env = JSON.parse((await get(`${base}/env`)).body) as Record<string, string>;
    assert.equal(env['MESSAGE'], 'hi there');
    assert.equal(env['POD_IP'], pod.status.podIP);
    assert.equal(env['NODE'], kubelet.nodeName);
    assert.equal(env['POD_NAME'], pod.metadata.name);
    assert.equal(env['NAMESPACE'], 'pk-inspect');
    assert.equal(env['TOKEN'], 's3cret');
    // The mount path, moved under the Pod's root (PROCESS_KUBELET_ROOT, its cwd).
    assert.equal(env['CONFIG_FILE'], `${env['PROCESS_KUBELET_ROOT']}/etc/app/app.conf`);
    assert.equal((await get(`${base}/cwd`)).body, env['PROCESS_KUBELET_ROOT']);
    assert.equal((await get(`${base}/file?path=${encodeURIComponent(env['CONFIG_FILE']!)}`)).body, 'greeting = hello\n');
    // Only the listed item.
    assert.equal((await get(`${base}/file?path=${encodeURIComponent(`${env['PROCESS_KUBELET_ROOT']}/etc/app/other`)}`)).status, 404);

    // A process that dies comes back (a new PID), counted in restartCount.
    const pid = kubelet.pods().find((p) => p.uid === pod.metadata.uid)!.pids['inspect']!;
    await new Promise<void>((resolve, reject) => {
      const req = http.request(`${base}/exit?code=3`, { method: 'POST', agent: false }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end();
    });
    const { value: restarted } = await pollUntil(
      'the Pod Ready again after a restart',
      () => pods('pk-inspect', 'app=inspect'),
      (ps) => ps.length === 1 && isReady(ps[0]!) && ps[0]!.status.containerStatuses![0]!.restartCount === 1,
      { timeoutMs: 20_000, intervalMs: 100, context },
    );
    assert.equal(restarted[0]!.metadata.uid, pod.metadata.uid);
    const newPid = kubelet.pods().find((p) => p.uid === pod.metadata.uid)!.pids['inspect']!;
    assert.notEqual(newPid, pid);
    assert.ok(!alive(pid));
    assert.equal((await get(`${base}/env`)).status, 200);
  });

  test('a Secret volume and a rewritten path: the echo server serves TLS with the Secret\'s certificate', async () => {
    const kit = await certKit('Process Kubelet CA');
    try {
      const leaf = await kit.leaf('/CN=tls-backend', { dns: ['tls-backend.test'] });
      await create('/api/v1/namespaces', { metadata: { name: 'pk-tls' } });
      await create('/api/v1/namespaces/pk-tls/secrets', { metadata: { name: 'cert' }, type: 'kubernetes.io/tls', stringData: { 'tls.crt': leaf.cert, 'tls.key': leaf.key } });
      await create(
        '/apis/apps/v1/namespaces/pk-tls/deployments',
        deployment(
          'pk-tls',
          'tls-backend',
          1,
          {
            image: `${ECHO_BASIC_IMAGE}:v1.5.1`,
            ports: [{ containerPort: 3000 }, { containerPort: 8443 }],
            env: [...podEnv, { name: 'TLS_SERVER_CERT', value: '/etc/secret-volume/crt' }, { name: 'TLS_SERVER_PRIVKEY', value: '/etc/secret-volume/key' }],
            volumeMounts: [{ name: 'secret-volume', mountPath: '/etc/secret-volume' }],
          },
          { volumes: [{ name: 'secret-volume', secret: { secretName: 'cert', items: [{ key: 'tls.crt', path: 'crt' }, { key: 'tls.key', path: 'key' }] } }] },
        ),
      );
      const { value } = await pollUntil('the TLS Pod Ready', () => pods('pk-tls', 'app=tls-backend'), (ps) => ps.length === 1 && isReady(ps[0]!), { timeoutMs: 20_000, intervalMs: 100, context });
      const r = await get(`https://${value[0]!.status.podIP}:8443/tls`, { ca: kit.ca.cert, servername: 'tls-backend.test' });
      assert.equal(r.status, 200);
      assert.equal((JSON.parse(r.body) as { pod: string }).pod, value[0]!.metadata.name);
    } finally {
      await kit.close();
    }
  });

  test('an image without a command stays Pending with an Event naming it', async () => {
    await create('/api/v1/namespaces', { metadata: { name: 'pk-unknown' } });
    await create('/api/v1/namespaces/pk-unknown/pods', { metadata: { name: 'nope' }, spec: { containers: [{ name: 'c', image: 'example.test/not-in-the-table:1' }] } });
    const { value: events } = await pollUntil(
      'a Warning Event about the image',
      async () => (await kube.request('GET', '/api/v1/namespaces/pk-unknown/events')).body.items as Array<{ type: string; reason: string; message: string; involvedObject: { name: string } }>,
      (es) => es.some((e) => e.type === 'Warning' && e.involvedObject.name === 'nope'),
      { timeoutMs: 10_000, intervalMs: 100, context },
    );
    const warning = events.find((e) => e.type === 'Warning')!;
    assert.equal(warning.reason, 'Failed');
    assert.match(warning.message, /example\.test\/not-in-the-table:1/);
    interface PendingPod {
      spec: { nodeName?: string };
      status: { phase: string; containerStatuses?: Array<{ state: { waiting?: { reason: string } } }> };
    }
    const { value: pod } = await pollUntil(
      'the Pending status',
      async () => (await kube.request<PendingPod>('GET', '/api/v1/namespaces/pk-unknown/pods/nope')).body,
      (p) => !!p.status.containerStatuses,
      { timeoutMs: 10_000, intervalMs: 100, context },
    );
    assert.equal(pod.spec.nodeName, kubelet.nodeName);
    assert.equal(pod.status.phase, 'Pending');
    assert.equal(pod.status.containerStatuses![0]!.state.waiting?.reason, 'ErrImagePull');
    assert.equal(kubelet.pods().find((p) => p.name === 'nope')?.netns, undefined);
  });

  test('deleting a namespace: its Pods are stopped and deleted, the namespace goes', async () => {
    const mine = kubelet.pods().filter((p) => p.namespace === 'pk-inspect');
    assert.equal(mine.length, 1);
    const r = await kube.request('DELETE', '/api/v1/namespaces/pk-inspect');
    assert.equal(r.status, 200, r.text);
    const { ms } = await pollUntil('namespace pk-inspect gone', async () => (await kube.request('GET', '/api/v1/namespaces/pk-inspect')).status, (s) => s === 404, {
      timeoutMs: 30_000,
      intervalMs: 200,
      context,
    });
    console.log(`# namespace deleted in ${Math.round(ms)} ms`);
    for (const p of mine) for (const pid of Object.values(p.pids)) assert.ok(!alive(pid), `pid ${pid} still runs`);
    assert.equal(kubelet.pods().filter((p) => p.namespace === 'pk-inspect').length, 0);
    assert.ok(!kubelet.networkNamespaces().includes(mine[0]!.netns!));
  });

  for (const end of ['exit', 'SIGKILL'] as const) {
    test(`a kubelet whose process ends without stop() (${end}) leaves no process, network namespace, bridge or temp dir behind`, async () => {
      const ns = `pk-${end.toLowerCase()}`;
      const node = `process-kubelet-child-${end.toLowerCase()}-${process.pid}`;
      await create('/api/v1/namespaces', { metadata: { name: ns } });
      // Bound at creation: the child kubelet does not schedule.
      await create(`/api/v1/namespaces/${ns}/pods`, {
        metadata: { name: 'p' },
        spec: { nodeName: node, containers: [{ name: 'inspect', image: INSPECT_IMAGE, ports: [{ containerPort: 8080 }] }] },
      });
      const child = await ManagedProcess.start(process.execPath, [CHILD], {
        name: `child kubelet (${end})`,
        env: {
          ...process.env,
          PK_API: JSON.stringify({ url: kube.url, ca: kube.ca, adminToken: kube.adminToken }),
          PK_IMAGES: JSON.stringify({ [INSPECT_IMAGE]: { command: process.execPath, args: [APP] } }),
          PK_NODE: node,
          PK_PODS: '1',
          PK_END: end === 'exit' ? 'exit' : 'wait',
        },
      });
      let ready: { pods: Array<{ pids: Record<string, number>; netns: string; ip: string }>; bridge: string; dir: string };
      try {
        ready = JSON.parse((await child.waitForOutput(/^READY (.*)$/m, 20_000))[1]!) as typeof ready;
      } finally {
        if (end === 'SIGKILL') await child.kill();
      }
      const pid = ready.pods[0]!.pids['inspect']!;
      const netns = ready.pods[0]!.netns;
      await Promise.race([child.exited, new Promise((r) => setTimeout(r, 10_000))]);
      assert.ok(!child.running, child.describeExit());
      // On exit the hooks run at once; after SIGKILL the watchdogs notice within seconds.
      await pollUntil(
        'the process, namespace, bridge and temp dir gone',
        async () => {
          const list = await runCommand('ip', ['netns', 'list'], { timeoutMs: 5_000 });
          const link = await runCommand('ip', ['link', 'show', ready.bridge], { timeoutMs: 5_000 });
          return { process: alive(pid), netns: list.stdout.includes(netns), bridge: link.code === 0, dir: existsSync(ready.dir) };
        },
        (v) => !v.process && !v.netns && !v.bridge && !v.dir,
        { timeoutMs: 10_000, intervalMs: 200, context: () => child.logTail() },
      );
      await kube.request('DELETE', `/api/v1/nodes/${node}`);
    });
  }

  test('stop() leaves no process, network namespace, bridge, temp dir or Node behind', async () => {
    const pids = kubelet.pods().flatMap((p) => Object.values(p.pids));
    const namespaces = kubelet.networkNamespaces();
    assert.ok(pids.length >= 2 && namespaces.length >= 2, `expected running pods: ${JSON.stringify(kubelet.pods())}`);
    await kubelet.stop();
    kubeletStopped = true;
    for (const pid of pids) assert.ok(!alive(pid), `pid ${pid} still runs`);
    const list = await runCommand('ip', ['netns', 'list'], { timeoutMs: 5_000 });
    for (const ns of namespaces) assert.ok(!list.stdout.includes(ns), `network namespace ${ns} still exists`);
    const link = await runCommand('ip', ['link', 'show', kubelet.bridge.name], { timeoutMs: 5_000 });
    assert.notEqual(link.code, 0, `bridge ${kubelet.bridge.name} still exists`);
    assert.equal(kubelet.networkNamespaces().length, 0);
    assert.ok(!existsSync(kubelet.dir), `${kubelet.dir} still exists`);
    const node = await kube.request('GET', `/api/v1/nodes/${kubelet.nodeName}`);
    assert.equal(node.status, 404);
  });
});
