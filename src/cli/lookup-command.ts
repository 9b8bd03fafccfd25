import type { LookupResult } from '../route-table/route-table.js';
import { CliError, type Io, toJson } from './io.js';
import { explainNotFound, openLiveTable, parseTableArgs } from './table-options.js';

const HELP = `usage: ats-ingress lookup [--table NAME] [--json] HOST PATH

Answers what the proxy would do for a request to HOST (as in the Host header,
a port allowed) and PATH (with or without a query), using the live table and
the same C++ lookup as the ATS plugin.

  --table NAME   the shared-memory table (default: default)
  --json         print one JSON object: status, service, servicePort,
                 endpoint, endpoints, rule, generation, reason`;

function formatLookup(host: string, path: string, r: LookupResult): string {
  const lines = [`${r.status} ${host} ${path}  (table generation ${r.generation})`];
  if (r.rule) {
    const where = r.rule.path !== undefined ? `${r.rule.pathType} ${r.rule.path}` : 'default backend';
    lines.push(`  rule:      host "${r.rule.host || '*'}" ${where}, from ${r.rule.source}`);
  }
  if (r.service) lines.push(`  backend:   ${r.service}:${r.servicePort} (${r.scheme})`);
  if (r.endpoint) lines.push(`  endpoint:  ${r.endpoint} first, of ${r.endpoints?.length ?? 0}: ${r.endpoints?.join(' ')}`);
  if (r.reason) lines.push(`  reason:    ${r.reason}`);
  return lines.join('\n');
}

export async function runLookup(args: string[], io: Io): Promise<number> {
  const opts = parseTableArgs(args);
  if (opts.help) {
    io.out(HELP);
    return 0;
  }
  if (opts.positionals.length !== 2) throw new CliError(`expected HOST and PATH, got ${opts.positionals.length} arguments\n\n${HELP}`);
  const [host, path] = opts.positionals as [string, string];
  const table = openLiveTable(opts.table);
  try {
    const result = table.lookup(host, path);
    io.out(opts.json ? toJson(result) : formatLookup(host, path, result));
    return 0;
  } catch (err) {
    return explainNotFound(err, opts.table);
  } finally {
    table.close();
  }
}
