// The Gateway API kinds checked as the API server checks them on create,
// against the rules of their CRDs' schemas (gateway-schemas.ts, generated
// from the v1.6.3 standard-channel CRDs): what an API server with those CRDs
// refuses, the manifests source refuses, with the same field and reason.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatFieldError, validateObject, withSchemaDefaults } from './api-objects.js';

type Json = Record<string, unknown>;

const route = (spec: Json, metadata: Json = {}): Json => ({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'web', namespace: 'app', ...metadata }, spec });
const gw = (listeners: Json[], extra: Json = {}): Json => ({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'gw', namespace: 'infra' }, spec: { gatewayClassName: 'ats', listeners, ...extra } });
const listener = (o: Json = {}): Json => ({ name: 'http', port: 80, protocol: 'HTTP', ...o });
const parent = { name: 'gw', namespace: 'infra' };
const svc = (o: Json = {}): Json => ({ name: 'web', port: 80, ...o });
const pathRule = (path: Json): Json => route({ parentRefs: [parent], rules: [{ matches: [{ path }], backendRefs: [svc()] }] });

const errors = (o: Json) => validateObject(o).map(formatFieldError);

const PATH_MSG = (m: string) => `spec.rules[0].matches[0].path: Invalid value: "object": ${m}`;
const HOSTNAME = String.raw`^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`;

const cases: Array<[string, Json, string[]]> = [
  ['a plain HTTPRoute', route({ parentRefs: [parent], hostnames: ['a.example.com', '*.example.com'], rules: [{ backendRefs: [svc()] }] }), []],
  ['an HTTPRoute with no rules at all (the CRD defaults one)', route({ parentRefs: [parent] }), []],
  // HTTPPathMatch: "value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']"
  ['a relative PathPrefix', pathRule({ type: 'PathPrefix', value: 'x' }), [PATH_MSG("value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']")]],
  ['a path with a space', pathRule({ type: 'Exact', value: '/a b' }), [PATH_MSG("must only contain valid characters (matching ^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$) for types ['Exact', 'PathPrefix']")]],
  ['an Exact path with //', pathRule({ type: 'Exact', value: '/a//b' }), [PATH_MSG("must not contain '//' when type one of ['Exact', 'PathPrefix']")]],
  ['a path ending in /..', pathRule({ type: 'PathPrefix', value: '/a/..' }), [PATH_MSG("must not end with '/..' when type one of ['Exact', 'PathPrefix']")]],
  ['a path with %2F', pathRule({ type: 'Exact', value: '/a%2Fb' }), [PATH_MSG("must not contain '%2F' when type one of ['Exact', 'PathPrefix']")]],
  ['a RegularExpression path is not held to the path rules', pathRule({ type: 'RegularExpression', value: '^/a.*' }), []],
  ['an unknown path type', pathRule({ type: 'Glob', value: '/a' }), ['spec.rules[0].matches[0].path.type: Unsupported value: "Glob": supported values: "Exact", "PathPrefix", "RegularExpression"']],
  ['an uppercase hostname', route({ parentRefs: [parent], hostnames: ['A.example.com'] }), [`spec.hostnames[0]: Invalid value: "A.example.com": spec.hostnames[0] in body should match '${HOSTNAME}'`]],
  ['a wildcard that is not the first label', route({ parentRefs: [parent], hostnames: ['a.*.com'] }), [`spec.hostnames[0]: Invalid value: "a.*.com": spec.hostnames[0] in body should match '${HOSTNAME}'`]],
  ['17 hostnames (maxItems 16)', route({ parentRefs: [parent], hostnames: Array.from({ length: 17 }, (_, i) => `h${i}.example.com`) }), ['spec.hostnames: Too many: 17: must have at most 16 items']],
  ['33 parentRefs (maxItems 32)', route({ parentRefs: Array.from({ length: 33 }, (_, i) => ({ name: `gw${i}` })) }), ['spec.parentRefs: Too many: 33: must have at most 32 items']],
  ['a parentRef without a name', route({ parentRefs: [{ namespace: 'infra' }] }), ['spec.parentRefs[0].name: Required value']],
  ['a Service backendRef without a port', route({ parentRefs: [parent], rules: [{ backendRefs: [{ name: 'web' }] }] }), ['spec.rules[0].backendRefs[0]: Invalid value: "object": Must have port for Service reference']],
  ['a weight above 1,000,000', route({ parentRefs: [parent], rules: [{ backendRefs: [svc({ weight: 1_000_001 })] }] }), ['spec.rules[0].backendRefs[0].weight: Invalid value: 1000001: spec.rules[0].backendRefs[0].weight in body should be less than or equal to 1000000']],
  [
    'a RequestHeaderModifier filter without its settings',
    route({ parentRefs: [parent], rules: [{ filters: [{ type: 'RequestHeaderModifier' }], backendRefs: [svc()] }] }),
    ['spec.rules[0].filters[0]: Invalid value: "object": filter.requestHeaderModifier must be specified for RequestHeaderModifier filter.type'],
  ],
  ['an unknown method', route({ parentRefs: [parent], rules: [{ matches: [{ method: 'FETCH' }] }] }), ['spec.rules[0].matches[0].method: Unsupported value: "FETCH": supported values: "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"']],
  ['a status, as kubectl get -o yaml writes it: not checked (the API server drops it on create)', { ...route({ parentRefs: [parent] }), status: { parents: [{ bogus: 1 }] } }, []],
  ['a field the schema does not have (strict field validation)', route({ parentRefs: [parent], hostname: 'a.com' }), ['spec.hostname: unknown field "spec.hostname"']],
  ['a bad name, checked as for every custom resource', route({ parentRefs: [parent] }, { name: 'Web' }), ["metadata.name: Invalid value: \"Web\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"]],

  ['a plain Gateway', gw([listener(), listener({ name: 'https', port: 443, protocol: 'HTTPS', hostname: '*.example.com', tls: { certificateRefs: [{ name: 'cert' }] } })]), []],
  ['a Gateway without listeners', gw([]), ['spec.listeners: Invalid value: 0: spec.listeners in body should have at least 1 items']],
  ['two listeners of one name', gw([listener(), listener({ port: 8080 })]), ['spec.listeners: Invalid value: "array": Listener name must be unique within the Gateway']],
  ['a listener on port 0', gw([listener({ port: 0 })]), ['spec.listeners[0].port: Invalid value: 0: spec.listeners[0].port in body should be greater than or equal to 1']],
  ['a listener without a protocol', gw([{ name: 'http', port: 80 }]), ['spec.listeners[0].protocol: Required value']],
  ['65 listeners (maxItems 64)', gw(Array.from({ length: 65 }, (_, i) => listener({ name: `l${i}`, port: 1000 + i }))), ['spec.listeners: Too many: 65: must have at most 64 items']],
  ['allowedRoutes from Everywhere', gw([listener({ allowedRoutes: { namespaces: { from: 'Everywhere' } } })]), ['spec.listeners[0].allowedRoutes.namespaces.from: Unsupported value: "Everywhere": supported values: "All", "Selector", "Same"']],

  ['a plain GatewayClass', { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: 'ats' }, spec: { controllerName: 'ats.ingress.kubernetes.io/gateway-controller' } }, []],
  ['a GatewayClass without controllerName', { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: 'ats' }, spec: {} }, ['spec.controllerName: Required value']],
  [
    'a controllerName that is not a domain-prefixed path',
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: 'ats' }, spec: { controllerName: 'ats' } },
    [String.raw`spec.controllerName: Invalid value: "ats": spec.controllerName in body should match '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9\/\-._~%!$&'()*+,;=:]+$'`],
  ],

  ['a plain ReferenceGrant', { apiVersion: 'gateway.networking.k8s.io/v1beta1', kind: 'ReferenceGrant', metadata: { name: 'g', namespace: 'svc' }, spec: { from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'app' }], to: [{ group: '', kind: 'Service' }] } }, []],
  ['a ReferenceGrant with nothing to grant', { apiVersion: 'gateway.networking.k8s.io/v1beta1', kind: 'ReferenceGrant', metadata: { name: 'g', namespace: 'svc' }, spec: { from: [] } }, ['spec.to: Required value', 'spec.from: Invalid value: 0: spec.from in body should have at least 1 items']],
];

