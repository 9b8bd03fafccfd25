import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { KubeApiError } from './errors.js';
import { WatchStreamDecoder } from './watch-stream.js';

const ev = (type: string, name: string) => `${JSON.stringify({ type, object: { metadata: { name } } })}\n`;

describe('WatchStreamDecoder', () => {
  test('events split across chunks at every byte come out whole and in order', () => {
    const text = ev('ADDED', 'a') + '\n' + ev('MODIFIED', 'é-ü') + ev('DELETED', 'c');
    const bytes = Buffer.from(text, 'utf8');
    for (let cut = 0; cut <= bytes.length; cut++) {
      const d = new WatchStreamDecoder('watch x');
      const got = [...d.write(bytes.subarray(0, cut)), ...d.write(bytes.subarray(cut))];
      assert.deepEqual(got.map((e) => `${e.type} ${(e.object as { metadata: { name: string } }).metadata.name}`), ['ADDED a', 'MODIFIED é-ü', 'DELETED c'], `cut at ${cut}`);
    }
  });

  test('a line that is not JSON, or not an event, is an error naming the watch', () => {
    const bad = (line: string, code: string) => {
      const d = new WatchStreamDecoder('watch /api/v1/services');
      assert.throws(() => d.write(Buffer.from(line)), (e: unknown) => e instanceof KubeApiError && e.code === code && e.message.startsWith('watch /api/v1/services: '));
    };
    bad('{nope\n', 'BAD_JSON');
    bad('{"object":{}}\n', 'BAD_EVENT');
    bad('[1,2]\n', 'BAD_EVENT');
  });

  test('an unfinished line longer than the bound is refused', () => {
    const d = new WatchStreamDecoder('watch x', 100);
    assert.deepEqual(d.write(Buffer.from('x'.repeat(100))), []);
    assert.throws(() => d.write(Buffer.from('x')), (e: unknown) => e instanceof KubeApiError && e.code === 'TOO_LARGE');
  });
});
