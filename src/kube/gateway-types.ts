// The Gateway API objects the controller reads (gateway.networking.k8s.io,
// standard channel of v1.6), as the API returns them in JSON: GatewayClass,
// Gateway and HTTPRoute in v1, ReferenceGrant in v1beta1 (served by every
// release since v0.6; v1.6 serves it as v1 too, and stores v1beta1). Only the
// fields the Core and Extended HTTP features use are declared; the API server
// has applied the CRD's defaults (parentRef group and kind, path match
// PathPrefix "/", weight 1, allowedRoutes From Same, ...), a manifest may not
// have: readers default what they read.

import type { ObjectMeta } from './types.js';

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';

/** A condition as the Gateway API writes them (metav1.Condition). */
export interface Condition {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
  readonly observedGeneration?: number;
  readonly lastTransitionTime: string;
}

export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | string;
  readonly values?: readonly string[];
}

export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly LabelSelectorRequirement[];
}

// ---------------------------------------------------------------- GatewayClass

export interface GatewayClassSpec {
  readonly controllerName: string;
  readonly parametersRef?: { readonly group: string; readonly kind: string; readonly name: string; readonly namespace?: string };
  readonly description?: string;
}

export interface GatewayClass {
  readonly apiVersion?: 'gateway.networking.k8s.io/v1';
  readonly kind: 'GatewayClass';
  readonly metadata: ObjectMeta;
  readonly spec: GatewayClassSpec;
  readonly status?: { readonly conditions?: readonly Condition[]; readonly supportedFeatures?: ReadonlyArray<{ readonly name: string }> };
}

// ---------------------------------------------------------------- Gateway

export type ListenerProtocol = 'HTTP' | 'HTTPS' | 'TLS' | 'TCP' | 'UDP' | string;
export type FromNamespaces = 'All' | 'Same' | 'Selector' | string;

export interface RouteGroupKind {
  readonly group?: string;
  readonly kind: string;
}

export interface AllowedRoutes {
  readonly namespaces?: { readonly from?: FromNamespaces; readonly selector?: LabelSelector };
  readonly kinds?: readonly RouteGroupKind[];
}

export interface SecretObjectReference {
  readonly group?: string;
  readonly kind?: string;
  readonly name: string;
  readonly namespace?: string;
}

export interface GatewayTLSConfig {
  readonly mode?: 'Terminate' | 'Passthrough' | string;
  readonly certificateRefs?: readonly SecretObjectReference[];
  readonly options?: Readonly<Record<string, string>>;
}

export interface Listener {
  readonly name: string;
  readonly hostname?: string;
  readonly port: number;
  readonly protocol: ListenerProtocol;
  readonly tls?: GatewayTLSConfig;
  readonly allowedRoutes?: AllowedRoutes;
}

export interface GatewaySpecAddress {
  readonly type?: 'IPAddress' | 'Hostname' | string;
  readonly value?: string;
}

export interface GatewayInfrastructure {
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly parametersRef?: { readonly group: string; readonly kind: string; readonly name: string };
}

export interface GatewaySpec {
  readonly gatewayClassName: string;
  readonly listeners: readonly Listener[];
  readonly addresses?: readonly GatewaySpecAddress[];
  readonly infrastructure?: GatewayInfrastructure;
}

export interface ListenerStatus {
  readonly name: string;
  readonly supportedKinds: readonly RouteGroupKind[];
  readonly attachedRoutes: number;
  readonly conditions: readonly Condition[];
}

export interface Gateway {
  readonly apiVersion?: 'gateway.networking.k8s.io/v1';
  readonly kind: 'Gateway';
  readonly metadata: ObjectMeta;
  readonly spec: GatewaySpec;
  readonly status?: {
    readonly addresses?: readonly { readonly type?: string; readonly value: string }[];
    readonly conditions?: readonly Condition[];
    readonly listeners?: readonly ListenerStatus[];
  };
}

// ---------------------------------------------------------------- HTTPRoute

export interface ParentReference {
  readonly group?: string;
  readonly kind?: string;
  readonly namespace?: string;
  readonly name: string;
  readonly sectionName?: string;
  readonly port?: number;
}

export type PathMatchType = 'Exact' | 'PathPrefix' | 'RegularExpression' | string;
export type HeaderMatchType = 'Exact' | 'RegularExpression' | string;
export type HTTPMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE' | 'CONNECT' | 'OPTIONS' | 'TRACE' | 'PATCH' | string;

export interface HTTPPathMatch {
  readonly type?: PathMatchType;
  readonly value?: string;
}

