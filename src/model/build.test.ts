import { encodeModel } from '../route-table/encode-model.js';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { build, buildContext } from './build.js';
import type { BuildConfig } from '../config/config.js';
import { buildConfig } from '../config/config.js';
import type { ObjectLike, View } from '../testing/fixtures.js';
import {
  app,
  base64,
  exact,
  implementationSpecific,
  ingress,
  ingressClass,
  path,
  prefix,
  service,
  serviceRef,
  slice,
  problemLine,
  snapshotFrom,
  tlsSecret,
  view,
} from '../testing/fixtures.js';
import { CA_CERT, CLIENT_CERT, EXPIRED_CERT, EXPIRED_KEY, FIXTURE_CERT, FIXTURE_KEY, OTHER_CERT, OTHER_KEY } from '../testing/fixture-certs.js';
import { X509Certificate } from 'node:crypto';

interface Case {
  readonly name: string;
  readonly objects: readonly ObjectLike[];
  readonly config?: Partial<BuildConfig>;
  /** When the build happens (certificates are checked against it); default NOW. */
  readonly now?: number;
  /** routes and problems are always checked (absent: none); the rest when given. */
  readonly want: Partial<View>;
}

function check(c: Case): void {
  const result = build(snapshotFrom(c.objects), buildConfig(c.config), buildContext(c.now ?? NOW));
  // Whatever the objects, the table must be one the writer accepts: a table
  // refused whole would take every route down with it.
  assert.doesNotThrow(() => encodeModel(result.model.table), 'the table passes the addon\'s checks');
  const got = view(result);
  const picked: Partial<View> = { routes: got.routes, problems: got.problems };
  for (const key of ['backends', 'tls', 'served'] as const) {
    if (c.want[key] !== undefined) Object.assign(picked, { [key]: got[key] });
  }
  assert.deepEqual(picked, { routes: [], problems: [], ...c.want });
}

/** A fixed time for every build: the fixture certificates are valid then. */
const NOW = Date.parse('2030-01-01T00:00:00Z');

function run(cases: readonly Case[]): void {
  for (const c of cases) test(c.name, () => check(c));
}

const ours = ingressClass('ats');
/** An Ingress of our class. */
const ing = (key: string) => ingress(key).className('ats');
const svcA = app('ns/a', 80, 8080, '10.0.0.1');
const KNOWN_ANNOTATIONS = 'ats.ingress.kubernetes.io/auth-tls-secret, ats.ingress.kubernetes.io/auth-tls-verify-client, ats.ingress.kubernetes.io/auth-tls-verify-depth, ats.ingress.kubernetes.io/backend-protocol, ats.ingress.kubernetes.io/cache, ats.ingress.kubernetes.io/cache-default-ttl, ats.ingress.kubernetes.io/cache-generation, ats.ingress.kubernetes.io/cache-ignore-query, ats.ingress.kubernetes.io/cache-max-ttl, ats.ingress.kubernetes.io/cache-serve-stale, ats.ingress.kubernetes.io/connect-timeout, ats.ingress.kubernetes.io/response-timeout, ats.ingress.kubernetes.io/ssl-redirect, ats.ingress.kubernetes.io/tls-min-version, ats.ingress.kubernetes.io/upstream-vhost';

describe('ingress class selection', () => {
  run([
    {
      name: 'claims an Ingress whose ingressClassName names an IngressClass with our controller',
      objects: [ours, ing('ns/web').rule('a.com', prefix('/', 'a', 80)), ...svcA],
      want: { routes: ['a.com / Prefix -> ns/a:80 (ns/web)'], served: ['ns/web'] },
    },
    {
      name: 'leaves an Ingress of a class with another controller',
      objects: [ours, ingressClass('nginx').controller('k8s.io/ingress-nginx'), ingress('ns/web').className('nginx').rule('a.com', prefix('/', 'a', 80)), ...svcA],
      want: { routes: [], served: [] },
    },
    {
      name: 'leaves an Ingress whose ingressClassName names no IngressClass, even our class name',
      objects: [ingress('ns/web').className('ats').rule('a.com', prefix('/', 'a', 80)), ...svcA],
      want: { routes: [] },
    },
    {
      name: 'claims the legacy annotation naming config.ingressClassName',
      objects: [ingress('ns/web').legacyClass('ats').rule('a.com', prefix('/', 'a', 80)), ...svcA],
      want: { routes: ['a.com / Prefix -> ns/a:80 (ns/web)'] },
    },
    {
      name: 'claims the legacy annotation naming one of our IngressClasses',
      objects: [ingressClass('edge'), ingress('ns/web').legacyClass('edge').rule('a.com', prefix('/', 'a', 80)), ...svcA],
      want: { routes: ['a.com / Prefix -> ns/a:80 (ns/web)'] },
    },
    {
      name: 'leaves the legacy annotation naming another class',
      objects: [ours, ingress('ns/web').legacyClass('nginx').rule('a.com', prefix('/', 'a', 80)), ...svcA],
      want: { routes: [] },
    },
    {
      name: 'config.ingressClassName changes the legacy name we answer to',
      objects: [ingress('ns/web').legacyClass('edge').rule('a.com', prefix('/', 'a', 80)), ingress('ns/old').legacyClass('ats').rule('b.com', prefix('/', 'a', 80)), ...svcA],
      config: { ingressClassName: 'edge' },
      want: { routes: ['a.com / Prefix -> ns/a:80 (ns/web)'] },
    },
    {
      name: 'spec.ingressClassName wins over the legacy annotation',
      objects: [ours, ingressClass('nginx').controller('k8s.io/ingress-nginx'), ingress('ns/web').className('nginx').legacyClass('ats').rule('a.com', prefix('/', 'a', 80)), ...svcA],
      want: { routes: [] },
    },
    {
      name: 'claims an Ingress with no class when our IngressClass is the default',
      objects: [ingressClass('ats').isDefault(), ingress('ns/web').rule('a.com', prefix('/', 'a', 80)), ...svcA],
      want: { routes: ['a.com / Prefix -> ns/a:80 (ns/web)'] },
    },
    {
      name: 'never claims everything by default: no class and our class is not the default',
      objects: [ours, ingress('ns/web').rule('a.com', prefix('/', 'a', 80)), ...svcA],
      want: { routes: [] },
    },
    {
      name: 'leaves an Ingress with no class when the default class is another controller\'s',
      objects: [ours, ingressClass('nginx').controller('k8s.io/ingress-nginx').isDefault(), ingress('ns/web').rule('a.com', prefix('/', 'a', 80)), ...svcA],
      want: { routes: [] },
    },
    {
      name: 'is-default-class must be "true"',
      objects: [ingressClass('ats').isDefault('yes'), ingress('ns/web').rule('a.com', prefix('/', 'a', 80)), ...svcA],
      want: { routes: [] },
    },
    {
      name: 'a configured controller name',
      objects: [ingressClass('ats'), ingressClass('mine').controller('example.com/ats'), ingress('ns/web').className('mine').rule('a.com', prefix('/', 'a', 80)), ingress('ns/other').className('ats').rule('b.com', prefix('/', 'a', 80)), ...svcA],
      config: { controllerName: 'example.com/ats' },
      want: { routes: ['a.com / Prefix -> ns/a:80 (ns/web)'] },
    },
    {
      name: 'watched namespaces: Ingresses of other namespaces are left alone',
      objects: [ours, ing('ns/web').rule('a.com', prefix('/', 'a', 80)), ing('other/web').rule('b.com', prefix('/', 'a', 80)), ...svcA],
      config: { watchNamespaces: ['ns'] },
      want: { routes: ['a.com / Prefix -> ns/a:80 (ns/web)'], served: ['ns/web'] },
    },
  ]);
});

