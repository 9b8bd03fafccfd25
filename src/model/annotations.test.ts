import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseAnnotations } from './annotations.js';

describe('parseAnnotations', () => {
  test('options come out in one order whatever the annotations\' order', () => {
    const a = parseAnnotations({ 'ats.ingress.kubernetes.io/cache': 'bypass', 'ats.ingress.kubernetes.io/connect-timeout': '1s' });
    const b = parseAnnotations({ 'ats.ingress.kubernetes.io/connect-timeout': '1s', 'ats.ingress.kubernetes.io/cache': 'bypass' });
    assert.equal(a.settings.optionsKey, b.settings.optionsKey);
    assert.equal(JSON.stringify(a.settings.options), '{"connectTimeoutMs":1000,"cachePolicy":"bypass"}');
  });

  test('no annotation of ours: the shared default settings', () => {
    assert.equal(parseAnnotations({ 'kubernetes.io/ingress.class': 'ats' }).settings, parseAnnotations(undefined).settings);
  });
});
