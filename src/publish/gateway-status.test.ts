// The Gateway status publisher without an API server: what it patches and
// when. Programmed=True is written only after ATS serves the table (the
// context says so), the rest at once; a second build that changes nothing
// patches nothing; a 409 is tried again without waiting for another build.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Snapshot } from '../cache/snapshot.js';
import { buildConfig } from '../config/config.js';
import type { KubeRequest, KubeTransport } from '../kube/client.js';
import { KubeApiError } from '../kube/errors.js';
import type { LeaderElector } from '../kube/leader.js';
import type { Condition, Gateway, HTTPRoute } from '../kube/types.js';
import { build } from '../model/build.js';
import { silentLogger } from '../observe/logger.js';
import { service, snapshotFrom } from '../testing/fixtures.js';
import { backend, gateway, gatewayClass, httpRoute } from '../testing/gateway-fixtures.js';
import { GatewayStatusWriter, LeaderGatewayStatus } from './gateway-status.js';
import type { PublisherContext } from './publisher.js';

interface Patch {
  readonly path: string;
  readonly body: { metadata: { resourceVersion?: string }; status: { conditions?: Condition[]; parents?: Array<{ conditions: Condition[] }> } };
}

/** Answers each PATCH with the object it was given, status applied and a new resourceVersion; `refuse` answers 409 that many times first. */
function fakeTransport(objects: () => Snapshot, refuse = 0): KubeTransport & { patches: Patch[] } {
  const patches: Patch[] = [];
  let rv = 100;
  return {
    patches,
    async request(req: KubeRequest) {
      assert.equal(req.method, 'PATCH');
      assert.equal(req.contentType, 'application/merge-patch+json');
      const body = req.body as Patch['body'];
      if (refuse > 0) {
        refuse--;
        throw new KubeApiError('the object has been modified', 409, 'Conflict');
      }
      patches.push({ path: req.path, body });
      const m = /namespaces\/([^/]+)\/(gateways|httproutes)\/([^/]+)\/status$/.exec(req.path);
      assert.ok(m, req.path);
      const key = `${m[1]}/${m[3]}`;
      const obj = m[2] === 'gateways' ? objects().gateways.get(key) : objects().httpRoutes.get(key);
      return { ...obj, metadata: { ...obj?.metadata, resourceVersion: String(++rv) }, status: body.status };
    },
    async watch() {},
  };
}

const leader = { isLeader: () => true, onChange: () => () => undefined } as unknown as LeaderElector;

function context(snapshot: Snapshot, live: { value: boolean }): PublisherContext {
  return { isLive: async () => live.value, snapshot: () => snapshot, reportProblems: () => undefined, onProblems: () => undefined };
}

const programmed = (p: Patch) => p.body.status.conditions?.find((c) => c.type === 'Programmed')?.status;
const until = async (what: string, ok: () => boolean) => {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(ok(), what);
};

describe('LeaderGatewayStatus', () => {
  const objects = [
    gatewayClass('ats'),
    gateway('infra/gw').listener('http', 80, { from: 'All' }).resourceVersion('7'),
    service('app/web').port('http', 80),
    httpRoute('app/web').parent('infra/gw').rule({ backends: [backend('web', 80)] }).resourceVersion('8'),
  ];

  test('Accepted at once with Programmed=False/Pending; Programmed=True once ATS serves the table; then nothing more', async () => {
    const snapshot = snapshotFrom(objects);
    const config = buildConfig();
    const transport = fakeTransport(() => snapshot);
    const live = { value: false };
    const publisher = new LeaderGatewayStatus(new GatewayStatusWriter(transport, config), leader, context(snapshot, live), silentLogger, 30_000);
    const result = build(snapshot, config);
    await publisher.publish(result);
    await until('the first writes', () => transport.patches.length === 2);
    const [gw, route] = transport.patches;
    assert.match(gw!.path, /\/namespaces\/infra\/gateways\/gw\/status$/);
    assert.equal(gw!.body.metadata.resourceVersion, '7', 'guarded by the resourceVersion it was merged into');
    assert.equal(programmed(gw!), 'False');
    assert.match(route!.path, /\/namespaces\/app\/httproutes\/web\/status$/);
    assert.equal(route!.body.status.parents?.[0]?.conditions.find((c) => c.type === 'Accepted')?.status, 'True');

    await new Promise((r) => setTimeout(r, 250));
    assert.equal(transport.patches.length, 2, 'nothing more while ATS does not serve the table');
    live.value = true;
    await until('Programmed written', () => transport.patches.length === 3);
    assert.equal(programmed(transport.patches[2]!), 'True');
    assert.equal(transport.patches[2]!.body.metadata.resourceVersion, '101', 'merged into what the last patch returned, the watch not having caught up');

    // The same build again (an unrelated change): nothing to write, nothing to wait for.
    await publisher.publish(build(snapshot, config));
    await new Promise((r) => setTimeout(r, 100));
    await publisher.stop();
    assert.equal(transport.patches.length, 3);
  });

  test('a 409 (the object changed meanwhile) is written again without another build', async () => {
    const snapshot = snapshotFrom(objects);
    const config = buildConfig();
    const transport = fakeTransport(() => snapshot, 1);
    const publisher = new LeaderGatewayStatus(new GatewayStatusWriter(transport, config, undefined, 1), leader, context(snapshot, { value: true }), silentLogger, 30_000, 20);
    await publisher.publish(build(snapshot, config));
    await until('both written', () => transport.patches.some((p) => p.path.includes('/gateways/')) && transport.patches.some((p) => p.path.includes('/httproutes/')));
    await publisher.stop();
    const gw = transport.patches.filter((p) => p.path.includes('/gateways/'));
    assert.equal(programmed(gw.at(-1)!), 'True');
  });

  test('a Gateway of another generation than the build is not written (its own build follows)', async () => {
    const config = buildConfig();
    const built = build(snapshotFrom(objects), config);
    const newer = snapshotFrom([...objects.filter((o) => !('build' in o && (o.build() as Gateway | HTTPRoute).kind === 'Gateway')), gateway('infra/gw').generation(2).listener('http', 80, { from: 'All' })]);
    const transport = fakeTransport(() => newer);
    const writer = new GatewayStatusWriter(transport, config);
    writer.markServed(built.gateway);
    const r = await writer.sync(built.gateway, newer);
    assert.deepEqual(r.patched, ['HTTPRoute app/web']);
  });
});