describe('annotations', () => {
  run([
    {
      name: 'valid annotations become backend options',
      objects: [
        ours,
        ing('ns/web')
          .ats('backend-protocol', 'HTTPS')
          .ats('connect-timeout', '5s')
          .ats('response-timeout', '1m30s')
          .ats('cache', 'bypass')
          .ats('upstream-vhost', 'Internal.Example.com')
          .rule('a.com', prefix('/', 'a', 80)),
        ...svcA,
      ],
      want: {
        routes: ['a.com / Prefix -> ns/a:80 https connectTimeoutMs=5000 responseTimeoutMs=90000 cache=bypass upstreamHost=internal.example.com (ns/web)'],
      },
    },
    {
      name: 'milliseconds, and the defaults left out: cache "default", ssl-redirect "false"',
      objects: [ours, ing('ns/web').ats('connect-timeout', '500ms').ats('cache', 'default').ats('ssl-redirect', 'false').rule('a.com', prefix('/', 'a', 80)), ...svcA],
      want: { routes: ['a.com / Prefix -> ns/a:80 connectTimeoutMs=500 (ns/web)'] },
    },
    {
      name: 'each invalid value is a problem naming the annotation, and the routes build with the defaults',
      objects: [
        ours,
        ing('ns/web')
          .ats('backend-protocol', 'GRPC')
          .ats('connect-timeout', '5')
          .ats('response-timeout', '0s')
          .ats('ssl-redirect', 'yes')
          .ats('cache', 'never')
          .ats('upstream-vhost', 'not a host')
          .ats('server-snippet', 'ts.debug()')
          .rule('a.com', prefix('/', 'a', 80)),
        ...svcA,
      ],
      want: {
        routes: ['a.com / Prefix -> ns/a:80 (ns/web)'],
        problems: [
          `Warning Ingress ns/web metadata.annotations['ats.ingress.kubernetes.io/backend-protocol']: "GRPC" is not HTTP or HTTPS; the Service port's appProtocol decides`,
          `Warning Ingress ns/web metadata.annotations['ats.ingress.kubernetes.io/cache']: "never" is not "default" or "bypass"; the default cache policy is used`,
          `Warning Ingress ns/web metadata.annotations['ats.ingress.kubernetes.io/connect-timeout']: "5" is not a duration such as 5s, 500ms or 1m30s; ATS's default timeout is used`,
          `Warning Ingress ns/web metadata.annotations['ats.ingress.kubernetes.io/response-timeout']: "0s" must be longer than 0; ATS's default timeout is used`,
          `Warning Ingress ns/web metadata.annotations['ats.ingress.kubernetes.io/server-snippet']: unknown annotation; ours are ats.ingress.kubernetes.io/auth-tls-secret, ats.ingress.kubernetes.io/auth-tls-verify-client, ats.ingress.kubernetes.io/auth-tls-verify-depth, ats.ingress.kubernetes.io/backend-protocol, ats.ingress.kubernetes.io/cache, ats.ingress.kubernetes.io/cache-default-ttl, ats.ingress.kubernetes.io/cache-generation, ats.ingress.kubernetes.io/cache-ignore-query, ats.ingress.kubernetes.io/cache-max-ttl, ats.ingress.kubernetes.io/cache-serve-stale, ats.ingress.kubernetes.io/connect-timeout, ats.ingress.kubernetes.io/response-timeout, ats.ingress.kubernetes.io/ssl-redirect, ats.ingress.kubernetes.io/tls-min-version, ats.ingress.kubernetes.io/upstream-vhost`,
          `Warning Ingress ns/web metadata.annotations['ats.ingress.kubernetes.io/ssl-redirect']: "yes" is not "true" or "false"; no redirect`,
          `Warning Ingress ns/web metadata.annotations['ats.ingress.kubernetes.io/upstream-vhost']: "not a host" is not a DNS name (lowercase letters, digits, "-" and ".", each label 1 to 63 characters starting and ending with a letter or digit); the client's Host header is sent`,
        ],
      },
    },
    {
      name: 'one invalid annotation leaves the valid ones in force',
      objects: [ours, ing('ns/web').ats('connect-timeout', 'soon').ats('cache', 'bypass').rule('a.com', prefix('/', 'a', 80)), ...svcA],
      want: {
        routes: ['a.com / Prefix -> ns/a:80 cache=bypass (ns/web)'],
        problems: [`Warning Ingress ns/web metadata.annotations['ats.ingress.kubernetes.io/connect-timeout']: "soon" is not a duration such as 5s, 500ms or 1m30s; ATS's default timeout is used`],
      },
    },
    {
      name: 'other prefixes are not ours to judge',
      objects: [ours, ing('ns/web').annotation('example.com/owner', 'team-a').annotation('kubectl.kubernetes.io/restartedAt', 'x').rule('a.com', prefix('/', 'a', 80)), ...svcA],
      want: { routes: ['a.com / Prefix -> ns/a:80 (ns/web)'] },
    },
    {
      name: 'ingress-nginx annotations are reported as having no effect, snippets as never run; the Ingress still serves',
      objects: [
        ours,
        ing('ns/web')
          .annotation('nginx.ingress.kubernetes.io/rewrite-target', '/')
          .annotation('nginx.ingress.kubernetes.io/configuration-snippet', 'more_set_headers "X: $host";')
          .rule('a.com', prefix('/', 'a', 80)),
        ...svcA,
      ],
      want: {
        routes: ['a.com / Prefix -> ns/a:80 (ns/web)'],
        problems: [
          "Warning Ingress ns/web metadata.annotations['nginx.ingress.kubernetes.io/configuration-snippet']: an ingress-nginx configuration snippet: ats-ingress never takes configuration or code from an annotation, so it is ignored",
          "Warning Ingress ns/web metadata.annotations['nginx.ingress.kubernetes.io/rewrite-target']: an ingress-nginx annotation, which ats-ingress does not read (ours are under ats.ingress.kubernetes.io/); it has no effect here",
        ],
      },
    },
    {
      name: 'thousands of unknown annotations under our prefix: ten reported one by one, the rest in one problem',
      objects: [
        ours,
        Array.from({ length: 2_000 }, (_, i) => i).reduce((b, i) => b.ats(`x-${String(i).padStart(4, '0')}`, 'v'), ing('ns/web')).rule('a.com', prefix('/', 'a', 80)),
        ...svcA,
      ],
      want: {
        routes: ['a.com / Prefix -> ns/a:80 (ns/web)'],
        problems: [
          ...Array.from({ length: 10 }, (_, i) => `Warning Ingress ns/web metadata.annotations['ats.ingress.kubernetes.io/x-000${i}']: unknown annotation; ours are ${KNOWN_ANNOTATIONS}`),
          "Warning Ingress ns/web metadata.annotations['ats.ingress.kubernetes.io/x-0010']: and 1990 more unknown annotations under ats.ingress.kubernetes.io/ (\"ats.ingress.kubernetes.io/x-0010\" and after), not reported one by one",
        ],
      },
    },
    {
      name: 'options are per Ingress: the same Service from two Ingresses gives two backends',
      objects: [ours, ing('ns/web').ats('cache', 'bypass').rule('a.com', prefix('/', 'a', 80)), ing('ns/api').rule('b.com', prefix('/', 'a', 80)), ...svcA],
      want: {
        routes: ['a.com / Prefix -> ns/a:80 cache=bypass (ns/web)', 'b.com / Prefix -> ns/a:80 (ns/api)'],
        // Numbered by Ingress, oldest first (of the same age, by name).
        backends: ['ns/a:80 -> 10.0.0.1:8080', 'ns/a:80 cache=bypass -> 10.0.0.1:8080'],
      },
    },
    {
      name: 'backends are per Ingress even with the same options: requests are counted per Ingress',
      objects: [ours, ing('ns/web').rule('a.com', prefix('/', 'a', 80)), ing('ns/api').rule('b.com', prefix('/', 'a', 80)), ...svcA],
      want: {
        routes: ['a.com / Prefix -> ns/a:80 (ns/web)', 'b.com / Prefix -> ns/a:80 (ns/api)'],
        backends: ['ns/a:80 -> 10.0.0.1:8080', 'ns/a:80 -> 10.0.0.1:8080'],
      },
    },
    {
      name: 'ssl-redirect: only for the hosts that have a certificate, and only when the annotation says so',
      objects: [
        ours,
        tlsSecret('ns/a-cert'),
        ing('ns/web').ats('ssl-redirect', 'true').tls('a-cert', 'a.com').rule('a.com', prefix('/', 'a', 80)).rule('plain.com', prefix('/', 'a', 80)),
        ing('ns/api').tls('a-cert', 'b.com').rule('b.com', prefix('/', 'a', 80)),
        ...svcA,
      ],
      want: {
        routes: [
          'a.com / Prefix -> ns/a:80 redirectToHttps (ns/web)',
          'b.com / Prefix -> ns/a:80 (ns/api)',
          'plain.com / Prefix -> ns/a:80 (ns/web)',
        ],
        tls: ['a.com: ns/a-cert', 'b.com: ns/a-cert'],
      },
    },
    {
      name: 'ssl-redirect: a wildcard certificate covers one extra label',
      objects: [
        ours,
        tlsSecret('ns/wild'),
        ing('ns/web').ats('ssl-redirect', 'true').tls('wild', '*.a.com').rule('x.a.com', prefix('/', 'a', 80)).rule('x.y.a.com', prefix('/', 'a', 80)).rule('*.a.com', prefix('/', 'a', 80)),
        ...svcA,
      ],
      want: {
        routes: [
          '*.a.com / Prefix -> ns/a:80 redirectToHttps (ns/web)',
          'x.a.com / Prefix -> ns/a:80 redirectToHttps (ns/web)',
          'x.y.a.com / Prefix -> ns/a:80 (ns/web)',
        ],
        tls: ['*.a.com: ns/wild'],
      },
    },
    {
      name: 'backend-protocol HTTP wins over the Service port\'s appProtocol',
      objects: [ours, ing('ns/web').ats('backend-protocol', 'http').rule('a.com', prefix('/', 'a', 443)), service('ns/a').port('https', 443, 8443, { appProtocol: 'https' })],
      want: { routes: ['a.com / Prefix -> ns/a:443 (ns/web)'] },
    },
  ]);
});

