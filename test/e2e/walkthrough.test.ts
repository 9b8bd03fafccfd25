// End to end, the original README's walkthrough on a real API server: the
// shipped manifests (k8s/traffic-server's namespace, RBAC and IngressClass,
// k8s/apps, k8s/ingresses) applied with kubectl, the controller as a child
// process under the shipped RBAC only, real traffic_server with the plugin,
// echo backends in a test network namespace. Also: readiness (/readyz waits
// for ATS), Ingress status written only once ATS serves, and a broken
// Ingress (a missing Service) reported as an Event while the rest serves.
//
// Run: bash scripts/build.sh && node --test dist/test/e2e/walkthrough.test.js

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';

import { E2e, echo, K8S_DIR, ms, who, type ControllerProcess } from './env.js';

const NS2 = 'trafficserver-test-2';
const NS3 = 'trafficserver-test-3';
const PUBLISH = '192.0.2.10';

// Two pods per Service, each Service on its own port (all pods of a slice share it).
const SERVICES = [
  { ns: NS2, name: 'appsvc1', port: 8081, pods: [0, 1] },
  { ns: NS2, name: 'appsvc2', port: 8082, pods: [2, 3] },
  { ns: NS3, name: 'appsvc1', port: 8083, pods: [4, 5] },
  { ns: NS3, name: 'appsvc2', port: 8084, pods: [6, 7] },
];
const podName = (s: (typeof SERVICES)[number], i: number) => `${s.ns === NS2 ? 't2' : 't3'}-${s.name}-${i}`;

let e: E2e;
let controller: ControllerProcess;

before(async () => {
  e = await E2e.start({
    tag: 'walk',
    pods: 8,
    backends: SERVICES.flatMap((s) => s.pods.map((p, i) => ({ service: `${s.ns}/${s.name}`, pod: podName(s, i), podIndex: p, port: s.port }))),
    ats: false, // started later: /readyz and status must wait for it
  });
});

after(async () => {
  await e?.close();
});

/** The Ingress's status.loadBalancer.ingress (as admin). */
async function lbStatus(ns: string, name: string): Promise<unknown[] | undefined> {
  const r = await e.kube.request('GET', `/apis/networking.k8s.io/v1/namespaces/${ns}/ingresses/${name}`);
  assert.equal(r.status, 200, r.text);
  return r.body.status?.loadBalancer?.ingress;
}

