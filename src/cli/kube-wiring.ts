// The Kubernetes source and its publishers (Events, status, leader
// election), from the controller's options.
import { hostname } from 'node:os';
import type { ControllerConfig, PublisherContext } from '../controller/controller.js';
import type { Logger } from '../observe/logger.js';
import { KubeEventRecorder } from '../publish/kube-events.js';
import { LeaderElector } from '../publish/kube-leader.js';
import { LeaderEvents, LiveStatus } from '../publish/kube-publishers.js';
import { KubeStatusWriter } from '../publish/kube-status.js';
import { KubeClient, type LogFn } from '../sources/kube-client.js';
import { KubernetesSource } from '../sources/kubernetes.js';
import type { ControllerOptions } from './controller-options.js';
import { CliError } from './io.js';

export const LEASE_NAME = 'ats-ingress-leader';

function logFn(logger: Logger): LogFn {
  return (level, msg, fields) => logger[level](msg, fields);
}

export interface KubeWiring {
  source: KubernetesSource;
  extraPublishers: NonNullable<ControllerConfig['extraPublishers']>;
  onStop: () => Promise<void>;
}

export function kubernetesWiring(o: ControllerOptions, logger: Logger): KubeWiring {
  let client: KubeClient;
  try {
    client = new KubeClient(o.kubeconfig !== undefined ? { kubeconfig: o.kubeconfig } : {});
  } catch (err) {
    throw new CliError(`${(err as Error).message}`, 1);
  }
  const source = new KubernetesSource({
    ...(o.kubeconfig !== undefined ? { kubeconfig: o.kubeconfig } : {}),
    namespaces: o.watchNamespaces,
    logger: logFn(logger.with({ component: 'kubernetes-source' })),
  });
  const leader = new LeaderElector({
    transport: client,
    namespace: o.leaderElectionNamespace,
    name: LEASE_NAME,
    identity: `${hostname()}_${process.pid}`,
    logger: logFn(logger.with({ component: 'leader-election' })),
  });
  leader.onChange((leading) => logger.info(leading ? 'became the leader: writing Events and status' : 'not the leader'));
  let status: LiveStatus | undefined;
  const extraPublishers = (ctx: PublisherContext) => {
    const events = new KubeEventRecorder({
      transport: client,
      instance: hostname(),
      logger: logFn(logger.with({ component: 'events' })),
    });
    const list = [new LeaderEvents(events, leader)];
    if (o.publishAddresses.length > 0) {
      const writer = new KubeStatusWriter({ transport: client, addresses: o.publishAddresses, logger: logFn(logger.with({ component: 'status' })) });
      status = new LiveStatus(writer, leader, ctx, logger.with({ component: 'status' }));
      return [...list, status];
    }
    return list;
  };
  leader.start();
  return {
    source,
    extraPublishers,
    onStop: async () => {
      await status?.stop();
      await leader.stop({ release: true });
      client.close();
    },
  };
}
