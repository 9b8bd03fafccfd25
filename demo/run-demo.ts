#!/usr/bin/env node
// npm run demo: Traffic Server (under traffic_manager, as in the pod) with
// the plugin on 30000 (http) and 30043 (https), the walkthrough's demo apps
// on loopback, and the controller on a manifests directory holding the
// walkthrough's Ingresses, its tls-secret (a self-signed certificate made
// here, so that SNI shows against the plugin's own default), EndpointSlices
// for those apps and the walkthrough's records ConfigMap.
// `npm run demo -- --manifests DIR` runs the same Traffic Server and
// controller on a directory of your own instead.
//
// Gateways: each of our Gateways gets the next address of --gateway-addresses
// (127.0.1.0/29: 127.0.1.1 for the oldest, then .2, ...), ATS listens on the
// demo's http and https ports on each of those addresses too, and listener
// ports 80 and 443 are served on the demo's http and https ports (as they
// are with --http-port 80 --https-port 443, as root), so a user can run it.
import { isEntryPoint } from '../src/cli/entry-point.js';
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startAts, type AtsInstance } from '../test/harness/ats.js';
import { isPortFree } from '../test/harness/ports.js';
import { runCommand } from '../test/harness/processes.js';
import { buildConfig } from '../src/config/config.js';
import { ipv4Text, parseAddressRange, parseGatewayPorts, type AddressRange, type GatewayPorts } from '../src/config/gateway.js';
import { isInvalid } from '../src/validate/invalid.js';
import type { BuildResult } from '../src/model/model.js';
import { Controller } from '../src/controller/controller.js';
import { RouteTable } from '../src/route-table/route-table.js';
import { createLogger } from '../src/observe/logger.js';
import { ManifestSource } from '../src/sources/manifests.js';
import { startDemoApp, type DemoApp } from '../src/example-app/example-app.js';
import { CACHE_EXAMPLE, GATEWAY_EXAMPLE, INGRESS_CLASS, cacheExampleIngress, gatewayExample, serviceManifests, tlsSecret, walkthroughIngresses, type DemoPod } from './demo-manifests.js';
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
  /** Where Gateways get their addresses (default DEFAULT_DEMO_GATEWAY_ADDRESSES); ATS listens on the first MAX_DEMO_GATEWAYS. */
  gatewayAddresses?: string;
  log: (line: string) => void;
}

export interface RunningDemo {
  ats: AtsInstance;
  controller: Controller;
  apps: DemoApp[];
  /** Each served Gateway (`namespace/name`) and its address, oldest first. */
  gateways: ReadonlyMap<string, string>;
  /** Listener port → the demo's port it is served on. */
  gatewayPorts: GatewayPorts;
  /** Commands to try, each with what it shows. */
  tries: Array<{ what: string; command: string }>;
  stop(): Promise<void>;
}

export class DemoError extends Error {}

/**
 * The controller's own default is 127.0.1.0/24; the demo takes its first
 * six host addresses, so `--once --json` on the same objects shows the same
 * ones. 127.0.0.0/8 is all loopback on Linux; 127.0.1.1 is only a name in
 * some distributions' /etc/hosts (the machine's hostname), which binding a
 * port on it does not disturb.
 */
export const DEFAULT_DEMO_GATEWAY_ADDRESSES = '127.0.1.0/29';
/** ATS listens on at most this many Gateway addresses; Gateways past them get none (and are not served). */
export const MAX_DEMO_GATEWAYS = 8;

/** The demo's range: loopback only (the demo serves nothing outside this machine), at most MAX_DEMO_GATEWAYS addresses. */
export function demoGatewayRange(text: string): AddressRange {
  const range = parseAddressRange(text);
  if (isInvalid(range)) throw new DemoError(`--gateway-addresses: ${range.invalid}`);
  const last = range.first + range.count - 1;
  if (Math.floor(range.first / 2 ** 24) !== 127 || Math.floor(last / 2 ** 24) !== 127) {
    throw new DemoError(`--gateway-addresses ${text}: the demo serves loopback only; give a range inside 127.0.0.0/8`);
  }
  return { ...range, count: Math.min(range.count, MAX_DEMO_GATEWAYS) };
}

