// Fixture builders for the Gateway API objects (the Ingress ones are in
// fixtures.ts), written as the objects are read back from the API server:
// with the CRD's defaults that a test does not override.
//
//   gatewayClass('ats')
//   gateway('infra/gw').listener('http', 80, { hostname: '*.example.com', from: 'All' })
//   httpRoute('app/web').parent('infra/gw').hostnames('a.example.com').rule(match({ path: exactPath('/x') }), backend('web', 80))
//   referenceGrant('svc/allow').from('HTTPRoute', 'app').to('Service')

import { DEFAULT_GATEWAY_CONTROLLER_NAME } from '../config/config.js';
import type {
  Gateway,
  GatewayClass,
  HTTPBackendRef,
  HTTPHeaderMatch,
  HTTPQueryParamMatch,
  HTTPRoute,
  HTTPRouteFilter,
  HTTPRouteMatch,
  HTTPRouteRule,
  LabelSelector,
  Listener,
  ParentReference,
  ReferenceGrant,
  ReferenceGrantFrom,
  ReferenceGrantTo,
  RouteGroupKind,
  SecretObjectReference,
} from '../kube/types.js';
import { GATEWAY_GROUP } from '../kube/gateway-types.js';
import { ObjectBuilder } from './fixtures.js';

function split(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { namespace: 'default', name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

export class GatewayClassBuilder extends ObjectBuilder<GatewayClass> {
  #controller = DEFAULT_GATEWAY_CONTROLLER_NAME;
  #generation = 1;

  controller(name: string): this {
    this.#controller = name;
    return this;
  }

  generation(g: number): this {
    this.#generation = g;
    return this;
  }

  build(): GatewayClass {
    return { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { ...this.metadata(), generation: this.#generation }, spec: { controllerName: this.#controller } };
  }
}

export function gatewayClass(name: string): GatewayClassBuilder {
  return new GatewayClassBuilder(name, undefined);
}

export interface ListenerOptions {
  readonly hostname?: string;
  readonly protocol?: string;
  /** allowedRoutes.namespaces.from; default Same (the CRD's default). */
  readonly from?: 'All' | 'Same' | 'Selector';
  readonly selector?: LabelSelector;
  readonly kinds?: readonly RouteGroupKind[];
  /** tls.certificateRefs: Secrets of the Gateway's namespace by name, or `namespace/name`, or a whole reference. */
  readonly certificates?: ReadonlyArray<string | SecretObjectReference>;
}

function certificateRef(ref: string | SecretObjectReference): SecretObjectReference {
  if (typeof ref !== 'string') return ref;
  const slash = ref.indexOf('/');
  return { group: '', kind: 'Secret', name: slash < 0 ? ref : ref.slice(slash + 1), ...(slash < 0 ? {} : { namespace: ref.slice(0, slash) }) };
}

export class GatewayBuilder extends ObjectBuilder<Gateway> {
  #className = 'ats';
  readonly #listeners: Listener[] = [];
  #generation = 1;

  generation(g: number): this {
    this.#generation = g;
    return this;
  }

  className(name: string): this {
    this.#className = name;
    return this;
  }

  listener(name: string, port: number, o: ListenerOptions = {}): this {
    const from = o.from ?? 'Same';
    this.#listeners.push({
      name,
      port,
      protocol: o.protocol ?? 'HTTP',
      ...(o.hostname !== undefined ? { hostname: o.hostname } : {}),
      ...(o.certificates ? { tls: { mode: 'Terminate', certificateRefs: o.certificates.map(certificateRef) } } : {}),
      allowedRoutes: { namespaces: { from, ...(o.selector ? { selector: o.selector } : {}) }, ...(o.kinds ? { kinds: o.kinds } : {}) },
    });
    return this;
  }

  build(): Gateway {
    return { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { ...this.metadata(), generation: this.#generation }, spec: { gatewayClassName: this.#className, listeners: [...this.#listeners] } };
  }
}

export function gateway(key: string): GatewayBuilder {
  const { namespace, name } = split(key);
  return new GatewayBuilder(name, namespace);
}

/** A parentRef to a Gateway `namespace/name` (the namespace left out when it is the Route's). */
export function parentRef(key: string, o: { sectionName?: string; port?: number; routeNamespace?: string } = {}): ParentReference {
  const { namespace, name } = split(key);
  return {
    group: GATEWAY_GROUP,
    kind: 'Gateway',
    name,
    ...(key.includes('/') && namespace !== o.routeNamespace ? { namespace } : {}),
    ...(o.sectionName !== undefined ? { sectionName: o.sectionName } : {}),
    ...(o.port !== undefined ? { port: o.port } : {}),
  };
}

export const exactPath = (value: string) => ({ type: 'Exact', value }) as const;
export const prefixPath = (value: string) => ({ type: 'PathPrefix', value }) as const;
export const header = (name: string, value: string): HTTPHeaderMatch => ({ type: 'Exact', name, value });
export const query = (name: string, value: string): HTTPQueryParamMatch => ({ type: 'Exact', name, value });

export function match(m: HTTPRouteMatch = {}): HTTPRouteMatch {
  return { path: m.path ?? prefixPath('/'), ...(m.headers ? { headers: m.headers } : {}), ...(m.queryParams ? { queryParams: m.queryParams } : {}), ...(m.method ? { method: m.method } : {}) };
}

/** A backendRef to a Service of the Route's namespace, or `namespace/name`. */
export function backend(service: string, port: number, o: { weight?: number; kind?: string; group?: string } = {}): HTTPBackendRef {
  const slash = service.indexOf('/');
  return {
    group: o.group ?? '',
    kind: o.kind ?? 'Service',
    name: slash < 0 ? service : service.slice(slash + 1),
    ...(slash < 0 ? {} : { namespace: service.slice(0, slash) }),
    port,
    weight: o.weight ?? 1,
  };
}

export interface RuleParts {
  readonly matches?: readonly HTTPRouteMatch[];
  readonly backends?: readonly HTTPBackendRef[];
  readonly filters?: readonly HTTPRouteFilter[];
}

export class HTTPRouteBuilder extends ObjectBuilder<HTTPRoute> {
  readonly #parents: ParentReference[] = [];
  #hostnames: string[] | undefined;
  readonly #rules: HTTPRouteRule[] = [];
  #generation = 1;

  /** A parent Gateway, by `namespace/name` or a ParentReference. */
  parent(ref: string | ParentReference, o: { sectionName?: string; port?: number } = {}): this {
    this.#parents.push(typeof ref === 'string' ? parentRef(ref, { ...o, routeNamespace: this.meta.namespace }) : ref);
    return this;
  }

  hostnames(...h: string[]): this {
    this.#hostnames = h;
    return this;
  }

  rule(r: RuleParts): this {
    this.#rules.push({ matches: r.matches ?? [match()], ...(r.filters ? { filters: r.filters } : {}), ...(r.backends ? { backendRefs: r.backends } : {}) });
    return this;
  }

  generation(g: number): this {
    this.#generation = g;
    return this;
  }

  build(): HTTPRoute {
    return {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { ...this.metadata(), generation: this.#generation },
      spec: { parentRefs: [...this.#parents], ...(this.#hostnames ? { hostnames: [...this.#hostnames] } : {}), rules: this.#rules.length ? [...this.#rules] : [{ matches: [match()] }] },
    };
  }
}

export function httpRoute(key: string): HTTPRouteBuilder {
  const { namespace, name } = split(key);
  return new HTTPRouteBuilder(name, namespace);
}

export class ReferenceGrantBuilder extends ObjectBuilder<ReferenceGrant> {
  readonly #from: ReferenceGrantFrom[] = [];
  readonly #to: ReferenceGrantTo[] = [];

  /** From Routes of this kind (gateway group) in that namespace. */
  from(kind: string, namespace: string, group = GATEWAY_GROUP): this {
    this.#from.push({ group, kind, namespace });
    return this;
  }

  /** To objects of this kind (core group unless said), all or one by name. */
  to(kind: string, name?: string, group = ''): this {
    this.#to.push({ group, kind, ...(name !== undefined ? { name } : {}) });
    return this;
  }

  build(): ReferenceGrant {
    return { apiVersion: 'gateway.networking.k8s.io/v1beta1', kind: 'ReferenceGrant', metadata: this.metadata(), spec: { from: [...this.#from], to: [...this.#to] } };
  }
}

export function referenceGrant(key: string): ReferenceGrantBuilder {
  const { namespace, name } = split(key);
  return new ReferenceGrantBuilder(name, namespace);
}
