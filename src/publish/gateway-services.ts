// A Service per Gateway, in a cluster (--gateway-service-type): the pod has
// one address, so each Gateway is served on a block of local ports of its
// own (src/model/gateway/addresses.ts) and its Service maps the listener
// ports to them. A Service selects pods of its own namespace only, so the
// Services live in the controller's namespace and select the ATS pod; an
// ownerReference cannot cross namespaces, so the Services of Gateways that
// are gone are found by label and deleted. The leader writes them (server-
// side apply: one request creates or updates, and a field another manager
// set, such as a cloud's annotations, is left alone). Every replica watches
// them (this namespace, this label: the wiring runs the watch and feeds
// observed()) for their addresses, which become the
// Gateways' status.addresses: a LoadBalancer's ingress IPs and hostnames,
// else the cluster IP (for NodePort too: the node addresses are not ours
// to read, and the Service says which node ports it has).

import { SerialTask } from './serial-task.js';
import { createHash } from 'node:crypto';
import type { GatewayServiceType } from '../config/gateway.js';
import type { KubeTransport } from '../kube/client.js';
import { KubeApiError, errorMessage } from '../kube/errors.js';
import type { LeaderElector } from '../kube/leader.js';
import type { ObjectKey } from '../kube/types.js';
import type { GatewayAddress } from '../model/gateway/status.js';
import type { BuildResult, GatewayBuild } from '../model/model.js';
import type { Logger } from '../observe/logger.js';
import type { Publisher } from './publisher.js';

// The label and annotation are the model's: its port blocks are read back from them.
import { GATEWAY_ANNOTATION, GATEWAY_SERVICE_LABEL } from '../model/gateway/addresses.js';
export { GATEWAY_ANNOTATION, GATEWAY_SERVICE_LABEL };
const FIELD_MANAGER = 'ats-ingress';

export interface GatewayServiceOptions {
  /** The controller's namespace, where the ATS pod runs. */
  readonly namespace: string;
  readonly type: GatewayServiceType;
  /** The ATS pod's labels. */
  readonly selector: Readonly<Record<string, string>>;
}

/** A Service as this writes and reads it. */
export interface GatewayServiceObject {
  readonly apiVersion: 'v1';
  readonly kind: 'Service';
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
    readonly resourceVersion?: string;
  };
  readonly spec: {
    readonly type: GatewayServiceType;
    readonly selector: Readonly<Record<string, string>>;
    readonly ports: ReadonlyArray<{ readonly name: string; readonly protocol: 'TCP'; readonly port: number; readonly targetPort: number; readonly appProtocol?: string; readonly nodePort?: number }>;
    readonly clusterIP?: string;
    readonly clusterIPs?: readonly string[];
  };
  readonly status?: { readonly loadBalancer?: { readonly ingress?: ReadonlyArray<{ readonly ip?: string; readonly hostname?: string }> } };
}

/**
 * `gw-<namespace>-<name>` ('.' as '-'), cut to leave room for '-' and 8 hex
 * digits of the SHA-256 of `namespace/name`: a DNS-1035 label of at most 63
 * characters, and two Gateways never share one (`a/b-c` and `a-b/c`).
 */
export function gatewayServiceName(key: ObjectKey): string {
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 8);
  const base = `gw-${key.replace('/', '-').replace(/\./g, '-')}`.slice(0, 63 - 9);
  return `${base}-${hash}`;
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/**
 * The Service of one Gateway: each listener port (of `ports`, listener port
 * → local port) to its local port on the ATS pod, named by protocol and
 * port; labels that name the Gateway (when they fit a label value) and ours.
 */
export function gatewayService(key: ObjectKey, ports: ReadonlyMap<number, number>, protocols: ReadonlyMap<number, string>, o: GatewayServiceOptions): GatewayServiceObject {
  const [namespace = '', name = ''] = key.split('/');
  const labels: Record<string, string> = { [GATEWAY_SERVICE_LABEL]: 'true', 'app.kubernetes.io/managed-by': 'ats-ingress' };
  if (name.length <= 63 && LABEL_VALUE.test(name)) labels['gateway.networking.k8s.io/gateway-name'] = name;
  labels['ats.ingress.kubernetes.io/gateway-namespace'] = namespace;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: gatewayServiceName(key), namespace: o.namespace, labels, annotations: { [GATEWAY_ANNOTATION]: key } },
    spec: {
      type: o.type,
      selector: { ...o.selector },
      ports: [...ports].sort(([a], [b]) => a - b).map(([port, targetPort]) => {
        const protocol = (protocols.get(port) ?? 'HTTP').toLowerCase();
        return { name: `${protocol}-${port}`, protocol: 'TCP' as const, port, targetPort, appProtocol: protocol };
      }),
    },
  };
}

