// Load with faults, in one run: a fixed-rate load through ATS (load.ts) on
// routes that exist throughout, while one after another
//
//   1. the endpoints of a loaded route churn several times a second (pods
//      added, made not ready, removed; each answer's pod is checked against
//      what the EndpointSlice said when the request was made),
//   2. the controller is killed with SIGKILL and started again,
//   3. the API server is restarted,
//   4. etcd is restarted,
//   5. an Ingress for another host is added, then removed,
//   6. a TLS Secret is renewed (the load has a verified https route),
//   7. the records ConfigMap changes,
//   8. a cache generation is bumped,
//   9. ATS itself is restarted while the controller runs.
//
// Requests to the loaded routes get no error at all except during the ATS
// restart, where only refused (and a few reset) connections are allowed,
// bounded by the rate and the time ATS was down, and the first answer after
// it must come from a pod: the last table, served at once. After each fault
// one change is made (an EndpointSlice of a route not under load moved to
// another pod) and timed until ATS serves it; the changes that are faults
// themselves (Ingress, Secret, records, cache generation) are timed to being
// served. Everything is printed as '# ' lines.
//
// The short version runs in `npm test` (test/e2e/soak-faults.test.ts); the
// long one is `npm run soak -- --faults`.

import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import tls from 'node:tls';

import { certKit, type CertKit, type Pem } from '../harness/certs.js';
import { E2e, K8S_DIR, MANAGED_BY, echo, type ControllerProcess } from '../e2e/env.js';
import { clock, countBy, formatCounts, longestStall, startLoad, windowOf, type LoadRun, type Sample, type Window } from './load.js';
import { Checks, fmtMs, print as defaultPrint, rng, type Print } from './report.js';

export interface FaultsOptions {
  /** Requests per second through ATS. */
  rate: number;
  /** How many times the whole sequence of faults runs. */
  rounds: number;
  /** How long the endpoints churn in each round. */
  churnSeconds: number;
  /** EndpointSlice changes per second while they churn. */
  churnPerSecond: number;
  /** Seed of the churn's choices (printed, so a run can be repeated). */
  seed?: number;
  print?: Print;
}

export const SHORT_FAULTS: FaultsOptions = { rate: 80, rounds: 1, churnSeconds: 8, churnPerSecond: 5 };
export const LONG_FAULTS: FaultsOptions = { rate: 200, rounds: 3, churnSeconds: 30, churnPerSecond: 8 };

const NS = 'soak-faults';
const PORT = 8080;
const ANN = 'ats.ingress.kubernetes.io/';
const RECORD = 'proxy.config.output.logfile.rolling_interval_sec';
/** An answer from a pod may lag the write that took it out by this much (the write, the watch, a build, the plugin's poll). */
const LAG_MS = 1_500;
/** A pod taken out of the churned slice is not put back for this long, so that LAG_MS means something. */
const QUARANTINE_MS = 2_000;
/** Per request of the load: then it counts as a timeout. */
const REQUEST_TIMEOUT_MS = 10_000;
/** How long a change may take to be served after a fault (bounds, not expectations). */
const RECOVERY_TIMEOUT_MS = 60_000;

const HOSTS = {
  steady: 'steady.soak.test',
  churn: 'churn.soak.test',
  tls: 'tls.soak.test',
  probe: 'probe.soak.test',
  extra: 'extra.soak.test',
  cached: 'cached.soak.test',
};

// Pods: the test network's addresses, in this order.
const STEADY = ['steady-0', 'steady-1'];
const STEADY_UNREADY = 'steady-unready';
const STEADY_TERMINATING = 'steady-terminating';
const CHURN = ['churn-0', 'churn-1', 'churn-2', 'churn-3', 'churn-4'];
const CHURN_NEVER = 'churn-never';
const PROBE = ['probe-0', 'probe-1'];
const EXTRA = 'extra-0';
const PODS: Array<{ service: string; pod: string }> = [
  ...STEADY.map((pod) => ({ service: 'steady', pod })),
  { service: 'steady', pod: STEADY_UNREADY },
  { service: 'steady', pod: STEADY_TERMINATING },
  ...CHURN.map((pod) => ({ service: 'churn', pod })),
  { service: 'churn', pod: CHURN_NEVER },
  ...PROBE.map((pod) => ({ service: 'probe', pod })),
  { service: 'extra', pod: EXTRA },
];
/** Pods that are in a slice but never ready: no request may ever reach them. */
const NEVER_READY = new Set([STEADY_UNREADY, STEADY_TERMINATING, CHURN_NEVER]);

