// ATS records from the records ConfigMap, applied by RecordsPublisher to a
// real Traffic Server under traffic_manager (through traffic_ctl): the
// walkthrough's ConfigMap applied, a value changed, a key removed and
// reverted to ATS's default, a restart-only key reported, bad keys refused
// while the good ones apply, and the values set again after ATS restarts.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';

import { buildConfig } from '../../src/config/config.js';
import { build } from '../../src/model/build.js';
import type { Problem } from '../../src/model/model.js';
import { silentLogger } from '../../src/observe/logger.js';
import { controllerMetrics } from '../../src/observe/metrics.js';
import type { PublisherContext } from '../../src/publish/publisher.js';
import { RecordsPublisher } from '../../src/publish/records-publisher.js';
import { configMap, snapshotFrom } from '../../src/testing/fixtures.js';
import { startAts, type AtsInstance } from '../harness/ats.js';

const CM = { namespace: 'ats-ingress', name: 'ats-records' };
const WALKTHROUGH = {
  'proxy.config.output.logfile.rolling_enabled': '1',
  'proxy.config.output.logfile.rolling_interval_sec': '3000',
  'proxy.config.restart.active_client_threshold': '0',
};

let ats: AtsInstance;
let publisher: RecordsPublisher;
const reported: Problem[][] = [];

const ctx: PublisherContext = {
  isLive: () => Promise.resolve(true),
  snapshot: () => snapshotFrom([]),
  reportProblems: (origin, problems) => {
    assert.equal(origin, 'records');
    reported.push([...problems]);
  },
  onProblems: () => undefined,
};

async function get(...names: string[]): Promise<Record<string, string>> {
  const r = await ats.trafficCtl(['config', 'get', ...names]);
  const out: Record<string, string> = {};
  for (const line of r.stdout.split('\n')) {
    const i = line.indexOf(': ');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 2);
  }
  return out;
}

/** What the records ConfigMap holds now, through build() as the loop does it, then a pass. */
async function publish(data: Record<string, string> | undefined) {
  const cm = configMap(`${CM.namespace}/${CM.name}`);
  for (const [k, v] of Object.entries(data ?? {})) cm.data(k, v);
  const result = build(snapshotFrom(data ? [cm] : []), buildConfig({ recordsConfigMap: CM }));
  await publisher.publish(result);
  const pass = await publisher.syncNow();
  assert.ok(pass, 'the pass reached traffic_manager');
  return { pass, problems: reported.at(-1) ?? [], buildProblems: result.problems };
}

