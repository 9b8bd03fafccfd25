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
}

export interface LookupResult {
  /** 400: an ambiguous path ("..;x", native/core/names.h), which the plugin refuses. */
  status: 200 | 400 | 404 | 503;
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

export interface LiveTable extends TableModel {
  generation: bigint;
  /** Milliseconds since the epoch when the table was built. */
  buildTimeMs: number;
  sizeBytes: number;
}