describe('the walkthrough on a real API server', () => {
  test('the controller is healthy but not ready while ATS does not run', async () => {
    controller = await e.startController(['--ats-stats-url', e.statsUrl, '--publish-address', PUBLISH]);
    const t0 = performance.now();
    for (;;) {
      const h = await controller.admin('/healthz').catch(() => undefined);
      if (h?.status === 200) break;
      assert.ok(controller.running, `controller exited: ${controller.log()}`);
      assert.ok(performance.now() - t0 < 30_000, `no healthy /healthz within 30 s: ${h?.text}\n${controller.log()}`);
      await delay(50);
    }
    // Not ready at any point: first no table, then a table ATS cannot be asked about.
    for (;;) {
      const r = await controller.admin('/readyz');
      assert.equal(r.status, 503, r.text);
      if (r.body.generation !== undefined) {
        assert.match(r.body.reason, /cannot ask ATS/, r.text);
        break;
      }
      assert.match(r.body.reason, /no route table published yet/, r.text);
      assert.ok(performance.now() - t0 < 30_000, `no table published within 30 s\n${controller.log()}`);
      await delay(50);
    }
    assert.equal((await controller.admin('/healthz')).status, 200);
  });

  test('kubectl apply of the shipped manifests; the controller publishes, status waits for ATS', async () => {
    await e.kubectl(['apply', '-f', join(K8S_DIR, 'traffic-server', '20-ingressclass.yaml')]);
    await e.kubectl(['apply', '-f', join(K8S_DIR, 'apps')]);
    // The https Ingress's Secret, from a self-signed certificate.
    const dir = mkdtempSync(join(os.tmpdir(), 'ats-ingress-e2e-tls-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-sha256', '-nodes', '-days', '30', '-newkey', 'rsa:2048', '-subj', '/CN=test.edge.com',
        '-addext', 'subjectAltName=DNS:test.edge.com', '-keyout', join(dir, 'tls.key'), '-out', join(dir, 'tls.crt')], { stdio: 'ignore', timeout: 30_000 });
      await e.kubectl(['create', 'secret', 'tls', 'tls-secret', '--key', join(dir, 'tls.key'), '--cert', join(dir, 'tls.crt'), '-n', NS3]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await e.kubectl(['apply', '-f', join(K8S_DIR, 'ingresses')]);
    for (const s of SERVICES) {
      await e.putSlice({ namespace: s.ns, service: s.name, port: s.port, addresses: s.pods.map((p) => e.net.podAddresses[p]!) });
    }

    // The controller (with only the shipped RBAC) publishes both hosts and every endpoint.
    const t0 = performance.now();
    let routes;
    for (;;) {
      try {
        routes = e.routes();
        const eps = (routes.backends as Array<{ endpoints: unknown[] }>).reduce((n, b) => n + b.endpoints.length, 0);
        if (routes.hosts.length === 2 && eps === 6) break;
      } catch {
        /* not published yet */
      }
      assert.ok(performance.now() - t0 < 20_000, `not published within 20 s: ${JSON.stringify(routes)}\n${controller.log()}`);
      await delay(100);
    }
    assert.deepEqual((routes.hosts as Array<{ name: string }>).map((h) => h.name).sort(), ['test.edge.com', 'test.media.com']);
    // No access problem: every watch lists and watches under the shipped RBAC.
    assert.doesNotMatch(controller.log(200_000), /forbidden|"status":403/i);

    // Published, but ATS does not serve it: not ready, and no status written.
    await delay(1_000);
    const r = await controller.admin('/readyz');
    assert.equal(r.status, 503, r.text);
    assert.equal(await lbStatus(NS2, 'app-ingress'), undefined);
    assert.equal(await lbStatus(NS3, 'app-ingress'), undefined);
  });

  test('ATS starts: /readyz becomes 200 and requests are routed as the walkthrough says', async () => {
    const t0 = performance.now();
    await e.startAts();
    const readyMs = await controller.waitReady(20_000);
    console.log(`# ATS started in ${ms(e.ats!.startMs)} ms; controller ready ${ms(performance.now() - t0)} ms after ATS was started (${ms(readyMs)} ms of polling)`);
    const h = await controller.admin('/healthz');
    assert.equal(h.status, 200, h.text);

    const expect: Array<[string, string, string]> = [
      ['test.media.com', '/app1', `${NS2}/appsvc1`],
      ['test.media.com', '/app2', `${NS2}/appsvc2`],
      ['test.edge.com', '/app1', `${NS2}/appsvc1`],
      ['test.edge.com', '/app2', `${NS3}/appsvc2`],
    ];
    for (const [host, path, service] of expect) {
      const pods = new Set<string>();
      for (let i = 0; i < 8; i++) {
        const res = await e.request({ host, path: `${path}/page?x=${i}` });
        const got = echo(res);
        assert.ok(got, `${host}${path}: expected ${service}, got ${res.status} ${res.body}`);
        assert.equal(got.service, service, `${host}${path}`);
        assert.equal(got.host, host, 'the client Host header is kept');
        assert.equal(got.url, `${path}/page?x=${i}`);
        pods.add(got.pod);
      }
      // Both pods of the Service take requests.
      assert.equal(pods.size, 2, `${host}${path}: pods ${[...pods].join(', ')}`);
    }
    for (const [host, path] of [
      ['test.media.com', '/unknown'],
      ['test.edge.com', '/app3'],
      ['test.media.com', '/app10'],
    ] as const) {
      const res = await e.request({ host, path });
      assert.equal(res.status, 404, `${host}${path}: ${who(res)} ${res.body}`);
    }
  });

  test('Ingress status gets the publish address once ATS serves the routes', async () => {
    const t0 = performance.now();
    for (const ns of [NS2, NS3]) {
      for (;;) {
        const st = await lbStatus(ns, 'app-ingress');
        if (st !== undefined) {
          assert.deepEqual(st, [{ ip: PUBLISH }], `${ns}/app-ingress`);
          break;
        }
        assert.ok(performance.now() - t0 < 15_000, `${ns}/app-ingress: no status within 15 s\n${controller.log()}`);
        await delay(100);
      }
    }
    const out = await e.kubectl(['get', 'ingress', 'app-ingress', '-n', NS3, '-o', 'jsonpath={.status.loadBalancer.ingress[0].ip}']);
    assert.equal(out, PUBLISH);
  });

  test('an Ingress naming a missing Service: a Warning Event on it and 503, the other routes keep working', async () => {
    const broken = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'broken', namespace: NS2 },
      spec: {
        ingressClassName: 'ats',
        rules: [
          {
            host: 'broken.test',
            http: {
              paths: [
                { path: '/missing', pathType: 'Prefix', backend: { service: { name: 'no-such-service', port: { number: 8080 } } } },
                { path: '/fine', pathType: 'Prefix', backend: { service: { name: 'appsvc2', port: { number: 8080 } } } },
              ],
            },
          },
        ],
      },
    };
    const t0 = performance.now();
    await e.kubectl(['apply', '-f', '-'], JSON.stringify(broken));
    const served = await e.until('broken.test/missing → 503', { host: 'broken.test', path: '/missing' }, (r) => r.status === 503, { since: t0 });
    console.log(`# broken Ingress applied → 503 served in ${ms(served.ms)} ms (kubectl included): ${served.response.body.trim()}`);
    assert.match(served.response.body, /no-such-service/);

    const fine = echo(await e.request({ host: 'broken.test', path: '/fine' }));
    assert.equal(fine?.service, `${NS2}/appsvc2`, 'the same Ingress\'s good path');
    for (const [host, path, service] of [
      ['test.media.com', '/app1', `${NS2}/appsvc1`],
      ['test.edge.com', '/app2', `${NS3}/appsvc2`],
    ] as const) {
      assert.equal(echo(await e.request({ host, path }))?.service, service, `${host}${path} after the broken Ingress`);
    }

    // The Event, as `kubectl get events -n trafficserver-test-2` shows it.
    let events: Array<{ type: string; reason: string; message: string; involvedObject: { kind: string; name: string } }> = [];
    for (const t1 = performance.now(); ; await delay(200)) {
      events = JSON.parse(await e.kubectl(['get', 'events', '-n', NS2, '-o', 'json'])).items;
      if (events.some((ev) => ev.involvedObject.kind === 'Ingress' && ev.involvedObject.name === 'broken')) break;
      assert.ok(performance.now() - t1 < 15_000, `no Event on Ingress broken within 15 s: ${JSON.stringify(events)}\n${controller.log()}`);
    }
    const ev = events.find((x) => x.involvedObject.kind === 'Ingress' && x.involvedObject.name === 'broken')!;
    assert.equal(ev.type, 'Warning', JSON.stringify(ev));
    assert.match(ev.message, /no-such-service.*does not exist/, JSON.stringify(ev));
    const table = await e.kubectl(['get', 'events', '-n', NS2]);
    assert.match(table, /Warning\s+\S+\s+ingress\/broken/i, table);
    // What a user reads: `kubectl describe` selects Events by the object's
    // uid, so it shows ours only when involvedObject.uid is set.
    const uid = JSON.parse(await e.kubectl(['get', 'ingress', 'broken', '-n', NS2, '-o', 'json'])).metadata.uid as string;
    assert.equal((ev as unknown as { involvedObject: { uid?: string } }).involvedObject.uid, uid, JSON.stringify(ev));
    const described = await e.kubectl(['describe', 'ingress', 'broken', '-n', NS2]);
    const eventsPart = described.slice(described.indexOf('Events:'));
    assert.match(eventsPart, /Warning\s+InvalidServiceName\s+.*ats-ingress\s+.*no-such-service.*does not exist/, described);
    // Nothing reported about the walkthrough's own Ingresses (their Secret exists).
    for (const ns of [NS2, NS3]) {
      const list = JSON.parse(await e.kubectl(['get', 'events', '-n', ns, '-o', 'json'])).items as typeof events;
      const other = list.filter((x) => x.involvedObject.name === 'app-ingress');
      assert.deepEqual(other, [], `${ns}: ${JSON.stringify(other)}`);
    }
  });

  test('the controller stops cleanly on SIGTERM, and ATS keeps serving', async () => {
    const pid = controller.pid;
    const r = await controller.stop();
    assert.deepEqual(r, { code: 0, signal: null }, controller.log());
    assert.equal(echo(await e.request({ host: 'test.media.com', path: '/app2' }))?.service, `${NS2}/appsvc2`, `after controller ${pid} stopped`);
  });
});
