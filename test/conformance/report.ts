// Reading what the Gateway API conformance suite says: its `go test -v`
// output (each test's result and the lines it logged, so that a failure is
// reported with the suite's own message), the report YAML it writes
// (-report-output: per profile, Core and Extended results with their failed
// and skipped tests), and the README's list of the Core tests we know fail,
// each with its reason. Pure functions over text: report.test.ts tests them.

import { parse as parseYaml } from 'yaml';

export type TestResult = 'pass' | 'fail' | 'skip';

/** One test of the suite (a subtest of TestConformance), as `go test -v` printed it. */
export interface SuiteTest {
  /** The suite's test name, e.g. HTTPRouteSimpleSameNamespace. */
  name: string;
  result: TestResult;
  seconds: number;
  /** The lines it (and its subtests) logged, in order, without go test's own RUN/PASS/FAIL markers. */
  log: string[];
  /** Its failed subtests (the path below the test, e.g. "0_request_to_'/'_should_go_to_infra-backend-v1"). */
  failedSubtests: string[];
}

const TOP = 'TestConformance/';
const MARK = /^=== (RUN|PAUSE|CONT|NAME)\s+(\S+)/;
const END = /^\s*--- (PASS|FAIL|SKIP): (\S+) \(([\d.]+)s\)/;

/**
 * The suite's tests from `go test -v` output. go test prints `=== NAME X`
 * whenever the output switches to another (parallel) test, so each line
 * belongs to the test named last. Lines before the first test (the suite's
 * setup) are under the key '' of `setup`.
 */
export function parseGoTestOutput(text: string): { tests: SuiteTest[]; setup: string[]; top: TestResult | undefined } {
  const tests = new Map<string, SuiteTest>();
  const setup: string[] = [];
  let top: TestResult | undefined;
  let current = '';
  const testOf = (full: string): SuiteTest | undefined => {
    if (!full.startsWith(TOP)) return undefined;
    const name = full.slice(TOP.length).split('/')[0]!;
    let t = tests.get(name);
    if (!t) {
      t = { name, result: 'pass', seconds: 0, log: [], failedSubtests: [] };
      tests.set(name, t);
    }
    return t;
  };
  for (const line of text.split('\n')) {
    const mark = MARK.exec(line);
    if (mark) {
      current = mark[2]!;
      testOf(current);
      continue;
    }
    const end = END.exec(line);
    if (end) {
      const [, res, full, secs] = end;
      const result = res!.toLowerCase() as TestResult;
      if (full === 'TestConformance') {
        top = result;
        continue;
      }
      const t = testOf(full!);
      if (t) {
        const sub = full!.slice(TOP.length + t.name.length + 1);
        if (sub === '' || full === TOP + t.name) {
          t.result = result;
          t.seconds = Number(secs);
        } else if (result === 'fail') {
          t.failedSubtests.push(sub);
        }
      }
      continue;
    }
    if (/^(PASS|FAIL|ok\s|FAIL\s)$/.test(line.trim())) continue;
    const t = testOf(current);
    if (t) t.log.push(line);
    else setup.push(line);
  }
  return { tests: [...tests.values()], setup, top };
}

/**
 * The suite's message for a failed test, short: testify's `Error:` and
 * `Messages:` blocks (what the test asserted); without them, the last
 * distinct lines it logged (the state its last poll saw). Timestamps the
 * suite puts in front of its lines are left out. At most `maxLines`.
 */
export function failureMessage(t: SuiteTest, maxLines = 12): string {
  const lines = t.log.map((l) => l.replace(/\s+$/, ''));
  const blocks: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const block = /^(Error|Messages):\s*(.*)$/.exec(lines[i]!.trim());
    if (!block) continue;
    const parts = [block[2]!];
    // A block continues on lines until testify's next "Key:" or a logged line.
    for (let j = i + 1; j < lines.length; j++) {
      const next = lines[j]!.trim();
      if (next === '' || /^(Error Trace|Error|Test|Messages):/.test(next) || /^\S+\.go:\d+:/.test(next)) break;
      parts.push(next);
      i = j;
    }
    blocks.push(`${block[1]}: ${parts.filter(Boolean).join(' ')}`);
  }
  const unique = (xs: string[]) => [...new Set(xs)];
  const logged = lines
    .map((l) => /^\s*(\S+\.go:\d+): (?:\d{4}-\d\d-\d\dT[\d:.]+Z: )?(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null && m[2]!.trim() !== '')
    .map((m) => `${m[1]}: ${condenseRequest(m[2]!)}`);
  // The suite's HTTP checks give up with "timeout while waiting after N
  // attempts": that line, after the last reason its polls gave.
  const gaveUp: string[] = [];
  for (let i = 0; i < logged.length; i++) {
    if (!/timeout while waiting|timed out/i.test(logged[i]!)) continue;
    const reason = logged.slice(0, i).reverse().find((l) => l.includes(' not ready yet: '));
    if (reason) gaveUp.push(reason);
    gaveUp.push(logged[i]!);
  }
  let out = unique([...gaveUp, ...blocks]);
  if (out.length === 0) out = unique([...logged].reverse()).slice(0, maxLines).reverse();
  const shown = out.slice(0, maxLines);
  if (out.length > maxLines) shown.push(`(${out.length - maxLines} more lines)`);
  return shown.length ? shown.join('\n') : '(the suite logged no error text; see the full log)';
}

