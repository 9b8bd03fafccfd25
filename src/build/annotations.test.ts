import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseAnnotations, parseDuration } from './annotations.js';

describe('parseDuration', () => {
  const cases: [string, number | string][] = [
    ['5s', 5000],
    ['500ms', 500],
    ['1m30s', 90_000],
    ['1h', 3_600_000],
    ['24h', 86_400_000],
    ['1s500ms', 1500],
    ['25h', '"25h" is longer than 24h'],
    ['99999999999999999999s', '"99999999999999999999s" is longer than 24h'],
    ['0s', '"0s" must be longer than 0'],
    ['5', '"5" is not a duration such as 5s, 500ms or 1m30s'],
    ['s', '"s" is not a duration such as 5s, 500ms or 1m30s'],
    ['1.5s', '"1.5s" is not a duration such as 5s, 500ms or 1m30s'],
    ['5sec', '"5sec" is not a duration such as 5s, 500ms or 1m30s'],
    [' 5s', '" 5s" is not a duration such as 5s, 500ms or 1m30s'],
    ['-5s', '"-5s" is not a duration such as 5s, 500ms or 1m30s'],
    ['', '"" is not a duration such as 5s, 500ms or 1m30s'],
  ];
  for (const [text, want] of cases) {
    test(`"${text}"`, () => assert.equal(parseDuration(text), want));
  }
});

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
