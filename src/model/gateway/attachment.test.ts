// Attachment of an HTTPRoute to a Gateway's listeners, from the spec's text
// (ParentReference.sectionName and .port, AllowedRoutes, RouteNamespaces.from).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { gateway, httpRoute, parentRef } from '../../testing/gateway-fixtures.js';
import { snapshotFrom, namespace } from '../../testing/fixtures.js';
import { attachToGateway, listenerAllowsNamespace, snapshotNamespaceLabels, supportedKinds } from './attachment.js';

const labels: Record<string, Record<string, string>> = { app: { team: 'web' }, other: { team: 'db' } };
const labelsOf = (ns: string) => labels[ns];

describe('allowedRoutes.namespaces.from', () => {
  const gw = gateway('infra/gw')
    .listener('same', 80)
    .listener('all', 81, { from: 'All' })
    .listener('selector', 82, { from: 'Selector', selector: { matchLabels: { team: 'web' } } })
    .listener('expr', 83, { from: 'Selector', selector: { matchExpressions: [{ key: 'team', operator: 'NotIn', values: ['db'] }] } })
    .build();
  const l = (name: string) => gw.spec.listeners.find((x) => x.name === name)!;
  const cases: Array<[string, string, boolean, string]> = [
    ['same', 'infra', true, '"Same: Only Routes in the same namespace may be used by this Gateway."'],
    ['same', 'app', false, 'the same sentence, another namespace'],
    ['all', 'app', true, '"All: Routes in all namespaces may be used by this Gateway."'],
    ['selector', 'app', true, '"Selector: Routes in namespaces selected by the selector may be used by this Gateway."'],
    ['selector', 'other', false, 'the same sentence, a namespace the selector does not select'],
    ['selector', 'unknown', false, 'a namespace whose labels are not known is not selected'],
    ['expr', 'app', true, 'matchExpressions NotIn'],
    ['expr', 'other', false, 'matchExpressions NotIn, excluded'],
  ];
  for (const [listener, ns, want, why] of cases) {
    test(`${listener}: a Route in ${ns} ${want ? 'allowed' : 'not allowed'}: ${why}`, () => assert.equal(listenerAllowsNamespace(l(listener), 'infra', ns, labelsOf), want));
  }
  test('"Selector must be specified when From is set to "Selector"": without one nothing is selected', () => {
    assert.equal(listenerAllowsNamespace({ name: 'x', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'Selector' } } }, 'infra', 'app', labelsOf), false);
  });
});

describe('namespace labels from the snapshot', () => {
  const of = snapshotNamespaceLabels(snapshotFrom([namespace('app').label('team', 'web'), { kind: 'Namespace', metadata: { name: 'bare' } }]));
  const selector = gateway('infra/gw').listener('s', 80, { from: 'Selector', selector: { matchExpressions: [{ key: 'team', operator: 'In', values: ['web'] }] } }).build().spec.listeners[0]!;
  const cases: Array<[string, Record<string, string> | undefined, boolean]> = [
    ['app', { 'kubernetes.io/metadata.name': 'app', team: 'web' }, true],
    ['bare', {}, false],
    ['unknown', undefined, false],
  ];
  for (const [ns, labels, selected] of cases) {
    test(`${ns}: labels ${JSON.stringify(labels)}, ${selected ? '' : 'not '}selected`, () => {
      assert.deepEqual(of(ns), labels);
      assert.equal(listenerAllowsNamespace(selector, 'infra', ns, of), selected);
    });
  }
});

describe('allowedRoutes.kinds: "When unspecified or empty, the kinds of Routes selected are determined using the Listener protocol."', () => {
  test('HTTP and HTTPS take HTTPRoute; TCP takes none of ours; an explicit list without HTTPRoute takes none', () => {
    assert.deepEqual(supportedKinds({ name: 'a', port: 80, protocol: 'HTTP' }), [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }]);
    assert.deepEqual(supportedKinds({ name: 'a', port: 443, protocol: 'HTTPS' }), [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }]);
    assert.deepEqual(supportedKinds({ name: 'a', port: 9000, protocol: 'TCP' }), []);
    assert.deepEqual(supportedKinds({ name: 'a', port: 80, protocol: 'HTTP', allowedRoutes: { kinds: [{ kind: 'GRPCRoute' }] } }), []);
    assert.deepEqual(supportedKinds({ name: 'a', port: 80, protocol: 'HTTP', allowedRoutes: { kinds: [{ kind: 'HTTPRoute' }] } }).length, 1);
  });
});

