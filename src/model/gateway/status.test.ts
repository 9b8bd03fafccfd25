// Gateway and HTTPRoute status from a build, each condition and reason from
// the spec's text (apis/v1 of Gateway API v1.6.3, quoted in the test
// names). Conditions are written `Type: 'Status/Reason'`.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildConfig, type BuildConfig } from '../../config/config.js';
import { parseAddressRange, parsePortRange } from '../../config/gateway.js';
import type { Condition, Gateway, HTTPRoute, RouteParentStatus } from '../../kube/types.js';
import { isInvalid } from '../../validate/invalid.js';
import { service, snapshotFrom, tlsSecret, type ObjectLike } from '../../testing/fixtures.js';
import { backend, gateway, gatewayClass, httpRoute, referenceGrant, type ListenerOptions } from '../../testing/gateway-fixtures.js';
import { build } from '../build.js';
import { CertificateCache } from '../certificates.js';
import { gatewayApiStatuses, listenerConflicts, mergeGatewayStatus, mergeRouteStatus, type GatewayAddress, type GatewayStatusValue, type StatusUpdate } from './status.js';

const T = Date.parse('2026-03-01T12:00:00.400Z');
const CLASS = gatewayClass('ats');
const WEB = service('app/web').port('http', 80);

interface Run {
  readonly programmed?: boolean;
  readonly config?: Partial<BuildConfig>;
  readonly serviceAddresses?: ReadonlyMap<string, readonly GatewayAddress[]>;
}

function statuses(objects: ObjectLike[], o: Run = {}): StatusUpdate[] {
  const snapshot = snapshotFrom([CLASS, WEB, ...objects]);
  const config = buildConfig(o.config);
  const result = build(snapshot, config);
  return gatewayApiStatuses(result.gateway, snapshot, {
    config, certificates: new CertificateCache(), programmed: () => o.programmed ?? true, nowMs: T,
    ...(o.serviceAddresses ? { serviceAddresses: o.serviceAddresses } : {}),
  });
}

function gatewayStatus(updates: StatusUpdate[], key = 'infra/gw'): GatewayStatusValue {
  const u = updates.find((x) => x.kind === 'Gateway' && x.key === key);
  assert.ok(u && u.kind === 'Gateway', `no status for Gateway ${key}`);
  return u.status;
}

function routeParents(updates: StatusUpdate[], key = 'app/web'): RouteParentStatus[] {
  const u = updates.find((x) => x.kind === 'HTTPRoute' && x.key === key);
  assert.ok(u && u.kind === 'HTTPRoute', `no status for HTTPRoute ${key}`);
  return u.status.parents;
}

const conds = (list: readonly Condition[]) => Object.fromEntries(list.map((c) => [c.type, `${c.status}/${c.reason}`]));
const listenerConds = (s: GatewayStatusValue) => Object.fromEntries(s.listeners.map((l) => [l.name, conds(l.conditions)]));

const OK_LISTENER = { Accepted: 'True/Accepted', Programmed: 'True/Programmed', ResolvedRefs: 'True/ResolvedRefs', Conflicted: 'False/NoConflicts' };

