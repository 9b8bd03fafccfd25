// The one free-port helper of the harness, the benchmarks and the demo.
//
// freePorts: bind port 0, read the port the kernel chose, close. There is an
// unavoidable window between closing the probe socket and the real server
// binding the port; callers that start servers (see ats-instance.ts) detect a
// failed bind and retry with fresh ports.
//
// isPortFree: whether a given port can be listened on now (the demo's
// "port in use" message).

import net from 'node:net';

const DEFAULT_HOST = '127.0.0.1';

function listenOnZero(host: string): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

function portOf(server: net.Server): number {
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('freePort: server has no TCP address');
  return addr.port;
}

/** One free TCP port on `host` (default 127.0.0.1). */
export async function freePort(host: string = DEFAULT_HOST): Promise<number> {
  const [port] = await freePorts(1, host);
  return port as number;
}

/**
 * `n` distinct free TCP ports on `host` (default 127.0.0.1). All probe sockets
 * are held open at the same time so the ports are distinct, then closed.
 */
export async function freePorts(n: number, host: string = DEFAULT_HOST): Promise<number[]> {
  if (!Number.isInteger(n) || n < 0 || n > 1000) throw new RangeError(`freePorts: bad count ${n}`);
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < n; i++) servers.push(await listenOnZero(host));
    return servers.map(portOf);
  } finally {
    await Promise.all(servers.map(closeServer));
  }
}

/** Whether a TCP server can listen on host:port (default host 127.0.0.1) right now. */
export function isPortFree(port: number, host: string = DEFAULT_HOST): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}