/**
 * The suite's "Response expectation failed for request: {URL: {... Host:ADDR
 * Path:P ...}, Host: H, ...}  not ready yet: WHY. CRes: ..." as "request to
 * H P (via ADDR) not ready yet: WHY"; other text as it is.
 */
function condenseRequest(text: string): string {
  const m = /^Response expectation failed for request: \{URL: \{.*?Host:(\S*) Path:(\S*) .*?\}, Host: (\S*), .*?\}\s+not ready yet: (.*?)(?: CRes: .*)?$/.exec(text);
  return m ? `request to ${m[3]}${m[2]} (via ${m[1]}) not ready yet: ${m[4]}` : text;
}

/** The part of the suite's ConformanceReport (conformance/apis/v1) read here. */
export interface ProfileStatus {
  result: string;
  statistics: { Passed: number; Skipped: number; Failed: number };
  skippedTests?: string[];
  failedTests?: string[];
}

export interface ConformanceReport {
  implementation: { organization: string; project: string; url: string; version: string; contact: string[] };
  date: string;
  gatewayAPIVersion: string;
  gatewayAPIChannel: string;
  mode: string;
  profiles: Array<{
    name: string;
    summary: string;
    core: ProfileStatus;
    extended?: ProfileStatus & { supportedFeatures?: string[]; unsupportedFeatures?: string[] };
  }>;
  succeededProvisionalTests?: string[];
}

export function parseReport(text: string): ConformanceReport {
  const r = parseYaml(text) as ConformanceReport;
  if (typeof r !== 'object' || r === null || !Array.isArray(r.profiles)) throw new Error('conformance report: no profiles in it (not a ConformanceReport?)');
  return r;
}

/** Lines saying, per profile, the Core and Extended results and what failed or was skipped. */
export function reportSummary(r: ConformanceReport): string[] {
  const out = [`Gateway API ${r.gatewayAPIVersion} (${r.gatewayAPIChannel} channel, mode ${r.mode}), ${r.implementation.project} ${r.implementation.version}, ${r.date}`];
  const status = (what: string, s: ProfileStatus | undefined) => {
    if (!s) return;
    const st = s.statistics;
    out.push(`  ${what}: ${s.result} (passed ${st.Passed}, failed ${st.Failed}, skipped ${st.Skipped})`);
    if (s.failedTests?.length) out.push(`    failed: ${s.failedTests.join(', ')}`);
    if (s.skippedTests?.length) out.push(`    skipped: ${s.skippedTests.join(', ')}`);
  };
  for (const p of r.profiles) {
    out.push(`${p.name}: ${p.summary}`);
    status('core', p.core);
    status('extended', p.extended);
    if (p.extended?.supportedFeatures?.length) out.push(`    supported features: ${p.extended.supportedFeatures.join(', ')}`);
  }
  return out;
}

/**
 * The Core tests the README names as failing, each with its reason: the
 * bullets `` - `TestName`: reason `` after the paragraph that starts with
 * `**Conformance tests that fail` (continuation lines joined), up to the
 * first line that is neither. A bullet without a test name (`- none.`) names
 * none.
 */
export function knownFailures(readme: string): Map<string, string> {
  const lines = readme.split('\n');
  const start = lines.findIndex((l) => l.startsWith('**Conformance tests that fail'));
  const known = new Map<string, string>();
  if (start < 0) return known;
  let i = start + 1;
  while (i < lines.length && lines[i]!.trim() !== '') i++;
  while (i < lines.length && lines[i]!.trim() === '') i++;
  let last: string | undefined;
  for (; i < lines.length; i++) {
    const l = lines[i]!;
    const bullet = /^- `([A-Za-z0-9]+)`:?\s*(.*)$/.exec(l);
    if (bullet) {
      last = bullet[1]!;
      known.set(last, bullet[2]!.trim());
      continue;
    }
    if (l.startsWith('- ')) {
      last = undefined;
      continue;
    }
    if (last !== undefined && /^\s+\S/.test(l)) {
      known.set(last, `${known.get(last)} ${l.trim()}`.trim());
      continue;
    }
    break;
  }
  return known;
}