describe('Gateway status', () => {
  test('one listener, served: Accepted and Programmed, the address as an IPAddress, the listener with its kinds and attached Routes', () => {
    const s = gatewayStatus(statuses([gateway('infra/gw').listener('http', 80, { from: 'All' }), httpRoute('app/web').parent('infra/gw').rule({ backends: [backend('web', 80)] })]));
    assert.deepEqual(conds(s.conditions), { Accepted: 'True/Accepted', Programmed: 'True/Programmed' });
    assert.deepEqual(s.addresses, [{ type: 'IPAddress', value: '127.0.1.1' }]);
    assert.deepEqual(s.listeners.map((l) => [l.name, l.supportedKinds, l.attachedRoutes]), [['http', [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }], 1]]);
    assert.deepEqual(listenerConds(s), { http: OK_LISTENER });
  });

  test('"It is a positive-polarity summary condition, and so should always be present on the resource with ObservedGeneration set": every condition has the generation', () => {
    const s = gatewayStatus(statuses([gateway('infra/gw').generation(7).listener('http', 80)]));
    for (const c of [...s.conditions, ...s.listeners.flatMap((l) => l.conditions)]) {
      assert.equal(c.observedGeneration, 7, c.type);
      assert.equal(c.lastTransitionTime, '2026-03-01T12:00:00Z');
    }
  });

  test('Programmed=True only once a table ATS serves holds the Gateway: before that False/Pending, the Gateway and its listeners', () => {
    const s = gatewayStatus(statuses([gateway('infra/gw').listener('http', 80)], { programmed: false }));
    assert.deepEqual(conds(s.conditions), { Accepted: 'True/Accepted', Programmed: 'False/Pending' });
    assert.equal(conds(s.listeners[0]!.conditions).Programmed, 'False/Pending');
    assert.deepEqual(s.addresses, [{ type: 'IPAddress', value: '127.0.1.1' }], 'the address is known before it is served');
  });

  test('"AddressNotAssigned ... IPAM address exhaustion": the Gateway past the range\'s end has no address and is not Programmed', () => {
    const range = parseAddressRange('127.0.2.1/32');
    assert.ok(!isInvalid(range));
    const u = statuses([gateway('infra/a').listener('http', 80).created(0), gateway('infra/b').listener('http', 80).created(10)], { config: { gatewayAddresses: range } });
    assert.deepEqual(gatewayStatus(u, 'infra/a').addresses, [{ type: 'IPAddress', value: '127.0.2.1' }]);
    const b = gatewayStatus(u, 'infra/b');
    assert.deepEqual(b.addresses, []);
    assert.deepEqual(conds(b.conditions), { Accepted: 'True/Accepted', Programmed: 'False/AddressNotAssigned' });
    assert.equal(conds(b.listeners[0]!.conditions).Programmed, 'False/Pending');
  });

  test('in a cluster the addresses are the Gateway\'s Service\'s: none yet is Programmed=False/AddressNotAssigned; a Gateway without a block too; any listener port is accepted', () => {
    const gatewayPortRange = parsePortRange('20000-20003');
    assert.ok(!isInvalid(gatewayPortRange));
    const objects = [gateway('infra/a').listener('http', 80).listener('odd', 8123).created(0), gateway('infra/b').listener('http', 80).created(10)];
    const pending = statuses(objects, { config: { gatewayPortRange } });
    assert.deepEqual(conds(gatewayStatus(pending, 'infra/a').conditions), { Accepted: 'True/Accepted', Programmed: 'False/AddressNotAssigned' });
    assert.deepEqual(gatewayStatus(pending, 'infra/a').addresses, []);
    const u = statuses(objects, {
      config: { gatewayPortRange },
      serviceAddresses: new Map([['infra/a', [{ type: 'IPAddress', value: '203.0.113.7' }, { type: 'Hostname', value: 'lb.example.net' }]]]),
    });
    const a = gatewayStatus(u, 'infra/a');
    assert.deepEqual(conds(a.conditions), { Accepted: 'True/Accepted', Programmed: 'True/Programmed' });
    assert.deepEqual(a.addresses, [{ type: 'IPAddress', value: '203.0.113.7' }, { type: 'Hostname', value: 'lb.example.net' }]);
    assert.deepEqual(listenerConds(a), { http: OK_LISTENER, odd: OK_LISTENER });
    const b = gatewayStatus(u, 'infra/b');
    assert.deepEqual(conds(b.conditions), { Accepted: 'True/Accepted', Programmed: 'False/AddressNotAssigned' });
    assert.match(b.conditions.find((c) => c.type === 'Programmed')!.message, /--gateway-port-range/);
  });

  test('"If the referent cannot be found, refers to an unsupported kind ... the Gateway SHOULD be rejected with the "Accepted" status condition set to "False" and an "InvalidParameters" reason"', () => {
    const g = gateway('infra/gw').listener('http', 80).build();
    const s = gatewayStatus(statuses([{ ...g, spec: { ...g.spec, infrastructure: { parametersRef: { group: 'example.com', kind: 'Config', name: 'x' } } } }]));
    assert.deepEqual(conds(s.conditions), { Accepted: 'False/InvalidParameters', Programmed: 'False/Invalid' });
  });

  test('spec.addresses: "If a value is set in the spec and the requested address is invalid or unavailable, the implementation MUST indicate this": UnsupportedAddress for a Hostname, AddressNotUsable for another IP', () => {
    const g = gateway('infra/gw').listener('http', 80).build();
    const withAddresses = (addresses: Gateway['spec']['addresses']): Gateway => ({ ...g, spec: { ...g.spec, addresses } });
    assert.deepEqual(conds(gatewayStatus(statuses([withAddresses([{ type: 'Hostname', value: 'gw.example.com' }])])).conditions), { Accepted: 'False/UnsupportedAddress', Programmed: 'False/Invalid' });
    assert.deepEqual(conds(gatewayStatus(statuses([withAddresses([{ type: 'IPAddress', value: '10.9.9.9' }])])).conditions), { Accepted: 'True/Accepted', Programmed: 'False/AddressNotUsable' });
    assert.deepEqual(conds(gatewayStatus(statuses([withAddresses([{ type: 'IPAddress', value: '127.0.1.1' }])])).conditions), { Accepted: 'True/Accepted', Programmed: 'True/Programmed' });
  });
});

