// Test fixtures: fluent builders for the Kubernetes objects build() reads,
// and a small notation for what it should give (view()).
//
//   ingress('ns/web').className('ats').rule('a.com', prefix('/x', 'svc', 80))
//   service('ns/svc').port('http', 80, 8080)
//   slice('ns/svc').port('http', 8080).ready('10.0.0.1', '10.0.0.2')
//
// Builders are plain values: `.build()` gives a fresh object each time, and
// the `objects` of a test may mix builders and objects.

import type {
  ConfigMap,
  Endpoint,
  EndpointConditions,
  EndpointPort,
  EndpointSlice,
  HTTPIngressPath,
  Ingress,
  IngressBackend,
  IngressClass,
  IngressRule,
  IngressTLS,
  KubeObject,
  Namespace,
  ObjectMeta,
  Protocol,
  Secret,
  Service,
  ServicePort,
  ServiceType,
} from '../kube/types.js';
import { LEGACY_INGRESS_CLASS_ANNOTATION, NAMESPACE_NAME_LABEL, SERVICE_NAME_LABEL, TLS_SECRET_TYPE } from '../kube/types.js';
import type { Snapshot } from '../cache/snapshot.js';
import { snapshotOf } from '../cache/snapshot.js';
import type { TableBackend, TableEndpoint } from '../model/table-model.js';
import { ANNOTATION_PREFIX } from '../model/annotations.js';
import { DEFAULT_CONTROLLER_NAME, parseServicePortRef, type ServicePortRef } from '../config/config.js';
import { isInvalid } from '../validate/invalid.js';
import { FIXTURE_CERT, FIXTURE_KEY } from './fixture-certs.js';
import type { BuildResult, Problem, TlsModel, TlsPolicy } from '../model/model.js';

// ---------------------------------------------------------------- config

/** `namespace/name:port` as the CLI would parse it (throws on a bad one: tests write good ones). */
export function serviceRef(text: string): ServicePortRef {
  const ref = parseServicePortRef(text);
  if (isInvalid(ref)) throw new Error(ref.invalid);
  return ref;
}

// ---------------------------------------------------------------- objects

export interface Fixture<T extends KubeObject = KubeObject> {
  build(): T;
}

export type ObjectLike = KubeObject | Fixture;

export function toObject(o: ObjectLike): KubeObject {
  return 'build' in o ? o.build() : o;
}

export function snapshotFrom(objects: Iterable<ObjectLike>): Snapshot {
  return snapshotOf([...objects].map(toObject));
}

/** Every fixture is created at T0 unless `.created()` says otherwise. */
export const T0 = '2024-01-01T00:00:00Z';

function splitKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  if (slash < 0) return { namespace: 'default', name: key };
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

export abstract class ObjectBuilder<T extends KubeObject> implements Fixture<T> {
  protected readonly meta: {
    name: string;
    namespace?: string;
    creationTimestamp: string;
    resourceVersion?: string;
    annotations: Record<string, string>;
    labels: Record<string, string>;
  };

  constructor(name: string, namespace: string | undefined) {
    this.meta = { name, creationTimestamp: T0, annotations: {}, labels: {} };
    if (namespace !== undefined) this.meta.namespace = namespace;
  }

  /** Seconds after T0, or an RFC 3339 time. */
  created(at: number | string): this {
    this.meta.creationTimestamp = typeof at === 'number' ? new Date(Date.parse(T0) + at * 1000).toISOString().replace('.000Z', 'Z') : at;
    return this;
  }

  resourceVersion(rv: string): this {
    this.meta.resourceVersion = rv;
    return this;
  }

  annotation(key: string, value: string): this {
    this.meta.annotations[key] = value;
    return this;
  }

  label(key: string, value: string): this {
    this.meta.labels[key] = value;
    return this;
  }