describe('services and endpoints', () => {
  run([
    {
      name: 'Service port by number and by name; targetPort through the slice port of the same name',
      objects: [
        ours,
        ing('ns/web').rule('a.com', prefix('/num', 'a', 80), prefix('/name', 'a', 'http'), prefix('/admin', 'a', 'admin')),
        service('ns/a').port('http', 80, 'web').port('admin', 9000, 9090),
        slice('ns/a').port('http', 8080).port('admin', 9090).ready('10.0.0.1'),
      ],
      want: {
        routes: [
          'a.com /admin Prefix -> ns/a:admin (ns/web)',
          'a.com /name Prefix -> ns/a:http (ns/web)',
          'a.com /num Prefix -> ns/a:80 (ns/web)',
        ],
        // Numbered in the order the sorted rules first name them.
        backends: ['ns/a:admin -> 10.0.0.1:9090', 'ns/a:http -> 10.0.0.1:8080', 'ns/a:80 -> 10.0.0.1:8080'],
      },
    },
    {
      name: 'an unnamed Service port matches the unnamed slice port',
      objects: [ours, ing('ns/web').rule('a.com', prefix('/', 'a', 80)), service('ns/a').port('', 80, 8080), slice('ns/a').port('', 8080).ready('10.0.0.1')],
      want: { routes: ['a.com / Prefix -> ns/a:80 (ns/web)'], backends: ['ns/a:80 -> 10.0.0.1:8080'] },
    },
    {
      name: 'several slices, IPv4 and IPv6, deduplicated and sorted',
      objects: [
        ours,
        ing('ns/web').rule('a.com', prefix('/', 'a', 80)),
        service('ns/a').port('http', 80, 8080),
        slice('ns/a', 'b').port('http', 8080).ready('10.0.0.3', '10.0.0.1'),
        slice('ns/a', 'a').port('http', 8080).ready('10.0.0.2', '10.0.0.1'),
        slice('ns/a', 'v6').port('http', 8080).ready('fd00::2', 'fd00::1'),
      ],
      want: {
        routes: ['a.com / Prefix -> ns/a:80 (ns/web)'],
        backends: ['ns/a:80 -> 10.0.0.1:8080 10.0.0.2:8080 10.0.0.3:8080 [fd00::1]:8080 [fd00::2]:8080'],
      },
    },
    {
      name: 'conditions: ready null is ready; not ready and terminating are left out',
      objects: [
        ours,
        ing('ns/web').rule('a.com', prefix('/', 'a', 80)),
        service('ns/a').port('http', 80, 8080),
        slice('ns/a')
          .port('http', 8080)
          .ready('10.0.0.1')
          .readyUnknown('10.0.0.2')
          .endpoint(['10.0.0.3'])
          .notReady('10.0.0.4')
          .terminating('10.0.0.5')
          .endpoint(['10.0.0.6'], { ready: true, terminating: true }),
      ],
      want: { backends: ['ns/a:80 -> 10.0.0.1:8080 10.0.0.2:8080 10.0.0.3:8080'], routes: ['a.com / Prefix -> ns/a:80 (ns/web)'] },
    },
    {
      name: 'slices of other Services, without the service label, FQDN, or of another port name are not used',
      objects: [
        ours,
        ing('ns/web').rule('a.com', prefix('/', 'a', 80)),
        service('ns/a').port('http', 80, 8080),
        slice('ns/a').port('http', 8080).ready('10.0.0.1'),
        slice('ns/b').port('http', 8080).ready('10.0.0.2'),
        slice('other/a').port('http', 8080).ready('10.0.0.3'),
        slice('ns/a', 'metrics').port('metrics', 9100).ready('10.0.0.4'),
        slice('ns/a', 'fqdn').addressType('FQDN').port('http', 8080).ready('a.example.com'),
        slice('ns/a', 'nolabel').label('kubernetes.io/service-name', '').port('http', 8080).ready('10.0.0.5'),
      ],
      want: { routes: ['a.com / Prefix -> ns/a:80 (ns/web)'], backends: ['ns/a:80 -> 10.0.0.1:8080'] },
    },
    {
      name: 'an address that does not fit its slice is left out, with a problem on the slice',
      objects: [ours, ing('ns/web').rule('a.com', prefix('/', 'a', 80)), service('ns/a').port('http', 80, 8080), slice('ns/a').port('http', 8080).ready('10.0.0.1', 'fd00::1', '10.0.0.999')],
      want: {
        routes: ['a.com / Prefix -> ns/a:80 (ns/web)'],
        backends: ['ns/a:80 -> 10.0.0.1:8080'],
        problems: [
          'Error EndpointSlice ns/a-a endpoints[1].addresses[0]: "fd00::1" is not an IPv4 address; it is left out',
          'Error EndpointSlice ns/a-a endpoints[2].addresses[0]: "10.0.0.999" is not an IPv4 address; it is left out',
        ],
      },
    },
    {
      name: 'a Service with no endpoints yet: a backend with none, no problem (503 until pods are ready)',
      objects: [ours, ing('ns/web').rule('a.com', prefix('/', 'a', 80)), service('ns/a').port('http', 80, 8080)],
      want: { routes: ['a.com / Prefix -> ns/a:80 (ns/web)'], backends: ['ns/a:80 -> (none)'] },
    },
    {
      name: 'a Service that does not exist: a backend with a problem, and a problem on the Ingress',
      objects: [ours, ing('ns/web').rule('a.com', prefix('/', 'nope', 80))],
      want: {
        routes: ['a.com / Prefix -> ns/nope:80 (ns/web)'],
        backends: ['ns/nope:80 -> (none) ! Service ns/nope does not exist'],
        problems: ['Error Ingress ns/web spec.rules[0].http.paths[0].backend.service.name: Service ns/nope does not exist; requests get 503'],
        served: ['ns/web'],
      },
    },
    {
      name: 'a Service of another namespace is not found',
      objects: [ours, ing('ns/web').rule('a.com', prefix('/', 'a', 80)), ...app('other/a', 80, 8080, '10.0.0.1')],
      want: {
        routes: ['a.com / Prefix -> ns/a:80 (ns/web)'],
        problems: ['Error Ingress ns/web spec.rules[0].http.paths[0].backend.service.name: Service ns/a does not exist; requests get 503'],
      },
    },
    {
      name: 'a port that does not exist, by number and by name',
      objects: [ours, ing('ns/web').rule('a.com', prefix('/n', 'a', 81), prefix('/s', 'a', 'admin')), ...svcA],
      want: {
        routes: ['a.com /n Prefix -> ns/a:81 (ns/web)', 'a.com /s Prefix -> ns/a:admin (ns/web)'],
        backends: ['ns/a:81 -> (none) ! Service ns/a has no TCP port 81', 'ns/a:admin -> (none) ! Service ns/a has no port named "admin"'],
        problems: [
          'Error Ingress ns/web spec.rules[0].http.paths[0].backend.service.port.number: Service ns/a has no TCP port 81; requests get 503',
          'Error Ingress ns/web spec.rules[0].http.paths[1].backend.service.port.name: Service ns/a has no port named "admin"; requests get 503',
        ],
      },
    },
    {
      name: 'a UDP port is not proxied',
      objects: [ours, ing('ns/web').rule('a.com', prefix('/', 'dns', 'dns')), service('ns/dns').port('dns', 53, 53, { protocol: 'UDP' })],
      want: {
        routes: ['a.com / Prefix -> ns/dns:dns (ns/web)'],
        backends: ['ns/dns:dns -> (none) ! Service ns/dns port "dns" is UDP, not TCP'],
        problems: ['Error Ingress ns/web spec.rules[0].http.paths[0].backend.service.port.name: Service ns/dns port "dns" is UDP, not TCP; requests get 503'],
      },
    },
    {
      name: 'ExternalName Services are not supported yet: a backend with no endpoints and a problem',
      objects: [ours, ing('ns/web').rule('a.com', prefix('/', 'ext', 443)), service('ns/ext').externalName('api.example.com').port('https', 443)],
      want: {
        routes: ['a.com / Prefix -> ns/ext:443 (ns/web)'],
        backends: ['ns/ext:443 -> (none) ! ExternalName services are not supported yet'],
        problems: ['Error Ingress ns/web spec.rules[0].http.paths[0].backend.service.name: Service ns/ext is of type ExternalName (api.example.com): ExternalName services are not supported yet; requests get 503'],
      },
    },
    {
      name: 'upstream https from the Service port\'s appProtocol',
      objects: [
        ours,
        ing('ns/web').rule('a.com', prefix('/a', 'a', 443), prefix('/b', 'b', 443), prefix('/c', 'c', 80)),
        service('ns/a').port('https', 443, 8443, { appProtocol: 'https' }),
        service('ns/b').port('https', 443, 8443, { appProtocol: 'kubernetes.io/https' }),
        service('ns/c').port('h2c', 80, 8080, { appProtocol: 'kubernetes.io/h2c' }),
      ],
      want: {
        routes: ['a.com /a Prefix -> ns/a:443 https (ns/web)', 'a.com /b Prefix -> ns/b:443 https (ns/web)', 'a.com /c Prefix -> ns/c:80 (ns/web)'],
      },
    },
    {
      name: 'upstream https from the annotation',
      objects: [ours, ing('ns/web').ats('backend-protocol', 'HTTPS').rule('a.com', prefix('/', 'a', 80)), ...svcA],
      want: { routes: ['a.com / Prefix -> ns/a:80 https (ns/web)'], backends: ['ns/a:80 https -> 10.0.0.1:8080'] },
    },
    {
      name: 'backends are shared: the same Service port from many rules is one backend',
      objects: [ours, ing('ns/web').rule('a.com', prefix('/x', 'a', 80), exact('/y', 'a', 80)).rule('b.com', prefix('/', 'a', 80)), ...svcA],
      want: {
        routes: ['a.com /x Prefix -> ns/a:80 (ns/web)', 'a.com /y Exact -> ns/a:80 (ns/web)', 'b.com / Prefix -> ns/a:80 (ns/web)'],
        backends: ['ns/a:80 -> 10.0.0.1:8080'],
      },
    },
  ]);
});

