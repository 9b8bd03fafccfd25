// Addresses travel to the addon as words (since encoding version 3): the parsers
// take what inet_pton takes, and an encoding kept by an EncodeMemo is the one
// a fresh encoding gives. The Gateway API part (version 4) is laid out as the
// C++ test encoder lays it out, and every field of it is checked by name.

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import type { TableModel } from '../model/table-model.js';
import type { RawAddon, RawTable } from './addon.js';
import { EncodeMemo, encodeModel, ipv4Word, ipv6Words, sameEncoding } from './encode-model.js';
import { RouteTable } from './route-table.js';
import { TableError } from './table-error.js';

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
    assert.ok(sameEncoding(encodeModel(m, undefined, memo), first), 'the same lists again');
    const changed = { ...m, backends: [m.backends[0]!, { ...m.backends[1]!, endpoints: [{ address: '10.0.0.3', port: 443 }] }] };
    const again = encodeModel(changed, undefined, memo);
    assert.ok(sameEncoding(encodeModel(changed), again));
    assert.ok(!sameEncoding(first, again));
  });

  test('new backend objects with the last lists, in place or renumbered, encode as they would afresh', () => {
    // Enough backends that the renumbered ones pass the misses an index of the lists waits for.
    const many = (n: number): TableModel => ({
      hosts: [{ name: 'a.com', rules: Array.from({ length: n }, (_, i) => ({ path: `/p${i}`, pathType: 'Prefix' as const, backend: i, source: 'ns/a' })) }],
      backends: Array.from({ length: n }, (_, i) => ({
        service: `ns/s${i}`, port: '80', scheme: 'http' as const,
        endpoints: i % 5 === 0 ? [{ address: `2001:db8::${i + 1}`, port: 80 }] : [{ address: `10.0.${i}.1`, port: 8080 }, { address: `10.0.${i}.2`, port: 8080, weight: 2 }],
      })),
    });
    const memo = new EncodeMemo();
    const m = many(40);
    encodeModel(m, undefined, memo);
    // The same lists in new backend objects (a routing change), at the same indexes.
    const copies = { ...m, backends: m.backends.map((b) => ({ ...b })) };
    assert.ok(sameEncoding(encodeModel(copies, undefined, memo), encodeModel(copies)));
    // Renumbered: one backend more in front, the rest shifted by one.
    const shifted: TableModel = { ...copies, backends: [{ service: 'ns/new', port: '80', scheme: 'http', endpoints: [{ address: '10.9.9.9', port: 80 }] }, ...copies.backends.map((b) => ({ ...b, options: { connectTimeoutMs: 5 } }))] };
    shifted.hosts = [{ name: 'a.com', rules: shifted.backends.map((_, i) => ({ path: `/p${i}`, pathType: 'Prefix' as const, backend: i, source: 'ns/a' })) }];
    assert.ok(sameEncoding(encodeModel(shifted, undefined, memo), encodeModel(shifted)));
    const table = RouteTable.open(`encode-model-renumbered-${process.pid}`);
    try {
      table.publish(shifted);
      assert.deepEqual(table.read().backends.map((b) => b.endpoints), shifted.backends.map((b) => b.endpoints.map((e) => ({ weight: 1, ...e }))));
    } finally {
      table.remove();
      table.close();
    }
  });

  test('the last backends with new ones after them (a new Ingress) encode as they would afresh', () => {
    const backend = (i: number) => ({ service: `ns/s${i}`, port: '80', scheme: 'http' as const, endpoints: [{ address: `10.0.${i}.1`, port: 8080 }] });
    const withBackends = (backends: TableModel['backends']): TableModel => ({
      hosts: [{ name: 'a.com', rules: backends.map((_, i) => ({ path: `/p${i}`, pathType: 'Prefix' as const, backend: i, source: 'ns/a' })) }],
      backends,
    });
    const memo = new EncodeMemo();
    const old = Array.from({ length: 5 }, (_, i) => backend(i));
    encodeModel(withBackends(old), undefined, memo);
    const grown = withBackends([...old, backend(5), backend(6)]);
    const encoded = encodeModel(grown, undefined, memo);
    assert.ok(sameEncoding(encoded, encodeModel(grown)));
    assert.equal(encoded.strings, encodeModel(grown).strings);
    // And again from that one, with none of the last before them: no prefix to take.
    const other = withBackends([backend(7), ...grown.backends]);
    assert.equal(encodeModel(other, undefined, memo).strings, encodeModel(other).strings);
    const table = RouteTable.open(`encode-model-grown-${process.pid}`);
    try {
      table.publishEncoded(encoded);
      assert.deepEqual(table.read().backends.map((b) => b.service), grown.backends.map((b) => b.service));
    } finally {
      table.remove();
      table.close();
    }
  });

  test('the same hosts and Gateway part are taken over, and encode as they would afresh', () => {
    const memo = new EncodeMemo();
    const m = model();
    const first = encodeModel(m, undefined, memo);
    const kept = memo.routing;
    assert.ok(kept);
    // Other endpoints and options, the same hosts array: its part is taken over.
    const endpoints = { ...m, backends: [{ ...m.backends[0]!, endpoints: [{ address: '10.0.0.9', port: 80 }], options: { cacheDefaultTtlS: 5 } }, m.backends[1]!] };
    const second = encodeModel(endpoints, undefined, memo);
    assert.equal(memo.routing, kept, 'kept, not encoded again');
    assert.ok(sameEncoding(encodeModel(endpoints), second));
    assert.ok(!sameEncoding(first, second));
    // One more backend string (a problem) moves the hosts' string indexes: encoded afresh.
    const problem = { ...endpoints, backends: [endpoints.backends[0]!, { ...m.backends[1]!, problem: 'Service ns/b does not exist' }] };
    const third = encodeModel(problem, undefined, memo);
    assert.notEqual(memo.routing, kept);
    assert.ok(sameEncoding(encodeModel(problem), third));
    // Another hosts array with the same content: encoded afresh, equal.
    const hosts = { ...problem, hosts: structuredClone(problem.hosts) };
    assert.ok(sameEncoding(encodeModel(hosts, undefined, memo), third));
    // Fewer backends than the kept part was checked against: checked again, and refused.
    const fewer = { ...hosts, backends: [hosts.backends[0]!] };
    assert.throws(() => encodeModel(fewer, undefined, memo), { code: 'ERR_INVALID_MODEL', field: 'hosts[0].rules[1].backend' });
  });

  test('the last model\'s hosts, the very objects, are copied with their strings moved, and encode as they would afresh', () => {
    const backend = (i: number) => ({ service: `ns/s${i}`, port: '80', scheme: 'http' as const, endpoints: [{ address: `10.0.${i}.1`, port: 8080 }] });
    const host = (name: string, b: number, withDefault: boolean): TableModel['hosts'][number] => ({
      name,
      rules: [{ path: '/', pathType: 'Prefix', backend: b, source: `ns/${name}` }, { path: `/${name}/x`, pathType: 'Exact', backend: b + 1, source: 'ns/other' }],
      ...(withDefault ? { defaultBackend: b, defaultSource: `ns/${name}` } : {}),
    });
    const names = ['a.com', 'c.com', 'e.com', 'g.com', 'i.com'];
    const first: TableModel = { backends: Array.from({ length: 10 }, (_, i) => backend(i)), hosts: names.map((n, i) => host(n, 2 * i, i % 2 === 0)) };
    const memo = new EncodeMemo();
    encodeModel(first, undefined, memo);
    // A new host in the middle and one more backend (a new Ingress), a host
    // made again with equal content, one with a default no more, a problem
    // string on a backend: every copied host's strings move.
    const hosts = [...first.hosts];
    hosts.splice(2, 0, host('d.com', 10, true));
    hosts[1] = structuredClone(hosts[1]!);
    hosts[4] = host('g.com', 6, false);
    const backends = [{ ...first.backends[0]!, problem: 'Service ns/s0 has no endpoints' }, ...first.backends.slice(1), backend(10), backend(11)];
    const second: TableModel = { backends, hosts };
    const kept = encodeModel(second, undefined, memo);
    assert.ok(sameEncoding(kept, encodeModel(second)));
    assert.equal(kept.strings, encodeModel(second).strings);
    // From that one: a host gone, the others copied again.
    const third: TableModel = { backends, hosts: hosts.filter((h) => h.name !== 'c.com') };
    assert.ok(sameEncoding(encodeModel(third, undefined, memo), encodeModel(third)));
    const table = RouteTable.open(`encode-model-hosts-${process.pid}`);
    try {
      table.publishEncoded(encodeModel(third, undefined, memo));
      assert.deepEqual([table.lookup('i.com', '/i.com/x').rule?.source, table.lookup('i.com', '/i.com/x').service], ['ns/other', 'ns/s9']);
      assert.deepEqual([table.lookup('d.com', '/').rule?.source, table.lookup('d.com', '/').service], ['ns/d.com', 'ns/s10']);
    } finally {
      table.remove();
      table.close();
    }
    // The same host objects with fewer backends than they name: checked, and refused.
    const fewer = (n: number): TableModel => ({ backends: backends.slice(0, n), hosts: third.hosts });
    assert.throws(() => encodeModel(fewer(9), undefined, memo), { code: 'ERR_INVALID_MODEL', field: 'hosts[1].defaultBackend' });
    assert.throws(() => encodeModel(fewer(11), undefined, memo), { code: 'ERR_INVALID_MODEL', field: 'hosts[1].rules[1].backend' });
  });

  test('the addon takes the last table\'s routing over when only backends changed, and reads back the same model', () => {
    const table = RouteTable.open(`encode-routing-${process.pid}`);
    const fresh = RouteTable.open(`encode-routing-fresh-${process.pid}`);
    try {
      const memo = new EncodeMemo();
      const m = model();
      assert.equal(table.publishEncoded(encodeModel(m, undefined, memo)).routingReused, false);
      const changed = { ...m, backends: [m.backends[0]!, { ...m.backends[1]!, endpoints: [{ address: '10.0.0.3', port: 443 }] }] };
      assert.equal(table.publishEncoded(encodeModel(changed, undefined, memo)).routingReused, true);
      fresh.publish(changed);
      const same = (t: RouteTable) => ({ ...t.read(), generation: 0n, buildTimeMs: 0 });
      assert.deepEqual(same(table), same(fresh));
      assert.deepEqual(table.lookup('a.com', '/b').endpoints, ['10.0.0.3:443']);
      const rerouted = { ...changed, hosts: [{ ...changed.hosts[0]!, rules: [changed.hosts[0]!.rules[0]!] }] };
      assert.equal(table.publishEncoded(encodeModel(rerouted, undefined, memo)).routingReused, false);
      assert.equal(table.lookup('a.com', '/b').service, 'ns/a');
    } finally {
      for (const t of [table, fresh]) {
        t.remove();
        t.close();
      }
    }
  });

  test('backends that are the last objects are copied from the last encoding: the same ints and strings as encoded afresh, over random changes', () => {
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
    const backend = (i: number, v: number) => ({
      service: `ns/svc-${i}`,
      port: v % 3 === 0 ? 'http' : '80',
      scheme: 'http' as const,
      endpoints: Array.from({ length: 1 + (v % 3) }, (_, k) => ({ address: `10.0.${i}.${k + 1 + (v % 7)}`, port: 8080 })),
      ...(v % 5 === 0 ? { problem: `Service ns/svc-${i} has trouble ${v}` } : {}),
      ...(v % 4 === 0 ? { options: { cacheDefaultTtlS: 1 + v } } : {}),
    });
    let backends = Array.from({ length: 12 }, (_, i) => backend(i, i));
    const hosts = [{ name: 'a.com', rules: [{ path: '/', pathType: 'Prefix', backend: 0, source: 'ns/ing' }] }];
    const memo = new EncodeMemo();
    let copied = 0;
    for (let step = 0; step < 300; step++) {
      const roll = rand(10);
      if (roll < 5) backends = backends.map((b, i) => (i === rand(backends.length) ? backend(i, rand(40)) : b));
      else if (roll === 5 && backends.length < 20) backends = [...backends, backend(backends.length, rand(40))];
      else if (roll === 6 && backends.length > 2) backends = backends.slice(0, -1);
      else if (roll === 7) backends = [...backends].reverse();
      const slots = Array.from({ length: backends.length }, (_, i) => (rand(4) === 0 ? 0xffffffff : (i + step) % 3));
      const m = { backends, hosts };
      const before = memo.backends;
      const kept = encodeModel(m, slots, memo);
      const fresh = encodeModel(m, slots);
      assert.deepEqual([...kept.ints], [...fresh.ints], `step ${step}`);
      assert.equal(kept.strings, fresh.strings, `step ${step}`);
      assert.ok(sameEncoding(kept, fresh));
      if (before && backends.some((b, i) => before.list[i] === b)) copied++;
    }
    assert.ok(copied > 100, `backends were copied from the last encoding in ${copied} steps`);
  });

  test('the raw addon takes the strings whole or in pieces joined by NUL, and refuses pieces that are not strings', () => {
    const require = createRequire(import.meta.url);
    const addon = require(fileURLToPath(new URL('../../../build/Release/ats_ingress.node', import.meta.url))) as RawAddon;
    const whole = new addon.Table(`encode-pieces-whole-${process.pid}`);
    const pieces = new addon.Table(`encode-pieces-${process.pid}`);
    try {
      const e = encodeModel(model(), undefined, new EncodeMemo());
      assert.equal(e.pieces.length, 2, 'the backends\' strings, then the hosts\'');
      whole.publish(e.strings, e.ints);
      pieces.publish(e.pieces, e.ints);
      const same = (t: RawTable) => ({ ...t.read(), generation: 0n, buildTimeMs: 0 });
      assert.deepEqual(same(pieces), same(whole));
      for (const bad of [[e.pieces[0], 7], [{}], 42]) {
        assert.throws(() => pieces.publish(bad as string[], e.ints), { code: 'ERR_INVALID_ARG' });
      }
      // Pieces that split the strings elsewhere are the same strings.
      const all = e.strings.split('\0');
      pieces.publish([all.slice(0, 1).join('\0'), all.slice(1).join('\0')], e.ints);
      assert.deepEqual(same(pieces), same(whole));
    } finally {
      for (const t of [whole, pieces]) {
        t.remove();
        t.close();
      }
    }
  });

  test('a bad list is refused with its field every time, never kept', () => {
    const memo = new EncodeMemo();
    const m = model();
    m.backends[1]!.endpoints = [{ address: '10.0.0.300', port: 443 }];
    for (let i = 0; i < 2; i++) assert.throws(() => encodeModel(m, undefined, memo), { code: 'ERR_INVALID_MODEL', field: 'backends[1].endpoints[0].address' });
    assert.equal(memo.backends, undefined);
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

const NONE = 0xffffffff;

/** native/test/model_decoder_test.cc's small_gateway_model(): the two encoders are checked against the same ints. */
function smallGatewayModel(): TableModel {
  return {
    backends: [{ service: 'ns/a', port: '80', scheme: 'http', endpoints: [{ address: '10.0.0.1', port: 8080 }] }],
    hosts: [{ name: 'a.com', rules: [{ path: '/', pathType: 'Prefix', backend: 0, source: 'ns/ing' }] }],
    gateway: {
      listeners: [
        {
          gateway: 'ns/gw',
          listener: 'http',
          address: '10.0.0.9',
          port: 8080,
          listenerPort: 80,
          protocol: 'HTTP',
          hostname: '*.example.com',
          entries: [{ hostname: 'a.example.com', pathType: 'PathPrefix', path: '/', method: 'GET', headers: [{ name: 'x-env', value: 'prod' }], queryParams: [], rule: 0 }],
        },
      ],
      rules: [
        {
          route: 'ns/r',
          ruleIndex: 0,
          filters: [{ type: 'RequestRedirect', scheme: 'https', path: { type: 'ReplacePrefixMatch', value: '/new' }, statusCode: 301 }],
          choices: [{ backend: 0, weight: 1, filters: [] }],
        },
      ],
    },
  };
}

/** Every kind of listener, entry, filter and choice, for the validation cases to break one field of. */
function gatewayModel(): TableModel {
  const m = smallGatewayModel();
  m.backends.push({ service: 'ns/b', port: 'http', scheme: 'http', endpoints: [] });
  const g = m.gateway!;
  g.listeners[0]!.hostname = 'a.example.com';
  g.listeners.push(
    { ...g.listeners[0]!, listener: 'wild', hostname: '*.example.com', entries: [] },
    { ...g.listeners[0]!, listener: 'any', hostname: '', entries: [] },
    { ...g.listeners[0]!, listener: 'other-port', port: 8081, hostname: '', entries: [] },
    { ...g.listeners[0]!, listener: 'v6', address: '2001:db8::9', protocol: 'HTTPS', entries: [] },
  );
  g.listeners[0]!.entries.push({ hostname: '', pathType: 'Exact', path: '/q', headers: [], queryParams: [{ name: 'a', value: 'b c' }], rule: 1 });
  g.rules.push({
    route: 'ns/web',
    ruleIndex: 3,
    filters: [
      { type: 'RequestHeaderModifier', edits: { set: [{ name: 'X-Env', value: 'prod' }], add: [{ name: 'x-a', value: '1' }], remove: ['x-drop'] } },
      { type: 'ResponseHeaderModifier', edits: { set: [], add: [], remove: ['server'] } },
      { type: 'URLRewrite', hostname: 'internal.example.com', path: { type: 'ReplaceFullPath', value: '/full' } },
    ],
    choices: [
      { backend: 1, weight: 3, filters: [{ type: 'RequestRedirect', hostname: 'b.example.com', port: 8443, statusCode: 302 }] },
      { weight: 1, filters: [], problem: 'backendRef ns/missing: Service not found' },
    ],
    failure: 'no valid backendRef',
  });
  return m;
}

describe('the Gateway API part (encoding version 4)', () => {
  test('an Ingress-only model encodes as version 3 did, then two zero counts', () => {
    const m = smallGatewayModel();
    delete m.gateway;
    const want = [
      4, 5, NONE, // version, strings, no default backend
      1, 0, 1, NONE, 0, NONE, NONE, NONE, NONE, NONE, // 1 backend: names, no problem, http, no options
      NONE, NONE, NONE, NONE, NONE, NONE, // no cache options, no stats slot
      1, 4, 0x0a000001, 8080, 1, // 1 endpoint
      1, 2, NONE, NONE, // 1 host
      1, 3, 1, 0, 4, // 1 rule
      0, 0, // no Gateway listeners, no Gateway rules
    ];
    const e = encodeModel(m);
    assert.deepEqual([...e.ints], want);
    assert.equal(e.strings, ['ns/a', '80', 'a.com', '/', 'ns/ing'].join('\0'));
    assert.ok(sameEncoding(encodeModel({ ...m, gateway: { listeners: [], rules: [] } }), e), 'empty lists: no gateway part');
  });

  test('the gateway part is laid out as native/core/model_decoder.h says', () => {
    const e = encodeModel(smallGatewayModel());
    assert.equal(e.strings, ['ns/a', '80', 'a.com', '/', 'ns/ing', 'ns/gw', 'http', '*.example.com', 'a.example.com', '/', 'GET', 'x-env', 'prod', 'ns/r', '/new'].join('\0'));
    assert.equal(e.ints[1], 15);
    assert.deepEqual([...e.ints.slice(33)], [
      1, // 1 listener
      5, 6, 4, 0x0a000009, 8080, 80, 0, 7, // gateway, name, 10.0.0.9, port, listener port, HTTP, hostname
      1, 8, 1, 9, 10, 1, 11, 12, 0, 0, // 1 entry
      1, // 1 rule
      13, 0, NONE, // route, rule index, no failure
      1, 3, 1, NONE, NONE, 2, 14, 301, // a redirect to https, ReplacePrefixMatch /new, 301
      1, 0, 1, NONE, 0, // 1 choice
    ]);
  });

  test("a listener on every local address ('*') is family 0 with no address words, and sorts first", () => {
    const m = smallGatewayModel();
    m.gateway!.listeners[0]!.address = '*';
    const e = encodeModel(m);
    assert.deepEqual([...e.ints.slice(33, 41)], [1, 5, 6, 0, 8080, 80, 0, 7]);
    const g = gatewayModel().gateway!;
    g.listeners.push({ ...g.listeners[3]!, listener: 'anywhere', address: '*' });
    assert.throws(() => encodeModel({ ...gatewayModel(), gateway: g }), /gateway\.listeners\[5\]\.address.*sorts before/);
    g.listeners.unshift(g.listeners.pop()!);
    assert.ok(encodeModel({ ...gatewayModel(), gateway: g }).ints.length > 80);
  });

  test('a model with every kind of listener, entry, filter and choice encodes', () => {
    const e = encodeModel(gatewayModel());
    assert.ok(e.ints.length > 80);
  });

  const total = (m: TableModel) => {
    m.gateway!.rules[0]!.choices = Array.from({ length: 4295 }, () => ({ backend: 0, weight: 1_000_000, filters: [] }));
  };
  const cases: Array<[string, (m: any) => void, string]> = [
    ['gateway not an object', (m) => (m.gateway = []), 'gateway'],
    ['listeners not an array', (m) => (m.gateway.listeners = {}), 'gateway.listeners'],
    ['rules missing', (m) => delete m.gateway.rules, 'gateway.rules'],
    ['listener not an object', (m) => (m.gateway.listeners[2] = 7), 'gateway.listeners[2]'],
    ['gateway not namespace/name', (m) => (m.gateway.listeners[0].gateway = 'gw'), 'gateway.listeners[0].gateway'],
    ['empty listener name', (m) => (m.gateway.listeners[0].listener = ''), 'gateway.listeners[0].listener'],
    ['address a name', (m) => (m.gateway.listeners[0].address = 'node.local'), 'gateway.listeners[0].address'],
    ['address out of range', (m) => (m.gateway.listeners[4].address = '2001:db8::10000'), 'gateway.listeners[4].address'],
    ['address "**"', (m) => (m.gateway.listeners[0].address = '**'), 'gateway.listeners[0].address'],
    ['address in brackets', (m) => (m.gateway.listeners[4].address = '[2001:db8::9]'), 'gateway.listeners[4].address'],
    ['port 0', (m) => (m.gateway.listeners[0].port = 0), 'gateway.listeners[0].port'],
    ['port past 65535', (m) => (m.gateway.listeners[3].port = 65536), 'gateway.listeners[3].port'],
    ['fractional listener port', (m) => (m.gateway.listeners[0].listenerPort = 1.5), 'gateway.listeners[0].listenerPort'],
    ['protocol TCP', (m) => (m.gateway.listeners[1].protocol = 'TCP'), 'gateway.listeners[1].protocol'],
    ['uppercase hostname', (m) => (m.gateway.listeners[0].hostname = 'A.example.com'), 'gateway.listeners[0].hostname'],
    ['double wildcard', (m) => (m.gateway.listeners[1].hostname = '*.*.example.com'), 'gateway.listeners[1].hostname'],
    ['IPv6 before IPv4', (m) => m.gateway.listeners.unshift(m.gateway.listeners.pop()), 'gateway.listeners[1].address'],
    ['addresses out of order', (m) => (m.gateway.listeners[4].address = '10.0.0.8'), 'gateway.listeners[4].address'],
    ['ports out of order', (m) => (m.gateway.listeners[3].port = 8079), 'gateway.listeners[3].port'],
    ['any before a wildcard', (m) => ([m.gateway.listeners[1], m.gateway.listeners[2]] = [m.gateway.listeners[2], m.gateway.listeners[1]]), 'gateway.listeners[2].hostname'],
    ['a wildcard before an exact name', (m) => ([m.gateway.listeners[0], m.gateway.listeners[1]] = [m.gateway.listeners[1], m.gateway.listeners[0]]), 'gateway.listeners[1].hostname'],
    ['fewer labels first', (m) => (m.gateway.listeners[0].hostname = '*.com'), 'gateway.listeners[1].hostname'],
    ['the same hostname twice', (m) => (m.gateway.listeners[1].hostname = 'a.example.com'), 'gateway.listeners[1].hostname'],
    ['entries not an array', (m) => delete m.gateway.listeners[1].entries, 'gateway.listeners[1].entries'],
    ['entry hostname with a port', (m) => (m.gateway.listeners[0].entries[0].hostname = 'a.example.com:80'), 'gateway.listeners[0].entries[0].hostname'],
    ['Ingress path type', (m) => (m.gateway.listeners[0].entries[1].pathType = 'Prefix'), 'gateway.listeners[0].entries[1].pathType'],
    ['relative path', (m) => (m.gateway.listeners[0].entries[1].path = 'q'), 'gateway.listeners[0].entries[1].path'],
    ['path too long', (m) => (m.gateway.listeners[0].entries[0].path = '/' + 'é'.repeat(4096)), 'gateway.listeners[0].entries[0].path'],
    ['method not a token', (m) => (m.gateway.listeners[0].entries[0].method = 'GE T'), 'gateway.listeners[0].entries[0].method'],
    ['empty method', (m) => (m.gateway.listeners[0].entries[0].method = ''), 'gateway.listeners[0].entries[0].method'],
    ['uppercase header name', (m) => (m.gateway.listeners[0].entries[0].headers[0].name = 'X-Env'), 'gateway.listeners[0].entries[0].headers[0].name'],
    ['header name not a token', (m) => (m.gateway.listeners[0].entries[0].headers[0].name = 'x env'), 'gateway.listeners[0].entries[0].headers[0].name'],
    ['header twice', (m) => m.gateway.listeners[0].entries[0].headers.push({ name: 'x-env', value: 'dev' }), 'gateway.listeners[0].entries[0].headers[1].name'],
    ['header value with CRLF', (m) => (m.gateway.listeners[0].entries[0].headers[0].value = 'a\r\nb: c'), 'gateway.listeners[0].entries[0].headers[0].value'],
    ['headers not an array', (m) => (m.gateway.listeners[0].entries[0].headers = undefined), 'gateway.listeners[0].entries[0].headers'],
    ['empty query name', (m) => (m.gateway.listeners[0].entries[1].queryParams[0].name = ''), 'gateway.listeners[0].entries[1].queryParams[0].name'],
    ['query name twice', (m) => m.gateway.listeners[0].entries[1].queryParams.push({ name: 'a', value: 'c' }), 'gateway.listeners[0].entries[1].queryParams[1].name'],
    ['query value with NUL', (m) => (m.gateway.listeners[0].entries[1].queryParams[0].value = 'a\0'), 'gateway.listeners[0].entries[1].queryParams[0].value'],
    ['query value not a string', (m) => (m.gateway.listeners[0].entries[1].queryParams[0].value = 1), 'gateway.listeners[0].entries[1].queryParams[0].value'],
    ['rule out of range', (m) => (m.gateway.listeners[0].entries[1].rule = 2), 'gateway.listeners[0].entries[1].rule'],
    ['route not namespace/name', (m) => (m.gateway.rules[1].route = 'ns/Web'), 'gateway.rules[1].route'],
    ['negative rule index', (m) => (m.gateway.rules[0].ruleIndex = -1), 'gateway.rules[0].ruleIndex'],
    ['empty failure', (m) => (m.gateway.rules[1].failure = ''), 'gateway.rules[1].failure'],
    ['filters not an array', (m) => (m.gateway.rules[0].filters = null), 'gateway.rules[0].filters'],
    ['unknown filter', (m) => (m.gateway.rules[1].filters[0].type = 'RequestMirror'), 'gateway.rules[1].filters[0].type'],
    ['edits missing', (m) => delete m.gateway.rules[1].filters[1].edits, 'gateway.rules[1].filters[1].edits'],
    ['set name not a token', (m) => (m.gateway.rules[1].filters[0].edits.set[0].name = 'x:y'), 'gateway.rules[1].filters[0].edits.set[0].name'],
    ['add value with LF', (m) => (m.gateway.rules[1].filters[0].edits.add[0].value = '1\n'), 'gateway.rules[1].filters[0].edits.add[0].value'],
    ['remove not a token', (m) => (m.gateway.rules[1].filters[1].edits.remove[0] = ''), 'gateway.rules[1].filters[1].edits.remove[0]'],
    ['redirect status 300', (m) => (m.gateway.rules[0].filters[0].statusCode = 300), 'gateway.rules[0].filters[0].statusCode'],
    ['redirect status missing', (m) => delete m.gateway.rules[0].filters[0].statusCode, 'gateway.rules[0].filters[0].statusCode'],
    ['redirect scheme ftp', (m) => (m.gateway.rules[0].filters[0].scheme = 'ftp'), 'gateway.rules[0].filters[0].scheme'],
    ['redirect to a wildcard', (m) => (m.gateway.rules[1].choices[0].filters[0].hostname = '*.example.com'), 'gateway.rules[1].choices[0].filters[0].hostname'],
    ['redirect port 0', (m) => (m.gateway.rules[1].choices[0].filters[0].port = 0), 'gateway.rules[1].choices[0].filters[0].port'],
    ['path modifier type', (m) => (m.gateway.rules[0].filters[0].path.type = 'ReplacePrefix'), 'gateway.rules[0].filters[0].path.type'],
    ['path modifier relative', (m) => (m.gateway.rules[0].filters[0].path.value = 'new'), 'gateway.rules[0].filters[0].path.value'],
    ['rewrite hostname uppercase', (m) => (m.gateway.rules[1].filters[2].hostname = 'Internal.example.com'), 'gateway.rules[1].filters[2].hostname'],
    ['rewrite path relative', (m) => (m.gateway.rules[1].filters[2].path.value = 'full'), 'gateway.rules[1].filters[2].path.value'],
    ['choices not an array', (m) => (m.gateway.rules[0].choices = 1), 'gateway.rules[0].choices'],
    ['choice backend out of range', (m) => (m.gateway.rules[1].choices[0].backend = 2), 'gateway.rules[1].choices[0].backend'],
    ['weight past 1,000,000', (m) => (m.gateway.rules[1].choices[1].weight = 1_000_001), 'gateway.rules[1].choices[1].weight'],
    ['weight missing', (m) => delete m.gateway.rules[1].choices[1].weight, 'gateway.rules[1].choices[1].weight'],
    ['empty problem', (m) => (m.gateway.rules[1].choices[1].problem = ''), 'gateway.rules[1].choices[1].problem'],
    ['choice filter unknown', (m) => (m.gateway.rules[1].choices[0].filters[0].type = 'x'), 'gateway.rules[1].choices[0].filters[0].type'],
    ['total weight past 2^32-1', total, 'gateway.rules[0].choices[4294].weight'],
  ];
  for (const [name, mutate, field] of cases) {
    test(`refuses ${name}: ${field}`, () => {
      const m = gatewayModel();
      mutate(m);
      assert.throws(
        () => encodeModel(m),
        (e: unknown) => {
          assert.ok(e instanceof TableError, String(e));
          assert.equal(e.code, 'ERR_INVALID_MODEL');
          assert.equal(e.field, field, e.message);
          assert.ok(e.message.startsWith(`${field}: `), e.message);
          return true;
        },
      );
    });
  }
});
