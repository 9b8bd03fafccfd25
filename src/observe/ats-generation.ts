// Asks ATS which table generation its plugin serves, through the
// stats_over_http plugin, so that readiness and status mean "live in ATS".
import { request } from 'node:http';

const METRIC = 'plugin.ats_ingress.table_generation';

export async function atsServedGeneration(statsUrl: URL, timeoutMs = 2000): Promise<bigint> {
  const body = await new Promise<string>((resolve, reject) => {
    const req = request(statsUrl, { timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`${statsUrl}: HTTP ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${statsUrl}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
  const parsed = JSON.parse(body) as { global?: Record<string, string> };
  const value = parsed.global?.[METRIC];
  if (value === undefined) throw new Error(`${statsUrl} has no ${METRIC}: is the ats_ingress plugin loaded?`);
  return BigInt(value);
}