describe('attachment through parentRefs', () => {
  const gw = gateway('infra/gw')
    .listener('web', 80, { from: 'All', hostname: '*.example.com' })
    .listener('admin', 8080, { from: 'All', hostname: 'admin.example.com' })
    .listener('local', 80, { hostname: 'local.example.com' })
    .build();
  const route = (o: { hostnames?: string[]; ns?: string } = {}) => {
    const b = httpRoute(`${o.ns ?? 'app'}/web`);
    if (o.hostnames) b.hostnames(...o.hostnames);
    return b.build();
  };
  const names = (a: ReturnType<typeof attachToGateway>) => a.listeners.map((x) => `${x.listener.name}:${x.hostnames.join('|')}`);

  test('"When unspecified (empty string), this will reference the entire resource": every listener that allows it', () => {
    const a = attachToGateway(route(), parentRef('infra/gw'), gw, labelsOf);
    assert.equal(a.reason, 'Accepted');
    assert.deepEqual(names(a), ['web:*.example.com', 'admin:admin.example.com'], '"local" allows only its own namespace');
  });
  test('"Gateway: Listener name": sectionName selects one listener', () => {
    assert.deepEqual(names(attachToGateway(route(), parentRef('infra/gw', { sectionName: 'admin' }), gw, labelsOf)), ['admin:admin.example.com']);
  });
  test('"When both Port and SectionName are specified, the name and port of the selected listener must match both specified values."', () => {
    assert.equal(attachToGateway(route(), parentRef('infra/gw', { sectionName: 'admin', port: 80 }), gw, labelsOf).reason, 'NoMatchingParent');
    assert.deepEqual(names(attachToGateway(route(), parentRef('infra/gw', { port: 80 }), gw, labelsOf)), ['web:*.example.com'], '"this targets all listeners listening on the specified port"');
  });
  test('a sectionName no listener has: NoMatchingParent; no such Gateway: NoMatchingParent', () => {
    assert.equal(attachToGateway(route(), parentRef('infra/gw', { sectionName: 'nope' }), gw, labelsOf).reason, 'NoMatchingParent');
    assert.equal(attachToGateway(route(), parentRef('infra/none'), undefined, labelsOf).reason, 'NoMatchingParent');
  });
  test('"If no Gateway listeners accept attachment from this Route, the Route MUST be considered detached": NotAllowedByListeners', () => {
    assert.equal(attachToGateway(route(), parentRef('infra/gw', { sectionName: 'local' }), gw, labelsOf).reason, 'NotAllowedByListeners');
  });
  test('"If 1 of 2 Gateway listeners accept attachment from the referencing Route, the Route MUST be considered successfully attached."', () => {
    const a = attachToGateway(route({ hostnames: ['shop.example.com'] }), parentRef('infra/gw'), gw, labelsOf);
    assert.equal(a.reason, 'Accepted');
    assert.deepEqual(names(a), ['web:shop.example.com'], 'admin.example.com does not intersect shop.example.com');
  });
  test('hostnames that intersect no listener\'s: NoMatchingListenerHostname', () => {
    assert.equal(attachToGateway(route({ hostnames: ['example.com', 'shop.example.net'] }), parentRef('infra/gw'), gw, labelsOf).reason, 'NoMatchingListenerHostname');
  });
  test('a Route in the Gateway\'s namespace attaches to the Same listener too', () => {
    assert.deepEqual(names(attachToGateway(route({ ns: 'infra' }), parentRef('gw'), gw, labelsOf)), ['web:*.example.com', 'admin:admin.example.com', 'local:local.example.com']);
  });
});
