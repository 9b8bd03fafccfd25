// Objects checked as the Kubernetes API server checks them on create, for the
// kinds the controller reads: what the API server would refuse, the manifests
// source refuses too, with the same kind of message (field, "Invalid value",
// the value, why), so that a directory of manifests behaves as a cluster
// would. The rules are those of Kubernetes 1.35 (pkg/apis/*/validation and
// apimachinery's ObjectMeta checks), written here from their definitions:
//
// - Decoding (the API server answers 400): every field of the schema has its
//   JSON type; a field the schema does not know is an error, as with kubectl's
//   default strict field validation. Checked for metadata and the whole of
//   Ingress, IngressClass and Namespace; for Service, EndpointSlice, Secret
//   and ConfigMap, the top level, metadata and the fields we read.
// - Validation (422): name formats per kind, namespaces, label and annotation
//   keys and values, the 256 KiB total of annotations, and each kind's spec
//   rules (Ingress hosts and paths, backends, TLS; Service ports; slice
//   addresses; TLS Secret keys).
//
// Defaults the API server applies before validating are taken into account
// (Service type ClusterIP, port protocol TCP, targetPort = port; slice port
// protocol TCP; Secret type Opaque; IngressClass parameters scope Cluster).
// Not checked: what depends on the cluster (admission, quotas, ClusterIP
// allocation), EndpointSlice addresses that the API server refuses as
// loopback or link-local (the manifests source runs local backends on
// loopback on purpose), and the stored size limit of etcd (1.5 MiB).

import {
  domainPrefixedPathErrors,
  isConfigMapKey,
  isDns1035Label,
  isDns1123Label,
  isDns1123Subdomain,
  isIpSloppy,
  isLabelValue,
  isQualifiedName,
  isValidPortName,
  isValidPortNum,
  isWildcardDns1123Subdomain,
} from './api-formats.js';
import { isIPv4, isIPv6 } from 'node:net';
import { checkSchema, withDefaults, type CrdSchema, type SchemaIssue } from './crd-schema.js';
import { GATEWAY_SCHEMAS } from './gateway-schemas.js';
import { goQuoted } from './quote.js';

export type FieldErrorType =
  | 'Required value'
  | 'Invalid value'
  | 'Unsupported value'
  | 'Duplicate value'
  | 'Too long'
  | 'Too many'
  | 'Forbidden'
  | 'Unknown field';

/** A step of a field path: a child field, an index, or a map key (`data[tls.key]`). */
export type PathStep = string | number | { readonly key: string };

export interface FieldError {
  readonly type: FieldErrorType;
  /** The field as the API server names it: `spec.rules[0].http.paths[1].path`. */
  readonly field: string;
  /** Where it is in the object, step by step (to find its line in a file). */
  readonly at: readonly PathStep[];
  /** The value at fault; absent when the message omits it. */
  readonly value?: unknown;
  readonly detail: string;
  /** True when the API server could not even decode the object (HTTP 400); false when it fails validation (422). */
  readonly decode: boolean;
}

/** `spec.rules[0].host: Invalid value: "A.com": a lowercase RFC 1123 subdomain must …`, as the API server writes it. */
export function formatFieldError(e: FieldError): string {
  if (e.type === 'Unknown field') return `${e.field}: unknown field ${goQuoted(e.field)}`;
  let body: string = e.type;
  if ('value' in e && e.type !== 'Required value' && e.type !== 'Forbidden' && e.type !== 'Too long') {
    body += `: ${renderValue(e.value)}`;
  }
  if (e.detail) body += `: ${e.detail}`;
  return `${e.field}: ${body}`;
}