/** Listener ports 80 and 443 on the demo's http and https ports (as they are when those are 80 and 443). */
export function demoGatewayPorts(httpPort: number, httpsPort: number): GatewayPorts {
  const ports = parseGatewayPorts(`80=${httpPort},443=${httpsPort}`);
  if (isInvalid(ports)) throw new DemoError(`--http-port ${httpPort}, --https-port ${httpsPort}: ${ports.invalid}`);
  return ports;
}

/** Why port cannot be bound on host (the error's code), or undefined when it can. */
function bindProblem(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}

/** Each served listener of the Gateways, with a command that reaches it. */
function gatewayTries(result: BuildResult, ports: GatewayPorts, log: (line: string) => void): Array<{ what: string; command: string }> {
  const tries: Array<{ what: string; command: string }> = [];
  for (const g of result.gateway.routes.gateways) {
    const address = result.gateway.addresses.get(g.key);
    if (address === undefined) {
      log(`==> Gateway ${g.key} has no address: the demo's --gateway-addresses are used up (at most ${MAX_DEMO_GATEWAYS}), so it is not served`);
      continue;
    }
    for (const l of g.listeners) {
      const port = ports.get(l.port);
      if (port === undefined) {
        log(`==> Gateway ${g.key} listener ${l.name}: port ${l.port} is not served (PortUnavailable); the demo serves listener ports ${[...ports.keys()].join(' and ')}`);
        continue;
      }
      const host = l.hostname === undefined ? 'YOUR.HOST' : l.hostname.replace(/^\*\./, 'www.');
      tries.push(l.protocol === 'HTTPS'
        ? { what: `Gateway ${g.key} (${address}), listener ${l.name} (${l.port} → ${port}); name one of its Routes' hosts`, command: `curl -vk --resolve ${host}:${port}:${address} "https://${host}:${port}/"` }
        : { what: `Gateway ${g.key} (${address}), listener ${l.name} (${l.port} → ${port}); name one of its Routes' hosts`, command: `curl -vH "Host: ${host}" "http://${address}:${port}/"` });
    }
  }
  return tries;
}

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
  const rangeText = o.gatewayAddresses ?? DEFAULT_DEMO_GATEWAY_ADDRESSES;
  const range = demoGatewayRange(rangeText);
  const gatewayPorts = demoGatewayPorts(o.httpPort, o.httpsPort);
  const gatewayAddresses = Array.from({ length: range.count }, (_, i) => ipv4Text(range.first + i));
  for (const [flag, port] of [['http', o.httpPort], ['https', o.httpsPort], ['admin', o.adminPort]] as const) {
    if (!(await isPortFree(port, '127.0.0.1'))) {
      throw new DemoError(`port ${port} (${flag}) is already in use on 127.0.0.1: stop what holds it (ss -ltnp 'sport = :${port}') or pick another with --${flag}-port`);
    }
  }
  for (const address of gatewayAddresses) {
    for (const [flag, port] of [['http', o.httpPort], ['https', o.httpsPort]] as const) {
      const problem = await bindProblem(address, port);
      if (problem === 'EADDRNOTAVAIL') {
        throw new DemoError(`${address} (a Gateway address of --gateway-addresses ${rangeText}) is not an address of this machine: give a range that is (on Linux all of 127.0.0.0/8 is loopback)`);
      }
      if (problem !== undefined) {
        throw new DemoError(`port ${port} (${flag}) cannot be bound on ${address}, a Gateway address of --gateway-addresses ${rangeText} (${problem}): stop what holds it (ss -ltnp 'sport = :${port}'), pick another with --${flag}-port, or another range`);
      }
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
            const app = await startDemoApp(page as PageName, 0, '127.0.0.1', `${namespace}/${pod}`, undefined, { echoHeaderPrefix: GATEWAY_EXAMPLE.echoPrefix });
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
      await writeFile(join(manifests, 'gateway-example.yaml'), gatewayExample());
      await copyFile(join(ROOT, 'k8s', 'configmaps', 'ats-records.yaml'), join(manifests, 'ats-records.yaml'));
    }

    // Under traffic_manager, as in the pod: the records ConfigMap is applied through it.
    o.log(`==> starting Traffic Server (traffic_manager) with the ats_ingress plugin on ${o.httpPort} (http) and ${o.httpsPort} (https)`);
    o.log(`    on 127.0.0.1, and for Gateways on ${gatewayAddresses[0]}${gatewayAddresses.length > 1 ? ` to ${gatewayAddresses.at(-1)}` : ''} (--gateway-addresses ${rangeText}), listener port 80 on ${o.httpPort} and 443 on ${o.httpsPort}`);
    ats = await startAts({ manager: true, httpPort: o.httpPort, httpsPort: o.httpsPort, alsoBind: gatewayAddresses, plugins: [`${PLUGIN} --table ${o.table}`], startTimeoutMs: 60_000 });

    o.log(`==> starting the controller on ${o.manifests ? `your manifests in ${manifests}` : 'the walkthrough\'s manifests'}`);
    const logger = createLogger({ level: 'warn', write: (l) => o.log(l.trimEnd()) });
    controller = new Controller({
      source: new ManifestSource({ dir: manifests, logger }),
      table: o.table,
      logger,
      build: buildConfig({ recordsConfigMap: RECORDS, gatewayAddresses: range, gatewayPorts }),
      records: { runroot: ats.dir },
      admin: { host: '127.0.0.1', port: o.adminPort },
    });
    const first = await controller.start();
    await controller.records?.syncNow();
    const gateways = new Map(first.gateway.addresses);

    const ctl = `TS_RUNROOT=${ats.dir} traffic_ctl`;
    const tries = o.manifests !== undefined
      ? [
        { what: 'what is routed (every host, path and backend of your manifests)', command: `npx ats-ingress routes --table ${o.table}` },
        { what: 'a request: name one of your hosts', command: `curl -vH "Host: YOUR.HOST" "localhost:${o.httpPort}/"` },
        { what: 'the certificate a name gets over https', command: `openssl s_client -connect 127.0.0.1:${o.httpsPort} -servername YOUR.HOST </dev/null 2>/dev/null | openssl x509 -noout -subject` },
        { what: `the records of ${RECORDS.namespace}/${RECORDS.name}, if your manifests hold it`, command: `${ctl} config get proxy.config.output.logfile.rolling_interval_sec` },
        ...gatewayTries(first, gatewayPorts, o.log),
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
        ...walkthroughGatewayTries(gateways, o.httpPort),
      ];
    return { ats, controller, apps, gateways, gatewayPorts, tries, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The Gateway example's requests, on its Gateway's address and the demo's http port. */
function walkthroughGatewayTries(gateways: ReadonlyMap<string, string>, httpPort: number): Array<{ what: string; command: string }> {
  const g = GATEWAY_EXAMPLE;
  const key = `${g.namespace}/${g.gateway}`;
  const address = gateways.get(key);
  if (address === undefined) throw new DemoError(`the demo's Gateway ${key} got no address: see the controller's log above`);
  const url = (path: string) => `"http://${address}:${httpPort}${path}"`;
  const host = `-H "Host: ${g.host}"`;
  return [
    { what: `Gateway API: Hello from app1, through the Gateway ${key} on its own address ${address} (listener port 80 served on ${httpPort})`, command: `curl -v ${host} ${url('/app1')}` },
    { what: `the canary (${g.canaryHeader.name}: ${g.canaryHeader.value}): A Small Hello, and the header its RequestHeaderModifier added, sent back by the app (< ${g.addedHeader.name.toLowerCase()}: ${g.addedHeader.value})`, command: `curl -v ${host} -H "${g.canaryHeader.name}: ${g.canaryHeader.value}" ${url('/app1')}` },
    { what: `the weighted split: about ${g.split.appsvc1} of 100 say Hello from app1 (appsvc1), ${g.split.appsvc2} A Small Hello (appsvc2)`, command: `for i in $(seq 100); do curl -s ${host} ${url(g.splitPath)} | grep -o '<TITLE>.*</TITLE>'; done | sort | uniq -c` },
    { what: 'the same host on ATS\'s own address: 404 (a Gateway is reached on its address only)', command: `curl -v ${host} "http://127.0.0.1:${httpPort}/app1"` },
  ];
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'http-port': { type: 'string', default: '30000' },
      'https-port': { type: 'string', default: '30043' },
      'admin-port': { type: 'string', default: '10254' },
      table: { type: 'string', default: 'demo' },
      manifests: { type: 'string' },
      'gateway-addresses': { type: 'string', default: DEFAULT_DEMO_GATEWAY_ADDRESSES },
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
      ...(values['gateway-addresses'] !== undefined ? { gatewayAddresses: values['gateway-addresses'] } : {}),
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
