// End to end on a real API server, with ATS as the pod runs it (under
// traffic_manager, a TLS port, an empty ssl_multicert.config): HTTPS with
// each Ingress's own certificates from Secrets, served by SNI; a Secret
// renewed 20 times under a bounded load of new TLS connections; bad Secrets
// refused with an Event while the old certificate serves; mutual TLS from
// annotations; the 308 redirect; and the records ConfigMap applied, changed,
// a key removed, bad and restart-only keys reported on the ConfigMap, and
// the values set again after ATS restarts. ATS's PID stays the same except
// where a restart is the point.
//
// Run: bash scripts/build.sh && node --test dist/test/e2e/tls-records.test.js

import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';

import { certKit, type CertKit, type Pem } from '../harness/certs.js';
import { E2e, K8S_DIR, ms, quantile, type ControllerProcess } from './env.js';
import { pollUntil } from '../harness/poll.js';

const NS = 'e2e-tls';
const PORT = 8080;
let e: E2e;
let controller: ControllerProcess;
let kit: CertKit;
let clients: CertKit;
const certs: Record<string, Pem> = {};

const b64 = (t: string) => Buffer.from(t).toString('base64');
const fp = (p: Pem) => new X509Certificate(p.cert).fingerprint256;

function tlsSecret(name: string, pem: Pem, extra: Record<string, string> = {}) {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: NS }, type: 'kubernetes.io/tls', data: { 'tls.crt': b64(pem.cert), 'tls.key': b64(pem.key), ...extra } };
}

async function putSecret(name: string, pem: Pem, extra: Record<string, string> = {}): Promise<void> {
  await e.apply(`/api/v1/namespaces/${NS}/secrets/${name}`, tlsSecret(name, pem, extra));
}

function ingress(name: string, host: string, opts: { secret?: string; tlsHosts?: string[]; annotations?: Record<string, string> } = {}) {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: NS, ...(opts.annotations ? { annotations: opts.annotations } : {}) },
    spec: {
      ingressClassName: 'ats',
      ...(opts.secret ? { tls: [{ hosts: opts.tlsHosts ?? [host], secretName: opts.secret }] } : {}),
      rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: PORT } } } }] } }],
    },
  };
}

async function putIngress(obj: ReturnType<typeof ingress>): Promise<void> {
  await e.apply(`/apis/networking.k8s.io/v1/namespaces/${NS}/ingresses/${obj.metadata.name}`, obj);
}

/** One new TLS connection to ATS: the fingerprint of what it presented (verified against our CA when `verify`). */
async function presented(servername: string, opts: { verify?: boolean; client?: Pem } = {}): Promise<string> {
  const socket = tls.connect({ host: '127.0.0.1', port: e.ats!.httpsPort!, servername, ca: kit.ca.cert, rejectUnauthorized: opts.verify ?? false, ...(opts.client ? { cert: opts.client.cert, key: opts.client.key } : {}) });
  try {
    await Promise.race([once(socket, 'secureConnect'), once(socket, 'error').then(([err]) => Promise.reject(err as Error))]);
    return socket.getPeerX509Certificate()?.fingerprint256 ?? '';
  } finally {
    socket.destroy();
  }
}

const until = async <T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> =>
  (await pollUntil(what, fn, ok, { timeoutMs, intervalMs: 20, context: () => controller.log(4_000) })).value;

/** The Warning Events on an object, as `kubectl get events` lists them. */
async function events(kind: string, name: string, namespace = NS): Promise<Array<{ reason: string; message: string; type: string }>> {
  const list = JSON.parse(await e.kubectl(['get', 'events', '-n', namespace, '-o', 'json'])).items as Array<{ reason: string; message: string; type: string; involvedObject: { kind: string; name: string } }>;
  return list.filter((x) => x.involvedObject.kind === kind && x.involvedObject.name === name);
}

async function recordsOf(...names: string[]): Promise<Record<string, string>> {
  const r = await e.ats!.trafficCtl(['config', 'get', ...names]);
  const out: Record<string, string> = {};
  for (const line of r.stdout.split('\n')) {
    const i = line.indexOf(': ');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 2);
  }
  return out;
}

