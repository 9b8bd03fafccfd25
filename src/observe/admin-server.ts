// The admin port: /healthz (the process and its watches are alive),
// /readyz (the first table is published and ATS serves it) and /metrics.
// Never on the proxy's public ports.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HealthReport {
  ok: boolean;
  detail: Record<string, unknown>;
}

export interface AdminHandlers {
  healthz(): HealthReport;
  readyz(): Promise<HealthReport>;
  metrics(): Promise<string>;
}

export interface HostPort {
  /** An IP address (IPv6 without brackets) or localhost. */
  readonly host: string;
  /** 0: any free port. */
  readonly port: number;
}

export interface AdminServer {
  readonly port: number;
  readonly address: string;
  close(): Promise<void>;
}

export async function startAdminServer({ host, port }: HostPort, handlers: AdminHandlers): Promise<AdminServer> {
  const server: Server = createServer((req, res) => {
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    const report = (r: HealthReport) => send(r.ok ? 200 : 503, 'application/json', `${JSON.stringify({ ok: r.ok, ...r.detail }, null, 2)}\n`);
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain', 'method not allowed\n');
    switch (path) {
      case '/healthz':
        return report(handlers.healthz());
      case '/readyz':
        handlers.readyz().then(report, (err: unknown) => report({ ok: false, detail: { error: String(err) } }));
        return;
      case '/metrics':
        handlers.metrics().then(
          (text) => send(200, 'text/plain; version=0.0.4', text),
          (err: unknown) => send(500, 'text/plain', `cannot collect metrics: ${String(err)}\n`),
        );
        return;
      default:
        return send(404, 'text/plain', 'try /healthz, /readyz or /metrics\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  return {
    port: addr.port,
    address: addr.address,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
