// traffic_server's own checks accept the plugin in both modes and refuse a bad
// argument with a message naming it; a bad argument also stops a real start
// (rather than leaving ATS running without routing).
//
// Run: bash scripts/build.sh && node --test dist/test/plugin/verify.test.js

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';

import { AtsStartError, startAts, verifyPlugin } from '../harness/ats.js';
import { PLUGIN_SO, pluginSetup, tableName } from './helpers.js';

const name = tableName('verify');
const BAD =
  /unknown argument "--tabel=x" \(known: --table NAME, --debug-header, --poll-ms N, --answer-unknown-hosts, --no-tls, --stats-slots N, --stats-threads N\)/;

test('the plugin is built', () => {
  assert.ok(existsSync(PLUGIN_SO), `${PLUGIN_SO} is missing: run bash scripts/build.sh`);
});

for (const kind of ['global', 'remap'] as const) {
  test(`verify_${kind}_plugin and verify_config accept it`, async () => {
    for (const args of [
      ['--table', name],
      [`--table=${name}`, '--debug-header', '--poll-ms=50'],
      [`--table=${name}`, '--answer-unknown-hosts', '--stats-slots=1024', '--stats-threads', '8'],
    ]) {
      const r = await verifyPlugin(kind, PLUGIN_SO, args);
      assert.equal(r.ok, true, `${args.join(' ')}\n${r.output}`);
      assert.equal(r.loads, true);
      assert.equal(r.configures, true);
      assert.doesNotMatch(r.output, /\[ats_ingress\].*(not loaded|not created)/);
    }
  });

  test(`${kind}: a bad argument is refused, naming it`, async () => {
    const r = await verifyPlugin(kind, PLUGIN_SO, ['--tabel=x']);
    assert.equal(r.loads, true, r.output);
    assert.equal(r.configures, false, `verify_config must fail\n${r.output}`);
    assert.equal(r.ok, false);
    assert.match(r.output, BAD);

    for (const [args, message] of [
      [['--table=bad/name'], /--table "bad\/name": a table name is 1 to 64 letters, digits, '_' or '-'/],
      [['--poll-ms=0'], /--poll-ms "0": expected 1 to 10000 milliseconds/],
      [['--debug-header=yes'], /--debug-header takes no value/],
      [['--table'], /--table needs a name/],
      [['--stats-slots=65537'], /--stats-slots "65537": expected 1 to 65536 slots/],
      [['--stats-threads=0'], /--stats-threads "0": expected 1 to 1024 threads/],
    ] as const) {
      const bad = await verifyPlugin(kind, PLUGIN_SO, [...args]);
      assert.equal(bad.ok, false, `${args.join(' ')} accepted\n${bad.output}`);
      assert.match(bad.output, message);
    }
  });

  test(`${kind}: traffic_server does not start with a bad argument`, async () => {
    const setup = pluginSetup(kind, name, ['--tabel=x']);
    const err = await startAts({ ...setup, startTimeoutMs: 15_000 }).then(
      async (unexpected) => {
        await unexpected.stop({ kill: true });
        assert.fail(`traffic_server started with --tabel=x in ${kind} mode`);
      },
      (e: unknown) => e,
    );
    assert.ok(err instanceof AtsStartError, String(err));
    assert.match(err.message, /exited during start/);
    assert.match(err.message, BAD);
  });
}
