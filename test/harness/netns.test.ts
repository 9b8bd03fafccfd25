import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { httpRequest } from './ats.js';
import { createTestNetwork } from './netns.js';

describe('test network namespace', () => {
  it('hosts backends on pod addresses reachable from the host, and leaves nothing behind', async () => {
    const net = await createTestNetwork(3);
    try {
      const backends = await net.startBackends(
        net.podAddresses.map((host, i) => ({ service: 'ns/echo', pod: `echo-${i}`, host, port: 8080 })),
      );
      for (const [i, b] of backends.list.entries()) {
        const res = await httpRequest({ address: b.address, port: b.port, path: '/hello?x=1', host: 'echo.test' });
        const body = JSON.parse(res.body) as { pod: string; host: string; url: string };
        assert.equal(body.pod, `echo-${i}`);
        assert.equal(body.host, 'echo.test');
        assert.equal(body.url, '/hello?x=1');
      }
      await backends.close();
    } finally {
      await net.close();
    }
    const namespaces = execFileSync('ip', ['netns', 'list']).toString();
    assert.ok(!namespaces.includes(net.namespace), namespaces);
  });
});
