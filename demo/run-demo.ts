#!/usr/bin/env node
// npm run demo: Traffic Server (under traffic_manager, as in the pod) with
// the plugin on 30000 (http) and 30043 (https), the walkthrough's demo apps
// on loopback, and the controller on a manifests directory holding the
// walkthrough's Ingresses, its tls-secret (a self-signed certificate made
// here, so that SNI shows against the plugin's own default), EndpointSlices
// for those apps and the walkthrough's records ConfigMap.
// `npm run demo -- --manifests DIR` runs the same Traffic Server and
// controller on a directory of your own instead.
import { isEntryPoint } from '../src/cli/entry-point.js';
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startAts, type AtsInstance } from '../test/harness/ats.js';
import { isPortFree } from '../test/harness/ports.js';
import { runCommand } from '../test/harness/processes.js';
import { buildConfig } from '../src/config/config.js';
import { Controller } from '../src/controller/controller.js';
import { RouteTable } from '../src/route-table/route-table.js';
import { createLogger } from '../src/observe/logger.js';
import { ManifestSource } from '../src/sources/manifests.js';
import { startDemoApp, type DemoApp } from '../src/example-app/example-app.js';
import { CACHE_EXAMPLE, INGRESS_CLASS, cacheExampleIngress, serviceManifests, tlsSecret, walkthroughIngresses, type DemoPod } from './demo-manifests.js';
import type { PageName } from '../src/example-app/pages.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PLUGIN = join(ROOT, 'ats-plugin/build/ats_ingress.so');

export interface DemoOptions {
  httpPort: number;
  httpsPort: number;
  adminPort: number;
  table: string;
  /** The user's own manifests instead of the walkthrough's (and no demo apps). */
  manifests?: string;
  log: (line: string) => void;
}

export interface RunningDemo {
  ats: AtsInstance;
  controller: Controller;
  apps: DemoApp[];
  /** Commands to try, each with what it shows. */
  tries: Array<{ what: string; command: string }>;
  stop(): Promise<void>;
}

export class DemoError extends Error {}

/** The walkthrough's tls-secret: a certificate of its own, so that SNI shows (the default is the plugin's). */
async function selfSignedCert(dir: string): Promise<{ cert: string; key: string; certFile: string }> {
  const keyFile = join(dir, 'tls.key');
  const certFile = join(dir, 'tls.crt');
  const r = await runCommand('openssl', [
    'req', '-x509', '-sha256', '-nodes', '-days', '365', '-newkey', 'rsa:2048',
    '-keyout', keyFile, '-out', certFile, '-subj', '/CN=atssvc/O=atssvc',
    '-addext', 'subjectAltName=DNS:test.edge.com,DNS:test.media.com',
  ], { timeoutMs: 30_000 });
  if (r.code !== 0) throw new DemoError(`openssl could not make the demo's certificate (${r.timedOut ? 'timed out' : (r.spawnError ?? `exit ${r.code}`)}): ${r.stderr.trim().slice(-500)}`);
  return { cert: await readFile(certFile, 'utf8'), key: await readFile(keyFile, 'utf8'), certFile };
}

/** The records ConfigMap the demo applies: k8s/configmaps/ats-records.yaml, as the walkthrough ships it. */
const RECORDS = { namespace: 'ats-ingress', name: 'ats-records' };

