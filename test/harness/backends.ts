// HTTP backends for end-to-end tests: each answers every request with 200 and a
// JSON echo saying which service and pod answered and what it received.
// Cache tests shape the answer from the request: `x-backend-headers: {JSON}`
// adds those response headers (Cache-Control, Set-Cookie, Vary, ...) and
// `x-backend-status: N` sets the status; each backend counts its requests
// by path, so a test sees whether ATS answered from its cache.

import http from 'node:http';
import net from 'node:net';

/** The JSON body every backend answers with. */
export interface BackendEcho {
  service: string;
  pod: string;
  method: string;
  /** The Host header as received ('' when absent). */
  host: string;
  /** Path and query as received. */
  url: string;
  headers: http.IncomingHttpHeaders;
  /** Request body as UTF-8 text. */
  body: string;
  /** This pod's requests for this path so far, this one included: an answer from a cache repeats an earlier number. */
  hit: number;
}

export interface BackendOptions {
  service: string;
  pod: string;
  /** Address to listen on: '127.0.0.1' (default) or '::1'. */
  host?: string;
  /** Port to listen on; 0 or absent picks a free one. */
  port?: number;
}

export interface Backend {
  /** Listening address, e.g. '127.0.0.1' or '::1'. */
  readonly address: string;
  readonly port: number;
  readonly service: string;
  readonly pod: string;
  /** Requests answered so far. */
  readonly requests: number;
  /** Requests answered so far for this path (without the query). */
  hits(path: string): number;
  /** 'address:port' with IPv6 addresses bracketed, for URLs and remap rules. */
  readonly hostPort: string;
  /** http://address:port + path. */
  url(path?: string): string;
  /** Stops listening and closes every connection (including idle keep-alive ones). */
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 16 * 1024 * 1024;
const CLOSE_TIMEOUT_MS = 5_000;

/** Brackets an IPv6 literal for use in a URL authority. */
export function formatHostPort(address: string, port: number): string {
  return net.isIPv6(address) ? `[${address}]:${port}` : `${address}:${port}`;
}

class EchoBackend implements Backend {
  readonly service: string;
  readonly pod: string;
  readonly address: string;
  private count = 0;
  private readonly byPath = new Map<string, number>();
  private closing: Promise<void> | undefined;

  constructor(private readonly server: http.Server, opts: BackendOptions, address: string) {
    this.service = opts.service;
    this.pod = opts.pod;
    this.address = address;
  }

  get port(): number {
    const addr = this.server.address();
    if (addr === null || typeof addr === 'string') throw new Error('backend is not listening');
    return addr.port;
  }

  get requests(): number {
    return this.count;
  }

  hits(path: string): number {
    return this.byPath.get(path) ?? 0;
  }

  get hostPort(): string {
    return formatHostPort(this.address, this.port);
  }

  url(path = '/'): string {
    return `http://${this.hostPort}${path}`;
  }

  handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooBig = true;
      else chunks.push(chunk);
    });
    req.on('error', () => res.destroy());
    req.on('end', () => {
      this.count++;
      const path = (req.url ?? '').split('?')[0] ?? '';
      this.byPath.set(path, (this.byPath.get(path) ?? 0) + 1);
      if (tooBig) {
        res.writeHead(413, { 'content-type': 'text/plain' }).end('request body too large\n');
        return;
      }
      const echo: BackendEcho = {
        service: this.service,
        pod: this.pod,
        method: req.method ?? '',
        host: req.headers.host ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        hit: this.byPath.get(path) ?? 0,
      };
      const payload = JSON.stringify(echo);
      let extra: Record<string, string | string[]> = {};
      const asked = req.headers['x-backend-headers'];
      if (typeof asked === 'string') {
        try {
          extra = JSON.parse(asked) as Record<string, string | string[]>;
        } catch {
          res.writeHead(400, { 'content-type': 'text/plain' }).end('x-backend-headers is not JSON\n');
          return;
        }
      }
      const status = Number(req.headers['x-backend-status'] ?? 200);
      res.writeHead(Number.isInteger(status) && status >= 200 && status <= 599 ? status : 200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(payload),
        ...extra,
      });
      res.end(payload);
    });
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
      this.server.close(() => {
        clearTimeout(timer);
        resolve();
      });
      this.server.closeAllConnections();
    });
    return this.closing;
  }
}

/** Starts one echo backend; resolves once it is listening. */
export async function startBackend(opts: BackendOptions): Promise<Backend> {
  const host = opts.host ?? '127.0.0.1';
  const server = http.createServer({ keepAliveTimeout: 30_000 });
  const backend = new EchoBackend(server, opts, host);
  server.on('request', (req, res) => backend.handle(req, res));
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: opts.port ?? 0, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return backend;
}

/** Starts `n` backends for one service, pods named `${service}-${i}` (i from 0). */
export async function startBackends(
  n: number,
  service: string,
  opts: { host?: string } = {},
): Promise<Backend[]> {
  const started: Backend[] = [];
  try {
    for (let i = 0; i < n; i++) {
      started.push(await startBackend({ service, pod: `${service}-${i}`, host: opts.host }));
    }
    return started;
  } catch (err) {
    await Promise.all(started.map((b) => b.close()));
    throw err;
  }
}

/** Closes every backend given (ignores undefined entries). */
export async function closeBackends(backends: ReadonlyArray<Backend | undefined>): Promise<void> {
  await Promise.all(backends.flatMap((b) => (b ? [b.close()] : [])));
}

/** Whether a TCP server can listen on ::1 here. */
export async function ipv6Available(): Promise<boolean> {
  const server = net.createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '::1', port: 0, exclusive: true }, () => resolve());
    });
    return true;
  } catch {
    return false;
  } finally {
    if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
