// The whole pipeline without a cluster: a manifests directory, the cache,
// the loop, the builder and the real addon publishing to shared memory.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { RouteTable } from '../route-table/route-table.js';
import { silentLogger } from '../observe/logger.js';
import { ManifestSource } from '../sources/manifests.js';
import { buildConfig } from '../config/config.js';
import { Controller } from './controller.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

/** The test-only stand-in for the plugin's counting (native/test/stats_cli.cc). */
const STATS_CLI = process.env.ATS_INGRESS_STATS_CLI ?? fileURLToPath(new URL('../../../native/build/stats_cli', import.meta.url));

const CLASS = `apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: ats}
spec: {controller: ats.ingress.kubernetes.io/controller}
`;

function service(ns: string, name: string, ...addresses: string[]): string {
  return `---
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${ns}}
spec:
  ports: [{name: http, port: 8080, targetPort: 8080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: ${name}-1, namespace: ${ns}, labels: {kubernetes.io/service-name: ${name}}}
addressType: IPv4
ports: [{name: http, port: 8080}]
endpoints: [${addresses.map((a) => `{addresses: [${a}], conditions: {ready: true}}`).join(', ')}]
`;
}

function ingress(ns: string, name: string, host: string, paths: Array<[string, string]>): string {
  return `---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: ${name}, namespace: ${ns}}
spec:
  ingressClassName: ats
  rules:
  - host: ${host}
    http:
      paths:
${paths.map(([p, svc]) => `      - {path: ${p}, pathType: Prefix, backend: {service: {name: ${svc}, port: {number: 8080}}}}`).join('\n')}
`;
}

async function until<T>(what: string, fn: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(20);
  }
}