describe('rules', () => {
  run([
    {
      name: 'hosts are lowercased; exact, wildcard and catch-all hosts; rules sorted by path then type',
      objects: [
        ours,
        ing('ns/web')
          .rule('A.Example.COM', prefix('/z', 'a', 80), exact('/a', 'a', 80), prefix('/a', 'a', 80), implementationSpecific('/a', 'a', 80))
          .rule('*.example.com', prefix('/', 'a', 80))
          .rule('', exact('/health', 'a', 80)),
        ...svcA,
      ],
      want: {
        routes: [
          '* /health Exact -> ns/a:80 (ns/web)',
          '*.example.com / Prefix -> ns/a:80 (ns/web)',
          'a.example.com /a Exact -> ns/a:80 (ns/web)',
          'a.example.com /a Prefix -> ns/a:80 (ns/web)',
          'a.example.com /z Prefix -> ns/a:80 (ns/web)',
        ],
        // ImplementationSpecific matches as Prefix: the same path twice is a conflict.
        problems: [
          'Warning Ingress ns/web spec.rules[0].http.paths[3]: host "a.example.com" path "/a" (ImplementationSpecific) is already served by spec.rules[0].http.paths[2] of this Ingress; this path is ignored',
        ],
      },
    },
    {
      name: 'an invalid host is a problem naming the field, and only that rule is skipped',
      objects: [
        ours,
        ing('ns/web')
          .rule('good.com', prefix('/', 'a', 80))
          .rule('*.*.a.com', prefix('/', 'a', 80))
          .rule('foo*.a.com', prefix('/', 'a', 80))
          .rule('a..com', prefix('/', 'a', 80))
          .rule('10.0.0.1', prefix('/', 'a', 80))
          .rule('a.com:8080', prefix('/', 'a', 80))
          .rule('a.com.', prefix('/', 'a', 80))
          .rule('under_score.com', prefix('/', 'a', 80))
          // 253 characters after "*.": 255 in all, one more than a table may hold.
          .rule(`*.${'a'.repeat(62)}.${'b'.repeat(62)}.${'c'.repeat(62)}.${'d'.repeat(62)}.e`, prefix('/', 'a', 80)),
        ...svcA,
      ],
      want: {
        routes: ['good.com / Prefix -> ns/a:80 (ns/web)'],
        problems: [
          'Error Ingress ns/web spec.rules[1].host: "*.*.a.com" is not a valid host: a wildcard is allowed only as the whole first label ("*.example.com"); this rule is skipped',
          'Error Ingress ns/web spec.rules[2].host: "foo*.a.com" is not a valid host: a wildcard is allowed only as the whole first label ("*.example.com"); this rule is skipped',
          'Error Ingress ns/web spec.rules[3].host: "a..com" is not a DNS name (lowercase letters, digits, "-" and ".", each label 1 to 63 characters starting and ending with a letter or digit); this rule is skipped',
          'Error Ingress ns/web spec.rules[4].host: "10.0.0.1" is an IP address; a DNS name is required; this rule is skipped',
          'Error Ingress ns/web spec.rules[5].host: "a.com:8080" is not a DNS name (lowercase letters, digits, "-" and ".", each label 1 to 63 characters starting and ending with a letter or digit); this rule is skipped',
          'Error Ingress ns/web spec.rules[6].host: "a.com." is not a DNS name (lowercase letters, digits, "-" and ".", each label 1 to 63 characters starting and ending with a letter or digit); this rule is skipped',
          'Error Ingress ns/web spec.rules[7].host: "under_score.com" is not a DNS name (lowercase letters, digits, "-" and ".", each label 1 to 63 characters starting and ending with a letter or digit); this rule is skipped',
          `Error Ingress ns/web spec.rules[8].host: "*.${'a'.repeat(38)}"…(215 more characters) is longer than 253 characters; this rule is skipped`,
        ],
        served: ['ns/web'],
      },
    },
    {
      name: 'invalid paths and path types are problems; only that path is skipped',
      objects: [
        ours,
        ing('ns/web').rule(
          'a.com',
          prefix('/ok', 'a', 80),
          prefix('relative', 'a', 80),
          exact('', 'a', 80),
          path({ path: '/x', backend: { service: { name: 'a', port: { number: 80 } } } }),
          path({ path: '/x', pathType: 'Regex', backend: { service: { name: 'a', port: { number: 80 } } } }),
          prefix('/a/../admin', 'a', 80),
          prefix('/a//b', 'a', 80),
          prefix('/a%2Fb', 'a', 80),
          exact('/a b', 'a', 80),
          exact('/a?b=c', 'a', 80),
          implementationSpecific('', 'a', 80),
        ),
        ...svcA,
      ],
      want: {
        // "//" and "%2F" are kept as they are by the plugin (the API server refuses them in Exact and Prefix paths).
        routes: ['a.com / ImplementationSpecific -> ns/a:80 (ns/web)', 'a.com /a%2Fb Prefix -> ns/a:80 (ns/web)', 'a.com /a//b Prefix -> ns/a:80 (ns/web)', 'a.com /ok Prefix -> ns/a:80 (ns/web)'],
        problems: [
          'Error Ingress ns/web spec.rules[0].http.paths[1].path: "relative" does not begin with "/"; this path is skipped',
          'Error Ingress ns/web spec.rules[0].http.paths[2].path: path is required for pathType Exact; this path is skipped',
          'Error Ingress ns/web spec.rules[0].http.paths[3].pathType: pathType is required (Exact, Prefix or ImplementationSpecific); this path is skipped',
          'Error Ingress ns/web spec.rules[0].http.paths[4].pathType: "Regex" is not a path type (Exact, Prefix or ImplementationSpecific); this path is skipped',
          'Error Ingress ns/web spec.rules[0].http.paths[5].path: "/a/../admin" holds the segment "..", a "." or ".." segment, which the plugin resolves in every request path before matching: no request can match it; this path is skipped',
          'Error Ingress ns/web spec.rules[0].http.paths[8].path: "/a b" holds a space, which ATS refuses in a request line (write it percent-encoded, as clients send it): no request can match it; this path is skipped',
          'Error Ingress ns/web spec.rules[0].http.paths[9].path: "/a?b=c" holds "?", which ends the path of a URL: no request can match it; this path is skipped',
        ],
      },
    },
    {
      name: 'a Prefix path loses its trailing slash; an Exact one keeps it',
      objects: [ours, ing('ns/web').rule('a.com', prefix('/foo/', 'a', 80), exact('/bar/', 'a', 80), prefix('/', 'a', 80)), ...svcA],
      want: { routes: ['a.com / Prefix -> ns/a:80 (ns/web)', 'a.com /bar/ Exact -> ns/a:80 (ns/web)', 'a.com /foo Prefix -> ns/a:80 (ns/web)'] },
    },
    {
      name: 'backends that are not a Service port are problems; the path is skipped',
      objects: [
        ours,
        ing('ns/web').rule(
          'a.com',
          path({ path: '/res', pathType: 'Prefix', backend: { resource: { kind: 'StorageBucket', name: 'static' } } }),
          path({ path: '/none', pathType: 'Prefix' }),
          path({ path: '/noport', pathType: 'Prefix', backend: { service: { name: 'a' } } }),
          path({ path: '/badport', pathType: 'Prefix', backend: { service: { name: 'a', port: { number: 70000 } } } }),
          path({ path: '/noname', pathType: 'Prefix', backend: { service: { name: '', port: { number: 80 } } } }),
        ),
        ...svcA,
      ],
      want: {
        routes: [],
        problems: [
          'Error Ingress ns/web spec.rules[0].http.paths[0].backend.resource: resource backends (StorageBucket static) are not supported, only Service backends',
          'Error Ingress ns/web spec.rules[0].http.paths[1].backend: a backend is required',
          'Error Ingress ns/web spec.rules[0].http.paths[2].backend.service.port: a port number or port name is required',
          'Error Ingress ns/web spec.rules[0].http.paths[3].backend.service.port.number: 70000 is not a port number (1..65535)',
          'Error Ingress ns/web spec.rules[0].http.paths[4].backend.service.name: the Service name is required',
        ],
        served: [],
      },
    },
    {
      name: 'the same host from several Ingresses and namespaces merges their paths',
      objects: [
        ours,
        ing('one/web').rule('a.com', prefix('/one', 'a', 80)),
        ing('two/web').rule('A.com', prefix('/two', 'a', 80)),
        ...app('one/a', 80, 8080, '10.0.1.1'),
        ...app('two/a', 80, 8080, '10.0.2.1'),
      ],
      want: {
        routes: ['a.com /one Prefix -> one/a:80 (one/web)', 'a.com /two Prefix -> two/a:80 (two/web)'],
        backends: ['one/a:80 -> 10.0.1.1:8080', 'two/a:80 -> 10.0.2.1:8080'],
        served: ['one/web', 'two/web'],
      },
    },
    {
      name: 'a host-only rule with no default backend gives nothing',
      objects: [ours, ing('ns/web').rule('a.com'), ...svcA],
      want: { routes: [], served: [] },
    },
  ]);
});

describe('paths that no normalised request path can match are reported, whatever spelling makes them so', () => {
  // What the plugin matches: the path ATS hands it with its ";" params (no
  // control characters, spaces or bytes above 0x7e, which ATS refuses;
  // nothing from "?" or "#" on), with percent-encoded unreserved characters
  // decoded and other encodings' hex digits uppercased, then "." and ".."
  // segments resolved, nothing else decoded or merged, and a request with a
  // "..;x" segment refused (see parsePath in names.ts). Rule paths are
  // normalised the same way.
  const why = {
    dot: (seg: string) => `holds the segment ${JSON.stringify(seg)}, a "." or ".." segment, which the plugin resolves in every request path before matching`,
    control: (code: string) => `holds the control character U+${code}, which ATS refuses in a request line (write it percent-encoded, as clients send it)`,
    space: 'holds a space, which ATS refuses in a request line (write it percent-encoded, as clients send it)',
    ends: (c: string) => `holds "${c}", which ends the path of a URL`,
    ambiguous: (seg: string) => `holds the segment ${JSON.stringify(seg)}, a "." or ".." segment with parameters, which the plugin refuses in every request path (servers that read ";" as parameters resolve it, others do not)`,
  };
  type Want = { problem: string } | { route: string };
  const cases: Array<[string, 'Exact' | 'Prefix' | 'ImplementationSpecific', Want]> = [
    ['/a/./b', 'ImplementationSpecific', { problem: why.dot('.') }],
    ['/a/../b', 'ImplementationSpecific', { problem: why.dot('..') }],
    ['/a/.', 'ImplementationSpecific', { problem: why.dot('.') }],
    ['/a/..', 'Exact', { problem: why.dot('..') }],
    ['/a/./', 'ImplementationSpecific', { problem: why.dot('.') }],
    ['/./', 'ImplementationSpecific', { problem: why.dot('.') }],
    ['/a/%2e/b', 'Prefix', { problem: why.dot('%2e') }],
    ['/a/%2E%2e/b', 'Prefix', { problem: why.dot('%2E%2e') }],
    ['/a/.%2e', 'Exact', { problem: why.dot('.%2e') }],
    ['/a\u0000b', 'Prefix', { problem: why.control('0000') }],
    ['/a\nb', 'Exact', { problem: why.control('000A') }],
    ['/a\r\nX-Injected: 1', 'Prefix', { problem: why.control('000D') }],
    ['/a\tb', 'Prefix', { problem: why.control('0009') }],
    ['/a\u007fb', 'Prefix', { problem: why.control('007F') }],
    ['/a b', 'ImplementationSpecific', { problem: why.space }],
    ['/café', 'Prefix', { problem: 'holds "é", a character outside ASCII, which ATS refuses in a request line (write it percent-encoded, as clients send it: %C3%A9)' }],
    ['/a?b=1', 'Exact', { problem: why.ends('?') }],
    ['/a#top', 'Prefix', { problem: why.ends('#') }],
    ['/a/..;b', 'Prefix', { problem: why.ambiguous('..;b') }],
    ['/a/.;jsessionid=0/b', 'Exact', { problem: why.ambiguous('.;jsessionid=0') }],
    ['/a/%2E%2e;/b', 'Prefix', { problem: why.ambiguous('%2E%2e;') }],
    ['/a/%2e%2e', 'Prefix', { problem: why.dot('%2e%2e') }],
    ['/login;', 'Exact', { problem: 'ends in its first ";", which ATS drops from a request path (an empty parameter part: "/a;" reaches the pod as "/a")' }],
    ['/x/%2E%2e/%61dmin', 'Exact', { problem: why.dot('%2E%2e') }],
    [`/${'a'.repeat(8192)}`, 'Prefix', { problem: 'is 8193 bytes long; the plugin matches request paths of at most 8192 bytes' }],
    // Matchable, literally: nothing decodes, merges or interprets them.
    ['/a//b', 'ImplementationSpecific', { route: '/a//b ImplementationSpecific' }],
    ['//a', 'ImplementationSpecific', { route: '//a ImplementationSpecific' }],
    ['/a%2Fb', 'ImplementationSpecific', { route: '/a%2Fb ImplementationSpecific' }],
    ['/.../x', 'Prefix', { route: '/.../x Prefix' }],
    ['/a;b', 'Prefix', { route: '/a;b Prefix' }],
    ['/login;jsessionid=0', 'Exact', { route: '/login;jsessionid=0 Exact' }],
    ['/login;', 'Prefix', { route: '/login; Prefix' }],
    ['/a;b;', 'Exact', { route: '/a;b; Exact' }],
    ['/a/..x;/b', 'Prefix', { route: '/a/..x;/b Prefix' }],
    ['/a/;../b', 'Prefix', { route: '/a/;../b Prefix' }],
    ['/a/..%3B/b', 'Prefix', { route: '/a/..%3B/b Prefix' }],
    // Normalised as requests are: unreserved characters decoded, other hex digits uppercased.
    ['/a%2eb', 'Prefix', { route: '/a.b Prefix' }],
    ['/%2e%2e%2e', 'Prefix', { route: '/... Prefix' }],
    ['/%61dmin', 'Exact', { route: '/admin Exact' }],
    ['/%7Euser/%7e%2D%5f%30', 'Prefix', { route: '/~user/~-_0 Prefix' }],
    ['/a%2fb', 'Exact', { route: '/a%2Fb Exact' }],
    ['/caf%c3%a9', 'Prefix', { route: '/caf%C3%A9 Prefix' }],
    ['/a%00%25%2561', 'Exact', { route: '/a%00%25%2561 Exact' }],
    ['/..a', 'Exact', { route: '/..a Exact' }],
    ['/a{b}', 'Prefix', { route: '/a{b} Prefix' }],
    ['/$1', 'Prefix', { route: '/$1 Prefix' }],
    ['/(.*)', 'ImplementationSpecific', { route: '/(.*) ImplementationSpecific' }],
    ['/a|b^c[d]', 'Exact', { route: '/a|b^c[d] Exact' }],
    ['/a%', 'Prefix', { route: '/a% Prefix' }],
    ['/a/', 'Exact', { route: '/a/ Exact' }],
    ['/a///', 'Prefix', { route: '/a Prefix' }],
    ['//', 'ImplementationSpecific', { route: '/ ImplementationSpecific' }],
  ];
  run(cases.map(([p, pathType, want]) => ({
    name: `${pathType} ${JSON.stringify(p.length > 40 ? `${p.slice(0, 20)}…(${p.length})` : p)}: ${'problem' in want ? 'reported' : 'served'}`,
    objects: [ours, ing('ns/web').rule('a.com', path({ path: p, pathType, backend: { service: { name: 'a', port: { number: 80 } } } })), ...svcA],
    want: 'problem' in want
      ? { problems: [`Error Ingress ns/web spec.rules[0].http.paths[0].path: ${JSON.stringify(p.length > 200 ? p.slice(0, 200) : p)}${p.length > 200 ? `…(${p.length - 200} more characters)` : ''} ${want.problem}: no request can match it; this path is skipped`] }
      : { routes: [`a.com ${want.route} -> ns/a:80 (ns/web)`] },
  })));

  run([
    {
      name: 'the longest path the plugin matches (8192 bytes) is served',
      objects: [ours, ing('ns/web').rule('a.com', prefix(`/${'a'.repeat(8191)}`, 'a', 80)), ...svcA],
      want: { routes: [`a.com /${'a'.repeat(8191)} Prefix -> ns/a:80 (ns/web)`] },
    },
    {
      name: 'trailing slashes are all dropped from Prefix paths: "/foo//" and "/foo" are one rule, and the table still takes it',
      objects: [ours, ing('ns/web').rule('a.com', prefix('/foo', 'a', 80), implementationSpecific('/foo//', 'a', 80), implementationSpecific('///', 'a', 80), prefix('/', 'a', 80)), ...svcA],
      want: {
        routes: ['a.com / ImplementationSpecific -> ns/a:80 (ns/web)', 'a.com /foo Prefix -> ns/a:80 (ns/web)'],
        problems: [
          'Warning Ingress ns/web spec.rules[0].http.paths[1]: host "a.com" path "/foo" (ImplementationSpecific) is already served by spec.rules[0].http.paths[0] of this Ingress; this path is ignored',
          'Warning Ingress ns/web spec.rules[0].http.paths[3]: host "a.com" path "/" (Prefix) is already served by spec.rules[0].http.paths[2] of this Ingress; this path is ignored',
        ],
      },
    },
    {
      name: 'two spellings of one URI ("/~a" and "/%7Ea", RFC 3986) are one rule',
      objects: [ours, ing('ns/web').rule('a.com', prefix('/~a', 'a', 80), prefix('/%7ea', 'a', 80), exact('/%41', 'a', 80), exact('/A', 'a', 80)), ...svcA],
      want: {
        routes: ['a.com /A Exact -> ns/a:80 (ns/web)', 'a.com /~a Prefix -> ns/a:80 (ns/web)'],
        problems: [
          'Warning Ingress ns/web spec.rules[0].http.paths[1]: host "a.com" path "/~a" (Prefix) is already served by spec.rules[0].http.paths[0] of this Ingress; this path is ignored',
          'Warning Ingress ns/web spec.rules[0].http.paths[3]: host "a.com" path "/A" (Exact) is already served by spec.rules[0].http.paths[2] of this Ingress; this path is ignored',
        ],
      },
    },
  ]);
});