export interface HTTPHeaderMatch {
  readonly type?: HeaderMatchType;
  readonly name: string;
  readonly value: string;
}

export interface HTTPQueryParamMatch {
  readonly type?: HeaderMatchType;
  readonly name: string;
  readonly value: string;
}

export interface HTTPRouteMatch {
  readonly path?: HTTPPathMatch;
  readonly headers?: readonly HTTPHeaderMatch[];
  readonly queryParams?: readonly HTTPQueryParamMatch[];
  readonly method?: HTTPMethod;
}

export interface HTTPHeader {
  readonly name: string;
  readonly value: string;
}

export interface HTTPHeaderFilter {
  readonly set?: readonly HTTPHeader[];
  readonly add?: readonly HTTPHeader[];
  readonly remove?: readonly string[];
}

export interface HTTPPathModifier {
  readonly type: 'ReplaceFullPath' | 'ReplacePrefixMatch' | string;
  readonly replaceFullPath?: string;
  readonly replacePrefixMatch?: string;
}

export interface HTTPRequestRedirectFilter {
  readonly scheme?: 'http' | 'https' | string;
  readonly hostname?: string;
  readonly path?: HTTPPathModifier;
  readonly port?: number;
  readonly statusCode?: 301 | 302 | 303 | 307 | 308 | number;
}

export interface HTTPURLRewriteFilter {
  readonly hostname?: string;
  readonly path?: HTTPPathModifier;
}

export interface LocalObjectReference {
  readonly group: string;
  readonly kind: string;
  readonly name: string;
}

export interface BackendObjectReference {
  readonly group?: string;
  readonly kind?: string;
  readonly name: string;
  readonly namespace?: string;
  readonly port?: number;
}

export interface HTTPRequestMirrorFilter {
  readonly backendRef: BackendObjectReference;
  readonly percent?: number;
  readonly fraction?: { readonly numerator: number; readonly denominator?: number };
}

export type HTTPRouteFilterType =
  | 'RequestHeaderModifier'
  | 'ResponseHeaderModifier'
  | 'RequestMirror'
  | 'RequestRedirect'
  | 'URLRewrite'
  | 'ExtensionRef'
  | string;

export interface HTTPRouteFilter {
  readonly type: HTTPRouteFilterType;
  readonly requestHeaderModifier?: HTTPHeaderFilter;
  readonly responseHeaderModifier?: HTTPHeaderFilter;
  readonly requestMirror?: HTTPRequestMirrorFilter;
  readonly requestRedirect?: HTTPRequestRedirectFilter;
  readonly urlRewrite?: HTTPURLRewriteFilter;
  readonly extensionRef?: LocalObjectReference;
}

export interface HTTPBackendRef extends BackendObjectReference {
  /** Default 1; 0 means never chosen. */
  readonly weight?: number;
  readonly filters?: readonly HTTPRouteFilter[];
}

export interface HTTPRouteRule {
  readonly name?: string;
  /** Default: one match of PathPrefix "/". */
  readonly matches?: readonly HTTPRouteMatch[];
  readonly filters?: readonly HTTPRouteFilter[];
  readonly backendRefs?: readonly HTTPBackendRef[];
}

export interface HTTPRouteSpec {
  readonly parentRefs?: readonly ParentReference[];
  readonly hostnames?: readonly string[];
  /** Default: one rule matching PathPrefix "/". */
  readonly rules?: readonly HTTPRouteRule[];
}

export interface RouteParentStatus {
  readonly parentRef: ParentReference;
  readonly controllerName: string;
  readonly conditions: readonly Condition[];
}

export interface HTTPRoute {
  readonly apiVersion?: 'gateway.networking.k8s.io/v1';
  readonly kind: 'HTTPRoute';
  readonly metadata: ObjectMeta;
  readonly spec: HTTPRouteSpec;
  readonly status?: { readonly parents?: readonly RouteParentStatus[] };
}

// ---------------------------------------------------------------- ReferenceGrant

export interface ReferenceGrantFrom {
  readonly group: string;
  readonly kind: string;
  readonly namespace: string;
}

export interface ReferenceGrantTo {
  readonly group: string;
  readonly kind: string;
  readonly name?: string;
}

export interface ReferenceGrant {
  readonly apiVersion?: 'gateway.networking.k8s.io/v1beta1' | 'gateway.networking.k8s.io/v1';
  readonly kind: 'ReferenceGrant';
  readonly metadata: ObjectMeta;
  readonly spec: { readonly from: readonly ReferenceGrantFrom[]; readonly to: readonly ReferenceGrantTo[] };
}

export type GatewayApiObject = GatewayClass | Gateway | HTTPRoute | ReferenceGrant;
