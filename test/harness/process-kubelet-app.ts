// A small server the process kubelet's tests run as a Pod's process (image
// example.test/inspect): it shows what the Pod's process was given.
//   GET  /env            its environment, as JSON
//   GET  /cwd            its working directory
//   GET  /file?path=P    the file at P (a path from its environment)
//   POST /exit?code=N    exits with code N (a process that dies)
// It listens on $PORT (default 8080) on every address of its namespace.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const port = Number(process.env['PORT'] ?? 8080);
const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  const send = (code: number, body: string) => {
    res.writeHead(code, { 'content-type': 'text/plain' });
    res.end(body);
  };
  if (url.pathname === '/env') return send(200, JSON.stringify(process.env));
  if (url.pathname === '/cwd') return send(200, process.cwd());
  if (url.pathname === '/file') {
    try {
      return send(200, readFileSync(url.searchParams.get('path') ?? '', 'utf8'));
    } catch (err) {
      return send(404, (err as Error).message);
    }
  }
  if (url.pathname === '/exit' && req.method === 'POST') {
    send(200, 'bye');
    setTimeout(() => process.exit(Number(url.searchParams.get('code') ?? 1)), 20);
    return;
  }
  send(404, 'no such path');
});
server.listen(port, () => console.log(`listening on ${port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
