// The typed wrapper over the addon: the only module that loads it.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RawAddon, RawStats, RawTable } from './addon.js';
import { TableError } from './table-error.js';
import type { LiveTable, LookupRequest, LookupResult, StatsOwnersModel, TableModel } from '../model/table-model.js';
import { encodeModel, ipv4Word, ipv6Words, type EncodedModel } from './encode-model.js';
import { encodeTls, type EncodedTls, type TlsTable } from './encode-tls.js';

export type { TlsTable, TlsTableCertificate, TlsTableGatewayListener, TlsTableHost, TlsTablePolicy } from './encode-tls.js';

/** The live TLS table; `keyPem` is '' unless read with keys. */
export interface LiveTls extends TlsTable {
  readonly generation: bigint;
  readonly buildTimeMs: number;
  readonly sizeBytes: number;
}

export { TableError } from './table-error.js';
export type * from '../model/table-model.js';

export const DEFAULT_TABLE_NAME = 'default';
const TABLE_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** Where the addon may be, most specific first. */
function addonCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
  const list = [
    resolve(root, 'build/Release/ats_ingress.node'),
    resolve(root, 'build/Debug/ats_ingress.node'),
  ];
  const override = env.ATS_INGRESS_ADDON;
  return override ? [resolve(override), ...list] : list;
}

function loadAddon(): RawAddon {
  const require = createRequire(import.meta.url);
  const tried: string[] = [];
  for (const path of addonCandidates()) {
    if (!existsSync(path)) {
      tried.push(`${path} (missing)`);
      continue;
    }
    try {
      const addon = require(path) as RawAddon;
      addon.setErrorClass(TableError);
      return addon;
    } catch (err) {
      tried.push(`${path} (${(err as Error).message})`);
    }
  }
  throw new TableError(
    `cannot load the route-table addon; tried:\n  ${tried.join('\n  ')}\nbuild it with: npm run build`,
    'ERR_ADDON_LOAD',
  );
}

// Loaded on first use, once per module instance (each worker thread has its
// own, as Node-API requires).
let addon: RawAddon | undefined;
function getAddon(): RawAddon {
  addon ??= loadAddon();
  return addon;
}

/**
 * The plugin's request counters, as readStats() gives them: per stats slot,
 * statsCounterNames().length counters, slot-major.
 */
export interface RouteStats extends Readonly<RawStats> {
  /** The names of one slot's counters, in order (the addon's statsCounterNames). */
  readonly counterNames: readonly string[];
}

/**
 * The counters of one stats slot, in order: '1xx' … '5xx' (the status class of
 * the response to the client), then the cache result ('hit_fresh',
 * 'hit_stale', 'miss', 'not_cacheable'). Defined once, in C++.
 */
export function statsCounterNames(): readonly string[] {
  return getAddon().statsCounterNames;
}

/**
 * Returns to the system the memory the C library keeps after it was freed
 * (glibc's malloc_trim); false when none went back or the C library has no
 * such call. A millisecond or two: for when the controller is idle.
 */
export function trimNativeMemory(): boolean {
  return getAddon().trimMemory();
}

/** The error codes the addon was built with (the C++ enum), for the test that the TypeScript list matches. */
export function addonErrorCodes(): readonly string[] {
  return getAddon().errorCodes;
}

export function checkTableName(name: unknown): string {
  if (typeof name !== 'string' || !TABLE_NAME.test(name)) {
    throw new TableError(
      `table name ${JSON.stringify(name)} must be 1 to 64 letters, digits, '_' or '-'`,
      'ERR_INVALID_TABLE_NAME',
    );
  }
  return name;
}

/** RFC 9110's tchar: what a method and a header name are made of. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** CR, LF and NUL (and the other controls but HTAB) cannot be in a header value a proxy takes. */
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

function badArg(field: string, message: string): never {
  throw new TableError(`lookup: ${field} ${message}`, 'ERR_INVALID_ARG', field);
}

