// Bounded resources: at least 10,000 rebuilds of the route table from
// endpoint churn written through the real API server (EndpointSlices, with
// server-side apply, as fast as they are answered), with a light load
// through ATS meanwhile, and what the processes hold, sampled after a
// warm-up, in the middle and at the end:
//
// - the controller's and traffic_server's resident memory (flat within a
//   stated bound after the warm-up),
// - their open file descriptors,
// - the table's shared-memory objects in /dev/shm (old generations
//   reclaimed: at most the published one and the one before it), and the
//   table objects traffic_server still has mapped (a reader that kept old
//   tables would show them),
// - and the Kubernetes Events that reached the API server, per object: an
//   Ingress with more than ten problems that stay put through every rebuild
//   (at most ten Events, never posted again), and an Ingress whose problem
//   comes and goes during the churn.
//
// Rebuilds are counted from the controller's /metrics
// (ats_ingress_builds_total, ats_ingress_table_publishes_total{outcome="published"}).
// The short version (test/e2e/soak-resources.test.ts) and the long one
// (`npm run soak -- --resources`) both write through the API server; the
// long one does more rebuilds.

import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';

import { E2e, K8S_DIR, MANAGED_BY, echo, type ControllerProcess } from '../e2e/env.js';
import { countBy, formatCounts, longestStall, startLoad, type LoadRun } from './load.js';
import { fdCount, fdKinds, mappedShm, mib, rssBytes, shmObjects, trafficServerPid } from './procfs.js';
import { Checks, fmtMs, print as defaultPrint, type Print } from './report.js';

export interface ResourcesOptions {
  /** Rebuilds to reach (ats_ingress_builds_total, and as many tables published). */
  rebuilds: number;
  /** Rebuilds before the first sample (the warm-up: JIT, heap growth, first mappings). */
  warmup: number;
  /** Bound on the churn's time; the scenario fails if the rebuilds are not reached by then. */
  maxSeconds: number;
  /** Concurrent writers, each with an EndpointSlice of its own. */
  writers: number;
  /** Requests per second through ATS meanwhile. */
  rate: number;
  print?: Print;
}

// The short one also goes through the API server: 10,000 rebuilds took 44 s
// here (230/s) and 83 s at load average 5; maxSeconds is a bound, not a plan.
export const SHORT_RESOURCES: ResourcesOptions = { rebuilds: 10_000, warmup: 1_000, maxSeconds: 240, writers: 3, rate: 20 };
export const LONG_RESOURCES: ResourcesOptions = { rebuilds: 50_000, warmup: 2_000, maxSeconds: 900, writers: 3, rate: 50 };

const NS = 'soak-resources';
const PORT = 8080;
const ANN = 'ats.ingress.kubernetes.io/';
/** After the warm-up, RSS may grow by at most this much by the end. */
export const RSS_BOUND_MIB = 50;
/** ... and open descriptors by at most this many. */
export const FD_BOUND = 20;
/** Events per object (src/publish/events.ts: maxPerObject). */
const EVENTS_PER_OBJECT = 10;
/** Events per second at most (src/publish/events.ts: ratePerSecond), with a burst of as many. */
const EVENTS_PER_SECOND = 50;
/** The flapping Ingress's annotation changes every this many writes of the first writer. */
const FLAP_EVERY = 100;

/**
 * The harness runs ATS with proxy.config.exec_thread.limit 2: each of those
 * threads keeps its own reference to the table it last routed with (until
 * its next request), besides the table the source serves.
 */
const ATS_THREADS = 2;

const PODS_PER_WRITER = 3;
const STEADY = 'steady-0';
const NEVER = 'churn-never';

// Fourteen annotations with values of the wrong form: fourteen problems, on one Ingress.
const NOISY_ANNOTATIONS: Record<string, string> = {
  [`${ANN}backend-protocol`]: 'GOPHER',
  [`${ANN}connect-timeout`]: 'soon',
  [`${ANN}response-timeout`]: 'later',
  [`${ANN}ssl-redirect`]: 'perhaps',
  [`${ANN}cache`]: 'sometimes',
  [`${ANN}cache-default-ttl`]: 'forever',
  [`${ANN}cache-max-ttl`]: 'always',
  [`${ANN}cache-serve-stale`]: 'never',
  [`${ANN}cache-ignore-query`]: 'maybe',
  [`${ANN}cache-generation`]: '-1',
  [`${ANN}upstream-vhost`]: 'not a host!',
  [`${ANN}auth-tls-verify-client`]: 'sometimes',
  [`${ANN}auth-tls-verify-depth`]: '99',
  [`${ANN}tls-min-version`]: 'SSLv2',
};