  protected metadata(): ObjectMeta {
    const m = this.meta;
    return {
      name: m.name,
      ...(m.namespace !== undefined ? { namespace: m.namespace } : {}),
      creationTimestamp: m.creationTimestamp,
      ...(m.resourceVersion !== undefined ? { resourceVersion: m.resourceVersion } : {}),
      ...(Object.keys(m.annotations).length > 0 ? { annotations: { ...m.annotations } } : {}),
      ...(Object.keys(m.labels).length > 0 ? { labels: { ...m.labels } } : {}),
    };
  }

  abstract build(): T;
}

// -- Ingress

export type PortRef = number | string;

function serviceBackend(service: string, port: PortRef): IngressBackend {
  return { service: { name: service, port: typeof port === 'number' ? { number: port } : { name: port } } };
}

export function prefix(path: string, service: string, port: PortRef): HTTPIngressPath {
  return { path, pathType: 'Prefix', backend: serviceBackend(service, port) };
}

export function exact(path: string, service: string, port: PortRef): HTTPIngressPath {
  return { path, pathType: 'Exact', backend: serviceBackend(service, port) };
}

export function implementationSpecific(path: string | undefined, service: string, port: PortRef): HTTPIngressPath {
  return { ...(path !== undefined ? { path } : {}), pathType: 'ImplementationSpecific', backend: serviceBackend(service, port) };
}

/** A path written out in full, for the shapes the helpers above cannot make. */
export function path(p: HTTPIngressPath): HTTPIngressPath {
  return p;
}

export class IngressBuilder extends ObjectBuilder<Ingress> {
  #className: string | undefined;
  readonly #rules: IngressRule[] = [];
  readonly #tls: IngressTLS[] = [];
  #defaultBackend: IngressBackend | undefined;

  /** spec.ingressClassName */
  className(name: string): this {
    this.#className = name;
    return this;
  }

  /** The legacy `kubernetes.io/ingress.class` annotation. */
  legacyClass(name: string): this {
    return this.annotation(LEGACY_INGRESS_CLASS_ANNOTATION, name);
  }

  /** One of our annotations: `.ats('cache', 'bypass')`. */
  ats(name: string, value: string): this {
    return this.annotation(`${ANNOTATION_PREFIX}${name}`, value);
  }

  /** A rule; host '' (or undefined) for a rule without host; no paths for a host-only rule. */
  rule(host: string | undefined, ...paths: HTTPIngressPath[]): this {
    const rule: IngressRule = {
      ...(host ? { host } : {}),
      ...(paths.length > 0 ? { http: { paths } } : {}),
    };
    this.#rules.push(rule);
    return this;
  }

  defaultBackend(service: string, port: PortRef): this {
    this.#defaultBackend = serviceBackend(service, port);
    return this;
  }

  defaultResourceBackend(kind: string, name: string): this {
    this.#defaultBackend = { resource: { apiGroup: 'example.com', kind, name } };
    return this;
  }

  tls(secretName: string | undefined, ...hosts: string[]): this {
    this.#tls.push({ ...(hosts.length > 0 ? { hosts } : {}), ...(secretName !== undefined ? { secretName } : {}) });
    return this;
  }

