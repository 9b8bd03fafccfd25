// Where Gateways are served in a cluster: blocks of port pairs, in order.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseAddressRange, parsePortRange, rangePorts, type PortRange } from '../../config/gateway.js';
import { isInvalid } from '../../validate/invalid.js';
import { ANY_ADDRESS, assignAddresses, assignPortBlocks, compareAddresses, previousBlocks } from './addresses.js';

function range(text: string): PortRange {
  const r = parsePortRange(text);
  if (isInvalid(r)) throw new Error(r.invalid);
  return r;
}

const http = (port: number) => ({ port, protocol: 'HTTP' });
const https = (port: number) => ({ port, protocol: 'HTTPS' });
const blocks = (gateways: Parameters<typeof assignPortBlocks>[0], text: string) =>
  Object.fromEntries([...assignPortBlocks(gateways, range(text))].map(([k, ports]) => [k, Object.fromEntries(ports)]));

describe('--gateway-port-range', () => {
  test('FIRST-LAST: an even number of ports from 1024, plain HTTP on FIRST+2k and TLS on FIRST+2k+1', () => {
    assert.deepEqual(range('20000-20003'), { text: '20000-20003', first: 20000, pairs: 2 });
    assert.deepEqual(rangePorts(range('20000-20003')), [{ port: 20000, tls: false }, { port: 20001, tls: true }, { port: 20002, tls: false }, { port: 20003, tls: true }]);
    for (const bad of ['20000', '20000-20002', '80-81', '20001-20000', '20000-20000', '1024-3071', 'a-b', '30000-70000']) {
      assert.ok(isInvalid(parsePortRange(bad)), bad);
    }
  });
});

describe('port blocks', () => {
  test('one pair per distinct port of a protocol, the k-th smallest port on the k-th pair; Gateways in the order given', () => {
    assert.deepEqual(blocks([
      { key: 'a/one', listeners: [https(443), http(80), http(80), https(8443)] },
      { key: 'a/two', listeners: [http(80), http(8080), http(81)] },
      { key: 'a/three', listeners: [https(443)] },
    ], '20000-20011'), {
      'a/one': { 80: 20000, 443: 20001, 8443: 20003 },
      'a/two': { 80: 20004, 81: 20006, 8080: 20008 },
      'a/three': { 443: 20011 },
    });
  });

  test('a port both protocols name, and other protocols, take no port; a Gateway with nothing to serve gets an empty block', () => {
    assert.deepEqual(blocks([
      { key: 'a/mixed', listeners: [http(80), https(80), https(443), { port: 9000, protocol: 'TCP' }] },
      { key: 'a/none', listeners: [{ port: 53, protocol: 'UDP' }] },
      { key: 'a/next', listeners: [http(80)] },
    ], '20000-20003'), { 'a/mixed': { 443: 20001 }, 'a/none': {}, 'a/next': { 80: 20002 } });
  });

  test('a Gateway that does not fit gets none, and a later one that fits still gets its block', () => {
    assert.deepEqual(blocks([
      { key: 'a/one', listeners: [http(80)] },
      { key: 'a/big', listeners: [http(80), http(81)] },
      { key: 'a/small', listeners: [https(443)] },
      { key: 'a/late', listeners: [http(80)] },
    ], '20000-20003'), { 'a/one': { 80: 20000 }, 'a/small': { 443: 20003 } });
  });

  test('the table order of addresses: every address first, then IPv4 by number', () => {
    assert.deepEqual(['127.0.1.10', ANY_ADDRESS, '127.0.1.9'].sort(compareAddresses), ['*', '127.0.1.9', '127.0.1.10']);
  });
});