function renderValue(v: unknown): string {
  if (typeof v === 'string') return goQuoted(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  const json = JSON.stringify(v) ?? 'null';
  return json.length > 200 ? `${json.slice(0, 200)}…` : json;
}

// ---------------------------------------------------------------- paths

/**
 * A field's path as a chain of steps: each child is one small object
 * pointing at its parent, so walking a 24 MB manifest copies no arrays; the
 * steps are put together only for an error.
 */
class FieldPath {
  constructor(
    private readonly parent?: FieldPath,
    private readonly step?: PathStep,
  ) {}

  child(...names: string[]): FieldPath {
    let p: FieldPath = this;
    for (const n of names) p = new FieldPath(p, n);
    return p;
  }

  index(i: number): FieldPath {
    return new FieldPath(this, i);
  }

  key(k: string): FieldPath {
    return new FieldPath(this, { key: k });
  }

  then(step: PathStep): FieldPath {
    return new FieldPath(this, step);
  }

  get steps(): PathStep[] {
    const out: PathStep[] = [];
    for (let p: FieldPath | undefined = this; p && p.step !== undefined; p = p.parent) out.push(p.step);
    return out.reverse();
  }

  toString(): string {
    let s = '';
    for (const step of this.steps) {
      if (typeof step === 'number') s += `[${step}]`;
      else if (typeof step === 'string') s += s ? `.${step}` : step;
      else s += `[${step.key}]`;
    }
    return s;
  }
}

const ROOT = new FieldPath();

class Errors {
  readonly list: FieldError[] = [];

  add(type: FieldErrorType, at: FieldPath, detail: string, value?: unknown, decode = false): void {
    this.list.push({ type, field: at.toString(), at: at.steps, ...(value !== undefined || type === 'Invalid value' ? { value } : {}), detail, decode });
  }

  required(at: FieldPath, detail = ''): void {
    this.add('Required value', at, detail);
  }

  invalid(at: FieldPath, value: unknown, detail: string): void {
    this.list.push({ type: 'Invalid value', field: at.toString(), at: at.steps, value, detail, decode: false });
  }

  invalidEach(at: FieldPath, value: string, messages: readonly string[]): void {
    for (const m of messages) this.invalid(at, value, m);
  }

  /** Errors the API server names by a field (`metadata.labels`) while the value sits deeper (one key). */
  invalidWithin(field: FieldPath, at: FieldPath, value: string, messages: readonly string[]): void {
    for (const m of messages) this.list.push({ type: 'Invalid value', field: field.toString(), at: at.steps, value, detail: m, decode: false });
  }

  notSupported(at: FieldPath, value: unknown, supported: readonly string[]): void {
    this.list.push({ type: 'Unsupported value', field: at.toString(), at: at.steps, value, detail: `supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}`, decode: false });
  }
}

// ---------------------------------------------------------------- decoding: a small schema of JSON types

type Shape =
  | 'string'
  | 'int32'
  | 'int64'
  | 'bool'
  | 'intOrString'
  | 'any'
  | { readonly fields: Readonly<Record<string, Shape>>; readonly open?: boolean }
  | { readonly items: Shape }
  | { readonly values: Shape };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function jsonType(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  return typeof v === 'object' ? 'object' : typeof v;
}

function decodeError(errors: Errors, at: FieldPath, value: unknown, want: string): void {
  errors.list.push({ type: 'Invalid value', field: at.toString(), at: at.steps, value, detail: `must be ${want}, not ${jsonType(value)} (the API server cannot decode it)`, decode: true });
}

const INT32 = 2 ** 31;

/**
 * Checks that `value` decodes as `shape` would in the API server. The
 * value's path is its parent's and one step: a FieldPath is made only for
 * an error or for a value with children (a manifest of 10,000 Ingresses has
 * millions of leaves).
 */
function decodeShape(value: unknown, shape: Shape, parent: FieldPath, step: PathStep | undefined, errors: Errors): void {
  if (value === null || value === undefined || shape === 'any') return; // JSON null is the field's zero value
  const at = (): FieldPath => (step === undefined ? parent : parent.then(step));
  if (shape === 'string') {
    if (typeof value !== 'string') decodeError(errors, at(), value, 'a string');
  } else if (shape === 'bool') {
    if (typeof value !== 'boolean') decodeError(errors, at(), value, 'true or false');
  } else if (shape === 'int32' || shape === 'int64') {
    const limit = shape === 'int32' ? INT32 : 2 ** 63;
    if (typeof value !== 'number' || !Number.isInteger(value) || value >= limit || value < -limit) {
      decodeError(errors, at(), value, `a whole number (${shape})`);
    }
  } else if (shape === 'intOrString') {
    if (typeof value !== 'string' && !(typeof value === 'number' && Number.isInteger(value))) decodeError(errors, at(), value, 'a number or a string');
  } else if ('items' in shape) {
    if (!Array.isArray(value)) return decodeError(errors, at(), value, 'a list');
    const here = at();
    for (let i = 0; i < value.length; i++) decodeShape(value[i], shape.items, here, i, errors);
  } else if ('values' in shape) {
    if (!isRecord(value)) return decodeError(errors, at(), value, 'a mapping');
    let here: FieldPath | undefined;
    for (const k in value) {
      if (!Object.hasOwn(value, k)) continue;
      const v = value[k];
      // Strings are the common case of a string map (labels, annotations): nothing to check.
      if (shape.values === 'string' && typeof v === 'string') continue;
      decodeShape(v, shape.values, (here ??= at()), { key: k }, errors);
    }
  } else {
    if (!isRecord(value)) return decodeError(errors, at(), value, 'a mapping');
    const here = at();
    for (const k in value) {
      if (!Object.hasOwn(value, k)) continue;
      // Own keys only: "constructor" or "__proto__" in a manifest is an unknown field, not Object's.
      const field = Object.hasOwn(shape.fields, k) ? shape.fields[k] : undefined;
      if (field === undefined) {
        if (!shape.open) errors.add('Unknown field', here.child(k), '', undefined, true);
        continue;
      }
      decodeShape(value[k], field, here, k, errors);
    }
  }
}

const STRINGS: Shape = { values: 'string' };
const OBJECT_META: Shape = {
  fields: {
    name: 'string', generateName: 'string', namespace: 'string', selfLink: 'string', uid: 'string', resourceVersion: 'string',
    generation: 'int64', creationTimestamp: 'any', deletionTimestamp: 'any', deletionGracePeriodSeconds: 'int64',
    labels: STRINGS, annotations: STRINGS, ownerReferences: 'any', finalizers: { items: 'string' }, managedFields: 'any',
  },
};
const TOP = { apiVersion: 'string', kind: 'string', metadata: OBJECT_META } as const;

const INGRESS_BACKEND: Shape = {
  fields: {
    service: { fields: { name: 'string', port: { fields: { name: 'string', number: 'int32' } } } },
    resource: { fields: { apiGroup: 'string', kind: 'string', name: 'string' } },
  },
};
const SHAPES: Readonly<Record<string, Shape>> = {
  Ingress: {
    fields: {
      ...TOP,
      spec: {
        fields: {
          ingressClassName: 'string',
          defaultBackend: INGRESS_BACKEND,
          tls: { items: { fields: { hosts: { items: 'string' }, secretName: 'string' } } },
          rules: { items: { fields: { host: 'string', http: { fields: { paths: { items: { fields: { path: 'string', pathType: 'string', backend: INGRESS_BACKEND } } } } } } } },
        },
      },
      status: 'any',
    },
  },
  IngressClass: {
    fields: {
      ...TOP,
      spec: { fields: { controller: 'string', parameters: { fields: { apiGroup: 'string', kind: 'string', name: 'string', namespace: 'string', scope: 'string' } } } },
    },
  },
  Service: {
    fields: {
      ...TOP,
      spec: {
        open: true, // many fields we neither read nor restate
        fields: {
          type: 'string', clusterIP: 'string', clusterIPs: { items: 'string' }, externalName: 'string', selector: STRINGS,
          ports: { items: { fields: { name: 'string', protocol: 'string', appProtocol: 'string', port: 'int32', targetPort: 'intOrString', nodePort: 'int32' } } },
        },
      },
      status: 'any',
    },
  },
  EndpointSlice: {
    fields: {
      ...TOP,
      addressType: 'string',
      endpoints: {
        items: {
          fields: {
            addresses: { items: 'string' }, conditions: { fields: { ready: 'bool', serving: 'bool', terminating: 'bool' } },
            hostname: 'string', targetRef: 'any', nodeName: 'string', zone: 'string', hints: 'any', deprecatedTopology: STRINGS,
          },
        },
      },
      ports: { items: { fields: { name: 'string', protocol: 'string', port: 'int32', appProtocol: 'string' } } },
    },
  },
  Secret: { fields: { ...TOP, type: 'string', data: STRINGS, stringData: STRINGS, immutable: 'bool' } },
  ConfigMap: { fields: { ...TOP, data: STRINGS, binaryData: STRINGS, immutable: 'bool' } },
  Namespace: { fields: { ...TOP, spec: { fields: { finalizers: { items: 'string' } } }, status: 'any' } },
};

// ---------------------------------------------------------------- ObjectMeta

type NameCheck = (name: string) => string[];

/** The total size of annotations the API server takes: 256 KiB (keys and values, in bytes). */
export const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;
const MAX_SECRET_SIZE = 1024 * 1024;
const INGRESS_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

function validateMeta(meta: Record<string, unknown>, namespaced: boolean, nameCheck: NameCheck, errors: Errors): void {
  const at = ROOT.child('metadata');
  const name = str(meta.name);
  if (!name) errors.required(at.child('name'), 'name or generateName is required');
  else errors.invalidEach(at.child('name'), name, nameCheck(name));
  if (namespaced) {
    const ns = str(meta.namespace);
    if (!ns) errors.required(at.child('namespace'));
    else errors.invalidEach(at.child('namespace'), ns, isDns1123Label(ns));
  }
  if (typeof meta.generation === 'number' && meta.generation < 0) errors.invalid(at.child('generation'), meta.generation, 'must be greater than or equal to 0');
  const labels = isRecord(meta.labels) ? meta.labels : {};
  for (const [k, v] of Object.entries(labels)) {
    errors.invalidWithin(at.child('labels'), at.child('labels').key(k), k, isQualifiedName(k));
    errors.invalidWithin(at.child('labels'), at.child('labels').key(k), str(v), isLabelValue(str(v)));
  }
  const annotations = isRecord(meta.annotations) ? meta.annotations : {};
  let size = 0;
  for (const [k, v] of Object.entries(annotations)) {
    errors.invalidWithin(at.child('annotations'), at.child('annotations').key(k), k, isQualifiedName(k.toLowerCase()));
    size += Buffer.byteLength(k) + Buffer.byteLength(str(v));
  }
  if (size > TOTAL_ANNOTATION_SIZE_LIMIT) {
    errors.list.push({ type: 'Too long', field: 'metadata.annotations', at: at.child('annotations').steps, detail: `may not be more than ${TOTAL_ANNOTATION_SIZE_LIMIT} bytes`, decode: false });
  }
  const finalizers = Array.isArray(meta.finalizers) ? meta.finalizers : [];
  finalizers.forEach((f: unknown, i) => errors.invalidWithin(at.child('finalizers'), at.child('finalizers').index(i), str(f), isQualifiedName(str(f))));
}

// ---------------------------------------------------------------- Ingress

const INVALID_PATH_SEQUENCES = ['//', '/./', '/../', '%2f', '%2F'];
const INVALID_PATH_SUFFIXES = ['/..', '/.'];
const PATH_TYPES = ['Exact', 'ImplementationSpecific', 'Prefix'];

function validPathSegmentName(name: string): string[] {
  if (name === '.' || name === '..') return [`may not be '${name}'`];
  return ['/', '%'].filter((c) => name.includes(c)).map((c) => `may not contain '${c}'`);
}

function validateIngressBackend(backend: unknown, at: FieldPath, errors: Errors): void {
  const b = isRecord(backend) ? backend : {};
  const resource = isRecord(b.resource) ? b.resource : undefined;
  const service = isRecord(b.service) ? b.service : undefined;
  if (resource && service) return errors.invalid(at, '', 'cannot set both resource and service backends');
  if (resource) {
    const r = at.child('resource');
    if (typeof resource.apiGroup === 'string') errors.invalidEach(r.child('apiGroup'), resource.apiGroup, isDns1123Subdomain(resource.apiGroup));
    for (const f of ['kind', 'name'] as const) {
      const v = str(resource[f]);
      if (!v) errors.required(r.child(f));
      else errors.invalidEach(r.child(f), v, validPathSegmentName(v));
    }
    return;
  }
  if (!service) return errors.invalid(at, '', 'resource or service backend is required');
  const name = str(service.name);
  if (!name) errors.required(at.child('service', 'name'));
  else errors.invalidEach(at.child('service', 'name'), name, isDns1035Label(name));
  const port = isRecord(service.port) ? service.port : {};
  const portName = str(port.name);
  const portNumber = typeof port.number === 'number' ? port.number : 0;
  if (portName && portNumber !== 0) errors.invalid(at, '', 'cannot set both port name & port number');
  else if (portName) errors.invalidEach(at.child('service', 'port', 'name'), portName, isValidPortName(portName));
  else if (portNumber !== 0) for (const m of isValidPortNum(portNumber)) errors.invalid(at.child('service', 'port', 'number'), portNumber, m);
  else errors.required(at, 'port name or number is required');
}

function validateHost(host: string, at: FieldPath, errors: Errors, checkIp: boolean): void {
  if (checkIp && isIpSloppy(host)) errors.invalid(at, host, 'must be a DNS name, not an IP address');
  errors.invalidEach(at, host, host.includes('*') ? isWildcardDns1123Subdomain(host) : isDns1123Subdomain(host));
}

function validateIngressPath(p: Record<string, unknown>, at: FieldPath, errors: Errors): void {
  if (p.pathType === undefined || p.pathType === null) return errors.required(at.child('pathType'), 'pathType must be specified');
  const path = str(p.path);
  const pathType = str(p.pathType);
  if (pathType === 'Exact' || pathType === 'Prefix') {
    if (!path.startsWith('/')) errors.invalid(at.child('path'), path, 'must be an absolute path');
    if (path.length > 0) {
      for (const seq of INVALID_PATH_SEQUENCES) if (path.includes(seq)) errors.invalid(at.child('path'), path, `must not contain '${seq}'`);
      for (const suffix of INVALID_PATH_SUFFIXES) if (path.endsWith(suffix)) errors.invalid(at.child('path'), path, `cannot end with '${suffix}'`);
    }
  } else if (pathType === 'ImplementationSpecific') {
    if (path.length > 0 && !path.startsWith('/')) errors.invalid(at.child('path'), path, 'must be an absolute path');
  } else {
    errors.notSupported(at.child('pathType'), pathType, PATH_TYPES);
  }
  validateIngressBackend(p.backend, at.child('backend'), errors);
}

function validateIngress(obj: Record<string, unknown>, errors: Errors): void {
  const spec = isRecord(obj.spec) ? obj.spec : {};
  const at = ROOT.child('spec');
  const rules = Array.isArray(spec.rules) ? spec.rules : [];
  if (rules.length === 0 && !isRecord(spec.defaultBackend)) {
    errors.invalid(at, spec.rules ?? null, 'either `defaultBackend` or `rules` must be specified');
  }
  if (isRecord(spec.defaultBackend)) validateIngressBackend(spec.defaultBackend, at.child('defaultBackend'), errors);
  rules.forEach((rule: unknown, i) => {
    const r = isRecord(rule) ? rule : {};
    const ra = at.child('rules').index(i);
    const host = str(r.host);
    if (host) validateHost(host, ra.child('host'), errors, true);
    if (!isRecord(r.http)) return;
    const paths = Array.isArray(r.http.paths) ? r.http.paths : [];
    if (paths.length === 0) errors.required(ra.child('http', 'paths'));
    paths.forEach((p: unknown, j) => validateIngressPath(isRecord(p) ? p : {}, ra.child('http', 'paths').index(j), errors));
  });
  const tls = Array.isArray(spec.tls) ? spec.tls : [];
  tls.forEach((entry: unknown, i) => {
    const t = isRecord(entry) ? entry : {};
    const ta = at.child('tls').index(i);
    const hosts = Array.isArray(t.hosts) ? t.hosts : [];
    hosts.forEach((h: unknown, j) => validateHost(str(h), ta.child('hosts').index(j), errors, false));
    const secretName = str(t.secretName);
    if (secretName) errors.invalidEach(ta.child('secretName'), secretName, isDns1123Subdomain(secretName));
  });
  if (typeof spec.ingressClassName === 'string') {
    errors.invalidEach(at.child('ingressClassName'), spec.ingressClassName, isDns1123Subdomain(spec.ingressClassName));
    const meta = isRecord(obj.metadata) ? obj.metadata : {};
    const annotations = isRecord(meta.annotations) ? meta.annotations : {};
    const legacy = annotations[INGRESS_CLASS_ANNOTATION];
    if (typeof legacy === 'string' && legacy !== spec.ingressClassName) {
      errors.list.push({ type: 'Invalid value', field: `annotations.${INGRESS_CLASS_ANNOTATION}`, at: ['metadata', 'annotations', { key: INGRESS_CLASS_ANNOTATION }], value: legacy, detail: 'must match `ingressClassName` when both are specified', decode: false });
    }
  }
}

// ---------------------------------------------------------------- IngressClass

function validateIngressClass(obj: Record<string, unknown>, errors: Errors): void {
  const spec = isRecord(obj.spec) ? obj.spec : {};
  const at = ROOT.child('spec');
  const controller = str(spec.controller);
  if (Buffer.byteLength(controller) > 250) errors.add('Too long', at.child('controller'), 'may not be more than 250 bytes');
  if (!controller) errors.required(at.child('controller'));
  else for (const e of domainPrefixedPathErrors(controller)) errors.invalid(at.child('controller'), e.value, e.message);
  if (!isRecord(spec.parameters)) return;
  const p = spec.parameters;
  const pa = at.child('parameters');
  if (typeof p.apiGroup === 'string') errors.invalidEach(pa.child('apiGroup'), p.apiGroup, isDns1123Subdomain(p.apiGroup));
  for (const f of ['kind', 'name'] as const) {
    const v = str(p[f]);
    if (!v) errors.required(pa.child(f));
    else errors.invalidEach(pa.child(f), v, validPathSegmentName(v));
  }
  const scope = p.scope === undefined || p.scope === null ? 'Cluster' : str(p.scope);
  if (scope !== 'Cluster' && scope !== 'Namespace') errors.notSupported(pa.child('scope'), scope, ['Cluster', 'Namespace']);
  else if (scope === 'Namespace') {
    const ns = str(p.namespace);
    if (!ns) errors.required(pa.child('namespace'), "`parameters.scope` is set to 'Namespace'");
    else errors.invalidEach(pa.child('namespace'), ns, isDns1123Label(ns));
  } else if (p.namespace !== undefined && p.namespace !== null) {
    errors.add('Forbidden', pa.child('namespace'), "`parameters.scope` is set to 'Cluster'");
  }
}

// ---------------------------------------------------------------- Service

const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];