  build(): Ingress {
    return {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: this.metadata(),
      spec: {
        ...(this.#className !== undefined ? { ingressClassName: this.#className } : {}),
        ...(this.#defaultBackend ? { defaultBackend: this.#defaultBackend } : {}),
        ...(this.#tls.length > 0 ? { tls: [...this.#tls] } : {}),
        ...(this.#rules.length > 0 ? { rules: [...this.#rules] } : {}),
      },
    };
  }
}

export function ingress(key: string): IngressBuilder {
  const { namespace, name } = splitKey(key);
  return new IngressBuilder(name, namespace);
}

// -- IngressClass

export class IngressClassBuilder extends ObjectBuilder<IngressClass> {
  #controller = DEFAULT_CONTROLLER_NAME;

  controller(name: string): this {
    this.#controller = name;
    return this;
  }

  /** Marks the class as the cluster's default. */
  isDefault(value = 'true'): this {
    return this.annotation('ingressclass.kubernetes.io/is-default-class', value);
  }

  build(): IngressClass {
    return { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: this.metadata(), spec: { controller: this.#controller } };
  }
}

/** An IngressClass, ours unless `.controller()` says otherwise. */
export function ingressClass(name: string): IngressClassBuilder {
  return new IngressClassBuilder(name, undefined);
}

// -- Service

export interface PortOptions {
  readonly appProtocol?: string;
  readonly protocol?: Protocol;
}

export class ServiceBuilder extends ObjectBuilder<Service> {
  readonly #ports: ServicePort[] = [];
  #type: ServiceType | undefined;
  #externalName: string | undefined;

  /** A port; name '' for an unnamed one; targetPort defaults to the port. */
  port(name: string, port: number, targetPort: number | string = port, options: PortOptions = {}): this {
    this.#ports.push({
      ...(name ? { name } : {}),
      protocol: options.protocol ?? 'TCP',
      ...(options.appProtocol ? { appProtocol: options.appProtocol } : {}),
      port,
      targetPort,
    });
    return this;
  }

  externalName(host: string): this {
    this.#type = 'ExternalName';
    this.#externalName = host;
    return this;
  }

  build(): Service {
    return {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: this.metadata(),
      spec: {
        ...(this.#type ? { type: this.#type } : {}),
        ...(this.#externalName ? { externalName: this.#externalName } : {}),
        ports: [...this.#ports],
      },
    };
  }
}

export function service(key: string): ServiceBuilder {
  const { namespace, name } = splitKey(key);
  return new ServiceBuilder(name, namespace);
}

// -- EndpointSlice

export class SliceBuilder extends ObjectBuilder<EndpointSlice> {
  #addressType: EndpointSlice['addressType'] | undefined;
  readonly #ports: EndpointPort[] = [];
  readonly #endpoints: Endpoint[] = [];

  /** A slice port: the Service port's name ('' for an unnamed one) and the resolved targetPort. */
  port(name: string, port: number, protocol: Protocol = 'TCP'): this {
    this.#ports.push({ name, port, protocol });
    return this;
  }

  addressType(type: EndpointSlice['addressType']): this {
    this.#addressType = type;
    return this;
  }

  /** One endpoint with these addresses and conditions (absent conditions: ready). */
  endpoint(addresses: readonly string[], conditions?: EndpointConditions): this {
    this.#endpoints.push({ addresses: [...addresses], ...(conditions ? { conditions } : {}) });
    return this;
  }

  /** One ready endpoint per address. */
  ready(...addresses: string[]): this {
    for (const a of addresses) this.endpoint([a], { ready: true, serving: true, terminating: false });
    return this;
  }

  notReady(...addresses: string[]): this {
    for (const a of addresses) this.endpoint([a], { ready: false, serving: false, terminating: false });
    return this;
  }

  terminating(...addresses: string[]): this {
    for (const a of addresses) this.endpoint([a], { ready: false, serving: true, terminating: true });
    return this;
  }

  /** Endpoints whose `ready` is null: ready. */
  readyUnknown(...addresses: string[]): this {
    for (const a of addresses) this.endpoint([a], { ready: null });
    return this;
  }

  build(): EndpointSlice {
    const first = this.#endpoints[0]?.addresses[0] ?? '';
    return {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: this.metadata(),
      addressType: this.#addressType ?? (first.includes(':') ? 'IPv6' : 'IPv4'),
      endpoints: [...this.#endpoints],
      ports: [...this.#ports],
    };
  }
}

/** An EndpointSlice of the Service `ns/svc`, named `svc-<suffix>` (suffix 'a' unless given). */
export function slice(serviceKey: string, suffix = 'a'): SliceBuilder {
  const { namespace, name } = splitKey(serviceKey);
  return new SliceBuilder(`${name}-${suffix}`, namespace).label(SERVICE_NAME_LABEL, name);
}

// -- Secret, ConfigMap

/** The default certificate and key of tlsSecret(): real, covering every host the table tests use (fixture-certs.ts). */
export const CERT_PEM = FIXTURE_CERT;
export const KEY_PEM = FIXTURE_KEY;

export function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

export class SecretBuilder extends ObjectBuilder<Secret> {
  #type: string | undefined = TLS_SECRET_TYPE;
  readonly #data: Record<string, string> = { 'tls.crt': base64(CERT_PEM), 'tls.key': base64(KEY_PEM) };

  type(type: string | undefined): this {
    this.#type = type;
    return this;
  }

  /** Sets a data key to this (already base64, or not: tests write malformed values too). */
  data(key: string, value: string): this {
    this.#data[key] = value;
    return this;
  }

  without(key: string): this {
    delete this.#data[key];
    return this;
  }

  /** Another certificate and key (PEM), e.g. fixture-certs.ts's OTHER_CERT/OTHER_KEY. */
  cert(certPem: string, keyPem: string): this {
    this.#data['tls.crt'] = base64(certPem);
    this.#data['tls.key'] = base64(keyPem);
    return this;
  }

  /** A ca.crt (PEM) for verifying client certificates. */
  ca(pem: string): this {
    this.#data['ca.crt'] = base64(pem);
    return this;
  }

  build(): Secret {
    return { apiVersion: 'v1', kind: 'Secret', metadata: this.metadata(), ...(this.#type ? { type: this.#type } : {}), data: { ...this.#data } };
  }
}

/** A valid kubernetes.io/tls Secret. */
export function tlsSecret(key: string): SecretBuilder {
  const { namespace, name } = splitKey(key);
  return new SecretBuilder(name, namespace);
}

export class ConfigMapBuilder extends ObjectBuilder<ConfigMap> {
  readonly #data: Record<string, string> = {};

  data(key: string, value: string): this {
    this.#data[key] = value;
    return this;
  }

  build(): ConfigMap {
    return { apiVersion: 'v1', kind: 'ConfigMap', metadata: this.metadata(), data: { ...this.#data } };
  }
}

export function configMap(key: string): ConfigMapBuilder {
  const { namespace, name } = splitKey(key);
  return new ConfigMapBuilder(name, namespace);
}

export class NamespaceBuilder extends ObjectBuilder<Namespace> {
  build(): Namespace {
    return { apiVersion: 'v1', kind: 'Namespace', metadata: this.metadata() };
  }
}

/** A Namespace labelled, as the API server labels every one, kubernetes.io/metadata.name: its name. */
export function namespace(name: string): NamespaceBuilder {
  return new NamespaceBuilder(name, undefined).label(NAMESPACE_NAME_LABEL, name);
}

/** A Service with one named port and a slice of ready endpoints: the common case in one line. */
export function app(serviceKey: string, port: number, targetPort: number, ...addresses: string[]): Fixture[] {
  return [
    service(serviceKey).port('http', port, targetPort),
    slice(serviceKey).port('http', targetPort).ready(...addresses),
  ];
}

// ---------------------------------------------------------------- the notation for results

/**
 * A build result as short lines, one notation for tests:
 *
 *   routes:   'a.com /x Prefix -> ns/svc:80 (ns/ing)'
 *             'a.com default -> ns/svc:80 (ns/ing)'   host default backend
 *             '* /x Exact -> ...'                     '*' is the catch-all host
 *             'controller default -> ns/svc:80'       --default-backend
 *   backends: 'ns/svc:80 -> 10.0.0.1:8080 10.0.0.2:8080'
 *             'ns/svc:80 https redirectToHttps -> (none) ! Service ns/svc does not exist'
 *   tls:      'a.com: ns/secret', 'b.com: default', 'c.com: ns/bad (previous)',
 *             'd.com: default [verify=on ca=ns/ca depth=1 min=TLSv1.3]', 'default certificate: ns/x'
 *   problems: 'Warning Ingress ns/ing spec.rules[0].host: message'
 *   served:   'ns/ing'
 */
export interface View {
  readonly routes: readonly string[];
  readonly backends: readonly string[];
  readonly tls: readonly string[];
  readonly problems: readonly string[];
  readonly served: readonly string[];
}

export function backendLabel(b: TableBackend): string {
  const parts = [`${b.service}:${b.port}`];
  if (b.scheme === 'https') parts.push('https');
  const o = b.options ?? {};
  if (o.connectTimeoutMs !== undefined) parts.push(`connectTimeoutMs=${o.connectTimeoutMs}`);
  if (o.responseTimeoutMs !== undefined) parts.push(`responseTimeoutMs=${o.responseTimeoutMs}`);
  if (o.redirectToHttps) parts.push('redirectToHttps');
  if (o.cachePolicy !== undefined) parts.push(`cache=${o.cachePolicy}`);
  if (o.upstreamHost !== undefined) parts.push(`upstreamHost=${o.upstreamHost}`);
  if (o.cacheDefaultTtlS !== undefined) parts.push(`cacheDefaultTtl=${o.cacheDefaultTtlS}s`);
  if (o.cacheMaxTtlS !== undefined) parts.push(`cacheMaxTtl=${o.cacheMaxTtlS}s`);
  if (o.cacheIgnoreQuery) parts.push('cacheIgnoreQuery');
  if (o.cacheServeStaleS !== undefined) parts.push(`cacheServeStale=${o.cacheServeStaleS}s`);
  if (o.cacheGeneration !== undefined) parts.push(`cacheGeneration=${o.cacheGeneration}`);
  return parts.join(' ');
}

export function endpointLabel(e: TableEndpoint): string {
  const address = e.address.includes(':') ? `[${e.address}]` : e.address;
  return `${address}:${e.port}${e.weight !== undefined && e.weight !== 1 ? `*${e.weight}` : ''}`;
}

export function problemLine(p: Problem): string {
  const object = p.namespace ? `${p.namespace}/${p.name}` : p.name;
  return `${p.severity} ${p.kind} ${object} ${p.field}: ${p.message}`;
}

export function view(result: BuildResult): View {
  const { table, tls } = result.model;
  const label = (i: number): string => {
    const b = table.backends[i];
    return b ? backendLabel(b) : `(no backend ${i})`;
  };
  const routes: string[] = [];
  for (const host of table.hosts) {
    const name = host.name === '' ? '*' : host.name;
    for (const r of host.rules) routes.push(`${name} ${r.path} ${r.pathType} -> ${label(r.backend)} (${r.source})`);
    if (host.defaultBackend !== undefined) routes.push(`${name} default -> ${label(host.defaultBackend)} (${host.defaultSource ?? '?'})`);
  }
  if (table.defaultBackend !== undefined) routes.push(`controller default -> ${label(table.defaultBackend)}`);
  const backends = table.backends.map((b) =>
    `${backendLabel(b)} -> ${b.endpoints.map(endpointLabel).join(' ') || '(none)'}${b.problem !== undefined ? ` ! ${b.problem}` : ''}`);
  return {
    routes,
    backends,
    tls: tlsLines(tls),
    problems: result.problems.map(problemLine),
    served: [...result.served],
  };
}

function policyLabel(p: TlsPolicy): string {
  const parts = [`verify=${p.verifyClient}`];
  if (p.verifyClient !== 'off') parts.push(`ca=${p.caSecret ?? '(none: refused)'}`, `depth=${p.verifyDepth}`);
  if (p.minVersion) parts.push(`min=${p.minVersion}`);
  return parts.join(' ');
}

function tlsLines(tls: TlsModel): string[] {
  const lines = tls.hosts.map((h) => {
    const policy = h.policy !== undefined ? tls.policies[h.policy] : undefined;
    return `${h.name}: ${h.secret ?? 'default'}${h.current ? '' : ' (previous)'}${policy ? ` [${policyLabel(policy)}]` : ''}`;
  });
  if (tls.defaultCertificate) lines.push(`default certificate: ${tls.defaultCertificate.secret}${tls.defaultCertificate.current ? '' : ' (previous)'}`);
  return lines;
}
