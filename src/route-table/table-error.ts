// Errors of the route table, from validation here or from the addon. The
// codes are defined once, in the C++ enum (native/core/errors.h); this list
// mirrors it, and a test checks it against the addon's `errorCodes`.
export const TABLE_ERROR_CODES = [
  'ERR_INVALID_MODEL',
  'ERR_INVALID_TABLE_NAME',
  'ERR_SYSTEM',
  'ERR_TABLE_NOT_FOUND',
  'ERR_INVALID_TABLE',
  'ERR_INVALID_ARG',
  'ERR_TABLE_CLOSED',
  'ERR_ADDON_LOAD',
  'ERR_STATS_NOT_FOUND',
  'ERR_INVALID_STATS',
] as const;

export type TableErrorCode = (typeof TABLE_ERROR_CODES)[number];

export class TableError extends Error {
  readonly code: TableErrorCode;
  /** The model field at fault, e.g. `hosts[2].rules[0].path`, when known. */
  readonly field: string | undefined;

  constructor(message: string, code: string, field?: string) {
    super(message);
    this.name = 'TableError';
    this.code = code as TableErrorCode;
    this.field = field;
  }
}
