// The raw addon (native/addon/addon.cc). Only route-table.ts loads it.
import type { LiveTable, LookupResult } from '../model/table-model.js';

export interface RawTable {
  /** The model as encoded by encode-model.ts. */
  publish(strings: string, ints: Uint32Array): { generation: bigint; bytes: number };
  lookup(host: string, path: string): LookupResult;
  read(): LiveTable;
  /** The TLS table as encoded by encode-tls.ts. */
  publishTls(strings: string, ints: Uint32Array): { generation: bigint; bytes: number };
  /** The live TLS table; keys only when asked. */
  readTls(withKeys: boolean): RawLiveTls;
  /** Unlinks the control object and every table of this name (routes and TLS). */
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
}

export interface RawAddon {
  Table: new (name: string) => RawTable;
  setErrorClass(ctor: new (message: string, code: string) => Error): void;
  /** Every error code of the C++ enum (native/core/errors.h), in its order. */
  readonly errorCodes: readonly string[];
}
