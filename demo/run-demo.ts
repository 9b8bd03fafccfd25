#!/usr/bin/env node
// npm run demo: Traffic Server with the plugin on 30000 (http) and 30043
// (https, a self-signed certificate made here), the walkthrough's demo apps
// on loopback, and the controller on a manifests directory holding the
// walkthrough's Ingresses and EndpointSlices for those apps.
import { isEntryPoint } from '../src/cli/entry-point.js';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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
import { INGRESS_CLASS, serviceManifests, tlsSecret, walkthroughIngresses, type DemoPod } from './demo-manifests.js';
import type { PageName } from '../src/example-app/pages.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PLUGIN = join(ROOT, 'ats-plugin/build/ats_ingress.so');

export interface DemoOptions {
  httpPort: number;
  httpsPort: number;
  adminPort: number;
  table: string;
  log: (line: string) => void;
}

export interface RunningDemo {
  ats: AtsInstance;
  controller: Controller;
  apps: DemoApp[];
  curls: string[];
  stop(): Promise<void>;
}

export class DemoError extends Error {}

async function selfSignedCert(dir: string): Promise<{ cert: string; key: string }> {
  const keyFile = join(dir, 'tls.key');
  const certFile = join(dir, 'tls.crt');
  const r = await runCommand('openssl', [
    'req', '-x509', '-sha256', '-nodes', '-days', '365', '-newkey', 'rsa:2048',
    '-keyout', keyFile, '-out', certFile, '-subj', '/CN=atssvc/O=atssvc',
    '-addext', 'subjectAltName=DNS:test.edge.com,DNS:test.media.com,DNS:localhost',
  ], { timeoutMs: 30_000 });
  if (r.code !== 0) throw new DemoError(`openssl could not make the demo's certificate (${r.timedOut ? 'timed out' : (r.spawnError ?? `exit ${r.code}`)}): ${r.stderr.trim().slice(-500)}`);
  return { cert: await readFile(certFile, 'utf8'), key: await readFile(keyFile, 'utf8') };
}

export async function startDemo(o: DemoOptions): Promise<RunningDemo> {
  for (const [flag, port] of [['http', o.httpPort], ['https', o.httpsPort], ['admin', o.adminPort]] as const) {
    if (!(await isPortFree(port, '127.0.0.1'))) {
      throw new DemoError(`port ${port} (${flag}) is already in use on 127.0.0.1: stop what holds it (ss -ltnp 'sport = :${port}') or pick another with --${flag}-port`);
    }
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
    const cert = await selfSignedCert(dir);
    const manifests = join(dir, 'manifests');
    await mkdir(manifests);
    await writeFile(join(manifests, 'ingress-class.yaml'), INGRESS_CLASS);
    await writeFile(join(manifests, 'tls-secret.yaml'), tlsSecret('trafficserver-test-3', 'tls-secret', cert));
    await writeFile(join(manifests, 'apps.yaml'), serviceManifests(pods));
    await writeFile(join(manifests, 'ingresses.yaml'), await walkthroughIngresses(ROOT));

    o.log('==> starting the controller on the manifests directory');
    const logger = createLogger({ level: 'warn', write: (l) => o.log(l.trimEnd()) });
    controller = new Controller({
      source: new ManifestSource({ dir: manifests, logger }),
      table: o.table,
      logger,
      build: buildConfig(),
      admin: { host: '127.0.0.1', port: o.adminPort },
    });
    await controller.start();

    o.log(`==> starting Traffic Server with the ats_ingress plugin on ${o.httpPort} (http) and ${o.httpsPort} (https)`);
    ats = await startAts({
      httpPort: o.httpPort,
      httpsPort: o.httpsPort,
      plugins: [`${PLUGIN} --table ${o.table}`],
      certs: [{ name: 'demo', cert: cert.cert, key: cert.key, default: true }],
    });
    const curls = [
      `curl -vH "HOST:test.media.com" "localhost:${o.httpPort}/app1"`,
      `curl -vH "HOST:test.media.com" "localhost:${o.httpPort}/app2"`,
      `curl -vH "HOST:test.edge.com" "localhost:${o.httpPort}/app1"`,
      `curl -vH "HOST:test.edge.com" "localhost:${o.httpPort}/app2"`,
      `curl -vH "HOST:test.edge.com" -k "https://localhost:${o.httpsPort}/app2"`,
    ];
    return { ats, controller, apps, curls, stop };
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
      log,
    });
  } catch (err) {
    process.stderr.write(`demo: ${(err as Error).message}\n`);
    return 1;
  }
  log('');
  log('The demo is running. Try the walkthrough\'s requests:');
  for (const c of demo.curls) log(`  ${c}`);
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
