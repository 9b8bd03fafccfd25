// The controller's flags, parsed and checked once; everything below the CLI
// gets this object and reads no environment.
import { isIP } from 'node:net';
import { isAbsolute } from 'node:path';
import { parseArgs } from 'node:util';
import { buildConfig, DEFAULT_CONTROLLER_NAME, DEFAULT_GATEWAY_CONTROLLER_NAME, DEFAULT_INGRESS_CLASS_NAME, parseObjectRef, parseServicePortRef, type BuildConfig } from '../config/config.js';
import type { HostPort } from '../observe/admin-server.js';
import { isLogLevel, type LogLevel } from '../observe/logger.js';
import { parsePublishAddresses, type LoadBalancerAddress } from '../publish/ingress-status.js';
import { checkTableName, DEFAULT_TABLE_NAME, TableError } from '../route-table/route-table.js';
import { domainPrefixedPathErrors } from '../validate/api-formats.js';
import { isInvalid } from '../validate/invalid.js';
import { dnsLabelError, dnsSubdomainError } from '../validate/names.js';
import { DEFAULT_GATEWAY_ADDRESSES, DEFAULT_GATEWAY_PORT_RANGE, DEFAULT_GATEWAY_PORTS, parseAddressRange, parseGatewayPorts, parsePortRange, parseServiceType, type GatewayServiceType } from '../config/gateway.js';
import { CliError } from './io.js';
import { DEFAULT_BUILD_BURST_MS } from '../controller/loop.js';

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
  --gateway-controller-name NAME
                             the spec.controllerName of GatewayClasses that are
                             ours (default: ${DEFAULT_GATEWAY_CONTROLLER_NAME})
  --gateway-addresses CIDR   the IPv4 range our Gateways take their addresses
                             from, one each, oldest Gateway first; ATS must
                             listen on them (default: ${DEFAULT_GATEWAY_ADDRESSES})
  --gateway-ports LIST       the listener ports served, each on its own port
                             or on another: 80,443 or 80=18080,443=18443
                             (default: ${DEFAULT_GATEWAY_PORTS})
  --gateway-service-type TYPE
                             in a cluster: ClusterIP, NodePort or LoadBalancer.
                             Each Gateway is then served on every address of
                             the pod, on a block of ports of its own from
                             --gateway-port-range, through a Service of this
                             type in the --leader-election-namespace that the
                             leader keeps; its address is the Gateway's
                             status.addresses (--gateway-addresses and
                             --gateway-ports are not used)
  --gateway-port-range FIRST-LAST
                             the ports ATS opens for Gateways (the same range
                             as the ATS container's ATS_GATEWAY_PORT_RANGE):
                             FIRST+2k plain HTTP, FIRST+2k+1 TLS
                             (default: ${DEFAULT_GATEWAY_PORT_RANGE})
  --gateway-service-selector K=V,...
                             the labels of the ATS pod, which the Services
                             select (default: app=ats-ingress)
  --watch-namespace NS       only this namespace; repeat for several (default: all)
  --default-backend NS/NAME:PORT
                             the Service that answers requests no rule matches
  --default-certificate NS/NAME
                             the kubernetes.io/tls Secret served to TLS clients
                             whose SNI no Ingress certificate covers (default:
                             one the plugin makes when ATS starts)

The table:
  --table NAME               shared-memory table name; the plugin's --table
                             (default: ${DEFAULT_TABLE_NAME})
  --once                     build and publish one table, print a summary of
                             routes and problems, and exit (non-zero on a
                             fatal error)
  --json                     with --once: print one JSON object instead: the
                             routes, the problems, and the status the
                             controller would write for each Ingress,
                             GatewayClass, Gateway and HTTPRoute

Running:
  --admin-address HOST:PORT  /healthz, /readyz and /metrics (default: 127.0.0.1:10254)
  --ats-stats-url URL        ATS's stats_over_http URL; /readyz and Ingress
                             status then wait until ATS serves the table
  --records-configmap NS/NAME
                             the ConfigMap whose keys are ATS records, applied
                             through traffic_manager (default: ats-ingress/ats-records)
  --ats-runroot DIR          the runroot traffic_manager runs in (shared with
                             the ATS container); without it records are not applied
  --publish-address ADDR     IP or hostname written to Ingress status
                             (repeatable; Kubernetes source only)
  --leader-election-namespace NS
                             namespace of the Lease for leader election
                             (default: ats-ingress); only the leader writes status
  --max-build-share F        under churn, builds take at most this share of the
                             time (0 < F <= 1): a rebuild of C ms owes
                             C * (1 - F) / F ms idle before the next (default: 0.5)
  --max-build-burst-ms MS    rebuilds may start while they owe at most this much
                             idle time, so a change right after a rebuild is not
                             held back; only sustained churn is (default: 500)
  --batch-hold-ms MS         besides, at least this long between two rebuilds
                             (default: 0)
  --batch-coalesce-ms MS     after a quiet spell, wait this long for the rest
                             of a burst before rebuilding (default: 0: only
                             the events already received)
  --log-level LEVEL          debug, info, warn or error (default: info)
  -h, --help                 this text`;

export type SourceOption = { readonly kind: 'manifests'; readonly dir: string } | { readonly kind: 'kubernetes'; readonly kubeconfig?: string };

/** Every flag, parsed once into the type its users need. */
export interface ControllerOptions {
  readonly source: SourceOption;
  readonly once: boolean;
  /** --once prints JSON. */
  readonly json: boolean;
  readonly table: string;
  readonly build: BuildConfig;
  readonly admin: HostPort;
  readonly atsStatsUrl?: URL;
  /** With --ats-runroot: where traffic_manager runs, for the records ConfigMap. */
  readonly atsRunroot?: string;
  readonly publishAddresses: readonly LoadBalancerAddress[];
  /** --gateway-service-type: a Service per Gateway, of this type, selecting the ATS pod by these labels. */
  readonly gatewayServices?: { readonly type: GatewayServiceType; readonly selector: Readonly<Record<string, string>> };
  readonly leaderElectionNamespace: string;
  readonly batchHoldMs: number;
  readonly batchCoalesceMs: number;
  readonly maxBuildShare: number;
  readonly maxBuildBurstMs: number;
  readonly logLevel: LogLevel;
  readonly help: boolean;
}

function share(flag: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!/^(0|1)?(\.[0-9]+)?$/.test(v) || v === '' || v === '.' || !(n > 0 && n <= 1)) throw new CliError(`${flag} "${v}": expected a share above 0 and at most 1, e.g. 0.5`);
  return n;
}

function wholeNumber(flag: string, v: string | undefined, fallback: number, max: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!/^[0-9]+$/.test(v) || n > max) throw new CliError(`${flag} "${v}": expected a whole number from 0 to ${max}`);
  return n;
}

/** `app=ats-ingress,tier=edge`: label names and values as the API takes them. */
function parseSelector(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of text.split(',')) {
    const [k = '', value, extra] = item.trim().split('=');
    const name = k.includes('/') ? k.slice(k.lastIndexOf('/') + 1) : k;
    const prefix = k.includes('/') ? k.slice(0, k.lastIndexOf('/')) : undefined;
    const ok = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
    if (value === undefined || extra !== undefined || !name || name.length > 63 || !ok.test(name) || value.length > 63 || !ok.test(value) || (prefix !== undefined && dnsSubdomainError(prefix))) {
      throw new CliError(`--gateway-service-selector "${item}" is not LABEL=VALUE`);
    }
    out[k] = value;
  }
  return out;
}

function namespaceName(flag: string, ns: string): string {
  const error = dnsLabelError(ns);
  if (error) throw new CliError(`${flag} "${ns}" is not a namespace name: it ${error}`);
  return ns;
}

/** A GatewayClass's spec.controllerName: a domain-prefixed path of at most 253 characters (the CRD's rule). */
function gatewayControllerName(name: string): string {
  const errors = domainPrefixedPathErrors(name);
  if (errors.length > 0) throw new CliError(`--gateway-controller-name "${name}": ${errors[0]?.message ?? 'invalid'}`);
  if (name.length > 253) throw new CliError(`--gateway-controller-name "${name}": at most 253 characters`);
  return name;
}

/** `HOST:PORT`, `[v6]:PORT` or `:PORT` (all addresses). */
function parseHostPort(flag: string, text: string, example: string): HostPort {
  const usage = `${flag} "${text}": expected HOST:PORT, e.g. ${example}`;
  const colon = text.lastIndexOf(':');
  if (colon < 0) throw new CliError(usage);
  let host = text.slice(0, colon);
  const portText = text.slice(colon + 1);
  if (!/^[0-9]{1,5}$/.test(portText) || Number(portText) > 65535) throw new CliError(usage);
  if (host.startsWith('[') && host.endsWith(']')) {
    host = host.slice(1, -1);
    if (isIP(host) !== 6) throw new CliError(usage);
  } else if (host === '') {
    host = '0.0.0.0';
  } else if (isIP(host) === 0 && host !== 'localhost') {
    throw new CliError(`${usage} (HOST is an IP address or localhost)`);
  }
  return { host, port: Number(portText) };
}

function statsUrl(text: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (!url || url.protocol !== 'http:' || url.pathname === '/' || url.search || url.hash) {
    throw new CliError(`--ats-stats-url "${text}": expected an http:// URL with a path, e.g. http://127.0.0.1:8080/_stats`);
  }
  return url;
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
        json: { type: 'boolean', default: false },
        table: { type: 'string', default: DEFAULT_TABLE_NAME },
        'ingress-class': { type: 'string', default: DEFAULT_INGRESS_CLASS_NAME },
        'controller-name': { type: 'string', default: DEFAULT_CONTROLLER_NAME },
        'gateway-controller-name': { type: 'string', default: DEFAULT_GATEWAY_CONTROLLER_NAME },
        'gateway-addresses': { type: 'string', default: DEFAULT_GATEWAY_ADDRESSES },
        'gateway-ports': { type: 'string', default: DEFAULT_GATEWAY_PORTS },
        'gateway-service-type': { type: 'string' },
        'gateway-port-range': { type: 'string' },
        'gateway-service-selector': { type: 'string', default: 'app=ats-ingress' },
        'watch-namespace': { type: 'string', multiple: true, default: [] },
        'default-backend': { type: 'string' },
        'default-certificate': { type: 'string' },
        'admin-address': { type: 'string', default: '127.0.0.1:10254' },
        'ats-stats-url': { type: 'string' },
        'records-configmap': { type: 'string', default: 'ats-ingress/ats-records' },
        'ats-runroot': { type: 'string' },
        'publish-address': { type: 'string', multiple: true, default: [] },
        'leader-election-namespace': { type: 'string', default: 'ats-ingress' },
        'batch-hold-ms': { type: 'string' },
        'batch-coalesce-ms': { type: 'string' },
        'max-build-share': { type: 'string' },
        'max-build-burst-ms': { type: 'string' },
        'log-level': { type: 'string', default: 'info' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    throw new CliError(`${(err as Error).message}\nRun 'ats-ingress controller --help' for the options.`);
  }
  const v = parsed.values;
  if (v.kubeconfig !== undefined && v.manifests !== undefined) {
    throw new CliError('--kubeconfig and --manifests are two different sources: give one');
  }
  if (v.json && !v.once) throw new CliError('--json goes with --once (a running controller prints logs, not a summary)');
  let table: string;
  try {
    table = checkTableName(v.table);
  } catch (err) {
    throw new CliError(`--table: ${(err as TableError).message}`);
  }
  const logLevel = v['log-level'] ?? 'info';
  if (!isLogLevel(logLevel)) throw new CliError(`--log-level "${logLevel}": expected debug, info, warn or error`);
  const watchNamespaces = (v['watch-namespace'] ?? []).map((ns) => namespaceName('--watch-namespace', ns));
  let defaultBackend;
  if (v['default-backend'] !== undefined) {
    defaultBackend = parseServicePortRef(v['default-backend']);
    if (isInvalid(defaultBackend)) throw new CliError(`--default-backend ${defaultBackend.invalid}`);
  }
  let defaultCertificate;
  if (v['default-certificate'] !== undefined) {
    defaultCertificate = parseObjectRef(v['default-certificate']);
    if (isInvalid(defaultCertificate)) throw new CliError(`--default-certificate ${defaultCertificate.invalid}`);
    if (watchNamespaces.length > 0 && !watchNamespaces.includes(defaultCertificate.namespace)) {
      throw new CliError(`--default-certificate ${v['default-certificate']}: namespace ${defaultCertificate.namespace} is not watched; add --watch-namespace ${defaultCertificate.namespace}`);
    }
  }
  const gatewayAddresses = parseAddressRange(v['gateway-addresses'] ?? DEFAULT_GATEWAY_ADDRESSES);
  if (isInvalid(gatewayAddresses)) throw new CliError(`--gateway-addresses ${gatewayAddresses.invalid}`);
  const gatewayPorts = parseGatewayPorts(v['gateway-ports'] ?? DEFAULT_GATEWAY_PORTS);
  if (isInvalid(gatewayPorts)) throw new CliError(`--gateway-ports ${gatewayPorts.invalid}`);
  let gatewayServices: ControllerOptions['gatewayServices'];
  let gatewayPortRange;
  if (v['gateway-service-type'] !== undefined) {
    const type = parseServiceType(v['gateway-service-type']);
    if (isInvalid(type)) throw new CliError(`--gateway-service-type ${type.invalid}`);
    gatewayPortRange = parsePortRange(v['gateway-port-range'] ?? DEFAULT_GATEWAY_PORT_RANGE);
    if (isInvalid(gatewayPortRange)) throw new CliError(`--gateway-port-range ${gatewayPortRange.invalid}`);
    gatewayServices = { type, selector: parseSelector(v['gateway-service-selector'] ?? 'app=ats-ingress') };
  } else if (v['gateway-port-range'] !== undefined) {
    throw new CliError('--gateway-port-range goes with --gateway-service-type (in a cluster)');
  }
  let recordsConfigMap;
  const atsRunroot = v['ats-runroot'];
  if (atsRunroot !== undefined) {
    if (!isAbsolute(atsRunroot)) throw new CliError(`--ats-runroot "${atsRunroot}": an absolute path is required`);
    recordsConfigMap = parseObjectRef(v['records-configmap'] ?? 'ats-ingress/ats-records');
    if (isInvalid(recordsConfigMap)) throw new CliError(`--records-configmap ${recordsConfigMap.invalid}`);
  }
  let publishAddresses: LoadBalancerAddress[];
  try {
    publishAddresses = parsePublishAddresses(v['publish-address'] ?? []);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const build = buildConfig({
    controllerName: v['controller-name'] ?? DEFAULT_CONTROLLER_NAME,
    gatewayControllerName: gatewayControllerName(v['gateway-controller-name'] ?? DEFAULT_GATEWAY_CONTROLLER_NAME),
    ingressClassName: v['ingress-class'] ?? DEFAULT_INGRESS_CLASS_NAME,
    watchNamespaces,
    gatewayAddresses,
    gatewayPorts,
    ...(gatewayPortRange !== undefined ? { gatewayPortRange, gatewayServiceNamespace: namespaceName('--leader-election-namespace', v['leader-election-namespace'] ?? 'ats-ingress') } : {}),
    ...(defaultBackend !== undefined ? { defaultBackend } : {}),
    ...(defaultCertificate !== undefined ? { defaultCertificate } : {}),
    ...(recordsConfigMap !== undefined ? { recordsConfigMap } : {}),
  });
  return {
    source: v.manifests !== undefined ? { kind: 'manifests', dir: v.manifests } : { kind: 'kubernetes', ...(v.kubeconfig !== undefined ? { kubeconfig: v.kubeconfig } : {}) },
    once: v.once ?? false,
    json: v.json ?? false,
    table,
    build,
    admin: parseHostPort('--admin-address', v['admin-address'] ?? '127.0.0.1:10254', '0.0.0.0:10254'),
    ...(v['ats-stats-url'] !== undefined ? { atsStatsUrl: statsUrl(v['ats-stats-url']) } : {}),
    ...(atsRunroot !== undefined ? { atsRunroot } : {}),
    publishAddresses,
    ...(gatewayServices !== undefined ? { gatewayServices } : {}),
    leaderElectionNamespace: namespaceName('--leader-election-namespace', v['leader-election-namespace'] ?? 'ats-ingress'),
    batchHoldMs: wholeNumber('--batch-hold-ms', v['batch-hold-ms'], 0, 60_000),
    batchCoalesceMs: wholeNumber('--batch-coalesce-ms', v['batch-coalesce-ms'], 0, 60_000),
    maxBuildShare: share('--max-build-share', v['max-build-share'], 0.5),
    maxBuildBurstMs: wholeNumber('--max-build-burst-ms', v['max-build-burst-ms'], DEFAULT_BUILD_BURST_MS, 60_000),
    logLevel,
    help: v.help ?? false,
  };
}
