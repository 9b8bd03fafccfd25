// The Gateways' HTTPS listeners in the TLS model: for each served one (our
// Gateway has an address, the port is served, the listener is not
// conflicted, every certificateRef resolves: certificate-refs.ts), its
// certificate by (address, local port, hostname). Their certificates join
// the Ingresses' in TlsModel.certificates, one per Secret. Runs after
// collectGateways and before assembleGatewayTable, which serves an HTTPS
// listener's routes only when it is here, so that a listener never answers
// plain HTTP nor TLS without its certificate, and status (Programmed) and
// serving agree.

import type { ParsedCertificate } from '../certificates.js';
import type { TlsCertificate, TlsGatewayListener } from '../model.js';
import { compareText } from '../order.js';
import type { Processor } from '../state.js';
import { report } from '../state.js';
import { listenerCertificate } from './certificate-refs.js';
import { listenerHostnameRank } from './hostnames.js';
import { listenerLocalPort } from './gateway-table.js';
import { listenerConflicts } from './status.js';

/** '*' (every local address of the port) first, then IPv4 in numeric order. */
function addressNumber(text: string): number {
  return text === '*' ? -1 : text.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

function compareTlsListeners(a: TlsGatewayListener, b: TlsGatewayListener): number {
  const d = addressNumber(a.address) - addressNumber(b.address) || a.port - b.port;
  if (d !== 0) return d;
  const [a1, a2] = listenerHostnameRank(a.hostname || undefined);
  const [b1, b2] = listenerHostnameRank(b.hostname || undefined);
  return a1 - b1 || a2 - b2 || compareText(a.hostname, b.hostname) || compareText(a.gateway, b.gateway) || compareText(a.listener, b.listener);
}

export const collectGatewayTls: Processor = (state) => {
  const g = state.gateway;
  if (!g) return;
  const listeners: TlsGatewayListener[] = [];
  const used = new Map<string, ParsedCertificate>();
  for (const gw of g.routes.gateways) {
    const address = g.addresses.get(gw.key);
    const object = state.snapshot.gateways.get(gw.key);
    if (address === undefined || !object) continue;
    const [namespace = '', name = ''] = gw.key.split('/');
    const spec = object.spec?.listeners ?? [];
    const conflicts = listenerConflicts(spec);
    spec.forEach((l, i) => {
      if (l.protocol !== 'HTTPS' || conflicts.has(l.name)) return;
      const port = listenerLocalPort(g, gw.key, l.port);
      if (port === undefined) return;
      const c = listenerCertificate(object, l, state.snapshot, state.context.certificates);
      if (c === undefined) return;
      if ('reason' in c) {
        report(state, 'Gateway', namespace, name, `spec.listeners[${i}].tls`, 'Error', `${c.message}: the listener is not served`);
        return;
      }
      if (c.refs > 1) {
        report(state, 'Gateway', namespace, name, `spec.listeners[${i}].tls.certificateRefs`, 'Warning',
          `listener ${l.name}: only the first certificateRef (Secret ${c.secret}) is served; the other ${c.refs - 1} are checked but not used`);
      }
      g.servedHttps.add(`${gw.key}/${l.name}`);
      used.set(c.secret, c.parsed);
      listeners.push({ gateway: gw.key, listener: l.name, address, port, hostname: l.hostname ?? '', secret: c.secret });
    });
  }
  if (listeners.length === 0) return;
  listeners.sort(compareTlsListeners);
  // The Ingresses' certificates stay as they are; a Secret both use is there once.
  const certificates: TlsCertificate[] = [...state.tls.certificates];
  const have = new Set(certificates.map((c) => c.secret));
  for (const [secret, c] of used) {
    if (!have.has(secret)) certificates.push({ secret, certPem: c.certPem, keyPem: c.keyPem, notAfter: c.notAfter });
  }
  certificates.sort((a, b) => compareText(a.secret, b.secret));
  // A new object: the memo may hold the Ingress part's.
  state.tls = { ...state.tls, certificates, gatewayListeners: listeners };
};
