// The two ways to run the controller: on a directory of manifests, or on the
// Kubernetes API with its publishers (Events, Ingress status) and leader
// election. Each gives the parts of a ControllerConfig that depend on it.
import { hostname } from 'node:os';
import { getObject } from '../cache/snapshot.js';
import { KubeClient } from '../kube/client.js';
import { isClusterScoped } from '../kube/kinds.js';
import { LeaderElector } from '../kube/leader.js';
import type { Logger } from '../observe/logger.js';
import { KubeEventRecorder } from '../publish/events.js';
import { KubeStatusWriter, type LoadBalancerAddress } from '../publish/ingress-status.js';
import { GatewayClassStatusWriter, LeaderGatewayClassStatus } from '../publish/gateway-class-status.js';
import { GatewayStatusWriter, LeaderGatewayStatus } from '../publish/gateway-status.js';
import { GATEWAY_SERVICE_SELECTOR, GatewayServices } from '../publish/gateway-services.js';
import { KindStore } from '../sources/kind-store.js';
import type { SourceEvent } from '../sources/source.js';
import { WatchLoop } from '../sources/watch-loop.js';
import type { GatewayServiceType } from '../config/gateway.js';
import { LeaderEvents, LiveStatus } from '../publish/leader-only.js';
import type { Publisher, PublisherContext } from '../publish/publisher.js';
import { KubernetesSource, ROUTING_KINDS } from '../sources/kubernetes.js';
import { buildConfig, type BuildConfig, type ObjectRef } from '../config/config.js';
import { ManifestSource } from '../sources/manifests.js';
import type { ControllerConfig } from './controller.js';

const LEASE_NAME = 'ats-ingress-leader';

export type Wiring = Pick<ControllerConfig, 'source' | 'extraPublishers' | 'isLeader' | 'onStop'>;

export interface ManifestsWiringOptions {
  readonly dir: string;
  readonly namespaces: readonly string[];
  /** Watch the directory for changes (false for --once). */
  readonly watch: boolean;
}

export function manifestsWiring(o: ManifestsWiringOptions, logger: Logger): Wiring & { source: ManifestSource } {
  return { source: new ManifestSource({ dir: o.dir, namespaces: o.namespaces, logger: logger.with({ source: 'manifests' }), watch: o.watch }) };
}

export interface KubernetesWiringOptions {
  /** A kubeconfig file; absent: in-cluster. */
  readonly kubeconfig?: string;
  readonly namespaces: readonly string[];
  readonly leaderElectionNamespace: string;
  /** Written to status.loadBalancer of served Ingresses; none: status is not written. */
  readonly publishAddresses: readonly LoadBalancerAddress[];
  /** The records ConfigMap: watched alone, by name, in its namespace. */
  readonly recordsConfigMap?: ObjectRef;
  /** What is ours (the GatewayClasses whose status the leader writes); default buildConfig(). */
  readonly build?: BuildConfig;
  /**
   * In a cluster (with build.gatewayPortRange): a Service per Gateway of this
   * type, in leaderElectionNamespace, selecting the ATS pod by these labels.
   */
  readonly gatewayServices?: { readonly type: GatewayServiceType; readonly selector: Readonly<Record<string, string>> };
}

