// Gateway and HTTPRoute status as a publisher of the loop. The leader
// writes, after each build, what src/model/gateway/status.ts computes, with
// a merge patch on the status subresource of each object whose status says
// something else, guarded by its resourceVersion (status.parents is shared
// with other controllers: a patch over a newer object would drop what they
// wrote). Gateway Programmed=True waits, as Ingress status does, until ATS
// serves a table that holds that generation of the Gateway on its address;
// the other conditions are written at once, Programmed=False/Pending meanwhile.

import { SerialTask } from './serial-task.js';
import type { Snapshot } from '../cache/snapshot.js';
import type { BuildConfig } from '../config/config.js';
import type { KubeTransport } from '../kube/client.js';
import { KubeApiError, errorMessage } from '../kube/errors.js';
import { KIND_INFO } from '../kube/kinds.js';
import type { LeaderElector } from '../kube/leader.js';
import type { Gateway, HTTPRoute, ObjectKey } from '../kube/types.js';
import { CertificateCache } from '../model/certificates.js';
import { gatewayApiStatuses, type GatewayAddress, type StatusUpdate } from '../model/gateway/status.js';
import type { BuildResult, GatewayBuild } from '../model/model.js';
import type { Logger } from '../observe/logger.js';
import type { Publisher, PublisherContext } from './publisher.js';

export interface GatewaySyncResult {
  /** `Kind namespace/name` of each object whose status was written. */
  readonly patched: readonly string[];
  readonly unchanged: number;
  /** Patches refused because the object changed meanwhile: written again once the watch shows the new one. */
  readonly conflicts: number;
  readonly failed: ReadonlyArray<{ readonly object: string; readonly error: string }>;
}

/** Where a Gateway is served, for "a live table holds it": its generation and address. */
function servedAs(build: GatewayBuild, key: ObjectKey, generation: number | undefined): string {
  return `${generation ?? ''}@${build.addresses.get(key) ?? ''}`;
}

/** Writes the status of our Gateways and of the HTTPRoutes that name them. */
export class GatewayStatusWriter {
  /**
   * What each patch returned, by `Kind namespace/name`, with the
   * resourceVersion the cache had then: until the watch brings a newer
   * object, status is merged into the returned one (so that a second sync
   * neither writes the same again nor fails on a stale resourceVersion).
   */
  readonly #written = new Map<string, { cachedRv: string | undefined; object: Gateway | HTTPRoute }>();
  /** The Gateways a table ATS serves holds, as servedAs() says. */
  #served = new Map<ObjectKey, string>();
  /** In a cluster: the addresses of the Gateways' Services (gateway-services.ts). */
  #serviceAddresses: (() => ReadonlyMap<ObjectKey, readonly GatewayAddress[]>) | undefined;

  constructor(
    private readonly transport: KubeTransport,
    private readonly config: BuildConfig,
    private readonly certificates = new CertificateCache(),
    private readonly concurrency = 4,
    private readonly timeoutMs = 10_000,
  ) {}

  /** Where status.addresses come from in a cluster. */
  useServiceAddresses(source: () => ReadonlyMap<ObjectKey, readonly GatewayAddress[]>): void {
    this.#serviceAddresses = source;
  }

  /** ATS serves a table built with `build` (or a newer one). */
  markServed(build: GatewayBuild): void {
    this.#served = new Map(build.routes.gateways.filter((g) => build.addresses.has(g.key)).map((g) => [g.key, servedAs(build, g.key, g.generation)]));
  }

