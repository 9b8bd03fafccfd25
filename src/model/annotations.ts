// Annotations: typed and validated, each one a field of the model. An invalid
// value is a problem naming the annotation, and the Ingress is built with the
// default for that annotation. Nothing in an annotation is ever run or
// spliced into ATS configuration.

import type { BackendOptions, UpstreamScheme } from './table-model.js';
import type { ClientVerification, TlsVersion } from './model.js';
import { invalid, isInvalid, type Invalid } from '../validate/invalid.js';
import { dnsSubdomainError } from '../validate/names.js';
import { parseDuration } from '../validate/duration.js';
import { quoted } from '../validate/quote.js';
import { parseDnsName } from './names.js';
import type { BuildState, ClaimedIngress, IngressSettings, RequestedTlsPolicy } from './state.js';
import { NO_SETTINGS, reportOn } from './state.js';

export const ANNOTATION_PREFIX = 'ats.ingress.kubernetes.io/';

const ANNOTATIONS = {
  backendProtocol: `${ANNOTATION_PREFIX}backend-protocol`,
  connectTimeout: `${ANNOTATION_PREFIX}connect-timeout`,
  responseTimeout: `${ANNOTATION_PREFIX}response-timeout`,
  sslRedirect: `${ANNOTATION_PREFIX}ssl-redirect`,
  cache: `${ANNOTATION_PREFIX}cache`,
  upstreamVhost: `${ANNOTATION_PREFIX}upstream-vhost`,
  authTlsSecret: `${ANNOTATION_PREFIX}auth-tls-secret`,
  authTlsVerifyClient: `${ANNOTATION_PREFIX}auth-tls-verify-client`,
  authTlsVerifyDepth: `${ANNOTATION_PREFIX}auth-tls-verify-depth`,
  tlsMinVersion: `${ANNOTATION_PREFIX}tls-min-version`,
  cacheDefaultTtl: `${ANNOTATION_PREFIX}cache-default-ttl`,
  cacheMaxTtl: `${ANNOTATION_PREFIX}cache-max-ttl`,
  cacheIgnoreQuery: `${ANNOTATION_PREFIX}cache-ignore-query`,
  cacheServeStale: `${ANNOTATION_PREFIX}cache-serve-stale`,
  cacheGeneration: `${ANNOTATION_PREFIX}cache-generation`,
} as const;

/** The longest cache lifetime an annotation may give: a year. */
const YEAR_MS = 365 * 24 * 3600 * 1000;
/** The largest cache generation: ATS's is a signed 64-bit record; the table carries 32 bits. */
const MAX_GENERATION = 0x7fffffff;

/** The ingress-nginx default: the client certificate signed by the CA itself. */
const DEFAULT_VERIFY_DEPTH = 1;

const KNOWN: readonly string[] = Object.values(ANNOTATIONS);

/** ingress-nginx's annotations: read by nobody here, and said so (an Ingress moved from ingress-nginx may rely on them). */
const NGINX_PREFIX = 'nginx.ingress.kubernetes.io/';

/**
 * Unknown annotations under our prefix reported one by one, at most; the rest
 * in one problem (an object with thousands of them must not become thousands
 * of Events).
 */
const MAX_UNKNOWN_REPORTED = 10;

export interface AnnotationProblem {
  readonly annotation: string;
  readonly message: string;
}

export interface ParsedAnnotations {
  readonly settings: IngressSettings;
  readonly problems: readonly AnnotationProblem[];
}

/**
 * Reads our annotations; others (not under our prefix) are not ours to judge.
 * `namespace` is the Ingress's: a Secret an annotation names must be in it.
 */