describe('controller over a manifests directory', () => {
  const table = `t-ctl-${process.pid}`;
  let dir: string;
  let controller: Controller;
  let reader: RouteTable;
  let source: ManifestSource;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'atsi-manifests-'));
    await writeFile(join(dir, 'class.yaml'), CLASS);
    await writeFile(
      join(dir, 'apps.yaml'),
      service('trafficserver-test-2', 'appsvc1', '10.0.0.1', '10.0.0.2') +
        service('trafficserver-test-2', 'appsvc2', '10.0.0.3') +
        service('trafficserver-test-3', 'appsvc2', '10.0.1.3'),
    );
    await writeFile(
      join(dir, 'ingresses.yaml'),
      ingress('trafficserver-test-2', 'app-ingress', 'test.media.com', [['/app1', 'appsvc1'], ['/app2', 'appsvc2']]) +
        ingress('trafficserver-test-2', 'edge-2', 'test.edge.com', [['/app1', 'appsvc1']]) +
        ingress('trafficserver-test-3', 'edge-3', 'test.edge.com', [['/app2', 'appsvc2']]),
    );
    source = new ManifestSource({ dir, logger: silentLogger, debounceMs: 20 });
    controller = new Controller({ source, table, logger: silentLogger, build: buildConfig(), holdMs: 10, coalesceMs: 5, admin: { host: '127.0.0.1', port: 0 } });
    await controller.start();
    reader = RouteTable.open(table);
  });

  after(async () => {
    await controller.stop();
    reader.remove();
    reader.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('routes the walkthrough', () => {
    const svc = (host: string, path: string) => reader.lookup(host, path).service;
    assert.equal(svc('test.media.com', '/app1'), 'trafficserver-test-2/appsvc1');
    assert.equal(svc('test.media.com', '/app2'), 'trafficserver-test-2/appsvc2');
    assert.equal(svc('test.edge.com', '/app1'), 'trafficserver-test-2/appsvc1');
    assert.equal(svc('test.edge.com', '/app2'), 'trafficserver-test-3/appsvc2');
    assert.equal(reader.lookup('test.edge.com', '/app3').status, 404);
  });

  it('picks up an edit of the directory, and a file that does not change publishes nothing', async () => {
    const before = controller.table.last!.generation;
    await writeFile(join(dir, 'class.yaml'), CLASS); // same content
    await writeFile(join(dir, 'extra.yaml'), ingress('trafficserver-test-2', 'more', 'new.example.com', [['/x', 'appsvc1']]));
    await until('the new host', () => (reader.lookup('new.example.com', '/x').status === 200 ? true : undefined));
    await controller.loop.idle();
    assert.equal(controller.table.last!.generation, before + 1n, 'one publish for the whole burst');
  });

  it('keeps every other route when a file turns malformed, and reports it with file and line', async () => {
    await writeFile(join(dir, 'broken.yaml'), 'apiVersion: v1\nkind: Service\nmetadata: {name: x\n');
    const problem = await until('the problem', () => source.problems.find((p) => p.where.startsWith('broken.yaml:')));
    assert.match(problem.where, /^broken\.yaml:\d+$/);
    assert.match(problem.message, /^YAML: /);
    await controller.loop.idle();
    assert.equal(reader.lookup('test.media.com', '/app1').status, 200);
    assert.equal(reader.lookup('new.example.com', '/x').status, 200);
  });

  it('serves health, readiness and metrics on the admin port', async () => {
    const base = `http://127.0.0.1:${controller.adminPort}`;
    const health = await fetch(`${base}/healthz`);
    assert.equal(health.status, 200);
    const ready = await fetch(`${base}/readyz`);
    assert.equal(ready.status, 200);
    const body = (await ready.json()) as { generation: string };
    assert.equal(BigInt(body.generation), controller.table.last!.generation);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /ats_ingress_table_generation \d+/);
    assert.match(metrics, /ats_ingress_builds_total \d+/);
  });

  it('the admin port changes nothing: every method but GET and HEAD is refused on every path, and unknown paths are 404', async () => {
    const base = `http://127.0.0.1:${controller.adminPort}`;
    const generation = controller.table.last!.generation;
    for (const path of ['/healthz', '/readyz', '/metrics', '/', '/purge', '/reload']) {
      for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'PURGE']) {
        const r = await fetch(`${base}${path}`, { method, body: method === 'PURGE' ? undefined : 'x' });
        assert.equal(r.status, 405, `${method} ${path}`);
        await r.arrayBuffer();
      }
    }
    assert.equal((await fetch(`${base}/nothing-here`)).status, 404);
    assert.equal((await fetch(`${base}/metrics`, { method: 'HEAD' })).status, 200);
    assert.equal(controller.table.last!.generation, generation, 'no request published anything');
  });

  it('exports what the plugin counted per route as requests and cache results by Ingress and Service', async () => {
    const slotOf = (host: string, path: string) => {
      const live = reader.read();
      const rule = live.hosts.find((h) => h.name === host)!.rules.find((r) => r.path === path)!;
      return live.backends[rule.backend]!.options!.statsSlot!;
    };
    const media1 = slotOf('test.media.com', '/app1');
    const edge1 = slotOf('test.edge.com', '/app1');
    assert.notEqual(media1, edge1, 'one Service from two Ingresses: two slots');
    // 200 requests from the cache and 3 misses for one, one 503 for the other.
    await promisify(execFile)(STATS_CLI, [table, `${media1}:200:hit_fresh:200`, `${media1}:200:miss:3`, `${edge1}:503:not_cacheable:1`], { timeout: 10_000 });
    const metrics = await (await fetch(`http://127.0.0.1:${controller.adminPort}/metrics`)).text();
    const line = (name: string, labels: string) => new RegExp(`^${name}\\{${labels}\\} (\\d+)$`, 'm').exec(metrics)?.[1];
    assert.equal(line('ats_ingress_requests_total', 'namespace="trafficserver-test-2",ingress="app-ingress",service="appsvc1",status="2xx"'), '203');
    assert.equal(line('ats_ingress_cache_results_total', 'namespace="trafficserver-test-2",ingress="app-ingress",service="appsvc1",result="hit_fresh"'), '200');
    assert.equal(line('ats_ingress_cache_results_total', 'namespace="trafficserver-test-2",ingress="app-ingress",service="appsvc1",result="miss"'), '3');
    assert.equal(line('ats_ingress_requests_total', 'namespace="trafficserver-test-2",ingress="edge-2",service="appsvc1",status="5xx"'), '1');
    assert.equal(line('ats_ingress_requests_total', 'namespace="trafficserver-test-3",ingress="edge-3",service="appsvc2",status="2xx"'), '0');
  });
});
