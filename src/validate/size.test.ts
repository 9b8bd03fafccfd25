import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatBytes, parseByteSize } from './size.js';
import { invalid } from './invalid.js';

describe('parseByteSize', () => {
  const cases: [string, number | string][] = [
    ['256Mi', 256 * 2 ** 20],
    ['1Gi', 2 ** 30],
    ['500M', 500e6],
    ['2k', 2000],
    ['4Ki', 4096],
    ['1048576', 1048576],
    ['0', 0],
    ['1.5Gi', '"1.5Gi" is not a size such as 256Mi, 1Gi or 500M'],
    ['1gi', '"1gi" is not a size such as 256Mi, 1Gi or 500M'],
    ['-1Mi', '"-1Mi" is not a size such as 256Mi, 1Gi or 500M'],
    ['1e9', '"1e9" is not a size such as 256Mi, 1Gi or 500M'],
    ['', '"" is not a size such as 256Mi, 1Gi or 500M'],
    ['2Pi', '"2Pi" is not a size such as 256Mi, 1Gi or 500M'],
    ['2000Ti', '"2000Ti" is more than 1024Ti'],
  ];
  for (const [text, want] of cases) {
    test(`"${text}"`, () => assert.deepEqual(parseByteSize(text), typeof want === 'string' ? invalid(want) : want));
  }

  test('a caller may ask for a minimum', () => {
    assert.deepEqual(parseByteSize('1Mi', 64 * 2 ** 20), invalid('"1Mi" is less than 64Mi'));
  });

  test('formatBytes names the largest whole unit', () => {
    assert.equal(formatBytes(256 * 2 ** 20), '256Mi');
    assert.equal(formatBytes(1536 * 2 ** 20), '1536Mi');
    assert.equal(formatBytes(1000), '1000');
  });
});
