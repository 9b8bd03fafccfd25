// The route table as the addon takes it and gives it back: flat, indexed, and
// already sorted by the builder so that the same objects give the same bytes.
// This is the one shape that crosses the TypeScript/C++ boundary.

export type PathType = 'Exact' | 'Prefix' | 'ImplementationSpecific';
export type UpstreamScheme = 'http' | 'https';

export interface TableEndpoint {
  /** IPv4 dotted quad or IPv6 text form, no brackets. */
  address: string;
  port: number;
  /** 1..65535; defaults to 1. Kubernetes endpoints are all weight 1. */
  weight?: number;
}

/** Per-backend options; each becomes a versioned record in the table. */
export interface BackendOptions {
  connectTimeoutMs?: number;
  responseTimeoutMs?: number;
  redirectToHttps?: boolean;
  /** 'default' leaves ATS's cache policy alone; 'bypass' never caches. */
  cachePolicy?: 'default' | 'bypass';
  /** Host header sent upstream instead of the client's. */
  upstreamHost?: string;
  /** Seconds a cacheable response without freshness information of its own stays fresh. */
  cacheDefaultTtlS?: number;
  /** Seconds at most any response stays fresh, whatever it says. */
  cacheMaxTtlS?: number;
  /** The query is left out of the cache key (assets). */
  cacheIgnoreQuery?: boolean;
  /** Seconds a stale object may be served while the pod is down or answers 5xx. */
  cacheServeStaleS?: number;
  /** The cache generation: changing it makes every object cached before absent. */
  cacheGeneration?: number;
  /**
   * The slot of the plugin's per-route counters (requests by status class
   * and cache result) that requests of this backend are counted in.
   * Assigned by the route-table publisher, stable for an (Ingress, Service).
   */
  statsSlot?: number;
}

export interface TableBackend {
  /** `namespace/name` of the Service. */
  service: string;
  /** The Service port as the Ingress names it: a number or a port name, as text. */
  port: string;
  scheme: UpstreamScheme;
  /** Ready endpoints only, in a stable order. Empty: requests get 503. */
  endpoints: TableEndpoint[];
  options?: BackendOptions;
  /** Why this backend cannot serve (e.g. the Service does not exist); shown in 503 bodies. */
  problem?: string;
}

export interface TableRule {
  /** Begins with '/'. */
  path: string;
  pathType: PathType;
  /** Index into TableModel.backends. */
  backend: number;
  /** `namespace/name` of the Ingress this rule came from. */
  source: string;
}

export interface TableHost {
  /** Lowercase exact name, `*.suffix` for a single-label wildcard, or '' for the catch-all. */
  name: string;
  rules: TableRule[];
  /** Backend for a request of this host that matches no rule. */
  defaultBackend?: number;
  /** `namespace/name` of the Ingress that gave the default backend. */
  defaultSource?: string;
}

export interface TableModel {
  hosts: TableHost[];
  backends: TableBackend[];
  /** The controller's --default-backend, used when the selected host has none. */
  defaultBackend?: number;
  /**
   * The Gateway API's routes: a request whose connection arrived on the
   * address and port of one of these listeners is routed by them alone
   * (never by `hosts`); absent or empty: none.
   */
  gateway?: TableGateway;
}

// ------------------------------------------------------------ the Gateway API
// A request belongs to the Gateway whose address and port its connection
// arrived on; of that Gateway's listeners on that port, the one whose
// hostname matches the request's host most specifically (exact, then the
// wildcard with the most labels, then none), never a wider one; within it,
// the first entry (they are in the spec's order of precedence) whose
// hostname and match the request meets. No listener or no entry: 404.

export type GatewayPathType = 'Exact' | 'PathPrefix';

export interface NameValue {
  name: string;
  value: string;
}

/** Header modifications of a RequestHeaderModifier or ResponseHeaderModifier filter. */
export interface HeaderEdits {
  /** Replaces every value of the header (added when absent). */
  set: NameValue[];
  /** Appended as another value: a request carrying `a` receives `a,b`. */
  add: NameValue[];
  /** Header names. */
  remove: string[];
}

export type PathModifier = { type: 'ReplaceFullPath'; value: string } | { type: 'ReplacePrefixMatch'; value: string };

export type TableFilter =
  | { type: 'RequestHeaderModifier'; edits: HeaderEdits }
  | { type: 'ResponseHeaderModifier'; edits: HeaderEdits }
  | {
      type: 'RequestRedirect';
      /** Absent: the request's scheme. */
      scheme?: 'http' | 'https';
      /** Absent: the request's host (without its port). */
      hostname?: string;
      /** Absent: derived as the spec says (80/443 for a given scheme, else the listener's port). */
      port?: number;
      path?: PathModifier;
      statusCode: 301 | 302 | 303 | 307 | 308;
    }
  | { type: 'URLRewrite'; hostname?: string; path?: PathModifier };

