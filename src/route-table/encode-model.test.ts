// Addresses travel to the addon as words (encoding version 3): the parsers
// take what inet_pton takes, and an encoding kept by an EncodeMemo is the one
// a fresh encoding gives.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { TableModel } from '../model/table-model.js';
import { EncodeMemo, encodeModel, ipv4Word, ipv6Words, sameEncoding } from './encode-model.js';
import { RouteTable } from './route-table.js';

function v6(text: string): number[] | undefined {
  const out = new Uint32Array(4);
  return ipv6Words(text, out, 0) ? [...out] : undefined;
}

describe('address parsing', () => {
  const V4: Array<[string, number | -1]> = [
    ['10.0.0.1', 0x0a000001],
    ['255.255.255.255', 0xffffffff],
    ['0.0.0.0', 0],
    ['192.168.1.10', 0xc0a8010a],
    ['10.0.0.01', -1], // a leading zero (octal to some parsers)
    ['10.0.0', -1],
    ['10.0.0.1.', -1],
    ['.10.0.0.1', -1],
    ['10..0.1', -1],
    ['10.0.0.256', -1],
    ['1000.0.0.1', -1],
    ['10.0.0.1 ', -1],
    ['', -1],
    ['a.b.c.d', -1],
  ];
  for (const [text, want] of V4) test(`IPv4 ${JSON.stringify(text)}`, () => assert.equal(ipv4Word(text), want));

  const V6: Array<[string, number[] | undefined]> = [
    ['::', [0, 0, 0, 0]],
    ['::1', [0, 0, 0, 1]],
    ['2001:db8::7', [0x20010db8, 0, 0, 7]],
    ['2001:DB8:0:0:0:0:0:7', [0x20010db8, 0, 0, 7]],
    ['fd00::1:2', [0xfd000000, 0, 0, 0x10002]],
    ['1:2:3:4:5:6:7::', [0x10002, 0x30004, 0x50006, 0x70000]],
    ['::2:3:4:5:6:7:8', [0x2, 0x30004, 0x50006, 0x70008]],
    ['0001:0002:0003:0004:0005:0006:0007:0008', [0x10002, 0x30004, 0x50006, 0x70008]],
    ['::ffff:10.0.0.1', [0, 0, 0xffff, 0x0a000001]],
    ['64:ff9b::192.0.2.33', [0x0064ff9b, 0, 0, 0xc0000221]],
    ['1:2:3:4:5:6:1.2.3.4', [0x10002, 0x30004, 0x50006, 0x01020304]],
    ['fe80::1%eth0', undefined], // a zone: inet_pton refuses it
    ['[::1]', undefined],
    ['1::2::3', undefined],
    [':1::', undefined],
    ['1:2:3:4:5:6:7:8:9', undefined],
    ['1:2:3:4:5:6:7', undefined],
    ['1:2:3:4:5:6:7:8::', undefined],
    ['12345::', undefined],
    ['::1.2.3.4:5', undefined],
    ['::1.2.3.04', undefined],
    ['g::', undefined],
    ['', undefined],
  ];
  for (const [text, want] of V6) test(`IPv6 ${JSON.stringify(text)}`, () => assert.deepEqual(v6(text), want));

  test('IPv6 addresses in every spelling of random groups', () => {
    let state = 12345;
    const next = () => (state = (state * 1103515245 + 12345) % 2147483648);
    for (let n = 0; n < 500; n++) {
      const groups = Array.from({ length: 8 }, () => (next() % 3 === 0 ? 0 : next() % 0x10000));
      const want = [0, 1, 2, 3].map((w) => (groups[2 * w]! * 0x10000 + groups[2 * w + 1]!) >>> 0);
      const full = groups.map((g) => g.toString(16)).join(':');
      const padded = groups.map((g) => g.toString(16).padStart(4, '0').toUpperCase()).join(':');
      // '::' for the first run of zero groups.
      const start = groups.indexOf(0);
      let end = start;
      while (start >= 0 && end < 8 && groups[end] === 0) end++;
      const compressed = start < 0 ? full : `${groups.slice(0, start).map((g) => g.toString(16)).join(':')}::${groups.slice(end).map((g) => g.toString(16)).join(':')}`;
      const dotted = `${groups.slice(0, 6).map((g) => g.toString(16)).join(':')}:${groups[6]! >> 8}.${groups[6]! & 255}.${groups[7]! >> 8}.${groups[7]! & 255}`;
      for (const text of [full, padded, compressed, dotted]) assert.deepEqual(v6(text), want, text);
    }
  });
});

function model(): TableModel {
  return {
    backends: [
      { service: 'ns/a', port: '80', scheme: 'http', endpoints: [{ address: '10.0.0.1', port: 8080 }, { address: '2001:db8::7', port: 8443, weight: 3 }] },
      { service: 'ns/b', port: 'http', scheme: 'https', endpoints: [{ address: '10.0.0.2', port: 443 }] },
    ],
    hosts: [{ name: 'a.com', rules: [{ path: '/', pathType: 'Prefix', backend: 0, source: 'ns/ing' }, { path: '/b', pathType: 'Exact', backend: 1, source: 'ns/ing' }] }],
  };
}

describe('EncodeMemo', () => {
  test('a kept endpoints encoding is the fresh one; a new list is encoded afresh', () => {
    const memo = new EncodeMemo();
    const m = model();
    const first = encodeModel(m, undefined, memo);
    assert.ok(sameEncoding(encodeModel(m), first));
    assert.ok(memo.endpoints.has(m.backends[0]!.endpoints));
    assert.ok(sameEncoding(encodeModel(m, undefined, memo), first), 'the same lists again');
    const changed = { ...m, backends: [m.backends[0]!, { ...m.backends[1]!, endpoints: [{ address: '10.0.0.3', port: 443 }] }] };
    const again = encodeModel(changed, undefined, memo);
    assert.ok(sameEncoding(encodeModel(changed), again));
    assert.ok(!sameEncoding(first, again));
  });

  test('a bad list is refused with its field every time, never kept', () => {
    const memo = new EncodeMemo();
    const m = model();
    m.backends[1]!.endpoints = [{ address: '10.0.0.300', port: 443 }];
    for (let i = 0; i < 2; i++) assert.throws(() => encodeModel(m, undefined, memo), { code: 'ERR_INVALID_MODEL', field: 'backends[1].endpoints[0].address' });
    assert.equal(memo.endpoints.has(m.backends[1]!.endpoints), false);
  });

  test('addresses published as words read back as the addon writes them', () => {
    const table = RouteTable.open(`encode-model-${process.pid}`);
    try {
      const m = model();
      m.backends[0]!.endpoints.push({ address: '::ffff:10.0.0.9', port: 80 }, { address: '2001:DB8:0:0:0:0:0:8', port: 81 });
      table.publishEncoded(encodeModel(m, undefined, new EncodeMemo()));
      assert.deepEqual(table.read().backends[0]!.endpoints.map((e) => e.address), ['10.0.0.1', '2001:db8::7', '::ffff:10.0.0.9', '2001:db8::8']);
    } finally {
      table.remove();
      table.close();
    }
  });
});