/** [the spec's sentence, the listeners, other objects, want per listener (only the conditions named)] */
const LISTENER_CASES: Array<[string, Array<[string, number, ListenerOptions]>, ObjectLike[], Record<string, Record<string, string>>]> = [
  [
    '"PortUnavailable ... The port is not supported by the implementation" (a port --gateway-ports does not serve)',
    [['http', 80, {}], ['other', 8080, {}]],
    [],
    { http: OK_LISTENER, other: { Accepted: 'False/PortUnavailable', Programmed: 'False/Invalid' } },
  ],
  [
    '"UnsupportedProtocol ... the Listener could not be attached to be Gateway because its protocol type is not supported"',
    [['http', 80, {}], ['tcp', 80, { protocol: 'TCP' }]],
    [],
    { http: OK_LISTENER, tcp: { Accepted: 'False/UnsupportedProtocol', Programmed: 'False/Invalid', Conflicted: 'False/NoConflicts' } },
  ],
  [
    '"If kinds are specified in Spec that are not supported ... MUST set the "ResolvedRefs" condition to "False" with the "InvalidRouteKinds" reason" (only unsupported kinds)',
    [['http', 80, { kinds: [{ group: 'gateway.networking.k8s.io', kind: 'GRPCRoute' }] }]],
    [],
    { http: { Accepted: 'True/Accepted', ResolvedRefs: 'False/InvalidRouteKinds', Programmed: 'True/Programmed' } },
  ],
  [
    '"If both valid and invalid Route kinds are specified, the implementation MUST reference the valid Route kinds": still InvalidRouteKinds',
    [['http', 80, { kinds: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }, { kind: 'TLSRoute' }] }]],
    [],
    { http: { ResolvedRefs: 'False/InvalidRouteKinds' } },
  ],
  [
    'HTTPS with a valid kubernetes.io/tls Secret of its namespace: ResolvedRefs=True',
    [['https', 443, { protocol: 'HTTPS', certificates: ['cert'] }]],
    [tlsSecret('infra/cert')],
    { https: OK_LISTENER },
  ],
  [
    '"InvalidCertificateRef ... at least one TLS CertificateRef that is invalid or does not exist" (a missing Secret; Programmed=False/Invalid)',
    [['https', 443, { protocol: 'HTTPS', certificates: ['missing'] }]],
    [],
    { https: { Accepted: 'True/Accepted', ResolvedRefs: 'False/InvalidCertificateRef', Programmed: 'False/Invalid' } },
  ],
  [
    '"A CertificateRef is considered invalid when it refers to ... an unsupported resource or kind"',
    [['https', 443, { protocol: 'HTTPS', certificates: [{ group: '', kind: 'ConfigMap', name: 'cert' }] }]],
    [tlsSecret('infra/cert')],
    { https: { ResolvedRefs: 'False/InvalidCertificateRef' } },
  ],
  [
    '"... or when the data within that resource is malformed"',
    [['https', 443, { protocol: 'HTTPS', certificates: ['bad'] }]],
    [tlsSecret('infra/bad').data('tls.crt', 'bm90IGEgY2VydGlmaWNhdGU=')],
    { https: { ResolvedRefs: 'False/InvalidCertificateRef', Programmed: 'False/Invalid' } },
  ],
  [
    '"RefNotPermitted ... references an object in another namespace, where the object in the other namespace does not have a ReferenceGrant"',
    [['https', 443, { protocol: 'HTTPS', certificates: ['certs/cert'] }]],
    [tlsSecret('certs/cert')],
    { https: { ResolvedRefs: 'False/RefNotPermitted', Programmed: 'False/Invalid' } },
  ],
  [
    'a cross-namespace Secret with a ReferenceGrant from Gateways of the namespace: resolved',
    [['https', 443, { protocol: 'HTTPS', certificates: ['certs/cert'] }]],
    [tlsSecret('certs/cert'), referenceGrant('certs/allow').from('Gateway', 'infra').to('Secret')],
    { https: OK_LISTENER },
  ],
  [
    'a ReferenceGrant for another kind of referrer does not grant a Gateway',
    [['https', 443, { protocol: 'HTTPS', certificates: ['certs/cert'] }]],
    [tlsSecret('certs/cert'), referenceGrant('certs/allow').from('HTTPRoute', 'infra').to('Secret')],
    { https: { ResolvedRefs: 'False/RefNotPermitted' } },
  ],
  [
    '"ProtocolConflict ... multiple Listeners are specified with the same Listener port number, but have conflicting protocol specifications": both, and neither accepted',
    [['http', 443, {}], ['https', 443, { protocol: 'HTTPS', certificates: ['cert'] }], ['plain', 80, {}]],
    [tlsSecret('infra/cert')],
    {
      http: { Accepted: 'False/ProtocolConflict', Conflicted: 'True/ProtocolConflict', Programmed: 'False/Invalid' },
      https: { Accepted: 'False/ProtocolConflict', Conflicted: 'True/ProtocolConflict', Programmed: 'False/Invalid' },
      plain: OK_LISTENER,
    },
  ],
  [
    '"HostnameConflict ... multiple Listeners on the same port use example.com in the hostname field" ("The implementation MUST NOT pick one conflicting Listener as the winner")',
    [['a', 80, { hostname: 'example.com' }], ['b', 80, { hostname: 'example.com' }], ['c', 80, { hostname: '*.example.com' }]],
    [],
    {
      a: { Accepted: 'False/HostnameConflict', Conflicted: 'True/HostnameConflict' },
      b: { Accepted: 'False/HostnameConflict', Conflicted: 'True/HostnameConflict' },
      c: OK_LISTENER,
    },
  ],
  [
    '"HTTP, HTTPS, TLS: Port, Hostname": listeners distinct by hostname only, or by port only, do not conflict',
    [['a', 80, { hostname: 'a.example.com' }], ['b', 80, {}], ['c', 443, {}]],
    [],
    { a: OK_LISTENER, b: OK_LISTENER, c: OK_LISTENER },
  ],
];

