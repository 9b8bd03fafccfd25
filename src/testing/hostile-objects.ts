// Hostile and malformed objects, and what must become of each: the one table
// that test/e2e/hostile.test.ts sends through a real API server while traffic
// runs, and that src/sources/hostile.test.ts sends through the manifests
// source and the builder. Both read the same cases, so the API server, the
// manifests source and the builder cannot drift apart unnoticed.
//
// Each case is a list of objects (plain JSON, as `kubectl apply` would send
// it) and an expectation:
//   refused   the API server refuses it (HTTP 400 or 422), naming this field;
//             the manifests source refuses it too;
//   reported  it is accepted; the controller reports a problem on the
//             case's subject naming this field (a Warning Event and a log
//             line), and every other route keeps answering;
//   served    it is accepted and served as written: nothing in it is
//             interpreted (the probes say what reaches the case's backend).

export interface Pem {
  readonly cert: string;
  readonly key: string;
}

export type Json = Record<string, unknown>;

/** What the objects of a case may refer to: namespaces, certificates. */
export interface HostileEnv {
  /** The namespace of the cases, where the Services web, web2 and case exist with ready endpoints. */
  readonly ns: string;
  /** Another namespace (cross-namespace references), with no Services. */
  readonly otherNs: string;
  /** A certificate for HOSTILE_DOMAIN and *.HOSTILE_DOMAIN, one for another name, one expired for the same names. */
  readonly certs: { readonly good: Pem; readonly other: Pem; readonly expired: Pem };
}

export type HostileExpect =
  /** The field the API server names ('' for a decoding error, HTTP 400, which names none). */
  | { readonly refused: string }
  /** The field of the problem on the subject (the Event's message begins with it). */
  | { readonly reported: string }
  | { readonly served: true };

/** A request during the case: `case` means answered by the case's backend (Service `case`); `not-case`, anything else. */
export interface HostileProbe {
  readonly host: string;
  readonly path: string;
  readonly reaches: 'case' | 'not-case';
}

export interface HostileCase {
  /** Short and unique: the object names and hosts are made from it. */
  readonly id: string;
  readonly group: string;
  readonly what: string;
  readonly objects: (env: HostileEnv) => Json[];
  readonly expect: HostileExpect;
  /** Which object the problem is on (index into objects; default the last). */
  readonly subject?: number;
  readonly probes?: readonly HostileProbe[];
  /** Create the objects all at once, as fast as the API server takes them (bounded concurrency). */
  readonly flood?: boolean;
  /**
   * Where the manifests source knowingly differs from the API server, and
   * why. Only 'accepts-loopback': it takes EndpointSlice addresses on
   * loopback, which the API server refuses, because local runs and the demo
   * serve backends there.
   */
  readonly manifests?: 'accepts-loopback';
}

export const HOSTILE_DOMAIN = 'hostile.test';
export const PORT = 8080;
/** The Services of env.ns: `web` and `web2` serve the healthy routes, `case` the cases' own. */
export const SERVICES = ['web', 'web2', 'case'] as const;

const A = 'ats.ingress.kubernetes.io/';

/** The hosts of the healthy routes (HEALTHY_ROUTES). */
export const HEALTHY_HOSTS = { a: `a.${HOSTILE_DOMAIN}`, b: `b.${HOSTILE_DOMAIN}`, wild: `*.w.${HOSTILE_DOMAIN}` } as const;

export function hostOf(id: string): string {
  return `${id}.${HOSTILE_DOMAIN}`;
}

// ---------------------------------------------------------------- builders

type Port = { number: number } | { name: string } | Json;

function backend(service = 'case', port: Port = { number: PORT }): Json {
  return { service: { name: service, port } };
}

/** A path; pathType null for none. */
function path(p: string | undefined, pathType: string | null = 'Prefix', service = 'case', port: Port = { number: PORT }): Json {
  return { ...(p !== undefined ? { path: p } : {}), ...(pathType !== null ? { pathType } : {}), backend: backend(service, port) };
}

function rule(host: string | undefined, ...paths: Json[]): Json {
  return { ...(host !== undefined ? { host } : {}), http: { paths } };
}

interface IngressOptions {
  readonly name?: string;
  readonly namespace?: string;
  readonly annotations?: Record<string, unknown>;
  readonly labels?: Record<string, string>;
  readonly className?: string | null;
  readonly spec?: Json;
}

