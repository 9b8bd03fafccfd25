// `npm run soak`: the long soaks, once, printing their figures as '# ' lines.
//
//   npm run soak                  both
//   npm run soak -- --faults      load with faults (test/soak/faults.ts), several minutes
//   npm run soak -- --resources   bounded resources (test/soak/resources.ts), 50,000 rebuilds
//
// Options: --rounds N (faults: how many times the sequence of faults runs),
// --rebuilds N (resources), --seed N (faults: the churn's choices).
// Exits 1 when a check failed, naming every one.

import { parseArgs } from 'node:util';

import { LONG_FAULTS, runFaultsSoak } from './faults.js';
import { print } from './report.js';
import { LONG_RESOURCES, runResourcesSoak } from './resources.js';

const USAGE = 'usage: npm run soak -- [--faults] [--resources] [--rounds N] [--rebuilds N] [--seed N]';

function count(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} ${v}: expected a whole number above 0\n${USAGE}`);
  return n;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      faults: { type: 'boolean' },
      resources: { type: 'boolean' },
      rounds: { type: 'string' },
      rebuilds: { type: 'string' },
      seed: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const both = !values.faults && !values.resources;
  let failed = 0;
  const run = async (what: string, fn: () => Promise<void>) => {
    const t0 = Date.now();
    print(`=== ${what} ===`);
    try {
      await fn();
      print(`=== ${what}: passed in ${((Date.now() - t0) / 1000).toFixed(0)} s ===`);
    } catch (err) {
      failed++;
      print(`=== ${what}: FAILED after ${((Date.now() - t0) / 1000).toFixed(0)} s ===`);
      console.error((err as Error).message);
    }
  };
  if (values.faults || both) {
    const rounds = count('rounds', values.rounds) ?? LONG_FAULTS.rounds;
    const seed = count('seed', values.seed);
    await run(`load with faults (${rounds} rounds)`, () => runFaultsSoak({ ...LONG_FAULTS, rounds, ...(seed !== undefined ? { seed } : {}) }));
  }
  if (values.resources || both) {
    const rebuilds = count('rebuilds', values.rebuilds) ?? LONG_RESOURCES.rebuilds;
    await run(`bounded resources (${rebuilds} rebuilds)`, async () => {
      const r = await runResourcesSoak({ ...LONG_RESOURCES, rebuilds });
      r.checks.assertAll();
      // One Event whose count goes up (src/publish/events.ts), however often the problem comes back.
      if (r.flapper.appeared <= 10 || r.flapper.events > 10) {
        throw new Error(`the flapping Ingress has ${r.flapper.events} Events after its problem appeared ${r.flapper.appeared} times (bound: 10, and more than 10 appearances to tell)`);
      }
    });
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error((err as Error).message);
    process.exit(2);
  },
);
