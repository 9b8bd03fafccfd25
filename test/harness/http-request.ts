// One HTTP(S) request from a test, collecting the whole answer: to ATS
// (AtsInstance.request), to a backend, to a demo or a container's ATS.

import http from 'node:http';
import https from 'node:https';
import net from 'node:net';

const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

export interface HttpRequestOptions {
  /** Host header (default: the address:port connected to). */
  host?: string;
  method?: string;
  /** Path and query (default '/'). */
  path?: string;
  headers?: http.OutgoingHttpHeaders;
  body?: string | Buffer;
  /** A new connection for this request only (agent: false). */
  fresh?: boolean;
  /** Default 10 s. */
  timeoutMs?: number;
  /** Use TLS (the https port for AtsInstance.request). */
  tls?: boolean;
  /** TLS SNI name (default: the Host header's name when it is not an IP). */
  servername?: string;
  /** TLS: verify the server against this CA (PEM) instead of accepting any certificate. */
  ca?: string;
  rejectUnauthorized?: boolean;
  /** TLS: a client certificate and key (PEM). */
  cert?: string;
  key?: string;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function hostName(hostHeader: string): string {
  if (hostHeader.startsWith('[')) return hostHeader.slice(1, hostHeader.indexOf(']'));
  return hostHeader.replace(/:\d+$/, '');
}

/** One HTTP(S) request to address:port (default 127.0.0.1); collects the whole response. */
export async function httpRequest(
  opts: HttpRequestOptions & { port: number; address?: string; agent?: http.Agent | false },
): Promise<HttpResponse> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const headers: http.OutgoingHttpHeaders = { ...(opts.headers ?? {}) };
  if (opts.host !== undefined) headers.host = opts.host;
  const body = opts.body;
  if (body !== undefined && headers['content-length'] === undefined && headers['transfer-encoding'] === undefined) {
    headers['content-length'] = Buffer.byteLength(body);
  }
  const agent = opts.fresh ? false : opts.agent;
  const base: http.RequestOptions = {
    host: opts.address ?? '127.0.0.1',
    port: opts.port,
    method: opts.method ?? 'GET',
    path: opts.path ?? '/',
    headers,
    signal: AbortSignal.timeout(timeoutMs),
    ...(agent === undefined ? {} : { agent }),
  };
  const what = `${base.method} ${opts.tls ? 'https' : 'http'}://${base.host}:${opts.port}${base.path} (Host: ${opts.host ?? '-'})`;

  return await new Promise<HttpResponse>((resolve, reject) => {
    const onResponse = (res: http.IncomingMessage): void => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (e) => reject(new Error(`${what}: ${e.message}`)));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
      );
    };
    let req: http.ClientRequest;
    if (opts.tls) {
      const sni = opts.servername ?? (opts.host !== undefined ? hostName(opts.host) : undefined);
      req = https.request(
        {
          ...base,
          rejectUnauthorized: opts.rejectUnauthorized ?? false,
          ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
          ...(opts.cert !== undefined && opts.key !== undefined ? { cert: opts.cert, key: opts.key } : {}),
          ...(sni !== undefined && net.isIP(sni) === 0 ? { servername: sni } : {}),
        },
        onResponse,
      );
    } else {
      req = http.request(base, onResponse);
    }
    req.on('error', (e) => reject(new Error(`${what}: ${e.name === 'AbortError' ? `no answer within ${timeoutMs} ms` : e.message}`)));
    req.end(body);
  });
}
