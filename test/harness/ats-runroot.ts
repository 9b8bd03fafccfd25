// A test's Traffic Server runroot: production's, as src/ats/runroot.ts
// writes it for the ATS container (records, ip_allow.yaml, layout), plus the
// few overrides tests need. Every override is in harnessRunroot() below, each
// with its reason; nothing else differs from a production pod.

import { rangePorts, type PortRange } from '../../src/config/gateway.js';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { ATS_MODULES_DIR, writeRunroot, type CacheConfig, type RecordValue, type RunrootConfig } from '../../src/ats/runroot.js';

export { ATS_MODULES_DIR, type RecordValue };

export const DEFAULT_BIN_DIR = '/usr/bin';
/** The address every test's ATS listens on. */
export const ATS_BIND = '127.0.0.1';

export interface TlsCert {
  /** Base file name: written as etc/ssl/<name>.pem and etc/ssl/<name>.key. */
  name: string;
  /** PEM certificate (chain). */
  cert: string;
  /** PEM private key. */
  key: string;
  /** Serve it for unknown names and clients without SNI (dest_ip=*). */
  default?: boolean;
}

/** The parts of the configuration that restart() may replace. */
export interface AtsConfig {
  /** remap.config lines. */
  remap?: string[];
  /** plugin.config lines, as they are (the harness adds none of its own). */
  plugins?: string[];
  /** Records over production's; numbers become INT (FLOAT if not integral), strings STRING. */
  records?: Record<string, RecordValue>;
  /** Enables diags debug output (to traffic.out) for these tags, e.g. 'http|ats_ingress'. */
  debugTags?: string;
  /** Certificates to serve on the https port (implies https). */
  certs?: TlsCert[];
  /** Raw ssl_multicert.config lines; replaces the lines generated from certs (implies https). */
  sslMulticert?: string[];
  /** Extra files written under etc/ (relative names), e.g. a header_rewrite config. */
  files?: Record<string, string>;
  /** The Gateways' ports, opened on every bind address as production does in a cluster (FIRST+2k plain, FIRST+2k+1 TLS). */
  gatewayPortRange?: PortRange;
}

export interface HarnessRunrootOptions extends AtsConfig {
  /** Addresses ATS listens on besides 127.0.0.1 (a test network's host address: clients from elsewhere). */
  alsoBind?: string[];
  /** The cache as production has it, smaller: 64 MiB on disk, 16 MiB of RAM (default); false: no cache (a faster start). */
  cache?: boolean;
}

/** Production's cache, smaller: the disk file is written at each start. */
const HARNESS_CACHE: CacheConfig = { diskBytes: 64 * 1024 * 1024, ramBytes: 16 * 1024 * 1024 };

export interface AtsPorts {
  http: number;
  https: number | undefined;
}

function sslMulticertConfig(o: AtsConfig): string | undefined {
  if (o.sslMulticert !== undefined) return o.sslMulticert.join('\n') + '\n';
  if (!o.certs?.length) return undefined;
  return o.certs.map((c) => `${c.default ? 'dest_ip=* ' : ''}ssl_cert_name=${c.name}.pem ssl_key_name=${c.name}.key`).join('\n') + '\n';
}

/** Production's runroot configuration for `dir` with the tests' overrides: the one place they are. */
export function harnessRunroot(dir: string, o: HarnessRunrootOptions, ports: AtsPorts): RunrootConfig {
  const records: Record<string, RecordValue> = {
    // ATS sizes its threads for the machine; tests run it beside the test
    // process, the backends and often a kube-apiserver and etcd, on 2 cores.
    'proxy.config.exec_thread.autoconfig': 0,
    'proxy.config.exec_thread.limit': 2,
    'proxy.config.accept_threads': 1,
    'proxy.config.task_threads': 1,
    // Debug output, when a test asks for some tags.
    ...(o.debugTags ? { 'proxy.config.diags.debug.enabled': 1, 'proxy.config.diags.debug.tags': o.debugTags } : {}),
    // 2 threads for the cache's one small disk (the default is 8 per disk; 2 cores).
    ...(o.cache !== false ? { 'proxy.config.cache.threads_per_disk': 2 } : {}),
    // What the test sets itself, last.
    ...(o.records ?? {}),
  };
  const files: Record<string, string> = {};
  // Certificates as the test gives them (the ATS container makes a default one of its own).
  for (const c of o.certs ?? []) {
    files[`ssl/${c.name}.pem`] = c.cert;
    files[`ssl/${c.name}.key`] = c.key;
  }
  const multicert = sslMulticertConfig(o);
  if (multicert !== undefined) files['ssl_multicert.config'] = multicert;
  return {
    dir,
    // Loopback only, on the ports chosen for this instance (production: 0.0.0.0, 8080 and 8443).
    bind: [ATS_BIND, ...(o.alsoBind ?? [])],
    httpPort: ports.http,
    ...(ports.https !== undefined ? { httpsPort: ports.https } : {}),
    // Production drains connections for 25 s on SIGTERM (a pod being
    // replaced); every test's stop() would wait that long. 0 is ATS's own
    // default: it stops at once.
    shutdownTimeoutS: 0,
    cache: o.cache === false ? { diskBytes: 0, ramBytes: 0 } : HARNESS_CACHE,
    records,
    // The test's plugin.config lines as they are (the plugin under test, in
    // whichever mode, among them) and its remap.config lines; no `plugin`.
    extraPlugins: o.plugins ?? [],
    remap: o.remap ?? [],
    // The test's own files last.
    files: { ...files, ...(o.files ?? {}) },
    ...(o.gatewayPortRange ? { gatewayPorts: rangePorts(o.gatewayPortRange) } : {}),
  };
}

/** Writes the whole runroot (records, plugins, remap, certificates, files) into `dir`. */
export async function writeHarnessRunroot(dir: string, o: HarnessRunrootOptions, ports: AtsPorts): Promise<void> {
  await writeRunroot(harnessRunroot(dir, o, ports));
}

/** Writes one file under `etcDir` (a relative name that stays inside it). */
export async function writeEtcFile(etcDir: string, name: string, content: string): Promise<void> {
  const full = path.resolve(etcDir, name);
  if (!full.startsWith(etcDir + path.sep)) throw new Error(`${name} is outside ${etcDir}`);
  await mkdir(path.dirname(full), { recursive: true });
  await writeFile(full, content);
}

/** Whether to keep a temp runroot: `keep`, or ATS_INGRESS_KEEP_TMP set (not '0'). */
export function keepTmp(opts: { keep?: boolean }): boolean {
  const env = process.env.ATS_INGRESS_KEEP_TMP;
  return opts.keep === true || (env !== undefined && env !== '' && env !== '0');
}
