// End to end for the Gateway API: a real API server with the standard-channel
// CRDs, the controller as a child process with the shipped RBAC, and a real
// traffic_server listening on two Gateway addresses of its own besides
// 127.0.0.1. Two Gateways with identical HTTP listeners are told apart by the
// address a request arrives on; each one's status names that address and
// turns Programmed once ATS serves it. A cross-namespace backend is served
// while a ReferenceGrant allows it, refused (500, RefNotPermitted) when the
// grant is deleted and served again when it comes back; a Route moved from
// one Gateway to the other follows, requests and attachedRoutes alike; a
// RequestHeaderModifier and a 50/50 split, briefly (test/plugin/gateway.test.ts
// has the details). ATS's PID never changes. Timings from each write to the
// change being served are printed, never asserted.
//
// Run: bash scripts/build.sh && node --test dist/test/e2e/gateway.test.js

import assert from 'node:assert/strict';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { after, before, describe, test } from 'node:test';

import type { Condition, Gateway, HTTPRoute } from '../../src/kube/gateway-types.js';
import { httpRequest } from '../harness/ats.js';
import { pollUntil } from '../harness/poll.js';
import { E2e, echo, ms, who, type ControllerProcess } from './env.js';

const CONTROLLER = 'ats.ingress.kubernetes.io/gateway-controller';
const GROUP = 'gateway.networking.k8s.io';
// This process's own addresses (all of 127.0.0.0/8 is loopback), apart from
// test/plugin/gateway.test.ts's 127.77.x: the first two hosts of a /29.
const NET = `127.78.${process.pid % 250}`;
const ONE = `${NET}.1`;
const TWO = `${NET}.2`;
/** Requests for the 50/50 split; each side must get 50% ± SPLIT_TOLERANCE of them (over 4 standard deviations). */
const SPLIT_REQUESTS = 200;
const SPLIT_TOLERANCE = 0.15;

let e: E2e;
let controller: ControllerProcess;
let atsPid: number;

const service = (namespace: string, name: string, targetPort: number) => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { ports: [{ name: 'http', port: 80, targetPort }] },
});

const gatewayObject = (name: string) => ({
  apiVersion: `${GROUP}/v1`, kind: 'Gateway', metadata: { name, namespace: 'infra' },
  spec: { gatewayClassName: 'ats', listeners: [{ name: 'http', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } }] },
});

function route(name: string, gateway: string, hostname: string, rules: unknown[]) {
  return {
    apiVersion: `${GROUP}/v1`, kind: 'HTTPRoute', metadata: { name, namespace: 'app' },
    spec: { parentRefs: [{ name: gateway, namespace: 'infra' }], hostnames: [hostname], rules },
  };
}

const grant = {
  apiVersion: `${GROUP}/v1beta1`, kind: 'ReferenceGrant', metadata: { name: 'allow-app', namespace: 'db' },
  spec: { from: [{ group: GROUP, kind: 'HTTPRoute', namespace: 'app' }], to: [{ group: '', kind: 'Service' }] },
};

const conds = (list: readonly Condition[] | undefined) => Object.fromEntries((list ?? []).map((c) => [c.type, `${c.status}/${c.reason}`]));
const ours = (r: HTTPRoute) => (r.status?.parents ?? []).filter((p) => p.controllerName === CONTROLLER);
const context = () => controller?.log(4_000) ?? '';

async function get<T>(path: string): Promise<T> {
  const r = await e.kube.request<T>('GET', path);
  assert.equal(r.status, 200, r.text);
  return r.body;
}
const getGateway = (name: string) => get<Gateway>(`/apis/${GROUP}/v1/namespaces/infra/gateways/${name}`);
const getRoute = (name: string) => get<HTTPRoute>(`/apis/${GROUP}/v1/namespaces/app/httproutes/${name}`);
const attached = async (name: string) => (await getGateway(name)).status?.listeners?.[0]?.attachedRoutes;

/** Polls the API server until `ok` holds (bounded). */
async function statusUntil<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  return (await pollUntil(what, fn, ok, { timeoutMs, intervalMs: 25, context })).value;
}

