// Structured logs: one JSON object per line on stderr (or a given stream).
// Every part of the controller logs through this one interface.
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  with(fields: LogFields): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  write?: (line: string) => void;
  now?: () => Date;
}

export function isLogLevel(v: string): v is LogLevel {
  return v in ORDER;
}

/**
 * An error as a log field: its message, and its `code`, `field` and `status`
 * when it has them (TableError, KubeApiError, errno errors), and the stack for
 * errors that are not one of ours (a bug is what the stack is for).
 */
function errorFields(err: Error): Record<string, unknown> {
  const e = err as Error & { code?: unknown; field?: unknown; status?: unknown };
  const out: Record<string, unknown> = { message: err.message };
  if (e.code !== undefined) out.code = e.code;
  if (e.field !== undefined) out.field = e.field;
  if (e.status !== undefined) out.status = e.status;
  if (e.code === undefined && err.stack) out.stack = err.stack;
  return out;
}

function replacer(_key: string, v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Error) return errorFields(v);
  return v;
}

export function createLogger(options: LoggerOptions = {}, base: LogFields = {}): Logger {
  const min = ORDER[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const now = options.now ?? (() => new Date());
  const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (ORDER[level] < min) return;
    const record = { time: now().toISOString(), level, msg, ...base, ...fields };
    write(`${JSON.stringify(record, replacer)}\n`);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    with: (fields) => createLogger(options, { ...base, ...fields }),
  };
}

/** Discards everything: for tests that do not look at logs. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  with() {
    return silentLogger;
  },
};
