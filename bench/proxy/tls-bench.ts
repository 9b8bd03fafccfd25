// TLS handshakes per second through ATS with the certificates served by the
// plugin (the TLS table, empty ssl_multicert.config) against the same
// certificates in ssl_multicert.config (the plugin with --no-tls), side by
// side in one run: a new connection for every request (wrk with
// Connection: close), interleaved rounds, the ratio of medians. Then the
// publish time of many certificates: the controller's build (parsing each
// Secret), the TLS table's publish, and the time until ATS serves a name of
// the new table.
//
//   node dist/bench/proxy/tls-bench.js [--quick] [--rounds N] [--seconds S] [--certificates N]
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { buildConfig } from '../../src/config/config.js';
import { build, buildContext } from '../../src/model/build.js';
import { silentLogger } from '../../src/observe/logger.js';
import { controllerMetrics } from '../../src/observe/metrics.js';
import { TlsPublisher } from '../../src/publish/tls-publisher.js';
import { RouteTable, type TlsTable } from '../../src/route-table/route-table.js';
import type { KubeObject } from '../../src/kube/types.js';
import { ingress, ingressClass, snapshotFrom, tlsSecret } from '../../src/testing/fixtures.js';
import { startAts, type AtsInstance } from '../../test/harness/ats.js';
import { certKit, type Pem } from '../../test/harness/certs.js';
import { runCommand } from '../../test/harness/processes.js';
import { ensureNginx, startNginx, type Nginx } from './processes.js';
import { runWrk, type WrkResult } from './wrk.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../../..');
const PLUGIN = path.join(ROOT, 'ats-plugin/build/ats_ingress.so');
const SCRIPT = path.join(ROOT, 'bench/proxy/tls-wrk.lua');
const HOSTS = ['a.tlsbench.test', 'b.tlsbench.test', 'c.tlsbench.test'];
const GOAL = 0.97;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Variant {
  readonly name: string;
  ats: AtsInstance | undefined;
  readonly runs: WrkResult[];
}

async function fingerprint(port: number, servername: string): Promise<string> {
  const s = tls.connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false });
  try {
    await Promise.race([once(s, 'secureConnect'), once(s, 'error').then(([e]) => Promise.reject(e as Error))]);
    return s.getPeerX509Certificate()?.fingerprint256 ?? '';
  } finally {
    s.destroy();
  }
}

