// The scripts the Dockerfile runs, run here (no Docker engine on these
// machines): the runtime install, staging the app, and the ATS container's
// entry point serving with the staged plugin while the staged controller
// publishes; and the manifests in k8s/ checked by a real API server.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { httpRequest } from '../harness/ats.js';
import { startBackend, type Backend } from '../harness/backends.js';
import { startKube, type KubeCluster } from '../harness/kube.js';
import { freePorts } from '../harness/ports.js';

const run = promisify(execFile);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

describe('the image\'s scripts', () => {
  let stage: string;
  before(async () => {
    stage = await mkdtemp(join(tmpdir(), 'atsi-stage-'));
  });
  after(async () => {
    await rm(stage, { recursive: true, force: true });
  });

  it('install-runtime.sh finds (or installs) the runtime packages', async () => {
    const { stdout } = await run('bash', [join(ROOT, 'scripts/container/install-runtime.sh')], { timeout: 300_000 });
    assert.match(stdout, /trafficserver 9\.2\./);
  });

  it('stage-app.sh stages a runnable controller, the addon and the plugin, without tests', async () => {
    await run('bash', [join(ROOT, 'scripts/container/stage-app.sh'), stage], { timeout: 300_000 });
    for (const f of ['dist/src/cli/main.js', 'build/Release/ats_ingress.node', 'ats_ingress.so', 'scripts/container/ats-entry.sh', 'node_modules/yaml/package.json']) {
      assert.ok(existsSync(join(stage, f)), `${f} is staged`);
    }
    // No test code of any kind: tests, test kits, the harness, the demo, the benchmarks.
    const shipped = (await readdir(join(stage, 'dist'), { recursive: true })).map(String).sort();
    const testCode = shipped.filter((f) => /\.test\.js$/.test(f) || /^(test|bench|demo)(\/|$)/.test(f) || /^src\/testing(\/|$)/.test(f));
    assert.deepEqual(testCode, [], 'test code in the staged tree');
    assert.deepEqual([...new Set(shipped.map((f) => f.split('/')[0]))], ['src'], 'only src/ is compiled into the image');
    assert.ok(shipped.includes('src/example-app/example-app.js'), 'the walkthrough\'s example app (k8s/apps runs it)');
    assert.ok(!existsSync(join(stage, 'node_modules/typescript')), 'no dev dependencies');
    const { stdout } = await run(process.execPath, [join(stage, 'dist/src/cli/main.js'), 'controller', '--help'], { timeout: 20_000 });
    assert.match(stdout, /--manifests DIR/);
  });

  it('ats-entry.sh runs ATS with the staged plugin; the staged controller\'s table is served; SIGTERM stops it', async () => {
    const [http, https] = await freePorts(2);
    const table = `t-entry-${process.pid}`;
    const runroot = await mkdtemp(join(tmpdir(), 'atsi-entry-'));
    const manifests = join(runroot, 'manifests');
    let backend: Backend | undefined;
    const ats = spawn('bash', [join(stage, 'scripts/container/ats-entry.sh')], {
      env: { ...process.env, ATS_RUNROOT: runroot, ATS_HTTP_PORT: String(http), ATS_HTTPS_PORT: String(https), ATS_BIND: '127.0.0.1', ATS_TABLE: table, ATS_PLUGIN: join(stage, 'ats_ingress.so'), ATS_SHUTDOWN_TIMEOUT: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let log = '';
    ats.stdout.on('data', (d: Buffer) => (log += d.toString()));
    ats.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const exited = new Promise<number | null>((res) => ats.once('exit', (code) => res(code)));
    try {
      const deadline = Date.now() + 20_000;
      let first;
      for (;;) {
        first = await httpRequest({ port: http!, host: 'entry.test', path: '/', fresh: true, timeoutMs: 2000 }).catch(() => undefined);
        if (first) break;
        assert.ok(Date.now() < deadline, `ATS did not answer in 20 s:\n${log}`);
        await delay(100);
      }
      assert.equal(first.status, 503);
      assert.match(first.body, /no route table has been published yet/);

      backend = await startBackend({ service: 'ns/web', pod: 'web-0' });
      await mkdir(manifests);
      await writeFile(join(manifests, 'all.yaml'), `apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: ats}
spec: {controller: ats.ingress.kubernetes.io/controller}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ns}
spec: {ports: [{name: http, port: 80, targetPort: 8080}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-1, namespace: ns, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, port: ${backend.port}}]
endpoints: [{addresses: [127.0.0.1]}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: ns}
spec:
  ingressClassName: ats
  rules: [{host: entry.test, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {name: http}}}}]}}]
`);
      const once = await run(process.execPath, [join(stage, 'dist/src/cli/main.js'), 'controller', '--manifests', manifests, '--once', '--table', table], { timeout: 30_000 });
      assert.match(once.stdout, /published generation 1/);
      let routed;
      for (const end = Date.now() + 5000; Date.now() < end; await delay(50)) {
        routed = await httpRequest({ port: http!, host: 'entry.test', path: '/x', fresh: true });
        if (routed.status === 200) break;
      }
      assert.equal(routed?.status, 200);
      assert.equal(JSON.parse(routed!.body).pod, 'web-0');
      // The generation ATS serves, as the controller's --ats-stats-url reads
      // it (ATS syncs its stats every 500 ms with the entry point's records).
      let served: string | undefined;
      for (const end = Date.now() + 10_000; Date.now() < end && served !== '1'; await delay(100)) {
        const stats = await httpRequest({ port: http!, path: '/_ats_ingress_stats', fresh: true });
        assert.equal(stats.status, 200);
        served = (JSON.parse(stats.body) as { global: Record<string, string> }).global['plugin.ats_ingress.table_generation'];
      }
      assert.equal(served, '1');
    } finally {
      if (ats.exitCode === null) process.kill(ats.pid!, 'SIGTERM');
      const code = await Promise.race([exited, delay(15_000).then(() => 'timeout' as const)]);
      if (code === 'timeout') process.kill(-ats.pid!, 'SIGKILL');
      await backend?.close();
      await run(process.execPath, ['-e', `import('${join(ROOT, 'dist/src/route-table/route-table.js')}').then(m => { const t = m.RouteTable.open('${table}'); t.remove(); t.close(); })`]);
      await rm(runroot, { recursive: true, force: true });
    }
  });
});

describe('k8s/ manifests', () => {
  let kube: KubeCluster;
  before(async () => {
    kube = await startKube();
  });
  after(async () => {
    await kube?.stop();
  });

  it('pass a server-side dry run of kubectl apply -R', async () => {
    // A dry run creates no namespace, so the namespaced objects need real ones.
    const ns = await kube.kubectl(['create', 'namespace', 'ats-ingress']);
    assert.equal(ns.code, 0, ns.stderr);
    for (const n of ['trafficserver-test-2', 'trafficserver-test-3']) await kube.kubectl(['create', 'namespace', n]);
    const r = await kube.kubectl(['apply', '--dry-run=server', '-R', '-f', join(ROOT, 'k8s')]);
    assert.equal(r.code, 0, r.stderr);
    for (const what of ['deployment.apps/ats-ingress', 'service/ats-ingress', 'clusterrole.rbac.authorization.k8s.io/ats-ingress', 'ingressclass.networking.k8s.io/ats', 'ingress.networking.k8s.io/app-ingress']) {
      assert.ok(r.stdout.includes(what), `${what} in:\n${r.stdout}`);
    }
  });
});