function ingress(env: HostileEnv, id: string, rules: Json[] | undefined, o: IngressOptions = {}): Json {
  const metadata: Json = { name: o.name ?? `h-${id}`, namespace: o.namespace ?? env.ns };
  if (o.annotations) metadata.annotations = o.annotations;
  if (o.labels) metadata.labels = o.labels;
  const className = o.className === undefined ? 'ats' : o.className;
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata,
    spec: { ...(className !== null ? { ingressClassName: className } : {}), ...(rules ? { rules } : {}), ...o.spec },
  };
}

/** An Ingress for the case's own host, one Prefix "/" path to `case` unless given. */
function simple(env: HostileEnv, id: string, o: IngressOptions & { paths?: Json[] } = {}): Json {
  return ingress(env, id, [rule(hostOf(id), ...(o.paths ?? [path('/')]))], o);
}

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

function secret(env: HostileEnv, name: string, type: string | undefined, data: Record<string, string>, namespace = env.ns): Json {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, ...(type ? { type } : {}), data };
}

function tlsData(pem: Pem): Record<string, string> {
  return { 'tls.crt': b64(pem.cert), 'tls.key': b64(pem.key) };
}

function withTls(env: HostileEnv, id: string, secretName: string, hosts = [hostOf(id)]): Json {
  return simple(env, id, { spec: { tls: [{ hosts, secretName }] } });
}

function service(env: HostileEnv, name: string, spec: Json): Json {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: env.ns }, spec };
}

function endpointSlice(env: HostileEnv, name: string, serviceName: string, addresses: string[]): Json {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: env.ns, labels: { 'kubernetes.io/service-name': serviceName } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: PORT, protocol: 'TCP' }],
    endpoints: addresses.map((a) => ({ addresses: [a], conditions: { ready: true } })),
  };
}

const annotationField = (key: string) => `metadata.annotations['${key}']`;

// ---------------------------------------------------------------- the cases

const cases: HostileCase[] = [];
function add(c: HostileCase): void {
  cases.push(c);
}

// -- hosts

const badHosts: Array<[string, string, string]> = [
  ['host-upper', 'an uppercase host', 'Upper.Hostile.Test'],
  ['host-ipv4', 'an IPv4 address as host', '10.1.2.3'],
  ['host-ipv6', 'an IPv6 address as host', '::1'],
  ['host-port', 'a host with a port', `port.${HOSTILE_DOMAIN}:8080`],
  ['host-dot', 'a host with a trailing dot', `dot.${HOSTILE_DOMAIN}.`],
  ['host-wild-mid', 'a wildcard in the middle', `a.*.${HOSTILE_DOMAIN}`],
  ['host-wild-bare', 'a bare "*" as host', '*'],
  ['host-wild-part', 'a wildcard inside a label', `*foo.${HOSTILE_DOMAIN}`],
  ['host-long', 'a host of 254 characters', `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(50)}.${HOSTILE_DOMAIN}`],
  ['host-huge', 'a host of 100,000 characters', `${'x.'.repeat(50_000)}${HOSTILE_DOMAIN}`.slice(-100_000)],
  ['host-nul', 'a NUL in a host', `nul\u0000.${HOSTILE_DOMAIN}`],
  ['host-newline', 'a newline in a host', `nl.${HOSTILE_DOMAIN}\nHost: evil.test`],
  ['host-meta', 'configuration metacharacters in a host ({ ; $)', `a{b};$c.${HOSTILE_DOMAIN}`],
  ['host-underscore', 'an underscore in a host', `under_score.${HOSTILE_DOMAIN}`],
];
for (const [id, what, host] of badHosts) {
  add({ id, group: 'hosts', what, objects: (env) => [ingress(env, id, [rule(host, path('/'))])], expect: { refused: 'spec.rules[0].host' } });
}
add({
  id: 'host-label64',
  group: 'hosts',
  what: 'a host with a label of 64 characters (the API server checks only the whole length)',
  objects: (env) => [ingress(env, 'host-label64', [rule(`${'l'.repeat(64)}.${HOSTILE_DOMAIN}`, path('/'))])],
  expect: { reported: 'spec.rules[0].host' },
});

// -- paths the API server refuses (Exact and Prefix)

