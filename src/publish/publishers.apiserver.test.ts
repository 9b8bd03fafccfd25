// Events, Ingress status and leader election against a real kube-apiserver,
// as the controller's ServiceAccount user with only the RBAC it ships with.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { CONTROLLER_USER, startKube, type KubeCluster } from '../../test/harness/kube.js';
import type { Problem } from '../model/model.js';
import type { Ingress } from '../kube/types.js';
import { KubeClient } from '../kube/client.js';
import type { Logger } from '../observe/logger.js';
import { recordingLogger } from '../testing/recording-logger.js';
import { LEADER_RULES, PUBLISH_RULES, SOURCE_RULES, rbacManifest, sleepMs, waitFor } from '../testing/kube-testkit.js';
import { KubeEventRecorder, reasonOf, type EventProblem } from './events.js';
import { LeaderElector } from '../kube/leader.js';
import { KubeStatusWriter, parsePublishAddresses } from './ingress-status.js';

let kube: KubeCluster;
let client: KubeClient;
const LEASE_NS = 'ats-ingress';

before(
  async () => {
    const t0 = Date.now();
    kube = await startKube();
    console.log(`# kube-apiserver ready in ${Date.now() - t0} ms`);
    const ns = await kube.request('POST', '/api/v1/namespaces', { metadata: { name: LEASE_NS } });
    assert.equal(ns.status, 201, ns.text);
    const r = await kube.kubectl(['apply', '-f', '-'], {
      input: rbacManifest({ name: 'ats-ingress', user: CONTROLLER_USER, clusterRules: [...SOURCE_RULES, ...PUBLISH_RULES], leaseNamespace: LEASE_NS, leaseRules: LEADER_RULES }),
    });
    assert.equal(r.code, 0, r.stderr);
    client = await KubeClient.create({ kubeconfig: kube.kubeconfig('controller') });
  },
  { timeout: 10 * 60_000 },
);

after(async () => {
  client?.close();
  await kube?.stop();
});

async function namespace(name: string): Promise<void> {
  const r = await kube.request('POST', '/api/v1/namespaces', { metadata: { name } });
  assert.ok(r.status === 201 || r.status === 409, r.text);
}

