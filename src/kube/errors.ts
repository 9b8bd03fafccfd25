// Errors of the Kubernetes API as one typed error: what failed, the HTTP
// status, the Status reason, and a short machine-readable code.

import * as http from 'node:http';
import { isRecord } from './json.js';

/**
 * A failed API call. `status` is the HTTP status (0 when no answer came:
 * connection refused or reset, timeout, abort); `reason` the Status reason
 * (`Forbidden`, `Expired`, `Gone`, `Conflict`, `NotFound`, ...); `code` a
 * short machine-readable code (`HTTP_403`, `ECONNREFUSED`, `TIMEOUT`, `ABORTED`).
 */
export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly reason?: string,
  ) {
    super(message);
  }

  /** The resourceVersion is too old (HTTP 410, or Status reason Expired/Gone): relist. */
  get gone(): boolean {
    return this.status === 410 || this.reason === 'Expired' || this.reason === 'Gone';
  }

  get aborted(): boolean {
    return this.code === 'ABORTED';
  }
}

/** The message and reason of a `Status` object (an error body or a watch ERROR event), when it is one. */
export function statusOf(v: unknown): { code?: number; reason?: string; message?: string } | undefined {
  if (!isRecord(v) || v['kind'] !== 'Status') return undefined;
  const out: { code?: number; reason?: string; message?: string } = {};
  if (typeof v['code'] === 'number') out.code = v['code'];
  if (typeof v['reason'] === 'string') out.reason = v['reason'];
  if (typeof v['message'] === 'string') out.message = v['message'];
  return out;
}

export function errorFromResponse(method: string, path: string, status: number, text: string): KubeApiError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const st = statusOf(parsed);
  const what = st?.message ?? (text.trim().slice(0, 500) || http.STATUS_CODES[status] || 'error');
  const reason = st?.reason ?? '';
  return new KubeApiError(`${method} ${path}: HTTP ${status}${reason ? ` ${reason}` : ''}: ${what}`, status, `HTTP_${status}`, st?.reason);
}

export function transportError(method: string, path: string, err: unknown): KubeApiError {
  if (err instanceof KubeApiError) return err;
  const e = err as NodeJS.ErrnoException;
  const code = typeof e?.code === 'string' ? e.code : 'ERROR';
  return new KubeApiError(`${method} ${path}: ${e?.message ?? String(err)}`, 0, code);
}

/** An error's message, whatever was thrown. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