const refusedPaths: Array<[string, string, string, string]> = [
  ['path-relative', 'a relative Prefix path', 'relative', 'Prefix'],
  ['path-exact-empty', 'an empty Exact path', '', 'Exact'],
  ['path-dotdot', 'a ".." segment in a Prefix path', '/a/../admin', 'Prefix'],
  ['path-dslash', '"//" in a Prefix path', '/a//b', 'Prefix'],
  ['path-enc-slash', 'an encoded "/" (%2F) in an Exact path', '/a%2Fb', 'Exact'],
  ['path-dot-end', 'a Prefix path ending in "/."', '/a/.', 'Prefix'],
];
for (const [id, what, p, type] of refusedPaths) {
  add({ id, group: 'paths', what, objects: (env) => [simple(env, id, { paths: [path(p, type)] })], expect: { refused: 'spec.rules[0].http.paths[0].path' } });
}
add({ id: 'path-type-missing', group: 'paths', what: 'no pathType', objects: (env) => [simple(env, 'path-type-missing', { paths: [path('/', null)] })], expect: { refused: 'spec.rules[0].http.paths[0].pathType' } });
add({ id: 'path-type-regex', group: 'paths', what: 'pathType "Regex"', objects: (env) => [simple(env, 'path-type-regex', { paths: [path('/(.*)', 'Regex')] })], expect: { refused: 'spec.rules[0].http.paths[0].pathType' } });

// -- paths the API server takes and no request can match: reported

const unmatchable: Array<[string, string, string, string, string?]> = [
  ['path-is-dotdot', 'a ".." segment in an ImplementationSpecific path', '/a/../admin', 'ImplementationSpecific', '/admin'],
  ['path-enc-dotdot', 'an encoded ".." (%2e%2e) in a Prefix path', '/x/%2e%2e/admin', 'Prefix', '/x/%2e%2e/admin'],
  ['path-is-dot', 'a "." segment in an ImplementationSpecific path', '/a/./b', 'ImplementationSpecific', '/a/./b'],
  ['path-nul', 'a NUL in a Prefix path', '/a\u0000b', 'Prefix'],
  ['path-newline', 'a newline in an Exact path', '/a\nb', 'Exact'],
  ['path-crlf', 'CR LF and a header in a Prefix path', '/a\r\nX-Injected: 1', 'Prefix'],
  ['path-space', 'a space in a Prefix path', '/a b', 'Prefix'],
  ['path-utf8', 'a character outside ASCII in a Prefix path', '/café', 'Prefix', '/caf%C3%A9'],
  ['path-params-dotdot', 'a ".." segment with parameters ("..;", which Tomcat resolves and others do not) in a Prefix path', '/a/..;b/x', 'Prefix', '/a/..;b/x'],
  ['path-semicolon-end', 'an Exact path ending in its first ";" (ATS drops an empty parameter part)', '/a;', 'Exact', '/a;'],
  ['path-query', 'a "?" in an ImplementationSpecific path', '/a?b=1', 'ImplementationSpecific', '/a?b=1'],
  ['path-fragment', 'a "#" in a Prefix path', '/a#top', 'Prefix'],
  ['path-huge', 'a Prefix path of 10,000 characters', `/${'p'.repeat(9_999)}`, 'Prefix'],
];
for (const [id, what, p, type, probe] of unmatchable) {
  add({
    id,
    group: 'paths',
    what,
    objects: (env) => [simple(env, id, { paths: [path(p, type)] })],
    expect: { reported: 'spec.rules[0].http.paths[0].path' },
    ...(probe ? { probes: [{ host: hostOf(id), path: probe, reaches: 'not-case' as const }] } : {}),
  });
}

// -- paths the API server takes and that are served as written: nothing interprets them

const literal: Array<[string, string, string, string, string]> = [
  ['path-brace', 'configuration metacharacters in a path ({ })', '/a{b}', 'Prefix', '/ab'],
  ['path-dollar', 'a "$1" in a path', '/$1', 'Prefix', '/1'],
  ['path-regex', 'a regular expression as an ImplementationSpecific path', '/(.*)', 'ImplementationSpecific', '/anything'],
  ['path-is-dslash', '"//" in an ImplementationSpecific path (the plugin keeps "//")', '/a//b', 'ImplementationSpecific', '/a/b'],
  ['path-is-enc-slash', 'an encoded "/" in an ImplementationSpecific path (the plugin does not decode it)', '/a%2Fb', 'ImplementationSpecific', '/a/b'],
  ['path-semicolon', 'a ";" in a Prefix path (matched as written, parameters included)', '/a;b', 'Prefix', '/a'],
];
for (const [id, what, p, type, other] of literal) {
  add({
    id,
    group: 'paths',
    what,
    objects: (env) => [simple(env, id, { paths: [path(p, type)] })],
    expect: { served: true },
    probes: [
      { host: hostOf(id), path: p, reaches: 'case' },
      { host: hostOf(id), path: other, reaches: 'not-case' },
    ],
  });
}