describe('listener status', () => {
  for (const [name, listeners, objects, want] of LISTENER_CASES) {
    test(name, () => {
      const g = gateway('infra/gw');
      for (const [n, port, o] of listeners) g.listener(n, port, o);
      const got = listenerConds(gatewayStatus(statuses([g, ...objects])));
      for (const [listener, types] of Object.entries(want)) {
        for (const [type, value] of Object.entries(types)) assert.equal(got[listener]?.[type], value, `${listener} ${type}`);
      }
      assert.deepEqual(Object.keys(got), listeners.map(([n]) => n), 'one entry per listener, in spec order');
    });
  }

  test('"SupportedKinds ... If kinds are specified in Spec that are not supported, they MUST NOT appear in this list"', () => {
    const g = gateway('infra/gw')
      .listener('none', 80, { hostname: 'a.example.com', kinds: [{ kind: 'GRPCRoute' }] })
      .listener('some', 80, { hostname: 'b.example.com', kinds: [{ kind: 'GRPCRoute' }, { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }] })
      .listener('tcp', 9000, { protocol: 'TCP' });
    const s = gatewayStatus(statuses([g]));
    assert.deepEqual(s.listeners.map((l) => [l.name, l.supportedKinds.map((k) => k.kind)]), [['none', []], ['some', ['HTTPRoute']], ['tcp', []]]);
  });

  test('"The AttachedRoutes number represents the number of Routes with the Accepted condition set to "True""', () => {
    const g = gateway('infra/gw').listener('same', 80, { hostname: 'a.example.com' }).listener('all', 80, { hostname: 'b.example.com', from: 'All' });
    const s = gatewayStatus(statuses([
      g,
      httpRoute('app/web').parent('infra/gw').rule({ backends: [backend('web', 80)] }),
      httpRoute('app/other').parent('infra/gw').hostnames('c.example.com').rule({ backends: [backend('web', 80)] }),
      httpRoute('infra/local').parent('infra/gw').rule({ backends: [backend('app/web', 80)] }),
    ]));
    // app/web: All only; app/other: no hostname intersects; infra/local: both (its backend is not resolved, which does not matter).
    assert.deepEqual(s.listeners.map((l) => [l.name, l.attachedRoutes]), [['same', 1], ['all', 2]]);
  });

  test('Gateway Accepted: "ListenersNotValid ... This can be the reason when "Accepted" is "True" or "False", depending on whether the listener being invalid causes the entire Gateway to not be accepted"', () => {
    const some = gatewayStatus(statuses([gateway('infra/gw').listener('http', 80).listener('odd', 81)]));
    assert.deepEqual(conds(some.conditions), { Accepted: 'True/ListenersNotValid', Programmed: 'True/Programmed' });
    const none = gatewayStatus(statuses([gateway('infra/gw').listener('odd', 81).listener('tcp', 82, { protocol: 'TCP' })]));
    assert.deepEqual(conds(none.conditions), { Accepted: 'False/ListenersNotValid', Programmed: 'False/Invalid' });
  });

  test('listenerConflicts: only HTTP and HTTPS take part; an absent hostname conflicts with another absent one', () => {
    const l = (name: string, port: number, protocol: string, hostname?: string) => ({ name, port, protocol, ...(hostname ? { hostname } : {}) });
    assert.deepEqual([...listenerConflicts([l('a', 80, 'HTTP'), l('b', 80, 'HTTP'), l('c', 80, 'TCP'), l('d', 81, 'HTTP', 'x.com')])], [['a', 'HostnameConflict'], ['b', 'HostnameConflict']]);
    assert.deepEqual([...listenerConflicts([l('a', 80, 'HTTP', 'x.com'), l('b', 80, 'HTTPS', 'y.com')])], [['a', 'ProtocolConflict'], ['b', 'ProtocolConflict']]);
  });
});

