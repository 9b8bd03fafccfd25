// Publishes what each SNI name is served (certificates and per-host policy)
// as the TLS table, through the addon, when and only when it changed.
//
// The last good certificate keeps serving: when a host's Secret cannot serve
// it now (the model marks it not current: missing, invalid, not covering the
// host), the host keeps the certificate it last had from that Secret. That
// memory is per (Secret, host), starts from the TLS table that is live when
// the controller starts (so a restart does not lose it), and forgets what no
// host asks for any more. Keys go only into the table (readable by this user
// only); they are never logged.
import { performance } from 'node:perf_hooks';
import type { BuildResult, TlsModel } from '../model/model.js';
import type { Logger } from '../observe/logger.js';
import type { ControllerMetrics } from '../observe/metrics.js';
import { sameTlsEncoding, type EncodedTls, encodeTls } from '../route-table/encode-tls.js';
import { RouteTable, TableError, type TlsTable, type TlsTableCertificate, type TlsTableGatewayListener, type TlsTableHost, type TlsTablePolicy } from '../route-table/route-table.js';
import type { Publisher } from './publisher.js';

/** The memory key of a certificate a host had: `secret` then the host ('' for the default). */
const memoryKey = (secret: string, host: string) => `${secret}\u0000${host}`;

export interface TlsPublished {
  readonly generation: bigint;
  readonly hosts: number;
  /** Hosts served the certificate they had before (their Secret cannot serve them now). */
  readonly previous: number;
}

export class TlsPublisher implements Publisher {
  readonly name = 'tls';
  readonly #table: RouteTable;
  /** (Secret, host) → the certificate last served from that Secret to that host. */
  #memory = new Map<string, TlsTableCertificate>();
  #lastEncoded: EncodedTls | undefined;
  #last: TlsPublished | undefined;
  #keptLogged = new Set<string>();

  constructor(
    tableName: string,
    private readonly logger: Logger,
    private readonly metrics: ControllerMetrics,
  ) {
    this.#table = RouteTable.open(tableName);
    this.#remember();
  }

  get last(): TlsPublished | undefined {
    return this.#last;
  }

  /** What the live TLS table serves becomes the memory (after a controller restart). */
  #remember(): void {
    let live;
    try {
      live = this.#table.readTls(true);
    } catch (err) {
      if (err instanceof TableError && err.code === 'ERR_TABLE_NOT_FOUND') return;
      this.logger.warn('cannot read the live TLS table; certificates of bad Secrets are not kept from before this start', { error: err });
      return;
    }
    for (const h of live.hosts) {
      const c = h.certificate !== undefined ? live.certificates[h.certificate] : undefined;
      if (c) this.#memory.set(memoryKey(c.secret, h.name), c);
    }
    const d = live.defaultCertificate !== undefined ? live.certificates[live.defaultCertificate] : undefined;
    if (d) this.#memory.set(memoryKey(d.secret, ''), d);
  }

  async publish(result: BuildResult): Promise<void> {
    const t0 = performance.now();
    const { table, previous, memory } = this.#resolve(result.model.tls);
    let encoded: EncodedTls;
    try {
      encoded = encodeTls(table);
      if (sameTlsEncoding(this.#lastEncoded, encoded)) {
        this.metrics.tlsPublishes.inc({ outcome: 'unchanged' });
        this.#memory = memory;
        return;
      }
      const { generation } = this.#table.publishTlsEncoded(encoded);
      this.#lastEncoded = encoded;
      this.#memory = memory;
      this.#last = { generation, hosts: table.hosts.length, previous: previous.length };
      this.metrics.tlsPublishes.inc({ outcome: 'published' });
      this.metrics.tlsGeneration.set(Number(generation));
      this.metrics.tlsCertificates.set(table.certificates.length);
      this.metrics.tlsPreviousHosts.set(previous.length);
      this.logger.info('published TLS table', {
        generation,
        certificates: table.certificates.length,
        hosts: table.hosts.length,
        policies: table.policies.length,
        ...(table.gatewayListeners ? { gatewayListeners: table.gatewayListeners.length } : {}),
        ...(previous.length ? { keptPrevious: previous } : {}),
        publishMs: Math.round((performance.now() - t0) * 10) / 10,
      });
    } catch (err) {
      this.metrics.tlsPublishes.inc({ outcome: 'refused' });
      if (err instanceof TableError) {
        this.logger.error('TLS table refused; the last good one keeps serving', { error: err });
        return;
      }
      throw err;
    }
  }

  /** The table to publish: the model's certificates, or the remembered ones where the model says a Secret cannot serve. */
  #resolve(model: TlsModel): { table: TlsTable; previous: string[]; memory: Map<string, TlsTableCertificate> } {
    const current = new Map(model.certificates.map((c) => [c.secret, { secret: c.secret, chainPem: c.certPem, keyPem: c.keyPem, notAfter: c.notAfter }]));
    const certificates: TlsTableCertificate[] = [];
    const indexOf = new Map<TlsTableCertificate, number>();
    const use = (c: TlsTableCertificate): number => {
      let i = indexOf.get(c);
      if (i === undefined) {
        i = certificates.length;
        certificates.push(c);
        indexOf.set(c, i);
      }
      return i;
    };
    const memory = new Map<string, TlsTableCertificate>();
    const previous: string[] = [];
    const pick = (secret: string, host: string, isCurrent: boolean): TlsTableCertificate | undefined => {
      const key = memoryKey(secret, host);
      const c = isCurrent ? current.get(secret) : this.#memory.get(key);
      if (c) memory.set(key, c);
      if (!isCurrent && c) previous.push(host || '(default)');
      return c;
    };
    const hosts: TlsTableHost[] = model.hosts.map((h) => {
      const c = h.secret !== undefined ? pick(h.secret, h.name, h.current) : undefined;
      return {
        name: h.name,
        ...(c ? { certificate: use(c) } : {}),
        ...(h.policy !== undefined ? { policy: h.policy } : {}),
      };
    });
    // A Gateway listener is in the model only with a current certificate:
    // nothing of before is kept for it (its status says it is not served).
    const gatewayListeners: TlsTableGatewayListener[] = [];
    for (const l of model.gatewayListeners ?? []) {
      const c = current.get(l.secret);
      if (c) gatewayListeners.push({ gateway: l.gateway, listener: l.listener, address: l.address, port: l.port, hostname: l.hostname, certificate: use(c) });
    }
    const d = model.defaultCertificate ? pick(model.defaultCertificate.secret, '', model.defaultCertificate.current) : undefined;
    const policies: TlsTablePolicy[] = model.policies.map((p) => ({
      ...(p.minVersion ? { minVersion: p.minVersion } : {}),
      // No CA while clients must be verified: refuse (fail closed).
      verifyClient: p.verifyClient !== 'off' && p.caPem === undefined ? 'refuse' : p.verifyClient,
      ...(p.caPem !== undefined ? { caPem: p.caPem } : {}),
      verifyDepth: p.verifyDepth,
    }));
    const kept = new Set(previous);
    for (const host of kept) if (!this.#keptLogged.has(host)) this.logger.warn('serving the previous certificate: its Secret cannot serve it now (see the problem on the Ingress)', { host });
    this.#keptLogged = kept;
    const table: TlsTable = {
      certificates, policies, hosts, ...(d ? { defaultCertificate: use(d) } : {}), ...(gatewayListeners.length > 0 ? { gatewayListeners } : {}),
    };
    return { table, previous, memory };
  }

  close(): void {
    this.#table.close();
  }
}
