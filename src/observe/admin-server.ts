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
  metrics(): string;
}

export interface AdminServer {
  readonly port: number;
  readonly address: string;
  close(): Promise<void>;
}

export async function startAdminServer(hostPort: string, handlers: AdminHandlers): Promise<AdminServer> {
  const i = hostPort.lastIndexOf(':');
  const host = hostPort.slice(0, i).replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = Number(hostPort.slice(i + 1));
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
        return send(200, 'text/plain; version=0.0.4', handlers.metrics());
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
