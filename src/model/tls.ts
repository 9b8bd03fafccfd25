// TLS: what each SNI name is served. Certificates come from the Secrets
// named in spec.tls of the claimed Ingresses (kubernetes.io/tls, the
// Ingress's own namespace), checked by certificates.ts against the hosts
// they are listed for; a host served by two Secrets keeps the older
// Ingress's. A Secret that cannot serve a host now (missing, malformed, a key
// that does not match, a certificate that does not cover the host) is a
// problem naming the Secret and the field, and the host is marked so that
// the TLS publisher keeps the certificate it had from that Secret, if any.
// An expired certificate is served, with a Warning, as ingress-nginx does.
// Per-host policy (client certificates, minimum version) comes from the
// Ingress's annotations; the oldest Ingress naming a host decides it.

import { isInvalid } from '../validate/invalid.js';
import { annotationField } from './annotations.js';
import { coversHost, type ParsedCertificate } from './certificates.js';
import type { TlsCertificate, TlsHost, TlsPolicy } from './model.js';
import { parseHost, wildcardCovering } from './names.js';
import { compareText } from './order.js';
import type { BuildState, ClaimedIngress, Processor, RequestedTlsPolicy } from './state.js';
import { report, reportOn } from './state.js';

// The cache holds only kubernetes.io/tls Secrets (the sources ask for no others): a Secret of
// another type looks the same as one that does not exist.
const NOT_A_TLS_SECRET = 'does not exist (or is not of type kubernetes.io/tls)';

const AUTH_TLS_SECRET = 'ats.ingress.kubernetes.io/auth-tls-secret';

interface HostChoice {
  readonly secret: string | undefined;
  readonly current: boolean;
  readonly ingress: ClaimedIngress;
  readonly field: string;
}