function validateService(obj: Record<string, unknown>, errors: Errors): void {
  const spec = isRecord(obj.spec) ? obj.spec : {};
  const at = ROOT.child('spec');
  const type = spec.type === undefined || spec.type === null ? 'ClusterIP' : str(spec.type);
  const headless = spec.clusterIP === 'None';
  const ports = Array.isArray(spec.ports) ? spec.ports : [];
  if (ports.length === 0 && !headless && type !== 'ExternalName') errors.required(at.child('ports'));
  if (!SERVICE_TYPES.includes(type)) errors.notSupported(at.child('type'), type, SERVICE_TYPES);
  if (type === 'ExternalName') {
    const cname = str(spec.externalName).replace(/\.$/, '');
    if (!cname) errors.required(at.child('externalName'));
    else errors.invalidEach(at.child('externalName'), cname, isDns1123Subdomain(cname));
  }
  const names = new Set<string>();
  ports.forEach((port: unknown, i) => {
    const p = isRecord(port) ? port : {};
    const pa = at.child('ports').index(i);
    const name = str(p.name);
    if (ports.length > 1 && !name) errors.required(pa.child('name'));
    else if (name) {
      errors.invalidEach(pa.child('name'), name, isDns1123Label(name));
      if (names.has(name)) errors.add('Duplicate value', pa.child('name'), '', name);
      names.add(name);
    }
    const number = typeof p.port === 'number' ? p.port : 0;
    for (const m of isValidPortNum(number)) errors.invalid(pa.child('port'), number, m);
    const protocol = p.protocol === undefined || p.protocol === null ? 'TCP' : str(p.protocol);
    if (!PROTOCOLS.includes(protocol)) errors.notSupported(pa.child('protocol'), protocol, PROTOCOLS);
    const target = p.targetPort;
    if (typeof target === 'number' && target !== 0) for (const m of isValidPortNum(target)) errors.invalid(pa.child('targetPort'), target, m);
    if (typeof target === 'string' && target !== '') errors.invalidEach(pa.child('targetPort'), target, isValidPortName(target));
    if (typeof p.appProtocol === 'string') errors.invalidEach(pa.child('appProtocol'), p.appProtocol, isQualifiedName(p.appProtocol));
    if (type === 'ClusterIP' && typeof p.nodePort === 'number' && p.nodePort !== 0) {
      errors.add('Forbidden', pa.child('nodePort'), "may not be used when `type` is 'ClusterIP'");
    }
  });
}

