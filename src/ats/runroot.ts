// Traffic Server's configuration in a private runroot: the one definition of
// the files, records and plugin lines that the ATS container's entry point
// (through `ats-ingress ats-runroot`), the demo and the test harness all
// write, so that tests run ATS as production does. Everything here comes
// from the command line or the caller, never from a Kubernetes object, and
// every value is checked before it becomes a line of configuration.

import { mkdir, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';

export const ATS_MODULES_DIR = '/usr/lib/trafficserver/modules';
export const STATS_PLUGIN = 'stats_over_http.so';

export type RecordValue = string | number;

export interface CacheConfig {
  /** Where the cache's disk file lives (a volume of its own in the pod); default the runroot's cache/. */
  readonly dir?: string;
  /** Bytes on disk; 0: no cache at all. */
  readonly diskBytes: number;
  /** Bytes of RAM cache. */
  readonly ramBytes: number;
}

/** What a pod runs with unless told otherwise: 256 MiB on disk, 64 MiB in RAM. */
export const DEFAULT_CACHE: CacheConfig = { diskBytes: 256 * 1024 * 1024, ramBytes: 64 * 1024 * 1024 };

export interface RunrootConfig {
  /** The runroot: an absolute path, created if missing. */
  readonly dir: string;
  /** The address ATS listens on (`ip-in`); several: it listens on each. */
  readonly bind: string | readonly string[];
  readonly httpPort: number;
  /** The TLS port; absent: none. */
  readonly httpsPort?: number;
  /**
   * In a cluster: the Gateways' ports (the controller's --gateway-port-range,
   * through rangePorts()), opened on every bind address at start
   * (server_ports needs a restart), each plain or TLS.
   */
  readonly gatewayPorts?: ReadonlyArray<{ readonly port: number; readonly tls: boolean }>;
  /** The plugin's shared object and its arguments (`--table NAME`, ...); absent: no plugin. */
  readonly plugin?: { readonly path: string; readonly args: readonly string[] };
  /** stats_over_http on this path, answering loopback only (the controller reads the served generation there). */
  readonly statsPath?: string;
  /** Seconds ATS drains connections on SIGTERM. */
  readonly shutdownTimeoutS?: number;
  /** The cache (default DEFAULT_CACHE). */
  readonly cache?: CacheConfig;
  /** Records that replace or add to the production set (tests: ports, threads, debug tags). */
  readonly records?: Readonly<Record<string, RecordValue>>;
  /** plugin.config lines before ours (benchmarks: tslua). */
  readonly extraPlugins?: readonly string[];
  /** remap.config lines (empty in production: the plugin routes in global mode). */
  readonly remap?: readonly string[];
  /** More files under etc/, by relative name. */
  readonly files?: Readonly<Record<string, string>>;
}

export function runrootYaml(dir: string): string {
  return [
    `prefix: ${dir}`,
    'exec_prefix: /usr',
    'bindir: /usr/bin',
    'sbindir: /usr/sbin',
    `sysconfdir: ${dir}/etc`,
    `datadir: ${dir}/cache`,
    'includedir: /usr/include',
    'libdir: /usr/lib/trafficserver',
    `libexecdir: ${ATS_MODULES_DIR}`,
    `localstatedir: ${dir}`,
    `runtimedir: ${dir}/run`,
    `logdir: ${dir}/log`,
    `cachedir: ${dir}/cache`,
    '',
  ].join('\n');
}

const RECORD_NAME = /^proxy\.[A-Za-z0-9_]+(\.[A-Za-z0-9_-]+)*$/;
// A STRING record's value as records.config reads it: one line, no control characters.
const STRING_VALUE = /^[\x20-\x7e]*$/;

/** One records.config line; throws a TypeError naming what cannot be one. */
export function recordLine(name: string, value: RecordValue): string {
  if (!RECORD_NAME.test(name)) throw new TypeError(`record name ${JSON.stringify(name)} is not proxy.<word>.<word>...`);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`record ${name}: ${value} is not a finite number`);
    return `CONFIG ${name} ${Number.isInteger(value) ? 'INT' : 'FLOAT'} ${value}`;
  }
  if (!STRING_VALUE.test(value)) throw new TypeError(`record ${name}: the value must be printable ASCII on one line`);
  return `CONFIG ${name} STRING ${value}`;
}