// -- a path spelt with an encoded unreserved character: normalised, as request paths are (RFC 3986: one URI)

add({
  id: 'path-enc-unreserved',
  group: 'paths',
  what: 'an encoded unreserved character ("%7E" for "~") in a Prefix path: the rule is "/~a", matched by every spelling of it',
  objects: (env) => [simple(env, 'path-enc-unreserved', { paths: [path('/%7Ea', 'Prefix')] })],
  expect: { served: true },
  probes: [
    { host: hostOf('path-enc-unreserved'), path: '/%7Ea', reaches: 'case' },
    { host: hostOf('path-enc-unreserved'), path: '/~a/x', reaches: 'case' },
    { host: hostOf('path-enc-unreserved'), path: '/%7e%61', reaches: 'case' },
    { host: hostOf('path-enc-unreserved'), path: '/%7Eb', reaches: 'not-case' },
  ],
});

// -- metadata and spec the API server refuses

add({ id: 'name-upper', group: 'metadata', what: 'an uppercase name with "_"', objects: (env) => [simple(env, 'name-upper', { name: 'Bad_Name' })], expect: { refused: 'metadata.name' } });
add({ id: 'name-long', group: 'metadata', what: 'a name of 254 characters', objects: (env) => [simple(env, 'name-long', { name: 'n'.repeat(254) })], expect: { refused: 'metadata.name' } });
add({ id: 'label-bad', group: 'metadata', what: 'a label value with a space and a newline', objects: (env) => [simple(env, 'label-bad', { labels: { app: 'a b\nc' } })], expect: { refused: 'metadata.labels' } });
add({ id: 'class-upper', group: 'metadata', what: 'an uppercase ingressClassName', objects: (env) => [simple(env, 'class-upper', { className: 'ATS' })], expect: { refused: 'spec.ingressClassName' } });
add({
  id: 'class-mismatch',
  group: 'metadata',
  what: 'the legacy class annotation contradicting ingressClassName',
  objects: (env) => [simple(env, 'class-mismatch', { annotations: { 'kubernetes.io/ingress.class': 'nginx' } })],
  expect: { refused: 'annotations.kubernetes.io/ingress.class' },
});
add({ id: 'spec-empty', group: 'metadata', what: 'neither rules nor a default backend', objects: (env) => [ingress(env, 'spec-empty', undefined)], expect: { refused: 'spec' } });
add({ id: 'paths-empty', group: 'metadata', what: 'a rule with http and no paths', objects: (env) => [ingress(env, 'paths-empty', [{ host: hostOf('paths-empty'), http: { paths: [] } }])], expect: { refused: 'spec.rules[0].http.paths' } });
add({
  id: 'unknown-field',
  group: 'metadata',
  what: 'a misspelt field ("pathtype"), as kubectl sends it (strict field validation)',
  objects: (env) => [simple(env, 'unknown-field', { paths: [{ path: '/', pathtype: 'Prefix', pathType: 'Prefix', backend: backend() }] })],
  expect: { refused: '' },
});

// -- annotations: every one of ours with a wrong type and an out-of-range value