export function parseAnnotations(annotations: Readonly<Record<string, string>> | undefined, namespace = 'default'): ParsedAnnotations {
  const problems: AnnotationProblem[] = [];
  if (!annotations) return { settings: NO_SETTINGS, problems };
  const given: BackendOptions = {};
  let scheme: UpstreamScheme | undefined;
  let sslRedirect = false;
  let ours = false;
  let caSecret: string | undefined;
  let verifyClient: ClientVerification | undefined;
  let verifyDepth: number | undefined;
  let minVersion: TlsVersion | undefined;

  const unknown: string[] = [];
  for (const key in annotations) {
    if (key.startsWith(NGINX_PREFIX)) {
      problems.push({ annotation: key, message: nginxMessage(key) });
      continue;
    }
    if (!key.startsWith(ANNOTATION_PREFIX)) continue;
    ours = true;
    const value = annotations[key] ?? '';
    let problem: string | undefined;
    switch (key) {
      case ANNOTATIONS.backendProtocol: {
        const v = value.toUpperCase();
        if (v === 'HTTP') scheme = 'http';
        else if (v === 'HTTPS') scheme = 'https';
        else problem = `${quoted(value)} is not HTTP or HTTPS; the Service port's appProtocol decides`;
        break;
      }
      case ANNOTATIONS.connectTimeout:
      case ANNOTATIONS.responseTimeout: {
        const ms = parseDuration(value);
        if (isInvalid(ms)) problem = `${ms.invalid}; ATS's default timeout is used`;
        else if (key === ANNOTATIONS.connectTimeout) given.connectTimeoutMs = ms;
        else given.responseTimeoutMs = ms;
        break;
      }
      case ANNOTATIONS.sslRedirect:
        if (value === 'true') sslRedirect = true;
        else if (value !== 'false') problem = `${quoted(value)} is not "true" or "false"; no redirect`;
        break;
      case ANNOTATIONS.cache:
        // 'default' is the same as no annotation, so it is left out of the options.
        if (value === 'bypass') given.cachePolicy = 'bypass';
        else if (value !== 'default') problem = `${quoted(value)} is not "default" or "bypass"; the default cache policy is used`;
        break;
      case ANNOTATIONS.cacheDefaultTtl:
      case ANNOTATIONS.cacheMaxTtl:
      case ANNOTATIONS.cacheServeStale: {
        const ms = parseDuration(value, YEAR_MS, '8760h (a year)');
        if (isInvalid(ms)) problem = `${ms.invalid}; ${key === ANNOTATIONS.cacheServeStale ? 'stale objects are not served' : 'the response\'s own lifetime is used'}`;
        else if (ms % 1000 !== 0) problem = `${quoted(value)} is not a whole number of seconds (ATS counts cache lifetimes in seconds)`;
        else if (key === ANNOTATIONS.cacheDefaultTtl) given.cacheDefaultTtlS = ms / 1000;
        else if (key === ANNOTATIONS.cacheMaxTtl) given.cacheMaxTtlS = ms / 1000;
        else given.cacheServeStaleS = ms / 1000;
        break;
      }
      case ANNOTATIONS.cacheIgnoreQuery:
        if (value === 'true') given.cacheIgnoreQuery = true;
        else if (value !== 'false') problem = `${quoted(value)} is not "true" or "false"; the query is part of the cache key`;
        break;
      case ANNOTATIONS.cacheGeneration: {
        const n = Number(value);
        if (/^[0-9]{1,10}$/.test(value) && n <= MAX_GENERATION) given.cacheGeneration = n;
        else problem = `${quoted(value)} is not a generation (a whole number from 0 to ${MAX_GENERATION}); objects cached so far stay`;
        break;
      }
      case ANNOTATIONS.upstreamVhost: {
        const host = parseDnsName(value);
        if (isInvalid(host)) problem = `${host.invalid}; the client's Host header is sent`;
        else given.upstreamHost = host;
        break;
      }
      case ANNOTATIONS.authTlsSecret: {
        const ref = parseSecretRef(value, namespace);
        if (isInvalid(ref)) problem = `${ref.invalid}; client certificates are not verified`;
        else caSecret = ref;
        break;
      }
      case ANNOTATIONS.authTlsVerifyClient:
        if (value === 'on' || value === 'optional' || value === 'off') verifyClient = value;
        else problem = `${quoted(value)} is not on, optional or off`;
        break;
      case ANNOTATIONS.authTlsVerifyDepth: {
        const n = Number(value);
        if (/^[0-9]+$/.test(value) && n >= 1 && n <= 10) verifyDepth = n;
        else problem = `${quoted(value)} is not a depth from 1 to 10; ${DEFAULT_VERIFY_DEPTH} is used`;
        break;
      }
      case ANNOTATIONS.tlsMinVersion:
        if (value === 'TLSv1.2' || value === 'TLSv1.3') minVersion = value;
        else problem = `${quoted(value)} is not TLSv1.2 or TLSv1.3; ATS's minimum is used`;
        break;
      default:
        unknown.push(key);
    }
    if (problem !== undefined) problems.push({ annotation: key, message: problem });
  }
  for (const key of unknown.slice(0, MAX_UNKNOWN_REPORTED)) {
    problems.push({ annotation: key, message: `unknown annotation; ours are ${[...KNOWN].sort().join(', ')}` });
  }
  if (unknown.length > MAX_UNKNOWN_REPORTED) {
    const first = unknown[MAX_UNKNOWN_REPORTED]!;
    problems.push({ annotation: first, message: `and ${unknown.length - MAX_UNKNOWN_REPORTED} more unknown annotations under ${ANNOTATION_PREFIX} (${quoted(first)} and after), not reported one by one` });
  }
  if (!ours) return { settings: NO_SETTINGS, problems };
  if (given.cacheDefaultTtlS !== undefined && given.cacheMaxTtlS !== undefined && given.cacheDefaultTtlS > given.cacheMaxTtlS) {
    problems.push({ annotation: ANNOTATIONS.cacheDefaultTtl, message: `${given.cacheDefaultTtlS}s is longer than cache-max-ttl (${given.cacheMaxTtlS}s): objects stay fresh for cache-max-ttl at most` });
  }
  const tls = tlsPolicyOf(annotations, caSecret, verifyClient, verifyDepth, minVersion, problems);
  const options = canonicalOptions(given);
  if (!scheme && !sslRedirect && options === NO_OPTIONS && !tls) return { settings: NO_SETTINGS, problems };
  const optionsKey = options === NO_OPTIONS ? '' : JSON.stringify(options);
  const settings: IngressSettings = {
    ...(scheme ? { scheme } : {}),
    options,
    optionsKey,
    sslRedirect,
    ...(tls ? { tls } : {}),
  };
  return { settings, problems };
}

