// Gateways told apart by port, as in a cluster (--gateway-port-range):
// through real Traffic Server opening the range as the ATS container does
// (src/ats/runroot.ts), two Gateways with identical listeners, built by
// build() into listeners on every local address ('*'), each on its own
// block of ports; a request on one Gateway's port never reaches the
// other's routes, whichever local address it arrives on; the Ingress keeps
// ATS's own port. Both plugin modes.
//
// Run: bash scripts/build.sh && node --test dist/test/plugin/gateway-ports.test.js

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Mode } from './helpers.js';

import { buildConfig } from '../../src/config/config.js';
import { parsePortRange, type PortRange } from '../../src/config/gateway.js';
import { build } from '../../src/model/build.js';
import { RouteTable } from '../../src/route-table/route-table.js';
import { app, ingress, ingressClass, prefix, snapshotFrom, type ObjectLike } from '../../src/testing/fixtures.js';
import { backend, gateway, gatewayClass, httpRoute } from '../../src/testing/gateway-fixtures.js';
import { isInvalid } from '../../src/validate/invalid.js';
import { httpRequest, startAts, type AtsInstance } from '../harness/ats.js';
import { closeBackends, startBackend, type Backend } from '../harness/backends.js';
import { isPortFree } from '../harness/ports.js';
import { echoOf, pluginSetup, requestUntil, tableName } from './helpers.js';

// A second loopback address of this process's own: every local address is one.
const OTHER = `127.78.${process.pid % 250}.1`;

/** 4 free ports in a row below the ephemeral range, from an even base. */
async function freeRange(): Promise<PortRange> {
  for (let tries = 0; tries < 200; tries++) {
    const first = 20000 + 2 * Math.floor(Math.random() * 5000);
    const all = await Promise.all([0, 1, 2, 3].map((i) => isPortFree(first + i)));
    if (!all.every(Boolean)) continue;
    const r = parsePortRange(`${first}-${first + 3}`);
    if (isInvalid(r)) throw new Error(r.invalid);
    return r;
  }
  throw new Error('no 4 free ports in a row');
}

const name = tableName('gateway-ports');
let table: RouteTable | undefined;
let ats: AtsInstance;
let range: PortRange;
const pods: Record<string, Backend> = {};

function objects(): ObjectLike[] {
  const svc = (key: string) => app(key, 80, pods[key]!.port, '127.0.0.1');
  return [
    ...svc('app/web'), ...svc('app/api'), ...svc('other/ing'),
    gatewayClass('ats'),
    // Identical listeners: only the port tells them apart.
    gateway('app/one').listener('http', 80).created(1),
    gateway('app/two').listener('http', 80).created(2),
    httpRoute('app/on-one').parent('app/one').hostnames('same.test').rule({ backends: [backend('web', 80)] }),
    httpRoute('app/on-two').parent('app/two').hostnames('same.test').rule({ backends: [backend('api', 80)] }),
    ingressClass('ats'),
    ingress('other/ing').className('ats').rule('same.test', prefix('/', 'ing', 80)).rule('ingress-only.test', prefix('/', 'ing', 80)),
  ];
}

async function serviceAt(address: string, port: number, path = '/'): Promise<string> {
  const r = await httpRequest({ host: 'same.test', path, port, address, fresh: true, timeoutMs: 5_000 });
  return r.status === 200 ? echoOf(r).service : `${r.status} ${r.body.trim()}`;
}

async function setUp(mode: Mode): Promise<void> {
  for (const key of ['app/web', 'app/api', 'other/ing']) pods[key] = await startBackend({ service: key, pod: `${key}-0` });
  range = await freeRange();
  ats = await startAts({ ...pluginSetup(mode, name), cache: false, alsoBind: [OTHER], gatewayPortRange: range });
  const result = build(snapshotFrom(objects()), buildConfig({ gatewayPortRange: range }));
  assert.deepEqual([...result.gateway.ports].map(([k, p]) => [k, [...p]]), [['app/one', [[80, range.first]]], ['app/two', [[80, range.first + 2]]]]);
  assert.deepEqual(result.model.table.gateway?.listeners.map((l) => `${l.gateway} ${l.address}:${l.port}`), [`app/one *:${range.first}`, `app/two *:${range.first + 2}`]);
  table = RouteTable.open(name);
  table.publish(result.model.table);
  await requestUntil(ats, { host: 'same.test', path: '/' }, (r) => r.status === 200, 'the table is served');
}

async function tearDown(): Promise<void> {
  await ats?.stop({ kill: true });
  table?.remove();
  table?.close();
  table = undefined;
  await closeBackends(Object.values(pods));
}

for (const mode of ['global', 'remap'] as const) describe(`Gateways told apart by port through ATS (${mode} mode)`, () => {
  before(() => setUp(mode));
  after(tearDown);

  test('identical listeners of two Gateways stay apart by port, on every local address; the Ingress keeps ATS\'s own port', async () => {
    for (const address of ['127.0.0.1', OTHER]) {
      assert.equal(await serviceAt(address, range.first), 'app/web', address);
      assert.equal(await serviceAt(address, range.first + 2), 'app/api', address);
      assert.equal(await serviceAt(address, ats.httpPort), 'other/ing', address);
    }
    // A Gateway's port is the Gateway's alone: a host none of its listeners takes is 404, never the Ingress's.
    const r = await httpRequest({ host: 'ingress-only.test', path: '/', port: range.first, address: OTHER, fresh: true, timeoutMs: 5_000 });
    assert.equal(r.status, 404);
    const ing = await httpRequest({ host: 'ingress-only.test', path: '/', port: ats.httpPort, address: OTHER, fresh: true, timeoutMs: 5_000 });
    assert.equal(echoOf(ing).service, 'other/ing');
  });
});
