// Events and Ingress status as publishers of the loop. Only the leader
// writes, and status is written only once ATS serves the routes.
import type { BuildResult } from '../model/model.js';
import type { Ingress } from '../kube/types.js';
import type { Publisher } from './publisher.js';
import type { PublisherContext } from './publisher.js';
import type { Logger } from '../observe/logger.js';
import type { KubeEventRecorder } from './events.js';
import type { LeaderElector } from '../kube/leader.js';
import type { KubeStatusWriter } from './ingress-status.js';

export class LeaderEvents implements Publisher {
  readonly name = 'kube-events';
  constructor(
    private readonly recorder: KubeEventRecorder,
    private readonly leader: LeaderElector,
    ctx: PublisherContext,
    private readonly logger: Logger,
  ) {
    // Problems other publishers find (the records ATS refused) become Events too.
    ctx.onProblems((origin, problems) => {
      if (!this.leader.isLeader()) return;
      this.recorder.report(origin, problems).catch((err: unknown) => this.logger.error('posting Events failed', { origin, error: err }));
    });
  }
  async publish(result: BuildResult): Promise<void> {
    if (this.leader.isLeader()) await this.recorder.publish(result);
  }
}

/**
 * Writes status.loadBalancer of the served Ingresses once ATS serves the
 * table that routes them. Waiting for ATS happens off the loop: the latest
 * result replaces any older one still waiting.
 */
export class LiveStatus implements Publisher {
  readonly name = 'kube-status';
  #pending: BuildResult | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(
    private readonly writer: KubeStatusWriter,
    private readonly leader: LeaderElector,
    private readonly ctx: PublisherContext,
    private readonly logger: Logger,
    private readonly liveTimeoutMs = 30_000,
  ) {
    leader.onChange((leading) => {
      // A new leader writes the status of what is served now.
      if (leading && this.#last) this.#kick(this.#last);
    });
  }

  #last: BuildResult | undefined;

  async publish(result: BuildResult): Promise<void> {
    this.#last = result;
    this.#kick(result);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#running;
  }

  #kick(result: BuildResult): void {
    this.#pending = result;
    if (this.#running) return;
    this.#running = this.#drain()
      .catch((err: unknown) => this.logger.error('writing Ingress status failed', { error: err }))
      .finally(() => {
        this.#running = undefined;
        if (this.#pending && !this.#stopped) this.#kick(this.#pending);
      });
  }

  async #drain(): Promise<void> {
    const result = this.#pending;
    this.#pending = undefined;
    if (!result || !this.leader.isLeader()) return;
    const deadline = Date.now() + this.liveTimeoutMs;
    let warned = false;
    // Wait as long as it takes (giving up would leave the status unwritten
    // until some unrelated change): after liveTimeoutMs, warn once and ask
    // ATS less often.
    while (!(await this.ctx.isLive().catch(() => false))) {
      if (this.#stopped || this.#pending || !this.leader.isLeader()) return; // superseded
      if (!warned && Date.now() > deadline) {
        warned = true;
        this.logger.warn('ATS does not serve the latest table yet; Ingress status is written once it does', { waitedMs: this.liveTimeoutMs });
      }
      await new Promise((r) => setTimeout(r, warned ? 1_000 : 100));
    }
    const ingresses: Ingress[] = [...this.ctx.snapshot().ingresses.values()];
    const r = await this.writer.sync(result.served, ingresses);
    this.logger.debug('Ingress status synced', { ...r });
  }
}
