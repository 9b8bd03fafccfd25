// The body of a watch response: newline-delimited JSON, one watch event per
// line, arriving in chunks that may split a line (or a UTF-8 character)
// anywhere. Pure: bytes in, events out, or a KubeApiError saying what is
// wrong with the stream.

import { StringDecoder } from 'node:string_decoder';
import { KubeApiError } from './errors.js';
import { isRecord } from './json.js';

/** One line of a watch stream, as the API sends it. */
export interface RawWatchEvent {
  readonly type: string;
  readonly object: unknown;
}

/** Larger than any object etcd stores (1.5 MiB by default), with room. */
const MAX_WATCH_LINE_CHARS = 32 * 1024 * 1024;

export class WatchStreamDecoder {
  readonly #decoder = new StringDecoder('utf8');
  #pending = '';

  /** `what` names the watch in errors (`watch /api/v1/services`). */
  constructor(
    private readonly what: string,
    private readonly maxLineChars = MAX_WATCH_LINE_CHARS,
  ) {}

  /** The events completed by this chunk, in order. Throws a KubeApiError on a line that is not a watch event. */
  write(chunk: Buffer): RawWatchEvent[] {
    this.#pending += this.#decoder.write(chunk);
    const events: RawWatchEvent[] = [];
    let start = 0;
    let nl: number;
    while ((nl = this.#pending.indexOf('\n', start)) >= 0) {
      const line = this.#pending.slice(start, nl).trim();
      start = nl + 1;
      if (line) events.push(this.#parse(line));
    }
    this.#pending = this.#pending.slice(start);
    if (this.#pending.length > this.maxLineChars) {
      throw new KubeApiError(`${this.what}: an event longer than ${this.maxLineChars} characters`, 0, 'TOO_LARGE');
    }
    return events;
  }

  #parse(line: string): RawWatchEvent {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      throw new KubeApiError(`${this.what}: a line that is not JSON: ${line.slice(0, 200)}`, 0, 'BAD_JSON');
    }
    if (!isRecord(parsed) || typeof parsed['type'] !== 'string') {
      throw new KubeApiError(`${this.what}: a line that is not a watch event: ${line.slice(0, 200)}`, 0, 'BAD_EVENT');
    }
    return { type: parsed['type'], object: parsed['object'] };
  }
}