// ---------------------------------------------------------------- EndpointSlice

const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'];
const IP_MESSAGE = 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)';

function validateEndpointSlice(obj: Record<string, unknown>, errors: Errors): void {
  const addressType = str(obj.addressType);
  if (!addressType) errors.required(ROOT.child('addressType'));
  else if (!ADDRESS_TYPES.includes(addressType)) errors.notSupported(ROOT.child('addressType'), addressType, ADDRESS_TYPES);
  const ports = Array.isArray(obj.ports) ? obj.ports : [];
  if (ports.length > 20000) errors.add('Too many', ROOT.child('ports'), 'must have at most 20000 items', ports.length);
  else {
    const names = new Set<string>();
    ports.forEach((port: unknown, i) => {
      const p = isRecord(port) ? port : {};
      const pa = ROOT.child('ports').index(i);
      const name = str(p.name);
      if (name) errors.invalidEach(pa.child('name'), name, isDns1123Label(name));
      if (names.has(name)) errors.add('Duplicate value', pa.child('name'), '', name);
      names.add(name);
      const protocol = p.protocol === undefined || p.protocol === null ? 'TCP' : str(p.protocol);
      if (!PROTOCOLS.includes(protocol)) errors.notSupported(pa.child('protocol'), protocol, PROTOCOLS);
      if (typeof p.appProtocol === 'string') errors.invalidEach(pa.child('appProtocol'), p.appProtocol, isQualifiedName(p.appProtocol));
    });
  }
  const endpoints = Array.isArray(obj.endpoints) ? obj.endpoints : [];
  if (endpoints.length > 1000) return errors.add('Too many', ROOT.child('endpoints'), 'must have at most 1000 items', endpoints.length);
  endpoints.forEach((endpoint: unknown, i) => {
    const e = isRecord(endpoint) ? endpoint : {};
    const ea = ROOT.child('endpoints').index(i);
    const addresses = Array.isArray(e.addresses) ? e.addresses : [];
    if (addresses.length === 0) errors.required(ea.child('addresses'), 'must contain at least 1 address');
    else if (addresses.length > 100) errors.add('Too many', ea.child('addresses'), 'must have at most 100 items', addresses.length);
    addresses.forEach((a: unknown, k) => {
      const address = str(a);
      const aa = ea.child('addresses').index(k);
      if (addressType === 'IPv4' || addressType === 'IPv6') {
        if (!isIPv4(address) && !isIPv6(address)) errors.invalid(aa, address, IP_MESSAGE);
        else if (addressType === 'IPv4' && !isIPv4(address)) errors.invalid(ea.child('addresses'), address, 'must be an IPv4 address');
        else if (addressType === 'IPv6' && !isIPv6(address)) errors.invalid(ea.child('addresses'), address, 'must be an IPv6 address');
      } else if (addressType === 'FQDN') {
        errors.invalidEach(aa, address, isDns1123Subdomain(address));
      }
    });
    if (typeof e.hostname === 'string') errors.invalidEach(ea.child('hostname'), e.hostname, isDns1123Label(e.hostname));
  });
}

