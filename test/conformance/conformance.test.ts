// The upstream Gateway API conformance suite (v1.6.3, unchanged), its
// GATEWAY-HTTP Core tests, against ats-ingress on this machine (suite.ts:
// API server, controller manager, process kubelet, ATS as root on 80/443,
// the controller with the shipped RBAC). Every Core test must pass, or be
// named in the README's list of conformance tests that fail, with its
// reason; a test on that list that passes now must leave it. The suite's
// summary and each failure's message are printed.
//
// Needs root (ports 80 and 443, network namespaces); skipped otherwise.
// Run alone: npm run conformance -- --core (which also writes the report).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { ROOT } from '../e2e/env.js';
import { failureMessage, knownFailures } from './report.js';
import { describeRun, runConformance } from './suite.js';

const root = process.getuid?.() === 0;

test('the Gateway API conformance suite, GATEWAY-HTTP Core: every test passes or the README says why not', { skip: root ? false : 'needs root', timeout: 30 * 60_000 }, async (t) => {
  // Another run on this machine (ports 80 and 443) is waited for, up to 5 min.
  const run = await runConformance({ extendedFeatures: [], suiteTimeoutMs: 20 * 60_000, lockWaitMs: 5 * 60_000, log: (l) => t.diagnostic(l) });
  for (const line of describeRun(run)) t.diagnostic(line);
  assert.deepEqual(run.cleanupErrors, [], 'the run left something behind');
  assert.ok(run.report, `the suite wrote no report (exit ${run.exitCode}); it logged:\n${run.setupLog.slice(-40).join('\n')}`);
  const profile = run.report.profiles.find((p) => p.name === 'GATEWAY-HTTP');
  assert.ok(profile, 'the report has no GATEWAY-HTTP profile');

  const known = knownFailures(readFileSync(join(ROOT, 'README.md'), 'utf8'));
  const failed = profile.core.failedTests ?? [];
  const unexplained = failed.filter((name) => !known.has(name));
  const messages = unexplained.map((name) => {
    const test = run.tests.find((x) => x.name === name);
    return `${name}: ${test ? failureMessage(test) : '(not in the output)'}`;
  });
  assert.deepEqual(unexplained, [], `Core tests failed that the README does not name (README, "Gateway API", conformance):\n${messages.join('\n')}`);
  const passedNow = [...known.keys()].filter((name) => run.tests.some((x) => x.name === name && x.result === 'pass'));
  assert.deepEqual(passedNow, [], 'tests the README names as failing pass now: take them off its list');
  // Core means all of them ran: none skipped.
  assert.equal(profile.core.statistics.Skipped, 0, `Core tests skipped: ${(profile.core.skippedTests ?? []).join(', ')}`);
});
