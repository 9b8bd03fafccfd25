// Annotations: typed and validated, each one a field of the model. An invalid
// value is a problem naming the annotation, and the Ingress is built with the
// default for that annotation. Nothing in an annotation is ever run or
// spliced into ATS configuration.

import type { BackendOptions, UpstreamScheme } from './table-model.js';
import { isInvalid } from '../validate/invalid.js';
import { parseDuration } from '../validate/duration.js';
import { parseDnsName } from './names.js';
import type { IngressSettings, Processor } from './state.js';
import { NO_SETTINGS, reportOn } from './state.js';

export const ANNOTATION_PREFIX = 'ats.ingress.kubernetes.io/';

const ANNOTATIONS = {
  backendProtocol: `${ANNOTATION_PREFIX}backend-protocol`,
  connectTimeout: `${ANNOTATION_PREFIX}connect-timeout`,
  responseTimeout: `${ANNOTATION_PREFIX}response-timeout`,
  sslRedirect: `${ANNOTATION_PREFIX}ssl-redirect`,
  cache: `${ANNOTATION_PREFIX}cache`,
  upstreamVhost: `${ANNOTATION_PREFIX}upstream-vhost`,
} as const;

const KNOWN: readonly string[] = Object.values(ANNOTATIONS);

export interface AnnotationProblem {
  readonly annotation: string;
  readonly message: string;
}

export interface ParsedAnnotations {
  readonly settings: IngressSettings;
  readonly problems: readonly AnnotationProblem[];
}

/** Reads our annotations; others (not under our prefix) are not ours to judge. */
export function parseAnnotations(annotations: Readonly<Record<string, string>> | undefined): ParsedAnnotations {
  const problems: AnnotationProblem[] = [];
  if (!annotations) return { settings: NO_SETTINGS, problems };
  const given: BackendOptions = {};
  let scheme: UpstreamScheme | undefined;
  let sslRedirect = false;
  let ours = false;

  for (const key in annotations) {
    if (!key.startsWith(ANNOTATION_PREFIX)) continue;
    ours = true;
    const value = annotations[key] ?? '';
    let problem: string | undefined;
    switch (key) {
      case ANNOTATIONS.backendProtocol: {
        const v = value.toUpperCase();
        if (v === 'HTTP') scheme = 'http';
        else if (v === 'HTTPS') scheme = 'https';
        else problem = `"${value}" is not HTTP or HTTPS; the Service port's appProtocol decides`;
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
        else if (value !== 'false') problem = `"${value}" is not "true" or "false"; no redirect`;
        break;
      case ANNOTATIONS.cache:
        // 'default' is the same as no annotation, so it is left out of the options.
        if (value === 'bypass') given.cachePolicy = 'bypass';
        else if (value !== 'default') problem = `"${value}" is not "default" or "bypass"; the default cache policy is used`;
        break;
      case ANNOTATIONS.upstreamVhost: {
        const host = parseDnsName(value);
        if (isInvalid(host)) problem = `${host.invalid}; the client's Host header is sent`;
        else given.upstreamHost = host;
        break;
      }
      default:
        problem = `unknown annotation; ours are ${[...KNOWN].sort().join(', ')}`;
    }
    if (problem !== undefined) problems.push({ annotation: key, message: problem });
  }
  if (!ours) return { settings: NO_SETTINGS, problems };
  const options = canonicalOptions(given);
  if (!scheme && !sslRedirect && options === NO_OPTIONS) return { settings: NO_SETTINGS, problems };
  const optionsKey = options === NO_OPTIONS ? '' : JSON.stringify(options);
  const settings: IngressSettings = scheme ? { scheme, options, optionsKey, sslRedirect } : { options, optionsKey, sslRedirect };
  return { settings, problems };
}

/** What canonicalOptions gives when every option has its default. */
export const NO_OPTIONS: BackendOptions = Object.freeze({});

/**
 * The same options with keys in one fixed order and only values that differ
 * from the defaults (NO_OPTIONS itself when none do), so that equal options
 * are equal JSON.
 */
export function canonicalOptions(given: BackendOptions, redirectToHttps = false): BackendOptions {
  const redirect = redirectToHttps || given.redirectToHttps === true;
  const cachePolicy = given.cachePolicy === 'default' ? undefined : given.cachePolicy;
  if (given.connectTimeoutMs === undefined && given.responseTimeoutMs === undefined && !redirect &&
    cachePolicy === undefined && given.upstreamHost === undefined) {
    return NO_OPTIONS;
  }
  const options: BackendOptions = {};
  if (given.connectTimeoutMs !== undefined) options.connectTimeoutMs = given.connectTimeoutMs;
  if (given.responseTimeoutMs !== undefined) options.responseTimeoutMs = given.responseTimeoutMs;
  if (redirect) options.redirectToHttps = true;
  if (cachePolicy !== undefined) options.cachePolicy = cachePolicy;
  if (given.upstreamHost !== undefined) options.upstreamHost = given.upstreamHost;
  return options;
}

function annotationField(annotation: string): string {
  return `metadata.annotations['${annotation}']`;
}

/** Processor: each claimed Ingress's settings. */
export const readAnnotations: Processor = (state) => {
  for (const ingress of state.ingresses) {
    const { settings, problems } = parseAnnotations(ingress.object.metadata.annotations);
    ingress.settings = settings;
    for (const p of problems) reportOn(state, ingress, annotationField(p.annotation), 'Warning', p.message);
  }
};