// ---------------------------------------------------------------- Secret, ConfigMap

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function base64Size(text: string): number | undefined {
  const t = text.replace(/[\r\n]/g, '');
  if (!BASE64.test(t)) return undefined;
  return (t.length / 4) * 3 - (t.endsWith('==') ? 2 : t.endsWith('=') ? 1 : 0);
}

function validateSecret(obj: Record<string, unknown>, errors: Errors): void {
  const data = isRecord(obj.data) ? obj.data : {};
  const stringData = isRecord(obj.stringData) ? obj.stringData : {};
  let total = 0;
  for (const [k, v] of Object.entries(data)) {
    errors.invalidEach(ROOT.child('data').key(k), k, isConfigMapKey(k));
    const size = base64Size(str(v));
    if (size === undefined) {
      errors.list.push({ type: 'Invalid value', field: `data[${k}]`, at: ['data', { key: k }], value: '<secret contents redacted>', detail: 'is not base64 (the API server cannot decode it)', decode: true });
    } else {
      total += size;
    }
  }
  for (const [k, v] of Object.entries(stringData)) {
    errors.invalidEach(ROOT.child('stringData').key(k), k, isConfigMapKey(k));
    total += Buffer.byteLength(str(v));
  }
  if (total > MAX_SECRET_SIZE) errors.add('Too long', ROOT.child('data'), `may not be more than ${MAX_SECRET_SIZE} bytes`);
  if (obj.type === 'kubernetes.io/tls') {
    for (const key of ['tls.crt', 'tls.key']) {
      if (!(key in data) && !(key in stringData)) errors.required(ROOT.child('data').key(key));
    }
  }
}