const annotationValues: Array<[string, string, string]> = [
  ['backend-protocol', '443', 'GRPC'],
  ['connect-timeout', '5s; rm -rf /', '25h'],
  ['response-timeout', '$(cat /etc/passwd)', '0s'],
  ['ssl-redirect', '1', 'True'],
  ['cache', 'true', 'forever'],
  ['upstream-vhost', 'a.test\r\nX-Injected: 1', `${'v'.repeat(64)}.${HOSTILE_DOMAIN}`],
  ['auth-tls-secret', '{{ .Values.ca }}', 'e2e-hostile-other/ca'],
  ['auth-tls-verify-client', 'true', 'require'],
  ['auth-tls-verify-depth', 'deep', '11'],
  ['tls-min-version', '1.2', 'TLSv1.0'],
  ['cache-default-ttl', '60', '8761h'],
  ['cache-max-ttl', 'forever', '0s'],
  ['cache-ignore-query', 'yes', 'False'],
  ['cache-serve-stale', '${STALE}', '1500ms'],
  ['cache-generation', '-1', '2147483648'],
];
for (const [name, wrongType, outOfRange] of annotationValues) {
  for (const [kind, value] of [['type', wrongType], ['range', outOfRange]] as const) {
    const id = `ann-${name}-${kind}`;
    add({
      id,
      group: 'annotations',
      what: `${name}: ${kind === 'type' ? 'a wrong type' : 'out of range'} (${JSON.stringify(value)})`,
      objects: (env) => [simple(env, id, { annotations: { [`${A}${name}`]: value } })],
      expect: { reported: annotationField(`${A}${name}`) },
    });
  }
}
add({ id: 'ann-unknown', group: 'annotations', what: 'an unknown annotation under our prefix', objects: (env) => [simple(env, 'ann-unknown', { annotations: { [`${A}rewrite-target`]: '/$1' } })], expect: { reported: annotationField(`${A}rewrite-target`) } });
add({
  id: 'ann-many',
  group: 'annotations',
  what: '2,000 unknown annotations under our prefix (reported ten by ten, not as 2,000 Events)',
  objects: (env) => [simple(env, 'ann-many', { annotations: Object.fromEntries(Array.from({ length: 2_000 }, (_, i) => [`${A}x-${String(i).padStart(4, '0')}`, 'v'])) })],
  expect: { reported: annotationField(`${A}x-0000`) },
});
for (const [id, key, value] of [
  ['nginx-config', 'nginx.ingress.kubernetes.io/configuration-snippet', 'more_set_headers "X-Evil: 1";\nlocation / { proxy_pass http://169.254.169.254; }'],
  ['nginx-server', 'nginx.ingress.kubernetes.io/server-snippet', 'location /admin { allow all; }'],
  ['nginx-auth', 'nginx.ingress.kubernetes.io/auth-snippet', 'return 200;'],
  ['nginx-allow', 'nginx.ingress.kubernetes.io/whitelist-source-range', '10.0.0.0/8'],
] as const) {
  add({ id, group: 'annotations', what: `ingress-nginx's ${key.split('/')[1]}`, objects: (env) => [simple(env, id, { annotations: { [key]: value } })], expect: { reported: annotationField(key) } });
}
add({ id: 'ann-key-meta', group: 'annotations', what: 'an annotation key with ";" and a space', objects: (env) => [simple(env, 'ann-key-meta', { annotations: { [`${A}cache; rm`]: 'bypass' } })], expect: { refused: 'metadata.annotations' } });
add({ id: 'ann-number', group: 'annotations', what: 'an annotation value that is a number, not a string', objects: (env) => [simple(env, 'ann-number', { annotations: { [`${A}cache-generation`]: 5 } })], expect: { refused: '' } });
add({ id: 'ann-1mib', group: 'annotations', what: '1 MiB of annotations (the limit is 256 KiB in all)', objects: (env) => [simple(env, 'ann-1mib', { annotations: { 'example.com/blob': 'x'.repeat(1024 * 1024) } })], expect: { refused: 'metadata.annotations' } });
add({
  id: 'ann-200kib',
  group: 'annotations',
  what: 'one of our annotations of 200 KiB (under the limit; the report quotes 200 characters of it)',
  objects: (env) => [simple(env, 'ann-200kib', { annotations: { [`${A}upstream-vhost`]: `${'v'.repeat(200 * 1024)}.test` } })],
  expect: { reported: annotationField(`${A}upstream-vhost`) },
});

// -- backends

