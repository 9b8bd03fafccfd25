// Hostnames, from the Gateway API's own text (apis/v1 of v1.6.3: Listener.hostname,
// HTTPRouteSpec.hostnames, and the Listeners doc on distinct Hostnames).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { effectiveHostnames, hostnameMatches, intersectHostnames, requestHost, selectListener } from './hostnames.js';

describe('"Hostnames that are prefixed with a wildcard label (`*.`) are interpreted as a suffix match. That means that a match for `*.example.com` would match both `test.example.com`, and `foo.test.example.com`, but not `example.com`."', () => {
  const cases: Array<[string | undefined, string, boolean]> = [
    ['*.example.com', 'test.example.com', true],
    ['*.example.com', 'foo.test.example.com', true],
    ['*.example.com', 'example.com', false],
    ['*.example.com', 'test.example.net', false],
    ['*.example.com', 'testexample.com', false],
    ['test.example.com', 'test.example.com', true],
    ['test.example.com', 'foo.test.example.com', false],
    // "When unspecified, all hostnames are matched."
    [undefined, 'anything.example', true],
  ];
  for (const [pattern, host, want] of cases) {
    test(`${pattern ?? '(no hostname)'} ${want ? 'matches' : 'does not match'} ${host}`, () => assert.equal(hostnameMatches(pattern, host), want));
  }
});

describe('"If a hostname is specified by both the Listener and HTTPRoute, there must be at least one intersecting hostname for the HTTPRoute to be attached to the Listener."', () => {
  // [listener, route, intersection (null: none)]; the intersection is the same either way round.
  const cases: Array<[string | undefined, string | undefined, string | undefined | null, string]> = [
    ['test.example.com', 'test.example.com', 'test.example.com', '"A Listener with `test.example.com` as the hostname matches HTTPRoutes that have ... specified at least one of `test.example.com` or `*.example.com`."'],
    ['test.example.com', '*.example.com', 'test.example.com', 'the same sentence, the wildcard side'],
    ['test.example.com', 'other.example.com', null, 'two different exact names'],
    ['*.example.com', '*.example.com', '*.example.com', '"A Listener with `*.example.com` as the hostname matches HTTPRoutes that have ... specified at least one hostname that matches the Listener hostname. For example, `*.example.com`, `test.example.com`, and `foo.test.example.com` would all match."'],
    ['*.example.com', 'test.example.com', 'test.example.com', 'the same sentence: test.example.com'],
    ['*.example.com', 'foo.test.example.com', 'foo.test.example.com', 'the same sentence: foo.test.example.com (a wildcard covers more than one label)'],
    ['*.example.com', 'example.com', null, '"On the other hand, `example.com` and `test.example.net` would not match."'],
    ['*.example.com', 'test.example.net', null, 'the same sentence: test.example.net'],
    ['*.example.com', '*.foo.example.com', '*.foo.example.com', 'two wildcards: the narrower one'],
    ['*.example.com', '*.example.net', null, 'two wildcards of different domains'],
    [undefined, 'a.example.com', 'a.example.com', 'a listener without hostname takes the Route\'s'],
    ['a.example.com', undefined, 'a.example.com', 'a Route without hostnames takes the listener\'s'],
  ];
  for (const [listener, route, want, why] of cases) {
    test(`${listener ?? '(none)'} ∩ ${route ?? '(none)'} = ${want === null ? 'nothing' : (want ?? 'any')}: ${why}`, () => {
      assert.equal(intersectHostnames(listener, route), want);
      assert.equal(intersectHostnames(route, listener), want, 'both ways');
    });
  }

  test('"any HTTPRoute hostnames that do not match the Listener hostname MUST be ignored. For example, if a Listener specified `*.example.com`, and the HTTPRoute specified `test.example.com` and `test.example.net`, `test.example.net` must not be considered for a match."', () => {
    assert.deepEqual(effectiveHostnames('*.example.com', ['test.example.com', 'test.example.net']), ['test.example.com']);
  });

  test('"If both the Listener and HTTPRoute have specified hostnames, and none match with the criteria above, then the HTTPRoute is not accepted."', () => {
    assert.equal(effectiveHostnames('*.example.com', ['example.com', 'test.example.net']), null);
  });

  test('"A Listener with `test.example.com` as the hostname matches HTTPRoutes that have either not specified any hostnames": routed on the listener\'s hostname', () => {
    assert.deepEqual(effectiveHostnames('test.example.com', undefined), ['test.example.com']);
    assert.deepEqual(effectiveHostnames('test.example.com', []), ['test.example.com']);
    assert.deepEqual(effectiveHostnames(undefined, undefined), [undefined], 'neither: every host');
  });
});

describe('the listener a request selects: "inbound request hostnames MUST match from the most specific to least specific Hostname values to choose the correct Listener and its associated set of Routes."', () => {
  const listeners = [{ name: 'any' }, { name: 'wide', hostname: '*.example.com' }, { name: 'narrow', hostname: '*.foo.example.com' }, { name: 'exact', hostname: 'foo.example.com' }];
  const cases: Array<[string, string | undefined, string]> = [
    ['foo.example.com', 'exact', '"Exact matches MUST be processed before wildcard matches ... `"foo.example.com"` takes precedence over `"*.example.com"`"'],
    ['bar.foo.example.com', 'narrow', '"`"*.foo.example.com"` takes precedence over `"*.example.com"`"'],
    ['a.b.foo.example.com', 'narrow', '"the higher the number of dots in the hostname to the right of the wildcard character, the higher the precedence"'],
    ['bar.example.com', 'wide', '"The wildcard character will match any number of characters _and dots_ to the left"'],
    ['foo.bar.example.com', 'wide', 'the same sentence: "`"*.example.com"` will match both `"foo.bar.example.com"` _and_ `"bar.example.com"`"'],
    ['example.com', 'any', '"wildcard matches MUST be processed before fallback (empty Hostname value) matches": the apex is not covered by *.example.com'],
    ['other.test', 'any', 'only the fallback matches'],
  ];
  for (const [host, want, why] of cases) {
    test(`${host} → ${want ?? 'none'}: ${why}`, () => assert.equal(selectListener(listeners, host)?.name, want));
  }
  // The same listeners in the reverse order: the order in the Gateway does not matter.
  test('the order of the listeners does not matter', () => {
    for (const [host, want] of cases) assert.equal(selectListener([...listeners].reverse(), host)?.name, want, host);
  });
  test('no listener matches: none (the request is not this Gateway\'s)', () => {
    assert.equal(selectListener([{ hostname: 'a.example.com' }], 'b.example.com'), undefined);
  });
});

describe('"Implementations MUST ignore any port value specified in the HTTP Host header while performing a match"', () => {
  for (const [raw, want] of [['Foo.Example.com:8080', 'foo.example.com'], ['foo.example.com.', 'foo.example.com'], ['[::1]:80', '[::1]'], ['a.example.com', 'a.example.com']] as const) {
    test(`${raw} → ${want}`, () => assert.equal(requestHost(raw), want));
  }
});