/** One request to a Gateway's address, with the service that answered (or the status). */
async function at(address: string, host: string, path = '/'): Promise<string> {
  return who(await e.request({ address, host, path }));
}

before(async () => {
  e = await E2e.start({
    tag: 'gw',
    pods: 3,
    gatewayApiCrds: true,
    atsAlsoBind: [ONE, TWO],
    backends: [
      { service: 'app/web-one', pod: 'web-one-0', podIndex: 0, port: 8080 },
      { service: 'app/web-two', pod: 'web-two-0', podIndex: 1, port: 8080 },
      { service: 'db/store', pod: 'store-0', podIndex: 2, port: 8080 },
      { service: 'app/echo', pod: 'echo-0', podIndex: 0, port: 8081 },
      { service: 'app/blue', pod: 'blue-0', podIndex: 1, port: 8082 },
      { service: 'app/green', pod: 'green-0', podIndex: 2, port: 8082 },
    ],
  });
  atsPid = e.ats!.pid;
  const pod = (i: number) => e.net.podAddresses[i]!;
  const objects = [
    ...['infra', 'app', 'db'].map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })),
    service('app', 'web-one', 8080), service('app', 'web-two', 8080), service('db', 'store', 8080),
    service('app', 'echo', 8081), service('app', 'blue', 8082), service('app', 'green', 8082),
    { apiVersion: `${GROUP}/v1`, kind: 'GatewayClass', metadata: { name: 'ats' }, spec: { controllerName: CONTROLLER } },
  ];
  await e.kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
  // one before two: the oldest Gateway takes the range's first address (and by name if created in the same second).
  await e.kubectl(['apply', '-f', '-'], JSON.stringify(gatewayObject('one')));
  await e.kubectl(['apply', '-f', '-'], JSON.stringify(gatewayObject('two')));
  const routes = [
    route('site-one', 'one', 'same.test', [{ backendRefs: [{ name: 'web-one', port: 80 }] }]),
    route('site-two', 'two', 'same.test', [{ backendRefs: [{ name: 'web-two', port: 80 }] }]),
    route('cross', 'one', 'cross.test', [{ backendRefs: [{ name: 'store', namespace: 'db', port: 80 }] }]),
    route('moving', 'one', 'moving.test', [{ backendRefs: [{ name: 'echo', port: 80 }] }]),
    route('features', 'two', 'features.test', [
      {
        matches: [{ path: { type: 'PathPrefix', value: '/headers' } }],
        filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'X-Set', value: 'by-route' }], add: [{ name: 'X-Add', value: 'added' }], remove: ['X-Remove'] } }],
        backendRefs: [{ name: 'echo', port: 80 }],
      },
      { matches: [{ path: { type: 'PathPrefix', value: '/split' } }], backendRefs: [{ name: 'blue', port: 80, weight: 50 }, { name: 'green', port: 80, weight: 50 }] },
    ]),
  ];
  await e.kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [...routes, grant] }));
  await Promise.all([
    e.putSlice({ namespace: 'app', service: 'web-one', port: 8080, addresses: [pod(0)] }),
    e.putSlice({ namespace: 'app', service: 'web-two', port: 8080, addresses: [pod(1)] }),
    e.putSlice({ namespace: 'db', service: 'store', port: 8080, addresses: [pod(2)] }),
    e.putSlice({ namespace: 'app', service: 'echo', port: 8081, addresses: [pod(0)] }),
    e.putSlice({ namespace: 'app', service: 'blue', port: 8082, addresses: [pod(1)] }),
    e.putSlice({ namespace: 'app', service: 'green', port: 8082, addresses: [pod(2)] }),
  ]);
  const t0 = performance.now();
  controller = await e.startController(['--ats-stats-url', e.statsUrl, '--gateway-addresses', `${NET}.0/29`, '--gateway-ports', `80=${e.atsPort}`]);
  await controller.waitReady();
  const served = await e.until('same.test on Gateway one', { address: ONE, host: 'same.test' }, (r) => who(r) === 'app/web-one@web-one-0', { since: t0, timeoutMs: 30_000 });
  console.log(`# controller started → Gateway one served: ${ms(served.ms)} ms`);
}, { timeout: 3 * 60_000 });

