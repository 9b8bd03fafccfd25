import type { LiveTable } from '../route-table/route-table.js';
import { type Io, toJson } from './io.js';
import { explainNotFound, openLiveTable, parseTableArgs } from './table-options.js';

const HELP = `usage: ats-ingress routes [--table NAME] [--json]

Prints the route table that is live in shared memory: generation, hosts and
their rules, backends and their endpoints.

  --table NAME   the shared-memory table (default: default)
  --json         print the table as JSON`;

function formatRoutes(t: LiveTable): string {
  const backend = (i: number) => {
    const b = t.backends[i]!;
    const eps = b.endpoints.map((e) => (e.address.includes(':') ? `[${e.address}]` : e.address) + `:${e.port}${e.weight && e.weight !== 1 ? `*${e.weight}` : ''}`);
    const state = b.problem ? `503: ${b.problem}` : eps.length ? eps.join(' ') : '503: no ready endpoints';
    return `${b.service}:${b.port} ${b.scheme === 'https' ? '(https) ' : ''}-> ${state}`;
  };
  const rules = t.hosts.reduce((n, h) => n + h.rules.length, 0);
  const eps = t.backends.reduce((n, b) => n + b.endpoints.length, 0);
  const lines = [
    `generation ${t.generation}, built ${new Date(t.buildTimeMs).toISOString()}, ${t.sizeBytes} bytes`,
    `${t.hosts.length} hosts, ${rules} rules, ${t.backends.length} backends, ${eps} endpoints`,
  ];
  for (const h of t.hosts) {
    lines.push('', h.name === '' ? '* (any other host)' : h.name);
    for (const r of h.rules) lines.push(`  ${r.pathType.padEnd(22)} ${r.path.padEnd(24)} ${backend(r.backend)}  [${r.source}]`);
    if (h.defaultBackend !== undefined) lines.push(`  ${'default'.padEnd(22)} ${''.padEnd(24)} ${backend(h.defaultBackend)}  [${h.defaultSource ?? ''}]`);
  }
  if (t.defaultBackend !== undefined) lines.push('', `--default-backend: ${backend(t.defaultBackend)}`);
  return lines.join('\n');
}

export async function runRoutes(args: string[], io: Io): Promise<number> {
  const opts = parseTableArgs(args);
  if (opts.help) {
    io.out(HELP);
    return 0;
  }
  const table = openLiveTable(opts.table);
  try {
    const live = table.read();
    io.out(opts.json ? toJson(live) : formatRoutes(live));
    return 0;
  } catch (err) {
    return explainNotFound(err, opts.table);
  } finally {
    table.close();
  }
}
