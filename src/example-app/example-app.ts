#!/usr/bin/env node
// A demo backend: answers every request with one of the walkthrough's pages
// and says which pod answered in an X-Pod header.
import { isEntryPoint } from '../cli/entry-point.js';
import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { isPageName, PAGES, type PageName } from './pages.js';

export interface DemoApp {
  server: Server;
  port: number;
  close(): Promise<void>;
}

/** The walkthrough's apps say their pages are stale at once. */
const WALKTHROUGH_CACHE_CONTROL = 'public, max-age=0';

export interface DemoAppOptions {
  /**
   * Request headers whose names begin with this (lower case) are sent back
   * as they came, so that a header a proxy added shows in `curl -v` (the
   * local demo's Gateway example); none by default.
   */
  echoHeaderPrefix?: string;
}

/** `cacheControl` null: no Cache-Control at all (what the cache-default-ttl annotation is for). */
export async function startDemoApp(page: PageName, port: number, host: string, pod = hostname(), cacheControl: string | null = WALKTHROUGH_CACHE_CONTROL, o: DemoAppOptions = {}): Promise<DemoApp> {
  const body = PAGES[page];
  const prefix = o.echoHeaderPrefix;
  const server = createServer((req, res) => {
    req.resume();
    const echoed: Record<string, string | string[]> = {};
    if (prefix !== undefined) {
      for (const [name, value] of Object.entries(req.headers)) {
        if (name.startsWith(prefix) && value !== undefined) echoed[name] = value;
      }
    }
    res.writeHead(200, {
      ...echoed,
      'content-type': 'text/html; charset=UTF-8',
      'content-length': Buffer.byteLength(body),
      ...(cacheControl !== null ? { 'cache-control': cacheControl } : {}),
      'x-pod': pod,
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address();
  return {
    server,
    port: typeof addr === 'object' && addr ? addr.port : port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      page: { type: 'string', default: 'app1' },
      port: { type: 'string', default: '8080' },
      host: { type: 'string', default: '0.0.0.0' },
    },
  });
  const page = values.page ?? 'app1';
  if (!isPageName(page)) throw new Error(`--page "${page}": expected app1 or app2`);
  const app = await startDemoApp(page, Number(values.port), values.host ?? '0.0.0.0');
  process.stderr.write(`demo app ${page} listening on ${values.host}:${app.port}\n`);
  const stop = () => void app.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}


if (isEntryPoint(import.meta.url)) {
  main().catch((err: unknown) => {
    process.stderr.write(`demo-app: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
