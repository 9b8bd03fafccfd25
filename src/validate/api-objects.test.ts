import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatFieldError, validateObject } from './api-objects.js';
import { goQuoted, quoted } from './quote.js';

type Json = Record<string, unknown>;

const SUBDOMAIN = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name' or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035 = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name' or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const WILDCARD = "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

const svcBackend = (name = 'web', port: Json = { number: 80 }) => ({ service: { name, port } });
/** A path; pathType null for none. */
const p = (path: string | undefined, pathType: string | null = 'Prefix', backend: Json = svcBackend()): Json => ({
  ...(path !== undefined ? { path } : {}),
  ...(pathType !== null ? { pathType } : {}),
  backend,
});

function ing(spec: Json, metadata: Json = {}): Json {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'web', namespace: 'ns', ...metadata }, spec };
}
const rules = (...r: Json[]) => ({ rules: r });
const rule = (host: string | undefined, ...paths: Json[]) => ({ ...(host !== undefined ? { host } : {}), http: { paths } });

/** [what, object, the API server's errors as it formats them ([] when it takes the object)] */
const cases: Array<[string, Json, string[]]> = [
  ['a plain Ingress', ing(rules(rule('a.com', p('/')))), []],
  ['a wildcard host, an absent host, ImplementationSpecific without a path', ing(rules(rule('*.a.com', p('/')), rule(undefined, p(undefined, 'ImplementationSpecific')))), []],
  ['only a default backend', ing({ defaultBackend: svcBackend('web', { name: 'http' }) }), []],
  ['neither rules nor default backend', ing({}), ['spec: Invalid value: null: either `defaultBackend` or `rules` must be specified']],
  ['an uppercase host', ing(rules(rule('A.com', p('/')))), [`spec.rules[0].host: Invalid value: "A.com": ${SUBDOMAIN}`]],
  ['an IP address as host', ing(rules(rule('10.0.0.1', p('/')))), ['spec.rules[0].host: Invalid value: "10.0.0.1": must be a DNS name, not an IP address']],
  ['an IPv4 address with leading zeros (ParseIPSloppy reads it)', ing(rules(rule('010.0.0.1', p('/')))), ['spec.rules[0].host: Invalid value: "010.0.0.1": must be a DNS name, not an IP address']],
  ['a label of 64 characters (the subdomain rule has no per-label limit)', ing(rules(rule(`${'a'.repeat(64)}.com`, p('/')))), []],
  ['a host of 254 characters', ing(rules(rule(`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}`, p('/')))), ['spec.rules[0].host: Invalid value: "' + `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(8)}"…(55 more characters): must be no more than 253 characters`]],
  ['a wildcard that is not the first label', ing(rules(rule('a.*.com', p('/')))), [`spec.rules[0].host: Invalid value: "a.*.com": ${WILDCARD}`]],
  ['a NUL in a host, quoted as Go quotes it', ing(rules(rule('a\u0000.com', p('/')))), [`spec.rules[0].host: Invalid value: "a\\x00.com": ${SUBDOMAIN}`]],
  ['no pathType', ing(rules(rule('a.com', p('/', null)))), ['spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified']],
  ['an unknown pathType', ing(rules(rule('a.com', p('/', 'Regex')))), ['spec.rules[0].http.paths[0].pathType: Unsupported value: "Regex": supported values: "Exact", "ImplementationSpecific", "Prefix"']],
  ['a relative Prefix path', ing(rules(rule('a.com', p('x')))), ['spec.rules[0].http.paths[0].path: Invalid value: "x": must be an absolute path']],
  ['an empty Exact path', ing(rules(rule('a.com', p('', 'Exact')))), ['spec.rules[0].http.paths[0].path: Invalid value: "": must be an absolute path']],
  ['a relative ImplementationSpecific path', ing(rules(rule('a.com', p('x', 'ImplementationSpecific')))), ['spec.rules[0].http.paths[0].path: Invalid value: "x": must be an absolute path']],
  ['every sequence and suffix the API server refuses in Exact and Prefix paths', ing(rules(rule('a.com', p('/a//b/./c/../%2f%2F/..')))), [
    "spec.rules[0].http.paths[0].path: Invalid value: \"/a//b/./c/../%2f%2F/..\": must not contain '//'",
    "spec.rules[0].http.paths[0].path: Invalid value: \"/a//b/./c/../%2f%2F/..\": must not contain '/./'",
    "spec.rules[0].http.paths[0].path: Invalid value: \"/a//b/./c/../%2f%2F/..\": must not contain '/../'",
    "spec.rules[0].http.paths[0].path: Invalid value: \"/a//b/./c/../%2f%2F/..\": must not contain '%2f'",
    "spec.rules[0].http.paths[0].path: Invalid value: \"/a//b/./c/../%2f%2F/..\": must not contain '%2F'",
    "spec.rules[0].http.paths[0].path: Invalid value: \"/a//b/./c/../%2f%2F/..\": cannot end with '/..'",
  ]],
  ['the same in an ImplementationSpecific path: taken (the builder judges it)', ing(rules(rule('a.com', p('/a//b/../%2f', 'ImplementationSpecific')))), []],
  ['%2e and control characters: taken by the API server in any path type', ing(rules(rule('a.com', p('/%2e%2e/a\nb', 'Exact')))), []],
  ['a rule with http and no paths', ing(rules({ host: 'a.com', http: { paths: [] } })), ['spec.rules[0].http.paths: Required value']],
  ['an uppercase Service name', ing(rules(rule('a.com', p('/', 'Prefix', svcBackend('Web'))))), [`spec.rules[0].http.paths[0].backend.service.name: Invalid value: "Web": ${DNS1035}`]],
  ['a Service name starting with a digit (DNS-1035)', ing(rules(rule('a.com', p('/', 'Prefix', svcBackend('1web'))))), [`spec.rules[0].http.paths[0].backend.service.name: Invalid value: "1web": ${DNS1035}`]],
  ['a port name and number', ing(rules(rule('a.com', p('/', 'Prefix', svcBackend('web', { name: 'http', number: 80 }))))), ['spec.rules[0].http.paths[0].backend: Invalid value: "": cannot set both port name & port number']],
  ['no port', ing(rules(rule('a.com', p('/', 'Prefix', svcBackend('web', {}))))), ['spec.rules[0].http.paths[0].backend: Required value: port name or number is required']],
  ['port 0 is no port', ing(rules(rule('a.com', p('/', 'Prefix', svcBackend('web', { number: 0 }))))), ['spec.rules[0].http.paths[0].backend: Required value: port name or number is required']],
  ['port 70000', ing(rules(rule('a.com', p('/', 'Prefix', svcBackend('web', { number: 70000 }))))), ['spec.rules[0].http.paths[0].backend.service.port.number: Invalid value: 70000: must be between 1 and 65535, inclusive']],
  ['a port name that is no IANA name', ing(rules(rule('a.com', p('/', 'Prefix', svcBackend('web', { name: 'HTTP--x' }))))), [
    'spec.rules[0].http.paths[0].backend.service.port.name: Invalid value: "HTTP--x": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
    'spec.rules[0].http.paths[0].backend.service.port.name: Invalid value: "HTTP--x": must not contain consecutive hyphens',
  ]],
  ['a resource and a Service backend', ing(rules(rule('a.com', p('/', 'Prefix', { ...svcBackend(), resource: { kind: 'B', name: 'c' } })))), ['spec.rules[0].http.paths[0].backend: Invalid value: "": cannot set both resource and service backends']],
  ['a resource backend with a "/" in its name', ing(rules(rule('a.com', p('/', 'Prefix', { resource: { kind: 'B', name: 'c/d' } })))), ["spec.rules[0].http.paths[0].backend.resource.name: Invalid value: \"c/d\": may not contain '/'"]],
  ['no backend at all', ing(rules(rule('a.com', { path: '/', pathType: 'Prefix' }))), ['spec.rules[0].http.paths[0].backend: Invalid value: "": resource or service backend is required']],
  ['TLS hosts and secretName', ing({ ...rules(rule('a.com', p('/'))), tls: [{ hosts: ['*.*.a.com', 'B.com'], secretName: 'other/tls' }] }), [
    `spec.tls[0].hosts[0]: Invalid value: "*.*.a.com": ${WILDCARD}`,
    `spec.tls[0].hosts[1]: Invalid value: "B.com": ${SUBDOMAIN}`,
    `spec.tls[0].secretName: Invalid value: "other/tls": ${SUBDOMAIN}`,
  ]],
  ['an uppercase ingressClassName', ing({ ingressClassName: 'ATS', ...rules(rule('a.com', p('/'))) }), [`spec.ingressClassName: Invalid value: "ATS": ${SUBDOMAIN}`]],
  ['the legacy class annotation contradicting ingressClassName', ing({ ingressClassName: 'ats', ...rules(rule('a.com', p('/'))) }, { annotations: { 'kubernetes.io/ingress.class': 'nginx' } }), ['annotations.kubernetes.io/ingress.class: Invalid value: "nginx": must match `ingressClassName` when both are specified']],
  ['metadata: name, namespace, labels, annotations', ing(rules(rule('a.com', p('/'))), { name: 'Web_1', namespace: 'Ns', labels: { 'a/b/c': 'x y' }, annotations: { 'example.com/ok': 'x', 'bad key': 'y', 'UPPER.example.com/Fine': 'z' } }), [
    `metadata.name: Invalid value: "Web_1": ${SUBDOMAIN}`,
    `metadata.namespace: Invalid value: "Ns": ${LABEL}`,
    "metadata.labels: Invalid value: \"a/b/c\": a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName' or 'my.name' or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    "metadata.labels: Invalid value: \"x y\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue' or 'my_value' or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    "metadata.annotations: Invalid value: \"bad key\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName' or 'my.name' or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
  ]],
  ['annotations of exactly 256 KiB are taken', ing(rules(rule('a.com', p('/'))), { annotations: { 'a.io/k': 'x'.repeat(256 * 1024 - 6) } }), []],
  ['one byte more is not', ing(rules(rule('a.com', p('/'))), { annotations: { 'a.io/k': 'x'.repeat(256 * 1024 - 5) } }), ['metadata.annotations: Too long: may not be more than 262144 bytes']],
  ['no name', ing(rules(rule('a.com', p('/'))), { name: undefined }), ['metadata.name: Required value: name or generateName is required']],
  // Decoding: the API server answers 400 and validates nothing else.
  ['an annotation value that is a number', ing(rules(rule('A.com', p('/'))), { annotations: { 'a.io/n': 5 } }), ['metadata.annotations[a.io/n]: Invalid value: 5: must be a string, not number (the API server cannot decode it)']],
  ['a port number written as a string', ing(rules(rule('a.com', p('/', 'Prefix', svcBackend('web', { number: '80' }))))), ['spec.rules[0].http.paths[0].backend.service.port.number: Invalid value: "80": must be a whole number (int32), not string (the API server cannot decode it)']],
  ['a field named like a property of every JS object', ing({ rules: [{ host: 'a.com', constructor: 'x', http: { paths: [{ ...p('/'), toString: 1 }] } }] }), [
    'spec.rules[0].constructor: unknown field "spec.rules[0].constructor"',
    'spec.rules[0].http.paths[0].toString: unknown field "spec.rules[0].http.paths[0].toString"',
  ]],
  ['a field the schema does not know', ing({ rules: [{ host: 'a.com', http: { paths: [{ ...p('/'), pathtype: 'Exact' }] } }] }), ['spec.rules[0].http.paths[0].pathtype: unknown field "spec.rules[0].http.paths[0].pathtype"']],
  ['rules that are not a list', ing({ rules: { host: 'a.com' } }), ['spec.rules: Invalid value: {"host":"a.com"}: must be a list, not object (the API server cannot decode it)']],

  ['an IngressClass', { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'ats' }, spec: { controller: 'ats.ingress.kubernetes.io/controller' } }, []],
  ['an IngressClass controller that is no domain-prefixed path', { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'ats' }, spec: { controller: 'ats' } }, ['spec.controller: Invalid value: "ats": must be a domain-prefixed path (such as "acme.io/foo")']],
  ['an IngressClass without controller', { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'ats' }, spec: {} }, ['spec.controller: Required value']],

  ['a Service', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'ns' }, spec: { ports: [{ name: 'http', port: 80, targetPort: 'http' }, { name: 'https', port: 443, targetPort: 8443 }] } }, []],
  ['a Service name starting with a digit', { apiVersion: 'v1', kind: 'Service', metadata: { name: '1web', namespace: 'ns' }, spec: { ports: [{ port: 80 }] } }, [`metadata.name: Invalid value: "1web": ${DNS1035}`]],
  ['Service ports: unnamed among several, duplicate, out of range, bad protocol', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'ns' }, spec: { ports: [{ port: 80 }, { name: 'a', port: 0 }, { name: 'a', port: 81, protocol: 'HTTP' }] } }, [
    'spec.ports[0].name: Required value',
    'spec.ports[1].port: Invalid value: 0: must be between 1 and 65535, inclusive',
    'spec.ports[2].name: Duplicate value: "a"',
    'spec.ports[2].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
  ]],
  ['an ExternalName Service (with a trailing dot) needs no ports', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ext', namespace: 'ns' }, spec: { type: 'ExternalName', externalName: 'example.com.' } }, []],
  ['an ExternalName Service without its name', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ext', namespace: 'ns' }, spec: { type: 'ExternalName' } }, ['spec.externalName: Required value']],
  ['a Service without ports', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'ns' }, spec: {} }, ['spec.ports: Required value']],

  ['an EndpointSlice on loopback (taken here: the API server refuses it, local runs need it)', { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'web-a', namespace: 'ns' }, addressType: 'IPv4', endpoints: [{ addresses: ['127.0.0.1'] }], ports: [{ name: 'http', port: 8080 }] }, []],
  ['EndpointSlice addresses', { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'web-a', namespace: 'ns' }, addressType: 'IPv4', endpoints: [{ addresses: ['999.0.0.1'] }, { addresses: ['::1'] }, { addresses: [] }] }, [
    'endpoints[0].addresses[0]: Invalid value: "999.0.0.1": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
    'endpoints[1].addresses: Invalid value: "::1": must be an IPv4 address',
    'endpoints[2].addresses: Required value: must contain at least 1 address',
  ]],
  ['an EndpointSlice without addressType', { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'web-a', namespace: 'ns' }, endpoints: [] }, ['addressType: Required value']],

  ['a TLS Secret', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'tls', namespace: 'ns' }, type: 'kubernetes.io/tls', data: { 'tls.crt': 'YQ==', 'tls.key': 'Yg==' } }, []],
  ['a TLS Secret without tls.key', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'tls', namespace: 'ns' }, type: 'kubernetes.io/tls', data: { 'tls.crt': 'YQ==' } }, ['data[tls.key]: Required value']],
  ['Secret data keys', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'ns' }, data: { 'a b': 'YQ==', '..x': 'YQ==' } }, [
    "data[a b]: Invalid value: \"a b\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name' or 'KEY_NAME' or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
    "data[..x]: Invalid value: \"..x\": must not start with '..'",
  ]],
  ['Secret data that is not base64', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'ns' }, data: { k: 'not base64!' } }, ['data[k]: Invalid value: "<secret contents redacted>": is not base64 (the API server cannot decode it)']],
  ['a ConfigMap key in data and binaryData', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'ns' }, data: { k: 'v' }, binaryData: { k: 'YQ==' } }, ['data[k]: Invalid value: "k": duplicate of key present in binaryData']],
  ['a Namespace with labels and the standard finalizer', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'app', labels: { 'gateway-conformance': 'backend' } }, spec: { finalizers: ['kubernetes'] } }, []],
  ['a Namespace name is a DNS label, not a subdomain', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a.b' } }, ['metadata.name: Invalid value: "a.b": must not contain dots']],
  ['a Namespace name in capitals', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'App' } }, [`metadata.name: Invalid value: "App": ${LABEL}`]],
  ['Namespace labels as for every object', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'app', labels: { team: 'a b' } } }, [
    "metadata.labels: Invalid value: \"a b\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue' or 'my_value' or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
  ]],
  ['a Namespace finalizer neither standard nor qualified', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'app' }, spec: { finalizers: ['mine', 'example.com/mine'] } }, ['spec.finalizers[0]: Invalid value: "mine": name is neither a standard finalizer name nor is it fully qualified']],
  ['a Namespace field the schema does not know', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'app' }, spec: { color: 'blue' } }, ['spec.color: unknown field "spec.color"']],
  ['kinds we do not read are not ours to judge', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'Bad_Name' } }, []],
];

