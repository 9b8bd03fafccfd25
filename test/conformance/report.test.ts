// The readers of the conformance suite's output, its report and the README's
// list of known failures, on text shaped like what they read.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { failureMessage, knownFailures, parseGoTestOutput, parseReport, reportSummary } from './report.js';
import { hostsOf } from './suite.js';

const OUTPUT = `    suite.go:120: setting up
=== RUN   TestConformance
=== RUN   TestConformance/HTTPRouteSimpleSameNamespace
=== PAUSE TestConformance/HTTPRouteSimpleSameNamespace
=== RUN   TestConformance/HTTPRouteWeight
    httproute-weight.go:50: Making GET request
=== NAME  TestConformance/HTTPRouteSimpleSameNamespace
    httproute-simple-same-namespace.go:43: Making GET request to host  via http://127.0.80.1/
=== RUN   TestConformance/HTTPRouteSimpleSameNamespace/0_request
    http.go:230: Request failed, not ready yet: expected status code to be 200, got 404
    http.go:240:
        \tError Trace:\t/x/http.go:240
        \tError:      \tCondition never satisfied
        \tTest:       \tTestConformance/HTTPRouteSimpleSameNamespace/0_request
        \tMessages:   \tgot 404
        \t            \tafter 30s
=== NAME  TestConformance/HTTPRouteWeight
    httproute-weight.go:60: Request passed
=== RUN   TestConformance/TLSRouteSimple
    suite.go:400: Skipping TLSRouteSimple: suite does not support TLSRoute
--- FAIL: TestConformance (31.00s)
    --- PASS: TestConformance/HTTPRouteWeight (1.20s)
    --- SKIP: TestConformance/TLSRouteSimple (0.00s)
    --- FAIL: TestConformance/HTTPRouteSimpleSameNamespace (30.50s)
        --- FAIL: TestConformance/HTTPRouteSimpleSameNamespace/0_request (30.00s)
FAIL
`;

test('go test -v output: each test with its result, its time, its own lines and its failed subtests', () => {
  const { tests, setup, top } = parseGoTestOutput(OUTPUT);
  assert.equal(top, 'fail');
  assert.deepEqual(setup, ['    suite.go:120: setting up']);
  const by = Object.fromEntries(tests.map((t) => [t.name, t]));
  assert.deepEqual(Object.keys(by).sort(), ['HTTPRouteSimpleSameNamespace', 'HTTPRouteWeight', 'TLSRouteSimple']);
  assert.equal(by['HTTPRouteWeight']!.result, 'pass');
  assert.equal(by['HTTPRouteWeight']!.seconds, 1.2);
  assert.deepEqual(by['HTTPRouteWeight']!.log, ['    httproute-weight.go:50: Making GET request', '    httproute-weight.go:60: Request passed']);
  assert.equal(by['TLSRouteSimple']!.result, 'skip');
  const simple = by['HTTPRouteSimpleSameNamespace']!;
  assert.equal(simple.result, 'fail');
  assert.equal(simple.seconds, 30.5);
  assert.deepEqual(simple.failedSubtests, ['0_request']);
  assert.ok(simple.log.some((l) => l.includes('Condition never satisfied')));
});

