// Checks a TableModel completely and encodes it flat for the addon in the
// same pass: one string of NUL-separated strings and one Uint32Array. C++
// then reads two buffers instead of walking 100,000 JS objects, and "did the
// model change" is a comparison of the two encodings. Addresses travel as
// words (parsing one is checking it), so an endpoints list encodes to ints
// alone, the same wherever it sits: an EncodeMemo keeps each list's encoding
// for as long as the list lives, and an endpoint-only change re-encodes the
// endpoints of one Service.
import { TableError } from './table-error.js';
import type { TableModel } from '../model/table-model.js';

/** Bumped with any change of the layout below; native/core/model_decoder.cc checks it. */
const ENCODING_VERSION = 3;
const NONE = 0xffffffff;

export interface EncodedModel {
  /** Every string of the model once, separated by NUL. */
  readonly strings: string;
  readonly ints: Uint32Array;
}

const PATH_TYPES: Record<string, number> = { Exact: 0, Prefix: 1, ImplementationSpecific: 2 };
const HOST_LABEL = /^[a-z0-9_-]{1,63}$/;
const MAX_PATH = 8192;
/** Rules of one host compared in place up to this many; a map beyond. */
const SMALL_HOST = 8;
const NO_OPTIONS: Record<string, unknown> = Object.freeze({});
/** Cache lifetimes: ATS takes seconds as a signed 64-bit value; the table carries 32 bits, kept positive. */
const MAX_SECONDS = 0x7fffffff;
const MAX_GENERATION = 0x7fffffff;
/** The highest slot of the plugin's per-route counters (kMaxStatsSlot in native/core/format.h). */
export const MAX_STATS_SLOT = 65535;

