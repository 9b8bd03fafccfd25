import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createLogger } from './logger.js';

function capture(level: 'debug' | 'info' = 'info') {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level, write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>), now: () => new Date(0) });
  return { logger, lines };
}

describe('logger', () => {
  test('one JSON line per record, with the fields of with() and of the call', () => {
    const { logger, lines } = capture();
    logger.with({ component: 'x' }).info('hello', { n: 1, g: 5n });
    logger.debug('not shown');
    assert.deepEqual(lines, [{ time: '1970-01-01T00:00:00.000Z', level: 'info', msg: 'hello', component: 'x', n: 1, g: '5' }]);
  });

  test('an error of ours logs its message, code and field; any other error its stack', () => {
    const { logger, lines } = capture();
    const ours = Object.assign(new Error('hosts[0].name: bad'), { code: 'ERR_INVALID_MODEL', field: 'hosts[0].name' });
    logger.error('refused', { error: ours });
    logger.error('bug', { error: new TypeError('x is undefined') });
    assert.deepEqual(lines[0]!.error, { message: 'hosts[0].name: bad', code: 'ERR_INVALID_MODEL', field: 'hosts[0].name' });
    const bug = lines[1]!.error as Record<string, unknown>;
    assert.equal(bug.message, 'x is undefined');
    assert.match(String(bug.stack), /^TypeError: x is undefined\n\s+at /);
  });
});
