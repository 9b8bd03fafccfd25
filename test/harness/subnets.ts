// Test subnets: a /24 no route of this machine covers yet. Deriving the /24
// from the PID alone is not enough: a namespace left by a killed run keeps
// its route, and a later run whose PID maps to the same /24 would send its
// traffic into the old namespace (seen in CI as "the pod refused the
// connection" for 15 s, from a namespace a run killed hours earlier left).
import { runCommand } from './processes.js';

const IP_TIMEOUT_MS = 10_000;

/** The /24s of `prefix` (such as "10.213") that some IPv4 route of any table covers, as their third octet. */
export function routedThirdOctets(routes: string, prefix: string): Set<number> {
  const used = new Set<number>();
  const re = new RegExp(`(?:^|\\s)${prefix.replace(/\./g, '\\.')}\\.(\\d{1,3})\\.`, 'g');
  for (const m of routes.matchAll(re)) used.add(Number(m[1]));
  return used;
}

/** The first /24 of `prefix`.1–250 from `start` on that no route covers, as "prefix.N". */
export function pickSubnet(routes: string, prefix: string, start: number): string {
  const used = routedThirdOctets(routes, prefix);
  for (let i = 0; i < 250; i++) {
    const octet = ((start + i) % 250) + 1;
    if (!used.has(octet)) return `${prefix}.${octet}`;
  }
  throw new Error(`every /24 of ${prefix}.0.0/16 is in use on this machine`);
}

/** pickSubnet over this machine's routes. */
export async function freeSubnet(prefix: string, start: number): Promise<string> {
  const r = await runCommand('ip', ['-4', 'route', 'show', 'table', 'all'], { timeoutMs: IP_TIMEOUT_MS });
  if (r.code !== 0) throw new Error(`ip -4 route show table all: ${r.stderr.trim() || `exit ${r.code}`}`);
  return pickSubnet(r.stdout, prefix, start);
}