describe('conflicts', () => {
  run([
    {
      name: 'the same host, path and type from two Ingresses: the oldest wins, the other gets a Warning naming it',
      objects: [
        ours,
        ing('ns/aaa-new').created(60).rule('a.com', prefix('/x', 'b', 80), prefix('/only-new', 'b', 80)),
        ing('ns/zzz-old').created(0).rule('a.com', prefix('/x', 'a', 80)),
        ...svcA,
        ...app('ns/b', 80, 8080, '10.0.0.2'),
      ],
      want: {
        routes: ['a.com /only-new Prefix -> ns/b:80 (ns/aaa-new)', 'a.com /x Prefix -> ns/a:80 (ns/zzz-old)'],
        problems: ['Warning Ingress ns/aaa-new spec.rules[0].http.paths[0]: host "a.com" path "/x" (Prefix) is already served by spec.rules[0].http.paths[0] of Ingress ns/zzz-old, which is older; this path is ignored'],
        served: ['ns/zzz-old', 'ns/aaa-new'],
      },
    },
    {
      name: 'created at the same time: namespace/name decides',
      objects: [
        ours,
        ing('b/web').rule('a.com', prefix('/x', 'a', 80)),
        ing('a/web').rule('a.com', prefix('/x', 'a', 80)),
        ...app('a/a', 80, 8080, '10.0.1.1'),
        ...app('b/a', 80, 8080, '10.0.2.1'),
      ],
      want: {
        routes: ['a.com /x Prefix -> a/a:80 (a/web)'],
        problems: ['Warning Ingress b/web spec.rules[0].http.paths[0]: host "a.com" path "/x" (Prefix) is already served by spec.rules[0].http.paths[0] of Ingress a/web, which is older; this path is ignored'],
        served: ['a/web'],
      },
    },
    {
      name: 'same path, different types: no conflict',
      objects: [ours, ing('ns/one').rule('a.com', prefix('/x', 'a', 80)), ing('ns/two').rule('a.com', exact('/x', 'a', 80)), ...svcA],
      want: { routes: ['a.com /x Exact -> ns/a:80 (ns/two)', 'a.com /x Prefix -> ns/a:80 (ns/one)'] },
    },
    {
      name: 'Prefix "/x" and "/x/" are the same rule',
      objects: [ours, ing('ns/one').rule('a.com', prefix('/x', 'a', 80)), ing('ns/two').created(1).rule('a.com', prefix('/x/', 'a', 80)), ...svcA],
      want: {
        routes: ['a.com /x Prefix -> ns/a:80 (ns/one)'],
        problems: ['Warning Ingress ns/two spec.rules[0].http.paths[0]: host "a.com" path "/x" (Prefix) is already served by spec.rules[0].http.paths[0] of Ingress ns/one, which is older; this path is ignored'],
      },
    },
    {
      name: 'the same path twice in one Ingress: the first wins',
      objects: [ours, ing('ns/web').rule('a.com', prefix('/x', 'a', 80)).rule('a.com', prefix('/x', 'b', 80)), ...svcA, ...app('ns/b', 80, 8080, '10.0.0.2')],
      want: {
        routes: ['a.com /x Prefix -> ns/a:80 (ns/web)'],
        problems: ['Warning Ingress ns/web spec.rules[1].http.paths[0]: host "a.com" path "/x" (Prefix) is already served by spec.rules[0].http.paths[0] of this Ingress; this path is ignored'],
      },
    },
    {
      name: 'conflicts on the catch-all host',
      objects: [ours, ing('ns/one').rule('', prefix('/', 'a', 80)), ing('ns/two').created(5).rule('', prefix('/', 'a', 80)), ...svcA],
      want: {
        routes: ['* / Prefix -> ns/a:80 (ns/one)'],
        problems: ['Warning Ingress ns/two spec.rules[0].http.paths[0]: the catch-all host (rules without host) path "/" (Prefix) is already served by spec.rules[0].http.paths[0] of Ingress ns/one, which is older; this path is ignored'],
      },
    },
  ]);
});

describe('default backends', () => {
  run([
    {
      name: 'spec.defaultBackend is the default of each host the Ingress\'s rules name',
      objects: [ours, ing('ns/web').defaultBackend('d', 80).rule('a.com', prefix('/x', 'a', 80)).rule('b.com', exact('/y', 'a', 80)), ...svcA, ...app('ns/d', 80, 8080, '10.0.0.9')],
      want: {
        routes: [
          'a.com /x Prefix -> ns/a:80 (ns/web)',
          'a.com default -> ns/d:80 (ns/web)',
          'b.com /y Exact -> ns/a:80 (ns/web)',
          'b.com default -> ns/d:80 (ns/web)',
        ],
      },
    },
    {
      name: 'a host-only rule with a default backend: the host serves the default',
      objects: [ours, ing('ns/web').defaultBackend('d', 80).rule('a.com'), ...app('ns/d', 80, 8080, '10.0.0.9')],
      want: { routes: ['a.com default -> ns/d:80 (ns/web)'], served: ['ns/web'] },
    },
    {
      name: 'an Ingress with no rules serves its default backend on the catch-all host',
      objects: [ours, ing('ns/fallback').defaultBackend('d', 'http'), ...app('ns/d', 80, 8080, '10.0.0.9')],
      want: { routes: ['* default -> ns/d:http (ns/fallback)'], served: ['ns/fallback'] },
    },
    {
      name: 'two Ingresses name a host with different defaults: the oldest one\'s, and a Warning',
      objects: [
        ours,
        ing('ns/new').created(10).defaultBackend('e', 80).rule('a.com', prefix('/new', 'a', 80)),
        ing('ns/old').defaultBackend('d', 80).rule('a.com', prefix('/old', 'a', 80)),
        ...svcA,
        ...app('ns/d', 80, 8080, '10.0.0.9'),
        ...app('ns/e', 80, 8080, '10.0.0.10'),
      ],
      want: {
        routes: ['a.com /new Prefix -> ns/a:80 (ns/new)', 'a.com /old Prefix -> ns/a:80 (ns/old)', 'a.com default -> ns/d:80 (ns/old)'],
        problems: ['Warning Ingress ns/new spec.defaultBackend: the default backend of host "a.com" is already ns/d:80 from Ingress ns/old, which is older; this one is not used for that host'],
      },
    },
    {
      name: 'the same default from two Ingresses is no conflict',
      objects: [
        ours,
        ing('ns/new').created(10).defaultBackend('d', 80).rule('a.com', prefix('/new', 'a', 80)),
        ing('ns/old').defaultBackend('d', 80).rule('a.com', prefix('/old', 'a', 80)),
        ...svcA,
        ...app('ns/d', 80, 8080, '10.0.0.9'),
      ],
      want: { routes: ['a.com /new Prefix -> ns/a:80 (ns/new)', 'a.com /old Prefix -> ns/a:80 (ns/old)', 'a.com default -> ns/d:80 (ns/old)'] },
    },
    {
      name: 'the controller\'s --default-backend, by port number or name',
      objects: [ours, service('sys/fallback').port('http', 80, 8080), slice('sys/fallback').port('http', 8080).ready('10.9.9.9')],
      config: { defaultBackend: serviceRef('sys/fallback:http') },
      want: { routes: ['controller default -> sys/fallback:http'], backends: ['sys/fallback:http -> 10.9.9.9:8080'], served: [] },
    },
    {
      name: '--default-backend naming a Service that does not exist',
      objects: [ours],
      config: { defaultBackend: serviceRef('sys/fallback:80') },
      want: {
        routes: ['controller default -> sys/fallback:80'],
        backends: ['sys/fallback:80 -> (none) ! Service sys/fallback does not exist'],
        problems: ['Error Controller ats.ingress.kubernetes.io/controller --default-backend: Service sys/fallback does not exist; requests get 503'],
      },
    },
    {
      name: 'spec.defaultBackend.resource is not supported',
      objects: [ours, ing('ns/web').defaultResourceBackend('StorageBucket', 'static').rule('a.com', prefix('/', 'a', 80)), ...svcA],
      want: {
        routes: ['a.com / Prefix -> ns/a:80 (ns/web)'],
        problems: ['Error Ingress ns/web spec.defaultBackend.resource: resource backends (StorageBucket static) are not supported, only Service backends'],
      },
    },
    {
      name: 'a default backend naming a Service that does not exist',
      objects: [ours, ing('ns/web').defaultBackend('nope', 80)],
      want: {
        routes: ['* default -> ns/nope:80 (ns/web)'],
        problems: ['Error Ingress ns/web spec.defaultBackend.service.name: Service ns/nope does not exist; requests get 503'],
      },
    },
  ]);
});