export async function startDemo(o: DemoOptions): Promise<RunningDemo> {
  for (const [flag, port] of [['http', o.httpPort], ['https', o.httpsPort], ['admin', o.adminPort]] as const) {
    if (!(await isPortFree(port, '127.0.0.1'))) {
      throw new DemoError(`port ${port} (${flag}) is already in use on 127.0.0.1: stop what holds it (ss -ltnp 'sport = :${port}') or pick another with --${flag}-port`);
    }
  }
  if (o.manifests !== undefined && !(await stat(o.manifests).then((st) => st.isDirectory(), () => false))) {
    throw new DemoError(`--manifests ${o.manifests}: not a directory`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'ats-ingress-demo-'));
  const apps: DemoApp[] = [];
  let ats: AtsInstance | undefined;
  let controller: Controller | undefined;
  const stop = async () => {
    await controller?.stop().catch(() => undefined);
    await ats?.stop({ kill: false }).catch(() => undefined);
    // The table would outlive us (as it should in production); the demo leaves nothing.
    const table = RouteTable.open(o.table);
    table.remove();
    table.close();
    await Promise.all(apps.map((a) => a.close()));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    let manifests = o.manifests;
    let certFile: string | undefined;
    if (manifests === undefined) {
      o.log('==> starting the demo apps (the walkthrough\'s appsvc1 and appsvc2, two pods each, in two namespaces)');
      const pods: DemoPod[] = [];
      for (const namespace of ['trafficserver-test-2', 'trafficserver-test-3']) {
        for (const [service, page] of [['appsvc1', 'app1'], ['appsvc2', 'app2']] as const) {
          for (const i of [0, 1]) {
            const pod = `${service}-${i}`;
            const app = await startDemoApp(page as PageName, 0, '127.0.0.1', `${namespace}/${pod}`);
            apps.push(app);
            pods.push({ namespace, service, pod, address: '127.0.0.1', port: app.port });
          }
        }
      }
      // The caching example: one pod whose pages carry no Cache-Control.
      const assets = await startDemoApp('app1', 0, '127.0.0.1', `${CACHE_EXAMPLE.namespace}/${CACHE_EXAMPLE.service}-0`, null);
      apps.push(assets);
      pods.push({ namespace: CACHE_EXAMPLE.namespace, service: CACHE_EXAMPLE.service, pod: `${CACHE_EXAMPLE.service}-0`, address: '127.0.0.1', port: assets.port });
      const cert = await selfSignedCert(dir);
      certFile = cert.certFile;
      manifests = join(dir, 'manifests');
      await mkdir(manifests);
      await writeFile(join(manifests, 'ingress-class.yaml'), INGRESS_CLASS);
      await writeFile(join(manifests, 'tls-secret.yaml'), tlsSecret('trafficserver-test-3', 'tls-secret', cert));
      await writeFile(join(manifests, 'apps.yaml'), serviceManifests(pods));
      await writeFile(join(manifests, 'ingresses.yaml'), await walkthroughIngresses(ROOT));
      await writeFile(join(manifests, 'cache-example.yaml'), cacheExampleIngress());
      await copyFile(join(ROOT, 'k8s', 'configmaps', 'ats-records.yaml'), join(manifests, 'ats-records.yaml'));
    }

    // Under traffic_manager, as in the pod: the records ConfigMap is applied through it.
    o.log(`==> starting Traffic Server (traffic_manager) with the ats_ingress plugin on ${o.httpPort} (http) and ${o.httpsPort} (https)`);
    ats = await startAts({ manager: true, httpPort: o.httpPort, httpsPort: o.httpsPort, plugins: [`${PLUGIN} --table ${o.table}`], startTimeoutMs: 60_000 });

    o.log(`==> starting the controller on ${o.manifests ? `your manifests in ${manifests}` : 'the walkthrough\'s manifests'}`);
    const logger = createLogger({ level: 'warn', write: (l) => o.log(l.trimEnd()) });
    controller = new Controller({
      source: new ManifestSource({ dir: manifests, logger }),
      table: o.table,
      logger,
      build: buildConfig({ recordsConfigMap: RECORDS }),
      records: { runroot: ats.dir },
      admin: { host: '127.0.0.1', port: o.adminPort },
    });
    await controller.start();
    await controller.records?.syncNow();

    const ctl = `TS_RUNROOT=${ats.dir} traffic_ctl`;
    const tries = o.manifests !== undefined
      ? [
        { what: 'what is routed (every host, path and backend of your manifests)', command: `npx ats-ingress routes --table ${o.table}` },
        { what: 'a request: name one of your hosts', command: `curl -vH "Host: YOUR.HOST" "localhost:${o.httpPort}/"` },
        { what: 'the certificate a name gets over https', command: `openssl s_client -connect 127.0.0.1:${o.httpsPort} -servername YOUR.HOST </dev/null 2>/dev/null | openssl x509 -noout -subject` },
        { what: `the records of ${RECORDS.namespace}/${RECORDS.name}, if your manifests hold it`, command: `${ctl} config get proxy.config.output.logfile.rolling_interval_sec` },
      ]
      : [
        { what: 'Hello from app1', command: `curl -vH "HOST:test.media.com" "localhost:${o.httpPort}/app1"` },
        { what: 'A Small Hello', command: `curl -vH "HOST:test.media.com" "localhost:${o.httpPort}/app2"` },
        { what: 'Hello from app1', command: `curl -vH "HOST:test.edge.com" "localhost:${o.httpPort}/app1"` },
        { what: 'A Small Hello (from trafficserver-test-3)', command: `curl -vH "HOST:test.edge.com" "localhost:${o.httpPort}/app2"` },
        { what: 'A Small Hello over https, the walkthrough\'s tls-secret verified by SNI', command: `curl -v --cacert ${certFile} --resolve test.edge.com:${o.httpsPort}:127.0.0.1 "https://test.edge.com:${o.httpsPort}/app2"` },
        { what: 'the tls-secret for test.edge.com (subject CN=atssvc)', command: `openssl s_client -connect 127.0.0.1:${o.httpsPort} -servername test.edge.com </dev/null 2>/dev/null | openssl x509 -noout -subject` },
        { what: 'the default certificate for any other name (CN=ats-ingress-default)', command: `openssl s_client -connect 127.0.0.1:${o.httpsPort} -servername other.test </dev/null 2>/dev/null | openssl x509 -noout -subject` },
        { what: 'a record of the walkthrough\'s ConfigMap, applied (3000)', command: `${ctl} config get proxy.config.output.logfile.rolling_interval_sec` },
        { what: `the cache: run it twice; the second answer comes from ATS (an Age header, the same X-Pod), for ${CACHE_EXAMPLE.ttl}`, command: `curl -sv -o /dev/null -H "HOST:${CACHE_EXAMPLE.host}" "localhost:${o.httpPort}/logo" 2>&1 | grep -iE '^< (age|x-pod|cache-control)'` },
        { what: 'purge that object from the cache', command: `npx ats-ingress purge http://${CACHE_EXAMPLE.host}/logo --http-port ${o.httpPort}` },
        { what: 'requests per Ingress and cache results', command: `curl -s localhost:${o.adminPort}/metrics | grep -E '^ats_ingress_(requests|cache_results)_total'` },
      ];
    return { ats, controller, apps, tries, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'http-port': { type: 'string', default: '30000' },
      'https-port': { type: 'string', default: '30043' },
      'admin-port': { type: 'string', default: '10254' },
      table: { type: 'string', default: 'demo' },
      manifests: { type: 'string' },
    },
  });
  const log = (line: string) => process.stdout.write(`${line}\n`);
  let demo: RunningDemo;
  try {
    demo = await startDemo({
      httpPort: Number(values['http-port']),
      httpsPort: Number(values['https-port']),
      adminPort: Number(values['admin-port']),
      table: values.table ?? 'demo',
      ...(values.manifests !== undefined ? { manifests: resolve(values.manifests) } : {}),
      log,
    });
  } catch (err) {
    process.stderr.write(`demo: ${(err as Error).message}\n`);
    return 1;
  }
  log('');
  log(values.manifests !== undefined ? 'The demo is running on your manifests. Try:' : 'The demo is running. Try the walkthrough\'s requests:');
  for (const t of demo.tries) log(`  # ${t.what}\n  ${t.command}`);
  log('');
  log(`See the routes: npx ats-ingress routes --table ${values.table}`);
  log(`Health: curl localhost:${values['admin-port']}/readyz    Press Ctrl-C to stop.`);
  log('DEMO READY');
  await new Promise<void>((res) => {
    process.once('SIGINT', res);
    process.once('SIGTERM', res);
  });
  log('==> stopping');
  await demo.stop();
  log('stopped');
  return 0;
}


if (isEntryPoint(import.meta.url)) {
  main().then((code) => process.exit(code), (err: unknown) => {
    process.stderr.write(`demo: ${String(err)}\n`);
    process.exit(1);
  });
}