add({ id: 'svc-missing', group: 'backends', what: 'a Service that does not exist', objects: (env) => [simple(env, 'svc-missing', { paths: [path('/', 'Prefix', 'nothing-here')] })], expect: { reported: 'spec.rules[0].http.paths[0].backend.service.name' }, probes: [{ host: hostOf('svc-missing'), path: '/', reaches: 'not-case' }] });
add({ id: 'port-missing', group: 'backends', what: 'a port number the Service does not have', objects: (env) => [simple(env, 'port-missing', { paths: [path('/', 'Prefix', 'case', { number: 9999 })] })], expect: { reported: 'spec.rules[0].http.paths[0].backend.service.port.number' }, probes: [{ host: hostOf('port-missing'), path: '/', reaches: 'not-case' }] });
add({ id: 'port-name-missing', group: 'backends', what: 'a named port that does not exist', objects: (env) => [simple(env, 'port-name-missing', { paths: [path('/', 'Prefix', 'case', { name: 'nope' })] })], expect: { reported: 'spec.rules[0].http.paths[0].backend.service.port.name' } });
add({
  id: 'externalname',
  group: 'backends',
  what: 'an ExternalName Service pointing at localhost',
  objects: (env) => [service(env, 'h-ext', { type: 'ExternalName', externalName: 'localhost' }), simple(env, 'externalname', { paths: [path('/', 'Prefix', 'h-ext')] })],
  expect: { reported: 'spec.rules[0].http.paths[0].backend.service.name' },
  probes: [{ host: hostOf('externalname'), path: '/', reaches: 'not-case' }],
});
add({
  id: 'resource-backend',
  group: 'backends',
  what: 'a resource backend instead of a Service',
  objects: (env) => [simple(env, 'resource-backend', { paths: [{ path: '/', pathType: 'Prefix', backend: { resource: { apiGroup: 'example.com', kind: 'Bucket', name: 'static' } } }] })],
  expect: { reported: 'spec.rules[0].http.paths[0].backend.resource' },
});
add({ id: 'svc-upper', group: 'backends', what: 'an uppercase Service name', objects: (env) => [simple(env, 'svc-upper', { paths: [path('/', 'Prefix', 'Case')] })], expect: { refused: 'spec.rules[0].http.paths[0].backend.service.name' } });
add({ id: 'port-both', group: 'backends', what: 'a port name and a port number', objects: (env) => [simple(env, 'port-both', { paths: [path('/', 'Prefix', 'case', { name: 'http', number: PORT })] })], expect: { refused: 'spec.rules[0].http.paths[0].backend' } });
add({ id: 'port-none', group: 'backends', what: 'no port', objects: (env) => [simple(env, 'port-none', { paths: [path('/', 'Prefix', 'case', {})] })], expect: { refused: 'spec.rules[0].http.paths[0].backend' } });
add({ id: 'port-range', group: 'backends', what: 'port number 70000', objects: (env) => [simple(env, 'port-range', { paths: [path('/', 'Prefix', 'case', { number: 70_000 })] })], expect: { refused: 'spec.rules[0].http.paths[0].backend.service.port.number' } });
add({ id: 'port-name-bad', group: 'backends', what: 'a port name that is no IANA name ("HTTP_PORT")', objects: (env) => [simple(env, 'port-name-bad', { paths: [path('/', 'Prefix', 'case', { name: 'HTTP_PORT' })] })], expect: { refused: 'spec.rules[0].http.paths[0].backend.service.port.name' } });
add({
  id: 'slice-loopback',
  group: 'backends',
  what: 'an EndpointSlice sending a Service to 127.0.0.1 (the proxy\'s own loopback)',
  objects: (env) => [endpointSlice(env, 'h-slice-loopback', 'case', ['127.0.0.1'])],
  expect: { refused: 'endpoints[0].addresses[0]' },
  manifests: 'accepts-loopback',
});
add({ id: 'slice-bad-ip', group: 'backends', what: 'an EndpointSlice address that is no IP address', objects: (env) => [endpointSlice(env, 'h-slice-bad-ip', 'case', ['999.0.0.1'])], expect: { refused: 'endpoints[0].addresses[0]' } });
add({
  id: 'cross-ns-svc',
  group: 'backends',
  what: 'a Service of the same name in another namespace only (references never leave the namespace)',
  objects: (env) => [simple(env, 'cross-ns-svc', { namespace: env.otherNs, paths: [path('/', 'Prefix', 'case')] })],
  expect: { reported: 'spec.rules[0].http.paths[0].backend.service.name' },
  probes: [{ host: hostOf('cross-ns-svc'), path: '/', reaches: 'not-case' }],
});

// -- TLS