describe('tls', () => {
  const badPem = base64('not a certificate');
  run([
    {
      name: 'each host gets the certificate of the Secret its spec.tls entry names, lowercased and sorted',
      objects: [
        ours,
        tlsSecret('ns/cert'),
        tlsSecret('ns/other'),
        ing('ns/web').tls('cert', 'B.com', 'a.com').tls('other', 'c.com').rule('a.com', prefix('/', 'a', 80)),
        ing('ns/api').tls('cert', 'd.com').rule('d.com', prefix('/', 'a', 80)),
        ...svcA,
      ],
      want: {
        routes: ['a.com / Prefix -> ns/a:80 (ns/web)', 'd.com / Prefix -> ns/a:80 (ns/api)'],
        tls: ['a.com: ns/cert', 'b.com: ns/cert', 'c.com: ns/other', 'd.com: ns/cert'],
      },
    },
    {
      name: 'a missing or malformed Secret is a problem naming spec.tls[i].secretName and the key; the hosts keep their previous certificate',
      objects: [
        ours,
        tlsSecret('ns/opaque').type('Opaque'),
        tlsSecret('ns/nokey').without('tls.key'),
        tlsSecret('ns/notb64').data('tls.crt', '!!!not base64!!!'),
        tlsSecret('ns/notpem').data('tls.crt', badPem),
        tlsSecret('ns/badkey').data('tls.key', badPem),
        tlsSecret('ns/mismatch').cert(FIXTURE_CERT, OTHER_KEY),
        tlsSecret('ns/garbled').data('tls.crt', base64('-----BEGIN CERTIFICATE-----\nbm90IGRlcg==\n-----END CERTIFICATE-----\n')),
        tlsSecret('ns/encrypted').data('tls.key', base64('-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n')),
        tlsSecret('other/cert'),
        ing('ns/web')
          .tls('missing', 'a.com')
          .tls('opaque', 'b.com')
          .tls('nokey', 'c.com')
          .tls('notb64', 'd.com')
          .tls('notpem', 'plain.com')
          .tls('badkey', 'x.a.com')
          .tls('mismatch', 'y.a.com')
          .tls('garbled', 'z.a.com')
          .tls('encrypted', 'test.edge.com')
          .tls('cert', 'test.media.com')
          .rule('a.com', prefix('/', 'a', 80)),
        ...svcA,
      ],
      want: {
        routes: ['a.com / Prefix -> ns/a:80 (ns/web)'],
        tls: [
          'a.com: ns/missing (previous)',
          'b.com: ns/opaque (previous)',
          'c.com: ns/nokey (previous)',
          'd.com: ns/notb64 (previous)',
          'plain.com: ns/notpem (previous)',
          'test.edge.com: ns/encrypted (previous)',
          'test.media.com: ns/cert (previous)',
          'x.a.com: ns/badkey (previous)',
          'y.a.com: ns/mismatch (previous)',
          'z.a.com: ns/garbled (previous)',
        ],
        problems: [
          'Error Ingress ns/web spec.tls[0].secretName: Secret ns/missing does not exist (or is not of type kubernetes.io/tls); a.com keep the certificate they had from it, if any, else get the default',
          'Error Ingress ns/web spec.tls[1].secretName: Secret ns/opaque is of type "Opaque", not kubernetes.io/tls; b.com keep the certificate they had from it, if any, else get the default',
          'Error Ingress ns/web spec.tls[2].secretName: Secret ns/nokey has no tls.key; c.com keep the certificate they had from it, if any, else get the default',
          'Error Ingress ns/web spec.tls[3].secretName: Secret ns/notb64 has a tls.crt that is not base64; d.com keep the certificate they had from it, if any, else get the default',
          'Error Ingress ns/web spec.tls[4].secretName: Secret ns/notpem has a tls.crt that holds no PEM certificate; plain.com keep the certificate they had from it, if any, else get the default',
          'Error Ingress ns/web spec.tls[5].secretName: Secret ns/badkey has a tls.key that holds no PEM private key; x.a.com keep the certificate they had from it, if any, else get the default',
          'Error Ingress ns/web spec.tls[6].secretName: Secret ns/mismatch has a tls.key that does not match the certificate in tls.crt; y.a.com keep the certificate they had from it, if any, else get the default',
          'Error Ingress ns/web spec.tls[7].secretName: Secret ns/garbled has a tls.crt whose certificate does not parse: too long; z.a.com keep the certificate they had from it, if any, else get the default',
          'Error Ingress ns/web spec.tls[8].secretName: Secret ns/encrypted has an encrypted tls.key; ATS needs it unencrypted; test.edge.com keep the certificate they had from it, if any, else get the default',
          'Error Ingress ns/web spec.tls[9].secretName: Secret ns/cert does not exist (or is not of type kubernetes.io/tls); test.media.com keep the certificate they had from it, if any, else get the default',
        ],
      },
    },
    {
      name: 'a certificate that does not cover a host is a problem on that host; the Secret still serves the hosts it covers',
      objects: [
        ours,
        tlsSecret('ns/narrow').cert(OTHER_CERT, OTHER_KEY),
        tlsSecret('ns/wide'),
        ing('ns/web').tls('narrow', 'other.test', 'a.com').tls('wide', 'q.r.a.com', '*.a.com').rule('a.com', prefix('/', 'a', 80)),
        ...svcA,
      ],
      want: {
        routes: ['a.com / Prefix -> ns/a:80 (ns/web)'],
        tls: ['*.a.com: ns/wide', 'a.com: ns/narrow (previous)', 'other.test: ns/narrow', 'q.r.a.com: ns/wide (previous)'],
        problems: [
          'Error Ingress ns/web spec.tls[0].hosts[1]: the certificate of Secret ns/narrow (tls.crt) does not cover "a.com" (it names other.test); "a.com" keeps the certificate it had from it, if any, else gets the default',
          'Error Ingress ns/web spec.tls[1].hosts[0]: the certificate of Secret ns/wide (tls.crt) does not cover "q.r.a.com" (it names a.com, b.com, c.com, d.com, plain.com, *.a.com, *.w.example, x.w.example, test.edge.com, test.media.com, *.example.com); "q.r.a.com" keeps the certificate it had from it, if any, else gets the default',
        ],
      },
    },
    {
      name: 'an expired certificate is served, with a Warning (as ingress-nginx does); one not valid yet too',
      objects: [ours, tlsSecret('ns/old').cert(EXPIRED_CERT, EXPIRED_KEY), ing('ns/web').tls('old', 'a.com').rule('a.com', prefix('/', 'a', 80)), ...svcA],
      want: {
        routes: ['a.com / Prefix -> ns/a:80 (ns/web)'],
        tls: ['a.com: ns/old'],
        problems: ['Warning Ingress ns/web spec.tls[0].secretName: the certificate of Secret ns/old expired on 2024-01-02T00:00:00Z; it is served anyway (as ingress-nginx does): renew it'],
      },
    },
    {
      name: 'a host with certificates from two Secrets keeps the older Ingress\'s',
      objects: [
        ours,
        tlsSecret('ns/old-cert'),
        tlsSecret('ns/new-cert'),
        ing('ns/new').created(30).tls('new-cert', 'a.com', 'b.com').rule('b.com', prefix('/', 'a', 80)),
        ing('ns/old').tls('old-cert', 'a.com').rule('a.com', prefix('/', 'a', 80)),
        ...svcA,
      ],
      want: {
        routes: ['a.com / Prefix -> ns/a:80 (ns/old)', 'b.com / Prefix -> ns/a:80 (ns/new)'],
        tls: ['a.com: ns/old-cert', 'b.com: ns/new-cert'],
        problems: ['Warning Ingress ns/new spec.tls[0].hosts[0]: host "a.com" already has the certificate of Secret ns/old-cert from spec.tls[0].hosts[0] of Ingress ns/old, which is older; this one is not used for it'],
      },
    },
    {
      name: 'tls entries without hosts, with invalid hosts, or without secretName',
      objects: [
        ours,
        tlsSecret('ns/cert'),
        ing('ns/web').ats('ssl-redirect', 'true').tls('cert').tls('cert', 'bad_host.com', 'a.com').tls(undefined, 'b.com').rule('b.com', prefix('/', 'a', 80)),
        ...svcA,
      ],
      want: {
        routes: ['b.com / Prefix -> ns/a:80 redirectToHttps (ns/web)'],
        tls: ['a.com: ns/cert', 'b.com: default'],
        problems: [
          'Error Ingress ns/web spec.tls[0].hosts: no hosts: certificates are served by SNI, so this entry would never be used',
          'Error Ingress ns/web spec.tls[1].hosts[0]: "bad_host.com" is not a DNS name (lowercase letters, digits, "-" and ".", each label 1 to 63 characters starting and ending with a letter or digit); no certificate for it',
          'Warning Ingress ns/web spec.tls[2].secretName: no secretName: these hosts get the default certificate',
        ],
      },
    },
    {
      name: 'Secrets of unclaimed Ingresses are not published',
      objects: [ours, tlsSecret('ns/cert'), ingress('ns/theirs').className('nginx').tls('cert', 'a.com').rule('a.com', prefix('/', 'a', 80))],
      want: { tls: [] },
    },
    {
      name: '--default-certificate: served to names no certificate covers; a bad one keeps the previous',
      objects: [ours, tlsSecret('sys/default'), tlsSecret('sys/broken').without('tls.crt')],
      config: { defaultCertificate: { namespace: 'sys', name: 'default' } },
      want: { tls: ['default certificate: sys/default'] },
    },
    {
      name: '--default-certificate naming a Secret that cannot serve',
      objects: [ours, tlsSecret('sys/broken').without('tls.crt')],
      config: { defaultCertificate: { namespace: 'sys', name: 'broken' } },
      want: {
        tls: ['default certificate: sys/broken (previous)'],
        problems: ['Error Controller ats.ingress.kubernetes.io/controller --default-certificate: Secret sys/broken has no tls.crt; the previous default certificate keeps serving, if any, else ATS\'s own'],
      },
    },
  ]);

  test('a certificate not valid yet: the Warning says from when', () => {
    const result = build(
      snapshotFrom([ours, tlsSecret('ns/cert'), ing('ns/web').tls('cert', 'a.com').rule('a.com', prefix('/', 'a', 80)), ...svcA]),
      buildConfig(),
      buildContext(Date.parse('2020-01-01T00:00:00Z')),
    );
    assert.deepEqual(view(result).tls, ['a.com: ns/cert']);
    assert.equal(result.problems.length, 1);
    assert.match(problemLine(result.problems[0]!), /^Warning Ingress ns\/web spec\.tls\[0\]\.secretName: the certificate of Secret ns\/cert is not valid before 20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ; it is served anyway, and clients will refuse it until then$/);
  });

  test('the certificates hold the decoded PEM chain and key, and their notAfter', () => {
    const result = build(snapshotFrom([ours, tlsSecret('ns/cert'), ing('ns/web').tls('cert', 'a.com').rule('a.com', prefix('/', 'a', 80)), ...svcA]), buildConfig(), buildContext(NOW));
    const [cert] = result.model.tls.certificates;
    assert.ok(cert);
    assert.equal(cert.secret, 'ns/cert');
    assert.equal(cert.certPem, FIXTURE_CERT);
    assert.equal(cert.keyPem, FIXTURE_KEY);
    assert.equal(cert.notAfter, Date.parse(new X509Certificate(FIXTURE_CERT).validTo));
  });

  test('a Secret is parsed once across builds that share a context', () => {
    const context = buildContext(NOW);
    const objects = snapshotFrom([ours, tlsSecret('ns/cert'), ing('ns/web').tls('cert', 'a.com', 'b.com').rule('a.com', prefix('/', 'a', 80)), ...svcA]);
    const first = build(objects, buildConfig(), context);
    const second = build(objects, buildConfig(), context);
    // The same parsed object, not a second parse of the same text.
    assert.equal(first.model.tls.certificates[0]!.certPem, second.model.tls.certificates[0]!.certPem);
    assert.equal(context.certificates.tls(objects.secrets.get('ns/cert')!), context.certificates.tls(objects.secrets.get('ns/cert')!));
  });
});

