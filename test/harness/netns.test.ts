import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { httpRequest } from './ats.js';
import { createTestNetwork, staleNetworks } from './netns.js';
import { pickSubnet, routedThirdOctets } from './subnets.js';

const namespaces = (): string => execFileSync('ip', ['netns', 'list']).toString();
const routes = (): string => execFileSync('ip', ['-4', 'route', 'show', 'table', 'all']).toString();

describe('test subnets and stale namespaces (pure)', () => {
  it('a /24 some route covers is skipped, and only that prefix counts', () => {
    const table = ['10.213.5.0/24 dev a proto kernel scope link src 10.213.5.1', 'local 10.213.6.1 dev b table local', '110.213.7.0/24 dev c', '10.214.8.0/24 dev d'].join('\n');
    assert.deepEqual([...routedThirdOctets(table, '10.213')].sort(), [5, 6]);
    assert.equal(pickSubnet(table, '10.213', 4), '10.213.7');
    assert.equal(pickSubnet(table, '10.213', 7), '10.213.8');
    assert.equal(pickSubnet('', '10.213', 249), '10.213.250');
    assert.equal(pickSubnet('', '10.213', 250), '10.213.1');
    const full = Array.from({ length: 250 }, (_, i) => `10.213.${i + 1}.0/24 dev x`).join('\n');
    assert.throws(() => pickSubnet(full, '10.213', 0), /every \/24 of 10\.213\.0\.0\/16 is in use/);
  });

  it("a namespace is stale when its pid is gone; others' and this process's are not", () => {
    const list = [`atsi-${process.pid}-1 (id: 3)`, 'atsi-111-1 (id: 0)', 'atsi-222-2', 'atsix-333-1', 'other-444-1'].join('\n');
    assert.deepEqual(staleNetworks(list, (pid) => pid === 222), ['atsi-111-1']);
  });
});

describe('test network namespace', () => {
  it('deletes a namespace a killed run left, whose route would shadow a new network', async () => {
    // A dead pid: a process that has ended.
    const dead = spawnSync('true').pid;
    assert.ok(dead);
    const name = `atsi-${dead}-1`;
    const hostIf = `atsit${process.pid % 100000}`.slice(0, 15);
    execFileSync('ip', ['netns', 'add', name]);
    try {
      execFileSync('ip', ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', 'stale0', 'netns', name]);
      execFileSync('ip', ['addr', 'add', '10.213.251.1/24', 'dev', hostIf]);
      execFileSync('ip', ['link', 'set', hostIf, 'up']);
      assert.ok(routes().includes('10.213.251.0/24'));
      const net = await createTestNetwork(1);
      await net.close();
      assert.ok(!namespaces().includes(name), namespaces());
      assert.ok(!routes().includes('10.213.251.0/24'), 'the stale route went with its namespace');
    } finally {
      spawnSync('ip', ['netns', 'del', name]);
      spawnSync('ip', ['link', 'del', hostIf]);
    }
  });

  it('takes a /24 no route covers: a network beside a routed /24 reaches its own pods', async () => {
    // Route the /24s the next networks of this process would derive from the pid.
    const dummy = `atsid${process.pid % 100000}`.slice(0, 15);
    const peer = `atsie${process.pid % 100000}`.slice(0, 15);
    execFileSync('ip', ['link', 'add', dummy, 'type', 'veth', 'peer', 'name', peer]);
    try {
      for (let k = 1; k <= 4; k++) execFileSync('ip', ['addr', 'add', `10.213.${((process.pid + k) % 250) + 1}.1/24`, 'dev', dummy]);
      execFileSync('ip', ['link', 'set', dummy, 'up']);
      execFileSync('ip', ['link', 'set', peer, 'up']);
      const net = await createTestNetwork(1);
      try {
        const octet = Number(net.podAddresses[0]!.split('.')[2]);
        assert.ok(![1, 2, 3, 4].some((k) => ((process.pid + k) % 250) + 1 === octet), `${net.podAddresses[0]} is on a routed /24`);
        const b = await net.startBackends([{ service: 'ns/echo', pod: 'echo-0', host: net.podAddresses[0]!, port: 8080 }]);
        const res = await httpRequest({ address: b.list[0]!.address, port: 8080, path: '/', host: 'echo.test' });
        assert.equal((JSON.parse(res.body) as { pod: string }).pod, 'echo-0');
        await b.close();
      } finally {
        await net.close();
      }
    } finally {
      spawnSync('ip', ['link', 'del', dummy]);
    }
  });

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
    assert.ok(!namespaces().includes(net.namespace), namespaces());
  });
});