test("a failure's message: testify's Error and Messages, else the last distinct lines logged, without timestamps", () => {
  const simple = parseGoTestOutput(OUTPUT).tests.find((t) => t.name === 'HTTPRouteSimpleSameNamespace')!;
  assert.equal(failureMessage(simple), ['Error: Condition never satisfied', 'Messages: got 404 after 30s'].join('\n'));
  const polled = {
    name: 'X',
    result: 'fail' as const,
    seconds: 60,
    failedSubtests: [],
    log: [
      '    helpers.go:284: 2026-12-01T15:51:01.8Z: Programmed not True',
      '    helpers.go:285: 2026-12-01T15:51:01.9Z: not Programmed yet',
      '    helpers.go:284: 2026-12-01T15:51:02.0Z: Programmed not True',
      '    helpers.go:285: 2026-12-01T15:51:02.1Z: not Programmed yet',
      '    helpers.go:599: 2026-12-01T15:51:02.2Z: Accepted False/PortUnavailable',
    ],
  };
  assert.equal(failureMessage(polled, 2), ['helpers.go:285: not Programmed yet', 'helpers.go:599: Accepted False/PortUnavailable'].join('\n'));
  const http = {
    ...polled,
    log: [
      '    http.go:325: 2026-12-01T15:52:42.8Z: Response expectation failed for request: {URL: {Scheme:http Opaque: User: Host:127.0.80.12 Path:/abc Fragment: RawQuery:}, Host: abc.foo.example.com, Protocol: HTTP, Method: GET}  not ready yet: expected status code to be one of [200], got 404. CRes: &{404 297 HTTP/1.1 map[]}',
      '    http.go:306: 2026-12-01T15:53:12.8Z: timeout while waiting after 32 attempts, 0/3 successes',
    ],
  };
  assert.equal(
    failureMessage(http),
    ['http.go:325: request to abc.foo.example.com/abc (via 127.0.80.12) not ready yet: expected status code to be one of [200], got 404.', 'http.go:306: timeout while waiting after 32 attempts, 0/3 successes'].join('\n'),
  );
  assert.equal(failureMessage({ name: 'X', result: 'fail', seconds: 0, log: [], failedSubtests: [] }), '(the suite logged no error text; see the full log)');
});

test('the report: per profile, Core and Extended with what failed', () => {
  const r = parseReport(`apiVersion: gateway.networking.k8s.io/v1
kind: ConformanceReport
date: "2026-01-01T00:00:00Z"
gatewayAPIChannel: standard
gatewayAPIVersion: v1.6.3
implementation: { organization: o, project: p, url: u, version: v1, contact: [c] }
mode: default
profiles:
- name: GATEWAY-HTTP
  summary: Core tests failed with 1 test failures.
  core:
    result: failure
    statistics: { Failed: 1, Passed: 35, Skipped: 0 }
    failedTests: [HTTPRouteWeight]
  extended:
    result: success
    statistics: { Failed: 0, Passed: 3, Skipped: 0 }
    supportedFeatures: [HTTPRouteMethodMatching]
`);
  assert.deepEqual(reportSummary(r), [
    'Gateway API v1.6.3 (standard channel, mode default), p v1, 2026-01-01T00:00:00Z',
    'GATEWAY-HTTP: Core tests failed with 1 test failures.',
    '  core: failure (passed 35, failed 1, skipped 0)',
    '    failed: HTTPRouteWeight',
    '  extended: success (passed 3, failed 0, skipped 0)',
    '    supported features: HTTPRouteMethodMatching',
  ]);
  assert.throws(() => parseReport('a: 1\n'), /no profiles/);
});

test("the README's known failures: the bullets after the marker paragraph, continuation lines joined", () => {
  const readme = [
    'text',
    '**Conformance tests that fail**, in Core, with',
    'their reasons:',
    '',
    '- `HTTPRouteWeight`: the split is checked',
    '  over 10 requests (issue 99)',
    '- `GatewayModifyListeners` listener removal',
    '',
    'after',
    '- `NotThis`: no',
  ].join('\n');
  assert.deepEqual([...knownFailures(readme)], [
    ['HTTPRouteWeight', 'the split is checked over 10 requests (issue 99)'],
    ['GatewayModifyListeners', 'listener removal'],
  ]);
  assert.equal(knownFailures('no list here').size, 0);
  assert.equal(knownFailures('**Conformance tests that fail**:\n\n- none.\n\n- `NotThis`: no\n').size, 0);
});

test('hostsOf: the host addresses of a range', () => {
  assert.deepEqual(hostsOf('127.0.80.0/29'), ['127.0.80.1', '127.0.80.2', '127.0.80.3', '127.0.80.4', '127.0.80.5', '127.0.80.6']);
  assert.equal(hostsOf('10.0.0.0/24').length, 254);
  assert.throws(() => hostsOf('10.0.0.0'), TypeError);
});
