// Reading logs that processes write: whole (small files) or a bounded tail.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

/** The file's text; '' when it is missing or unreadable. */
export async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return '';
  }
}

/** The last `lines` lines of `text`. */
export function tailLines(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** The last `maxBytes` bytes of a file as text, reading no more than that; '' when it is missing. */
export function readTail(file: string, maxBytes: number): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return '';
  }
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, maxBytes);
    const buf = Buffer.alloc(length);
    const got = readSync(fd, buf, 0, length, size - length);
    return buf.subarray(0, got).toString('utf8');
  } catch {
    return '';
  } finally {
    closeSync(fd);
  }
}
