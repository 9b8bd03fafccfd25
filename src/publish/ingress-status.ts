// Ingress status: `status.loadBalancer.ingress` of the Ingresses we serve is
// the list of publish addresses (`--publish-address`: IPs or hostnames). The
// leader writes it with a merge patch on the status subresource, only when
// the object says something else, and clears it on Ingresses it no longer
// serves that still carry exactly our addresses (so an Ingress another
// controller took over keeps that controller's status).

import { isIP } from 'node:net';
import type { Ingress, IngressLoadBalancerIngress } from '../kube/types.js';
import { namespaceOf } from '../kube/types.js';
import type { KubeTransport } from '../kube/client.js';
import { KubeApiError, errorMessage } from '../kube/errors.js';
import type { Logger } from '../observe/logger.js';
import { silentLogger } from '../observe/logger.js';
import { isDnsSubdomain } from '../validate/names.js';

export interface KubeStatusOptions {
  readonly transport: KubeTransport;
  /** The addresses to publish, in order (parsePublishAddresses). */
  readonly addresses: readonly LoadBalancerAddress[];
  /** Patches in flight at once. Default 4. */
  readonly concurrency?: number;
  /** Per patch. Default 10 s. */
  readonly timeoutMs?: number;
  readonly logger?: Logger;
}

export interface StatusSyncResult {
  /** `namespace/name` of the Ingresses whose status was set. */
  readonly patched: readonly string[];
  /** `namespace/name` of the Ingresses whose status was cleared. */
  readonly cleared: readonly string[];
  /** Already right (or already patched and waiting for the watch to show it). */
  readonly unchanged: number;
  readonly failed: ReadonlyArray<{ readonly key: string; readonly error: string }>;
}

/** One entry of `status.loadBalancer.ingress`. */
export type LoadBalancerAddress = IngressLoadBalancerIngress;

/** Parses `--publish-address` values: an IPv4/IPv6 address becomes `ip`, a DNS name `hostname`; throws a TypeError naming a bad one. */
export function parsePublishAddresses(values: readonly string[]): LoadBalancerAddress[] {
  const out: LoadBalancerAddress[] = [];
  const seen = new Set<string>();
  for (const raw of values) {
    const v = raw.trim();
    if (!v) continue;
    if (seen.has(v)) continue;
    seen.add(v);
    if (isIP(v)) out.push({ ip: v });
    else if (isDnsSubdomain(v.toLowerCase())) out.push({ hostname: v.toLowerCase() });
    else throw new TypeError(`--publish-address ${JSON.stringify(raw)} is neither an IP address nor a DNS name`);
  }
  return out;
}

function canon(list: readonly IngressLoadBalancerIngress[] | undefined): string {
  return JSON.stringify((list ?? []).map((e) => [e.ip ?? '', e.hostname ?? '']).sort());
}

function keyOf(ing: Ingress): string {
  return `${namespaceOf(ing)}/${ing.metadata.name}`;
}

/** Writes Ingress status; one instance per controller (leader). */
export class KubeStatusWriter {
  readonly #t: KubeTransport;
  readonly #addresses: readonly IngressLoadBalancerIngress[];
  readonly #want: string;
  readonly #concurrency: number;
  readonly #timeoutMs: number;
  readonly #log: Logger;
  /** key → resourceVersion the object had when we patched it: until it changes, the patch is in flight through the watch. */
  #inFlight = new Map<string, { rv: string | undefined; want: string }>();

  constructor(options: KubeStatusOptions) {
    this.#t = options.transport;
    this.#addresses = options.addresses;
    this.#want = canon(this.#addresses);
    this.#concurrency = Math.max(1, Math.floor(options.concurrency ?? 4));
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#log = options.logger ?? silentLogger;
  }

  /**
   * Makes the status of `ingresses` (every Ingress the cache holds) right:
   * ours on those whose `namespace/name` is in `served`, cleared on the others
   * that carry exactly our addresses. Never throws for an API failure.
   */
  async sync(served: Iterable<string>, ingresses: Iterable<Ingress>): Promise<StatusSyncResult> {
    const servedSet = new Set(served);
    const jobs: Array<{ ing: Ingress; key: string; set: boolean }> = [];
    let unchanged = 0;
    const seen = new Set<string>();
    for (const ing of ingresses) {
      const key = keyOf(ing);
      seen.add(key);
      const have = canon(ing.status?.loadBalancer?.ingress);
      const serve = servedSet.has(key);
      const want = serve ? this.#want : canon([]);
      const pending = this.#inFlight.get(key);
      if (pending && pending.rv === ing.metadata.resourceVersion && pending.want === want) {
        unchanged++;
        continue;
      }
      this.#inFlight.delete(key);
      if (have === want) {
        unchanged++;
        continue;
      }
      // Not served: clear only what is exactly ours.
      if (!serve && have !== this.#want) {
        unchanged++;
        continue;
      }
      if (serve && this.#addresses.length === 0) {
        unchanged++;
        continue;
      }
      jobs.push({ ing, key, set: serve });
    }
    for (const key of this.#inFlight.keys()) if (!seen.has(key)) this.#inFlight.delete(key);

    const patched: string[] = [];
    const cleared: string[] = [];
    const failed: Array<{ key: string; error: string }> = [];
    let next = 0;
    const worker = async () => {
      while (next < jobs.length) {
        const job = jobs[next++]!;
        try {
          await this.#patch(job.ing, job.set);
          this.#inFlight.set(job.key, { rv: job.ing.metadata.resourceVersion, want: job.set ? this.#want : canon([]) });
          (job.set ? patched : cleared).push(job.key);
        } catch (err) {
          if (err instanceof KubeApiError && err.status === 404) continue; // deleted meanwhile
          failed.push({ key: job.key, error: errorMessage(err) });
          this.#log.warn('kubernetes status: cannot write Ingress status (tried again next sync)', { ingress: job.key, error: errorMessage(err) });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#concurrency, jobs.length) }, worker));
    patched.sort();
    cleared.sort();
    if (patched.length || cleared.length) this.#log.info('kubernetes status: Ingress status written', { patched: patched.length, cleared: cleared.length });
    return { patched, cleared, unchanged, failed };
  }

  async #patch(ing: Ingress, set: boolean): Promise<void> {
    const ns = namespaceOf(ing);
    await this.#t.request({
      method: 'PATCH',
      path: `/apis/networking.k8s.io/v1/namespaces/${encodeURIComponent(ns)}/ingresses/${encodeURIComponent(ing.metadata.name)}/status`,
      contentType: 'application/merge-patch+json',
      // A merge patch replaces a list whole; null removes the field.
      body: { status: { loadBalancer: { ingress: set ? this.#addresses : null } } },
      timeoutMs: this.#timeoutMs,
    });
  }
}
