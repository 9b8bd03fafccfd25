// A Logger that keeps what it is given, for tests that check what was logged.
import type { LogFields, Logger, LogLevel } from '../observe/logger.js';

export interface LogLine {
  readonly level: LogLevel;
  readonly msg: string;
  readonly fields: LogFields | undefined;
}

export function recordingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const make = (base: LogFields): Logger => {
    const at = (level: LogLevel) => (msg: string, fields?: LogFields) =>
      void lines.push({ level, msg, fields: Object.keys(base).length || fields ? { ...base, ...fields } : undefined });
    return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), with: (f) => make({ ...base, ...f }) };
  };
  return { logger: make({}), lines };
}
