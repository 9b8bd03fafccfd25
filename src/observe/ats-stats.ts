// Reads Traffic Server's own statistics through the stats_over_http plugin
// (on loopback in the pod): which table generation the plugin serves, so
// that readiness and status mean "live in ATS", and the cache's figures for
// /metrics.
import { request } from 'node:http';

const GENERATION = 'plugin.ats_ingress.table_generation';

/** Every statistic stats_over_http gives, by name, as text. */
export async function fetchAtsStats(statsUrl: URL, timeoutMs = 2000): Promise<ReadonlyMap<string, string>> {
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
  let parsed: { global?: Record<string, unknown> };
  try {
    parsed = JSON.parse(body) as { global?: Record<string, unknown> };
  } catch {
    throw new Error(`${statsUrl} did not answer JSON: is it stats_over_http's path?`);
  }
  const stats = new Map<string, string>();
  for (const [k, v] of Object.entries(parsed.global ?? {})) if (typeof v === 'string') stats.set(k, v);
  return stats;
}

export async function atsServedGeneration(statsUrl: URL, timeoutMs = 2000): Promise<bigint> {
  const value = (await fetchAtsStats(statsUrl, timeoutMs)).get(GENERATION);
  if (value === undefined) throw new Error(`${statsUrl} has no ${GENERATION}: is the ats_ingress plugin loaded?`);
  return BigInt(value);
}

/** ATS's cache figures as /metrics shows them; undefined parts: ATS did not say. */
export interface AtsCacheFigures {
  /** Bytes of the disk cache in use and in all. */
  readonly bytesUsed?: number;
  readonly bytesTotal?: number;
  readonly ramBytesUsed?: number;
  readonly ramBytesTotal?: number;
  readonly ramHits?: number;
  readonly ramMisses?: number;
  /** Transactions by what the cache did for them (proxy.process.http.cache_*), by our name. */
  readonly results: ReadonlyMap<string, number>;
}

/** proxy.process.http.cache_<name> → result label: the hits first, then the misses. */
export const CACHE_HITS = ['hit_fresh', 'hit_revalidated', 'hit_ims', 'hit_stale_served'] as const;
export const CACHE_MISSES = ['miss_cold', 'miss_changed', 'miss_client_no_cache', 'miss_client_not_cacheable', 'miss_ims'] as const;

export function cacheFigures(stats: ReadonlyMap<string, string>): AtsCacheFigures {
  const num = (name: string): number | undefined => {
    const v = stats.get(name);
    if (v === undefined) return undefined;
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  };
  const results = new Map<string, number>();
  for (const r of [...CACHE_HITS, ...CACHE_MISSES]) {
    const n = num(`proxy.process.http.cache_${r}`);
    if (n !== undefined) results.set(r, n);
  }
  const figures: { -readonly [K in keyof AtsCacheFigures]: AtsCacheFigures[K] } = { results };
  const set = (key: Exclude<keyof AtsCacheFigures, 'results'>, name: string) => {
    const n = num(name);
    if (n !== undefined) figures[key] = n;
  };
  set('bytesUsed', 'proxy.process.cache.bytes_used');
  set('bytesTotal', 'proxy.process.cache.bytes_total');
  set('ramBytesUsed', 'proxy.process.cache.ram_cache.bytes_used');
  set('ramBytesTotal', 'proxy.process.cache.ram_cache.total_bytes');
  set('ramHits', 'proxy.process.cache.ram_cache.hits');
  set('ramMisses', 'proxy.process.cache.ram_cache.misses');
  return figures;
}
