// An HTTPS listener's certificate, from its tls.certificateRefs: one
// decision for both what status says (ResolvedRefs, Programmed) and what
// the TLS table serves, so that the two cannot disagree. Only the first
// reference is served (one certificate per listener: ATS installs one chain
// on the connection); every reference is checked, and a listener any of
// whose references does not resolve is not served at all, as its status
// says (ResolvedRefs=False, Programmed=False/Invalid).

import type { Snapshot } from '../../cache/snapshot.js';
import { GATEWAY_GROUP } from '../../kube/gateway-types.js';
import type { Gateway, Listener } from '../../kube/types.js';
import { namespaceOf } from '../../kube/types.js';
import { isInvalid } from '../../validate/invalid.js';
import type { CertificateCache, ParsedCertificate } from '../certificates.js';
import { referenceGranted } from './references.js';

export type CertificateRefReason = 'InvalidCertificateRef' | 'RefNotPermitted';

export interface CertificateRefProblem {
  readonly reason: CertificateRefReason;
  readonly message: string;
}

export interface ListenerCertificate {
  /** `namespace/name` of the first certificateRef's Secret. */
  readonly secret: string;
  readonly parsed: ParsedCertificate;
  /** How many certificateRefs there are (only the first is served). */
  readonly refs: number;
}

/**
 * The certificate an HTTPS listener is served with, or what is wrong with
 * its tls.certificateRefs; undefined for a listener that is not HTTPS. "A
 * CertificateRef is considered invalid when it refers to a nonexistent or
 * unsupported resource or kind, or when the data within that resource is
 * malformed. This reason must be used only when the reference is allowed
 * ... If the reference is not allowed, the reason RefNotPermitted must be
 * used instead." The grant is checked first, so that a Gateway cannot learn
 * what exists in a namespace that did not grant it.
 */
export function listenerCertificate(gateway: Gateway, listener: Listener, snapshot: Snapshot, certificates: CertificateCache): ListenerCertificate | CertificateRefProblem | undefined {
  if (listener.protocol !== 'HTTPS') return undefined;
  // The CRD refuses Passthrough on HTTPS (it is TLSRoute's); a manifest may still say it.
  const mode = listener.tls?.mode ?? 'Terminate';
  if (mode !== 'Terminate') return { reason: 'InvalidCertificateRef', message: `listener ${listener.name}: tls.mode ${mode} is not supported on HTTPS (only Terminate)` };
  const refs = listener.tls?.certificateRefs ?? [];
  if (refs.length === 0) return { reason: 'InvalidCertificateRef', message: `listener ${listener.name}: HTTPS needs tls.certificateRefs` };
  const ns = namespaceOf(gateway);
  let first: ListenerCertificate | undefined;
  for (const [i, ref] of refs.entries()) {
    const group = ref.group ?? '';
    const kind = ref.kind ?? 'Secret';
    const namespace = ref.namespace ?? ns;
    const what = `listener ${listener.name}: tls.certificateRefs[${i}]`;
    if (group !== '' || kind !== 'Secret') return { reason: 'InvalidCertificateRef', message: `${what} ${group ? `${group}/` : ''}${kind} ${ref.name}: only Secrets (core group) are supported` };
    if (!referenceGranted(snapshot.referenceGrants.values(), { group: GATEWAY_GROUP, kind: 'Gateway', namespace: ns }, { group: '', kind: 'Secret', namespace, name: ref.name })) {
      return { reason: 'RefNotPermitted', message: `${what}: no ReferenceGrant in namespace ${namespace} allows Gateways of namespace ${ns} to refer to Secret ${namespace}/${ref.name}` };
    }
    const key = `${namespace}/${ref.name}`;
    const secret = snapshot.secrets.get(key);
    if (!secret) return { reason: 'InvalidCertificateRef', message: `${what}: Secret ${key} does not exist` };
    const parsed = certificates.tls(secret);
    if (isInvalid(parsed)) return { reason: 'InvalidCertificateRef', message: `${what}: Secret ${key} ${parsed.invalid}` };
    first ??= { secret: key, parsed, refs: refs.length };
  }
  return first;
}

/** What is wrong with an HTTPS listener's tls.certificateRefs, if anything (listenerCertificate's problem). */
export function certificateRefsProblem(gateway: Gateway, listener: Listener, snapshot: Snapshot, certificates: CertificateCache): CertificateRefProblem | undefined {
  const c = listenerCertificate(gateway, listener, snapshot, certificates);
  return c !== undefined && 'reason' in c ? c : undefined;
}