interface Endpoint {
  pod: string;
  ready?: boolean;
  terminating?: boolean;
}

const b64 = (t: string) => Buffer.from(t).toString('base64');

function ingress(name: string, host: string, service: string, opts: { annotations?: Record<string, string>; secret?: string } = {}) {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: NS, ...(opts.annotations ? { annotations: opts.annotations } : {}) },
    spec: {
      ingressClassName: 'ats',
      ...(opts.secret ? { tls: [{ hosts: [host], secretName: opts.secret }] } : {}),
      rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: service, port: { number: 80 } } } }] } }],
    },
  };
}

class Scenario {
  readonly checks = new Checks();
  readonly windows: Window[] = [];
  /** Per fault: the time until the next change was served. */
  readonly live: Array<{ fault: string; ms: number; what: string }> = [];
  /** Per churned pod: when the slice said it was ready ([write started, write of its removal answered]). */
  readonly readiness = new Map<string, Array<{ from: number; to: number }>>();
  readonly churnCounts: Record<string, number> = { add: 0, unready: 0, remove: 0, ready: 0 };
  churnSteps = 0;
  churnMs = 0;
  controller!: ControllerProcess;
  #probeOn = 0;
  #cacheGeneration = 1;
  #recordValue = 3000;
  #tlsCertIndex = 0;
  readonly #state = new Map<string, 'ready' | 'unready'>();
  readonly #outSince = new Map<string, number>();
  readonly #random: () => number;
  atsRestarts: Array<{ from: number; to: number; startMs: number }> = [];

  constructor(
    readonly e: E2e,
    readonly o: FaultsOptions,
    readonly kit: CertKit,
    readonly certs: Pem[],
    readonly print: Print,
  ) {
    this.#random = rng(o.seed ?? 11);
  }

  address(pod: string): string {
    const b = this.e.backends.list.find((x) => x.pod === pod);
    if (!b) throw new Error(`no backend ${pod}`);
    return b.address;
  }