function port(name: string, p: number): number {
  if (!Number.isInteger(p) || p < 1 || p > 65535) throw new TypeError(`${name} ${p} is not a port (1..65535)`);
  return p;
}

/** The records of a production pod, for this config (before its overrides). */
export function productionRecords(c: RunrootConfig): Record<string, RecordValue> {
  if (!path.isAbsolute(c.dir)) throw new TypeError(`runroot ${JSON.stringify(c.dir)} is not an absolute path`);
  const ports: string[] = [];
  for (const address of typeof c.bind === 'string' ? [c.bind] : c.bind) {
    if (isIP(address) === 0) throw new TypeError(`bind address ${JSON.stringify(address)} is not an IP address`);
    const bind = isIP(address) === 6 ? `[${address}]` : address;
    ports.push(`${port('http port', c.httpPort)}:ip-in=${bind}`);
    if (c.httpsPort !== undefined) ports.push(`${port('https port', c.httpsPort)}:ssl:ip-in=${bind}`);
    for (const g of c.gatewayPorts ?? []) {
      if (g.port === c.httpPort || g.port === c.httpsPort) throw new TypeError(`the gateway ports hold the http or https port ${g.port}`);
      ports.push(`${port('gateway port', g.port)}${g.tls ? ':ssl' : ''}:ip-in=${bind}`);
    }
  }
  const cache = c.cache ?? DEFAULT_CACHE;
  if (!Number.isInteger(cache.diskBytes) || cache.diskBytes < 0) throw new TypeError(`cache size ${cache.diskBytes} is not a number of bytes`);
  if (!Number.isInteger(cache.ramBytes) || cache.ramBytes < 0) throw new TypeError(`RAM cache size ${cache.ramBytes} is not a number of bytes`);
  const cacheOn = cache.diskBytes > 0;
  return {
    'proxy.config.http.server_ports': ports.join(' '),
    // Runs as whoever starts it (root included); the pod runs it as a non-root user.
    'proxy.config.admin.user_id': '#-1',
    // Global mode: the plugin routes before remap; what it declines needs a remap rule.
    'proxy.config.url_remap.remap_required': 1,
    // The pod sees the client's Host header.
    'proxy.config.url_remap.pristine_host_hdr': 1,
    'proxy.config.reverse_proxy.enabled': 1,
    // The cache, conservative by default (RFC 9111): only responses with
    // explicit freshness (max-age, s-maxage, Expires) are stored
    // (required_headers 2); a response to a request with Authorization only
    // when it says public (ATS's own rule); responses to requests with
    // cookies may be stored, but the plugin refuses any response that sets
    // one. Per route, the plugin changes these per transaction from the
    // route table (TSHttpTxnConfigIntSet), never through a file.
    'proxy.config.http.cache.http': cacheOn ? 1 : 0,
    'proxy.config.http.cache.required_headers': 2,
    'proxy.config.http.cache.cache_responses_to_cookies': 1,
    'proxy.config.http.cache.ignore_authentication': 0,
    'proxy.config.http.negative_caching_enabled': 0,
    // No stale object is served unless a route asks (cache-serve-stale):
    // ATS's defaults serve week-old copies when the pod is down or answers
    // 5xx, and mark them fresh for 30 minutes.
    'proxy.config.http.cache.max_stale_age': 0,
    'proxy.config.http.negative_revalidating_enabled': 0,
    // Concurrent misses on one URL: the one that takes the cache's write lock
    // stores the object; the others go to the pod at once. ATS's defaults
    // make them wait for that writer first (read-while-writer, 50 ms steps)
    // and retry the lock after 10 ms: for a busy URL that turns out not
    // cacheable (most of an ingress's traffic) that cut requests/s by a
    // factor of 4 and put 70 ms on p99; with these two, misses run as fast
    // as with no cache (bench/README.md). The price: a new popular object's
    // first concurrent requests all reach the pod, as they would with no cache.
    'proxy.config.cache.enable_read_while_writer': 0,
    'proxy.config.http.cache.open_read_retry_time': 1,
    'proxy.config.cache.ram_cache.size': cacheOn ? cache.ramBytes : 0,
    'proxy.config.stop.shutdown_timeout': c.shutdownTimeoutS ?? 25,
    'proxy.config.ssl.server.cert.path': `${c.dir}/etc/ssl`,
    'proxy.config.ssl.server.private_key.path': `${c.dir}/etc/ssl`,
    'proxy.config.log.logging_enabled': 0,
    'proxy.config.diags.output.status': 'E',
    'proxy.config.diags.output.note': 'E',
    'proxy.config.diags.output.warning': 'E',
    'proxy.config.diags.output.error': 'E',
    // The controller reads the generation ATS serves from stats: sync them often.
    'proxy.config.raw_stat_sync_interval_ms': 500,
    'proxy.config.net.connections_throttle': 10000,
  };
}

