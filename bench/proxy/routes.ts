// The routing tables of the proxy benchmark, in the three forms the variants
// read: a route table model (the plugin), remap.config rules (static ATS) and
// Redis sets (the Lua design we replace).
//
// A table of N routes is H hosts × P paths: host `h<i>.bench.test`, Prefix
// path `/p<j>` with j zero-padded so that no path is a prefix of another (ATS
// remap matches path prefixes as strings, in file order). The benchmarked
// request is a typical one, a path one element below a route's prefix
// (`/p<j>/item`), for the route in the middle of the table; it is the only
// route whose backend is the real backend: every other route points at
// 127.0.0.1:1, where nothing listens, so a request that matched a wrong route
// fails fast instead of looking routed.

import type { TableModel } from '../../src/model/table-model.js';

export const DEAD_ADDRESS = '127.0.0.1';
export const DEAD_PORT = 1;

export interface RouteSet {
  routes: number;
  hosts: number;
  pathsPerHost: number;
  /** Short name for tables: '10', '100k'. */
  label: string;
  /** The route every benchmarked request hits (host and the rule's Prefix path), and the request's path below it. */
  target: { host: string; route: string; path: string };
}

/** What the benchmarked request adds below its route's path. */
export const REQUEST_SUFFIX = '/item';

function label(n: number): string {
  if (n >= 1_000_000 && n % 1_000_000 === 0) return `${n / 1_000_000}M`;
  if (n >= 1_000 && n % 1_000 === 0) return `${n / 1_000}k`;
  return String(n);
}

/** N routes as hosts × paths: 5 paths per host up to 1,000 routes, 100 above. */
export function routeSet(routes: number): RouteSet {
  if (!Number.isInteger(routes) || routes < 1) throw new RangeError(`routeSet: bad route count ${routes}`);
  const pathsPerHost = Math.min(routes, routes > 1_000 ? 100 : 5);
  const hosts = Math.ceil(routes / pathsPerHost);
  const set: RouteSet = { routes, hosts, pathsPerHost, label: label(routes), target: { host: '', route: '', path: '' } };
  const targetIndex = Math.floor(routes / 2);
  const route = pathName(set, targetIndex % pathsPerHost);
  set.target = { host: hostName(Math.floor(targetIndex / pathsPerHost)), route, path: `${route}${REQUEST_SUFFIX}` };
  return set;
}

export function hostName(i: number): string {
  return `h${i}.bench.test`;
}

export function pathName(set: RouteSet, j: number): string {
  const width = String(set.pathsPerHost - 1).length;
  return `/p${String(j).padStart(width, '0')}`;
}

/** Calls fn(host, path, isTarget) for every route, host by host. */
export function forEachRoute(set: RouteSet, fn: (host: string, path: string, isTarget: boolean) => void): void {
  let n = 0;
  for (let i = 0; i < set.hosts && n < set.routes; i++) {
    const host = hostName(i);
    for (let j = 0; j < set.pathsPerHost && n < set.routes; j++, n++) {
      const path = pathName(set, j);
      fn(host, path, host === set.target.host && path === set.target.route);
    }
  }
}

/** The route table for the plugin: one Service (backend) per route, as separate Ingress paths usually have. */
export function tableModel(set: RouteSet, backendPort: number): TableModel {
  const model: TableModel = { hosts: [], backends: [] };
  let current: TableModel['hosts'][number] | undefined;
  forEachRoute(set, (host, path, isTarget) => {
    if (current?.name !== host) {
      current = { name: host, rules: [] };
      model.hosts.push(current);
    }
    const backend = model.backends.length;
    model.backends.push({
      service: `bench/${host.split('.')[0]}${path.replace('/', '-')}`,
      port: '80',
      scheme: 'http',
      endpoints: [isTarget ? { address: '127.0.0.1', port: backendPort } : { address: DEAD_ADDRESS, port: DEAD_PORT }],
    });
    current.rules.push({ path, pathType: 'Prefix', backend, source: `bench/${host.split('.')[0]}` });
  });
  return model;
}

/** remap.config rules, one per route. */
export function remapLines(set: RouteSet, backendPort: number): string[] {
  const lines: string[] = [];
  forEachRoute(set, (host, path, isTarget) => {
    const to = isTarget ? `127.0.0.1:${backendPort}` : `${DEAD_ADDRESS}:${DEAD_PORT}`;
    lines.push(`map http://${host}${path} http://${to}${path}`);
  });
  return lines;
}

/**
 * The Redis databases of the table size at index `i`: the Lua design keeps
 * Exact rules and Prefix rules in databases of their own and SELECTs the one
 * each lookup needs (redis-route.lua).
 */
export function redisDbs(i: number): { exact: number; prefix: number } {
  return { exact: 2 * i, prefix: 2 * i + 1 };
}

/**
 * Redis commands that load the routes the way the replaced controller stored
 * them: one set per host and path, key `host/path`, members `ip:port` of the
 * endpoints, in the database of the rule's path type. Every bench rule is a
 * Prefix rule, so the Exact database is empty (the lookup still asks it
 * first). The last reply is the Prefix database's DBSIZE.
 */
export function redisCommands(set: RouteSet, backendPort: number, dbs: { exact: number; prefix: number }): string[][] {
  const commands: string[][] = [['SELECT', String(dbs.exact)], ['FLUSHDB'], ['SELECT', String(dbs.prefix)], ['FLUSHDB']];
  forEachRoute(set, (host, path, isTarget) => {
    commands.push(['SADD', `${host}${path}`, isTarget ? `127.0.0.1:${backendPort}` : `${DEAD_ADDRESS}:${DEAD_PORT}`]);
  });
  commands.push(['DBSIZE']);
  return commands;
}
