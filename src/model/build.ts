// build(): the whole model from the whole cache, by small processors run in
// order over one build state. Pure: the same snapshot, config and time give a
// deep-equal result, whatever order the objects were added in.

import type { Snapshot } from '../cache/snapshot.js';
import { selectIngresses } from './classes.js';
import type { BuildConfig } from '../config/config.js';
import { buildConfig } from '../config/config.js';
import { resolveConflicts } from './conflicts.js';
import { collectDefaultBackends } from './default-backends.js';
import type { BuildResult, Problem } from './model.js';
import { readIngresses } from './ingresses.js';
import { resolveServices } from './services.js';
import type { BuildContext, BuildState, Processor } from './state.js';
import { newState } from './state.js';
import { BuildMemo } from './memo.js';
import { assembleTable } from './table.js';
import { CertificateCache } from './certificates.js';
import { collectTls } from './tls.js';
import { collectRecords } from './records.js';
import { assembleGatewayTable, collectGateways, gatewayBuild } from './gateway/gateway-table.js';
import { collectGatewayTls } from './gateway/gateway-tls.js';

/**
 * The processors, in the order they run; each one reads what the earlier ones
 * left. The routing ones read only Ingresses, IngressClasses, Secrets, the
 * flags and the time; a build with a memo takes their result over from the
 * last build when those are the same (memo.ts).
 */
const ROUTING: readonly Processor[] = [
  selectIngresses, // which Ingresses are ours, oldest first
  readIngresses, // per Ingress: typed options, hosts and paths, its default backend, validated
  collectDefaultBackends, // spec.defaultBackend per host, and --default-backend
  resolveConflicts, // one route per (host, path, type), one default per host
  collectTls, // certificates by Secret, hosts that have https
];
const BACKENDS: readonly Processor[] = [
  collectGateways, // the Gateway API: our Gateways, their addresses, the pools of their listeners
  collectGatewayTls, // the certificates of their HTTPS listeners, by address, port and hostname
  resolveServices, // Service ports and ready endpoints for every backend named
  assembleTable, // options per host, backends deduplicated, everything sorted
  assembleGatewayTable, // the served listeners' pools, their backends after the Ingresses'
  collectRecords, // the records ConfigMap's records
];

/** Takes the routing over from the memo when it was made from the same inputs. */
function reuseRouting(state: BuildState, memo: BuildMemo): boolean {
  const m = memo.routing;
  const { snapshot, context } = state;
  if (!m || m.ingresses !== snapshot.ingresses || m.ingressClasses !== snapshot.ingressClasses || m.secrets !== snapshot.secrets ||
    m.config !== state.config || m.certificates !== context.certificates || context.now < m.now || context.now >= m.validUntil) {
    return false;
  }
  state.ingresses = m.claimed;
  state.routes = m.routes;
  state.defaults = m.defaults;
  state.hosts = m.hosts;
  state.controllerDefault = m.controllerDefault;
  state.tls = m.tls;
  state.httpsHosts = m.httpsHosts;
  state.clientVerifiedHosts = m.clientVerifiedHosts;
  state.validUntil = m.validUntil;
  state.problems.push(...m.problems);
  // Its references are resolved by resolveServices: afresh, or only those whose Services changed.
  state.routing = m;
  state.routingReused = true;
  memo.reused.routing++;
  return true;
}

function keepRouting(state: BuildState, memo: BuildMemo): void {
  const { snapshot, context } = state;
  memo.routing = state.routing = {
    ingresses: snapshot.ingresses,
    ingressClasses: snapshot.ingressClasses,
    secrets: snapshot.secrets,
    config: state.config,
    certificates: context.certificates,
    now: context.now,
    validUntil: state.validUntil,
    claimed: state.ingresses,
    routes: state.routes,
    defaults: state.defaults,
    hosts: state.hosts,
    controllerDefault: state.controllerDefault,
    tls: state.tls,
    httpsHosts: state.httpsHosts,
    clientVerifiedHosts: state.clientVerifiedHosts,
    problems: [...state.problems],
  };
}

/**
 * `context` gives the time certificates are checked against, the memo of
 * parsed Secrets and the memo of earlier builds (the loop keeps them across
 * builds); by default now and fresh memos.
 */
export function build(snapshot: Snapshot, config: BuildConfig = buildConfig(), context: BuildContext = buildContext()): BuildResult {
  const state = newState(snapshot, config, context);
  const memo = context.memo;
  try {
    if (!memo || !reuseRouting(state, memo)) {
      for (const processor of ROUTING) processor(state);
      if (memo) keepRouting(state, memo);
    }
    for (const processor of BACKENDS) processor(state);
  } catch (err) {
    // A build cut short leaves the memo part this build's and part the
    // last one's, which the next build would take for the last build's.
    memo?.forget();
    throw err;
  }
  return {
    model: { table: state.table, tls: state.tls, ...(state.records ? { records: state.records } : {}) },
    gateway: gatewayBuild(state),
    problems: sortProblems(state.problems),
    served: state.served,
  };
}

function problemKey(p: Problem): string {
  return [p.kind, p.namespace, p.name, p.field, p.severity, p.message].join('\u0000');
}

/** Sorted by object, then field; the same problem once. */
function sortProblems(problems: readonly Problem[]): Problem[] {
  const byKey = new Map<string, Problem>();
  for (const p of problems) byKey.set(problemKey(p), p);
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, p]) => p);
}

/** A context for one build at this moment, with memos of its own (the loop keeps them across builds instead). */
export function buildContext(now = Date.now(), certificates = new CertificateCache(), memo = new BuildMemo()): BuildContext {
  return { now, certificates, memo };
}
