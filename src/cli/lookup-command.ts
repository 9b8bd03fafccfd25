import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import type { LiveTable, LookupRequest, LookupResult, TableFilter } from '../route-table/route-table.js';
import { DEFAULT_TABLE_NAME } from '../route-table/route-table.js';
import { CliError, type Io, toJson } from './io.js';
import { explainNotFound, openLiveTable } from './table-options.js';

const HELP = `usage: ats-ingress lookup [options] HOST PATH

Answers what the proxy would do for a request to HOST (as in the Host header,
a port allowed) and PATH (with or without a query), using the live table and
the same C++ lookup as the ATS plugin.

  --table NAME            the shared-memory table (default: ${DEFAULT_TABLE_NAME})
  --json                  print one JSON object: status, service, servicePort,
                          endpoint, endpoints, rule or gateway, location,
                          generation, reason
  --method METHOD         the request's method (default: GET)
  --header 'NAME: VALUE'  a request header; repeat for several
  --listener-port PORT    a request to a Gateway listener on this port (its
                          spec.listeners[].port); with --gateway when the table
                          has more than one Gateway
  --gateway NS/NAME       the Gateway the request is sent to (its address)

Without --listener-port the request is one to the proxy's own address: the
Ingress routes answer it. A Gateway's rule picks among its backends by
weight; lookup always shows the pick of the same fixed draw.`;

interface LookupArgs {
  table: string;
  json: boolean;
  help: boolean;
  method?: string;
  headers: Array<[string, string]>;
  listenerPort?: number;
  gateway?: string;
  positionals: string[];
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function parseLookupArgs(args: string[]): LookupArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        table: { type: 'string', default: DEFAULT_TABLE_NAME },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        method: { type: 'string' },
        header: { type: 'string', multiple: true, default: [] },
        'listener-port': { type: 'string' },
        gateway: { type: 'string' },
      },
    });
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const v = parsed.values;
  const headers = (v.header ?? []).map((h): [string, string] => {
    const colon = h.indexOf(':');
    const name = colon > 0 ? h.slice(0, colon).trim() : '';
    if (!TOKEN.test(name)) throw new CliError(`--header "${h}": expected 'NAME: VALUE' with NAME a header name`);
    return [name, h.slice(colon + 1).trim()];
  });
  if (v.method !== undefined && !TOKEN.test(v.method)) throw new CliError(`--method "${v.method}" is not an HTTP method token`);
  let listenerPort: number | undefined;
  if (v['listener-port'] !== undefined) {
    listenerPort = /^[0-9]{1,5}$/.test(v['listener-port']) ? Number(v['listener-port']) : 0;
    if (listenerPort < 1 || listenerPort > 65535) throw new CliError(`--listener-port "${v['listener-port']}" is not a port (1..65535)`);
  }
  if (v.gateway !== undefined && listenerPort === undefined) throw new CliError('--gateway needs --listener-port: which of its listeners');
  return {
    table: v.table ?? DEFAULT_TABLE_NAME,
    json: v.json ?? false,
    help: v.help ?? false,
    ...(v.method !== undefined ? { method: v.method } : {}),
    headers,
    ...(listenerPort !== undefined ? { listenerPort } : {}),
    ...(v.gateway !== undefined ? { gateway: v.gateway } : {}),
    positionals: parsed.positionals,
  };
}