describe('records from the records ConfigMap, on a real ATS under traffic_manager', () => {
  before(async () => {
    ats = await startAts({ manager: true, startTimeoutMs: 30_000 });
    publisher = new RecordsPublisher({ runroot: ats.dir, intervalMs: 300 }, ctx, silentLogger, controllerMetrics());
  });
  after(async () => {
    await publisher?.stop();
    await ats?.stop({ kill: true });
  });

  test('the walkthrough\'s ConfigMap is applied', async () => {
    const pid = ats.pid;
    const { pass, problems } = await publish(WALKTHROUGH);
    assert.deepEqual(problems, []);
    assert.deepEqual([...pass.applied].sort(), Object.keys(WALKTHROUGH).sort());
    assert.deepEqual(await get(...Object.keys(WALKTHROUGH)), WALKTHROUGH);
    assert.equal(ats.pid, pid, 'no restart');
    // What was applied is kept beside ATS, for a controller that restarts.
    const state = JSON.parse(await readFile(path.join(ats.dir, 'ats-ingress', 'records-applied.json'), 'utf8'));
    assert.deepEqual(state, { configMap: 'ats-ingress/ats-records', values: WALKTHROUGH });
  });

  test('an applied record is live in traffic_server a few seconds later (the manager pushes it on its own beat)', async () => {
    const viaOf = async () => (await ats.request({ host: 'records.test', path: '/', fresh: true })).headers.via;
    assert.equal(await viaOf(), undefined);
    const t0 = performance.now();
    await publish({ ...WALKTHROUGH, 'proxy.config.http.insert_response_via_str': '2' });
    const set = performance.now() - t0;
    let via: string | string[] | undefined;
    for (let i = 0; i < 150 && via === undefined; i++) {
      await delay(100);
      via = await viaOf();
    }
    assert.ok(via, 'ATS answers with a Via header once the record is live');
    console.log(`# record set in ${Math.round(set)} ms; live in traffic_server ${Math.round(performance.now() - t0)} ms after the ConfigMap changed`);
  });

  test('a changed value is applied; a removed key goes back to ATS\'s default', async () => {
    const t0 = performance.now();
    const { 'proxy.config.output.logfile.rolling_enabled': _removed, ...rest } = WALKTHROUGH;
    const { pass } = await publish({ ...rest, 'proxy.config.output.logfile.rolling_interval_sec': '600' });
    console.log(`# a records pass (describe, get, set) took ${Math.round(performance.now() - t0)} ms`);
    assert.ok(pass.reverted.includes('proxy.config.output.logfile.rolling_enabled'), JSON.stringify(pass));
    const now = await get('proxy.config.output.logfile.rolling_interval_sec', 'proxy.config.output.logfile.rolling_enabled');
    assert.deepEqual(now, { 'proxy.config.output.logfile.rolling_interval_sec': '600', 'proxy.config.output.logfile.rolling_enabled': '0' });
  });

  test('a record that needs a restart is set and reported, never applied by restarting ATS', async () => {
    const pid = ats.pid;
    const { pass, problems } = await publish({ ...WALKTHROUGH, 'proxy.config.cache.ram_cache.algorithm': '1' });
    assert.deepEqual(pass.restartRequired, ['proxy.config.cache.ram_cache.algorithm']);
    assert.deepEqual(problems.map((p) => `${p.severity} ${p.kind} ${p.namespace}/${p.name} ${p.field}: ${p.message}`), [
      'Warning ConfigMap ats-ingress/ats-records data[proxy.config.cache.ram_cache.algorithm]: this record takes effect only when traffic_server restarts (ATS reports it as static); it is set, and ats-ingress never restarts ATS itself',
    ]);
    assert.equal(ats.pid, pid);
  });

  test("a record ats-ingress sets itself (the RAM cache's size is the pod's) is refused, not set", async () => {
    const before = await get('proxy.config.cache.ram_cache.size');
    const { pass, problems } = await publish({ ...WALKTHROUGH, 'proxy.config.cache.ram_cache.size': '33554432' });
    assert.deepEqual(pass.restartRequired, []);
    assert.deepEqual(problems.map((p) => `${p.severity} ${p.field}: ${p.message}`), [
      'Error data[proxy.config.cache.ram_cache.size]: this record is set by ats-ingress itself (its own configuration of ATS) and may not be changed by the ConfigMap; it is not applied',
    ]);
    assert.deepEqual(await get('proxy.config.cache.ram_cache.size'), before);
  });

  test('bad keys are refused with the reason; the good ones still apply', async () => {
    const { pass, problems, buildProblems } = await publish({
      'proxy.config.output.logfile.rolling_interval_sec': '1200',
      'proxy.config.no.such.record': '1',
      'proxy.config.http.keep_alive_enabled_in': 'yes',
      'proxy.config.output.logfile.rolling_enabled': '9',
      'proxy.config.url_remap.pristine_host_hdr': '0',
      'not.a.record': 'x',
    });
    assert.deepEqual(pass.applied, ['proxy.config.output.logfile.rolling_interval_sec']);
    assert.deepEqual((await get('proxy.config.output.logfile.rolling_interval_sec'))['proxy.config.output.logfile.rolling_interval_sec'], '1200');
    const lines = problems.map((p) => `${p.field}: ${p.message}`).sort();
    assert.deepEqual(lines, [...[
      'data[proxy.config.http.keep_alive_enabled_in]: "yes" is not an integer, and this is an INT record; it is not applied',
      'data[proxy.config.output.logfile.rolling_enabled]: ATS refused "9": it is out of the record\'s range or not of its form (traffic_ctl said: failed to set proxy.config.output.logfile.rolling_enabled: [14] Generic Fail message (ie. CoreAPI call).); it is not applied',
      'data[proxy.config.no.such.record]: ATS has no record "proxy.config.no.such.record" (traffic_ctl config describe knows none by that name); it is not applied',
      'data[proxy.config.url_remap.pristine_host_hdr]: this record is set by ats-ingress itself (its own configuration of ATS) and may not be changed by the ConfigMap; it is not applied',
    ]].sort());
    // A key that cannot be a record name is the builder's to refuse.
    assert.deepEqual(buildProblems.map((p) => `${p.kind} ${p.field}: ${p.message}`), ['ConfigMap data[not.a.record]: "not.a.record" is not a record name (proxy.config.…); it is not applied']);
    assert.equal((await get('proxy.config.url_remap.pristine_host_hdr'))['proxy.config.url_remap.pristine_host_hdr'], '1', 'ours, untouched');
  });

  test('after ATS restarts, the applied values are set again', async () => {
    await publish(WALKTHROUGH);
    // The premise: a restart of traffic_manager loses what traffic_ctl set.
    await publisher.stop();
    await ats.restart();
    const lost = await get(...Object.keys(WALKTHROUGH));
    assert.equal(lost['proxy.config.output.logfile.rolling_interval_sec'], '3600', `the restart keeps no value set at run time: ${JSON.stringify(lost)}`);
    // A running controller notices on its next pass and sets them again.
    publisher = new RecordsPublisher({ runroot: ats.dir, intervalMs: 300 }, ctx, silentLogger, controllerMetrics());
    await publish(WALKTHROUGH);
    await ats.restart();
    const t0 = performance.now();
    let now: Record<string, string> = {};
    for (let i = 0; i < 100; i++) {
      now = await get(...Object.keys(WALKTHROUGH));
      if (JSON.stringify(now) === JSON.stringify(WALKTHROUGH)) break;
      await delay(100);
    }
    assert.deepEqual(now, WALKTHROUGH, 'set again after the restart');
    console.log(`# after an ATS restart the records were set again ${Math.round(performance.now() - t0)} ms after ATS answered (a pass every 300 ms here, 10 s by default)`);
  });

  test('the whole ConfigMap removed: every key back to ATS\'s default', async () => {
    const { pass } = await publish(undefined);
    assert.deepEqual([...pass.reverted].sort(), ['proxy.config.output.logfile.rolling_enabled', 'proxy.config.output.logfile.rolling_interval_sec', 'proxy.config.restart.active_client_threshold']);
    assert.deepEqual(await get('proxy.config.output.logfile.rolling_enabled', 'proxy.config.output.logfile.rolling_interval_sec'), {
      'proxy.config.output.logfile.rolling_enabled': '0',
      'proxy.config.output.logfile.rolling_interval_sec': '3600',
    });
  });
});
