// The watch state machine of KubernetesSource, driven through a fake
// transport: every transition (410 as an event or a status, errors and
// backoff, clean ends, bookmarks, the watchdog, namespaces merged, start
// timeout, stop) without a server, and fast.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import type { Kind } from '../kube/types.js';
import type { KubeRequest, KubeTransport, RawWatchEvent, WatchRequest } from '../kube/client.js';
import { KubeApiError } from '../kube/errors.js';
import { KubernetesSource, normalizeObject, type KubernetesSourceOptions } from './kubernetes.js';
import { RecordingSink, sleepMs, waitFor } from '../testing/kube-testkit.js';
import { recordingLogger } from '../testing/recording-logger.js';

type ListAnswer = { items: unknown[]; rv: string; continue?: string } | KubeApiError;

class FakeWatch {
  opened = false;
  ended = false;
  #resolve!: () => void;
  #reject!: (err: unknown) => void;
  readonly done: Promise<void>;
  readonly at = Date.now();

  constructor(readonly req: WatchRequest) {
    this.done = new Promise<void>((res, rej) => {
      this.#resolve = res;
      this.#reject = rej;
    });
    req.signal.addEventListener('abort', () => this.fail(new KubeApiError('aborted', 0, 'ABORTED')), { once: true });
  }

  get resourceVersion(): string | undefined {
    return this.req.query['resourceVersion'] as string | undefined;
  }

  open(): this {
    if (!this.opened && !this.ended) {
      this.opened = true;
      this.req.onOpen?.();
    }
    return this;
  }

  send(...events: RawWatchEvent[]): this {
    this.open();
    if (!this.ended) this.req.onEvents(events);
    return this;
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.#resolve();
  }

  fail(err: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.#reject(err);
  }
}

class FakeTransport implements KubeTransport {
  readonly requests: Array<{ at: number; req: KubeRequest }> = [];
  readonly watches: FakeWatch[] = [];
  /** Answers per path, used in order; the last one repeats. */
  readonly lists = new Map<string, ListAnswer[]>();

  answer(path: string, ...answers: ListAnswer[]): void {
    this.lists.set(path, answers);
  }

  async request(req: KubeRequest): Promise<unknown> {
    this.requests.push({ at: Date.now(), req });
    await Promise.resolve();
    const queue = this.lists.get(req.path);
    if (!queue || queue.length === 0) throw new KubeApiError(`no fake answer for ${req.path}`, 404, 'HTTP_404', 'NotFound');
    const a = queue.length > 1 ? queue.shift()! : queue[0]!;
    if (a instanceof KubeApiError) throw a;
    return { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: a.rv, ...(a.continue ? { continue: a.continue } : {}) }, items: structuredClone(a.items) };
  }

  watch(req: WatchRequest): Promise<void> {
    const w = new FakeWatch(req);
    this.watches.push(w);
    return w.done;
  }

  listsOf(path: string): number {
    return this.requests.filter((r) => r.req.path === path).length;
  }

  watchesOf(path: string): FakeWatch[] {
    return this.watches.filter((w) => w.req.path === path);
  }

  async nextWatch(path: string, count: number): Promise<FakeWatch> {
    return waitFor(`watch #${count} of ${path}`, () => this.watchesOf(path)[count - 1], 5_000, 2);
  }
}

const cm = (ns: string, name: string, rv: string, extra: Record<string, unknown> = {}) => ({
  metadata: { name, namespace: ns, resourceVersion: rv, managedFields: [{ manager: 'x' }] },
  data: { a: '1' },
  ...extra,
});

const CM = '/api/v1/configmaps';
const nsPath = (ns: string) => `/api/v1/namespaces/${ns}/configmaps`;

function fakeSource(t: FakeTransport, over: Partial<KubernetesSourceOptions> = {}): KubernetesSource {
  return new KubernetesSource({ transport: t, namespaces: [], kinds: ['ConfigMap'], backoff: { initialMs: 40, maxMs: 200 }, ...over });
}

