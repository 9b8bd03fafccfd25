// build(): the whole model from the whole cache, by small processors run in
// order over one build state. Pure: the same snapshot, config and time give a
// deep-equal result, whatever order the objects were added in.

import type { Snapshot } from '../cache/snapshot.js';
import { readAnnotations } from './annotations.js';
import { selectIngresses } from './classes.js';
import type { BuildConfig } from '../config/config.js';
import { buildConfig } from '../config/config.js';
import { resolveConflicts } from './conflicts.js';
import { collectDefaultBackends } from './default-backends.js';
import type { BuildResult, Problem } from './model.js';
import { collectRules } from './rules.js';
import { resolveServices } from './services.js';
import type { BuildContext, Processor } from './state.js';
import { newState } from './state.js';
import { assembleTable } from './table.js';
import { CertificateCache } from './certificates.js';
import { collectTls } from './tls.js';
import { collectRecords } from './records.js';

/** The processors, in the order they run; each one reads what the earlier ones left. */
const PROCESSORS: readonly Processor[] = [
  selectIngresses, // which Ingresses are ours, oldest first
  readAnnotations, // typed options per Ingress
  collectRules, // hosts and paths, validated
  collectDefaultBackends, // spec.defaultBackend per host, and --default-backend
  resolveServices, // Service ports and ready endpoints for every backend named
  resolveConflicts, // one route per (host, path, type), one default per host
  collectTls, // certificates by Secret, hosts that have https
  assembleTable, // options per host, backends deduplicated, everything sorted
  collectRecords, // the records ConfigMap's records
];

/**
 * `context` gives the time certificates are checked against and the memo of
 * parsed Secrets (the loop keeps one across builds); by default now and a
 * fresh memo.
 */
export function build(snapshot: Snapshot, config: BuildConfig = buildConfig(), context: BuildContext = buildContext()): BuildResult {
  const state = newState(snapshot, config, context);
  for (const processor of PROCESSORS) processor(state);
  return {
    model: { table: state.table, tls: state.tls, ...(state.records ? { records: state.records } : {}) },
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

/** A context for one build at this moment, with a memo of its own (the loop keeps one across builds instead). */
export function buildContext(now = Date.now(), certificates = new CertificateCache()): BuildContext {
  return { now, certificates };
}