/**
 * Every client may use the proxy (the plugin decides what is routed), but
 * only the pod itself may PURGE or PUSH the cache: from anywhere else those
 * two methods are refused with 403 (a cache anyone on the internet could
 * empty is an outage waiting to happen).
 */
export const IP_ALLOW_YAML = `ip_allow:
  - apply: in
    ip_addrs: [127.0.0.0-127.255.255.255, "::1"]
    action: allow
    methods: ALL
  - apply: in
    ip_addrs: [0.0.0.0-255.255.255.255, "::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"]
    action: deny
    methods: [PURGE, PUSH]
`;

const ARG = /^[A-Za-z0-9_./=:-]+$/;

function pluginLine(words: readonly string[]): string {
  for (const w of words) if (!ARG.test(w)) throw new TypeError(`plugin argument ${JSON.stringify(w)} has characters plugin.config cannot carry`);
  return words.join(' ');
}

/** The files of a runroot, by path relative to its dir. */
export function runrootFiles(c: RunrootConfig): Map<string, string> {
  const records = { ...productionRecords(c), ...(c.records ?? {}) };
  const plugins = [...(c.extraPlugins ?? [])];
  const files = new Map<string, string>();
  if (c.statsPath !== undefined) {
    if (!/^[A-Za-z0-9_-]+$/.test(c.statsPath)) throw new TypeError(`stats path ${JSON.stringify(c.statsPath)}: letters, digits, '_' and '-' only`);
    files.set('etc/stats_over_http.config', `path=${c.statsPath}\nallow_ip=127.0.0.1\nallow_ip6=::1\n`);
    plugins.push(pluginLine([STATS_PLUGIN, `${c.dir}/etc/stats_over_http.config`]));
  }
  if (c.plugin) plugins.push(pluginLine([c.plugin.path, ...c.plugin.args]));
  files.set('runroot.yaml', runrootYaml(c.dir));
  files.set('etc/records.config', ['# Written by ats-ingress (src/ats/runroot.ts)', ...Object.entries(records).map(([k, v]) => recordLine(k, v)), ''].join('\n'));
  files.set('etc/ip_allow.yaml', IP_ALLOW_YAML);
  // Without storage.config ATS exits; empty: no cache.
  const cache = c.cache ?? DEFAULT_CACHE;
  const cacheDir = cache.dir ?? `${c.dir}/cache`;
  if (!path.isAbsolute(cacheDir) || !/^[A-Za-z0-9_./-]+$/.test(cacheDir)) throw new TypeError(`cache dir ${JSON.stringify(cacheDir)} is not an absolute path of plain characters`);
  files.set('etc/storage.config', cache.diskBytes > 0 ? `${cacheDir} ${Math.max(1, Math.floor(cache.diskBytes / (1024 * 1024)))}M\n` : '');
  // Certificates come from the plugin (the TLS table); the file must exist,
  // or ATS 9.2 resets every TLS connection before any plugin hook runs.
  files.set('etc/ssl_multicert.config', '');
  files.set('etc/plugin.config', plugins.map((l) => `${l}\n`).join(''));
  files.set('etc/remap.config', (c.remap ?? []).map((l) => `${l}\n`).join(''));
  for (const [name, content] of Object.entries(c.files ?? {})) files.set(`etc/${name}`, content);
  return files;
}

/** Writes the runroot's files (and its empty log, run and cache folders). */
export async function writeRunroot(c: RunrootConfig): Promise<void> {
  for (const sub of ['etc/ssl', 'log', 'run', 'cache']) await mkdir(path.join(c.dir, sub), { recursive: true });
  if (c.cache?.dir) await mkdir(c.cache.dir, { recursive: true });
  for (const [name, content] of runrootFiles(c)) {
    const full = path.resolve(c.dir, name);
    if (!full.startsWith(c.dir + path.sep)) throw new TypeError(`${name} is outside the runroot`);
    await mkdir(path.dirname(full), { recursive: true });
    await writeFile(full, content);
  }
}