add({
  id: 'tls-opaque',
  group: 'tls',
  what: 'a Secret of type Opaque named in spec.tls',
  objects: (env) => [secret(env, 'h-tls-opaque', 'Opaque', tlsData(env.certs.good)), withTls(env, 'tls-opaque', 'h-tls-opaque')],
  expect: { reported: 'spec.tls[0].secretName' },
});
add({
  id: 'tls-mismatch',
  group: 'tls',
  what: 'a tls.key that does not match the certificate',
  objects: (env) => [secret(env, 'h-tls-mismatch', 'kubernetes.io/tls', { 'tls.crt': b64(env.certs.good.cert), 'tls.key': b64(env.certs.other.key) }), withTls(env, 'tls-mismatch', 'h-tls-mismatch')],
  expect: { reported: 'spec.tls[0].secretName' },
});
add({
  id: 'tls-expired',
  group: 'tls',
  what: 'an expired certificate (served, with a Warning)',
  objects: (env) => [secret(env, 'h-tls-expired', 'kubernetes.io/tls', tlsData(env.certs.expired)), withTls(env, 'tls-expired', 'h-tls-expired')],
  expect: { reported: 'spec.tls[0].secretName' },
});
add({
  id: 'tls-other-host',
  group: 'tls',
  what: 'a certificate for another host',
  objects: (env) => [secret(env, 'h-tls-other-host', 'kubernetes.io/tls', tlsData(env.certs.other)), withTls(env, 'tls-other-host', 'h-tls-other-host')],
  expect: { reported: 'spec.tls[0].hosts[0]' },
});
add({ id: 'tls-no-key', group: 'tls', what: 'a kubernetes.io/tls Secret without tls.key', objects: (env) => [secret(env, 'h-tls-no-key', 'kubernetes.io/tls', { 'tls.crt': b64(env.certs.good.cert) })], expect: { refused: 'data[tls.key]' } });
add({ id: 'tls-not-b64', group: 'tls', what: 'Secret data that is not base64', objects: (env) => [secret(env, 'h-tls-not-b64', 'kubernetes.io/tls', { 'tls.crt': '%%% not base64 %%%', 'tls.key': b64(env.certs.good.key) })], expect: { refused: '' } });
add({ id: 'tls-bad-host', group: 'tls', what: 'a TLS host "*.*.hostile.test"', objects: (env) => [withTls(env, 'tls-bad-host', 'h-any', [`*.*.${HOSTILE_DOMAIN}`])], expect: { refused: 'spec.tls[0].hosts[0]' } });
add({ id: 'tls-cross-ns', group: 'tls', what: 'a secretName in another namespace ("ns/name")', objects: (env) => [withTls(env, 'tls-cross-ns', `${env.otherNs}/h-tls`)], expect: { refused: 'spec.tls[0].secretName' } });
add({
  id: 'tls-ca-cross-ns',
  group: 'tls',
  what: 'an auth-tls-secret in another namespace',
  objects: (env) => [secret(env, 'ca', 'kubernetes.io/tls', tlsData(env.certs.good), env.otherNs), simple(env, 'tls-ca-cross-ns', { annotations: { [`${A}auth-tls-secret`]: `${env.otherNs}/ca` } })],
  expect: { reported: annotationField(`${A}auth-tls-secret`) },
});

// -- duplicates and conflicts

add({
  id: 'conflict-healthy',
  group: 'conflicts',
  what: 'a newer Ingress taking the host and path of a healthy route',
  objects: (env) => [ingress(env, 'conflict-healthy', [rule(HEALTHY_HOSTS.a, path('/', 'Prefix', 'case'))])],
  expect: { reported: 'spec.rules[0].http.paths[0]' },
  probes: [{ host: HEALTHY_HOSTS.a, path: '/', reaches: 'not-case' }],
});
add({
  id: 'conflict-other-ns',
  group: 'conflicts',
  what: 'the same, from another namespace',
  objects: (env) => [ingress(env, 'conflict-other-ns', [rule(HEALTHY_HOSTS.b, path('/api', 'Prefix', 'case'))], { namespace: env.otherNs })],
  expect: { reported: 'spec.rules[0].http.paths[0]' },
  probes: [{ host: HEALTHY_HOSTS.b, path: '/api/x', reaches: 'not-case' }],
});
add({
  id: 'dup-path',
  group: 'conflicts',
  what: 'the same path twice in one Ingress, to two Services',
  objects: (env) => [simple(env, 'dup-path', { paths: [path('/x', 'Prefix', 'case'), path('/x', 'Prefix', 'web')] })],
  expect: { reported: 'spec.rules[0].http.paths[1]' },
  probes: [{ host: hostOf('dup-path'), path: '/x', reaches: 'case' }],
});
add({
  id: 'dup-types',
  group: 'conflicts',
  what: 'Prefix and ImplementationSpecific for one path (both match as Prefix)',
  objects: (env) => [simple(env, 'dup-types', { paths: [path('/x', 'Prefix', 'case'), path('/x/', 'ImplementationSpecific', 'web')] })],
  expect: { reported: 'spec.rules[0].http.paths[1]' },
  probes: [{ host: hostOf('dup-types'), path: '/x/y', reaches: 'case' }],
});
add({
  id: 'catch-all',
  group: 'conflicts',
  what: 'a rule without host (the catch-all): hosts that have rules keep them',
  objects: (env) => [ingress(env, 'catch-all', [rule(undefined, path('/', 'Prefix', 'case'))])],
  expect: { served: true },
  probes: [
    { host: `nobody.${HOSTILE_DOMAIN}`, path: '/', reaches: 'case' },
    { host: HEALTHY_HOSTS.a, path: '/', reaches: 'not-case' },
  ],
});

