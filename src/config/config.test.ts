import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { invalid } from '../validate/invalid.js';
import { parseServicePortRef } from './config.js';

describe('parseServicePortRef', () => {
  const usage = (t: string) => invalid(`"${t}" is not namespace/name:port (port a number or a port name)`);
  const cases: [string, unknown][] = [
    ['sys/fallback:80', { namespace: 'sys', name: 'fallback', port: 80 }],
    ['sys/fallback:http', { namespace: 'sys', name: 'fallback', port: 'http' }],
    ['fallback', usage('fallback')],
    ['sys/fallback', usage('sys/fallback')],
    ['sys/:80', usage('sys/:80')],
    ['/fallback:80', usage('/fallback:80')],
    ['sys/fallback:', usage('sys/fallback:')],
    ['Sys/fallback:80', usage('Sys/fallback:80')],
    ['sys/fall_back:80', usage('sys/fall_back:80')],
    ['sys/fallback:-x', usage('sys/fallback:-x')],
    ['sys/fallback:0', invalid('"sys/fallback:0": port 0 is not in 1..65535')],
    ['sys/fallback:65536', invalid('"sys/fallback:65536": port 65536 is not in 1..65535')],
  ];
  for (const [text, want] of cases) test(text, () => assert.deepEqual(parseServicePortRef(text), want));
});