/** The Services `build` asks for, by name. */
export function desiredServices(build: GatewayBuild, o: GatewayServiceOptions): Map<string, GatewayServiceObject> {
  const out = new Map<string, GatewayServiceObject>();
  if (!build.byPort) return out;
  for (const gw of build.routes.gateways) {
    const ports = build.ports.get(gw.key);
    if (ports === undefined || ports.size === 0) continue;
    const protocols = new Map<number, string>();
    for (const l of gw.listeners) if (!protocols.has(l.port)) protocols.set(l.port, l.protocol);
    const s = gatewayService(gw.key, ports, protocols, o);
    out.set(s.metadata.name, s);
  }
  return out;
}

/** What a Service gives a Gateway's status.addresses: a LoadBalancer's ingress, else its cluster IPs. */
export function serviceAddresses(s: GatewayServiceObject): GatewayAddress[] {
  if (s.spec.type === 'LoadBalancer') {
    return (s.status?.loadBalancer?.ingress ?? []).flatMap((i): GatewayAddress[] =>
      i.ip ? [{ type: 'IPAddress', value: i.ip }] : i.hostname ? [{ type: 'Hostname', value: i.hostname }] : []);
  }
  const ips = s.spec.clusterIPs?.length ? s.spec.clusterIPs : s.spec.clusterIP ? [s.spec.clusterIP] : [];
  return ips.filter((ip) => ip !== 'None').map((value) => ({ type: 'IPAddress', value }));
}

/** Whether the Service the API holds says what `want` says, in the fields this writes. */
export function serviceMatches(have: GatewayServiceObject | undefined, want: GatewayServiceObject): boolean {
  if (!have) return false;
  const mine = (s: GatewayServiceObject) => JSON.stringify([
    s.spec.type,
    Object.entries(s.spec.selector ?? {}).sort(),
    (s.spec.ports ?? []).map((p) => [p.name, p.protocol ?? 'TCP', p.port, p.targetPort, p.appProtocol ?? null]),
    Object.entries(want.metadata.labels ?? {}).map(([k]) => [k, s.metadata.labels?.[k] ?? null]),
    s.metadata.annotations?.[GATEWAY_ANNOTATION] ?? null,
  ]);
  return mine(have) === mine(want);
}

/** The label selector of the watch that feeds GatewayServices.observed(). */
export const GATEWAY_SERVICE_SELECTOR = `${GATEWAY_SERVICE_LABEL}=true`;

/** What the watch of our Services says (the wiring runs it: src/controller/wiring.ts). */
export type ServiceWatchEvent =
  | { readonly type: 'replace'; readonly objects: readonly { readonly metadata: { readonly name: string } }[] }
  | { readonly type: 'upsert'; readonly object: { readonly metadata: { readonly name: string } } }
  | { readonly type: 'remove'; readonly name: string };

export interface GatewayServicesConfig extends GatewayServiceOptions {
  readonly transport: KubeTransport;
  readonly leader: LeaderElector;
  readonly logger: Logger;
  readonly timeoutMs?: number;
}

/**
 * Keeps the Gateways' Services (the leader writes; every replica watches)
 * and tells its listeners when their addresses change.
 */
export class GatewayServices implements Publisher {
  readonly name = 'gateway-services';
  /** The Services the watch shows, by name. */
  readonly #observed = new Map<string, GatewayServiceObject>();
  #synced = false;
  #desired = new Map<string, GatewayServiceObject>();
  /** Whether a build said what is wanted: until then nothing is deleted. */
  #built = false;
  #addresses = new Map<ObjectKey, readonly GatewayAddress[]>();
  #addressesText = '[]';
  readonly #listeners: Array<() => void> = [];
  readonly #task: SerialTask;

  constructor(private readonly c: GatewayServicesConfig) {
    this.#task = new SerialTask(() => this.#sync(), (err) => c.logger.error('keeping the Gateway Services failed', { error: err }));
    c.leader.onChange((leading) => {
      if (leading) this.#task.kick();
    });
  }