after(async () => {
  await e?.close();
});

describe('the Gateway API through a real API server, the controller and ATS', () => {
  test('two Gateways with identical listeners: each address serves its own Route; status names the address, Programmed once served', async () => {
    assert.equal(await at(ONE, 'same.test'), 'app/web-one@web-one-0');
    assert.equal(await at(TWO, 'same.test'), 'app/web-two@web-two-0');
    assert.equal(await at('127.0.0.1', 'same.test'), '404', 'ATS\'s own address has no Ingress for it');

    for (const [name, address, routes] of [['one', ONE, 3], ['two', TWO, 2]] as const) {
      const g = await statusUntil(`Gateway infra/${name} Programmed`, () => getGateway(name), (g) => conds(g.status?.conditions).Programmed === 'True/Programmed' && g.status?.conditions?.every((c) => c.observedGeneration === g.metadata.generation) === true);
      assert.deepEqual(g.status?.addresses, [{ type: 'IPAddress', value: address }], `${name}: the address requests go to`);
      assert.deepEqual(conds(g.status?.conditions), { Accepted: 'True/Accepted', Programmed: 'True/Programmed' });
      const [l, ...more] = g.status?.listeners ?? [];
      assert.equal(more.length, 0);
      assert.equal(l?.name, 'http');
      assert.equal(l?.attachedRoutes, routes, `${name}: attachedRoutes`);
      assert.deepEqual(conds(l?.conditions), { Accepted: 'True/Accepted', Programmed: 'True/Programmed', ResolvedRefs: 'True/ResolvedRefs', Conflicted: 'False/NoConflicts' });
    }
    for (const [name, gateway] of [['site-one', 'one'], ['site-two', 'two'], ['cross', 'one'], ['moving', 'one'], ['features', 'two']] as const) {
      const r = await statusUntil(`HTTPRoute app/${name} status`, () => getRoute(name), (r) => ours(r).length === 1 && (ours(r)[0]!.conditions ?? []).length > 0);
      const p = ours(r)[0]!;
      assert.deepEqual(p.parentRef, { group: GROUP, kind: 'Gateway', namespace: 'infra', name: gateway }, name);
      assert.deepEqual(conds(p.conditions), { Accepted: 'True/Accepted', ResolvedRefs: 'True/ResolvedRefs' }, name);
    }
    assert.equal(e.ats!.pid, atsPid, 'no ATS restart');
  });

  test('a cross-namespace backend: served with its ReferenceGrant, 500 and RefNotPermitted without, served again when it is back', async () => {
    assert.equal(await at(ONE, 'cross.test'), 'db/store@store-0');
    const t0 = performance.now();
    await e.kubectl(['delete', 'referencegrant', '-n', 'db', 'allow-app']);
    const refused = await e.until('cross.test refused', { address: ONE, host: 'cross.test' }, (r) => r.status === 500, { since: t0 });
    const status = await statusUntil('HTTPRoute app/cross RefNotPermitted', () => getRoute('cross'), (r) => conds(ours(r)[0]?.conditions).ResolvedRefs === 'False/RefNotPermitted');
    const statusMs = performance.now() - t0;
    assert.match(refused.response.body, /^500 .*db\/store/, 'the answer names the refused backend');
    assert.equal(conds(ours(status)[0]?.conditions).Accepted, 'True/Accepted', 'still accepted: only its backend is refused');
    assert.equal(await at(ONE, 'same.test'), 'app/web-one@web-one-0', 'other Routes untouched');

    const t1 = performance.now();
    await e.kubectl(['apply', '-f', '-'], JSON.stringify(grant));
    const back = await e.until('cross.test served again', { address: ONE, host: 'cross.test' }, (r) => who(r) === 'db/store@store-0', { since: t1 });
    await statusUntil('HTTPRoute app/cross ResolvedRefs again', () => getRoute('cross'), (r) => conds(ours(r)[0]?.conditions).ResolvedRefs === 'True/ResolvedRefs');
    console.log(`# ReferenceGrant deleted → 500 served ${ms(refused.ms)} ms, RefNotPermitted on the Route ${ms(statusMs)} ms; recreated → served ${ms(back.ms)} ms`);
    assert.equal(e.ats!.pid, atsPid, 'no ATS restart');
  });

  test('a Route moved from one Gateway to the other: served on the new address, 404 on the old, attachedRoutes follow', async () => {
    assert.equal(await at(ONE, 'moving.test'), 'app/echo@echo-0');
    assert.equal(await at(TWO, 'moving.test'), '404');
    const t0 = performance.now();
    await e.kubectl(['patch', 'httproute', '-n', 'app', 'moving', '--type=merge', '-p', JSON.stringify({ spec: { parentRefs: [{ name: 'two', namespace: 'infra' }] } })]);
    const moved = await e.until('moving.test on Gateway two', { address: TWO, host: 'moving.test' }, (r) => who(r) === 'app/echo@echo-0', { since: t0 });
    assert.equal(await at(ONE, 'moving.test'), '404', 'no longer on Gateway one');
    await statusUntil('attachedRoutes: one 2, two 3', async () => [await attached('one'), await attached('two')], (v) => v[0] === 2 && v[1] === 3);
    const r = await statusUntil('HTTPRoute app/moving on two only', () => getRoute('moving'), (r) => ours(r).length === 1 && ours(r)[0]!.parentRef.name === 'two' && (ours(r)[0]!.conditions ?? []).every((c) => c.observedGeneration === r.metadata.generation));
    assert.deepEqual(conds(ours(r)[0]!.conditions), { Accepted: 'True/Accepted', ResolvedRefs: 'True/ResolvedRefs' });
    console.log(`# Route moved → served on the other Gateway ${ms(moved.ms)} ms, both Gateways' status and the Route's ${ms(performance.now() - t0)} ms after the patch`);
    assert.equal(e.ats!.pid, atsPid, 'no ATS restart');
  });

  test(`a RequestHeaderModifier, and a 50/50 split over ${SPLIT_REQUESTS} requests within ±${SPLIT_TOLERANCE * 100}%`, async () => {
    const r = await e.request({ address: TWO, host: 'features.test', path: '/headers', headers: { 'x-set': 'original', 'x-add': 'first', 'x-remove': 'gone' } });
    const got = echo(r);
    assert.ok(got, `${r.status} ${r.body}`);
    assert.equal(got.service, 'app/echo');
    assert.equal(got.headers['x-set'], 'by-route');
    assert.equal(got.headers['x-add'], 'first,added');
    assert.equal(got.headers['x-remove'], undefined);

    // Kept-alive connections: the choice is made per request.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    const counts = new Map<string, number>();
    try {
      const one = async () => {
        const res = await httpRequest({ port: e.atsPort, address: TWO, host: 'features.test', path: '/split', agent, timeoutMs: 5_000 });
        const s = echo(res)?.service ?? String(res.status);
        counts.set(s, (counts.get(s) ?? 0) + 1);
      };
      for (let i = 0; i < SPLIT_REQUESTS; i += 4) await Promise.all([one(), one(), one(), one()]);
    } finally {
      agent.destroy();
    }
    const blue = (counts.get('app/blue') ?? 0) / SPLIT_REQUESTS;
    const green = (counts.get('app/green') ?? 0) / SPLIT_REQUESTS;
    const why = JSON.stringify([...counts]);
    console.log(`# 50/50 split over ${SPLIT_REQUESTS} requests: ${(blue * 100).toFixed(1)} / ${(green * 100).toFixed(1)}`);
    assert.equal(blue + green, 1, why);
    assert.ok(Math.abs(blue - 0.5) <= SPLIT_TOLERANCE, why);
    assert.equal(e.ats!.pid, atsPid, 'no ATS restart');
  });
});
