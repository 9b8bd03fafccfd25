// What a rule answers with, from its backends: the spec's 500 and 503.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backendAnswer, ruleAnswer, type GatewayBackend } from './backends.js';

const ok = (weight = 1): GatewayBackend => ({ weight, resolution: { valid: true, service: 'app/web', port: 80 } });
const bad = (weight = 1): GatewayBackend => ({ weight, resolution: { valid: false, reason: 'BackendNotFound', message: 'gone' } });

describe('500 versus 503', () => {
  test('"If *all* entries in BackendRefs are invalid, and there are also no filters specified in this route rule, *all* traffic which matches this rule MUST receive a 500 status code."', () => {
    assert.deepEqual(ruleAnswer([bad(), bad(3)], false), { status: 500, reason: 'every backendRef of the rule is invalid' });
  });
  test('... "and there are also no filters": a RequestRedirect answers by itself', () => {
    assert.deepEqual(ruleAnswer([bad()], true), { forward: true });
    assert.deepEqual(ruleAnswer([], true), { forward: true });
  });
  test('a rule without backendRefs and without a redirect: 500', () => {
    assert.deepEqual(ruleAnswer([], false), { status: 500, reason: 'the rule has no backendRefs' });
  });
  test('"If weight is set to 0, no traffic should be forwarded for this entry": only zero weights, 500', () => {
    assert.deepEqual(ruleAnswer([ok(0), ok(0)], false), { status: 500, reason: 'every backendRef of the rule has weight 0' });
  });
  test('"If multiple backends are specified, and some are invalid, the proportion of requests that would otherwise have been routed to an invalid backend MUST receive a 500 status code.": the rule forwards, the invalid backend answers 500', () => {
    assert.deepEqual(ruleAnswer([ok(), bad()], false), { forward: true });
    assert.equal(backendAnswer(bad(), 3), 500);
    assert.equal(backendAnswer(ok(), 3), 'forward');
  });
  test('"When a HTTPBackendRef refers to a Service that has no ready endpoints, implementations SHOULD return a 503 for requests to that backend instead."', () => {
    assert.equal(backendAnswer(ok(), 0), 503);
    assert.equal(backendAnswer(bad(), 0), 500, 'invalid stays 500');
  });
});
