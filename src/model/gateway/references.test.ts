// ReferenceGrants and backendRefs, from the spec's text (ReferenceGrant,
// HTTPBackendRef's list of what makes a BackendRef invalid).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ObjectKey, Service } from '../../kube/types.js';
import { service } from '../../testing/fixtures.js';
import { backend, referenceGrant } from '../../testing/gateway-fixtures.js';
import { referenceGranted, resolveBackendRef } from './references.js';

const services = new Map<ObjectKey, Service>([
  ['app/web', service('app/web').port('http', 80).build()],
  ['shared/db', service('shared/db').port('http', 8080).build()],
]);
const ROUTE = { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'app' };
const DB = { group: '', kind: 'Service', namespace: 'shared', name: 'db' };

describe('"All cross-namespace references in Gateway API (with the exception of cross-namespace Gateway-route attachment) require a ReferenceGrant."', () => {
  const cases: Array<[string, ReturnType<ReturnType<typeof referenceGrant>['build']>[], boolean]> = [
    ['no grant: refused', [], false],
    ['a grant in the target namespace from HTTPRoutes of app to Services', [referenceGrant('shared/g').from('HTTPRoute', 'app').to('Service').build()], true],
    ['a grant naming this Service', [referenceGrant('shared/g').from('HTTPRoute', 'app').to('Service', 'db').build()], true],
    ['a grant naming another Service', [referenceGrant('shared/g').from('HTTPRoute', 'app').to('Service', 'cache').build()], false],
    ['a grant from another namespace', [referenceGrant('shared/g').from('HTTPRoute', 'other').to('Service').build()], false],
    ['a grant from another kind (GRPCRoute)', [referenceGrant('shared/g').from('GRPCRoute', 'app').to('Service').build()], false],
    ['a grant in the wrong namespace (the source\'s: a namespace cannot grant itself access to another)', [referenceGrant('app/g').from('HTTPRoute', 'app').to('Service').build()], false],
    ['a grant to Secrets, not Services', [referenceGrant('shared/g').from('HTTPRoute', 'app').to('Secret').build()], false],
  ];
  for (const [what, grants, want] of cases) test(what, () => assert.equal(referenceGranted(grants, ROUTE, DB), want));
  test('within one namespace no grant is needed', () => assert.equal(referenceGranted([], ROUTE, { ...DB, namespace: 'app' }), true));
  test('"MUST respond to the removal of a grant by revoking the access that the grant allowed": the answer is made from the grants given, each time', () => {
    const grant = referenceGrant('shared/g').from('HTTPRoute', 'app').to('Service').build();
    assert.equal(referenceGranted([grant], ROUTE, DB), true);
    assert.equal(referenceGranted([], ROUTE, DB), false);
  });
});

describe('"A BackendRef is invalid if:"', () => {
  const resolve = (ref: ReturnType<typeof backend>, grants = [] as ReturnType<ReturnType<typeof referenceGrant>['build']>[]) => resolveBackendRef(ref, 'app', services, grants);
  test('a Service of the Route\'s namespace, with its port: valid', () => assert.deepEqual(resolve(backend('web', 80)), { valid: true, service: 'app/web', port: 80 }));
  test('"It refers to an unknown or unsupported kind of resource. In this case, the Reason must be set to `InvalidKind`"', () => {
    const r = resolve(backend('web', 80, { group: 'example.com', kind: 'Bucket' }));
    assert.equal(r.valid ? '' : r.reason, 'InvalidKind');
  });
  test('"It refers to a resource that does not exist. In this case, the Reason must be set to `BackendNotFound`"', () => {
    const r = resolve(backend('nope', 80));
    assert.equal(r.valid ? '' : r.reason, 'BackendNotFound');
    const p = resolve(backend('web', 81));
    assert.equal(p.valid ? '' : p.reason, 'BackendNotFound', 'a port the Service does not have');
  });
  test('"It refers a resource in another namespace when the reference has not been explicitly allowed by a ReferenceGrant ... the Reason must be set to `RefNotPermitted`"', () => {
    const r = resolve(backend('shared/db', 8080));
    assert.equal(r.valid ? '' : r.reason, 'RefNotPermitted');
    assert.deepEqual(resolve(backend('shared/db', 8080), [referenceGrant('shared/g').from('HTTPRoute', 'app').to('Service').build()]), { valid: true, service: 'shared/db', port: 8080 });
  });
  test('a cross-namespace reference without a grant says RefNotPermitted, whether or not the Service exists (nothing is learnt of another namespace)', () => {
    const r = resolve(backend('shared/nope', 80));
    assert.equal(r.valid ? '' : r.reason, 'RefNotPermitted');
  });
});