describe('Gateway API objects as the API server with the v1.6.3 CRDs checks them', () => {
  for (const [what, obj, want] of cases) {
    test(what, () => {
      assert.deepEqual(errors(obj).sort(), [...want].sort());
    });
  }

  test('the CRD defaults are applied as the API server applies them', () => {
    const r = withSchemaDefaults(route({ parentRefs: [{ name: 'gw' }], rules: [{ matches: [{ headers: [{ name: 'x', value: 'y' }] }], backendRefs: [svc()] }] })) as any;
    assert.deepEqual(r.spec.parentRefs[0], { name: 'gw', group: 'gateway.networking.k8s.io', kind: 'Gateway' });
    assert.deepEqual(r.spec.rules[0].matches[0].path, { type: 'PathPrefix', value: '/' });
    assert.equal(r.spec.rules[0].matches[0].headers[0].type, 'Exact');
    assert.equal(r.spec.rules[0].backendRefs[0].weight, 1);
    assert.equal(r.spec.rules[0].backendRefs[0].kind, 'Service');
    const noRules = withSchemaDefaults(route({ parentRefs: [parent] })) as any;
    assert.deepEqual(noRules.spec.rules, [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }] }]);
    const g = withSchemaDefaults(gw([listener()])) as any;
    assert.deepEqual(g.spec.listeners[0].allowedRoutes, { namespaces: { from: 'Same' } });
  });

  test('a decoding error stops validation, as in the API server', () => {
    assert.deepEqual(errors(route({ parentRefs: [{}], extra: 1 })), ['spec.extra: unknown field "spec.extra"']);
  });
});
