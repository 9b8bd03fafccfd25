// Bounded resources, the short version (test/soak/resources.ts says what it
// does): 10,000 rebuilds from EndpointSlice churn written through the real
// API server, with the controller's and traffic_server's RSS, descriptors,
// the table's /dev/shm objects and the Events that reached the API server
// checked after a warm-up, in the middle and at the end. About a minute on 2
// cores; `npm run soak -- --resources` runs the long one.
//
// Run: bash scripts/build.sh && node --test dist/test/e2e/soak-resources.test.js

import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import { runResourcesSoak, SHORT_RESOURCES, type ResourcesReport } from '../soak/resources.js';

let report: ResourcesReport;

before(async () => {
  report = await runResourcesSoak(SHORT_RESOURCES);
}, { timeout: 400_000 });

test('10,000 rebuilds through the API server: memory and descriptors flat, old tables reclaimed, Events bounded, every request served', () => {
  report.checks.assertAll();
});

// A problem that comes and goes raises the count of its one Event
// (src/publish/events.ts remembers gone problems for the API server's event
// TTL), so what reaches the API server stays bounded per object.
test('Events per object stay bounded in the API server also when a problem comes and goes', () => {
  assert.ok(report.flapper.appeared > 10, `the problem came back often enough to tell (${report.flapper.appeared} times)`);
  assert.ok(report.flapper.events <= 10, `the flapping Ingress has ${report.flapper.events} Events after its problem appeared ${report.flapper.appeared} times`);
});
