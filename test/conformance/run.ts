// npm run conformance [-- OPTIONS]: the upstream Gateway API conformance
// suite, unchanged, against ats-ingress on this machine (suite.ts says how),
// as root. Writes the suite's report to docs/conformance/ and prints its
// summary, each failed test with the suite's message, the run time and the
// peak memory. Exit 0 when every test the suite ran passed.
//
//   --core                  the Core tests only (no extended features)
//   --features A,B          extended features to claim (default: the ones
//                           ats-ingress implements, EXTENDED_FEATURES)
//   --run-test NAME         one test only (no report is written to docs/)
//   --skip-tests A,B        tests to leave out
//   --timeouts 'K=S;...'    the suite's -timeout-config-overrides (seconds)
//   --report FILE           where to write the report (default
//                           docs/conformance/<channel>-<version>-<mode>-report.yaml,
//                           upstream's naming)
//   --output FILE           the suite's whole -v output (default
//                           $TMPDIR/ats-ingress-conformance.log)
//   --serial                one test at a time (the suite's -disable-parallel-tests)
//   --quiet                 do not stream the suite's output
//   --debug                 the suite's -debug

import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { parseArgs } from 'node:util';

import { ROOT } from '../e2e/env.js';
import { describeRun, EXTENDED_FEATURES, runConformance } from './suite.js';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      core: { type: 'boolean', default: false },
      features: { type: 'string' },
      'run-test': { type: 'string' },
      'skip-tests': { type: 'string' },
      timeouts: { type: 'string' },
      report: { type: 'string' },
      output: { type: 'string', default: join(tmpdir(), 'ats-ingress-conformance.log') },
      quiet: { type: 'boolean', default: false },
      debug: { type: 'boolean', default: false },
      serial: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const list = (v: string | undefined) => (v ? v.split(',').map((s) => s.trim()).filter(Boolean) : undefined);
  const features = values.core ? [] : (list(values.features) ?? [...EXTENDED_FEATURES]);
  const run = await runConformance({
    extendedFeatures: features,
    ...(values['run-test'] ? { runTest: values['run-test'] } : {}),
    ...(values['skip-tests'] ? { skipTests: list(values['skip-tests'])! } : {}),
    ...(values.timeouts ? { timeoutOverrides: values.timeouts } : {}),
    debug: values.debug,
    serial: values.serial,
    log: (l) => process.stderr.write(`[conformance] ${l}\n`),
    ...(values.quiet ? {} : { onOutput: (c: string) => process.stdout.write(c) }),
  });
  if (run.reportYaml !== undefined && run.report && !values['run-test']) {
    const r = run.report;
    const file = values.report ?? join(ROOT, 'docs', 'conformance', `${r.gatewayAPIChannel}-${r.implementation.version}-${r.mode}-report.yaml`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, run.reportYaml);
    process.stdout.write(`\nreport: ${relative(process.cwd(), file)}\n`);
  }
  writeFileSync(values.output, run.output);
  process.stdout.write(`\nthe suite's output: ${values.output}\n${describeRun(run).join('\n')}\n`);
  return run.exitCode === 0 && run.cleanupErrors.length === 0 ? 0 : 1;
}

// Ctrl-C or a kill: exit through the harness's exit hook, which stops every
// process group this run started and runs its clean-ups (the route, the lock).
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`conformance: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(2);
  },
);
