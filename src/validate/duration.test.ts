import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseDuration } from './duration.js';
import { invalid } from './invalid.js';

describe('parseDuration', () => {
  const cases: [string, number | string][] = [
    ['5s', 5000],
    ['500ms', 500],
    ['1m30s', 90_000],
    ['1h', 3_600_000],
    ['24h', 86_400_000],
    ['1s500ms', 1500],
    ['1m1ms', 60_001],
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
    test(`"${text}"`, () => assert.deepEqual(parseDuration(text), typeof want === 'string' ? invalid(want) : want));
  }

  test('a caller may allow longer durations', () => {
    assert.equal(parseDuration('48h', 7 * 86_400_000, '7 days'), 172_800_000);
    assert.deepEqual(parseDuration('200h', 7 * 86_400_000, '7 days'), invalid('"200h" is longer than 7 days'));
  });
});