/** `n` distinct self-signed EC certificates, each for its own name (openssl, a process each). */
async function manyCerts(n: number, dir: string): Promise<Array<Pem & { host: string }>> {
  const out: Array<Pem & { host: string }> = [];
  for (let i = 0; i < n; i++) {
    const host = `h${i}.many.tlsbench.test`;
    const r = await runCommand('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${dir}/k.pem`, '-out', `${dir}/c.pem`, '-days', '30', '-subj', `/CN=${host}`, '-addext', `subjectAltName=DNS:${host}`], { timeoutMs: 30_000 });
    if (r.code !== 0) throw new Error(`openssl: ${r.stderr}`);
    out.push({ host, cert: await readFile(`${dir}/c.pem`, 'utf8'), key: await readFile(`${dir}/k.pem`, 'utf8') });
  }
  return out;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      seconds: { type: 'string' },
      certificates: { type: 'string' },
    },
  });
  const quick = values.quick ?? false;
  const rounds = Number(values.rounds ?? (quick ? 1 : 5));
  const seconds = Number(values.seconds ?? (quick ? 2 : 5));
  const manyN = Number(values.certificates ?? (quick ? 50 : 1000));
  const work = await mkdtemp(path.join(tmpdir(), 'atsi-tlsbench-'));
  const table = `bench-tls-${process.pid}`;
  const routes = RouteTable.open(table);
  const kit = await certKit('TLS bench CA');
  let nginx: Nginx | undefined;
  const variants: Variant[] = [
    { name: 'certificates from the plugin (TLS table)', ats: undefined, runs: [] },
    { name: 'the same in ssl_multicert.config', ats: undefined, runs: [] },
  ];
  try {
    console.log(`load average before: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    const pems: Pem[] = [];
    for (const h of HOSTS) pems.push(await kit.leaf(h));
    nginx = await startNginx(await ensureNginx((l) => console.log(l)), work);
    routes.publish({
      backends: [{ service: 'bench/nginx', port: '80', scheme: 'http', endpoints: [{ address: '127.0.0.1', port: nginx.port }] }],
      hosts: HOSTS.map((name) => ({ name, rules: [{ path: '/', pathType: 'Prefix' as const, backend: 0, source: 'bench/tls' }] })),
    });
    const tlsTable: TlsTable = {
      certificates: pems.map((p, i) => ({ secret: `bench/${HOSTS[i]}`, chainPem: p.cert, keyPem: p.key, notAfter: Date.parse(new X509Certificate(p.cert).validTo) })),
      policies: [],
      hosts: HOSTS.map((name, i) => ({ name, certificate: i })),
    };
    routes.publishTls(tlsTable);
    variants[0]!.ats = await startAts({ https: true, plugins: [`${PLUGIN} --table ${table}`] });
    variants[1]!.ats = await startAts({
      https: true,
      plugins: [`${PLUGIN} --table ${table} --no-tls`],
      certs: pems.map((p, i) => ({ name: `c${i}`, cert: p.cert, key: p.key })),
      sslMulticert: pems.map((_, i) => `ssl_cert_name=c${i}.pem ssl_key_name=c${i}.key`),
    });
    // Both serve the same certificate for the name the load uses.
    const want = new X509Certificate(pems[0]!.cert).fingerprint256;
    for (const v of variants) {
      const got = await fingerprint(v.ats!.httpsPort!, HOSTS[0]!);
      if (got !== want) throw new Error(`${v.name}: serves ${got} for ${HOSTS[0]}, not the bench certificate`);
    }
    console.log(`${rounds} interleaved rounds × ${seconds} s, wrk -t2 -c20, a new TLS connection per request (RSA 2048, SNI ${HOSTS[0]})`);
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? variants : [...variants].reverse();
      for (const v of order) {
        const res = await runWrk({ script: SCRIPT, url: `https://${HOSTS[0]}:${v.ats!.httpsPort}/`, host: HOSTS[0]!, seconds, threads: 2, connections: 20 });
        if (res.socketErrors > 0 || res.statusErrors > 0) throw new Error(`${v.name}: ${res.socketErrors} socket errors, ${res.statusErrors} status errors`);
        v.runs.push(res);
        console.log(`  round ${r + 1}: ${v.name.padEnd(42)} ${Math.round(res.rps).toLocaleString('en-US').padStart(7)} handshakes/s`);
      }
    }
    const [plugin, multicert] = variants.map((v) => median(v.runs.map((x) => x.rps)));
    const ratio = plugin! / multicert!;
    console.log('');
    console.log(`handshakes/s, median of ${rounds}: plugin ${Math.round(plugin!).toLocaleString('en-US')}, ssl_multicert.config ${Math.round(multicert!).toLocaleString('en-US')}`);
    console.log(`ratio plugin / ssl_multicert.config: ${ratio.toFixed(3)}   goal ≥ ${GOAL}${quick ? '   (quick mode: the figure means little)' : ratio >= GOAL ? '   ok' : '   MISSED'}`);

    // Publishing many certificates: what the controller does for them, and until ATS serves the new table.
    const many = await manyCerts(manyN, work);
    // Objects made once, as the cache holds them: an unchanged Secret is the same object from build to build.
    const objects: KubeObject[] = [ingressClass('ats').build()];
    for (const [i, c] of many.entries()) {
      objects.push(tlsSecret(`many/s${i}`).cert(c.cert, c.key).build(), ingress(`many/i${i}`).className('ats').tls(`s${i}`, c.host).build());
    }
    const snapshot = snapshotFrom(objects);
    const publisher = new TlsPublisher(table, silentLogger, controllerMetrics());
    try {
      const t0 = performance.now();
      const result = build(snapshot, buildConfig(), buildContext());
      const t1 = performance.now();
      await publisher.publish(result);
      const t2 = performance.now();
      const last = many.at(-1)!;
      const wantLast = new X509Certificate(last.cert).fingerprint256;
      while ((await fingerprint(variants[0]!.ats!.httpsPort!, last.host)) !== wantLast) {
        if (performance.now() - t2 > 30_000) throw new Error('ATS did not serve the new TLS table within 30 s');
        await new Promise((r) => setTimeout(r, 5));
      }
      const t3 = performance.now();
      // One of them renewed: the build parses one Secret, the plugin should parse one certificate.
      const renewedDir = await mkdtemp(path.join(work, 'renew-'));
      const i0 = 0;
      const host0 = many[i0]!.host;
      const objects2 = [...objects];
      // Same name as the host (manyCerts names certificates h<i>): renew h0's with a certificate for h0.
      const r0 = await runCommand('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${renewedDir}/k.pem`, '-out', `${renewedDir}/c.pem`, '-days', '30', '-subj', `/CN=${host0}`, '-addext', `subjectAltName=DNS:${host0}`], { timeoutMs: 30_000 });
      if (r0.code !== 0) throw new Error(r0.stderr);
      const next = { cert: await readFile(`${renewedDir}/c.pem`, 'utf8'), key: await readFile(`${renewedDir}/k.pem`, 'utf8') };
      objects2[1 + 2 * i0] = tlsSecret(`many/s${i0}`).cert(next.cert, next.key).build();
      const context = buildContext();
      build(snapshot, buildConfig(), context); // the memo holds every Secret, as a running controller's does
      const wantNext = new X509Certificate(next.cert).fingerprint256;
      const u0 = performance.now();
      const renewedResult = build(snapshotFrom(objects2), buildConfig(), context);
      const u1 = performance.now();
      await publisher.publish(renewedResult);
      const u2 = performance.now();
      while ((await fingerprint(variants[0]!.ats!.httpsPort!, host0)) !== wantNext) {
        if (performance.now() - u2 > 30_000) throw new Error('ATS did not serve the renewed certificate within 30 s');
        await new Promise((r) => setTimeout(r, 2));
      }
      const u3 = performance.now();
      console.log('');
      console.log(`${manyN} certificates (EC P-256): build with every Secret parsed ${(t1 - t0).toFixed(1)} ms, TLS table encoded and published ${(t2 - t1).toFixed(1)} ms, ` +
        `until ATS served the new table ${(t3 - t2).toFixed(1)} ms, write → served ${(t3 - t0).toFixed(1)} ms`);
      console.log(`one of the ${manyN} renewed: build ${(u1 - u0).toFixed(1)} ms, publish ${(u2 - u1).toFixed(1)} ms, until ATS served it ${(u3 - u2).toFixed(1)} ms, write → served ${(u3 - u0).toFixed(1)} ms (goal < 100 ms)`);
    } finally {
      publisher.close();
    }
    console.log(`load average after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  } finally {
    for (const v of variants) await v.ats?.stop({ kill: true });
    await nginx?.stop();
    routes.remove();
    routes.close();
    await kit.close();
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