  /** The addresses of each Gateway's Service, by the Gateway's `namespace/name`. */
  addresses(): ReadonlyMap<ObjectKey, readonly GatewayAddress[]> {
    return this.#addresses;
  }

  /** Called when addresses() changes. */
  onAddresses(listener: () => void): void {
    this.#listeners.push(listener);
  }

  async publish(result: BuildResult): Promise<void> {
    this.#desired = desiredServices(result.gateway, this.c);
    this.#built = true;
    this.#recompute();
    this.#task.kick();
  }

  async stop(): Promise<void> {
    await this.#task.stop();
  }

  /** What the watch of our Services (this namespace, our label) saw; the first 'replace' is the first list. */
  observed(events: readonly ServiceWatchEvent[]): void {
    for (const e of events) {
      if (e.type === 'replace') {
        this.#observed.clear();
        for (const o of e.objects) this.#observed.set(o.metadata.name, o as GatewayServiceObject);
        this.#synced = true;
      } else if (e.type === 'upsert') {
        this.#observed.set(e.object.metadata.name, e.object as GatewayServiceObject);
      } else {
        this.#observed.delete(e.name);
      }
    }
    this.#recompute();
    // A Service changed or went away by someone else's hand: put it back.
    if (this.#synced && [...this.#desired].some(([n, want]) => !serviceMatches(this.#observed.get(n), want))) this.#task.kick();
  }

  /** The addresses of the Services we want, as the watch shows them. */
  #recompute(): void {
    const next = new Map<ObjectKey, readonly GatewayAddress[]>();
    for (const [n, want] of this.#desired) {
      const have = this.#observed.get(n);
      const key = want.metadata.annotations?.[GATEWAY_ANNOTATION];
      if (have && key && have.metadata.annotations?.[GATEWAY_ANNOTATION] === key) next.set(key, serviceAddresses(have));
    }
    const text = JSON.stringify([...next]);
    if (text === this.#addressesText) return;
    this.#addresses = next;
    this.#addressesText = text;
    for (const l of this.#listeners) l();
  }

  async #sync(): Promise<void> {
    if (!this.c.leader.isLeader() || !this.#synced || !this.#built) return;
    const failed: string[] = [];
    for (const [n, want] of this.#desired) {
      if (serviceMatches(this.#observed.get(n), want)) continue;
      try {
        const answer = await this.c.transport.request({
          method: 'PATCH',
          path: `/api/v1/namespaces/${encodeURIComponent(this.c.namespace)}/services/${encodeURIComponent(n)}`,
          query: { fieldManager: FIELD_MANAGER, force: true },
          contentType: 'application/apply-patch+yaml',
          body: want,
          timeoutMs: this.c.timeoutMs ?? 10_000,
        });
        // Until the watch brings it: what the API answered.
        if (answer && typeof answer === 'object') this.#observed.set(n, answer as GatewayServiceObject);
        this.c.logger.info('Gateway Service applied', { service: `${this.c.namespace}/${n}`, gateway: want.metadata.annotations?.[GATEWAY_ANNOTATION], ports: want.spec.ports.map((p) => `${p.port}->${p.targetPort}`) });
      } catch (err) {
        failed.push(n);
        this.c.logger.warn('Gateway Service not applied (tried again)', { service: `${this.c.namespace}/${n}`, error: errorMessage(err) });
      }
    }
    for (const [n, have] of [...this.#observed]) {
      if (this.#desired.has(n) || have.metadata.labels?.[GATEWAY_SERVICE_LABEL] !== 'true') continue;
      try {
        await this.c.transport.request({ method: 'DELETE', path: `/api/v1/namespaces/${encodeURIComponent(this.c.namespace)}/services/${encodeURIComponent(n)}`, timeoutMs: this.c.timeoutMs ?? 10_000 });
        this.#observed.delete(n);
        this.c.logger.info('Gateway Service deleted: its Gateway is gone or not served', { service: `${this.c.namespace}/${n}`, gateway: have.metadata.annotations?.[GATEWAY_ANNOTATION] });
      } catch (err) {
        if (err instanceof KubeApiError && err.status === 404) {
          this.#observed.delete(n);
          continue;
        }
        failed.push(n);
        this.c.logger.warn('Gateway Service not deleted (tried again)', { service: `${this.c.namespace}/${n}`, error: errorMessage(err) });
      }
    }
    this.#recompute();
    if (failed.length > 0) this.#task.retryIn(2_000);
  }
}