describe('tls policy annotations', () => {
  const ca = tlsSecret('ns/client-ca').ca(CA_CERT);
  run([
    {
      name: 'auth-tls-secret verifies client certificates on every host of the Ingress, with depth and minimum version',
      objects: [
        ours,
        ca,
        tlsSecret('ns/cert'),
        ing('ns/web').ats('auth-tls-secret', 'client-ca').ats('auth-tls-verify-depth', '2').ats('tls-min-version', 'TLSv1.3').tls('cert', 'a.com').rule('b.com', prefix('/', 'a', 80)),
        ...svcA,
      ],
      want: {
        // Plain HTTP would skip the client certificate: it is redirected to https.
        routes: ['b.com / Prefix -> ns/a:80 redirectToHttps (ns/web)'],
        tls: ['a.com: ns/cert [verify=on ca=ns/client-ca depth=2 min=TLSv1.3]', 'b.com: default [verify=on ca=ns/client-ca depth=2 min=TLSv1.3]'],
      },
    },
    {
      name: 'optional verification; off with a minimum version only; the namespace may be written out',
      objects: [
        ours,
        ca,
        ing('ns/opt').ats('auth-tls-secret', 'ns/client-ca').ats('auth-tls-verify-client', 'optional').rule('a.com', prefix('/', 'a', 80)),
        ing('ns/min').ats('tls-min-version', 'TLSv1.2').rule('b.com', prefix('/', 'a', 80)),
        ...svcA,
      ],
      want: {
        routes: ['a.com / Prefix -> ns/a:80 redirectToHttps (ns/opt)', 'b.com / Prefix -> ns/a:80 (ns/min)'],
        tls: ['a.com: default [verify=optional ca=ns/client-ca depth=1]', 'b.com: default [verify=off min=TLSv1.2]'],
      },
    },
    {
      name: 'a CA Secret that cannot be used fails closed: handshakes for those hosts are refused',
      objects: [
        ours,
        tlsSecret('ns/no-ca'),
        tlsSecret('ns/leaf-ca').ca(CLIENT_CERT),
        ing('ns/a').ats('auth-tls-secret', 'missing').rule('a.com', prefix('/', 'a', 80)),
        ing('ns/b').ats('auth-tls-secret', 'no-ca').rule('b.com', prefix('/', 'a', 80)),
        ing('ns/c').ats('auth-tls-secret', 'leaf-ca').rule('c.com', prefix('/', 'a', 80)),
        ing('ns/d').ats('auth-tls-secret', 'other/client-ca').rule('d.com', prefix('/', 'a', 80)),
        ...svcA,
      ],
      want: {
        routes: ['a.com / Prefix -> ns/a:80 redirectToHttps (ns/a)', 'b.com / Prefix -> ns/a:80 redirectToHttps (ns/b)', 'c.com / Prefix -> ns/a:80 redirectToHttps (ns/c)', 'd.com / Prefix -> ns/a:80 redirectToHttps (ns/d)'],
        tls: [
          'a.com: default [verify=on ca=(none: refused) depth=1]',
          'b.com: default [verify=on ca=(none: refused) depth=1]',
          'c.com: default [verify=on ca=(none: refused) depth=1]',
          'd.com: default [verify=on ca=(none: refused) depth=1]',
        ],
        problems: [
          "Error Ingress ns/a metadata.annotations['ats.ingress.kubernetes.io/auth-tls-secret']: Secret ns/missing does not exist (or is not of type kubernetes.io/tls); TLS handshakes for a.com are refused until it is fixed (client certificates cannot be verified)",
          "Error Ingress ns/b metadata.annotations['ats.ingress.kubernetes.io/auth-tls-secret']: Secret ns/no-ca has no ca.crt; TLS handshakes for b.com are refused until it is fixed (client certificates cannot be verified)",
          "Error Ingress ns/c metadata.annotations['ats.ingress.kubernetes.io/auth-tls-secret']: Secret ns/leaf-ca has a ca.crt whose certificate 1 (CN=client.fixture, O=Fixture) is not a CA certificate; TLS handshakes for c.com are refused until it is fixed (client certificates cannot be verified)",
          "Error Ingress ns/d metadata.annotations['ats.ingress.kubernetes.io/auth-tls-secret']: the CA Secret is not usable; TLS handshakes for d.com are refused until it is fixed (client certificates cannot be verified)",
          "Warning Ingress ns/d metadata.annotations['ats.ingress.kubernetes.io/auth-tls-secret']: \"other/client-ca\" names a Secret in namespace other; an Ingress may use only Secrets of its own namespace (ns); client certificates are not verified",
        ],
      },
    },
    {
      name: 'invalid values are refused with the reason; verification without a CA Secret is off',
      objects: [
        ours,
        ing('ns/web').ats('auth-tls-verify-client', 'on').ats('auth-tls-verify-depth', '99').ats('tls-min-version', 'SSLv3').rule('a.com', prefix('/', 'a', 80)),
        ing('ns/api').ats('auth-tls-verify-client', 'maybe').rule('b.com', prefix('/', 'a', 80)),
        ...svcA,
      ],
      want: {
        routes: ['a.com / Prefix -> ns/a:80 (ns/web)', 'b.com / Prefix -> ns/a:80 (ns/api)'],
        tls: [],
        problems: [
          "Warning Ingress ns/api metadata.annotations['ats.ingress.kubernetes.io/auth-tls-verify-client']: \"maybe\" is not on, optional or off",
          "Warning Ingress ns/web metadata.annotations['ats.ingress.kubernetes.io/auth-tls-verify-client']: \"on\" needs ats.ingress.kubernetes.io/auth-tls-secret (the CA that signs client certificates); client certificates are not verified",
          "Warning Ingress ns/web metadata.annotations['ats.ingress.kubernetes.io/auth-tls-verify-depth']: \"99\" is not a depth from 1 to 10; 1 is used",
          "Warning Ingress ns/web metadata.annotations['ats.ingress.kubernetes.io/tls-min-version']: \"SSLv3\" is not TLSv1.2 or TLSv1.3; ATS's minimum is used",
        ],
      },
    },
    {
      name: 'two Ingresses asking different policies for one host: the older one\'s applies',
      objects: [
        ours,
        ca,
        ing('ns/old').ats('auth-tls-secret', 'client-ca').rule('a.com', prefix('/old', 'a', 80)),
        ing('ns/new').created(10).ats('tls-min-version', 'TLSv1.3').rule('a.com', prefix('/new', 'a', 80)),
        ...svcA,
      ],
      want: {
        routes: ['a.com /new Prefix -> ns/a:80 redirectToHttps (ns/new)', 'a.com /old Prefix -> ns/a:80 redirectToHttps (ns/old)'],
        tls: ['a.com: default [verify=on ca=ns/client-ca depth=1]'],
        problems: ["Warning Ingress ns/new metadata.annotations['ats.ingress.kubernetes.io/auth-tls-secret']: host \"a.com\" already has the TLS policy of Ingress ns/old, which is older; this Ingress's TLS annotations are not used for it"],
      },
    },
  ]);
});