describe('merging into the Gateway\'s status', () => {
  const objects = [gateway('infra/gw').listener('http', 80)];

  test('written once: the same status again is no change, and keeps its transition times; Programmed turning True moves only its own', () => {
    const first = statuses(objects, { programmed: false })[0]!;
    assert.ok(first.kind === 'Gateway' && first.changed);
    const written: Gateway = { ...first.object, status: first.status };
    const snapshot = snapshotFrom([CLASS, WEB, written]);
    const config = buildConfig();
    const result = build(snapshot, config);
    const again = (programmed: boolean, nowMs: number) => gatewayApiStatuses(result.gateway, snapshot, { config, certificates: new CertificateCache(), programmed: () => programmed, nowMs })[0]!;
    assert.equal(again(false, T + 5_000).changed, false);
    const live = again(true, T + 5_000);
    assert.ok(live.kind === 'Gateway' && live.changed);
    const byType = Object.fromEntries(live.status.conditions.map((c) => [c.type, c.lastTransitionTime]));
    assert.deepEqual(byType, { Accepted: '2026-03-01T12:00:00Z', Programmed: '2026-03-01T12:00:05Z' });
  });

  test('the CRD\'s default conditions (Unknown/Pending, no observedGeneration) are replaced; a condition type of someone else is kept', () => {
    const g = gateway('infra/gw').listener('http', 80).build();
    const pending = (type: string): Condition => ({ type, status: 'Unknown', reason: 'Pending', message: 'Waiting for controller', lastTransitionTime: '1970-01-01T00:00:00Z' });
    const theirs: Condition = { type: 'example.com/Audited', status: 'True', reason: 'Audited', message: '', lastTransitionTime: '2025-01-01T00:00:00Z' };
    const current: Gateway = { ...g, status: { conditions: [pending('Accepted'), pending('Programmed'), theirs] } };
    const want = { conditions: [{ type: 'Accepted', status: 'True' as const, reason: 'Accepted', message: 'ok' }, { type: 'Programmed', status: 'True' as const, reason: 'Programmed', message: 'ok' }], addresses: [], listeners: [] };
    const m = mergeGatewayStatus(current, want, T);
    assert.equal(m.changed, true);
    assert.deepEqual(m.status.conditions.map((c) => `${c.type}=${c.status}`), ['example.com/Audited=True', 'Accepted=True', 'Programmed=True']);
  });

  test('a listener removed from the spec is removed from status.listeners', () => {
    const g = gateway('infra/gw').listener('http', 80).build();
    const current: Gateway = { ...g, status: { listeners: [{ name: 'gone', supportedKinds: [], attachedRoutes: 0, conditions: [] }] } };
    const s = gatewayStatus(statuses([current]));
    assert.deepEqual(s.listeners.map((l) => l.name), ['http']);
  });

  test('a Gateway whose generation is not the one built from is left out (the next build writes it)', () => {
    const snapshot = snapshotFrom([CLASS, gateway('infra/gw').listener('http', 80)]);
    const config = buildConfig();
    const result = build(snapshot, config);
    const newer = snapshotFrom([CLASS, gateway('infra/gw').generation(2).listener('http', 80)]);
    assert.deepEqual(gatewayApiStatuses(result.gateway, newer, { config, certificates: new CertificateCache(), programmed: () => true, nowMs: T }), []);
  });
});