interface Sample {
  label: string;
  rebuilds: number;
  published: number;
  controllerRss: number;
  controllerHeap: number;
  atsRss: number;
  controllerFds: number;
  atsFds: number;
  shm: string[];
  atsMapped: string[];
}

function ingress(name: string, host: string, service: string, annotations?: Record<string, string>) {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: NS, ...(annotations ? { annotations } : {}) },
    spec: { ingressClassName: 'ats', rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: service, port: { number: 80 } } } }] } }] },
  };
}

/** One series of a Prometheus text exposition (0 when absent). */
export function metric(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

export interface ResourcesReport {
  /** Every invariant, named; assertAll() fails with those that did not hold. */
  checks: Checks;
  /** The Ingress whose problem came and went: how often it appeared, and how many Events it has. */
  flapper: { appeared: number; events: number };
}

/** Runs the soak; the caller asserts `checks` (and states what it expects of the flapping Ingress). */
export async function runResourcesSoak(o: ResourcesOptions): Promise<ResourcesReport> {
  const out = o.print ?? defaultPrint;
  const checks = new Checks();
  const pods = [STEADY, NEVER, ...Array.from({ length: o.writers * PODS_PER_WRITER }, (_, i) => `churn-${i}`)];
  let e: E2e | undefined;
  let load: LoadRun | undefined;
  try {
    e = await E2e.start({
      tag: 'soakr',
      pods: pods.length,
      backends: pods.map((pod, i) => ({ service: `${NS}/${pod === STEADY ? 'steady' : 'churn'}`, pod, podIndex: i, port: PORT })),
    });
    const env = e;
    const address = (pod: string) => env.backends.list.find((b) => b.pod === pod)!.address;
    const slice = (name: string, service: string, endpoints: Array<{ pod: string; ready: boolean }>) =>
      env.apply(`/apis/discovery.k8s.io/v1/namespaces/${NS}/endpointslices/${name}`, {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name, namespace: NS, labels: { 'kubernetes.io/service-name': service, 'endpointslice.kubernetes.io/managed-by': MANAGED_BY } },
        addressType: 'IPv4',
        ports: [{ name: 'http', port: PORT, protocol: 'TCP' }],
        endpoints: endpoints.map((x) => ({ addresses: [address(x.pod)], conditions: { ready: x.ready } })),
      });
    // Writer w owns pods churn-(3w)..churn-(3w+2) in slice churn-w; step i makes ready the pods
    // of bit mask (i mod 7) + 1: never none, never the same twice in a row.
    const churnSlice = (w: number, step: number) =>
      slice(`churn-${w}`, 'churn', [
        ...Array.from({ length: PODS_PER_WRITER }, (_, k) => ({ pod: `churn-${w * PODS_PER_WRITER + k}`, ready: (((step % 7) + 1) & (1 << k)) !== 0 })),
        ...(w === 0 ? [{ pod: NEVER, ready: false }] : []),
      ]);

    await e.kubectl(['apply', '-f', join(K8S_DIR, 'traffic-server', '20-ingressclass.yaml')]);
    await e.kubectl(['create', 'namespace', NS]);
    for (const svc of ['steady', 'churn']) {
      await e.apply(`/api/v1/namespaces/${NS}/services/${svc}`, { apiVersion: 'v1', kind: 'Service', metadata: { name: svc, namespace: NS }, spec: { ports: [{ name: 'http', port: 80, targetPort: PORT }] } });
    }
    await slice('steady', 'steady', [{ pod: STEADY, ready: true }]);
    for (let w = 0; w < o.writers; w++) await churnSlice(w, 0);
    const putIngress = (obj: ReturnType<typeof ingress>) => env.apply(`/apis/networking.k8s.io/v1/namespaces/${NS}/ingresses/${obj.metadata.name}`, obj);
    await putIngress(ingress('steady', 'steady.soak.test', 'steady'));
    await putIngress(ingress('churn', 'churn.soak.test', 'churn'));
    await putIngress(ingress('noisy', 'noisy.soak.test', 'steady', NOISY_ANNOTATIONS));
    let flaps = 0;
    const flapper = (bad: boolean) => ingress('flapper', 'flapper.soak.test', 'steady', { [`${ANN}connect-timeout`]: bad ? 'soon' : '5s' });
    await putIngress(flapper(false));

    const controller: ControllerProcess = await e.startController(['--ats-stats-url', e.statsUrl]);
    await controller.waitReady(60_000);
    for (const host of ['steady.soak.test', 'churn.soak.test']) await e.until(`${host} served`, { host, path: '/' }, (r) => echo(r) !== undefined);
    const atsPid = trafficServerPid(e.ats!.pid);
    const shmBefore = shmObjects(e.table);
    out(`set up: traffic_server pid ${atsPid}, the controller pid ${controller.pid}; ${o.writers} writers, each rewriting an EndpointSlice of ${PODS_PER_WRITER} pods through the API server as fast as it answers; /dev/shm holds ${shmBefore.length} objects of the table: ${shmBefore.join(' ')}`);

    load = await startLoad({
      httpPort: e.atsPort,
      rate: o.rate,
      targets: [
        { name: 'churn', host: 'churn.soak.test', path: '/load' },
        { name: 'steady', host: 'steady.soak.test', path: '/load' },
      ],
      maxSeconds: o.maxSeconds + 120,
      maxRequests: o.rate * (o.maxSeconds + 120),
    });

    const counts = async () => {
      const text = (await controller.admin('/metrics')).text;
      return {
        rebuilds: metric(text, 'ats_ingress_builds_total'),
        published: metric(text, 'ats_ingress_table_publishes_total{outcome="published"}'),
        heap: metric(text, 'nodejs_heap_size_used_bytes'),
      };
    };
    const base = await counts();
    const sample = async (label: string): Promise<Sample> => {
      const c = await counts();
      const s: Sample = {
        label,
        rebuilds: c.rebuilds - base.rebuilds,
        published: c.published - base.published,
        controllerRss: rssBytes(controller.pid),
        controllerHeap: c.heap,
        atsRss: rssBytes(atsPid),
        controllerFds: fdCount(controller.pid),
        atsFds: fdCount(atsPid),
        shm: shmObjects(env.table),
        atsMapped: mappedShm(atsPid, env.table),
      };
      out(`${label.padEnd(8)} after ${String(s.rebuilds).padStart(6)} rebuilds (${s.published} tables published): controller RSS ${mib(s.controllerRss)} MiB (heap used ${mib(s.controllerHeap)} MiB), traffic_server RSS ${mib(s.atsRss)} MiB; open descriptors: controller ${s.controllerFds}, traffic_server ${s.atsFds}; /dev/shm: ${s.shm.length} objects of the table; traffic_server maps ${s.atsMapped.length}: ${s.atsMapped.join(' ')}`);
      return s;
    };

    // The churn: every writer rewrites its slice as soon as the last write was answered.
    const t0 = performance.now();
    let stop = false;
    let writes = 0;
    let writeErrors = 0;
    const errorsSeen: string[] = [];
    const writer = async (w: number) => {
      for (let step = 1; !stop; step++) {
        try {
          await churnSlice(w, step);
          writes++;
          if (w === 0 && step % FLAP_EVERY === 0) {
            flaps++;
            await putIngress(flapper(flaps % 2 === 1));
          }
        } catch (err) {
          writeErrors++;
          if (errorsSeen.length < 5) errorsSeen.push((err as Error).message.slice(0, 200));
          await delay(50);
        }
        if (performance.now() - t0 > o.maxSeconds * 1000) stop = true;
      }
    };
    const writing = Promise.all(Array.from({ length: o.writers }, (_, w) => writer(w)));
    const samples: Sample[] = [];
    const mid = o.warmup + Math.ceil((o.rebuilds - o.warmup) / 2);
    const marks: Array<[string, number]> = [['warm', o.warmup], ['middle', mid], ['end', o.rebuilds]];
    try {
      for (const [label, at] of marks) {
        for (;;) {
          const c = await counts();
          if (c.rebuilds - base.rebuilds >= at && c.published - base.published >= at) break;
          if (stop) break;
          await delay(200);
        }
        if (stop) break;
        samples.push(await sample(label));
      }
    } finally {
      stop = true;
      await writing;
    }
    const churnMs = performance.now() - t0;
    const final = await counts();
    const rebuilds = final.rebuilds - base.rebuilds;
    const published = final.published - base.published;
    out(`churn: ${writes} EndpointSlice writes through the API server in ${fmtMs(churnMs)} (${Math.round(writes / (churnMs / 1000))}/s, ${writeErrors} failed${errorsSeen.length ? `: ${errorsSeen.join('; ')}` : ''}), ${flaps} changes of the flapping Ingress; ${rebuilds} rebuilds (${Math.round(rebuilds / (churnMs / 1000))}/s), ${published} tables published`);
    checks.check(`at least ${o.rebuilds} rebuilds within ${o.maxSeconds} s`, rebuilds >= o.rebuilds, () => `${rebuilds} rebuilds, ${published} published, in ${fmtMs(churnMs)}`);
    checks.check(`at least ${o.rebuilds} tables published`, published >= o.rebuilds, () => `${published}`);
    checks.check('every write answered', writeErrors === 0, () => `${writeErrors} failed: ${errorsSeen.join('; ')}`);

    // The last change is served: the churned route answers from a pod of its last state.
    const settled = await e.until('the churn settles', { host: 'churn.soak.test', path: '/' }, (r) => echo(r)?.service === `${NS}/churn`);
    checks.check('the churned route serves after the churn', settled.response.status === 200, () => String(settled.response.status));

    const result = await load.stop();
    const errors = result.samples.filter((x) => x.k !== 'ok');
    const ok = result.samples.filter((x) => x.k === 'ok');
    out(`load: ${result.sent} requests at ${o.rate}/s meanwhile, answers by status ${formatCounts(countBy(result.samples.filter((x) => x.st > 0), (x) => String(x.st)))}; errors by kind ${formatCounts(countBy(errors, (x) => x.k))}; longest stall ${fmtMs(longestStall(result.samples, result.startedAt, result.endedAt).ms)}`);
    checks.check('no failed request through ATS during the churn', errors.length === 0, () => errors.slice(0, 5).map((x) => `${x.k} ${x.st} ${x.msg ?? ''}`).join('; '));
    checks.check('no answer from the pod that is never ready', !ok.some((x) => x.pod === NEVER), () => 'churn-never answered');
    const wrong = ok.filter((x) => x.svc !== `${NS}/${result.config.targets[x.t]!.name}`);
    checks.check('every answer from its route\'s Service', wrong.length === 0, () => wrong.slice(0, 3).map((x) => `${x.svc}@${x.pod}`).join(', '));

    // Resources.
    const [warm, middle, end] = samples;
    if (warm && end) {
      const grew = (a: number, b: number) => `${mib(a)} → ${mib(b)} MiB (${b >= a ? '+' : ''}${mib(b - a)})`;
      out(`RSS from the warm-up to the end: controller ${grew(warm.controllerRss, end.controllerRss)}, traffic_server ${grew(warm.atsRss, end.atsRss)} (bound: +${RSS_BOUND_MIB} MiB); middle: controller ${mib(middle!.controllerRss)} MiB, traffic_server ${mib(middle!.atsRss)} MiB`);
      checks.check(`controller RSS flat: end ≤ warm-up + ${RSS_BOUND_MIB} MiB`, end.controllerRss <= warm.controllerRss + RSS_BOUND_MIB * 1024 * 1024, () => grew(warm.controllerRss, end.controllerRss));
      checks.check(`traffic_server RSS flat: end ≤ warm-up + ${RSS_BOUND_MIB} MiB`, end.atsRss <= warm.atsRss + RSS_BOUND_MIB * 1024 * 1024, () => grew(warm.atsRss, end.atsRss));
      checks.check(`controller descriptors: end ≤ warm-up + ${FD_BOUND}`, end.controllerFds <= warm.controllerFds + FD_BOUND, () => `${warm.controllerFds} → ${end.controllerFds}: ${JSON.stringify(fdKinds(controller.pid))}`);
      checks.check(`traffic_server descriptors: end ≤ warm-up + ${FD_BOUND}`, end.atsFds <= warm.atsFds + FD_BOUND, () => `${warm.atsFds} → ${end.atsFds}: ${JSON.stringify(fdKinds(atsPid))}`);
    } else {
      checks.check('the samples were taken', false, () => `${samples.length} of 3`);
    }
    const shmAfter = shmObjects(env.table);
    const generations = (names: string[]) => names.filter((n) => /^ats-ingress\.[^.]+\.\d+$/.test(n));
    out(`/dev/shm objects of the table: ${shmBefore.length} before (${generations(shmBefore).length} route tables), ${shmAfter.length} after (${generations(shmAfter).length} route tables): ${shmAfter.join(' ')}`);
    checks.check('old generations reclaimed: at most two route tables in /dev/shm (the published one and the one before)', generations(shmAfter).length <= 2, () => shmAfter.join(' '));
    checks.check('/dev/shm holds at most one more object of the table than before the churn (the previous route table, kept for a reader about to open it)', shmAfter.length <= shmBefore.length + 1, () => `${shmBefore.join(' ')} → ${shmAfter.join(' ')}`);
    const mappedMax = Math.max(...samples.map((s) => generations(s.atsMapped).length));
    checks.check(`traffic_server lets old tables go: at most ${ATS_THREADS + 1} route tables mapped at any sample (the source's, and one per thread that routes)`, mappedMax <= ATS_THREADS + 1, () => samples.map((s) => `${s.label}: ${s.atsMapped.join(' ')}`).join('; '));

    // Events that reached the API server.
    await delay(2_000); // the recorder's last writes
    const list = await e.kube.request('GET', `/api/v1/namespaces/${NS}/events?limit=10000`);
    const events = (list.body?.items ?? []) as Array<{ involvedObject: { kind: string; name: string }; reason: string; count?: number; source?: { component?: string } }>;
    const ours = events.filter((x) => x.source?.component === 'ats-ingress');
    const byObject = countBy(ours, (x) => `${x.involvedObject.kind}/${x.involvedObject.name}`);
    out(`Events in ${NS} from ats-ingress: ${ours.length}, by object: ${formatCounts(byObject)}; bounds: ${EVENTS_PER_OBJECT} per object, ${EVENTS_PER_SECOND}/s`);
    const noisy = ours.filter((x) => x.involvedObject.name === 'noisy');
    checks.check(`the Ingress with ${Object.keys(NOISY_ANNOTATIONS).length} problems has Events, at most ${EVENTS_PER_OBJECT}`, noisy.length > 0 && noisy.length <= EVENTS_PER_OBJECT, () => `${noisy.length}: ${formatCounts(countBy(noisy, (x) => x.reason))}`);
    checks.check('its Events were posted once through every rebuild (count 1)', noisy.every((x) => (x.count ?? 1) === 1), () => noisy.map((x) => `${x.reason} ×${x.count}`).join(', '));
    checks.check(`the Events of the whole run stay under the rate limit (${EVENTS_PER_SECOND}/s)`, ours.length <= EVENTS_PER_SECOND * (churnMs / 1000 + 10) + EVENTS_PER_SECOND, () => `${ours.length} Events in ${fmtMs(churnMs)}`);
    const flapperEvents = ours.filter((x) => x.involvedObject.name === 'flapper').length;
    out(`the flapping Ingress: its problem appeared ${Math.ceil(flaps / 2)} times; it has ${flapperEvents} Events`);
    out(`checks: ${checks.passed.length} held, ${checks.failed.length} failed`);
    return { checks, flapper: { appeared: Math.ceil(flaps / 2), events: flapperEvents } };
  } finally {
    await load?.stop().catch(() => undefined);
    await e?.close();
  }
}