function validateConfigMap(obj: Record<string, unknown>, errors: Errors): void {
  const data = isRecord(obj.data) ? obj.data : {};
  const binary = isRecord(obj.binaryData) ? obj.binaryData : {};
  let total = 0;
  for (const [k, v] of Object.entries(data)) {
    errors.invalidEach(ROOT.child('data').key(k), k, isConfigMapKey(k));
    if (k in binary) errors.invalid(ROOT.child('data').key(k), k, 'duplicate of key present in binaryData');
    total += Buffer.byteLength(str(v));
  }
  for (const [k, v] of Object.entries(binary)) {
    errors.invalidEach(ROOT.child('binaryData').key(k), k, isConfigMapKey(k));
    total += base64Size(str(v)) ?? 0;
  }
  if (total > MAX_SECRET_SIZE) errors.add('Too long', ROOT, `may not be more than ${MAX_SECRET_SIZE} bytes`);
}

// ---------------------------------------------------------------- Namespace

/** Finalizer names without a domain that the API server knows (core's standardFinalizers). */
const STANDARD_FINALIZERS = ['kubernetes', 'orphan', 'foregroundDeletion'];

function validateNamespace(obj: Record<string, unknown>, errors: Errors): void {
  const spec = isRecord(obj.spec) ? obj.spec : {};
  const finalizers = Array.isArray(spec.finalizers) ? spec.finalizers : [];
  finalizers.forEach((f: unknown, i) => {
    const at = ROOT.child('spec', 'finalizers').index(i);
    const name = str(f);
    errors.invalidEach(at, name, isQualifiedName(name));
    if (!name.includes('/') && !STANDARD_FINALIZERS.includes(name)) errors.invalid(at, name, 'name is neither a standard finalizer name nor is it fully qualified');
  });
}