describe('validateObject: what the API server would refuse on create', () => {
  for (const [what, obj, want] of cases) {
    test(what, () => assert.deepEqual(validateObject(obj).map(formatFieldError), want));
  }

  test('each error says where it is, for a line number', () => {
    const [e] = validateObject(ing(rules(rule('a.com', p('/', 'Prefix')), rule('B.com', p('/')))));
    assert.deepEqual(e?.at, ['spec', 'rules', 1, 'host']);
    const [a] = validateObject(ing(rules(rule('a.com', p('/'))), { annotations: { 'bad key': 'x' } }));
    assert.deepEqual(a?.at, ['metadata', 'annotations', { key: 'bad key' }]);
    assert.equal(a?.field, 'metadata.annotations');
  });

  test('decoding errors are marked: the API server answers 400 for those, 422 for the rest', () => {
    assert.deepEqual(validateObject(ing({ rules: 'x' })).map((e) => e.decode), [true]);
    assert.deepEqual(validateObject(ing({})).map((e) => e.decode), [false]);
  });
});

describe('quoting values in messages', () => {
  test('JSON escapes and a bound', () => {
    assert.equal(quoted('a"b\nc'), '"a\\"b\\nc"');
    assert.equal(quoted('x'.repeat(205)), `"${'x'.repeat(200)}"…(5 more characters)`);
  });

  test('Go\'s %q, as the API server quotes', () => {
    assert.equal(goQuoted('a\u0000b\n\t"\\é\u0085\u{1F600}'), '"a\\x00b\\n\\t\\"\\\\é\\u0085\u{1F600}"');
  });
});
