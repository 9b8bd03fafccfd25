// The raw addon (native/addon/addon.cc). Only route-table.ts loads it.
import type { LiveTable, LookupResult } from '../model/table-model.js';

export interface RawTable {
  /** The model as encoded by encode-model.ts. */
  publish(strings: string, ints: Uint32Array): { generation: bigint; bytes: number };
  lookup(host: string, path: string): LookupResult;
  read(): LiveTable;
  /** Unlinks the control object and every table of this name. */
  remove(): void;
  close(): void;
  readonly closed: boolean;
}

export interface RawAddon {
  Table: new (name: string) => RawTable;
  setErrorClass(ctor: new (message: string, code: string) => Error): void;
  /** Every error code of the C++ enum (native/core/errors.h), in its order. */
  readonly errorCodes: readonly string[];
}