export interface TableGatewayChoice {
  /** Index into TableModel.backends; absent: the backendRef is invalid and its share of requests gets 500. */
  backend?: number;
  /** 0..1,000,000; 0 is never chosen. */
  weight: number;
  /** The backendRef's own filters, applied after the rule's. */
  filters: TableFilter[];
  /** Why an invalid backendRef cannot serve (the 500's body). */
  problem?: string;
}

export interface TableGatewayRule {
  /** `namespace/name` of the HTTPRoute. */
  route: string;
  /** The rule's index in spec.rules. */
  ruleIndex: number;
  filters: TableFilter[];
  /** The requests a rule forwards go to one of these, chosen by weight. */
  choices: TableGatewayChoice[];
  /** Set when the rule answers 500 to every request (no valid backend, and no redirect): why. */
  failure?: string;
}

export interface TableGatewayEntry {
  /** The hostname the rule is routed on under this listener: lowercase exact, `*.suffix` (one or more labels), or '' for any. */
  hostname: string;
  pathType: GatewayPathType;
  /** As written; a PathPrefix's trailing '/' takes no part in matching. */
  path: string;
  /** Absent: any method. */
  method?: string;
  /** Exact matches, names lowercase, each name once. */
  headers: NameValue[];
  /** Exact matches, each name once. */
  queryParams: NameValue[];
  /** Index into TableGateway.rules. */
  rule: number;
}

export interface TableGatewayListener {
  /** `namespace/name` of the Gateway. */
  gateway: string;
  /** The listener's name. */
  listener: string;
  /**
   * The local address the plugin sees the connection arrive on: IPv4 or IPv6
   * text, or '*' for every local address of `port` (in a cluster, where the
   * pod has one address and Gateways are told apart by port). A connection
   * takes the listeners of its own address and port if there are any, else
   * those of '*' on its port.
   */
  address: string;
  /** The local port ATS serves the listener on (may differ from `listenerPort` when not run as root). */
  port: number;
  /** spec.listeners[].port, for redirects that keep the port. */
  listenerPort: number;
  protocol: 'HTTP' | 'HTTPS';
  /** Lowercase exact, `*.suffix`, or '' for any host. */
  hostname: string;
  /** Most precedent first. */
  entries: TableGatewayEntry[];
}

export interface TableGateway {
  /** Sorted by (address, port), then hostname from the most specific to none. */
  listeners: TableGatewayListener[];
  rules: TableGatewayRule[];
}

/** What a lookup knows of a request beyond its host and path (the path may carry a query). */
export interface LookupRequest {
  /** Default GET. */
  method?: string;
  /** As sent: any case, a name may repeat. */
  headers?: Array<[string, string]>;
  /** The local address and port the request arrived on: given, a Gateway listener there routes it. */
  localAddress?: string;
  localPort?: number;
}

export interface LookupResult {
  /**
   * 400: an ambiguous path ("..;x", native/core/names.h), which the plugin
   * refuses; 3xx: a Gateway API RequestRedirect (`location`); 500: a Gateway
   * API backendRef that is invalid.
   */
  status: 200 | 301 | 302 | 303 | 307 | 308 | 400 | 404 | 500 | 503;
  /** For a redirect: the Location. */
  location?: string;
  /** When a Gateway listener took the request: which, the rule that matched, and the filters it applies (the rule's, then the chosen backend's). */
  gateway?: {
    gateway: string;
    listener: string;
    route?: string;
    ruleIndex?: number;
    entry?: number;
    filters?: TableFilter[];
  };
  /** Why, for 400, 404 and 503 (the plugin's body says the same). */
  reason?: string;
  generation: bigint;
  service?: string;
  servicePort?: string;
  scheme?: UpstreamScheme;
  /** `ip:port` (IPv6 as `[ip]:port`) that a fresh reader would pick first. */
  endpoint?: string;
  endpoints?: string[];
  rule?: { host: string; path: string; pathType: PathType | 'Default'; source: string };
}

/**
 * Of a table, what says which (Ingress, Service) each stats slot counts for
 * (TrafficStats.adopt): the rules' backends and sources, the defaults, and
 * each backend's Service and slot. A TableModel is one; so is what
 * RouteTable.readOwners() reads of the live table, at a fraction of read()'s
 * memory.
 */
export interface StatsOwnersModel {
  hosts: ReadonlyArray<Pick<TableHost, 'defaultBackend' | 'defaultSource'> & { rules: ReadonlyArray<Pick<TableRule, 'backend' | 'source'>> }>;
  backends: ReadonlyArray<Pick<TableBackend, 'service'> & { options?: Pick<BackendOptions, 'statsSlot'> }>;
  defaultBackend?: number;
}

export interface LiveTable extends TableModel {
  generation: bigint;
  /** Milliseconds since the epoch when the table was built. */
  buildTimeMs: number;
  sizeBytes: number;
}
