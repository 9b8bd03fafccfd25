// kube-controller-manager for the test cluster (kube.ts starts it with
// startKube({ controllerManager: true })): the real controllers that turn
// Deployments into ReplicaSets and Pods, write EndpointSlices for Services,
// finish namespace deletion and collect garbage. With the process kubelet
// (process-kubelet.ts) this is enough for Pods that run.
//
// What it is given, and why:
// - the admin kubeconfig the harness writes (system:masters), without
//   per-controller service-account credentials: nothing here tests the
//   controllers' own RBAC;
// - --controllers='*,-node-lifecycle-controller': the process kubelet posts
//   its Node's status once and no heartbeat (no Lease); that controller would
//   mark the Node NotReady and evict its Pods;
// - --service-account-private-key-file: the API server's signing key
//   (sa.key), so the tokens the serviceaccount-token controller signs verify;
//   --root-ca-file: the API server's self-signed certificate, which goes
//   into each namespace's kube-root-ca.crt ConfigMap;
// - no leader election (one instance), serving on a free 127.0.0.1 port
//   (for /healthz, which is where start() waits), its own cert dir;
// - client QPS raised from 20: tests create and delete in bursts.
//
// No kube-scheduler: the process kubelet binds pending Pods to its Node.

import * as https from 'node:https';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

import { freePorts } from './ports.js';
import { ManagedProcess } from './processes.js';

export interface ControllerManagerOptions {
  /** Extra flags, e.g. ['--v=4']; later flags win over the defaults. */
  args?: string[];
  /** Bound on /healthz answering ok. Default 60 s. */
  startTimeoutMs?: number;
}

export interface ControllerManagerConfig {
  /** The kube-controller-manager binary. */
  binary: string;
  /** The cluster's temp dir: the log (kube-controller-manager.log) and cert dir go here. */
  dir: string;
  kubeconfig: string;
  /** The API server's --service-account-signing-key-file. */
  serviceAccountKeyFile: string;
  /** The API server's serving certificate (self-signed). */
  rootCaFile: string;
  serviceClusterIpRange: string;
  /** The watchdog removes this dir if the test process dies without stopping the controller manager. */
  removeDirOnDeath?: string;
}

/** The flags startControllerManager() passes, before the caller's own. */
export function controllerManagerArgs(config: ControllerManagerConfig, port: number): string[] {
  return [
    `--kubeconfig=${config.kubeconfig}`,
    '--leader-elect=false',
    '--controllers=*,-node-lifecycle-controller',
    `--service-account-private-key-file=${config.serviceAccountKeyFile}`,
    `--root-ca-file=${config.rootCaFile}`,
    '--use-service-account-credentials=false',
    `--service-cluster-ip-range=${config.serviceClusterIpRange}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${port}`,
    `--cert-dir=${join(config.dir, 'controller-manager-pki')}`,
    '--kube-api-qps=200',
    '--kube-api-burst=400',
  ];
}

function healthz(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    // Its serving certificate is self-signed in --cert-dir, and /healthz is
    // open to anyone: the check is only whether it runs.
    const req = https.get({ host: '127.0.0.1', port, path: '/healthz', rejectUnauthorized: false, agent: false, timeout: 2_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve(`${res.statusCode ?? 0} ${text.trim()}`));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}

/**
 * Starts kube-controller-manager as a ManagedProcess (own process group,
 * output appended to <dir>/kube-controller-manager.log) and resolves once
 * its /healthz says ok. The controllers start as their informers sync, a
 * moment later: callers poll for what they wait for anyway.
 */
export async function startControllerManager(config: ControllerManagerConfig, opts: ControllerManagerOptions = {}): Promise<ManagedProcess> {
  const timeoutMs = opts.startTimeoutMs ?? 60_000;
  mkdirSync(join(config.dir, 'controller-manager-pki'), { recursive: true });
  const [port] = await freePorts(1);
  const proc = await ManagedProcess.start(config.binary, [...controllerManagerArgs(config, port!), ...(opts.args ?? [])], {
    name: 'kube-controller-manager',
    output: { file: join(config.dir, 'kube-controller-manager.log') },
    graceMs: 5_000,
    ...(config.removeDirOnDeath !== undefined ? { removeDirOnDeath: config.removeDirOnDeath } : {}),
  });
  const deadline = Date.now() + timeoutMs;
  let last = '(no answer yet)';
  while (Date.now() < deadline) {
    if (!proc.running) throw new Error(`kube harness: ${proc.describeExit()} before it was healthy\n${proc.logTail()}`);
    try {
      last = await healthz(port!);
      if (last === '200 ok') return proc;
    } catch (err) {
      last = (err as Error).message;
    }
    await delay(200);
  }
  await proc.kill().catch(() => undefined);
  throw new Error(`kube harness: kube-controller-manager not healthy on 127.0.0.1:${port} within ${timeoutMs} ms (last: ${last})\n${proc.logTail()}`);
}