  /** Whether every Gateway of `build` that has an address is served as built. */
  isServed(build: GatewayBuild): boolean {
    return build.routes.gateways.every((g) => !build.addresses.has(g.key) || this.#served.get(g.key) === servedAs(build, g.key, g.generation));
  }

  /** The statuses `build` gives, merged into the objects of `snapshot` (or into what this writer last wrote, while the watch has not caught up). */
  updates(build: GatewayBuild, snapshot: Snapshot, nowMs = Date.now()): StatusUpdate[] {
    const seen = new Set<string>();
    const updates = gatewayApiStatuses(build, snapshot, {
      config: this.config,
      certificates: this.certificates,
      nowMs,
      ...(this.#serviceAddresses ? { serviceAddresses: this.#serviceAddresses() } : {}),
      programmed: (key, generation) => this.#served.get(key) === servedAs(build, key, generation),
      current: (kind, key, cached) => {
        const id = `${kind} ${key}`;
        seen.add(id);
        const w = this.#written.get(id);
        if (w && w.cachedRv === cached.metadata.resourceVersion) return w.object as typeof cached;
        this.#written.delete(id);
        return cached;
      },
    });
    for (const id of this.#written.keys()) if (!seen.has(id)) this.#written.delete(id);
    return updates;
  }

  /** Writes every status that differs from what its object says. Never throws for an API failure. */
  async sync(build: GatewayBuild, snapshot: Snapshot, nowMs = Date.now()): Promise<GatewaySyncResult> {
    const updates = this.updates(build, snapshot, nowMs);
    const jobs = updates.filter((u) => u.changed);
    const patched: string[] = [];
    const failed: Array<{ object: string; error: string }> = [];
    let conflicts = 0;
    let next = 0;
    const worker = async () => {
      while (next < jobs.length) {
        const u = jobs[next++]!;
        const id = `${u.kind} ${u.key}`;
        const cached = u.kind === 'Gateway' ? snapshot.gateways.get(u.key) : snapshot.httpRoutes.get(u.key);
        try {
          const object = await this.#patch(u);
          this.#written.set(id, { cachedRv: cached?.metadata.resourceVersion, object });
          patched.push(id);
        } catch (err) {
          if (err instanceof KubeApiError && err.status === 404) continue; // deleted meanwhile
          if (err instanceof KubeApiError && err.status === 409) {
            conflicts++;
            this.#written.delete(id);
            continue;
          }
          failed.push({ object: id, error: errorMessage(err) });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, jobs.length) }, worker));
    patched.sort();
    return { patched, unchanged: updates.length - jobs.length, conflicts, failed };
  }

  async #patch(u: StatusUpdate): Promise<Gateway | HTTPRoute> {
    const info = KIND_INFO[u.kind];
    const [namespace = '', name = ''] = u.key.split('/');
    const status = u.kind === 'Gateway'
      // An empty list is left out rather than written: the CRD's schema has addresses as optional.
      ? { conditions: u.status.conditions, addresses: u.status.addresses.length > 0 ? u.status.addresses : null, listeners: u.status.listeners }
      : { parents: u.status.parents };
    const answer = await this.transport.request({
      method: 'PATCH',
      path: `${info.prefix}/namespaces/${encodeURIComponent(namespace)}/${info.plural}/${encodeURIComponent(name)}/status`,
      contentType: 'application/merge-patch+json',
      // A merge patch replaces each list whole; the resourceVersion makes it fail (409) over a newer object.
      body: { metadata: { resourceVersion: u.object.metadata.resourceVersion }, status },
      timeoutMs: this.timeoutMs,
    });
    return answer as Gateway | HTTPRoute;
  }
}

/**
 * The leader's Gateway and HTTPRoute status, after each build and on
 * becoming the leader: written at once, then again once ATS serves the
 * table (Programmed). Off the loop: a newer build supersedes one still
 * waiting for ATS.
 */
export class LeaderGatewayStatus implements Publisher {
  readonly name = 'gateway-status';
  #last: BuildResult | undefined;
  readonly #task: SerialTask;

  constructor(
    private readonly writer: GatewayStatusWriter,
    private readonly leader: LeaderElector,
    private readonly ctx: PublisherContext,
    private readonly logger: Logger,
    private readonly liveTimeoutMs = 30_000,
    private readonly conflictRetryMs = 500,
  ) {
    this.#task = new SerialTask(() => this.#sync(), (err) => logger.error('writing Gateway API status failed', { error: err }));
    leader.onChange((leading) => {
      if (leading) this.#task.kick();
    });
  }

  async publish(result: BuildResult): Promise<void> {
    this.#last = result;
    this.#task.kick();
  }

  async stop(): Promise<void> {
    await this.#task.stop();
  }

  /** Writes again what the last build gives (a Gateway's Service got an address). */
  refresh(): void {
    this.#task.kick();
  }

  #report(r: GatewaySyncResult): void {
    for (const f of r.failed) this.logger.warn('Gateway API status not written (tried again after the next build)', { object: f.object, error: f.error });
    if (r.patched.length > 0) this.logger.debug('Gateway API status written', { patched: r.patched });
    // A status change does not start a build: without this, a conflict would wait for an unrelated one.
    if (r.conflicts > 0) this.#task.retryIn(this.conflictRetryMs);
  }

  async #sync(): Promise<void> {
    const result = this.#last;
    if (!result || !this.leader.isLeader()) return;
    const gw = result.gateway;
    this.#report(await this.writer.sync(gw, this.ctx.snapshot()));
    if (this.writer.isServed(gw)) return;
    const deadline = Date.now() + this.liveTimeoutMs;
    let warned = false;
    while (!(await this.ctx.isLive().catch(() => false))) {
      if (this.#task.stopped || this.#last !== result || !this.leader.isLeader()) return; // superseded
      if (!warned && Date.now() > deadline) {
        warned = true;
        this.logger.warn('ATS does not serve the latest table yet; Gateway Programmed is written once it does', { waitedMs: this.liveTimeoutMs });
      }
      await new Promise((r) => setTimeout(r, warned ? 1_000 : 100));
    }
    if (this.#last !== result) return;
    this.writer.markServed(gw);
    this.#report(await this.writer.sync(gw, this.ctx.snapshot()));
  }
}
