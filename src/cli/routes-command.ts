import { X509Certificate } from 'node:crypto';
import { RouteTable, TableError, type LiveTable, type LiveTls } from '../route-table/route-table.js';
import { type Io, toJson } from './io.js';
import { explainNotFound, openLiveTable, parseTableArgs } from './table-options.js';

const HELP = `usage: ats-ingress routes [--table NAME] [--json]

Prints the route table that is live in shared memory: generation, hosts and
their rules, backends and their endpoints; and what the TLS table serves each
name (the Secret, subject, expiry and fingerprint of its certificate, and its
TLS policy). Private keys are never shown.

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
  const gw = t.gateway;
  for (const l of gw?.listeners ?? []) {
    const at = l.address.includes(':') ? `[${l.address}]:${l.port}` : `${l.address}:${l.port}`;
    lines.push('', `Gateway ${l.gateway} listener ${l.listener}: ${l.protocol} port ${l.listenerPort} on ${at}, ${l.hostname || 'any host'}`);
    for (const e of l.entries) {
      const rule = gw?.rules[e.rule];
      const more = [e.method, ...e.headers.map((h) => `${h.name}: ${h.value}`), ...e.queryParams.map((q) => `?${q.name}=${q.value}`)].filter((x) => x !== undefined);
      const answer = !rule ? '?' : rule.failure !== undefined ? `500: ${rule.failure}`
        : rule.choices.map((c) => `${c.backend !== undefined ? backend(c.backend) : `500: ${c.problem ?? 'invalid'}`} (weight ${c.weight})`).join(', ') || 'no backend';
      const filters = rule && rule.filters.length > 0 ? ` {${rule.filters.map((f) => f.type).join(', ')}}` : '';
      lines.push(`  ${(e.hostname || '*').padEnd(22)} ${e.pathType.padEnd(10)} ${e.path.padEnd(20)}${more.length ? ` [${more.join(' ')}]` : ''}${filters} ${answer}  [HTTPRoute ${rule?.route ?? '?'} rule ${rule?.ruleIndex ?? '?'}]`);
    }
  }
  return lines.join('\n');
}

/** What the live TLS table serves each name, for people: never a key. */
export interface TlsSummary {
  readonly generation: string;
  readonly hosts: ReadonlyArray<{ name: string; certificate: CertificateSummary | 'default'; policy?: string }>;
  /** `--default-certificate`; absent: the plugin's own. */
  readonly defaultCertificate?: CertificateSummary;
  /** The Gateways' HTTPS listeners; absent: none. */
  readonly gatewayListeners?: ReadonlyArray<{ gateway: string; listener: string; address: string; port: number; hostname: string; certificate: CertificateSummary }>;
}

interface CertificateSummary {
  readonly secret: string;
  readonly subject: string;
  readonly notAfter: string;
  readonly sha256: string;
}

function summarize(live: LiveTls): TlsSummary {
  const certs = live.certificates.map((c): CertificateSummary => {
    let subject = '?';
    let sha256 = '?';
    // The table keeps notAfter in 32-bit seconds (for people); the certificate itself says it exactly.
    let notAfter = c.notAfter;
    try {
      const x = new X509Certificate(c.chainPem);
      subject = x.subject.replace(/\n/g, ', ');
      sha256 = x.fingerprint256;
      notAfter = Date.parse(x.validTo);
    } catch {
      // Shown as '?': the plugin refuses a table whose certificates do not parse.
    }
    return { secret: c.secret, subject, notAfter: new Date(notAfter).toISOString(), sha256 };
  });
  const policy = (i: number | undefined): string | undefined => {
    if (i === undefined) return undefined;
    const p = live.policies[i];
    if (!p) return undefined;
    const parts = [`client certificates ${p.verifyClient}`];
    if (p.verifyClient === 'on' || p.verifyClient === 'optional') parts.push(`depth ${p.verifyDepth}`);
    if (p.minVersion) parts.push(`minimum ${p.minVersion}`);
    return parts.join(', ');
  };
  return {
    generation: live.generation.toString(),
    hosts: live.hosts.map((h) => {
      const p = policy(h.policy);
      return { name: h.name, certificate: h.certificate !== undefined ? certs[h.certificate]! : 'default', ...(p ? { policy: p } : {}) };
    }),
    ...(live.defaultCertificate !== undefined ? { defaultCertificate: certs[live.defaultCertificate]! } : {}),
    ...(live.gatewayListeners ? {
      gatewayListeners: live.gatewayListeners.map((l) => ({
        gateway: l.gateway, listener: l.listener, address: l.address, port: l.port, hostname: l.hostname, certificate: certs[l.certificate]!,
      })),
    } : {}),
  };
}

function formatTls(t: TlsSummary | undefined): string {
  if (!t) return '\nTLS: no TLS table published (every name gets the plugin\'s own default certificate)';
  const cert = (c: CertificateSummary | 'default') => (c === 'default' ? 'the default certificate' : `${c.secret} (${c.subject}, until ${c.notAfter}, SHA-256 ${c.sha256})`);
  const lines = ['', `TLS: generation ${t.generation}, ${t.hosts.length} names`];
  for (const h of t.hosts) lines.push(`  ${h.name.padEnd(30)} ${cert(h.certificate)}${h.policy ? `; ${h.policy}` : ''}`);
  lines.push(`  ${'(default)'.padEnd(30)} ${t.defaultCertificate ? cert(t.defaultCertificate) : "the plugin's own (made when ATS started)"}`);
  if (t.gatewayListeners) {
    lines.push(`Gateway HTTPS listeners (their address and port serve only these; an SNI none of them takes fails the handshake): ${t.gatewayListeners.length}`);
    for (const l of t.gatewayListeners) {
      const where = `${l.address.includes(':') ? `[${l.address}]` : l.address}:${l.port} ${l.hostname || '(any)'}`;
      lines.push(`  ${where.padEnd(30)} ${cert(l.certificate)}; Gateway ${l.gateway} listener ${l.listener}`);
    }
  }
  return lines.join('\n');
}

function liveTls(table: RouteTable): TlsSummary | undefined {
  try {
    return summarize(table.readTls(false));
  } catch (err) {
    if (err instanceof TableError && err.code === 'ERR_TABLE_NOT_FOUND') return undefined;
    throw err;
  }
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
    const tls = liveTls(table);
    io.out(opts.json ? toJson({ ...live, ...(tls ? { tls } : {}) }) : formatRoutes(live) + formatTls(tls));
    return 0;
  } catch (err) {
    return explainNotFound(err, opts.table);
  } finally {
    table.close();
  }
}
