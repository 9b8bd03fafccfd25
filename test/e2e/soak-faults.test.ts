// Load with faults, in one run, the short version (test/soak/faults.ts says
// what it does): a fixed-rate load through ATS on routes that exist
// throughout while endpoints churn, the controller is killed, the API server
// and etcd restart, an Ingress comes and goes, a Secret is renewed, the
// records ConfigMap changes, a cache generation is bumped and ATS restarts.
// About a minute on 2 cores; `npm run soak -- --faults` runs the long one.
//
// Run: bash scripts/build.sh && node --test dist/test/e2e/soak-faults.test.js

import { test } from 'node:test';

import { runFaultsSoak, SHORT_FAULTS } from '../soak/faults.js';

test('load with faults: no error on the routes that exist throughout, except refused connections while ATS restarts', { timeout: 300_000 }, async () => {
  await runFaultsSoak(SHORT_FAULTS);
});