before(async () => {
  [kit, clients] = await Promise.all([certKit('E2E Server CA'), certKit('E2E Client CA')]);
  certs.a = await kit.leaf('a.e2e.test');
  certs.a2 = await kit.leaf('a.e2e.test');
  certs.b = await kit.leaf('b.e2e.test');
  certs.wild = await kit.leaf('*.w.e2e.test');
  certs.default = await kit.leaf('default.e2e.test');
  certs.mtls = await kit.leaf('mtls.e2e.test');
  certs.other = await kit.leaf('other.e2e.test');
  certs.expired = await kit.expired(['b.e2e.test']);
  certs.alice = await clients.leaf('alice', { client: true, subject: '/O=E2E/CN=alice' });
  e = await E2e.start({ tag: 'tls', pods: 1, backends: [{ service: `${NS}/web`, pod: 'web-0', podIndex: 0, port: PORT }], pod: true });
  await e.kubectl(['apply', '-f', join(K8S_DIR, 'traffic-server', '20-ingressclass.yaml')]);
  await e.kubectl(['create', 'namespace', NS]);
  await e.apply(`/api/v1/namespaces/${NS}/services/web`, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: NS }, spec: { ports: [{ name: 'http', port: PORT }] } });
  await e.putSlice({ namespace: NS, service: 'web', port: PORT, addresses: [e.backends.list[0]!.address] });
  await e.apply('/api/v1/namespaces/ats-ingress/secrets/default-tls', { ...tlsSecret('default-tls', certs.default!), metadata: { name: 'default-tls', namespace: 'ats-ingress' } });
  await putSecret('a-tls', certs.a!);
  await putSecret('b-tls', certs.b!);
  await putSecret('wild-tls', certs.wild!);
  await putIngress(ingress('a', 'a.e2e.test', { secret: 'a-tls', annotations: { 'ats.ingress.kubernetes.io/ssl-redirect': 'true' } }));
  await putIngress(ingress('b', 'b.e2e.test', { secret: 'b-tls' }));
  await putIngress(ingress('wild', 'x.w.e2e.test', { secret: 'wild-tls', tlsHosts: ['*.w.e2e.test'] }));
  controller = await e.startController(['--ats-stats-url', e.statsUrl, '--default-certificate', 'ats-ingress/default-tls', ...e.recordsArgs()]);
  await controller.waitReady(30_000);
});

after(async () => {
  await e?.close();
  await kit?.close();
  await clients?.close();
});