  async slice(service: string, endpoints: Endpoint[]): Promise<void> {
    await this.e.apply(`/apis/discovery.k8s.io/v1/namespaces/${NS}/endpointslices/${service}-soak`, {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${service}-soak`, namespace: NS, labels: { 'kubernetes.io/service-name': service, 'endpointslice.kubernetes.io/managed-by': MANAGED_BY } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: PORT, protocol: 'TCP' }],
      endpoints: endpoints.map((x) => ({
        addresses: [this.address(x.pod)],
        conditions: x.terminating ? { ready: false, serving: true, terminating: true } : { ready: x.ready !== false },
        targetRef: { kind: 'Pod', namespace: NS, name: x.pod },
      })),
    });
  }

  async putSecret(pem: Pem): Promise<void> {
    await this.e.apply(`/api/v1/namespaces/${NS}/secrets/tls-cert`, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'tls-cert', namespace: NS },
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': b64(pem.cert), 'tls.key': b64(pem.key) },
    });
  }

  async putRecords(): Promise<void> {
    await this.e.apply('/api/v1/namespaces/ats-ingress/configmaps/ats-records', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'ats-records', namespace: 'ats-ingress' },
      data: { [RECORD]: String(this.#recordValue) },
    });
  }

  cachedIngress() {
    return ingress('cached', HOSTS.cached, 'steady', { annotations: { [`${ANN}cache-default-ttl`]: '60s', [`${ANN}cache-generation`]: String(this.#cacheGeneration) } });
  }

  async putIngress(obj: ReturnType<typeof ingress>): Promise<void> {
    await this.e.apply(`/apis/networking.k8s.io/v1/namespaces/${NS}/ingresses/${obj.metadata.name}`, obj);
  }

  async setUp(): Promise<void> {
    const e = this.e;
    await e.kubectl(['apply', '-f', join(K8S_DIR, 'traffic-server', '20-ingressclass.yaml')]);
    await e.kubectl(['create', 'namespace', NS]);
    for (const svc of ['steady', 'churn', 'probe', 'extra']) {
      await e.apply(`/api/v1/namespaces/${NS}/services/${svc}`, { apiVersion: 'v1', kind: 'Service', metadata: { name: svc, namespace: NS }, spec: { ports: [{ name: 'http', port: 80, targetPort: PORT }] } });
    }
    await this.slice('steady', [...STEADY.map((pod) => ({ pod })), { pod: STEADY_UNREADY, ready: false }, { pod: STEADY_TERMINATING, terminating: true }]);
    const t = clock();
    for (const pod of CHURN.slice(0, 2)) {
      this.#state.set(pod, 'ready');
      this.readiness.set(pod, [{ from: t, to: Infinity }]);
    }
    await this.writeChurn();
    await this.slice('probe', [{ pod: PROBE[0]! }]);
    await this.slice('extra', [{ pod: EXTRA }]);
    await this.putSecret(this.certs[0]!);
    await this.putRecords();
    await this.putIngress(ingress('steady', HOSTS.steady, 'steady'));
    await this.putIngress(ingress('churn', HOSTS.churn, 'churn'));
    await this.putIngress(ingress('tls', HOSTS.tls, 'steady', { secret: 'tls-cert' }));
    await this.putIngress(ingress('probe', HOSTS.probe, 'probe'));
    await this.putIngress(this.cachedIngress());
    this.controller = await this.startController();
    await this.controller.waitReady(60_000);
    for (const host of [HOSTS.steady, HOSTS.churn, HOSTS.probe]) await e.until(`${host} served`, { host, path: '/' }, (r) => echo(r) !== undefined);
    await this.until('the first certificate served', () => this.presented(), (f) => f === this.fingerprint(0));
    await this.until('the records ConfigMap applied', () => this.recordValue(), (v) => v === String(this.#recordValue));
  }

  startController(): Promise<ControllerProcess> {
    return this.e.startController(['--ats-stats-url', this.e.statsUrl, ...this.e.recordsArgs()]);
  }

  fingerprint(i: number): string {
    return new X509Certificate(this.certs[i]!.cert).fingerprint256;
  }

  /** The fingerprint of the certificate ATS presents for the TLS host on a new connection (verified). */
  async presented(): Promise<string> {
    const socket = tls.connect({ host: '127.0.0.1', port: this.e.ats!.httpsPort!, servername: HOSTS.tls, ca: this.kit.ca.cert, rejectUnauthorized: true });
    socket.setTimeout(5_000, () => socket.destroy(new Error('TLS handshake timed out')));
    try {
      await Promise.race([once(socket, 'secureConnect'), once(socket, 'error').then(([err]) => Promise.reject(err as Error))]);
      return socket.getPeerX509Certificate()?.fingerprint256 ?? '';
    } finally {
      socket.destroy();
    }
  }

  async recordValue(): Promise<string | undefined> {
    const r = await this.e.ats!.trafficCtl(['config', 'get', RECORD]);
    return /: (\S+)\s*$/.exec(r.stdout.trim())?.[1];
  }

  async until<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 30_000): Promise<number> {
    const t0 = performance.now();
    let last: unknown;
    for (;;) {
      try {
        const v = await fn();
        if (ok(v)) return performance.now() - t0;
        last = v;
      } catch (err) {
        last = (err as Error).message;
      }
      if (performance.now() - t0 > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms; last: ${JSON.stringify(last)?.slice(0, 300)}\n${this.controller.log(3_000)}`);
      await delay(10);
    }
  }

