// GatewayClass status as a publisher of the loop: the leader writes the
// `Accepted` condition (with observedGeneration) of our GatewayClasses
// (spec.controllerName = --gateway-controller-name), with a merge patch on
// the status subresource, only when the object says something else. Unlike
// Ingress status it does not wait for ATS: it says the class is ours, not
// that routes are live.

import { isOurGatewayClass } from '../config/claim.js';
import type { BuildConfig } from '../config/config.js';
import type { KubeTransport } from '../kube/client.js';
import { errorMessage } from '../kube/errors.js';
import { KIND_INFO } from '../kube/kinds.js';
import type { LeaderElector } from '../kube/leader.js';
import type { GatewayClass } from '../kube/types.js';
import { gatewayClassAccepted, hasSupportedFeatures, mergedConditions, supportedFeatures } from '../model/gateway/class-status.js';
import type { BuildResult } from '../model/model.js';
import type { Logger } from '../observe/logger.js';
import type { Publisher, PublisherContext } from './publisher.js';

export interface GatewayClassSyncResult {
  readonly patched: readonly string[];
  readonly unchanged: number;
  readonly failed: ReadonlyArray<{ readonly name: string; readonly error: string }>;
}

/** Writes the status of our GatewayClasses. */
export class GatewayClassStatusWriter {
  /** name → resourceVersion when patched: until the watch shows a newer object, the patch is in flight. */
  readonly #inFlight = new Map<string, { rv: string | undefined; generation: number | undefined }>();

  constructor(
    private readonly transport: KubeTransport,
    private readonly config: BuildConfig,
    private readonly timeoutMs = 10_000,
  ) {}

  async sync(classes: Iterable<GatewayClass>, nowMs = Date.now()): Promise<GatewayClassSyncResult> {
    const patched: string[] = [];
    const failed: Array<{ name: string; error: string }> = [];
    let unchanged = 0;
    for (const cls of classes) {
      if (!isOurGatewayClass(cls, this.config)) continue;
      const name = cls.metadata.name;
      const flight = this.#inFlight.get(name);
      if (flight && flight.rv === cls.metadata.resourceVersion && flight.generation === cls.metadata.generation) {
        unchanged++;
        continue;
      }
      this.#inFlight.delete(name);
      const merged = mergedConditions(cls.status?.conditions, [gatewayClassAccepted(cls)], cls.metadata.generation, nowMs);
      const features = hasSupportedFeatures(cls.status?.supportedFeatures);
      if (!merged.changed && features) {
        unchanged++;
        continue;
      }
      const conditions = merged.conditions;
      try {
        await this.transport.request({
          method: 'PATCH',
          path: `${KIND_INFO.GatewayClass.prefix}/${KIND_INFO.GatewayClass.plural}/${encodeURIComponent(name)}/status`,
          contentType: 'application/merge-patch+json',
          // A merge patch replaces the list whole: the conditions of other types are in it.
          body: { status: { conditions, supportedFeatures: supportedFeatures() } },
          timeoutMs: this.timeoutMs,
        });
        this.#inFlight.set(name, { rv: cls.metadata.resourceVersion, generation: cls.metadata.generation });
        patched.push(name);
      } catch (err) {
        failed.push({ name, error: errorMessage(err) });
      }
    }
    return { patched, unchanged, failed };
  }
}

/** The leader's GatewayClass status, after each build and when it becomes the leader. */
export class LeaderGatewayClassStatus implements Publisher {
  readonly name = 'gatewayclass-status';
  #running: Promise<void> | undefined;
  #again = false;

  constructor(
    private readonly writer: GatewayClassStatusWriter,
    private readonly leader: LeaderElector,
    private readonly ctx: PublisherContext,
    private readonly logger: Logger,
  ) {
    leader.onChange((leading) => {
      if (leading) this.#kick();
    });
  }

  async publish(_result: BuildResult): Promise<void> {
    // Off the loop (a slow API server must not hold builds up); stop() awaits it.
    this.#kick();
  }

  async stop(): Promise<void> {
    await this.#running;
  }

  #kick(): void {
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#sync()
      .catch((err: unknown) => this.logger.error('writing GatewayClass status failed', { error: err }))
      .finally(() => {
        this.#running = undefined;
        if (this.#again) {
          this.#again = false;
          this.#kick();
        }
      });
  }

  async #sync(): Promise<void> {
    if (!this.leader.isLeader()) return;
    const r = await this.writer.sync(this.ctx.snapshot().gatewayClasses.values());
    for (const f of r.failed) this.logger.warn('GatewayClass status not written', { gatewayClass: f.name, error: f.error });
    if (r.patched.length > 0) this.logger.debug('GatewayClass status written', { patched: r.patched });
  }
}