describe('HTTPRoute status.parents', () => {
  const GW = gateway('infra/gw').listener('http', 80, { hostname: '*.example.com', from: 'All' });
  const route = () => httpRoute('app/web').parent('infra/gw').rule({ backends: [backend('web', 80)] });

  test('"ParentRef corresponds with a ParentRef in the spec": the Route\'s fields, group and kind filled in; our controllerName; Accepted and ResolvedRefs with the generation', () => {
    const r = route().build();
    const withRef = (ref: object): HTTPRoute => ({ ...r, metadata: { ...r.metadata, generation: 4 }, spec: { ...r.spec, parentRefs: [ref as never] } });
    const [p] = routeParents(statuses([GW, withRef({ name: 'gw', namespace: 'infra', sectionName: 'http' })]));
    assert.deepEqual(p!.parentRef, { group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'infra', name: 'gw', sectionName: 'http' });
    assert.equal(p!.controllerName, 'ats.ingress.kubernetes.io/gateway-controller');
    assert.deepEqual(conds(p!.conditions), { Accepted: 'True/Accepted', ResolvedRefs: 'True/ResolvedRefs' });
    assert.deepEqual(p!.conditions.map((c) => c.observedGeneration), [4, 4]);
  });

  test('a Route of the Gateway\'s namespace that leaves the namespace out: written without it', () => {
    const [p] = routeParents(statuses([gateway('app/gw').listener('http', 80), httpRoute('app/web').parent('gw').rule({ backends: [backend('web', 80)] })]));
    assert.deepEqual(p!.parentRef, { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'gw' });
  });

  const ACCEPTED_CASES: Array<[string, ObjectLike[], string]> = [
    ['"NoMatchingParent ... this can occur when a Route ParentRef specifies a Port and/or SectionName that does not match any Listeners in the Gateway" (a sectionName)', [GW, httpRoute('app/web').parent('infra/gw', { sectionName: 'nope' }).rule({ backends: [backend('web', 80)] })], 'False/NoMatchingParent'],
    ['NoMatchingParent: a port', [GW, httpRoute('app/web').parent('infra/gw', { port: 8080 }).rule({ backends: [backend('web', 80)] })], 'False/NoMatchingParent'],
    ['"NotAllowedByListeners ... the Gateway has no Listener whose allowedRoutes criteria permit the route" (From Same, another namespace)', [gateway('infra/gw').listener('http', 80), route()], 'False/NotAllowedByListeners'],
    ['"NoMatchingListenerHostname ... the Gateway has no compatible Listeners whose Hostname matches the route"', [GW, route().hostnames('www.other.org')], 'False/NoMatchingListenerHostname'],
  ];
  for (const [name, objects, want] of ACCEPTED_CASES) {
    test(`Accepted: ${name}`, () => {
      assert.equal(conds(routeParents(statuses(objects))[0]!.conditions).Accepted, want);
    });
  }

  const RESOLVED_CASES: Array<[string, ObjectLike[], string]> = [
    ['"BackendNotFound ... one of the Route\'s rules has a reference to a resource that does not exist"', [GW, httpRoute('app/web').parent('infra/gw').rule({ backends: [backend('gone', 80)] })], 'False/BackendNotFound'],
    ['"InvalidKind ... a reference to an unknown or unsupported Group and/or Kind"', [GW, httpRoute('app/web').parent('infra/gw').rule({ backends: [backend('web', 80, { group: 'example.com', kind: 'Bucket' })] })], 'False/InvalidKind'],
    ['"RefNotPermitted ... a BackendRef to an object in another namespace, where the object in the other namespace does not have a ReferenceGrant explicitly allowing the reference"', [GW, service('db/pg').port('pg', 5432), httpRoute('app/web').parent('infra/gw').rule({ backends: [backend('db/pg', 5432)] })], 'False/RefNotPermitted'],
    ['a ReferenceGrant allows it', [GW, service('db/pg').port('pg', 5432), referenceGrant('db/allow').from('HTTPRoute', 'app').to('Service'), httpRoute('app/web').parent('infra/gw').rule({ backends: [backend('db/pg', 5432)] })], 'True/ResolvedRefs'],
  ];
  for (const [name, objects, want] of RESOLVED_CASES) {
    test(`ResolvedRefs: ${name}`, () => {
      const [p] = routeParents(statuses(objects));
      assert.equal(conds(p!.conditions).ResolvedRefs, want);
      assert.equal(conds(p!.conditions).Accepted, 'True/Accepted', '"A Route MUST be considered "Accepted" if at least one of the Route\'s rules is implemented"');
    });
  }

  test('"MUST respond to the removal of a grant by revoking the access that the grant allowed": the next build says RefNotPermitted', () => {
    const objects = [GW, service('db/pg').port('pg', 5432), httpRoute('app/web').parent('infra/gw').rule({ backends: [backend('db/pg', 5432)] })];
    assert.equal(conds(routeParents(statuses([...objects, referenceGrant('db/allow').from('HTTPRoute', 'app').to('Service')]))[0]!.conditions).ResolvedRefs, 'True/ResolvedRefs');
    assert.equal(conds(routeParents(statuses(objects))[0]!.conditions).ResolvedRefs, 'False/RefNotPermitted');
  });

  test('"Implementations MUST NOT update entries with non-matching controllerName fields": theirs kept as they are, ours replaced', () => {
    const r = route().build();
    const theirs: RouteParentStatus = { parentRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'other', namespace: 'infra' }, controllerName: 'example.com/other', conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: '', lastTransitionTime: '2025-01-01T00:00:00Z' }] };
    const staleOurs: RouteParentStatus = { parentRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'old', namespace: 'infra' }, controllerName: 'ats.ingress.kubernetes.io/gateway-controller', conditions: [] };
    const parents = routeParents(statuses([GW, { ...r, status: { parents: [staleOurs, theirs] } }]));
    assert.deepEqual(parents.map((p) => `${p.controllerName} ${p.parentRef.name}`), ['example.com/other other', 'ats.ingress.kubernetes.io/gateway-controller gw']);
    assert.equal(parents[0], theirs);
  });

  test('a Route moved from one of our Gateways to another: the new parent only; the old Gateway counts it no more', () => {
    const GW2 = gateway('infra/gw2').listener('http', 80, { from: 'All' });
    const before = statuses([GW, GW2, route()]);
    assert.deepEqual(gatewayStatus(before, 'infra/gw').listeners.map((l) => l.attachedRoutes), [1]);
    assert.deepEqual(gatewayStatus(before, 'infra/gw2').listeners.map((l) => l.attachedRoutes), [0]);
    const written = before.find((u) => u.kind === 'HTTPRoute')!;
    const moved = httpRoute('app/web').parent('infra/gw2').rule({ backends: [backend('web', 80)] }).build();
    const after = statuses([GW, GW2, { ...moved, status: written.status as HTTPRoute['status'] }]);
    assert.deepEqual(routeParents(after).map((p) => p.parentRef.name), ['gw2']);
    assert.deepEqual(gatewayStatus(after, 'infra/gw').listeners.map((l) => l.attachedRoutes), [0]);
    assert.deepEqual(gatewayStatus(after, 'infra/gw2').listeners.map((l) => l.attachedRoutes), [1]);
  });

  test('a Route that names no Gateway of ours and carries nothing of ours: no status of ours; one that still carries ours: emptied', () => {
    const elsewhere = httpRoute('app/web').parent('infra/theirs').rule({ backends: [backend('web', 80)] }).build();
    assert.deepEqual(statuses([GW, elsewhere]).filter((u) => u.kind === 'HTTPRoute'), []);
    const stale: RouteParentStatus = { parentRef: { name: 'gw', namespace: 'infra' }, controllerName: 'ats.ingress.kubernetes.io/gateway-controller', conditions: [] };
    const u = statuses([GW, { ...elsewhere, status: { parents: [stale] } }]).find((x) => x.kind === 'HTTPRoute')!;
    assert.equal(u.changed, true);
    assert.deepEqual(u.status, { parents: [] });
  });

  test('merging: the same parents again is no change; a parent written in another order of keys is the same', () => {
    const first = statuses([GW, route()]).find((u) => u.kind === 'HTTPRoute')!;
    assert.ok(first.kind === 'HTTPRoute');
    const reversed = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).reverse()) as T;
    const shuffled = first.status.parents.map((p) => reversed({ ...p, conditions: p.conditions.map(reversed), parentRef: reversed(p.parentRef) }));
    const current: HTTPRoute = { ...first.object, status: { parents: shuffled } };
    const want = first.status.parents.map((p) => ({ parentRef: p.parentRef, conditions: p.conditions.map(({ type, status, reason, message }) => ({ type, status: status as 'True' | 'False', reason, message })) }));
    assert.equal(mergeRouteStatus(current, want, 'ats.ingress.kubernetes.io/gateway-controller', T + 60_000).changed, false);
  });
});