function nginxMessage(key: string): string {
  if (key.endsWith('-snippet')) {
    return 'an ingress-nginx configuration snippet: ats-ingress never takes configuration or code from an annotation, so it is ignored';
  }
  return `an ingress-nginx annotation, which ats-ingress does not read (ours are under ${ANNOTATION_PREFIX}); it has no effect here`;
}

/**
 * `auth-tls-secret`: `name` or `namespace/name` of a Secret in the Ingress's
 * own namespace (a reference to another namespace's Secret is refused), as
 * `namespace/name`.
 */
function parseSecretRef(value: string, namespace: string): string | Invalid {
  const slash = value.indexOf('/');
  const ns = slash < 0 ? namespace : value.slice(0, slash);
  const name = slash < 0 ? value : value.slice(slash + 1);
  if (dnsSubdomainError(name)) return invalid(`${quoted(value)} is not a Secret name (or namespace/name)`);
  if (ns !== namespace) return invalid(`${quoted(value)} names a Secret in namespace ${ns}; an Ingress may use only Secrets of its own namespace (${namespace})`);
  return `${ns}/${name}`;
}

/** The TLS policy the annotations ask for, or undefined when they ask for none. */
function tlsPolicyOf(
  annotations: Readonly<Record<string, string>>,
  caSecret: string | undefined,
  verifyClient: ClientVerification | undefined,
  verifyDepth: number | undefined,
  minVersion: TlsVersion | undefined,
  problems: AnnotationProblem[],
): RequestedTlsPolicy | undefined {
  // With a CA Secret named, clients are verified unless told otherwise; a
  // named but invalid one fails closed (caSecret ''), never open.
  const secretGiven = ANNOTATIONS.authTlsSecret in annotations;
  let verify: ClientVerification = verifyClient ?? (secretGiven ? 'on' : 'off');
  if (verify !== 'off' && caSecret === undefined && !secretGiven) {
    problems.push({ annotation: ANNOTATIONS.authTlsVerifyClient, message: `"${verify}" needs ${ANNOTATIONS.authTlsSecret} (the CA that signs client certificates); client certificates are not verified` });
    verify = 'off';
  }
  if (verify === 'off' && minVersion === undefined) return undefined;
  return {
    verifyClient: verify,
    verifyDepth: verifyDepth ?? DEFAULT_VERIFY_DEPTH,
    ...(verify !== 'off' && caSecret !== undefined ? { caSecret } : {}),
    ...(verify !== 'off' && caSecret === undefined ? { caSecret: '' } : {}),
    ...(minVersion ? { minVersion } : {}),
  };
}

