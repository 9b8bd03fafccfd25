// The raw addon (native/addon/addon.cc). Only route-table.ts loads it.
import type { LiveTable, LookupResult, TableModel } from './table-types.js';

export interface RawTable {
  publish(model: TableModel): { generation: bigint; bytes: number };
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
  formatVersion: number;
}