  /** Runs a fault, remembering when it was (errors are attributed to it). */
  async window<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const w: Window = { name, from: clock(), to: Infinity };
    this.windows.push(w);
    try {
      return await fn();
    } finally {
      w.to = clock();
    }
  }

  // -------------------------------------------------------------------------
  // The change made after each fault: the probe route moved to its other pod.

  /** Writes the probe's slice (retrying while the API server cannot write, bounded) and times it until ATS serves it. */
  async probeChange(fault: string): Promise<void> {
    this.#probeOn = 1 - this.#probeOn;
    const pod = PROBE[this.#probeOn]!;
    const t0 = performance.now();
    let attempts = 0;
    for (;;) {
      attempts++;
      try {
        await this.slice('probe', [{ pod }]);
        break;
      } catch (err) {
        if (performance.now() - t0 > RECOVERY_TIMEOUT_MS) throw new Error(`after ${fault}: the probe's EndpointSlice could not be written within ${RECOVERY_TIMEOUT_MS} ms: ${(err as Error).message}`);
        await delay(100);
      }
    }
    const served = await this.e.until(`after ${fault}: the probe moved to ${pod}`, { host: HOSTS.probe, path: '/' }, (r) => echo(r)?.pod === pod, {
      since: t0,
      timeoutMs: RECOVERY_TIMEOUT_MS,
      intervalMs: 10,
    });
    this.record(fault, served.ms, `an EndpointSlice change written right after it, served${attempts > 1 ? ` (the write took ${attempts} attempts)` : ''}`);
  }

  record(fault: string, ms: number, what: string): void {
    this.live.push({ fault, ms, what });
    this.print(`${fault}: ${what} ${fmtMs(ms)} later`);
  }

  // -------------------------------------------------------------------------
  // 1. Endpoint churn

  readyPods(): string[] {
    return CHURN.filter((p) => this.#state.get(p) === 'ready');
  }

  async writeChurn(): Promise<void> {
    const endpoints: Endpoint[] = [...this.#state].map(([pod, s]) => ({ pod, ready: s === 'ready' }));
    endpoints.push({ pod: CHURN_NEVER, ready: false });
    await this.slice('churn', endpoints);
  }

  /** One change of the churned slice: add a pod, make one not ready, remove one, or make a not-ready one ready again. Never fewer than one ready. */
  async churnStep(): Promise<void> {
    const now = clock();
    const ready = this.readyPods();
    const unready = CHURN.filter((p) => this.#state.get(p) === 'unready');
    const out = CHURN.filter((p) => !this.#state.has(p) && now - (this.#outSince.get(p) ?? -Infinity) > QUARANTINE_MS);
    const back = unready.filter((p) => now - (this.#outSince.get(p) ?? -Infinity) > QUARANTINE_MS);
    const choices: Array<() => string> = [];
    if (out.length) choices.push(() => this.#set(this.#pick(out), 'ready', 'add'));
    if (ready.length >= 2) choices.push(() => this.#set(this.#pick(ready), 'unready', 'unready'));
    if (ready.length >= 2 || unready.length) choices.push(() => this.#set(this.#pick(ready.length >= 2 ? [...ready, ...unready] : unready), undefined, 'remove'));
    if (back.length) choices.push(() => this.#set(this.#pick(back), 'ready', 'ready'));
    if (!choices.length) return;
    const from = clock();
    const change = this.#pick(choices)();
    await this.writeChurn();
    const to = clock();
    // Readiness starts when the write started and ends when its write was answered.
    const [pod, became] = change.split(' ') as [string, string];
    const list = this.readiness.get(pod) ?? [];
    this.readiness.set(pod, list);
    if (became === 'ready') list.push({ from, to: Infinity });
    else {
      const open = list.find((iv) => iv.to === Infinity);
      if (open) open.to = to;
    }
    this.churnSteps++;
  }

  #pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.#random() * xs.length)]!;
  }

  /** Changes the state of a pod; returns "pod ready" or "pod out". */
  #set(pod: string, to: 'ready' | 'unready' | undefined, what: string): string {
    const was = this.#state.get(pod);
    if (to === undefined) this.#state.delete(pod);
    else this.#state.set(pod, to);
    if (was === 'ready' && to !== 'ready') this.#outSince.set(pod, clock());
    this.churnCounts[what] = (this.churnCounts[what] ?? 0) + 1;
    return `${pod} ${to === 'ready' ? 'ready' : 'out'}`;
  }

  async churn(seconds: number): Promise<void> {
    const t0 = performance.now();
    const every = 1000 / this.o.churnPerSecond;
    for (let i = 0; performance.now() - t0 < seconds * 1000; i++) {
      await this.churnStep();
      const next = t0 + (i + 1) * every;
      const wait = next - performance.now();
      if (wait > 0) await delay(wait);
    }
    this.churnMs += performance.now() - t0;
  }

  // -------------------------------------------------------------------------
  // The faults of one round

  async round(n: number): Promise<void> {
    const e = this.e;
    const tag = this.o.rounds > 1 ? ` (round ${n})` : '';

    await this.window(`endpoint churn${tag}`, () => this.churn(this.o.churnSeconds));
    await this.probeChange(`endpoint churn${tag}`);

    await this.window(`controller SIGKILL${tag}`, async () => {
      await this.controller.kill();
      await delay(1_000); // ATS alone, serving the table the killed controller left
      const t0 = performance.now();
      this.controller = await this.startController();
      await this.probeChange(`controller SIGKILL and restart${tag}`);
      await this.controller.waitReady(RECOVERY_TIMEOUT_MS);
      this.print(`controller SIGKILL and restart${tag}: the new controller was ready (its table served by ATS) ${fmtMs(performance.now() - t0)} after its start`);
    });

    await this.window(`API server restart${tag}`, async () => {
      const t0 = performance.now();
      await e.kube.restartApiServer();
      this.print(`API server restart${tag}: took ${fmtMs(performance.now() - t0)}`);
      await this.probeChange(`API server restart${tag}`);
    });

    await this.window(`etcd restart${tag}`, async () => {
      const t0 = performance.now();
      await e.kube.restartEtcd();
      this.print(`etcd restart${tag}: took ${fmtMs(performance.now() - t0)} (until the API server served again)`);
      await this.probeChange(`etcd restart${tag}`);
    });

    await this.window(`Ingress for another host added and removed${tag}`, async () => {
      const t0 = performance.now();
      await this.putIngress(ingress('extra', HOSTS.extra, 'extra'));
      const added = await e.until('the new Ingress served', { host: HOSTS.extra, path: '/' }, (r) => echo(r)?.pod === EXTRA, { since: t0, timeoutMs: RECOVERY_TIMEOUT_MS });
      this.record(`Ingress ${HOSTS.extra} added${tag}`, added.ms, 'served');
      const t1 = performance.now();
      const del = await e.write('DELETE', `/apis/networking.k8s.io/v1/namespaces/${NS}/ingresses/extra`, {});
      this.checks.check(`Ingress extra deleted${tag}`, del.status === 200, () => `HTTP ${del.status} ${del.text.slice(0, 200)}`);
      const removed = await e.until('the removed Ingress no longer served', { host: HOSTS.extra, path: '/' }, (r) => r.status === 404, { since: t1, timeoutMs: RECOVERY_TIMEOUT_MS });
      this.record(`Ingress ${HOSTS.extra} removed${tag}`, removed.ms, 'answered 404');
    });

    await this.window(`TLS Secret renewed${tag}`, async () => {
      this.#tlsCertIndex = 1 - this.#tlsCertIndex;
      const want = this.fingerprint(this.#tlsCertIndex);
      const t0 = performance.now();
      await this.putSecret(this.certs[this.#tlsCertIndex]!);
      await this.until('the renewed certificate served', () => this.presented(), (f) => f === want, RECOVERY_TIMEOUT_MS);
      this.record(`TLS Secret renewed${tag}`, performance.now() - t0, 'the first handshake with the new certificate');
    });

    await this.window(`records ConfigMap changed${tag}`, async () => {
      this.#recordValue = this.#recordValue === 3000 ? 600 : 3000;
      const t0 = performance.now();
      await this.putRecords();
      await this.until('the record set in traffic_manager', () => this.recordValue(), (v) => v === String(this.#recordValue), RECOVERY_TIMEOUT_MS);
      this.record(`records ConfigMap changed${tag}`, performance.now() - t0, `${RECORD} set in traffic_manager`);
    });

    await this.window(`cache generation bumped${tag}`, async () => {
      const path = `/cached-${n}`;
      const get = async () => echo(await e.request({ host: HOSTS.cached, path }));
      const first = await get();
      const again = await get();
      this.checks.check(`the cached route is cached before the bump${tag}`, first !== undefined && again?.pod === first.pod && again.hit === first.hit, () => `first ${JSON.stringify(first && { pod: first.pod, hit: first.hit })}, again ${JSON.stringify(again && { pod: again.pod, hit: again.hit })}`);
      this.#cacheGeneration++;
      const t0 = performance.now();
      await this.putIngress(this.cachedIngress());
      const fresh = await e.until('an answer from a pod, not the cache, after the bump', { host: HOSTS.cached, path }, (r) => {
        const x = echo(r);
        return x !== undefined && (x.pod !== first?.pod || x.hit !== first.hit);
      }, { since: t0, timeoutMs: RECOVERY_TIMEOUT_MS });
      this.record(`cache generation bumped${tag}`, fresh.ms, 'the first answer from a pod instead of the cache');
    });

    await this.window(`ATS restart${tag}`, async () => {
      const from = clock();
      await e.ats!.restart();
      const to = clock();
      this.atsRestarts.push({ from, to, startMs: e.ats!.startMs });
      this.print(`ATS restart${tag}: stop and start took ${fmtMs(to - from)}; from spawning traffic_manager to its first answer ${fmtMs(e.ats!.startMs)}`);
    });
    await this.probeChange(`ATS restart${tag}`);
  }

  // -------------------------------------------------------------------------
  // What the load saw

  analyse(load: { samples: Sample[]; sent: number; skipped: number; startedAt: number; endedAt: number }, targets: string[]): void {
    const { samples } = load;
    const checks = this.checks;
    const seconds = (load.endedAt - load.startedAt) / 1000;
    const atsWindows: Window[] = this.atsRestarts.map((r, i) => ({ name: `ATS restart ${i + 1}`, from: r.from, to: r.to + 2_000 }));
    const inAts = (x: Sample) => windowOf(atsWindows, x.s) !== undefined || windowOf(atsWindows, x.e) !== undefined;
    const errors = samples.filter((x) => x.k !== 'ok');
    const outside = errors.filter((x) => !inAts(x));

    this.print(`load: ${this.o.rate} requests/s for ${seconds.toFixed(1)} s over ${targets.join(', ')}, each on a new connection`);
    this.print(`requests sent: ${load.sent} (${load.skipped} not sent because the in-flight cap was reached)`);
    this.print(`answers by status: ${formatCounts(countBy(samples.filter((x) => x.st > 0), (x) => String(x.st)))}`);
    this.print(`errors by kind: ${formatCounts(countBy(errors, (x) => (x.k === 'status' ? `status ${x.st}` : x.k)))}`);
    this.print(`errors outside the ATS restart: ${formatCounts(countBy(outside, (x) => `${windowOf(this.windows, x.s)?.name ?? 'between faults'}: ${x.k === 'status' ? `status ${x.st}` : x.k}`))}`);
    checks.check('every request sent', load.skipped === 0, () => `${load.skipped} skipped at the in-flight cap`);
    checks.check('no error outside the ATS restart', outside.length === 0, () =>
      outside.slice(0, 10).map((x) => `${targets[x.t]} ${x.k} ${x.st} ${x.msg ?? ''} at ${windowOf(this.windows, x.s)?.name ?? 'between faults'}`).join('; '));
    const expected = Math.floor(this.o.rate * seconds * 0.9);
    checks.check('the load ran at its rate', load.sent >= expected, () => `${load.sent} sent, expected at least ${expected}`);

    const stall = longestStall(samples, load.startedAt, load.endedAt);
    const okOutside = samples.filter((x) => !inAts(x));
    let stallOutside = { ms: 0, at: 0 };
    // Longest gap outside the ATS restarts: between consecutive windows.
    const edges = [load.startedAt, ...atsWindows.flatMap((w) => [w.from, w.to]), load.endedAt];
    for (let i = 0; i < edges.length; i += 2) {
      const s = longestStall(okOutside, edges[i]!, edges[i + 1]!);
      if (s.ms > stallOutside.ms) stallOutside = s;
    }
    this.print(`longest stall (the longest gap between two successful answers): ${fmtMs(stall.ms)}, ${windowOf(this.windows, stall.at + 1)?.name ?? 'between faults'}; outside the ATS restarts ${fmtMs(stallOutside.ms)}, ${windowOf(this.windows, stallOutside.at + 1)?.name ?? 'between faults'}`);

    // The pods that answered.
    const ok = samples.filter((x) => x.k === 'ok');
    const never = ok.filter((x) => x.pod !== undefined && NEVER_READY.has(x.pod));
    checks.check('no answer from a pod that is never ready (ready: false, or terminating)', never.length === 0, () => formatCounts(countBy(never, (x) => x.pod!)));
    const wrongService = ok.filter((x) => x.svc !== `${NS}/${targets[x.t] === 'churn' ? 'churn' : 'steady'}`);
    checks.check('every answer from the Service of its route', wrongService.length === 0, () => wrongService.slice(0, 5).map((x) => `${targets[x.t]} → ${x.svc}`).join(', '));
    const churned = ok.filter((x) => targets[x.t] === 'churn');
    const notReady: Sample[] = [];
    let worstLag = 0;
    for (const x of churned) {
      const ivs = this.readiness.get(x.pod ?? '') ?? [];
      const fit = ivs.filter((iv) => iv.from <= x.e && x.s <= iv.to + LAG_MS);
      if (fit.length === 0) {
        notReady.push(x);
        continue;
      }
      if (!fit.some((iv) => x.s <= iv.to)) worstLag = Math.max(worstLag, Math.min(...fit.map((iv) => x.s - iv.to)));
    }
    this.print(`endpoint churn: ${this.churnSteps} changes of the churned EndpointSlice in ${fmtMs(this.churnMs)} (${formatCounts(this.churnCounts)}); ${churned.length} answers on the churned route, ${notReady.length} from a pod the slice did not have ready at the time (allowing ${LAG_MS} ms for a removal to be served); the latest answer from a pod after the write that took it out: ${fmtMs(worstLag)} after it`);
    checks.check('the churned route answered only from pods that were ready', notReady.length === 0, () =>
      notReady.slice(0, 5).map((x) => `${x.pod} at +${Math.round(x.s - load.startedAt)} ms (ready ${JSON.stringify(this.readiness.get(x.pod ?? '')?.map((iv) => [Math.round(iv.from - load.startedAt), Math.round(iv.to - load.startedAt)]))})`).join('; '));
    checks.check('the churn happened', this.churnSteps >= this.o.churnSeconds * this.o.churnPerSecond * 0.5 * this.o.rounds, () => `${this.churnSteps} changes`);
    const pods = new Set(churned.map((x) => x.pod));
    checks.check('answers came from several churned pods', pods.size >= 3, () => [...pods].join(', '));

    // The ATS restarts.
    for (const [i, r] of this.atsRestarts.entries()) {
      const w = atsWindows[i]!;
      const within = samples.filter((x) => x.s >= w.from && x.s <= w.to);
      const kinds = countBy(within.filter((x) => x.k !== 'ok'), (x) => (x.k === 'status' ? `status ${x.st}` : x.k));
      const refused = kinds['refused'] ?? 0;
      const reset = kinds['reset'] ?? 0;
      const downMs = r.to - r.from;
      const spawnedAt = r.to - r.startMs;
      // Connections fail only while no ATS listens: from the stop until the
      // new traffic_manager has bound its ports (right after its spawn; 1 s
      // allowed). Then they wait in its backlog and are served.
      const listening = spawnedAt + 1_000;
      const bound = Math.ceil((this.o.rate * (listening - r.from)) / 1000);
      const at = (t: number) => `${t >= spawnedAt ? '+' : ''}${fmtMs(t - spawnedAt)}`;
      const span = (k: string) => {
        const xs = within.filter((x) => x.k === k);
        return xs.length ? `${k} ${xs.length}, sent from ${at(xs[0]!.s)} to ${at(xs[xs.length - 1]!.s)}` : `${k} 0`;
      };
      this.print(`ATS restart ${i + 1}: ${within.length} requests sent in its window (the stop, the start, 2 s more), ${formatCounts(kinds)}; times are from when the new traffic_manager was spawned, ${fmtMs(spawnedAt - r.from)} after the stop began`);
      this.print(`ATS restart ${i + 1}: ${span('reset')} (connections the stopping ATS had not accepted yet); ${span('refused')}; bound on both: the rate × the ${fmtMs(listening - r.from)} from the stop to 1 s after the new spawn = ${bound}; the whole restart took ${fmtMs(downMs)}`);
      const waited = within.filter((x) => x.k === 'ok' && x.s < r.to && x.e - x.s > 500);
      if (waited.length) {
        this.print(`ATS restart ${i + 1}: ${waited.length} requests waited in the new listen backlog and were answered when traffic_server came up, after up to ${fmtMs(Math.max(...waited.map((x) => x.e - x.s)))}`);
      }
      // The first request that reached the new ATS: the first one sent after the old one stopped that got an HTTP answer.
      const lastError = [...within].reverse().find((x) => x.k === 'refused' || x.k === 'reset');
      const firstAfter = within.find((x) => x.s >= Math.min(spawnedAt, lastError?.s ?? spawnedAt) && x.k !== 'refused' && x.k !== 'reset');
      if (firstAfter) {
        this.print(`ATS restart ${i + 1}: the first request served by the new ATS: ${firstAfter.k === 'ok' ? `200 from ${firstAfter.svc}@${firstAfter.pod}` : `${firstAfter.k} ${firstAfter.st} ${firstAfter.msg ?? ''}`}, sent at ${at(firstAfter.s)}, answered at ${at(firstAfter.e)}`);
      }
      checks.check(`ATS restart ${i + 1}: refused connections bounded`, refused <= bound, () => `${refused} > ${bound}`);
      checks.check(`ATS restart ${i + 1}: refused and reset connections together bounded`, refused + reset <= bound, () => `${refused} + ${reset} > ${bound}`);
      const late = within.filter((x) => (x.k === 'refused' || x.k === 'reset') && x.s > listening);
      checks.check(`ATS restart ${i + 1}: no connection fails once the new ATS listens (1 s after its spawn)`, late.length === 0, () => `${late.length}, the last sent at ${at(late[late.length - 1]!.s)}`);
      checks.check(`ATS restart ${i + 1}: the load saw it (connections refused or reset)`, refused + reset > 0, () => formatCounts(kinds));
      const others = Object.entries(kinds).filter(([k]) => k !== 'refused' && k !== 'reset');
      checks.check(`ATS restart ${i + 1}: only refused or reset connections, no error answer and no timeout`, others.length === 0, () => formatCounts(kinds));
      checks.check(`ATS restart ${i + 1}: its very first request is served by a pod (the last table, at once)`, firstAfter?.k === 'ok', () => JSON.stringify(firstAfter));
    }

    this.print('time until the next change went live, per fault:');
    for (const l of this.live) this.print(`  ${l.fault}: ${fmtMs(l.ms)} (${l.what})`);
  }
}

/** Runs the scenario; throws (an AssertionError listing every failed check) when something did not hold. */
export async function runFaultsSoak(o: FaultsOptions): Promise<void> {
  const out = o.print ?? defaultPrint;
  const kit = await certKit('Soak CA');
  let e: E2e | undefined;
  let load: LoadRun | undefined;
  try {
    const certs = [await kit.leaf(HOSTS.tls), await kit.leaf(HOSTS.tls)];
    e = await E2e.start({
      tag: 'soakf',
      pods: PODS.length,
      backends: PODS.map((p, i) => ({ service: `${NS}/${p.service}`, pod: p.pod, podIndex: i, port: PORT })),
      pod: true,
    });
    const s = new Scenario(e, o, kit, certs, out);
    await s.setUp();
    out(`set up: ATS under traffic_manager (pid ${e.ats!.pid}), the controller (pid ${s.controller.pid}), kube-apiserver and etcd (${JSON.stringify(e.kube.pids())}); churn seed ${o.seed ?? 11}`);

    const targets = ['steady', 'churn', 'tls'];
    load = await startLoad({
      httpPort: e.atsPort,
      httpsPort: e.ats!.httpsPort!,
      rate: o.rate,
      targets: [
        { name: 'steady', host: HOSTS.steady, path: '/load', weight: 2 },
        { name: 'churn', host: HOSTS.churn, path: '/load', weight: 2 },
        { name: 'tls', host: HOSTS.tls, path: '/load', tls: true, ca: kit.ca.cert, weight: 1 },
      ],
      // While ATS restarts under traffic_manager, connections wait in the new
      // listen backlog until traffic_server is up (about 3 s, more on a busy
      // machine): a timeout well past that, and room for all of them.
      timeoutMs: REQUEST_TIMEOUT_MS,
      maxInFlight: Math.max(64, Math.ceil((o.rate * REQUEST_TIMEOUT_MS) / 1000) + 64),
      // Bounds well past the scenario's own length; stop() ends it earlier.
      maxSeconds: 60 + o.rounds * (o.churnSeconds + 240),
      maxRequests: Math.ceil(o.rate * (60 + o.rounds * (o.churnSeconds + 240))),
    });
    await delay(2_000); // a baseline of plain load
    for (let n = 1; n <= o.rounds; n++) await s.round(n);
    await delay(2_000);
    const result = await load.stop();
    s.analyse(result, targets);
    out(`checks: ${s.checks.passed.length} held, ${s.checks.failed.length} failed`);
    s.checks.assertAll();
  } finally {
    await load?.stop().catch(() => undefined);
    await e?.close();
    await kit.close();
  }
}
