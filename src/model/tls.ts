// TLS: the certificates named in spec.tls of the claimed Ingresses, each from
// a Secret of the Ingress's namespace of type kubernetes.io/tls. One entry
// per Secret with every host it serves; a host served by two Secrets keeps
// the older Ingress's. A missing or malformed Secret is a problem naming
// spec.tls[i].secretName, and only its hosts go without a certificate. An
// entry without secretName leaves its hosts to the default certificate.

import type { Secret } from '../kube/types.js';
import { TLS_SECRET_TYPE } from '../kube/types.js';
import type { TlsCertificate } from './model.js';
import { isInvalid } from '../validate/invalid.js';
import { parseHost, wildcardCovering } from './names.js';
import type { ClaimedIngress, Processor } from './state.js';
import { reportOn } from './state.js';
import { compareText, sortInPlace } from './order.js';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function decodeBase64(text: string): string | undefined {
  const compact = text.replace(/\s+/g, '');
  if (compact.length % 4 !== 0 || !BASE64.test(compact)) return undefined;
  return Buffer.from(compact, 'base64').toString('utf8');
}

const CERT_PEM = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;
const KEY_PEM = /-----BEGIN ((RSA |EC |ENCRYPTED )?PRIVATE KEY)-----[\s\S]+?-----END \1-----/;

/**
 * The certificate chain and key of a kubernetes.io/tls Secret, or what is
 * wrong with it. Only the PEM framing is checked here; whether the key
 * matches the certificate is the TLS publisher's to find out.
 */
function readTlsSecret(secret: Secret): { certPem: string; keyPem: string } | string {
  if (secret.type !== TLS_SECRET_TYPE) {
    return `is of type "${secret.type ?? 'Opaque'}", not ${TLS_SECRET_TYPE}`;
  }
  const crt = secret.data?.['tls.crt'];
  const key = secret.data?.['tls.key'];
  if (!crt || !key) return `has no ${!crt ? 'tls.crt' : 'tls.key'}`;
  const certPem = decodeBase64(crt);
  const keyPem = decodeBase64(key);
  if (certPem === undefined || keyPem === undefined) return `has a ${certPem === undefined ? 'tls.crt' : 'tls.key'} that is not base64`;
  if (!CERT_PEM.test(certPem)) return 'has a tls.crt that holds no PEM certificate';
  if (!KEY_PEM.test(keyPem)) return 'has a tls.key that holds no PEM private key';
  if (/ENCRYPTED PRIVATE KEY/.test(keyPem)) return 'has an encrypted tls.key; ATS needs it unencrypted';
  return { certPem, keyPem };
}

interface Entry {
  readonly secret: string;
  readonly hosts: Set<string>;
  readonly certPem: string;
  readonly keyPem: string;
}

interface HostOwner {
  readonly secret: string;
  readonly ingress: ClaimedIngress;
  readonly field: string;
}

export const collectTls: Processor = (state) => {
  const entries = new Map<string, Entry>();
  const owners = new Map<string, HostOwner>();
  const defaultCertificateHosts = new Set<string>();
  const read = new Map<string, { certPem: string; keyPem: string } | string>();
  for (const ingress of state.ingresses) {
    const list = ingress.object.spec?.tls;
    if (!list) continue;
    list.forEach((tls, i) => {
      const secretField = `spec.tls[${i}].secretName`;
      if ((tls.hosts ?? []).length === 0) {
        reportOn(state, ingress, `spec.tls[${i}].hosts`, 'Error', 'no hosts: certificates are served by SNI, so this entry would never be used');
        return;
      }
      const hosts: { host: string; field: string }[] = [];
      (tls.hosts ?? []).forEach((text, j) => {
        const host = parseHost(text);
        const field = `spec.tls[${i}].hosts[${j}]`;
        if (isInvalid(host)) reportOn(state, ingress, field, 'Error', `${host.invalid}; no certificate for it`);
        else if (host === '') reportOn(state, ingress, field, 'Error', 'an empty host; no certificate for it');
        else hosts.push({ host, field });
      });
      if (!tls.secretName) {
        reportOn(state, ingress, secretField, 'Warning', 'no secretName: these hosts get the default certificate');
        for (const { host } of hosts) defaultCertificateHosts.add(host);
        return;
      }
      const secretKey = `${ingress.namespace}/${tls.secretName}`;
      let pems = read.get(secretKey);
      if (pems === undefined) {
        const secret = state.snapshot.secrets.get(secretKey);
        pems = secret ? readTlsSecret(secret) : 'does not exist';
        read.set(secretKey, pems);
      }
      if (typeof pems === 'string') {
        reportOn(state, ingress, secretField, 'Error', `Secret ${secretKey} ${pems}; no certificate for ${hosts.map((h) => h.host).join(', ') || 'its hosts'}`);
        return;
      }
      for (const { host, field } of hosts) {
        const owner = owners.get(host);
        if (owner && owner.secret !== secretKey) {
          reportOn(state, ingress, field, 'Warning',
            `host "${host}" already has the certificate of Secret ${owner.secret} from ${owner.field} of Ingress ${owner.ingress.key}, which is older; this one is not used for it`);
          continue;
        }
        if (!owner) owners.set(host, { secret: secretKey, ingress, field });
        let entry = entries.get(secretKey);
        if (!entry) {
          entry = { secret: secretKey, hosts: new Set(), certPem: pems.certPem, keyPem: pems.keyPem };
          entries.set(secretKey, entry);
        }
        entry.hosts.add(host);
      }
    });
  }

  const certificates: TlsCertificate[] = [];
  for (const entry of entries.values()) {
    const hosts = sortInPlace([...entry.hosts], compareText);
    certificates.push({ secret: entry.secret, hosts, certPem: entry.certPem, keyPem: entry.keyPem });
  }
  certificates.sort((a, b) => compareText(a.secret, b.secret));
  state.tls = certificates;
  state.httpsHosts = new Set([...owners.keys(), ...defaultCertificateHosts]);
};

/** A host has https when a certificate names it, or a wildcard that covers it. */
export function hasHttps(httpsHosts: ReadonlySet<string>, host: string): boolean {
  if (host === '') return false;
  if (httpsHosts.has(host)) return true;
  const wildcard = wildcardCovering(host);
  return wildcard !== undefined && httpsHosts.has(wildcard);
}
