// The raw addon (native/addon/addon.cc). Only route-table.ts loads it.
import type { LiveTable, LookupResult, StatsOwnersModel } from '../model/table-model.js';

export interface RawTable {
  /** The model as encoded by encode-model.ts. */
  /** `strings`: the strings separated by NUL, or in pieces the addon joins with NUL. */
  publish(strings: string | readonly string[], ints: Uint32Array): { generation: bigint; bytes: number; routingReused: boolean };
  /**
   * The request's method, headers (flat: name, value, name, value …) and
   * local address and port are optional, checked by route-table.ts; with an
   * address and port a Gateway listener there routes the request.
   */
  lookup(
    host: string,
    path: string,
    method?: string,
    headers?: string[],
    localAddress?: string,
    localPort?: number,
  ): LookupResult;
  read(): LiveTable;
  /** Of the live table, only what says which pair each stats slot counts for; the mapping is not kept. */
  readOwners(): StatsOwnersModel;
  /** The TLS table as encoded by encode-tls.ts. */
  publishTls(strings: string, ints: Uint32Array): { generation: bigint; bytes: number };
  /** The live TLS table; keys only when asked. */
  readTls(withKeys: boolean): RawLiveTls;
  /**
   * The plugin's request counters for this table name, read afresh; undefined
   * when no plugin has created them yet.
   */
  readStats(): RawStats | undefined;
  /** Unlinks the control object and every table of this name (routes and TLS), and the plugin's counters. */
  remove(): void;
  close(): void;
  readonly closed: boolean;
}

export interface RawLiveTls {
  generation: bigint;
  buildTimeMs: number;
  sizeBytes: number;
  defaultCertificate?: number;
  certificates: Array<{ secret: string; chainPem: string; keyPem?: string; notAfter: number }>;
  policies: Array<{ minVersion: number; verifyClient: number; caPem?: string; verifyDepth: number }>;
  hosts: Array<{ name: string; certificate?: number; policy?: number }>;
  gatewayListeners: Array<{ gateway: string; listener: string; address: string; port: number; hostname: string; certificate: number; policy?: number }>;
}

/** native/addon/stats.cc: what one read of the plugin's counters saw. */
export interface RawStats {
  /** Random per ATS start: a new one means every count began again from 0. */
  instance: bigint;
  /** When ATS created the counters (ms since the epoch). */
  createdMs: number;
  /** Slots counted so far (the largest high-water mark): counters holds slots × statsCounterNames.length. */
  slots: number;
  /** Slots the plugin's region has room for; a slot at or past it is dropped. */
  maxSlots: number;
  /** Thread blocks read (threads that counted; those past the region's limit count as one). */
  threads: number;
  /** Requests the plugin did not count: slot, status or cache result out of range. */
  dropped: bigint;
  /** Slot-major: counters[slot * statsCounterNames.length + i] is counter i of slot. */
  counters: BigUint64Array;
}

export interface RawAddon {
  Table: new (name: string) => RawTable;
  setErrorClass(ctor: new (message: string, code: string) => Error): void;
  /** Every error code of the C++ enum (native/core/errors.h), in its order. */
  readonly errorCodes: readonly string[];
  /** The counters of one stats slot, in the order of RawStats.counters (native/core/stats_format.h). */
  readonly statsCounterNames: readonly string[];
  /** malloc_trim(0) on glibc: true when memory went back to the system. */
  trimMemory(): boolean;
}