/** A LookupRequest checked, headers flattened for the addon. */
function checkLookupRequest(request: unknown): { method?: string; headers?: string[]; localAddress?: string; localPort?: number } {
  if (typeof request !== 'object' || request === null || Array.isArray(request)) badArg('request', 'must be an object');
  const { method, headers, localAddress, localPort } = request as Record<string, unknown>;
  if (method !== undefined && (typeof method !== 'string' || !TOKEN.test(method))) {
    badArg('request.method', `must be an HTTP method (a token), got ${JSON.stringify(method)}`);
  }
  let flat: string[] | undefined;
  if (headers !== undefined) {
    if (!Array.isArray(headers)) badArg('request.headers', 'must be an array of [name, value] pairs');
    flat = new Array<string>(headers.length * 2);
    headers.forEach((h: unknown, i) => {
      if (!Array.isArray(h) || h.length !== 2) badArg(`request.headers[${i}]`, 'must be a [name, value] pair');
      const [name, value] = h as unknown[];
      if (typeof name !== 'string' || !TOKEN.test(name)) badArg(`request.headers[${i}][0]`, `must be a header name (a token), got ${JSON.stringify(name)}`);
      if (typeof value !== 'string' || CONTROL.test(value)) {
        badArg(`request.headers[${i}][1]`, `must be a string without CR, LF, NUL or other control characters, got ${JSON.stringify(value)}`);
      }
      flat![2 * i] = name;
      flat![2 * i + 1] = value;
    });
  }
  if (localAddress !== undefined) {
    const ok = typeof localAddress === 'string' && (ipv4Word(localAddress) >= 0 || (localAddress.includes(':') && ipv6Words(localAddress, new Uint32Array(4), 0)));
    if (!ok) badArg('request.localAddress', `must be an IPv4 or IPv6 address, got ${JSON.stringify(localAddress)}`);
  }
  if (localPort !== undefined && (typeof localPort !== 'number' || !Number.isInteger(localPort) || localPort < 1 || localPort > 65535)) {
    badArg('request.localPort', `must be a whole number from 1 to 65535, got ${JSON.stringify(localPort)}`);
  }
  // One without the other names no listener: a mistake, not an Ingress request.
  if ((localAddress === undefined) !== (localPort === undefined)) {
    badArg(localAddress === undefined ? 'request.localAddress' : 'request.localPort', 'must be given with request.' + (localAddress === undefined ? 'localPort' : 'localAddress'));
  }
  return {
    ...(method !== undefined ? { method: method as string } : {}),
    ...(flat !== undefined ? { headers: flat } : {}),
    ...(localAddress !== undefined ? { localAddress: localAddress as string, localPort: localPort as number } : {}),
  };
}

export interface PublishResult {
  generation: bigint;
  bytes: number;
  /** A route table made with the last one's host, rule and Gateway sections (only the backends changed); absent for TLS tables. */
  routingReused?: boolean;
}

/** A named route table in shared memory: publish to it, look up in it, read it back. */
export class RouteTable {
  readonly name: string;
  readonly #raw: RawTable;

  private constructor(name: string, raw: RawTable) {
    this.name = name;
    this.#raw = raw;
  }

  static open(name: string = DEFAULT_TABLE_NAME): RouteTable {
    const checked = checkTableName(name);
    const Table = getAddon().Table;
    return new RouteTable(checked, new Table(checked));
  }

  get closed(): boolean {
    return this.#raw.closed;
  }

  /** Validates the whole model, then publishes it as the next generation. */
  publish(model: TableModel): PublishResult {
    return this.publishEncoded(encodeModel(model));
  }

  /** Publishes a model already checked and encoded by encodeModel(). */
  publishEncoded(encoded: EncodedModel): PublishResult {
    this.#assertOpen();
    return this.#raw.publish(encoded.pieces, encoded.ints);
  }