// ---------------------------------------------------------------- per kind

interface KindRules {
  readonly namespaced: boolean;
  readonly name: NameCheck;
  readonly spec: (obj: Record<string, unknown>, errors: Errors) => void;
}

const RULES: Readonly<Record<string, KindRules>> = {
  Ingress: { namespaced: true, name: (n) => isDns1123Subdomain(n), spec: validateIngress },
  IngressClass: { namespaced: false, name: (n) => isDns1123Subdomain(n), spec: validateIngressClass },
  Service: { namespaced: true, name: isDns1035Label, spec: validateService },
  EndpointSlice: { namespaced: true, name: (n) => isDns1123Subdomain(n), spec: validateEndpointSlice },
  Secret: { namespaced: true, name: (n) => isDns1123Subdomain(n), spec: validateSecret },
  ConfigMap: { namespaced: true, name: (n) => isDns1123Subdomain(n), spec: validateConfigMap },
  Namespace: { namespaced: false, name: isDns1123Label, spec: validateNamespace },
};

// ---------------------------------------------------------------- custom resources (the Gateway API)

/** The kinds checked against their CRD's schema (gateway-schemas.ts), and whether they are namespaced. */
const CRD_KINDS: Readonly<Record<string, { readonly namespaced: boolean; readonly schema: CrdSchema }>> = {
  GatewayClass: { namespaced: false, schema: GATEWAY_SCHEMAS.GatewayClass },
  Gateway: { namespaced: true, schema: GATEWAY_SCHEMAS.Gateway },
  HTTPRoute: { namespaced: true, schema: GATEWAY_SCHEMAS.HTTPRoute },
  ReferenceGrant: { namespaced: true, schema: GATEWAY_SCHEMAS.ReferenceGrant },
};