/** Throws (with what to do) when the kubeconfig or the in-cluster configuration cannot be loaded. */
export async function kubernetesWiring(o: KubernetesWiringOptions, logger: Logger): Promise<Wiring> {
  const client = await KubeClient.create(o.kubeconfig !== undefined ? { kubeconfig: o.kubeconfig } : {});
  const records = o.recordsConfigMap;
  const source = new KubernetesSource({
    transport: client,
    namespaces: o.namespaces,
    kinds: records ? [...ROUTING_KINDS, 'ConfigMap'] : ROUTING_KINDS,
    ...(records ? { selectors: { ConfigMap: { namespace: records.namespace, fieldSelector: `metadata.name=${records.name}` } } } : {}),
    logger: logger.with({ component: 'kubernetes-source' }),
  });
  const leader = new LeaderElector({
    transport: client,
    namespace: o.leaderElectionNamespace,
    name: LEASE_NAME,
    identity: `${hostname()}_${process.pid}`,
    logger: logger.with({ component: 'leader-election' }),
  });
  leader.onChange((leading) => logger.info(leading ? 'became the leader: writing Events and status' : 'not the leader'));
  let serviceWatch: { stop(): Promise<void> } | undefined;
  const extraPublishers = (ctx: PublisherContext): Publisher[] => {
    const events = new KubeEventRecorder({
      transport: client,
      instance: hostname(),
      logger: logger.with({ component: 'events' }),
      // The uid links an Event to the very object: `kubectl describe` selects on it.
      uidOf: (kind, namespace, name) => {
        if (kind === 'Controller') return undefined;
        return getObject(ctx.snapshot(), kind, isClusterScoped(kind) ? name : `${namespace}/${name}`)?.metadata.uid;
      },
    });
    const gatewayWriter = new GatewayStatusWriter(client, o.build ?? buildConfig());
    const gatewayStatus = new LeaderGatewayStatus(gatewayWriter, leader, ctx, logger.with({ component: 'status' }));
    let services: GatewayServices | undefined;
    if (o.gatewayServices && o.build?.gatewayPortRange) {
      const log = logger.with({ component: 'gateway-services' });
      const s = new GatewayServices({ transport: client, leader, namespace: o.leaderElectionNamespace, ...o.gatewayServices, logger: log });
      gatewayWriter.useServiceAddresses(() => s.addresses());
      s.onAddresses(() => gatewayStatus.refresh());
      serviceWatch = watchGatewayServices(client, o.leaderElectionNamespace, s, log);
      services = s;
    }
    const list: Publisher[] = [
      new LeaderEvents(events, leader, ctx, logger.with({ component: 'events' })),
      new LeaderGatewayClassStatus(new GatewayClassStatusWriter(client, o.build ?? buildConfig()), leader, ctx, logger.with({ component: 'status' })),
      ...(services ? [services] : []),
      gatewayStatus,
    ];
    if (o.publishAddresses.length > 0) {
      const writer = new KubeStatusWriter({ transport: client, addresses: o.publishAddresses, logger: logger.with({ component: 'status' }) });
      list.push(new LiveStatus(writer, leader, ctx, logger.with({ component: 'status' })));
    }
    return list;
  };
  leader.start();
  return {
    source,
    extraPublishers,
    isLeader: () => leader.isLeader(),
    onStop: async () => {
      await serviceWatch?.stop();
      await leader.stop({ release: true });
      client.close();
    },
  };
}

/**
 * The watch of the Gateways' Services (in the controller's namespace, with
 * our label), a WatchLoop of its own beside the source's (which may not
 * watch this namespace), feeding GatewayServices.observed().
 */
function watchGatewayServices(client: KubeClient, namespace: string, services: GatewayServices, logger: Logger): { stop(): Promise<void> } {
  const abort = new AbortController();
  const feed = (events: readonly SourceEvent[]) => services.observed(events.map((e) =>
    e.type === 'replace' ? { type: 'replace', objects: e.objects } : e.type === 'upsert' ? { type: 'upsert', object: e.object } : { type: 'remove', name: e.key.split('/')[1] ?? '' }));
  const store = new KindStore('Service', [namespace], feed, () => undefined);
  const loop = new WatchLoop('Service', namespace, { labelSelector: GATEWAY_SERVICE_SELECTOR }, store, client, {
    relistIntervalMs: 5 * 60_000,
    watchdogMs: 5 * 60_000,
    watchTimeoutSeconds: undefined,
    backoffInitialMs: 200,
    backoffMaxMs: 10_000,
    listTimeoutMs: 60_000,
    unhealthyAfterMs: 60_000,
    crdRecheckMs: 60_000,
  }, feed, logger, abort.signal);
  loop.start();
  return {
    stop: async () => {
      abort.abort();
      await loop.done();
    },
  };
}
