// Helpers for the tests of the Kubernetes source and publishers (not used by
// the controller): the RBAC the controller needs, a recording sink, polling,
// and a TCP proxy in front of the API server that can freeze or cut its
// connections (a watch that goes silent without closing, a connection reset).

import * as net from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Kind, KubeObject } from '../kube/types.js';
import type { SourceEvent } from '../sources/source.js';

/** One RBAC rule, as in a ClusterRole. */
export interface PolicyRule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
}

/**
 * What the source tests grant, cluster-wide (or per watched namespace, in
 * Roles): the shipped ClusterRole's read rules, plus ConfigMaps, the kind
 * those tests use to exercise the watch machinery (the shipped controller
 * does not list them).
 */
export const SOURCE_RULES: readonly PolicyRule[] = [
  { apiGroups: ['networking.k8s.io'], resources: ['ingresses', 'ingressclasses'], verbs: ['list', 'watch'] },
  { apiGroups: [''], resources: ['services', 'secrets', 'configmaps', 'namespaces'], verbs: ['list', 'watch'] },
  { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
  { apiGroups: ['gateway.networking.k8s.io'], resources: ['gatewayclasses', 'gateways', 'httproutes', 'referencegrants'], verbs: ['list', 'watch'] },
];

/** What KubeStatusWriter and KubeEventRecorder need. */
export const PUBLISH_RULES: readonly PolicyRule[] = [
  { apiGroups: ['networking.k8s.io'], resources: ['ingresses/status'], verbs: ['patch'] },
  { apiGroups: ['gateway.networking.k8s.io'], resources: ['gatewayclasses/status', 'gateways/status', 'httproutes/status'], verbs: ['patch'] },
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
];

/** What LeaderElector needs, in the Lease's namespace (a Role). */
export const LEADER_RULES: readonly PolicyRule[] = [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] }];

/** The ClusterRole + ClusterRoleBinding (and Role + RoleBinding for the Lease) as one kubectl-appliable List. */
export function rbacManifest(opts: {
  name: string;
  user: string;
  clusterRules: readonly PolicyRule[];
  leaseNamespace?: string;
  leaseRules?: readonly PolicyRule[];
}): string {
  const items: unknown[] = [
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: opts.name }, rules: opts.clusterRules },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: opts.name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: opts.name },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: opts.user }],
    },
  ];
  if (opts.leaseNamespace && opts.leaseRules) {
    items.push(
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: opts.name, namespace: opts.leaseNamespace }, rules: opts.leaseRules },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: opts.name, namespace: opts.leaseNamespace },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: opts.name },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: opts.user }],
      },
    );
  }
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
}

export const sleepMs = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls until fn returns a value other than undefined/false; rejects after timeoutMs with what. */
export async function waitFor<T>(what: string, fn: () => T | undefined | false, timeoutMs = 10_000, stepMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleepMs(stepMs);
  }
}

export interface Recorded {
  readonly at: number;
  readonly event: SourceEvent;
}

/** A sink that records every event with the time it arrived. */
export class RecordingSink {
  readonly events: Recorded[] = [];
  readonly batches: number[] = [];
  readonly sink = (events: readonly SourceEvent[]): void => {
    const at = Date.now();
    this.batches.push(events.length);
    for (const event of events) this.events.push({ at, event });
  };

  /** Events after index `from` that match. */
  find(pred: (e: SourceEvent) => boolean, from = 0): Recorded | undefined {
    for (let i = from; i < this.events.length; i++) if (pred(this.events[i]!.event)) return this.events[i];
    return undefined;
  }

  replaces(kind: Kind): Array<readonly KubeObject[]> {
    return this.events.flatMap(({ event: e }) => (e.type === 'replace' && e.kind === kind ? [e.objects] : []));
  }

  async waitFor(what: string, pred: (e: SourceEvent) => boolean, from = 0, timeoutMs = 10_000): Promise<Recorded> {
    return waitFor(what, () => this.find(pred, from), timeoutMs);
  }
}

export const isUpsertOf = (kind: Kind, ns: string | undefined, name: string, pred: (o: KubeObject) => boolean = () => true) => (e: SourceEvent) =>
  e.type === 'upsert' && e.object.kind === kind && e.object.metadata.name === name && (ns === undefined || e.object.metadata.namespace === ns) && pred(e.object);

export const isRemoveOf = (kind: Kind, key: string) => (e: SourceEvent) => e.type === 'remove' && e.kind === kind && e.key === key;

/** A TCP proxy to host:port whose current connections can be frozen (silent, not closed) or cut. */
export class TcpProxy {
  readonly #server: net.Server;
  readonly #pairs = new Set<{ a: net.Socket; b: net.Socket; frozen: boolean }>();
  port = 0;

  private constructor(
    private readonly host: string,
    private readonly targetPort: number,
  ) {
    this.#server = net.createServer((a) => {
      const b = net.connect(this.targetPort, this.host);
      const pair = { a, b, frozen: false };
      this.#pairs.add(pair);
      const forward = (from: net.Socket, to: net.Socket) => {
        from.on('data', (d: Buffer) => {
          if (!pair.frozen) to.write(d);
        });
        from.on('end', () => {
          if (!pair.frozen) to.end();
        });
        from.on('close', () => {
          if (!pair.frozen) to.destroy();
          this.#pairs.delete(pair);
        });
        from.on('error', () => undefined);
      };
      forward(a, b);
      forward(b, a);
    });
  }

  static async start(host: string, targetPort: number): Promise<TcpProxy> {
    const p = new TcpProxy(host, targetPort);
    await new Promise<void>((res, rej) => {
      p.#server.once('error', rej);
      p.#server.listen(0, '127.0.0.1', () => res());
    });
    p.port = (p.#server.address() as net.AddressInfo).port;
    return p;
  }

  /** The connections open now: nothing more passes either way, and neither end is told. New connections work. */
  freeze(): number {
    let n = 0;
    for (const pair of this.#pairs) {
      if (!pair.frozen) n++;
      pair.frozen = true;
    }
    return n;
  }

  /** Resets every connection open now (both ends see an error or close). */
  cut(): number {
    const n = this.#pairs.size;
    for (const pair of this.#pairs) {
      pair.a.resetAndDestroy();
      pair.b.destroy();
    }
    return n;
  }

  get connections(): number {
    return this.#pairs.size;
  }

  async close(): Promise<void> {
    for (const pair of this.#pairs) {
      pair.a.destroy();
      pair.b.destroy();
    }
    this.#pairs.clear();
    await new Promise<void>((res) => this.#server.close(() => res()));
  }
}

/** Writes a kubeconfig for a bearer token against a server URL (e.g. through a TcpProxy). */
export function writeKubeconfig(dir: string, fileName: string, server: string, caFile: string, token: string): string {
  const path = join(dir, fileName);
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'test', cluster: { server, 'certificate-authority': caFile } }],
    users: [{ name: 'u', user: { token } }],
    contexts: [{ name: 'c', context: { cluster: 'test', user: 'u' } }],
    'current-context': 'c',
  };
  writeFileSync(path, JSON.stringify(config), { mode: 0o600 });
  return path;
}
