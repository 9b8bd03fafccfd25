// The controller's flags, parsed and checked once; everything below the CLI
// gets this object and reads no environment.
import { parseArgs } from 'node:util';
import { DEFAULT_CONTROLLER_NAME, DEFAULT_INGRESS_CLASS_NAME, parseServicePortRef } from '../build/config.js';
import { checkTableName, DEFAULT_TABLE_NAME, TableError } from '../native/route-table.js';
import { isLogLevel, type LogLevel } from '../observe/logger.js';
import { CliError } from './io.js';

export const CONTROLLER_HELP = `usage: ats-ingress controller [options]

Watches Ingresses, IngressClasses, Services, EndpointSlices and TLS Secrets,
compiles them into a route table and publishes it into shared memory for the
ats_ingress plugin of Apache Traffic Server.

Where objects come from (one of):
  --kubeconfig FILE          a kubeconfig file; without it and without
                             --manifests, the in-cluster service account
  --manifests DIR            a directory of YAML/JSON manifests, watched for
                             changes (the same objects as in a cluster)

What is ours:
  --ingress-class NAME       our IngressClass name, also accepted in the legacy
                             kubernetes.io/ingress.class annotation (default: ${DEFAULT_INGRESS_CLASS_NAME})
  --controller-name NAME     the spec.controller of IngressClasses that are ours
                             (default: ${DEFAULT_CONTROLLER_NAME})
  --watch-namespace NS       only this namespace; repeat for several (default: all)
  --default-backend NS/NAME:PORT
                             the Service that answers requests no rule matches

The table:
  --table NAME               shared-memory table name; the plugin's --table
                             (default: ${DEFAULT_TABLE_NAME})
  --once                     build and publish one table, print a summary of
                             routes and problems, and exit (non-zero on a
                             fatal error)

Running:
  --admin-address HOST:PORT  /healthz, /readyz and /metrics (default: 127.0.0.1:10254)
  --ats-stats-url URL        ATS's stats_over_http URL; /readyz and Ingress
                             status then wait until ATS serves the table
  --publish-address ADDR     IP or hostname written to Ingress status
                             (repeatable; Kubernetes source only)
  --leader-election-namespace NS
                             namespace of the Lease for leader election
                             (default: ats-ingress); only the leader writes status
  --batch-hold-ms MS         at least this long between two rebuilds; changes in
                             between are batched (default: 50)
  --batch-coalesce-ms MS     after a quiet spell, wait this long for the rest
                             of a burst before rebuilding (default: 10)
  --log-level LEVEL          debug, info, warn or error (default: info)
  -h, --help                 this text`;

export interface ControllerOptions {
  kubeconfig?: string;
  manifests?: string;
  inCluster: boolean;
  once: boolean;
  table: string;
  ingressClass: string;
  controllerName: string;
  watchNamespaces: string[];
  defaultBackend?: string;
  adminAddress: string;
  atsStatsUrl?: string;
  publishAddresses: string[];
  leaderElectionNamespace: string;
  batchHoldMs: number;
  batchCoalesceMs: number;
  logLevel: LogLevel;
  help: boolean;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function positiveInt(flag: string, v: string | undefined, fallback: number, max: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > max) throw new CliError(`${flag} "${v}": expected a whole number from 0 to ${max}`);
  return n;
}

export function parseControllerOptions(args: string[]): ControllerOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: false,
      options: {
        kubeconfig: { type: 'string' },
        manifests: { type: 'string' },
        once: { type: 'boolean', default: false },
        table: { type: 'string', default: DEFAULT_TABLE_NAME },
        'ingress-class': { type: 'string', default: DEFAULT_INGRESS_CLASS_NAME },
        'controller-name': { type: 'string', default: DEFAULT_CONTROLLER_NAME },
        'watch-namespace': { type: 'string', multiple: true, default: [] },
        'default-backend': { type: 'string' },
        'admin-address': { type: 'string', default: '127.0.0.1:10254' },
        'ats-stats-url': { type: 'string' },
        'publish-address': { type: 'string', multiple: true, default: [] },
        'leader-election-namespace': { type: 'string', default: 'ats-ingress' },
        'batch-hold-ms': { type: 'string' },
        'batch-coalesce-ms': { type: 'string' },
        'log-level': { type: 'string', default: 'info' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    throw new CliError(`${(err as Error).message}\nRun 'ats-ingress controller --help' for the options.`);
  }
  const v = parsed.values;
  const help = v.help ?? false;
  if (v.kubeconfig !== undefined && v.manifests !== undefined) {
    throw new CliError('--kubeconfig and --manifests are two different sources: give one');
  }
  let table: string;
  try {
    table = checkTableName(v.table);
  } catch (err) {
    throw new CliError(`--table: ${(err as TableError).message}`);
  }
  const logLevel = v['log-level'] ?? 'info';
  if (!isLogLevel(logLevel)) throw new CliError(`--log-level "${logLevel}": expected debug, info, warn or error`);
  for (const ns of v['watch-namespace'] ?? []) {
    if (!DNS_LABEL.test(ns)) throw new CliError(`--watch-namespace "${ns}" is not a namespace name`);
  }
  const defaultBackend = v['default-backend'];
  if (defaultBackend !== undefined) {
    const ref = parseServicePortRef(defaultBackend);
    if (typeof ref === 'string') throw new CliError(`--default-backend ${ref}`);
  }
  const admin = v['admin-address'] ?? '127.0.0.1:10254';
  const port = Number(admin.slice(admin.lastIndexOf(':') + 1));
  if (!admin.includes(':') || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new CliError(`--admin-address "${admin}": expected HOST:PORT, e.g. 0.0.0.0:10254`);
  }
  if (v['ats-stats-url'] !== undefined && !/^http:\/\/[^/]+\//.test(v['ats-stats-url'])) {
    throw new CliError(`--ats-stats-url "${v['ats-stats-url']}": expected an http:// URL with a path, e.g. http://127.0.0.1:8080/_stats`);
  }
  return {
    ...(v.kubeconfig !== undefined ? { kubeconfig: v.kubeconfig } : {}),
    ...(v.manifests !== undefined ? { manifests: v.manifests } : {}),
    inCluster: v.kubeconfig === undefined && v.manifests === undefined,
    once: v.once ?? false,
    table,
    ingressClass: v['ingress-class'] ?? DEFAULT_INGRESS_CLASS_NAME,
    controllerName: v['controller-name'] ?? DEFAULT_CONTROLLER_NAME,
    watchNamespaces: v['watch-namespace'] ?? [],
    ...(defaultBackend !== undefined ? { defaultBackend } : {}),
    adminAddress: admin,
    ...(v['ats-stats-url'] !== undefined ? { atsStatsUrl: v['ats-stats-url'] } : {}),
    publishAddresses: v['publish-address'] ?? [],
    leaderElectionNamespace: v['leader-election-namespace'] ?? 'ats-ingress',
    batchHoldMs: positiveInt('--batch-hold-ms', v['batch-hold-ms'], 50, 60_000),
    batchCoalesceMs: positiveInt('--batch-coalesce-ms', v['batch-coalesce-ms'], 10, 60_000),
    logLevel,
    help,
  };
}