function fail(field: string, message: string): never {
  throw new TableError(`${field}: ${message}`, 'ERR_INVALID_MODEL', field);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function uint(v: unknown, field: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    fail(field, `must be a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function isValidHostName(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  // What HOST_LABEL says of each label, without splitting: 10,000 hosts a table.
  let label = 0;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 46) {
      if (label === 0) return false;
      label = 0;
    } else if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95 || c === 45) {
      if (++label > 63) return false;
    } else {
      return false;
    }
  }
  return label > 0;
}

/** The part of a path that takes part in matching (see native/core/names.h). */
function matchKey(path: string, pathType: string): string {
  if (pathType === 'Exact') return path;
  let end = path.length;
  while (end > 0 && path.charCodeAt(end - 1) === 47) end--;
  return end === path.length ? path : path.slice(0, end);
}

const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;

/** The four octets of a dotted quad as one big-endian word, or -1 when it is not one (inet_pton's rules: no leading zeros). */
export function ipv4Word(text: string): number {
  let word = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || ++dots > 3) return -1;
      word = word * 256 + octet;
      octet = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && octet === 0) return -1; // a leading zero
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return -1;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return word * 256 + octet;
}

/**
 * An IPv6 address in text form (RFC 4291 2.2: groups, one '::', a dotted
 * quad at the end) as four big-endian words into `out` at `at`; false when
 * it is not one (as inet_pton: no zone, no brackets).
 */
export function ipv6Words(text: string, out: Uint32Array, at: number): boolean {
  const groups: number[] = [];
  const halves = text.split('::');
  if (halves.length > 2) return false;
  const read = (half: string, last: boolean): boolean => {
    if (half === '') return true;
    const parts = half.split(':');
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      if (last && i === parts.length - 1 && part.includes('.')) {
        const v4 = ipv4Word(part);
        if (v4 < 0) return false;
        groups.push(v4 >>> 16, v4 & 0xffff);
      } else if (HEX_GROUP.test(part)) {
        groups.push(parseInt(part, 16));
      } else {
        return false;
      }
    }
    return true;
  };
  const compressed = halves.length === 2;
  if (!read(halves[0]!, !compressed)) return false;
  const left = groups.length;
  if (compressed && !read(halves[1]!, true)) return false;
  // '::' stands for one group of zeros at least.
  if (compressed ? groups.length > 7 : groups.length !== 8) return false;
  const all = compressed ? [...groups.slice(0, left), ...new Array<number>(8 - groups.length).fill(0), ...groups.slice(left)] : groups;
  for (let w = 0; w < 4; w++) out[at + w] = (all[2 * w]! * 0x10000 + all[2 * w + 1]!) >>> 0;
  return true;
}

/**
 * What encodings of earlier models a publisher keeps: each endpoints list's
 * ints, by the list (the model is read-only by contract, src/model/model.ts:
 * a list is never changed once built, so its encoding stays right).
 */
export class EncodeMemo {
  readonly endpoints = new WeakMap<object, Uint32Array>();
}

/** endpoint count, then per endpoint: family, 1 or 4 address words, port, weight. */
function encodeEndpoints(eps: unknown[], f: string): Uint32Array {
  const out = new Uint32Array(1 + eps.length * 7);
  let n = 0;
  out[n++] = eps.length;
  // The hot loop at 100,000 endpoints: field names are only built on failure.
  for (let j = 0; j < eps.length; j++) {
    const e = eps[j];
    if (!isRecord(e)) fail(`${f}.endpoints[${j}]`, 'must be an object');
    const address = e.address;
    const v4 = typeof address === 'string' ? ipv4Word(address) : -1;
    if (v4 >= 0) {
      out[n++] = 4;
      out[n++] = v4;
    } else if (typeof address === 'string' && address.includes(':') && ipv6Words(address, out, n + 1)) {
      out[n] = 6;
      n += 5;
    } else {
      fail(`${f}.endpoints[${j}].address`, `${JSON.stringify(address)} is not an IPv4 or IPv6 address`);
    }
    const port = e.port;
    if (typeof port !== 'number' || !(port >= 1 && port <= 65535) || !Number.isInteger(port)) uint(port, `${f}.endpoints[${j}].port`, 1, 65535);
    out[n++] = port as number;
    const weight = e.weight;
    out[n++] = weight === undefined ? 1 : uint(weight, `${f}.endpoints[${j}].weight`, 1, 65535);
  }
  return out.slice(0, n);
}

class Writer {
  ints: Uint32Array = new Uint32Array(1024);
  n = 0;
  // No dedupe here: the C++ writer pools strings anyway, and a Map costs
  // more than the repeats it would save.
  readonly strings: string[] = [];

  #room(more: number): void {
    if (this.n + more <= this.ints.length) return;
    let size = this.ints.length * 2;
    while (size < this.n + more) size *= 2;
    const bigger = new Uint32Array(size);
    bigger.set(this.ints.subarray(0, this.n));
    this.ints = bigger;
  }

  int(v: number): void {
    if (this.n === this.ints.length) this.#room(1);
    this.ints[this.n++] = v;
  }

  all(segment: Uint32Array): void {
    this.#room(segment.length);
    this.ints.set(segment, this.n);
    this.n += segment.length;
  }

  /** `at` + `suffix` names the field, joined only when `v` is wrong. */
  str(v: unknown, at: string, suffix: string): void {
    if (typeof v !== 'string' || v.includes('\0')) this.#badStr(v, at + suffix);
    this.int(this.strings.length);
    this.strings.push(v as string);
  }

  /** The same, for a field under `at()`, which is called only when `v` is wrong. */
  strIn(v: unknown, at: () => string, suffix: string): void {
    if (typeof v !== 'string' || v.includes('\0')) this.#badStr(v, at() + suffix);
    this.int(this.strings.length);
    this.strings.push(v as string);
  }

  #badStr(v: unknown, field: string): never {
    if (typeof v !== 'string') fail(field, `must be a string, got ${typeof v}`);
    fail(field, 'must not contain NUL characters');
  }

  /** `at` + `suffix` names the field, joined only when `v` is wrong. */
  optUint(v: unknown, at: string, suffix: string, min: number, max: number): void {
    if (v === undefined) this.int(NONE);
    else if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max) this.int(v);
    else uint(v, at + suffix, min, max);
  }

  optStr(v: unknown, at: string, suffix: string): void {
    if (v === undefined) this.int(NONE);
    else this.str(v, at, suffix);
  }
}

/**
 * `statsSlots`, when given, is the stats slot of each backend by index
 * (0xffffffff: none), in place of its options' statsSlot: the route-table
 * publisher assigns slots without copying the builder's model. `memo` keeps
 * the encoding of each endpoints list for the next model (a publisher's).
 */
export function encodeModel(model: unknown, statsSlots?: ArrayLike<number>, memo?: EncodeMemo): EncodedModel {
  if (!isRecord(model)) fail('model', 'must be an object');
  if (!Array.isArray(model.backends)) fail('backends', 'must be an array');
  if (!Array.isArray(model.hosts)) fail('hosts', 'must be an array');
  const backends: unknown[] = model.backends;
  const hosts: unknown[] = model.hosts;
  const backendRef = (v: unknown, field: string) => uint(v, field, 0, backends.length - 1);
  const w = new Writer();
  w.int(ENCODING_VERSION);
  w.int(0); // the number of strings, known at the end
  w.int(model.defaultBackend === undefined ? NONE : backendRef(model.defaultBackend, 'defaultBackend'));

  w.int(backends.length);
  for (let i = 0; i < backends.length; i++) {
    // Field names are made only for what is wrong: 10,000 backends a table.
    const f = `backends[${i}]`;
    const b = backends[i];
    if (!isRecord(b)) fail(f, 'must be an object');
    w.str(b.service, f, '.service');
    w.str(b.port, f, '.port');
    w.optStr(b.problem, f, '.problem');
    if (b.scheme !== 'http' && b.scheme !== 'https') fail(`${f}.scheme`, `must be "http" or "https", got ${JSON.stringify(b.scheme)}`);
    w.int(b.scheme === 'https' ? 1 : 0);
    const o = b.options;
    if (o !== undefined && !isRecord(o)) fail(`${f}.options`, 'must be an object');
    const opt = o ?? NO_OPTIONS;
    w.optUint(opt.connectTimeoutMs, f, '.options.connectTimeoutMs', 1, 2 ** 32 - 2);
    w.optUint(opt.responseTimeoutMs, f, '.options.responseTimeoutMs', 1, 2 ** 32 - 2);
    if (opt.redirectToHttps !== undefined && typeof opt.redirectToHttps !== 'boolean') fail(`${f}.options.redirectToHttps`, 'must be a boolean');
    w.int(opt.redirectToHttps === undefined ? NONE : opt.redirectToHttps ? 1 : 0);
    if (opt.cachePolicy !== undefined && opt.cachePolicy !== 'default' && opt.cachePolicy !== 'bypass') {
      fail(`${f}.options.cachePolicy`, 'must be "default" or "bypass"');
    }
    w.int(opt.cachePolicy === undefined ? NONE : opt.cachePolicy === 'bypass' ? 1 : 0);
    if (opt.upstreamHost !== undefined && (typeof opt.upstreamHost !== 'string' || !isValidHostName(opt.upstreamHost))) {
      fail(`${f}.options.upstreamHost`, `${JSON.stringify(opt.upstreamHost)} is not a valid host name`);
    }
    w.optStr(opt.upstreamHost, f, '.options.upstreamHost');
    w.optUint(opt.cacheDefaultTtlS, f, '.options.cacheDefaultTtlS', 1, MAX_SECONDS);
    w.optUint(opt.cacheMaxTtlS, f, '.options.cacheMaxTtlS', 1, MAX_SECONDS);
    if (opt.cacheIgnoreQuery !== undefined && typeof opt.cacheIgnoreQuery !== 'boolean') fail(`${f}.options.cacheIgnoreQuery`, 'must be a boolean');
    w.int(opt.cacheIgnoreQuery === undefined ? NONE : opt.cacheIgnoreQuery ? 1 : 0);
    w.optUint(opt.cacheServeStaleS, f, '.options.cacheServeStaleS', 1, MAX_SECONDS);
    w.optUint(opt.cacheGeneration, f, '.options.cacheGeneration', 0, MAX_GENERATION);
    const slot = statsSlots === undefined ? opt.statsSlot : statsSlots[i] === NONE ? undefined : statsSlots[i];
    w.optUint(slot, f, '.options.statsSlot', 0, MAX_STATS_SLOT);
    if (!Array.isArray(b.endpoints)) fail(`${f}.endpoints`, 'must be an array');
    const eps: unknown[] = b.endpoints;
    let encoded = memo?.endpoints.get(eps);
    if (!encoded) {
      encoded = encodeEndpoints(eps, f);
      memo?.endpoints.set(eps, encoded);
    }
    w.all(encoded);
  }

  w.int(hosts.length);
  const hostNames = new Map<string, number>();
  // A host's rules' match keys ('E' or 'P', then the key) and their indexes; most hosts have a few.
  const keys: string[] = [];
  const keyIndex = new Map<string, number>();
  for (let i = 0; i < hosts.length; i++) {
    const f = `hosts[${i}]`;
    const h = hosts[i];
    if (!isRecord(h)) fail(f, 'must be an object');
    if (typeof h.name !== 'string') fail(`${f}.name`, `must be a string, got ${typeof h.name}`);
    const name = h.name;
    if (name !== '') {
      const bare = name.startsWith('*.') ? name.slice(2) : name;
      // The whole name within 253 bytes, as readers check it (a wildcard's "*." counts).
      if (!isValidHostName(bare) || name.length > 253) fail(`${f}.name`, `"${name}" is not a lowercase host name or *.wildcard of at most 253 characters`);
    }
    const earlier = hostNames.get(name);
    if (earlier !== undefined) fail(`${f}.name`, `host "${name}" already appears as hosts[${earlier}]`);
    hostNames.set(name, i);
    w.str(name, f, '.name');
    w.int(h.defaultBackend === undefined ? NONE : backendRef(h.defaultBackend, `${f}.defaultBackend`));
    w.optStr(h.defaultSource, f, '.defaultSource');
    if (!Array.isArray(h.rules)) fail(`${f}.rules`, 'must be an array');
    const rules: unknown[] = h.rules;
    w.int(rules.length);
    keys.length = 0;
    keyIndex.clear();
    for (let j = 0; j < rules.length; j++) {
      const r = rules[j];
      const rf = () => `${f}.rules[${j}]`;
      if (!isRecord(r)) fail(rf(), 'must be an object');
      if (typeof r.path !== 'string') fail(`${rf()}.path`, `must be a string, got ${typeof r.path}`);
      const path = r.path;
      if (!path.startsWith('/')) fail(`${rf()}.path`, `"${path}" does not begin with '/'`);
      // Three UTF-8 bytes at most per UTF-16 unit: count them only for a long path.
      if (path.length * 3 > MAX_PATH && Buffer.byteLength(path) > MAX_PATH) fail(`${rf()}.path`, `longer than ${MAX_PATH} bytes`);
      if (typeof r.pathType !== 'string') fail(`${rf()}.pathType`, `must be a string, got ${typeof r.pathType}`);
      const type = PATH_TYPES[r.pathType];
      if (type === undefined) fail(`${rf()}.pathType`, `must be Exact, Prefix or ImplementationSpecific, got "${r.pathType}"`);
      const backend = typeof r.backend === 'number' && Number.isInteger(r.backend) && r.backend >= 0 && r.backend < backends.length
        ? r.backend
        : backendRef(r.backend, `${rf()}.backend`);
      const key = `${type === 0 ? 'E' : 'P'}${matchKey(path, r.pathType)}`;
      const dup = keys.length < SMALL_HOST ? keys.indexOf(key) : (keyIndex.get(key) ?? -1);
      if (dup >= 0) fail(`${rf()}.path`, `"${path}" (${r.pathType}) matches the same requests as ${f}.rules[${dup}]`);
      keys.push(key);
      if (keys.length === SMALL_HOST) keys.forEach((k, n) => keyIndex.set(k, n));
      else if (keys.length > SMALL_HOST) keyIndex.set(key, j);
      w.strIn(path, rf, '.path');
      w.int(type);
      w.int(backend);
      w.strIn(r.source, rf, '.source');
    }
  }
  w.ints[1] = w.strings.length;
  return { strings: w.strings.join('\0'), ints: w.ints.slice(0, w.n) };
}

export function sameEncoding(a: EncodedModel | undefined, b: EncodedModel): boolean {
  if (!a || a.strings !== b.strings || a.ints.length !== b.ints.length) return false;
  return Buffer.from(a.ints.buffer, a.ints.byteOffset, a.ints.byteLength).equals(
    Buffer.from(b.ints.buffer, b.ints.byteOffset, b.ints.byteLength),
  );
}
