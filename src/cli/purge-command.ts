// `ats-ingress purge URL`: removes one URL from this pod's ATS cache, with a
// PURGE request to ATS on loopback (ip_allow.yaml refuses PURGE from any
// other address). The URL is the one clients use: ATS finds the object under
// the same cache key the plugin gives their requests (scheme, host as
// matched, path, the query unless the route leaves it out, and the route's
// cache generation), so an https URL is purged over TLS, with its host as
// the server name. For every replica at once, change the Ingress's
// cache-generation annotation instead.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { CliError, type Io } from './io.js';

const HELP = `usage: ats-ingress purge URL [options]

Removes URL (http://HOST/PATH?QUERY or https://...) from the cache of the
ATS in this pod. Run it in the pod (kubectl exec ... -c controller -- ...);
PURGE from anywhere else is refused. For all replicas at once, change the
Ingress's ats.ingress.kubernetes.io/cache-generation annotation.

  --address ADDR      ATS's address (default: 127.0.0.1)
  --http-port N       its http port (default: 8080)
  --https-port N      its https port, for https URLs (default: 8443)
  --timeout-ms N      (default: 5000)

Exit status: 0 when the object was removed or was not cached, 1 when ATS
refused or could not be reached.`;

function portOf(flag: string, v: string): number {
  const n = Number(v);
  if (!/^[0-9]+$/.test(v) || n < 1 || n > 65535) throw new CliError(`${flag} "${v}": expected a port from 1 to 65535`);
  return n;
}

export async function runPurge(args: string[], io: Io): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        address: { type: 'string', default: '127.0.0.1' },
        'http-port': { type: 'string', default: '8080' },
        'https-port': { type: 'string', default: '8443' },
        'timeout-ms': { type: 'string', default: '5000' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const v = parsed.values;
  if (v.help) {
    io.out(HELP);
    return 0;
  }
  if (parsed.positionals.length !== 1) throw new CliError(`expected one URL\n\n${HELP}`);
  const text = parsed.positionals[0]!;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CliError(`"${text}" is not a URL (http://HOST/PATH or https://HOST/PATH)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CliError(`"${text}": only http and https URLs are cached`);
  if (url.username || url.password) throw new CliError(`"${text}": a URL with credentials is not what clients ask for`);
  const address = v.address ?? '127.0.0.1';
  if (isIP(address) === 0) throw new CliError(`--address "${address}": expected an IP address`);
  const timeoutMs = Number(v['timeout-ms']);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 600_000) throw new CliError(`--timeout-ms "${v['timeout-ms']}": expected 1 to 600000`);
  const tls = url.protocol === 'https:';
  const port = tls ? portOf('--https-port', v['https-port'] ?? '8443') : portOf('--http-port', v['http-port'] ?? '8080');

  let res: IncomingMessage;
  try {
    res = await purge(url, address, port, tls, timeoutMs);
  } catch (err) {
    io.err(`ats-ingress purge: cannot reach ATS at ${address}:${port}: ${(err as Error).message}`);
    return 1;
  }
  const target = `${url.origin}${url.pathname}${url.search}`;
  switch (res.statusCode) {
    case 200:
      io.out(`purged ${target}`);
      return 0;
    case 404:
      io.out(`${target} was not in the cache`);
      return 0;
    case 403:
      io.err(`ats-ingress purge: ATS refused the PURGE (403): it takes PURGE from loopback only; run this in the pod`);
      return 1;
    default:
      io.err(`ats-ingress purge: ATS answered ${res.statusCode} ${res.statusMessage ?? ''}`.trimEnd());
      return 1;
  }
}

function purge(url: URL, address: string, port: number, tls: boolean, timeoutMs: number): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const options = {
      host: address,
      port,
      method: 'PURGE',
      path: `${url.pathname}${url.search}`,
      headers: { host: url.host },
      timeout: timeoutMs,
      // ATS on loopback in this pod; its certificate is not what is checked here.
      ...(tls ? { servername: isIP(url.hostname) === 0 ? url.hostname : '', rejectUnauthorized: false } : {}),
    };
    const req = (tls ? httpsRequest : httpRequest)(options, (res) => {
      res.resume();
      res.on('end', () => resolve(res));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}