/** The local address and port a request to a Gateway's listener port arrives on, from the live table. */
function gatewayTarget(live: LiveTable, listenerPort: number, gateway: string | undefined): { localAddress: string; localPort: number } {
  const listeners = live.gateway?.listeners ?? [];
  const gateways = [...new Set(listeners.map((l) => l.gateway))].sort();
  if (gateways.length === 0) throw new CliError('the live table has no Gateway listeners');
  const which = gateway ?? (gateways.length === 1 ? gateways[0] : undefined);
  if (which === undefined) throw new CliError(`the table has ${gateways.length} Gateways (${gateways.join(', ')}): say which with --gateway`);
  const l = listeners.find((x) => x.gateway === which && x.listenerPort === listenerPort);
  if (!l) {
    const ports = [...new Set(listeners.filter((x) => x.gateway === which).map((x) => x.listenerPort))];
    throw new CliError(ports.length === 0 ? `Gateway ${which} has no listener in the live table (known: ${gateways.join(', ')})` : `Gateway ${which} has no listener on port ${listenerPort} (it has ${ports.join(', ')})`);
  }
  // On every local address (a cluster's Gateways, told apart by port): any address of the pod, 127.0.0.1 say.
  if (l.address === '*') return { localAddress: '127.0.0.1', localPort: l.port };
  if (isIP(l.address) === 0) throw new CliError(`Gateway ${which}: the table's address "${l.address}" is not an IP address`);
  return { localAddress: l.address, localPort: l.port };
}

function filterText(f: TableFilter): string {
  switch (f.type) {
    case 'RequestHeaderModifier':
    case 'ResponseHeaderModifier': {
      const e = f.edits;
      const parts = [...e.set.map((h) => `set ${h.name}: ${h.value}`), ...e.add.map((h) => `add ${h.name}: ${h.value}`), ...e.remove.map((n) => `remove ${n}`)];
      return `${f.type} (${parts.join('; ')})`;
    }
    case 'RequestRedirect':
      return `RequestRedirect ${f.statusCode}${f.scheme ? ` scheme ${f.scheme}` : ''}${f.hostname ? ` hostname ${f.hostname}` : ''}${f.port ? ` port ${f.port}` : ''}${f.path ? ` ${f.path.type} ${f.path.value}` : ''}`;
    case 'URLRewrite':
      return `URLRewrite${f.hostname ? ` hostname ${f.hostname}` : ''}${f.path ? ` ${f.path.type} ${f.path.value}` : ''}`;
  }
}

function formatLookup(host: string, path: string, r: LookupResult): string {
  const lines = [`${r.status} ${host} ${path}  (table generation ${r.generation})`];
  if (r.gateway) {
    const g = r.gateway;
    lines.push(`  gateway:   ${g.gateway}, listener ${g.listener}`);
    if (g.route !== undefined) lines.push(`  route:     HTTPRoute ${g.route}, rule ${g.ruleIndex ?? '?'}`);
    for (const f of g.filters ?? []) lines.push(`  filter:    ${filterText(f)}`);
  }
  if (r.rule) {
    const where = r.rule.path !== undefined ? `${r.rule.pathType} ${r.rule.path}` : 'default backend';
    lines.push(`  rule:      host "${r.rule.host || '*'}" ${where}, from ${r.rule.source}`);
  }
  if (r.location) lines.push(`  location:  ${r.location}`);
  if (r.service) lines.push(`  backend:   ${r.service}:${r.servicePort} (${r.scheme})`);
  if (r.endpoint) lines.push(`  endpoint:  ${r.endpoint} first, of ${r.endpoints?.length ?? 0}: ${r.endpoints?.join(' ')}`);
  if (r.reason) lines.push(`  reason:    ${r.reason}`);
  return lines.join('\n');
}

export async function runLookup(args: string[], io: Io): Promise<number> {
  const opts = parseLookupArgs(args);
  if (opts.help) {
    io.out(HELP);
    return 0;
  }
  if (opts.positionals.length !== 2) throw new CliError(`expected HOST and PATH, got ${opts.positionals.length} arguments\n\n${HELP}`);
  const [host, path] = opts.positionals as [string, string];
  const table = openLiveTable(opts.table);
  try {
    const request: LookupRequest = {
      ...(opts.method !== undefined ? { method: opts.method } : {}),
      ...(opts.headers.length > 0 ? { headers: opts.headers } : {}),
      ...(opts.listenerPort !== undefined ? gatewayTarget(table.read(), opts.listenerPort, opts.gateway) : {}),
    };
    const result = table.lookup(host, path, request);
    io.out(opts.json ? toJson(result) : formatLookup(host, path, result));
    return 0;
  } catch (err) {
    return explainNotFound(err, opts.table);
  } finally {
    table.close();
  }
}
