// `ats-ingress ats-runroot`: writes Traffic Server's private runroot for the
// ATS container (scripts/container/ats-entry.sh runs it, then ATS).
import { isAbsolute } from 'node:path';
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { DEFAULT_CACHE, writeRunroot, type CacheConfig } from '../ats/runroot.js';
import { isInvalid } from '../validate/invalid.js';
import { formatBytes, parseByteSize } from '../validate/size.js';
import { checkTableName, DEFAULT_TABLE_NAME } from '../route-table/route-table.js';
import { parsePortRange, rangePorts } from '../config/gateway.js';
import { CliError, type Io } from './io.js';

/** The smallest cache disk taken: what the tests run ATS with. */
const MIN_CACHE_BYTES = 64 * 2 ** 20;

const HELP = `usage: ats-ingress ats-runroot --dir DIR --plugin SO [options]

Writes Traffic Server's configuration into a private runroot DIR (records,
plugins, ip_allow, storage): what the ATS container runs with.

  --dir DIR               the runroot (absolute; created if missing)
  --plugin SO             the ats_ingress plugin's shared object
  --table NAME            the route table it serves (default: ${DEFAULT_TABLE_NAME})
  --bind ADDR             the address ATS listens on (default: 0.0.0.0)
  --http-port N           (default: 8080)
  --https-port N          (default: 8443)
  --gateway-port-range FIRST-LAST
                          in a cluster: the Gateways' ports, the controller's
                          --gateway-port-range (FIRST+2k plain, FIRST+2k+1 TLS)
  --stats-path PATH       stats_over_http on loopback at /PATH (default: _ats_ingress_stats)
  --shutdown-timeout S    seconds to drain connections on SIGTERM (default: 25)
  --cache-dir DIR         where the cache's disk file lives (default: DIR/cache;
                          the pod gives it a volume of its own)
  --cache-size SIZE       the cache on disk, e.g. 256Mi or 2Gi; 0: no cache
                          (default: ${formatBytes(DEFAULT_CACHE.diskBytes)}, at least ${formatBytes(MIN_CACHE_BYTES)})
  --ram-cache-size SIZE   the RAM cache in front of it (default: ${formatBytes(DEFAULT_CACHE.ramBytes)})`;

function sizeOf(flag: string, text: string, min: number): number {
  const bytes = parseByteSize(text, min);
  if (isInvalid(bytes)) throw new CliError(`${flag}: ${bytes.invalid}`);
  return bytes;
}

function portOf(flag: string, v: string): number {
  const n = Number(v);
  if (!/^[0-9]+$/.test(v) || n < 1 || n > 65535) throw new CliError(`${flag} "${v}": expected a port from 1 to 65535`);
  return n;
}

export async function runAtsRunroot(args: string[], io: Io): Promise<number> {
  let v;
  try {
    v = parseArgs({
      args,
      options: {
        dir: { type: 'string' },
        plugin: { type: 'string' },
        table: { type: 'string', default: DEFAULT_TABLE_NAME },
        bind: { type: 'string', default: '0.0.0.0' },
        'http-port': { type: 'string', default: '8080' },
        'https-port': { type: 'string', default: '8443' },
        'gateway-port-range': { type: 'string' },
        'stats-path': { type: 'string', default: '_ats_ingress_stats' },
        'shutdown-timeout': { type: 'string', default: '25' },
        'cache-dir': { type: 'string' },
        'cache-size': { type: 'string', default: formatBytes(DEFAULT_CACHE.diskBytes) },
        'ram-cache-size': { type: 'string', default: formatBytes(DEFAULT_CACHE.ramBytes) },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  if (v.help) {
    io.out(HELP);
    return 0;
  }
  if (!v.dir || !isAbsolute(v.dir)) throw new CliError(`--dir: an absolute path is required\n\n${HELP}`);
  if (!v.plugin) throw new CliError(`--plugin: the plugin's .so is required\n\n${HELP}`);
  const bind = v.bind ?? '0.0.0.0';
  if (isIP(bind) === 0) throw new CliError(`--bind "${bind}": expected an IP address`);
  const shutdown = Number(v['shutdown-timeout']);
  if (!/^[0-9]+$/.test(v['shutdown-timeout'] ?? '') || shutdown > 3600) throw new CliError(`--shutdown-timeout "${v['shutdown-timeout']}": expected 0 to 3600 seconds`);
  const diskText = v['cache-size'] ?? formatBytes(DEFAULT_CACHE.diskBytes);
  const diskBytes = diskText === '0' ? 0 : sizeOf('--cache-size', diskText, MIN_CACHE_BYTES);
  const cacheDir = v['cache-dir'];
  if (cacheDir !== undefined && !isAbsolute(cacheDir)) throw new CliError(`--cache-dir "${cacheDir}": expected an absolute path`);
  const cache: CacheConfig = {
    diskBytes,
    ramBytes: sizeOf('--ram-cache-size', v['ram-cache-size'] ?? formatBytes(DEFAULT_CACHE.ramBytes), 0),
    ...(cacheDir !== undefined ? { dir: cacheDir } : {}),
  };
  let gatewayPortRange;
  if (v['gateway-port-range'] !== undefined && v['gateway-port-range'] !== '') {
    gatewayPortRange = parsePortRange(v['gateway-port-range']);
    if (isInvalid(gatewayPortRange)) throw new CliError(`--gateway-port-range ${gatewayPortRange.invalid}`);
  }
  let table: string;
  try {
    table = checkTableName(v.table);
  } catch (err) {
    throw new CliError(`--table: ${(err as Error).message}`);
  }
  try {
    await writeRunroot({
      dir: v.dir,
      bind,
      httpPort: portOf('--http-port', v['http-port'] ?? '8080'),
      httpsPort: portOf('--https-port', v['https-port'] ?? '8443'),
      ...(gatewayPortRange !== undefined ? { gatewayPorts: rangePorts(gatewayPortRange) } : {}),
      plugin: { path: v.plugin, args: ['--table', table] },
      statsPath: v['stats-path'] ?? '_ats_ingress_stats',
      shutdownTimeoutS: shutdown,
      cache,
    });
  } catch (err) {
    if (err instanceof TypeError) throw new CliError(err.message);
    throw err;
  }
  io.out(`wrote the runroot ${v.dir} (cache: ${diskBytes > 0 ? `${formatBytes(diskBytes)} on disk, ${formatBytes(cache.ramBytes)} of RAM` : 'off'})`);
  return 0;
}
