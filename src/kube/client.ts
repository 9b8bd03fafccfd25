// A small HTTP client for the Kubernetes API: JSON requests and watch
// streams, with the kubeconfig's authentication applied per request by
// @kubernetes/client-node (`KubeConfig.applyToHTTPSOptions`: client certs,
// bearer tokens, in-cluster token files that rotate, exec plugins).
//
// We do not use client-node's `Watch` or informers: the 1.x `Watch` drops the
// Status body of a failed watch, has no timeout and cannot tell a clean end
// from a dead connection, and its informer stops for good on any error other
// than 410. The source (kubernetes.ts) owns restarts; this module only turns
// one request into one result or one typed error.
//
// Every request is bounded in time (`timeoutMs`); a watch is bounded until its
// response headers arrive and afterwards by its caller's watchdog.
//
// client-node is loaded by `KubeClient.create()`, not by importing this
// module: loading it takes most of a second (0.74 s of the CLI's 1.15 s for
// `controller --manifests --once` at 100 Ingresses), which every command
// that never talks to an API server (--manifests, routes, lookup, the demo)
// would pay. It is an ES module, so it cannot be loaded on demand inside a
// synchronous constructor.

import * as http from 'node:http';
import * as https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeApiError, errorFromResponse, errorMessage, transportError } from './errors.js';
import { WatchStreamDecoder, type RawWatchEvent } from './watch-stream.js';

export type { RawWatchEvent } from './watch-stream.js';

export type QueryValue = string | number | boolean | undefined;
export type Query = Readonly<Record<string, QueryValue>>;

export interface KubeRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** An API path such as `/api/v1/namespaces/x/events`, without query. */
  readonly path: string;
  readonly query?: Query;
  /** Sent as JSON. */
  readonly body?: unknown;
  /** Default `application/json`; PATCH defaults to `application/merge-patch+json`. */
  readonly contentType?: string;
  /** Whole request, connect to last byte. Default 30 s. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /**
   * On a new connection rather than a pooled keep-alive one. For rare, large
   * requests (lists) that must not land on a pooled socket that died silently.
   */
  readonly fresh?: boolean;
}

export interface WatchRequest {
  readonly path: string;
  readonly query: Query;
  /** Aborting it ends the watch; `watch()` then rejects with a `KubeApiError` whose code is `ABORTED`. */
  readonly signal: AbortSignal;
  /** Bound on connecting and receiving the response headers. Default 30 s. */
  readonly headersTimeoutMs?: number;
  /** Called once when the API answered 200 and the stream begins. */
  readonly onOpen?: () => void;
  /** Called with the events parsed from one chunk of the stream, in order. */
  readonly onEvents: (events: readonly RawWatchEvent[]) => void;
}

/**
 * What the source needs from the API. `KubeClient` is the real one; tests of
 * the watch state machine inject a fake.
 */
export interface KubeTransport {
  /** Resolves with the parsed JSON body of a 2xx answer; rejects with `KubeApiError` otherwise. */
  request(req: KubeRequest): Promise<unknown>;
  /** Resolves when the server ends the stream cleanly; rejects with `KubeApiError` on any failure or abort. */
  watch(req: WatchRequest): Promise<void>;
}