// -- size

add({
  id: 'paths-10k',
  group: 'size',
  what: 'an Ingress of 10,000 paths',
  objects: (env) => [simple(env, 'paths-10k', { paths: Array.from({ length: 10_000 }, (_, i) => path(`/p${String(i).padStart(5, '0')}`)) })],
  expect: { served: true },
  probes: [
    { host: hostOf('paths-10k'), path: '/p09999/x', reaches: 'case' },
    { host: hostOf('paths-10k'), path: '/p00000', reaches: 'case' },
    { host: hostOf('paths-10k'), path: '/p10000', reaches: 'not-case' },
  ],
});
export const FLOOD = 1_000;
export const FLOOD_LABEL = 'hostile.test/flood';
add({
  id: 'flood',
  group: 'size',
  what: `${FLOOD.toLocaleString('en')} Ingresses at once`,
  objects: (env) => Array.from({ length: FLOOD }, (_, i) => {
    const id = `f${String(i).padStart(4, '0')}`;
    return ingress(env, id, [rule(`${id}.flood.${HOSTILE_DOMAIN}`, path('/'))], { name: `flood-${id}`, labels: { [FLOOD_LABEL]: 'yes' } });
  }),
  expect: { served: true },
  flood: true,
  probes: [
    { host: `f${String(FLOOD - 1).padStart(4, '0')}.flood.${HOSTILE_DOMAIN}`, path: '/', reaches: 'case' },
    { host: `f0000.flood.${HOSTILE_DOMAIN}`, path: '/', reaches: 'case' },
  ],
});

// ---------------------------------------------------------------- the healthy routes every case runs beside

/** The routes that must answer 200, from these Services, whatever the cases do. */
export const HEALTHY_ROUTES: ReadonlyArray<{ readonly host: string; readonly path: string; readonly service: string }> = [
  { host: HEALTHY_HOSTS.a, path: '/', service: 'web' },
  { host: HEALTHY_HOSTS.b, path: '/api/x', service: 'web2' },
  { host: HEALTHY_HOSTS.b, path: '/exact', service: 'web' },
  { host: `x.w.${HOSTILE_DOMAIN}`, path: '/', service: 'web2' },
];

export function healthyIngresses(env: HostileEnv): Json[] {
  return [
    ingress(env, 'healthy-a', [rule(HEALTHY_HOSTS.a, path('/', 'Prefix', 'web'))], { name: 'healthy-a' }),
    ingress(env, 'healthy-b', [rule(HEALTHY_HOSTS.b, path('/api', 'Prefix', 'web2'), path('/exact', 'Exact', 'web'))], { name: 'healthy-b' }),
    ingress(env, 'healthy-wild', [rule(HEALTHY_HOSTS.wild, path('/', 'Prefix', 'web2'))], { name: 'healthy-wild' }),
  ];
}

export const HOSTILE_CASES: readonly HostileCase[] = cases;

/** The object the case's problem is on. */
export function subjectOf(c: HostileCase, objects: readonly Json[]): Json {
  const o = objects[c.subject ?? objects.length - 1];
  if (!o) throw new Error(`case ${c.id}: no subject`);
  return o;
}