describe('KubernetesSource state machine (fake transport)', () => {
  test('list → replace, watch from the list resourceVersion with bookmarks and a timeout below the watchdog', async () => {
    const t = new FakeTransport();
    t.answer(CM, { items: [cm('a', 'x', '5')], rv: '10' });
    const rec = new RecordingSink();
    const s = fakeSource(t, { watchdogMs: 10_000 });
    await s.start(rec.sink);
    try {
      const w = await t.nextWatch(CM, 1);
      assert.equal(w.resourceVersion, '10');
      assert.equal(w.req.query['allowWatchBookmarks'], true);
      const ts = w.req.query['timeoutSeconds'] as number;
      assert.ok(ts >= 5 && ts <= 7.5, `timeoutSeconds ${ts}`);
      const [replace] = rec.events;
      assert.ok(replace && replace.event.type === 'replace');
      const obj = replace.event.objects[0]!;
      assert.equal(obj.kind, 'ConfigMap');
      assert.equal((obj as { apiVersion?: string }).apiVersion, 'v1');
      assert.equal((obj.metadata as unknown as Record<string, unknown>)['managedFields'], undefined);
      w.send(
        { type: 'ADDED', object: { kind: 'ConfigMap', apiVersion: 'v1', ...cm('a', 'y', '11') } },
        { type: 'MODIFIED', object: cm('a', 'x', '12') },
        { type: 'DELETED', object: cm('a', 'y', '13') },
      );
      assert.deepEqual(
        rec.events.slice(1).map((r) => (r.event.type === 'remove' ? `remove ${r.event.key}` : r.event.type === 'upsert' ? `upsert ${r.event.object.metadata.name}` : r.event.type)),
        ['upsert y', 'upsert x', 'remove a/y'],
      );
      assert.deepEqual(rec.batches.slice(1), [3], 'one sink call per chunk');
      w.send({ type: 'BOOKMARK', object: { kind: 'ConfigMap', metadata: { resourceVersion: '20' } } });
      w.end();
      const w2 = await t.nextWatch(CM, 2);
      assert.equal(w2.resourceVersion, '20', 'a clean end resumes from the bookmark');
      assert.equal(t.listsOf(CM), 1, 'no relist after a clean end');
      assert.equal(s.health().watches[0]!.restarts, 0);
    } finally {
      await s.stop();
    }
  });

  test('Secrets: only TLS ones, with the field selector on list and watch', async () => {
    const t = new FakeTransport();
    const tls = (name: string, rv: string) => ({ metadata: { name, namespace: 'a', resourceVersion: rv }, type: 'kubernetes.io/tls', data: {} });
    t.answer('/api/v1/secrets', { items: [tls('t', '1'), { metadata: { name: 'o', namespace: 'a' }, type: 'Opaque' }], rv: '3' });
    const rec = new RecordingSink();
    const s = fakeSource(t, { kinds: ['Secret'] });
    await s.start(rec.sink);
    try {
      assert.equal(t.requests[0]!.req.query?.['fieldSelector'], 'type=kubernetes.io/tls');
      const w = await t.nextWatch('/api/v1/secrets', 1);
      assert.equal(w.req.query['fieldSelector'], 'type=kubernetes.io/tls');
      const r = rec.replaces('Secret')[0]!;
      assert.deepEqual(r.map((o) => o.metadata.name), ['t']);
    } finally {
      await s.stop();
    }
  });

  test('Namespaces: one cluster-wide watch whatever the namespaces, each kept as its name, labels, uid, resourceVersion and creationTimestamp', async () => {
    const t = new FakeTransport();
    const ns = (name: string, rv: string, labels: Record<string, string>) => ({
      metadata: { name, uid: `u-${name}`, resourceVersion: rv, creationTimestamp: '2024-01-01T00:00:00Z', labels, annotations: { a: 'b' }, managedFields: [{ manager: 'x' }], finalizers: [] },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    });
    t.answer('/api/v1/namespaces', { items: [ns('app', '4', { 'kubernetes.io/metadata.name': 'app', team: 'web' })], rv: '5' });
    const rec = new RecordingSink();
    const s = fakeSource(t, { kinds: ['Namespace'], namespaces: ['app', 'other'] });
    await s.start(rec.sink);
    try {
      assert.deepEqual(t.requests.map((r) => r.req.path), ['/api/v1/namespaces'], 'cluster-scoped: not per namespace');
      assert.deepEqual(rec.replaces('Namespace')[0], [
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'app', uid: 'u-app', resourceVersion: '4', creationTimestamp: '2024-01-01T00:00:00Z', labels: { 'kubernetes.io/metadata.name': 'app', team: 'web' } } },
      ]);
      const w = await t.nextWatch('/api/v1/namespaces', 1);
      w.send({ type: 'MODIFIED', object: { kind: 'Namespace', apiVersion: 'v1', ...ns('app', '6', { 'kubernetes.io/metadata.name': 'app', team: 'db' }) } }, { type: 'DELETED', object: ns('gone', '7', {}) });
      assert.deepEqual(
        rec.events.slice(1).map((r) => (r.event.type === 'remove' ? `remove ${r.event.key}` : r.event.type === 'upsert' ? `upsert ${JSON.stringify(r.event.object.metadata.labels)}` : r.event.type)),
        ['upsert {"kubernetes.io/metadata.name":"app","team":"db"}', 'remove gone'],
      );
    } finally {
      await s.stop();
    }
  });

  test('410 as an ERROR event: relist at once, no backoff', async () => {
    const t = new FakeTransport();
    t.answer(CM, { items: [cm('a', 'x', '5')], rv: '10' }, { items: [cm('a', 'z', '30')], rv: '31' });
    const rec = new RecordingSink();
    const s = fakeSource(t, { backoff: { initialMs: 5_000, maxMs: 5_000 } });
    await s.start(rec.sink);
    try {
      const w = await t.nextWatch(CM, 1);
      const t0 = Date.now();
      w.send({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'too old resource version: 10 (25)', reason: 'Expired', code: 410 } });
      const w2 = await t.nextWatch(CM, 2);
      assert.ok(Date.now() - t0 < 1_000, 'no backoff');
      assert.equal(w2.resourceVersion, '31');
      assert.equal(t.listsOf(CM), 2);
      const h = s.health().watches[0]!;
      assert.equal(h.goneRelists, 1);
      assert.equal(h.restarts, 1);
      assert.equal(h.consecutiveErrors, 0);
      assert.deepEqual(rec.replaces('ConfigMap')[1]!.map((o) => o.metadata.name), ['z']);
    } finally {
      await s.stop();
    }
  });

  test('410 as an HTTP status of the watch: relist at once', async () => {
    const t = new FakeTransport();
    t.answer(CM, { items: [], rv: '10' });
    const s = fakeSource(t, { backoff: { initialMs: 5_000, maxMs: 5_000 } });
    await s.start(() => undefined);
    try {
      (await t.nextWatch(CM, 1)).fail(new KubeApiError('watch: HTTP 410 Gone', 410, 'HTTP_410', 'Gone'));
      await t.nextWatch(CM, 2);
      assert.equal(t.listsOf(CM), 2);
      assert.equal(s.health().watches[0]!.goneRelists, 1);
    } finally {
      await s.stop();
    }
  });

  test('410 after 410 with no working watch between: the first three relist at once, then it backs off', async () => {
    const t = new FakeTransport();
    t.answer(CM, { items: [], rv: '10' });
    const s = fakeSource(t, { backoff: { initialMs: 1_000, maxMs: 1_000 } });
    await s.start(() => undefined);
    try {
      const gone = () => new KubeApiError('watch: HTTP 410 Gone', 410, 'HTTP_410', 'Gone');
      for (let i = 1; i <= 4; i++) (await t.nextWatch(CM, i)).fail(gone());
      const w5 = await t.nextWatch(CM, 5);
      const ws = t.watchesOf(CM);
      assert.ok(ws[3]!.at - ws[0]!.at < 300, 'three immediate relists');
      assert.ok(w5.at - ws[3]!.at >= 490, 'then a backoff');
      // A watch that delivers resets the count.
      w5.send({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '11' } } });
      w5.fail(gone());
      const w6 = await t.nextWatch(CM, 6);
      assert.ok(w6.at - w5.at < 300);
      assert.equal(s.health().watches[0]!.goneRelists, 5);
    } finally {
      await s.stop();
    }
  });

  test('other errors: jittered exponential backoff up to the cap, then relist; health says so', async () => {
    const t = new FakeTransport();
    const err = (n: number) => new KubeApiError(`GET ${CM}: HTTP 503 ServiceUnavailable: try ${n}`, 503, 'HTTP_503', 'ServiceUnavailable');
    t.answer(CM, { items: [], rv: '1' }, err(1), err(2), err(3), err(4), err(5), { items: [cm('a', 'back', '9')], rv: '9' });
    const rec = new RecordingSink();
    const s = fakeSource(t, { backoff: { initialMs: 40, maxMs: 200 }, unhealthyAfterMs: 100_000 });
    await s.start(rec.sink);
    try {
      (await t.nextWatch(CM, 1)).fail(new KubeApiError('watch: read ECONNRESET', 0, 'ECONNRESET'));
      await waitFor('backoff', () => s.health().watches[0]!.state === 'backoff');
      assert.match(s.health().watches[0]!.lastError!, /ECONNRESET/);
      await t.nextWatch(CM, 2);
      const at = t.requests.filter((r) => r.req.path === CM).map((r) => r.at);
      assert.equal(at.length, 7);
      // Delays between list attempts 2..7: caps 40, 80, 160, 200, 200, 200; each in [cap/2, cap] (+ timer slack).
      const caps = [40, 80, 160, 200, 200, 200];
      for (let i = 1; i < at.length; i++) {
        const d = at[i]! - at[i - 1]!;
        assert.ok(d >= caps[i - 1]! / 2 - 2 && d <= caps[i - 1]! + 150, `delay ${i}: ${d} ms, cap ${caps[i - 1]}`);
      }
      const h = s.health().watches[0]!;
      assert.equal(h.restarts, 6);
      assert.equal(h.consecutiveErrors, 6, 'reset only once a watch delivers');
      assert.deepEqual(rec.replaces('ConfigMap').at(-1)!.map((o) => o.metadata.name), ['back']);
      (await t.nextWatch(CM, 2)).send({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '10' } } });
      assert.equal(s.health().watches[0]!.consecutiveErrors, 0);
    } finally {
      await s.stop();
    }
  });

  test('a watch that the server closes at once without a word is backed off, not hot-looped', async () => {
    const t = new FakeTransport();
    t.answer(CM, { items: [], rv: '1' });
    const s = fakeSource(t, { backoff: { initialMs: 100, maxMs: 100 } });
    await s.start(() => undefined);
    try {
      for (let i = 1; i <= 3; i++) (await t.nextWatch(CM, i)).open().end();
      const ws = t.watchesOf(CM);
      assert.ok(ws[2]!.at - ws[0]!.at >= 100, 'backoff between the watches');
      assert.match(s.health().watches[0]!.lastError!, /closed the watch at once/);
    } finally {
      await s.stop();
    }
  });

  test('watchdog: a watch silent for watchdogMs is dropped and resumed from its resourceVersion', async () => {
    const t = new FakeTransport();
    t.answer(CM, { items: [], rv: '7' });
    const s = fakeSource(t, { watchdogMs: 300, watchTimeoutSeconds: 60 });
    await s.start(() => undefined);
    try {
      const w = (await t.nextWatch(CM, 1)).open();
      await sleepMs(150);
      w.send({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '8' } } });
      const w2 = await t.nextWatch(CM, 2);
      const silent = w2.at - w.at;
      assert.ok(silent >= 150 + 300 && silent < 150 + 300 + 400, `dropped after ${silent} ms`);
      assert.equal(w2.resourceVersion, '8');
      assert.equal(t.listsOf(CM), 1, 'resumed, not relisted');
      const h = s.health().watches[0]!;
      assert.equal(h.watchdogRestarts, 1);
      assert.equal(h.restarts, 1);
      // A hung connect (no headers) counts as silence too.
      const w3 = await t.nextWatch(CM, 3);
      assert.ok(w3.at - w2.at >= 300);
    } finally {
      await s.stop();
    }
  });

  test('health: synced, healthy, unhealthy when a watch stays down, stopped', async () => {
    const t = new FakeTransport();
    t.answer(CM, { items: [], rv: '1' }, new KubeApiError('HTTP 403 Forbidden', 403, 'HTTP_403', 'Forbidden'));
    const s = fakeSource(t, { unhealthyAfterMs: 200, backoff: { initialMs: 20, maxMs: 20 } });
    assert.equal(s.health().synced, false);
    await s.start(() => undefined);
    (await t.nextWatch(CM, 1)).open();
    const h = s.health();
    assert.equal(h.synced, true);
    assert.equal(h.healthy, true);
    assert.ok(h.watches[0]!.sinceLastEventMs < 1_000);
    t.watchesOf(CM)[0]!.fail(new KubeApiError('forbidden', 403, 'HTTP_403', 'Forbidden'));
    await waitFor('unhealthy', () => !s.health().healthy, 2_000);
    assert.equal(s.health().synced, true, 'synced stays true');
    await s.stop();
    assert.deepEqual(s.health().watches.map((w) => w.state), ['stopped']);
  });

  test('periodic relist: a fresh replace every relistIntervalMs, without a restart', async () => {
    const t = new FakeTransport();
    t.answer(CM, { items: [], rv: '1' });
    const rec = new RecordingSink();
    const s = fakeSource(t, { relistIntervalMs: 150, watchTimeoutSeconds: 60 });
    await s.start(rec.sink);
    try {
      (await t.nextWatch(CM, 1)).open();
      await waitFor('3 replaces', () => rec.replaces('ConfigMap').length >= 3, 3_000);
      assert.equal(s.health().watches[0]!.restarts, 0);
      assert.ok(t.watchesOf(CM)[0]!.req.signal.aborted, 'the old watch was ended');
    } finally {
      await s.stop();
    }
  });

  test('namespaces: nothing before the kind is listed everywhere; a relist in one namespace replaces the whole kind', async () => {
    const t = new FakeTransport();
    t.answer(nsPath('a'), { items: [cm('a', 'a1', '1')], rv: '10' }, { items: [cm('a', 'a2', '40')], rv: '41' });
    t.answer(nsPath('b'), new KubeApiError('HTTP 500', 500, 'HTTP_500'), { items: [cm('b', 'b1', '2')], rv: '12' });
    const rec = new RecordingSink();
    const s = fakeSource(t, { namespaces: ['a', 'b'] });
    const started = s.start(rec.sink);
    try {
      const wa = await t.nextWatch(nsPath('a'), 1);
      // Namespace b is still in backoff: an event in a is held (kept in the store), not sent.
      wa.send({ type: 'ADDED', object: cm('a', 'early', '11') });
      assert.equal(rec.events.length, 0);
      await started;
      const first = rec.replaces('ConfigMap');
      assert.equal(first.length, 1);
      assert.deepEqual(first[0]!.map((o) => `${o.metadata.namespace}/${o.metadata.name}`).sort(), ['a/a1', 'a/early', 'b/b1']);
      wa.send({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old' } });
      await t.nextWatch(nsPath('a'), 2);
      const second = rec.replaces('ConfigMap')[1]!;
      assert.deepEqual(second.map((o) => `${o.metadata.namespace}/${o.metadata.name}`).sort(), ['a/a2', 'b/b1'], 'b kept, a replaced');
      const hs = s.health().watches;
      assert.deepEqual(hs.map((h) => h.namespace), ['a', 'b']);
    } finally {
      await s.stop();
    }
  });

  test('start() rejects after startTimeoutMs naming what is missing and why, and leaves nothing running', async () => {
    const t = new FakeTransport();
    t.answer(CM, { items: [], rv: '1' });
    t.answer('/api/v1/services', new KubeApiError('GET /api/v1/services: HTTP 403 Forbidden: services is forbidden', 403, 'HTTP_403', 'Forbidden'));
    const s = fakeSource(t, { kinds: ['ConfigMap', 'Service'], startTimeoutMs: 300 });
    await assert.rejects(s.start(() => undefined), /not every kind was listed within 300 ms:\n {2}Service: GET \/api\/v1\/services: HTTP 403 Forbidden/);
    assert.deepEqual(s.health().watches.map((w) => w.state), ['stopped', 'stopped']);
  });

  test('stop() during backoff and during a watch resolves at once', async () => {
    const t = new FakeTransport();
    t.answer(CM, new KubeApiError('HTTP 500', 500, 'HTTP_500'));
    t.answer('/api/v1/services', { items: [], rv: '1' });
    const s = fakeSource(t, { kinds: ['ConfigMap', 'Service'], backoff: { initialMs: 60_000, maxMs: 60_000 } });
    const started = s.start(() => undefined);
    await t.nextWatch('/api/v1/services', 1);
    await waitFor('backoff', () => s.health().watches[0]!.state === 'backoff');
    const t0 = Date.now();
    await s.stop();
    assert.ok(Date.now() - t0 < 200);
    await assert.rejects(started, /stopped before every kind was listed/);
  });

  test('paged lists are followed to the end', async () => {
    const t = new FakeTransport();
    t.answer(CM, { items: [cm('a', 'p1', '1')], rv: '50', continue: 'tok' }, { items: [cm('a', 'p2', '2')], rv: '50' });
    const rec = new RecordingSink();
    const s = fakeSource(t);
    await s.start(rec.sink);
    try {
      assert.deepEqual(t.requests.map((r) => r.req.query?.['continue']), [undefined, 'tok']);
      assert.deepEqual(rec.replaces('ConfigMap')[0]!.map((o) => o.metadata.name), ['p1', 'p2']);
      assert.equal((await t.nextWatch(CM, 1)).resourceVersion, '50');
    } finally {
      await s.stop();
    }
  });

  test('Gateway API kinds whose CRDs are not installed (404): one log line, a health note, the rest served; found on a later re-check', async () => {
    const t = new FakeTransport();
    const GWAPI = '/apis/gateway.networking.k8s.io';
    const notFound = (path: string) => new KubeApiError(`GET ${path}: HTTP 404 NotFound: the server could not find the requested resource`, 404, 'HTTP_404', 'NotFound');
    t.answer(CM, { items: [cm('a', 'x', '5')], rv: '10' });
    const paths = { GatewayClass: `${GWAPI}/v1/gatewayclasses`, Gateway: `${GWAPI}/v1/gateways`, HTTPRoute: `${GWAPI}/v1/httproutes`, ReferenceGrant: `${GWAPI}/v1beta1/referencegrants` };
    for (const p of Object.values(paths)) t.answer(p, notFound(p));
    const logs = recordingLogger();
    const rec = new RecordingSink();
    const s = fakeSource(t, { kinds: ['ConfigMap', 'GatewayClass', 'Gateway', 'HTTPRoute', 'ReferenceGrant'], crdRecheckMs: 150, logger: logs.logger });
    await s.start(rec.sink);
    try {
      for (const kind of ['GatewayClass', 'Gateway', 'HTTPRoute', 'ReferenceGrant'] as const) assert.deepEqual(rec.replaces(kind), [[]], `${kind}: an empty replace, so start() resolves`);
      const h = s.health();
      assert.equal(h.synced, true);
      assert.equal(h.healthy, true, 'not installed is not unhealthy');
      assert.equal(h.watches.filter((w) => w.state === 'absent').length, 4);
      assert.match(h.watches.find((w) => w.kind === 'HTTPRoute')!.absent ?? '', /httproutes\.gateway\.networking\.k8s\.io is not served .*404.*listed again every 150 ms/);
      assert.equal(h.notes?.length, 1);
      assert.match(h.notes?.[0] ?? '', /^Gateway API CRDs not installed: .*HTTPRoute.* not watched/);
      await t.nextWatch(CM, 1);
      const warned = () => logs.lines.filter((l) => l.level === 'warn' || l.level === 'error');
      assert.equal(warned().length, 1, JSON.stringify(logs.lines));
      assert.match(warned()[0]!.msg, /the Gateway API CRDs are not installed .*serving Ingresses/);
      // Re-checked, still absent: no more lines.
      await waitFor('a re-check', () => t.listsOf(paths.HTTPRoute) >= 3, 5_000, 10);
      assert.equal(warned().length, 1, 'one line, however often it is checked');

      // The CRDs are installed: the next re-check lists and watches them.
      const route = { metadata: { name: 'web', namespace: 'app', resourceVersion: '7' }, spec: { parentRefs: [{ name: 'gw' }] } };
      for (const p of Object.values(paths)) t.answer(p, { items: p === paths.HTTPRoute ? [route] : [], rv: '7' });
      const w = await t.nextWatch(paths.HTTPRoute, 1);
      const last = rec.replaces('HTTPRoute').at(-1)!;
      assert.equal(last[0]?.metadata.name, 'web');
      assert.equal((last[0] as { apiVersion?: string }).apiVersion, 'gateway.networking.k8s.io/v1');
      await waitFor('none absent', () => s.health().watches.every((x) => x.state !== 'absent'), 5_000, 10);
      assert.equal(s.health().notes, undefined);
      assert.ok(logs.lines.some((l) => l.level === 'info' && /HTTPRoute is served now/.test(l.msg)));
      w.send({ type: 'ADDED', object: { ...route, metadata: { ...route.metadata, name: 'api', resourceVersion: '8' } } });
      assert.ok(rec.find((e) => e.type === 'upsert' && e.object.kind === 'HTTPRoute' && e.object.metadata.name === 'api'));

      // The CRD is removed: the watch ends, the list answers 404 again: its objects are gone.
      t.answer(paths.HTTPRoute, notFound(paths.HTTPRoute));
      w.fail(notFound(paths.HTTPRoute));
      await waitFor('absent again', () => s.health().watches.find((x) => x.kind === 'HTTPRoute')?.state === 'absent', 5_000, 10);
      assert.deepEqual(rec.replaces('HTTPRoute').at(-1), []);
    } finally {
      await s.stop();
    }
  });

  test('a Gateway API kind that is forbidden (403) is an error, not "not installed"', async () => {
    const t = new FakeTransport();
    const p = '/apis/gateway.networking.k8s.io/v1/httproutes';
    t.answer(p, new KubeApiError(`GET ${p}: HTTP 403 Forbidden`, 403, 'HTTP_403', 'Forbidden'));
    const s = fakeSource(t, { kinds: ['HTTPRoute'], startTimeoutMs: 300 });
    await assert.rejects(s.start(new RecordingSink().sink), /not every kind was listed/);
  });

  test('normalizeObject', () => {
    const kinds: Kind[] = ['ConfigMap'];
    assert.equal(normalizeObject('ConfigMap', null), undefined);
    assert.equal(normalizeObject('ConfigMap', { metadata: {} }), undefined);
    assert.equal(normalizeObject('ConfigMap', { kind: 'Secret', metadata: { name: 'x' } }), undefined, 'wrong kind');
    assert.equal(normalizeObject('Secret', { metadata: { name: 'x' }, type: 'Opaque' }), undefined, 'not TLS');
    const o = normalizeObject(kinds[0]!, {
      metadata: { name: 'x', managedFields: [], annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' } },
    });
    assert.deepEqual(o, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } });
    assert.deepEqual(normalizeObject('Namespace', { metadata: { name: 'n', labels: 'not a map', generation: 3 }, spec: {} }), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n' } });
    assert.throws(() => new KubernetesSource({ namespaces: ['Bad_NS'] }), /invalid namespace name/);
    assert.throws(() => new KubernetesSource({ namespaces: [], watchdogMs: 0 }), /watchdogMs must be a positive/);
  });
});