async function ingress(ns: string, name: string): Promise<Ingress> {
  const r = await kube.request('POST', `/apis/networking.k8s.io/v1/namespaces/${ns}/ingresses`, {
    metadata: { name },
    spec: { rules: [{ host: `${name}.example.test`, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
  });
  assert.equal(r.status, 201, r.text);
  return { ...r.body, kind: 'Ingress' } as Ingress;
}

async function getIngress(ns: string, name: string): Promise<Ingress> {
  const r = await kube.request('GET', `/apis/networking.k8s.io/v1/namespaces/${ns}/ingresses/${name}`);
  assert.equal(r.status, 200, r.text);
  return { ...r.body, kind: 'Ingress' } as Ingress;
}

interface ApiEvent {
  metadata: { name: string };
  reason: string;
  message: string;
  type: string;
  count: number;
  involvedObject: { kind: string; name: string; namespace?: string; uid?: string; apiVersion: string };
  reportingComponent: string;
  reportingInstance: string;
  source: { component: string };
}

async function eventsIn(ns: string): Promise<ApiEvent[]> {
  const r = await kube.request('GET', `/api/v1/namespaces/${ns}/events`);
  assert.equal(r.status, 200, r.text);
  return r.body.items as ApiEvent[];
}

function problem(ns: string, name: string, field: string, message: string, reason?: string): EventProblem {
  const p: Problem = { kind: 'Ingress', namespace: ns, name, field, message, severity: 'Error' };
  return reason ? { ...p, reason } : p;
}

function logCollector(): { lines: string[]; log: Logger } {
  const { logger, lines } = recordingLogger();
  // As text, so tests match on level, message and fields at once.
  return {
    get lines() {
      return lines.map((l) => `${l.level} ${l.msg} ${JSON.stringify(l.fields ?? {})}`);
    },
    log: logger,
  };
}

describe('Kubernetes Events for problems', () => {
  test('posted once per appearance, with the reason, the field, the Ingress and its uid', async () => {
    const ns = 'ev-a';
    await namespace(ns);
    const web = await ingress(ns, 'web');
    const recorder = new KubeEventRecorder({
      transport: client,
      instance: 'ats-ingress-0',
      uidOf: (kind, n, name) => (kind === 'Ingress' && n === ns && name === 'web' ? web.metadata.uid : undefined),
    });
    const host = problem(ns, 'web', 'spec.rules[0].host', 'not a valid DNS name: "a..b"');
    const conflict = problem(ns, 'web', 'spec.rules[0].http.paths[0]', 'a.example.test/ is already served by ev-a/other', 'RouteConflict');
    const controller: Problem = { kind: 'Controller', namespace: '', name: 'config', field: '--default-backend', message: 'x', severity: 'Warning' };

    const t0 = Date.now();
    let r = await recorder.publishProblems([host, conflict, controller]);
    console.log(`# 2 Events posted in ${Date.now() - t0} ms`);
    assert.deepEqual(r, { posted: 2, refreshed: 0, unchanged: 0, dropped: 0, failed: 0, skipped: 1 });
    let events = await eventsIn(ns);
    assert.equal(events.length, 2);
    const byReason = new Map(events.map((e) => [e.reason, e]));
    const h = byReason.get('InvalidHost');
    assert.ok(h, JSON.stringify(events));
    assert.equal(h.type, 'Warning');
    assert.equal(h.message, 'spec.rules[0].host: not a valid DNS name: "a..b"');
    assert.deepEqual(h.involvedObject, { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'web', namespace: ns, uid: web.metadata.uid });
    assert.equal(h.reportingComponent, 'ats-ingress');
    assert.equal(h.reportingInstance, 'ats-ingress-0');
    assert.equal(h.source.component, 'ats-ingress');
    assert.equal(h.count, 1);
    assert.ok(byReason.get('RouteConflict'));

    // The next builds say the same: nothing posted.
    r = await recorder.publishProblems([conflict, host]);
    assert.deepEqual(r, { posted: 0, refreshed: 0, unchanged: 2, dropped: 0, failed: 0, skipped: 0 });
    // The host problem goes away, then comes back, again and again: its one Event counts up.
    for (let i = 0; i < 12; i++) {
      r = await recorder.publishProblems([conflict]);
      assert.deepEqual([r.posted, r.refreshed], [0, 0]);
      r = await recorder.publishProblems([conflict, host]);
      assert.deepEqual([r.posted, r.refreshed], [0, 1], `reappearance ${i + 1}`);
    }
    events = await eventsIn(ns);
    assert.equal(events.length, 2);
    assert.equal(events.find((e) => e.reason === 'InvalidHost')!.count, 13);

    // `kubectl describe` shows them on the Ingress.
    const d = await kube.kubectl(['describe', 'ingress', '-n', ns, 'web'], { user: 'admin' });
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout, /Warning\s+InvalidHost\s+.*ats-ingress\s+spec\.rules\[0\]\.host: not a valid DNS name/);
  });

  test('a persisting problem is refreshed (count + 1) after refreshAfterMs, not posted anew', async () => {
    const ns = 'ev-b';
    await namespace(ns);
    await ingress(ns, 'web');
    let now = Date.now();
    const recorder = new KubeEventRecorder({ transport: client, refreshAfterMs: 60_000, now: () => now });
    const p = problem(ns, 'web', 'metadata.annotations[ats.ingress.kubernetes.io/timeout]', 'not a duration: "5 parsecs"');
    assert.equal(reasonOf(p), 'InvalidAnnotation');
    assert.equal((await recorder.publishProblems([p])).posted, 1);
    now += 61_000;
    const r = await recorder.publishProblems([p]);
    assert.equal(r.refreshed, 1);
    const events = await eventsIn(ns);
    assert.equal(events.length, 1);
    assert.equal(events[0]!.count, 2);
    assert.equal(events[0]!.reason, 'InvalidAnnotation');
  });

  test('a problem that comes back after rememberMs, or once maxRemembered newer ones went, gets a new Event', async () => {
    const ns = 'ev-f';
    await namespace(ns);
    await ingress(ns, 'web');
    let now = Date.now();
    const recorder = new KubeEventRecorder({ transport: client, rememberMs: 60_000, maxRemembered: 2, now: () => now });
    const p = (i: number) => problem(ns, 'web', `spec.rules[${i}].host`, 'not a valid DNS name');
    await recorder.publishProblems([p(0), p(1), p(2)]);
    await recorder.publishProblems([]);
    // Three gone, two remembered: p(0), the oldest... all went at once, so the first in order goes.
    let r = await recorder.publishProblems([p(0), p(1), p(2)]);
    assert.deepEqual([r.posted, r.refreshed], [1, 2]);
    await recorder.publishProblems([]);
    now += 61_000;
    r = await recorder.publishProblems([p(1)]);
    assert.deepEqual([r.posted, r.refreshed], [1, 0], 'remembered no longer');
    assert.equal((await eventsIn(ns)).length, 5);
  });

  test('bounded rate: over ratePerSecond problems are dropped with a log line and posted on a later publish', async () => {
    const ns = 'ev-c';
    await namespace(ns);
    const logs = logCollector();
    const recorder = new KubeEventRecorder({ transport: client, ratePerSecond: 5, logger: logs.log });
    const many = Array.from({ length: 12 }, (_, i) => problem(ns, `ing-${i}`, 'spec.rules[0].host', `bad host ${i}`));
    const t0 = Date.now();
    const r1 = await recorder.publishProblems(many);
    assert.equal(r1.posted, 5);
    assert.equal(r1.dropped, 7);
    assert.ok(logs.lines.some((l) => l.startsWith('warn kubernetes events: over the rate limit') && l.includes('"dropped":7')), logs.lines.join('\n'));
    let total = r1.posted;
    while (total < 12) {
      await sleepMs(250);
      total += (await recorder.publishProblems(many)).posted;
    }
    const seconds = (Date.now() - t0) / 1000;
    assert.ok(seconds >= 1, `12 events at 5/s (burst 5) take over a second, took ${seconds}`);
    assert.equal((await eventsIn(ns)).length, 12);
  });

  test('fair: one object with thousands of problems gets maxPerObject Events, and does not hold back the others', async () => {
    const ns = 'ev-d';
    await namespace(ns);
    const recorder = new KubeEventRecorder({ transport: client, ratePerSecond: 20, maxPerObject: 5 });
    const flood = Array.from({ length: 2000 }, (_, i) => problem(ns, 'huge', `spec.rules[0].http.paths[${i}].path`, `unmatchable ${i}`));
    const others = Array.from({ length: 8 }, (_, i) => problem(ns, `small-${i}`, 'spec.rules[0].host', `bad host ${i}`));
    const r = await recorder.publishProblems([...flood, ...others]);
    // Within the 20 tokens: one Event for each small object, and huge's 4 first problems and a summary.
    assert.equal(r.posted, 13);
    const events = await eventsIn(ns);
    assert.equal(events.filter((e) => e.involvedObject.name.startsWith('small-')).length, 8, 'every other object has its Event');
    const huge = events.filter((e) => e.involvedObject.name === 'huge');
    assert.equal(huge.length, 5, 'the flood is 4 Events and one summary');
    const summary = huge.find((e) => e.reason === 'MoreProblems');
    assert.ok(summary, JSON.stringify(huge.map((e) => e.reason)));
    assert.match(summary.message, /^1996 more problems of this object are not posted as Events/);
  });

  test('reason fallback', () => {
    assert.equal(reasonOf(problem('a', 'b', 'spec.rules[0].http.paths[1].backend.service.port.number', 'x')), 'InvalidPortNumber');
    assert.equal(reasonOf(problem('a', 'b', 'spec.tls[0].secretName', 'x')), 'InvalidSecretName');
    assert.equal(reasonOf(problem('a', 'b', 'spec.rules[0].host', 'x', 'ServiceNotFound')), 'ServiceNotFound');
    assert.equal(reasonOf(problem('a', 'b', 'spec', 'x', 'not a reason')), 'InvalidSpec');
  });
});

describe('Ingress status', () => {
  test('set on served Ingresses, only when different; cleared on those no longer served; others untouched', async () => {
    const ns = 'st-a';
    await namespace(ns);
    for (const n of ['a', 'b', 'c', 'd']) await ingress(ns, n);
    const writer = new KubeStatusWriter({ transport: client, addresses: parsePublishAddresses(['10.0.0.7', 'ingress.example.test', '2001:db8::1']) });
    const want = [{ ip: '10.0.0.7' }, { hostname: 'ingress.example.test' }, { ip: '2001:db8::1' }];
    // d carries another controller's address.
    const other = await kube.request('PATCH', `/apis/networking.k8s.io/v1/namespaces/${ns}/ingresses/d/status`, { status: { loadBalancer: { ingress: [{ ip: '192.0.2.9' }] } } });
    assert.equal(other.status, 200, other.text);
    const all = async () => Promise.all(['a', 'b', 'c', 'd'].map((n) => getIngress(ns, n)));

    const t0 = Date.now();
    let r = await writer.sync([`${ns}/a`, `${ns}/b`, `${ns}/c`], await all());
    console.log(`# 3 status patches in ${Date.now() - t0} ms`);
    assert.deepEqual(r.patched, [`${ns}/a`, `${ns}/b`, `${ns}/c`]);
    assert.deepEqual(r.cleared, []);
    assert.equal(r.unchanged, 1);
    for (const n of ['a', 'b', 'c']) assert.deepEqual((await getIngress(ns, n)).status?.loadBalancer?.ingress, want);
    assert.deepEqual((await getIngress(ns, 'd')).status?.loadBalancer?.ingress, [{ ip: '192.0.2.9' }]);

    // The same objects again (the watch has not shown the patch yet): nothing written.
    const stale = await all();
    r = await writer.sync([`${ns}/a`, `${ns}/b`, `${ns}/c`], stale);
    assert.deepEqual([r.patched, r.cleared, r.unchanged], [[], [], 4]);

    // c is no longer served: cleared; d (not ours) is left alone; a served still, nothing to do.
    r = await writer.sync([`${ns}/a`, `${ns}/b`], await all());
    assert.deepEqual(r.cleared, [`${ns}/c`]);
    assert.deepEqual(r.patched, []);
    const c = await getIngress(ns, 'c');
    assert.deepEqual(c.status?.loadBalancer?.ingress, undefined);
    assert.deepEqual((await getIngress(ns, 'd')).status?.loadBalancer?.ingress, [{ ip: '192.0.2.9' }]);

    // Someone overwrites a's status: the next sync puts it back.
    await kube.request('PATCH', `/apis/networking.k8s.io/v1/namespaces/${ns}/ingresses/a/status`, { status: { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } } });
    r = await writer.sync([`${ns}/a`, `${ns}/b`], await all());
    assert.deepEqual(r.patched, [`${ns}/a`]);
    // A deleted Ingress (404) is not a failure.
    const gone = await getIngress(ns, 'b');
    await kube.request('DELETE', `/apis/networking.k8s.io/v1/namespaces/${ns}/ingresses/b`);
    r = await writer.sync([`${ns}/b`], [{ ...gone, status: {} }]);
    assert.deepEqual(r.failed, []);
  });

  test('publish addresses are checked', () => {
    assert.deepEqual(parsePublishAddresses(['1.2.3.4', ' LB.Example.Test ', '1.2.3.4', '']), [{ ip: '1.2.3.4' }, { hostname: 'lb.example.test' }]);
    assert.throws(() => parsePublishAddresses(['http://x']), /--publish-address "http:\/\/x" is neither an IP address nor a DNS name/);
  });
});

describe('Leader election on a Lease', () => {
  const timings = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 300 };

  async function lease(name: string): Promise<{ spec: Record<string, unknown>; metadata: { resourceVersion: string } }> {
    const r = await kube.request('GET', `/apis/coordination.k8s.io/v1/namespaces/${LEASE_NS}/leases/${name}`);
    assert.equal(r.status, 200, r.text);
    return r.body;
  }

  test('two electors: one leads; stop() hands over to the other quickly', async () => {
    const name = 'handover';
    const a = new LeaderElector({ transport: client, namespace: LEASE_NS, name, identity: 'pod-a', ...timings });
    const b = new LeaderElector({ transport: client, namespace: LEASE_NS, name, identity: 'pod-b', ...timings });
    const changes: string[] = [];
    a.onChange((l) => changes.push(`a:${l}`));
    b.onChange((l) => changes.push(`b:${l}`));
    try {
      a.start();
      await waitFor('a leads', () => a.isLeader(), 5_000);
      b.start();
      await sleepMs(1_000);
      assert.equal(b.isLeader(), false, 'b waits while a renews');
      assert.equal(b.currentHolder(), 'pod-a');
      let l = await lease(name);
      assert.equal(l.spec['holderIdentity'], 'pod-a');
      assert.equal(l.spec['leaseDurationSeconds'], 3);
      assert.match(String(l.spec['renewTime']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);

      const t0 = Date.now();
      await a.stop();
      assert.equal(a.isLeader(), false);
      await waitFor('b leads', () => b.isLeader(), 5_000);
      const handover = Date.now() - t0;
      console.log(`# handover after stop(): ${handover} ms (retry period ${timings.retryPeriodMs} ms, lease ${timings.leaseDurationMs} ms)`);
      assert.ok(handover < timings.leaseDurationMs, 'faster than waiting for the lease to expire');
      l = await lease(name);
      assert.equal(l.spec['holderIdentity'], 'pod-b');
      assert.equal(l.spec['leaseTransitions'], 1);
      assert.deepEqual(changes, ['a:true', 'a:false', 'b:true']);
    } finally {
      await a.stop();
      await b.stop();
    }
    assert.ok(!(await lease(name)).spec['holderIdentity'], 'released on stop');
  });

  test('a leader that vanishes without releasing is replaced after the lease duration', async () => {
    const name = 'crash';
    const a = new LeaderElector({ transport: client, namespace: LEASE_NS, name, identity: 'pod-a', ...timings });
    const b = new LeaderElector({ transport: client, namespace: LEASE_NS, name, identity: 'pod-b', ...timings });
    try {
      a.start();
      await waitFor('a leads', () => a.isLeader(), 5_000);
      b.start();
      await sleepMs(500);
      const t0 = Date.now();
      await a.stop({ release: false });
      await waitFor('b leads', () => b.isLeader(), 10_000);
      const took = Date.now() - t0;
      console.log(`# takeover without release: ${took} ms (lease ${timings.leaseDurationMs} ms)`);
      assert.ok(took >= timings.leaseDurationMs - 1_000, `not before the lease ran out (${took} ms)`);
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  test('several candidates at once: exactly one leads at any time', async () => {
    const name = 'race';
    const electors = Array.from({ length: 4 }, (_, i) => new LeaderElector({ transport: client, namespace: LEASE_NS, name, identity: `pod-${i}`, ...timings }));
    try {
      for (const e of electors) e.start();
      await waitFor('a leader', () => electors.some((e) => e.isLeader()), 5_000);
      for (let i = 0; i < 10; i++) {
        assert.equal(electors.filter((e) => e.isLeader()).length, 1);
        await sleepMs(100);
      }
      const leader = electors.find((e) => e.isLeader())!;
      assert.equal((await lease(name)).spec['holderIdentity'], leader.identity);
    } finally {
      await Promise.all(electors.map((e) => e.stop()));
    }
  });

  test('without RBAC on leases it never leads and says why', async () => {
    const logs = logCollector();
    const e = new LeaderElector({ transport: client, namespace: 'default', name: 'no-rbac', identity: 'pod-x', ...timings, logger: logs.log });
    e.start();
    try {
      await waitFor('a log line', () => logs.lines.find((l) => l.includes('cannot read the lease')), 5_000);
      assert.equal(e.isLeader(), false);
      assert.match(logs.lines.join('\n'), /HTTP 403 Forbidden: leases.coordination.k8s.io \\"no-rbac\\" is forbidden/);
    } finally {
      await e.stop();
    }
  });
});