export function encodeQuery(query: Query | undefined): string {
  if (!query) return '';
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

/** Bounds on what one answer may hold, so a broken server cannot fill memory. */
const MAX_RESPONSE_BYTES = 256 * 1024 * 1024;

export interface KubeClientOptions {
  /** A kubeconfig file; absent: in-cluster (the pod's ServiceAccount). */
  readonly kubeconfig?: string;
  /** A KubeConfig already loaded (wins over `kubeconfig`). */
  readonly kubeConfig?: KubeConfig;
  /** Sent as User-Agent. */
  readonly userAgent?: string;
}

/** The real transport: node:https with a keep-alive agent and client-node's auth. */
export class KubeClient implements KubeTransport {
  readonly server: URL;
  readonly #kc: KubeConfig;
  readonly #agent: http.Agent;
  readonly #useOwnAgent: boolean;
  readonly #userAgent: string;

  /** A client on the kubeconfig file, or on the in-cluster configuration; or on `kubeConfig`, already loaded. */
  static async create(options: KubeClientOptions = {}): Promise<KubeClient> {
    if (options.kubeConfig) return new KubeClient(options.kubeConfig, options);
    const from = options.kubeconfig ? `kubeconfig ${options.kubeconfig}` : 'the in-cluster config';
    const { KubeConfig } = await import('@kubernetes/client-node');
    const kc = new KubeConfig();
    try {
      if (options.kubeconfig) kc.loadFromFile(options.kubeconfig);
      else kc.loadFromCluster();
    } catch (err) {
      throw new Error(`cannot load ${from}: ${errorMessage(err)}`);
    }
    const cluster = kc.getCurrentCluster();
    if (cluster && !options.kubeconfig && cluster.server.includes('undefined')) {
      throw new Error('not running in a cluster (KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT are not set): pass --kubeconfig');
    }
    return new KubeClient(kc, options, from);
  }

  /** On a KubeConfig already loaded (`create()` loads one). `from` names it in errors. */
  constructor(kc: KubeConfig, options: Pick<KubeClientOptions, 'userAgent'> = {}, from = 'the given KubeConfig') {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error(`${from} has no current cluster (check current-context)`);
    try {
      this.server = new URL(cluster.server);
    } catch {
      throw new Error(`${from}: the server ${JSON.stringify(cluster.server)} is not a URL`);
    }
    this.#kc = kc;
    // Through a proxy, client-node's own agent (a proxy agent) is used per request.
    this.#useOwnAgent = !cluster.proxyUrl;
    this.#agent =
      this.server.protocol === 'http:'
        ? new http.Agent({ keepAlive: true, maxFreeSockets: 8 })
        : new https.Agent({ keepAlive: true, maxFreeSockets: 8 });
    this.#userAgent = options.userAgent ?? 'ats-ingress';
  }

  /** Closes idle keep-alive connections. Requests still running are not affected. */
  close(): void {
    this.#agent.destroy();
  }

  async #options(method: string, path: string, query: Query | undefined, extraHeaders: Record<string, string>): Promise<https.RequestOptions> {
    const opts: https.RequestOptions = {};
    await this.#kc.applyToHTTPSOptions(opts);
    const base = this.server.pathname.replace(/\/+$/, '');
    const authHeaders: http.OutgoingHttpHeaders = opts.headers && !Array.isArray(opts.headers) ? (opts.headers as http.OutgoingHttpHeaders) : {};
    const headers: http.OutgoingHttpHeaders = { ...authHeaders, accept: 'application/json', 'user-agent': this.#userAgent, ...extraHeaders };
    return {
      ...opts,
      headers,
      method,
      protocol: this.server.protocol,
      hostname: this.server.hostname.replace(/^\[|\]$/g, ''),
      port: this.server.port || (this.server.protocol === 'http:' ? 80 : 443),
      path: `${base}${path}${encodeQuery(query)}`,
      agent: this.#useOwnAgent ? this.#agent : opts.agent,
    };
  }

  #send(opts: https.RequestOptions): http.ClientRequest {
    return opts.protocol === 'http:' ? http.request(opts) : https.request(opts);
  }

  async request(req: KubeRequest): Promise<unknown> {
    try {
      return await this.#requestOnce(req);
    } catch (err) {
      // A keep-alive socket the server closed meanwhile (e.g. it restarted): try once on a fresh one.
      if (err instanceof StaleSocketError) return this.#requestOnce(req);
      throw err;
    }
  }

  async #requestOnce(req: KubeRequest): Promise<unknown> {
    const method = req.method;
    const timeoutMs = req.timeoutMs ?? 30_000;
    const body = req.body === undefined ? undefined : JSON.stringify(req.body);
    const extra: Record<string, string> = {};
    if (body !== undefined) {
      extra['content-type'] = req.contentType ?? (method === 'PATCH' ? 'application/merge-patch+json' : 'application/json');
      extra['content-length'] = String(Buffer.byteLength(body));
    }
    const opts = await this.#options(method, req.path, req.query, extra);
    if (req.fresh && this.#useOwnAgent) opts.agent = false;
    if (req.signal?.aborted) throw new KubeApiError(`${method} ${req.path}: aborted`, 0, 'ABORTED');
    return new Promise<unknown>((resolve, reject) => {
      let settled = false;
      const finish = (err: unknown, value?: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.signal?.removeEventListener('abort', onAbort);
        if (err !== undefined) reject(err);
        else resolve(value);
      };
      const r = this.#send(opts);
      const timer = setTimeout(() => {
        r.destroy();
        finish(new KubeApiError(`${method} ${req.path}: no complete answer within ${timeoutMs} ms`, 0, 'TIMEOUT'));
      }, timeoutMs);
      const onAbort = () => {
        r.destroy();
        finish(new KubeApiError(`${method} ${req.path}: aborted`, 0, 'ABORTED'));
      };
      req.signal?.addEventListener('abort', onAbort, { once: true });
      r.on('error', (err: NodeJS.ErrnoException) => {
        if (r.reusedSocket && err.code === 'ECONNRESET') finish(new StaleSocketError(`${method} ${req.path}: ${err.message} (on a reused connection)`));
        else finish(transportError(method, req.path, err));
      });
      r.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_RESPONSE_BYTES) {
            r.destroy();
            finish(new KubeApiError(`${method} ${req.path}: answer larger than ${MAX_RESPONSE_BYTES} bytes`, 0, 'TOO_LARGE'));
            return;
          }
          chunks.push(c);
        });
        res.on('error', (err) => finish(transportError(method, req.path, err)));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status < 200 || status > 299) {
            finish(errorFromResponse(method, req.path, status, text));
            return;
          }
          if (!text) {
            finish(undefined, undefined);
            return;
          }
          try {
            finish(undefined, JSON.parse(text) as unknown);
          } catch {
            finish(new KubeApiError(`${method} ${req.path}: HTTP ${status} with a body that is not JSON`, status, 'BAD_JSON'));
          }
        });
      });
      r.end(body);
    });
  }

  async watch(req: WatchRequest): Promise<void> {
    const path = req.path;
    const headersTimeoutMs = req.headersTimeoutMs ?? 30_000;
    const opts = await this.#options('GET', path, { ...req.query, watch: 'true' }, {});
    // A watch holds its connection: give it its own socket rather than a pooled one.
    if (this.#useOwnAgent) opts.agent = false;
    if (req.signal.aborted) throw new KubeApiError(`watch ${path}: aborted`, 0, 'ABORTED');
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const finish = (err?: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.signal.removeEventListener('abort', onAbort);
        r.destroy();
        if (err !== undefined) reject(err);
        else resolve();
      };
      const r = this.#send(opts);
      const timer = setTimeout(() => {
        finish(new KubeApiError(`watch ${path}: no answer within ${headersTimeoutMs} ms`, 0, 'TIMEOUT'));
      }, headersTimeoutMs);
      const onAbort = () => finish(new KubeApiError(`watch ${path}: aborted`, 0, 'ABORTED'));
      req.signal.addEventListener('abort', onAbort, { once: true });
      r.on('error', (err) => finish(transportError('watch', path, err)));
      r.on('response', (res) => {
        clearTimeout(timer);
        const status = res.statusCode ?? 0;
        if (status !== 200) {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => {
            if (text.length < 65536) text += d;
          });
          res.on('error', (err) => finish(transportError('watch', path, err)));
          res.on('end', () => finish(errorFromResponse('watch', path, status, text)));
          return;
        }
        try {
          req.onOpen?.();
        } catch (err) {
          finish(err);
          return;
        }
        const decoder = new WatchStreamDecoder(`watch ${path}`);
        res.on('data', (chunk: Buffer) => {
          if (settled) return;
          let events: RawWatchEvent[];
          try {
            events = decoder.write(chunk);
          } catch (err) {
            finish(err);
            return;
          }
          if (events.length) {
            try {
              req.onEvents(events);
            } catch (err) {
              finish(err);
            }
          }
        });
        res.on('error', (err) => finish(transportError('watch', path, err)));
        res.on('aborted', () => finish(new KubeApiError(`watch ${path}: connection closed mid-stream`, 0, 'ECONNRESET')));
        res.on('end', () => finish());
        res.on('close', () => {
          // 'close' without 'end': the connection broke.
          if (!res.complete) finish(new KubeApiError(`watch ${path}: connection closed mid-stream`, 0, 'ECONNRESET'));
          else finish();
        });
      });
      r.end();
    });
  }
}

/** A pooled keep-alive connection the server had closed: the request is tried once more on a new one. */
class StaleSocketError extends KubeApiError {
  constructor(message: string) {
    super(message, 0, 'ECONNRESET');
  }
}