interface PolicyChoice {
  readonly policy: TlsPolicy;
  readonly key: string;
  readonly ingress: ClaimedIngress;
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

function listHosts(hosts: readonly string[]): string {
  return hosts.length === 0 ? 'its hosts' : hosts.join(', ');
}

/**
 * Expired and not-yet-valid certificates are served, with a Warning. Notes
 * in the state when the answer changes next (for the build memo).
 */
function validityWarning(state: BuildState, cert: ParsedCertificate, now: number): string | undefined {
  if (cert.notAfter < now) return `expired on ${iso(cert.notAfter)}; it is served anyway (as ingress-nginx does): renew it`;
  // Expires: notAfter < now from notAfter + 1 on.
  state.validUntil = Math.min(state.validUntil, cert.notAfter + 1);
  if (cert.notBefore > now) {
    state.validUntil = Math.min(state.validUntil, cert.notBefore);
    return `is not valid before ${iso(cert.notBefore)}; it is served anyway, and clients will refuse it until then`;
  }
  return undefined;
}

export const collectTls: Processor = (state) => {
  const { certificates: cache, now } = state.context;
  const hosts = new Map<string, HostChoice>();
  const used = new Map<string, ParsedCertificate>();
  const https = new Set<string>();

  // The hosts each Ingress lists in spec.tls, valid ones only: its policy covers them too.
  const tlsHostsOf = new Map<ClaimedIngress, string[]>();

  for (const ingress of state.ingresses) {
    const list = ingress.object.spec?.tls;
    if (!list) continue;
    const own: string[] = [];
    tlsHostsOf.set(ingress, own);
    list.forEach((tls, i) => {
      const secretField = `spec.tls[${i}].secretName`;
      if ((tls.hosts ?? []).length === 0) {
        reportOn(state, ingress, `spec.tls[${i}].hosts`, 'Error', 'no hosts: certificates are served by SNI, so this entry would never be used');
        return;
      }
      const entryHosts: { host: string; field: string }[] = [];
      (tls.hosts ?? []).forEach((text, j) => {
        const host = parseHost(text);
        const field = `spec.tls[${i}].hosts[${j}]`;
        if (isInvalid(host)) reportOn(state, ingress, field, 'Error', `${host.invalid}; no certificate for it`);
        else if (host === '') reportOn(state, ingress, field, 'Error', 'an empty host; no certificate for it');
        else {
          entryHosts.push({ host, field });
          own.push(host);
        }
      });
      const names = entryHosts.map((h) => h.host);
      if (!tls.secretName) {
        reportOn(state, ingress, secretField, 'Warning', 'no secretName: these hosts get the default certificate');
        for (const { host, field } of entryHosts) {
          if (!hosts.has(host)) hosts.set(host, { secret: undefined, current: true, ingress, field });
          https.add(host);
        }
        return;
      }
      const secretKey = `${ingress.namespace}/${tls.secretName}`;
      const secret = state.snapshot.secrets.get(secretKey);
      const parsed = secret ? cache.tls(secret) : undefined;
      const keep = `${listHosts(names)} keep the certificate they had from it, if any, else get the default`;
      if (!parsed || isInvalid(parsed)) {
        const why = parsed ? parsed.invalid : NOT_A_TLS_SECRET;
        reportOn(state, ingress, secretField, 'Error', `Secret ${secretKey} ${why}; ${keep}`);
      } else {
        const warning = validityWarning(state, parsed, now);
        if (warning) reportOn(state, ingress, secretField, 'Warning', `the certificate of Secret ${secretKey} ${warning}`);
      }
      for (const { host, field } of entryHosts) {
        const owner = hosts.get(host);
        if (owner) {
          if (owner.secret !== secretKey) {
            reportOn(state, ingress, field, 'Warning',
              `host "${host}" already has ${owner.secret ? `the certificate of Secret ${owner.secret}` : 'the default certificate'} from ${owner.field} of Ingress ${owner.ingress.key}${owner.ingress === ingress ? '' : ', which is older'}; this one is not used for it`);
          }
          continue;
        }
        let current = parsed !== undefined && !isInvalid(parsed);
        if (current && !coversHost(parsed as ParsedCertificate, host)) {
          current = false;
          reportOn(state, ingress, field, 'Error',
            `the certificate of Secret ${secretKey} (tls.crt) does not cover "${host}" (it names ${(parsed as ParsedCertificate).names.join(', ') || 'no DNS name'}); "${host}" keeps the certificate it had from it, if any, else gets the default`);
        }
        hosts.set(host, { secret: secretKey, current, ingress, field });
        if (current) {
          used.set(secretKey, parsed as ParsedCertificate);
          https.add(host);
        }
      }
    });
  }

  const policies = collectPolicies(state, tlsHostsOf);
  let defaultCertificate: { secret: string; current: boolean } | undefined;
  const flag = state.config.defaultCertificate;
  if (flag) {
    const key = `${flag.namespace}/${flag.name}`;
    const secret = state.snapshot.secrets.get(key);
    const parsed = secret ? cache.tls(secret) : undefined;
    const current = parsed !== undefined && !isInvalid(parsed);
    if (!current) {
      report(state, 'Controller', '', state.config.controllerName, '--default-certificate', 'Error',
        `Secret ${key} ${parsed ? (parsed as { invalid: string }).invalid : NOT_A_TLS_SECRET}; the previous default certificate keeps serving, if any, else ATS's own`);
    } else {
      const warning = validityWarning(state, parsed as ParsedCertificate, now);
      if (warning) report(state, 'Controller', '', state.config.controllerName, '--default-certificate', 'Warning', `the certificate of Secret ${key} ${warning}`);
      used.set(key, parsed as ParsedCertificate);
    }
    defaultCertificate = { secret: key, current };
  }

  // Every SNI name that has a certificate or a policy, sorted; policies numbered in that order.
  const names = [...new Set([...hosts.keys(), ...policies.keys()])].sort(compareText);
  const policyList: TlsPolicy[] = [];
  const policyIndex = new Map<string, number>();
  const tlsHosts: TlsHost[] = names.map((name) => {
    const choice = hosts.get(name);
    const policy = policies.get(name);
    let index: number | undefined;
    if (policy) {
      index = policyIndex.get(policy.key);
      if (index === undefined) {
        index = policyList.length;
        policyIndex.set(policy.key, index);
        policyList.push(policy.policy);
      }
    }
    return {
      name,
      ...(choice?.secret !== undefined ? { secret: choice.secret } : {}),
      current: choice?.current ?? true,
      ...(index !== undefined ? { policy: index } : {}),
    };
  });
  const certificates: TlsCertificate[] = [...used.entries()]
    .sort(([a], [b]) => compareText(a, b))
    .map(([secret, c]) => ({ secret, certPem: c.certPem, keyPem: c.keyPem, notAfter: c.notAfter }));
  state.tls = { certificates, hosts: tlsHosts, policies: policyList, ...(defaultCertificate ? { defaultCertificate } : {}) };
  state.httpsHosts = https;
  // Plain HTTP would let a client past the certificate check: those hosts always redirect.
  state.clientVerifiedHosts = new Set(tlsHosts.filter((h) => h.policy !== undefined && policyList[h.policy]!.verifyClient !== 'off').map((h) => h.name));
};

/** Per host, the policy of the oldest Ingress that asks for one; later different ones get a Warning. */
function collectPolicies(state: BuildState, tlsHostsOf: ReadonlyMap<ClaimedIngress, readonly string[]>): Map<string, PolicyChoice> {
  const chosen = new Map<string, PolicyChoice>();
  for (const ingress of state.ingresses) {
    const requested = ingress.settings.tls;
    if (!requested) continue;
    const hostNames = [...new Set([...ingress.ruleHosts.filter((h) => h !== ''), ...(tlsHostsOf.get(ingress) ?? [])])].sort(compareText);
    if (hostNames.length === 0) {
      reportOn(state, ingress, annotationField(AUTH_TLS_SECRET), 'Warning', 'the TLS annotations apply to the hosts of the rules and of spec.tls, and this Ingress names none');
      continue;
    }
    const policy = resolvePolicy(state, ingress, requested, hostNames);
    const key = JSON.stringify(policy);
    for (const host of hostNames) {
      const owner = chosen.get(host);
      if (!owner) chosen.set(host, { policy, key, ingress });
      else if (owner.key !== key) {
        reportOn(state, ingress, annotationField(AUTH_TLS_SECRET), 'Warning',
          `host "${host}" already has the TLS policy of Ingress ${owner.ingress.key}, which is older; this Ingress's TLS annotations are not used for it`);
      }
    }
  }
  return chosen;
}

function resolvePolicy(state: BuildState, ingress: ClaimedIngress, requested: RequestedTlsPolicy, hostNames: readonly string[]): TlsPolicy {
  const base = { verifyClient: requested.verifyClient, verifyDepth: requested.verifyDepth, ...(requested.minVersion ? { minVersion: requested.minVersion } : {}) };
  if (requested.verifyClient === 'off') return base;
  const refuse = (why: string): TlsPolicy => {
    reportOn(state, ingress, annotationField(AUTH_TLS_SECRET), 'Error',
      `${why}; TLS handshakes for ${hostNames.join(', ')} are refused until it is fixed (client certificates cannot be verified)`);
    // No CA: verification on with nothing to verify against refuses every client.
    return { ...base, verifyClient: 'on' };
  };
  if (!requested.caSecret) return refuse('the CA Secret is not usable');
  const secret = state.snapshot.secrets.get(requested.caSecret);
  if (!secret) return refuse(`Secret ${requested.caSecret} ${NOT_A_TLS_SECRET}`);
  const ca = state.context.certificates.ca(secret);
  if (isInvalid(ca)) return refuse(`Secret ${requested.caSecret} ${ca.invalid}`);
  return { ...base, caSecret: requested.caSecret, caPem: ca };
}

/** A host has https when a certificate names it, or a wildcard that covers it. */
export function hasHttps(httpsHosts: ReadonlySet<string>, host: string): boolean {
  // Asked per backend: without any such host, no wildcard is made to look up.
  if (host === '' || httpsHosts.size === 0) return false;
  if (httpsHosts.has(host)) return true;
  const wildcard = wildcardCovering(host);
  return wildcard !== undefined && httpsHosts.has(wildcard);
}