describe('HTTPS with each Ingress\'s own certificates, through a real API server', () => {
  test('two exact hosts and a wildcard by SNI, verified; unknown names get --default-certificate', async () => {
    await until('a.e2e.test served its Secret', () => presented('a.e2e.test', { verify: true }), (f) => f === fp(certs.a!));
    assert.equal(await presented('b.e2e.test', { verify: true }), fp(certs.b!));
    assert.equal(await presented('x.w.e2e.test', { verify: true }), fp(certs.wild!));
    assert.equal(await presented('nobody.e2e.test'), fp(certs.default!));
    const r = await e.ats!.request({ tls: true, host: 'a.e2e.test', path: '/over-tls', fresh: true });
    assert.equal(r.status, 200);
  });

  test('ssl-redirect answers 308 for a host that has its certificate', async () => {
    const r = await e.request({ host: 'a.e2e.test', path: '/x?y=1' });
    assert.equal(r.status, 308);
    assert.equal(r.headers.location, 'https://a.e2e.test/x?y=1');
    assert.equal((await e.request({ host: 'b.e2e.test', path: '/' })).status, 200, 'no redirect without the annotation');
  });

  test('a Secret renewed 20 times under a load of new TLS connections: every handshake and request succeeds, the new certificate each time', async () => {
    const pid = e.ats!.pid;
    const seen = new Set<string>();
    let requests = 0;
    const failures: string[] = [];
    let stop = false;
    const worker = async () => {
      // Bounded in count and time: stops when told, or after 2,000 requests.
      for (let i = 0; i < 2_000 && !stop; i++) {
        try {
          const r = await e.ats!.request({ tls: true, host: 'a.e2e.test', path: '/load', fresh: true, timeoutMs: 5_000, ca: kit.ca.cert, rejectUnauthorized: true });
          requests++;
          if (r.status !== 200) failures.push(`status ${r.status}`);
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
    };
    const load = [worker(), worker()];
    const latencies: number[] = [];
    try {
      for (let i = 1; i <= 20; i++) {
        const next = i % 2 === 1 ? certs.a2! : certs.a!;
        const t0 = performance.now();
        await putSecret('a-tls', next);
        await until(`renewal ${i}`, () => presented('a.e2e.test', { verify: true }), (f) => f === fp(next), 10_000);
        latencies.push(performance.now() - t0);
        seen.add(fp(next));
      }
    } finally {
      stop = true;
      await Promise.all(load);
    }
    console.log(`# 20 renewals of Secret a-tls under load: write → first handshake with the new certificate p50 ${ms(quantile(latencies, 0.5))} ms, p99 ${ms(quantile(latencies, 0.99))} ms; ${requests} verified requests on new connections, ${failures.length} failed`);
    assert.deepEqual(failures, []);
    assert.ok(requests > 0);
    assert.equal(seen.size, 2);
    assert.equal(e.ats!.pid, pid, 'no ATS restart');
  });

  test('each bad Secret is refused with an Event naming it and the field; the old certificate keeps serving; other hosts are untouched', async () => {
    const before = await presented('b.e2e.test');
    assert.equal(before, fp(certs.b!));
    const cases: Array<{ what: string; secret: Record<string, unknown>; event: RegExp }> = [
      { what: 'a key that does not match', secret: tlsSecret('b-tls', { cert: certs.b!.cert, key: certs.other!.key }), event: /Secret e2e-tls\/b-tls has a tls\.key that does not match the certificate in tls\.crt/ },
      { what: 'PEM that does not parse', secret: { ...tlsSecret('b-tls', certs.b!), data: { 'tls.crt': b64('-----BEGIN CERTIFICATE-----\nbm9wZQ==\n-----END CERTIFICATE-----\n'), 'tls.key': b64(certs.b!.key) } }, event: /Secret e2e-tls\/b-tls has a tls\.crt whose certificate does not parse/ },
      { what: 'not PEM at all', secret: { ...tlsSecret('b-tls', certs.b!), data: { 'tls.crt': b64('hello'), 'tls.key': b64(certs.b!.key) } }, event: /Secret e2e-tls\/b-tls has a tls\.crt that holds no PEM certificate/ },
      { what: 'a certificate for another host', secret: tlsSecret('b-tls', certs.other!), event: /the certificate of Secret e2e-tls\/b-tls \(tls\.crt\) does not cover "b\.e2e\.test"/ },
    ];
    for (const c of cases) {
      await e.apply(`/api/v1/namespaces/${NS}/secrets/b-tls`, c.secret);
      await until(`the Event for ${c.what}`, () => events('Ingress', 'b'), (list) => list.some((ev) => ev.type === 'Warning' && c.event.test(ev.message)), 15_000);
      assert.equal(await presented('b.e2e.test'), before, `${c.what}: the old certificate still serves`);
      assert.equal(await presented('a.e2e.test', { verify: true }), fp(certs.a!), `${c.what}: other hosts untouched`);
    }
    // A missing tls.key never reaches us: the API server refuses such a kubernetes.io/tls Secret.
    const refused = await e.write('PUT', `/api/v1/namespaces/${NS}/secrets/b-tls`, { ...tlsSecret('b-tls', certs.b!), data: { 'tls.crt': b64(certs.b!.cert) } });
    assert.equal(refused.status, 422, refused.text);
    // A Secret that does not exist, and one of the wrong type.
    await putIngress(ingress('b', 'b.e2e.test', { secret: 'no-such-secret' }));
    await until('the Event for a missing Secret', () => events('Ingress', 'b'), (list) => list.some((ev) => /Secret e2e-tls\/no-such-secret does not exist/.test(ev.message)));
    assert.equal(await presented('b.e2e.test'), fp(certs.default!), 'a Secret it never had gives nothing to keep: the default');
    // Expired: served, with a Warning.
    await putSecret('b-tls', certs.expired!);
    await putIngress(ingress('b', 'b.e2e.test', { secret: 'b-tls' }));
    await until('the expired certificate served', () => presented('b.e2e.test'), (f) => f === fp(certs.expired!));
    await until('the Warning for an expired certificate', () => events('Ingress', 'b'), (list) => list.some((ev) => /expired on 2024-01-02T00:00:00Z; it is served anyway/.test(ev.message)));
    await putSecret('b-tls', certs.b!);
  });

  test('mutual TLS from annotations: refused without a client certificate, accepted with one the CA signed, the pod gets the subject', async () => {
    await putSecret('mtls-tls', certs.mtls!);
    // A CA in a kubernetes.io/tls Secret (as cert-manager's CA Secrets are): ca.crt beside a tls.crt and tls.key.
    await e.apply(`/api/v1/namespaces/${NS}/secrets/client-ca`, tlsSecret('client-ca', clients.ca, { 'ca.crt': b64(clients.ca.cert) }));
    await putIngress(ingress('mtls', 'mtls.e2e.test', { secret: 'mtls-tls', annotations: { 'ats.ingress.kubernetes.io/auth-tls-secret': 'client-ca' } }));
    await until('the mTLS host served', () => presented('mtls.e2e.test', { client: certs.alice! }), (f) => f === fp(certs.mtls!));
    await assert.rejects(
      e.ats!.request({ tls: true, host: 'mtls.e2e.test', path: '/', fresh: true, timeoutMs: 5_000 }),
      'no client certificate: refused',
    );
    const r = await e.ats!.request({ tls: true, host: 'mtls.e2e.test', path: '/', fresh: true, timeoutMs: 5_000, cert: certs.alice!.cert, key: certs.alice!.key });
    assert.equal(r.status, 200, r.body);
    const headers = JSON.parse(r.body).headers as Record<string, string>;
    assert.equal(headers['ssl-client-verify'], 'SUCCESS');
    assert.equal(headers['ssl-client-subject-dn'], 'CN=alice,O=E2E');
    // Plain HTTP to that host would skip the check: it is redirected.
    assert.equal((await e.request({ host: 'mtls.e2e.test', path: '/' })).status, 308);
  });
});

describe('ATS records from the records ConfigMap, through a real API server', () => {
  const RECORDS = ['proxy.config.output.logfile.rolling_enabled', 'proxy.config.output.logfile.rolling_interval_sec', 'proxy.config.restart.active_client_threshold'];

  test('the walkthrough\'s ConfigMap is applied, a change too, and a removed key goes back to ATS\'s default', async () => {
    const pid = e.ats!.pid;
    const t0 = performance.now();
    await e.kubectl(['apply', '-f', join(K8S_DIR, 'configmaps', 'ats-records.yaml')]);
    await until('the walkthrough\'s records set', () => recordsOf(...RECORDS), (v) => v[RECORDS[0]!] === '1' && v[RECORDS[1]!] === '3000');
    console.log(`# kubectl apply of the records ConfigMap → set in traffic_manager: ${ms(performance.now() - t0)} ms`);
    await e.kubectl(['patch', 'configmap', 'ats-records', '-n', 'ats-ingress', '--type', 'merge', '-p', JSON.stringify({ data: { [RECORDS[1]!]: '600' } })]);
    await until('the change', () => recordsOf(RECORDS[1]!), (v) => v[RECORDS[1]!] === '600');
    await e.kubectl(['patch', 'configmap', 'ats-records', '-n', 'ats-ingress', '--type', 'json', '-p', JSON.stringify([{ op: 'remove', path: `/data/${RECORDS[0]!.replace(/\//g, '~1')}` }])]);
    await until('the removed key back to its default', () => recordsOf(RECORDS[0]!), (v) => v[RECORDS[0]!] === '0');
    assert.equal(e.ats!.pid, pid, 'no ATS restart');
  });

  test('a bad key and a restart-only key are Warning Events on the ConfigMap; the good ones still apply', async () => {
    await e.kubectl(['patch', 'configmap', 'ats-records', '-n', 'ats-ingress', '--type', 'merge', '-p', JSON.stringify({
      data: { [RECORDS[1]!]: '1200', 'proxy.config.no.such.record': '1', 'proxy.config.cache.ram_cache.algorithm': '1', 'proxy.config.cache.ram_cache.size': '33554432' },
    })]);
    await until('the good key applied', () => recordsOf(RECORDS[1]!), (v) => v[RECORDS[1]!] === '1200');
    const list = await until('the Events on the ConfigMap', () => events('ConfigMap', 'ats-records', 'ats-ingress'), (l) =>
      l.some((ev) => /proxy\.config\.no\.such\.record.*ATS has no record/.test(ev.message)) && l.some((ev) => /proxy\.config\.cache\.ram_cache\.algorithm.*takes effect only when traffic_server restarts/.test(ev.message)) &&
      // The cache's size is the pod's (ATS_RAM_CACHE_SIZE), not the ConfigMap's.
      l.some((ev) => /proxy\.config\.cache\.ram_cache\.size.*set by ats-ingress itself/.test(ev.message)));
    assert.ok(list.every((ev) => ev.type === 'Warning'));
    const ready = await controller.admin('/readyz');
    assert.equal(ready.status, 200, 'a record needing a restart leaves /readyz alone');
    const metrics = (await controller.admin('/metrics')).text;
    assert.match(metrics, /ats_ingress_records\{state="restart_required"\} 1/);
    assert.match(metrics, /ats_ingress_records\{state="refused"\} 2/);
  });

  test('after ATS restarts, the records are in force again', async () => {
    await e.ats!.restart();
    const t0 = performance.now();
    await until('the records set again', () => recordsOf(RECORDS[1]!, RECORDS[2]!), (v) => v[RECORDS[1]!] === '1200', 30_000);
    console.log(`# after an ATS restart the records were set again ${ms(performance.now() - t0)} ms after ATS answered`);
    // And the table and certificates serve at once.
    assert.equal(await presented('a.e2e.test', { verify: true }), fp(certs.a!));
    const state = JSON.parse(await readFile(join(e.ats!.dir, 'ats-ingress', 'records-applied.json'), 'utf8'));
    assert.equal(state.values[RECORDS[1]!], '1200');
  });
});
