import { parseArgs } from 'node:util';
import { DEFAULT_TABLE_NAME, RouteTable, TableError } from '../route-table/route-table.js';
import { CliError } from './io.js';

export interface TableCommandArgs {
  table: string;
  json: boolean;
  help: boolean;
  positionals: string[];
}

export function parseTableArgs(args: string[]): TableCommandArgs {
  try {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        table: { type: 'string', default: DEFAULT_TABLE_NAME },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    return { table: values.table ?? DEFAULT_TABLE_NAME, json: values.json ?? false, help: values.help ?? false, positionals };
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

/** Opens the table and turns "nothing there" into advice. */
export function openLiveTable(name: string): RouteTable {
  let table: RouteTable;
  try {
    table = RouteTable.open(name);
  } catch (err) {
    if (err instanceof TableError && err.code === 'ERR_INVALID_TABLE_NAME') throw new CliError(err.message);
    throw err;
  }
  return table;
}

export function explainNotFound(err: unknown, name: string): never {
  if (err instanceof TableError && err.code === 'ERR_TABLE_NOT_FOUND') {
    throw new CliError(
      `${err.message}.\nIs the controller running with --table ${name}? Start it with: ats-ingress controller --table ${name} ...`,
      1,
    );
  }
  throw err;
}