function noneSet(options: BackendOptions): boolean {
  for (const key in options) if (options[key as keyof BackendOptions] !== undefined) return false;
  return true;
}

/** What canonicalOptions gives when every option has its default. */
export const NO_OPTIONS: BackendOptions = Object.freeze({});

/**
 * The same options with keys in one fixed order and only values that differ
 * from the defaults (NO_OPTIONS itself when none do), so that equal options
 * are equal JSON.
 */
export function canonicalOptions(given: BackendOptions, redirectToHttps = false): BackendOptions {
  // Most Ingresses set no option: asked once per backend, answered without making an object.
  if (!redirectToHttps && noneSet(given)) return NO_OPTIONS;
  const redirect = redirectToHttps || given.redirectToHttps === true;
  const cachePolicy = given.cachePolicy === 'default' ? undefined : given.cachePolicy;
  // With the cache bypassed, the other cache options mean nothing: left out.
  const cached = cachePolicy !== 'bypass';
  const ignoreQuery = cached && given.cacheIgnoreQuery === true;
  const options: BackendOptions = {};
  if (given.connectTimeoutMs !== undefined) options.connectTimeoutMs = given.connectTimeoutMs;
  if (given.responseTimeoutMs !== undefined) options.responseTimeoutMs = given.responseTimeoutMs;
  if (redirect) options.redirectToHttps = true;
  if (cachePolicy !== undefined) options.cachePolicy = cachePolicy;
  if (given.upstreamHost !== undefined) options.upstreamHost = given.upstreamHost;
  if (cached && given.cacheDefaultTtlS !== undefined) options.cacheDefaultTtlS = given.cacheDefaultTtlS;
  if (cached && given.cacheMaxTtlS !== undefined) options.cacheMaxTtlS = given.cacheMaxTtlS;
  if (ignoreQuery) options.cacheIgnoreQuery = true;
  if (cached && given.cacheServeStaleS !== undefined) options.cacheServeStaleS = given.cacheServeStaleS;
  if (cached && given.cacheGeneration !== undefined) options.cacheGeneration = given.cacheGeneration;
  if (given.statsSlot !== undefined) options.statsSlot = given.statsSlot;
  return Object.keys(options).length === 0 ? NO_OPTIONS : options;
}

export function annotationField(annotation: string): string {
  return `metadata.annotations['${annotation}']`;
}

/** An Ingress's settings, from its annotations (readIngresses, ingresses.ts). */
export function readSettings(state: BuildState, ingress: ClaimedIngress): void {
  const { settings, problems } = parseAnnotations(ingress.object.metadata.annotations, ingress.namespace);
  ingress.settings = settings;
  for (const p of problems) reportOn(state, ingress, annotationField(p.annotation), 'Warning', p.message);
}