describe('the walkthrough of the original ats-ingress README', () => {
  // Two namespaces, each with appsvc1 and appsvc2 (two pods each). Namespace
  // trafficserver-test-2 serves test.media.com /app1 and /app2 and
  // test.edge.com /app1; trafficserver-test-3 serves test.edge.com /app2, also
  // over HTTPS.
  const ns2 = 'trafficserver-test-2';
  const ns3 = 'trafficserver-test-3';
  const objects: ObjectLike[] = [
    ingressClass('ats').isDefault(),
    ...app(`${ns2}/appsvc1`, 8080, 8080, '10.2.1.1', '10.2.1.2'),
    ...app(`${ns2}/appsvc2`, 8080, 8080, '10.2.2.1', '10.2.2.2'),
    ...app(`${ns3}/appsvc1`, 8080, 8080, '10.3.1.1', '10.3.1.2'),
    ...app(`${ns3}/appsvc2`, 8080, 8080, '10.3.2.1', '10.3.2.2'),
    ingress(`${ns2}/app-ingress`)
      .rule('test.media.com', exact('/app1', 'appsvc1', 8080), exact('/app2', 'appsvc2', 8080))
      .rule('test.edge.com', exact('/app1', 'appsvc1', 8080)),
    tlsSecret(`${ns3}/tls-secret`),
    ingress(`${ns3}/app-ingress`).created(5).tls('tls-secret', 'test.edge.com').rule('test.edge.com', prefix('/app2', 'appsvc2', 8080)),
  ];
  run([
    {
      name: 'test.media.com from one namespace; test.edge.com merged from two',
      objects,
      want: {
        routes: [
          `test.edge.com /app1 Exact -> ${ns2}/appsvc1:8080 (${ns2}/app-ingress)`,
          `test.edge.com /app2 Prefix -> ${ns3}/appsvc2:8080 (${ns3}/app-ingress)`,
          `test.media.com /app1 Exact -> ${ns2}/appsvc1:8080 (${ns2}/app-ingress)`,
          `test.media.com /app2 Exact -> ${ns2}/appsvc2:8080 (${ns2}/app-ingress)`,
        ],
        // The older Ingress's backends first, each Ingress's in the order of the sorted hosts.
        backends: [
          `${ns2}/appsvc1:8080 -> 10.2.1.1:8080 10.2.1.2:8080`,
          `${ns2}/appsvc2:8080 -> 10.2.2.1:8080 10.2.2.2:8080`,
          `${ns3}/appsvc2:8080 -> 10.3.2.1:8080 10.3.2.2:8080`,
        ],
        tls: [`test.edge.com: ${ns3}/tls-secret`],
        served: [`${ns2}/app-ingress`, `${ns3}/app-ingress`],
      },
    },
  ]);
});

describe('the table handed to the addon', () => {
  test('is exactly the TableModel shape: indexes, sources, no undefined fields', () => {
    const result = build(
      snapshotFrom([
        ours,
        ing('ns/web').ats('connect-timeout', '2s').defaultBackend('a', 80).rule('a.com', exact('/x', 'a', 80), prefix('/y', 'b', 'http')),
        ...svcA,
        service('ns/b').port('http', 80, 9090, { appProtocol: 'https' }),
        slice('ns/b').port('http', 9090).ready('fd00::1'),
      ]),
      buildConfig({ defaultBackend: serviceRef('ns/a:80') }),
    );
    assert.deepEqual(result.model.table, {
      hosts: [
        {
          name: 'a.com',
          rules: [
            { path: '/x', pathType: 'Exact', backend: 1, source: 'ns/web' },
            { path: '/y', pathType: 'Prefix', backend: 2, source: 'ns/web' },
          ],
          defaultBackend: 1,
          defaultSource: 'ns/web',
        },
      ],
      backends: [
        // --default-backend, first as it has no Ingress: the same Service port without the Ingress's options.
        { service: 'ns/a', port: '80', scheme: 'http', endpoints: [{ address: '10.0.0.1', port: 8080 }] },
        { service: 'ns/a', port: '80', scheme: 'http', endpoints: [{ address: '10.0.0.1', port: 8080 }], options: { connectTimeoutMs: 2000 } },
        { service: 'ns/b', port: 'http', scheme: 'https', endpoints: [{ address: 'fd00::1', port: 9090 }], options: { connectTimeoutMs: 2000 } },
      ],
      defaultBackend: 0,
    });
    assert.deepEqual(result.problems, []);
    assert.deepEqual(result.served, ['ns/web']);
    // No key holds undefined: what goes to C++ is exactly what is listed.
    assert.ok(!JSON.stringify(result.model, (_k, v: unknown) => (v === undefined ? '<undefined>' : v)).includes('<undefined>'));
  });

  test('an Ingress with more backends than a chain holds: each Service port once, numbered as the sorted walk meets them', () => {
    const names = Array.from({ length: 40 }, (_, i) => `s${String(i).padStart(2, '0')}`);
    const paths = (host: string) => names.map((n) => prefix(`/${host}-${n}`, n, 80));
    const objects: ObjectLike[] = [ours, ing('ns/many').rule('a.com', ...paths('a')).rule('b.com', ...paths('b').reverse())];
    for (const n of names) objects.push(...app(`ns/${n}`, 80, 8080, '10.0.0.1'));
    const table = build(snapshotFrom(objects)).model.table;
    assert.deepEqual(table.backends.map((b) => b.service), names.map((n) => `ns/${n}`));
    for (const host of table.hosts) assert.deepEqual(host.rules.map((r) => table.backends[r.backend]!.service), host.rules.map((r) => `ns/${r.path.slice(3)}`));
  });

  test('a host of more than 8 paths (looked up by map) resolves conflicts as a small one (by scan): by path and match class', () => {
    // Prefix and ImplementationSpecific of one path conflict; Exact of that path does not; Exact twice does.
    const contested = [prefix('/a', 'a', 80), implementationSpecific('/a', 'a', 80), exact('/a', 'a', 80), exact('/b', 'a', 80), exact('/b', 'a', 80)];
    const padding = Array.from({ length: 8 }, (_, i) => prefix(`/pad-${i}`, 'a', 80));
    const small = view(build(snapshotFrom([ours, ing('ns/web').rule('a.com', ...contested), ...svcA])));
    const large = view(build(snapshotFrom([ours, ing('ns/web').rule('a.com', ...contested, ...padding), ...svcA])));
    assert.equal(small.problems.length, 2);
    assert.deepEqual(large.problems, small.problems);
    assert.deepEqual(large.routes.filter((r) => !r.includes('/pad-')), small.routes);
    assert.equal(large.routes.length, small.routes.length + padding.length);
  });

  test('one bad Ingress never removes another Ingress\'s routes', () => {
    const good = ing('ns/good').rule('a.com', prefix('/', 'a', 80));
    const bad = ing('ns/bad').created(10)
      .ats('connect-timeout', 'forever')
      .defaultResourceBackend('Bucket', 'b')
      .tls('missing', 'a.com')
      .rule('BAD HOST', prefix('/', 'a', 80))
      .rule('a.com', prefix('nope', 'a', 80), prefix('/', 'missing', 80));
    const alone = build(snapshotFrom([ours, good, ...svcA]));
    const together = build(snapshotFrom([ours, good, bad, ...svcA]));
    const goodRoutes = (r: ReturnType<typeof build>) => view(r).routes.filter((line) => line.endsWith('(ns/good)'));
    assert.deepEqual(goodRoutes(together), goodRoutes(alone));
    assert.ok(together.problems.every((p) => p.name === 'bad'));
  });
});

describe('cache annotations', () => {
  run([
    {
      name: 'a default and a maximum lifetime, the query out of the key, stale objects served, a generation: per backend options',
      objects: [
        ours,
        ing('ns/web')
          .ats('cache-default-ttl', '10m')
          .ats('cache-max-ttl', '1h')
          .ats('cache-ignore-query', 'true')
          .ats('cache-serve-stale', '30s')
          .ats('cache-generation', '7')
          .rule('a.com', prefix('/', 'a', 80)),
        ing('ns/api').rule('b.com', prefix('/', 'a', 80)),
        ...svcA,
      ],
      want: {
        routes: [
          'a.com / Prefix -> ns/a:80 cacheDefaultTtl=600s cacheMaxTtl=3600s cacheIgnoreQuery cacheServeStale=30s cacheGeneration=7 (ns/web)',
          'b.com / Prefix -> ns/a:80 (ns/api)',
        ],
      },
    },
    {
      name: 'with the cache bypassed, the other cache annotations mean nothing and are left out',
      objects: [ours, ing('ns/web').ats('cache', 'bypass').ats('cache-default-ttl', '10m').ats('cache-ignore-query', 'true').rule('a.com', prefix('/', 'a', 80)), ...svcA],
      want: { routes: ['a.com / Prefix -> ns/a:80 cache=bypass (ns/web)'] },
    },
    {
      name: 'invalid values are refused naming the annotation; the route keeps the default',
      objects: [
        ours,
        ing('ns/web')
          .ats('cache-default-ttl', 'forever')
          .ats('cache-max-ttl', '1500ms')
          .ats('cache-ignore-query', 'yes')
          .ats('cache-serve-stale', '9000h')
          .ats('cache-generation', '-1')
          .rule('a.com', prefix('/', 'a', 80)),
        ing('ns/api').ats('cache-default-ttl', '2h').ats('cache-max-ttl', '1h').rule('b.com', prefix('/', 'a', 80)),
        ...svcA,
      ],
      want: {
        routes: ['a.com / Prefix -> ns/a:80 (ns/web)', 'b.com / Prefix -> ns/a:80 cacheDefaultTtl=7200s cacheMaxTtl=3600s (ns/api)'],
        problems: [
          "Warning Ingress ns/api metadata.annotations['ats.ingress.kubernetes.io/cache-default-ttl']: 7200s is longer than cache-max-ttl (3600s): objects stay fresh for cache-max-ttl at most",
          "Warning Ingress ns/web metadata.annotations['ats.ingress.kubernetes.io/cache-default-ttl']: \"forever\" is not a duration such as 5s, 500ms or 1m30s; the response's own lifetime is used",
          "Warning Ingress ns/web metadata.annotations['ats.ingress.kubernetes.io/cache-generation']: \"-1\" is not a generation (a whole number from 0 to 2147483647); objects cached so far stay",
          "Warning Ingress ns/web metadata.annotations['ats.ingress.kubernetes.io/cache-ignore-query']: \"yes\" is not \"true\" or \"false\"; the query is part of the cache key",
          "Warning Ingress ns/web metadata.annotations['ats.ingress.kubernetes.io/cache-max-ttl']: \"1500ms\" is not a whole number of seconds (ATS counts cache lifetimes in seconds)",
          "Warning Ingress ns/web metadata.annotations['ats.ingress.kubernetes.io/cache-serve-stale']: \"9000h\" is longer than 8760h (a year); stale objects are not served",
        ],
      },
    },
  ]);
});
