// Certificates and keys from kubernetes.io/tls Secrets, checked the way the
// proxy will use them: the chain parses, the key parses and matches the
// leaf, and which names the leaf covers. Parsing costs tens of microseconds
// per Secret, so results are kept per Secret object (objects in the cache
// are never changed: a new version is a new object) across builds. That
// keeps build() a function of its inputs: the memo only saves work.

import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { Secret } from '../kube/types.js';
import { TLS_SECRET_TYPE } from '../kube/types.js';
import { invalid, isInvalid, type Invalid } from '../validate/invalid.js';

export interface ParsedCertificate {
  /** The chain as the Secret holds it, leaf first. */
  readonly certPem: string;
  readonly keyPem: string;
  /** Lowercase names the leaf covers: its DNS subjectAltNames (its CN when it has none). */
  readonly names: readonly string[];
  /** ms since the epoch. */
  readonly notBefore: number;
  readonly notAfter: number;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]+?-----END \1-----/g;

function decodeBase64(text: string): string | undefined {
  const compact = text.replace(/\s+/g, '');
  if (compact.length % 4 !== 0 || !BASE64.test(compact)) return undefined;
  return Buffer.from(compact, 'base64').toString('utf8');
}

/** The PEM blocks of a text, with their labels. */
function pemBlocks(text: string): { label: string; pem: string }[] {
  return [...text.matchAll(PEM_BLOCK)].map((m) => ({ label: m[1] ?? '', pem: `${m[0]}\n` }));
}

function opensslReason(err: unknown): string {
  const e = err as { message?: string; reason?: string };
  return (e.reason ?? e.message ?? String(err)).replace(/^error:[0-9A-F]+:/, '').slice(0, 200);
}

/** The names a leaf covers, lowercase: DNS subjectAltNames, or the CN when there are none. */
function coveredNames(leaf: X509Certificate): string[] {
  const sans = (leaf.subjectAltName ?? '')
    .split(', ')
    .filter((s) => s.startsWith('DNS:'))
    .map((s) => s.slice(4).toLowerCase());
  if (sans.length > 0) return sans;
  const cn = /^CN=(.*)$/m.exec(leaf.subject)?.[1];
  return cn ? [cn.toLowerCase()] : [];
}

function parseTls(secret: Secret): ParsedCertificate | Invalid {
  if (secret.type !== TLS_SECRET_TYPE) return invalid(`is of type "${secret.type ?? 'Opaque'}", not ${TLS_SECRET_TYPE}`);
  const crt = secret.data?.['tls.crt'];
  const key = secret.data?.['tls.key'];
  if (!crt || !key) return invalid(`has no ${!crt ? 'tls.crt' : 'tls.key'}`);
  const certText = decodeBase64(crt);
  const keyText = decodeBase64(key);
  if (certText === undefined || keyText === undefined) return invalid(`has a ${certText === undefined ? 'tls.crt' : 'tls.key'} that is not base64`);
  const certs = pemBlocks(certText).filter((b) => b.label === 'CERTIFICATE');
  if (certs.length === 0) return invalid('has a tls.crt that holds no PEM certificate');
  const keys = pemBlocks(keyText).filter((b) => /^((RSA|EC|ENCRYPTED) )?PRIVATE KEY$/.test(b.label));
  if (keys.length === 0) return invalid('has a tls.key that holds no PEM private key');
  if (keys.length > 1) return invalid('has a tls.key that holds more than one private key');
  const keyBlock = keys[0]!;
  if (keyBlock.label === 'ENCRYPTED PRIVATE KEY' || /Proc-Type: 4,ENCRYPTED/.test(keyBlock.pem)) {
    return invalid('has an encrypted tls.key; ATS needs it unencrypted');
  }
  const chain: X509Certificate[] = [];
  for (let i = 0; i < certs.length; i++) {
    try {
      chain.push(new X509Certificate(certs[i]!.pem));
    } catch (err) {
      return invalid(`has a tls.crt whose ${i === 0 ? 'certificate' : `certificate ${i + 1} (of the chain)`} does not parse: ${opensslReason(err)}`);
    }
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(keyBlock.pem);
  } catch (err) {
    return invalid(`has a tls.key that does not parse: ${opensslReason(err)}`);
  }
  const leaf = chain[0]!;
  if (!leaf.checkPrivateKey(privateKey)) return invalid('has a tls.key that does not match the certificate in tls.crt');
  return {
    certPem: certs.map((c) => c.pem).join(''),
    keyPem: keyBlock.pem,
    names: coveredNames(leaf),
    notBefore: Date.parse(leaf.validFrom),
    notAfter: Date.parse(leaf.validTo),
  };
}

function parseCa(secret: Secret): string | Invalid {
  if (secret.type !== TLS_SECRET_TYPE) return invalid(`is of type "${secret.type ?? 'Opaque'}", not ${TLS_SECRET_TYPE} (the controller reads only TLS Secrets)`);
  const ca = secret.data?.['ca.crt'];
  if (!ca) return invalid('has no ca.crt');
  const text = decodeBase64(ca);
  if (text === undefined) return invalid('has a ca.crt that is not base64');
  const blocks = pemBlocks(text).filter((b) => b.label === 'CERTIFICATE');
  if (blocks.length === 0) return invalid('has a ca.crt that holds no PEM certificate');
  for (let i = 0; i < blocks.length; i++) {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(blocks[i]!.pem);
    } catch (err) {
      return invalid(`has a ca.crt whose certificate ${i + 1} does not parse: ${opensslReason(err)}`);
    }
    if (!cert.ca) return invalid(`has a ca.crt whose certificate ${i + 1} (${cert.subject.replace(/\n/g, ', ')}) is not a CA certificate`);
  }
  return blocks.map((b) => b.pem).join('');
}

/** Parsed Secrets, per Secret object. One per controller, kept across builds. */
export class CertificateCache {
  readonly #tls = new WeakMap<Secret, ParsedCertificate | Invalid>();
  readonly #ca = new WeakMap<Secret, string | Invalid>();

  /** The Secret's tls.crt and tls.key, checked; `Invalid` says what is wrong (after "Secret ns/name"). */
  tls(secret: Secret): ParsedCertificate | Invalid {
    let parsed = this.#tls.get(secret);
    if (parsed === undefined) {
      parsed = parseTls(secret);
      this.#tls.set(secret, parsed);
    }
    return parsed;
  }

  /** The Secret's ca.crt (PEM, every certificate a CA), for verifying client certificates. */
  ca(secret: Secret): string | Invalid {
    let parsed = this.#ca.get(secret);
    if (parsed === undefined) {
      parsed = parseCa(secret);
      this.#ca.set(secret, parsed);
    }
    return parsed;
  }
}

/** Whether a certificate covers a host: an exact name, or `*.suffix` for a host one label below suffix; a wildcard host only by the same wildcard. */
export function coversHost(cert: ParsedCertificate, host: string): boolean {
  const h = host.toLowerCase();
  if (cert.names.includes(h)) return true;
  if (h.startsWith('*.')) return false;
  const dot = h.indexOf('.');
  return dot > 0 && cert.names.includes(`*${h.slice(dot)}`);
}