describe('addresses', () => {
  const r = (text: string) => {
    const v = parseAddressRange(text);
    if (isInvalid(v)) throw new Error(v.invalid);
    return v;
  };
  const assign = (gateways: Parameters<typeof assignAddresses>[0], text = '127.0.1.0/29') => Object.fromEntries(assignAddresses(gateways, r(text)));

  test('in order, from the first host address; none left: none', () => {
    assert.deepEqual(assign([{ key: 'a/1' }, { key: 'a/2' }]), { 'a/1': '127.0.1.1', 'a/2': '127.0.1.2' });
    assert.deepEqual(assign([{ key: 'a/1' }, { key: 'a/2' }, { key: 'a/3' }], '127.0.1.0/31'), { 'a/1': '127.0.1.0', 'a/2': '127.0.1.1' });
  });

  test('a Gateway keeps the address its status names, so deleting an older one moves no other', () => {
    // a/1 was deleted: a/2 and a/3 keep .2 and .3; a new a/4 takes the lowest one left.
    assert.deepEqual(assign([{ key: 'a/2', statusAddresses: ['127.0.1.2'] }, { key: 'a/3', statusAddresses: ['127.0.1.3'] }, { key: 'a/4' }]),
      { 'a/2': '127.0.1.2', 'a/3': '127.0.1.3', 'a/4': '127.0.1.1' });
  });

  test('a status address outside the range, malformed, or kept by an older Gateway is not kept', () => {
    assert.deepEqual(assign([
      { key: 'a/old', statusAddresses: ['127.0.1.3'] },
      { key: 'a/dup', statusAddresses: ['127.0.1.3'] },
      { key: 'a/out', statusAddresses: ['10.0.0.1', '127.0.1.07'] },
    ]), { 'a/old': '127.0.1.3', 'a/dup': '127.0.1.1', 'a/out': '127.0.1.2' });
  });
});

describe('port blocks kept', () => {
  const prange = (text: string) => {
    const v = parsePortRange(text);
    if (isInvalid(v)) throw new Error(v.invalid);
    return v;
  };
  const web = (key: string) => ({ key, listeners: [{ port: 80, protocol: 'HTTP' }, { port: 443, protocol: 'HTTPS' }] });
  const starts = (m: Map<string, ReadonlyMap<number, number>>) => Object.fromEntries([...m].map(([k, ports]) => [k, ports.get(80)]));

  test('a Gateway keeps the block its Service starts at, so deleting an older one moves no other; a new one takes the first free run', () => {
    // a/1 (pair 0) was deleted; a/2 and a/3 keep pairs 1 and 2; a/4 takes pair 0.
    const m = assignPortBlocks([web('a/2'), web('a/3'), web('a/4')], prange('20000-20007'), new Map([['a/2', 1], ['a/3', 2]]));
    assert.deepEqual(starts(m), { 'a/2': 20002, 'a/3': 20004, 'a/4': 20000 });
  });

  test('a block that no longer fits where it was, or that an older Gateway keeps, moves', () => {
    const two = { key: 'a/big', listeners: [{ port: 80, protocol: 'HTTP' }, { port: 8080, protocol: 'HTTP' }] };
    const m = assignPortBlocks([web('a/old'), web('a/dup'), two], prange('20000-20007'), new Map([['a/old', 3], ['a/dup', 3], ['a/big', 3]]));
    assert.deepEqual(starts(m), { 'a/old': 20006, 'a/dup': 20000, 'a/big': 20002 });
  });

  test('previousBlocks reads the lowest target port of our Services in our namespace only', () => {
    const svc = (namespace: string, key: string, targets: number[], label = 'true') => ({
      metadata: { namespace, labels: { 'ats.ingress.kubernetes.io/gateway-service': label }, annotations: { 'ats.ingress.kubernetes.io/gateway': key } },
      spec: { ports: targets.map((targetPort) => ({ targetPort })) },
    });
    const prev = previousBlocks([
      svc('ats-ingress', 'app/a', [20005, 20004]), svc('elsewhere', 'app/b', [20000]), svc('ats-ingress', 'app/c', [20002], 'false'), svc('ats-ingress', 'app/d', [9999]),
    ], 'ats-ingress', prange('20000-20007'));
    assert.deepEqual([...prev], [['app/a', 2]]);
  });
});