  /**
   * What the plugin would do for this request, through the same C++ code.
   * `path` may carry the query. With `request.localAddress` and `localPort`
   * a Gateway listener on that address and port routes it (the method,
   * headers and query then count); else, or when none is there, the
   * Ingress routes.
   */
  lookup(host: string, path: string, request?: LookupRequest): LookupResult {
    this.#assertOpen();
    if (typeof host !== 'string') throw new TableError('lookup: host must be a string', 'ERR_INVALID_ARG', 'host');
    if (typeof path !== 'string') throw new TableError('lookup: path must be a string', 'ERR_INVALID_ARG', 'path');
    if (request === undefined) return this.#raw.lookup(host, path);
    const r = checkLookupRequest(request);
    return this.#raw.lookup(host, path, r.method, r.headers, r.localAddress, r.localPort);
  }

  /** The live table as data. */
  read(): LiveTable {
    this.#assertOpen();
    return this.#raw.read();
  }

  /**
   * Of the live table, what TrafficStats.adopt() needs: read() gives every
   * endpoint, path and option as an object (at 10,000 Ingresses a second
   * model in memory on every start) and keeps the table mapped; this gives
   * the rules' backends and sources, the defaults and the backends'
   * Services and stats slots, and lets go of the mapping.
   */
  readOwners(): StatsOwnersModel {
    this.#assertOpen();
    return this.#raw.readOwners();
  }

  /** Checks the TLS table, then publishes it as the next TLS generation (objects readable by this user only: they hold keys). */
  publishTls(table: TlsTable): PublishResult {
    return this.publishTlsEncoded(encodeTls(table));
  }

  publishTlsEncoded(encoded: EncodedTls): PublishResult {
    this.#assertOpen();
    return this.#raw.publishTls(encoded.strings, encoded.ints);
  }

  /**
   * The TLS table that is live. Private keys only with `withKeys` (the TLS
   * publisher, to keep serving a certificate whose Secret turned bad);
   * nothing that shows it to people asks for them.
   */
  readTls(withKeys = false): LiveTls {
    this.#assertOpen();
    const raw = this.#raw.readTls(withKeys);
    const verify = ['off', 'optional', 'on', 'refuse'] as const;
    return {
      generation: raw.generation,
      buildTimeMs: raw.buildTimeMs,
      sizeBytes: raw.sizeBytes,
      ...(raw.defaultCertificate !== undefined ? { defaultCertificate: raw.defaultCertificate } : {}),
      certificates: raw.certificates.map((c) => ({ secret: c.secret, chainPem: c.chainPem, keyPem: c.keyPem ?? '', notAfter: c.notAfter * 1000 })),
      policies: raw.policies.map((p) => ({
        ...(p.minVersion === 12 ? { minVersion: 'TLSv1.2' as const } : p.minVersion === 13 ? { minVersion: 'TLSv1.3' as const } : {}),
        verifyClient: verify[p.verifyClient] ?? 'refuse',
        ...(p.caPem !== undefined ? { caPem: p.caPem } : {}),
        verifyDepth: p.verifyDepth,
      })),
      hosts: raw.hosts,
      ...(raw.gatewayListeners.length > 0 ? { gatewayListeners: raw.gatewayListeners } : {}),
    };
  }

  /**
   * The plugin's request counters for this table, read afresh from shared
   * memory (a few system calls and a pass over what the plugin's threads
   * counted: for a metrics scrape, not per request). Undefined while no ATS
   * has created them. A new `instance` means ATS started again and its
   * counts began from zero; the last counts of a stopped ATS stay readable
   * until the next one starts.
   */
  readStats(): RouteStats | undefined {
    this.#assertOpen();
    const raw = this.#raw.readStats();
    if (raw === undefined) return undefined;
    return { ...raw, counterNames: getAddon().statsCounterNames };
  }

  /** Unlinks every object of this table name, and the plugin's counters (tests and clean-up). */
  remove(): void {
    this.#assertOpen();
    this.#raw.remove();
  }

  close(): void {
    this.#raw.close();
  }

  #assertOpen(): void {
    if (this.#raw.closed) throw new TableError(`table "${this.name}" is closed`, 'ERR_TABLE_CLOSED');
  }
}