function schemaPath(steps: readonly (string | number)[]): FieldPath {
  let p = ROOT;
  for (const s of steps) p = typeof s === 'number' ? p.index(s) : p.child(s);
  return p;
}

function fromIssue(i: SchemaIssue): FieldError {
  const at = schemaPath(i.at);
  return { type: i.type, field: at.toString(), at: at.steps, ...(i.value !== undefined ? { value: i.value } : {}), detail: i.detail, decode: i.decode };
}

/**
 * A custom resource as the API server stores it: the CRD schema's defaults
 * applied (an HTTPRoute's path match becomes PathPrefix "/", a backendRef's
 * weight 1, a listener's allowedRoutes From Same, ...). Other kinds as they are.
 */
export function withSchemaDefaults<T>(obj: T): T {
  if (!isRecord(obj) || typeof obj.kind !== 'string') return obj;
  const crd = Object.hasOwn(CRD_KINDS, obj.kind) ? CRD_KINDS[obj.kind] : undefined;
  return crd ? (withDefaults(obj, crd.schema) as T) : obj;
}

function validateCustomResource(obj: Record<string, unknown>, namespaced: boolean, schema: CrdSchema): FieldError[] {
  // status is not checked: on create the API server drops it (the status subresource is written apart).
  const { metadata, status: _status, ...rest } = withSchemaDefaults(obj);
  const issues = checkSchema(rest, schema);
  const decoding = issues.filter((i) => i.decode);
  if (decoding.length > 0) return decoding.map(fromIssue);
  const errors = new Errors();
  validateMeta(isRecord(metadata) ? metadata : {}, namespaced, (n) => isDns1123Subdomain(n), errors);
  return [...errors.list, ...issues.map(fromIssue)];
}

/** The kinds validateObject() knows. */
export const VALIDATED_KINDS: readonly string[] = [...Object.keys(RULES), ...Object.keys(CRD_KINDS)];

/**
 * What the API server would refuse in this object on create: decoding errors
 * first (when there are any, the API server answers 400 and validates
 * nothing), then validation errors (422). [] when it would take it. The
 * object's namespace must already be set as kubectl would set it. Kinds
 * other than VALIDATED_KINDS give [].
 */
export function validateObject(obj: unknown): FieldError[] {
  if (!isRecord(obj) || typeof obj.kind !== 'string') return [];
  const crd = Object.hasOwn(CRD_KINDS, obj.kind) ? CRD_KINDS[obj.kind] : undefined;
  if (crd) return validateCustomResource(obj, crd.namespaced, crd.schema);
  const rules = RULES[obj.kind];
  const shape = SHAPES[obj.kind];
  if (!rules || !shape) return [];
  const decoding = new Errors();
  decodeShape(obj, shape, ROOT, undefined, decoding);
  if (decoding.list.length > 0) return decoding.list;
  const errors = new Errors();
  validateMeta(isRecord(obj.metadata) ? obj.metadata : {}, rules.namespaced, rules.name, errors);
  rules.spec(obj, errors);
  return errors.list;
}
