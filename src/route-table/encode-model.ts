// Checks a TableModel completely and encodes it flat for the addon in the
// same pass: one string of NUL-separated strings and one Uint32Array. C++
// then reads two buffers instead of walking 100,000 JS objects, and "did the
// model change" is a comparison of the two encodings.
import { isIP } from 'node:net';
import { TableError } from './table-error.js';
import type { TableModel } from '../model/table-model.js';

/** Bumped with any change of the layout below; native/core/model_decoder.cc checks it. */
const ENCODING_VERSION = 2;
const NONE = 0xffffffff;

export interface EncodedModel {
  /** Every string of the model once, separated by NUL. */
  readonly strings: string;
  readonly ints: Uint32Array;
}

const PATH_TYPES: Record<string, number> = { Exact: 0, Prefix: 1, ImplementationSpecific: 2 };
const HOST_LABEL = /^[a-z0-9_-]{1,63}$/;
const MAX_PATH = 8192;
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
  return name.split('.').every((label) => HOST_LABEL.test(label));
}

/** The part of a path that takes part in matching (see native/core/names.h). */
function matchKey(path: string, pathType: string): string {
  return pathType === 'Exact' ? path : path.replace(/\/+$/, '');
}

class Writer {
  ints: Uint32Array = new Uint32Array(1024);
  n = 0;
  // No dedupe here: the C++ writer pools strings anyway, and a Map costs
  // more than the repeats it would save.
  readonly strings: string[] = [];

  int(v: number): void {
    if (this.n === this.ints.length) {
      const bigger = new Uint32Array(this.ints.length * 2);
      bigger.set(this.ints);
      this.ints = bigger;
    }
    this.ints[this.n++] = v;
  }

  str(v: unknown, field: string): void {
    if (typeof v !== 'string') fail(field, `must be a string, got ${typeof v}`);
    if (v.includes('\0')) fail(field, 'must not contain NUL characters');
    this.int(this.strings.length);
    this.strings.push(v);
  }

  /** `field` is only built into a name when `v` is wrong. */
  optUint(options: string, v: unknown, field: string, min: number, max: number): void {
    this.int(v === undefined ? NONE : uint(v, `${options}.${field}`, min, max));
  }

  optStr(v: unknown, field: string): void {
    if (v === undefined) this.int(NONE);
    else this.str(v, field);
  }
}

/**
 * `statsSlots`, when given, is the stats slot of each backend by index
 * (0xffffffff: none), in place of its options' statsSlot: the route-table
 * publisher assigns slots without copying the builder's model.
 */
export function encodeModel(model: unknown, statsSlots?: ArrayLike<number>): EncodedModel {
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
    const f = `backends[${i}]`;
    const b = backends[i];
    if (!isRecord(b)) fail(f, 'must be an object');
    w.str(b.service, `${f}.service`);
    w.str(b.port, `${f}.port`);
    w.optStr(b.problem, `${f}.problem`);
    if (b.scheme !== 'http' && b.scheme !== 'https') fail(`${f}.scheme`, `must be "http" or "https", got ${JSON.stringify(b.scheme)}`);
    w.int(b.scheme === 'https' ? 1 : 0);
    const o = b.options;
    const of = `${f}.options`;
    if (o !== undefined && !isRecord(o)) fail(of, 'must be an object');
    const opt = o ?? {};
    w.int(opt.connectTimeoutMs === undefined ? NONE : uint(opt.connectTimeoutMs, `${of}.connectTimeoutMs`, 1, 2 ** 32 - 2));
    w.int(opt.responseTimeoutMs === undefined ? NONE : uint(opt.responseTimeoutMs, `${of}.responseTimeoutMs`, 1, 2 ** 32 - 2));
    if (opt.redirectToHttps !== undefined && typeof opt.redirectToHttps !== 'boolean') fail(`${of}.redirectToHttps`, 'must be a boolean');
    w.int(opt.redirectToHttps === undefined ? NONE : opt.redirectToHttps ? 1 : 0);
    if (opt.cachePolicy !== undefined && opt.cachePolicy !== 'default' && opt.cachePolicy !== 'bypass') {
      fail(`${of}.cachePolicy`, 'must be "default" or "bypass"');
    }
    w.int(opt.cachePolicy === undefined ? NONE : opt.cachePolicy === 'bypass' ? 1 : 0);
    if (opt.upstreamHost !== undefined && (typeof opt.upstreamHost !== 'string' || !isValidHostName(opt.upstreamHost))) {
      fail(`${of}.upstreamHost`, `${JSON.stringify(opt.upstreamHost)} is not a valid host name`);
    }
    w.optStr(opt.upstreamHost, `${of}.upstreamHost`);
    w.optUint(of, opt.cacheDefaultTtlS, 'cacheDefaultTtlS', 1, MAX_SECONDS);
    w.optUint(of, opt.cacheMaxTtlS, 'cacheMaxTtlS', 1, MAX_SECONDS);
    if (opt.cacheIgnoreQuery !== undefined && typeof opt.cacheIgnoreQuery !== 'boolean') fail(`${of}.cacheIgnoreQuery`, 'must be a boolean');
    w.int(opt.cacheIgnoreQuery === undefined ? NONE : opt.cacheIgnoreQuery ? 1 : 0);
    w.optUint(of, opt.cacheServeStaleS, 'cacheServeStaleS', 1, MAX_SECONDS);
    w.optUint(of, opt.cacheGeneration, 'cacheGeneration', 0, MAX_GENERATION);
    const slot = statsSlots === undefined ? opt.statsSlot : statsSlots[i] === NONE ? undefined : statsSlots[i];
    w.optUint(of, slot, 'statsSlot', 0, MAX_STATS_SLOT);
    if (!Array.isArray(b.endpoints)) fail(`${f}.endpoints`, 'must be an array');
    const eps: unknown[] = b.endpoints;
    w.int(eps.length);
    // The hot loop at 100,000 endpoints: field names are only built on failure.
    for (let j = 0; j < eps.length; j++) {
      const e = eps[j];
      if (!isRecord(e)) fail(`${f}.endpoints[${j}]`, 'must be an object');
      const address = e.address;
      if (typeof address !== 'string' || isIP(address) === 0) {
        fail(`${f}.endpoints[${j}].address`, `${JSON.stringify(address)} is not an IPv4 or IPv6 address`);
      }
      w.str(address, '');
      const port = e.port;
      if (typeof port !== 'number' || !(port >= 1 && port <= 65535) || !Number.isInteger(port)) uint(port, `${f}.endpoints[${j}].port`, 1, 65535);
      w.int(port as number);
      const weight = e.weight;
      if (weight === undefined) w.int(1);
      else w.int(uint(weight, `${f}.endpoints[${j}].weight`, 1, 65535));
    }
  }

  w.int(hosts.length);
  const hostNames = new Map<string, number>();
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
    w.str(name, `${f}.name`);
    w.int(h.defaultBackend === undefined ? NONE : backendRef(h.defaultBackend, `${f}.defaultBackend`));
    w.optStr(h.defaultSource, `${f}.defaultSource`);
    if (!Array.isArray(h.rules)) fail(`${f}.rules`, 'must be an array');
    const rules: unknown[] = h.rules;
    w.int(rules.length);
    const keys = new Map<string, number>();
    for (let j = 0; j < rules.length; j++) {
      const rf = `${f}.rules[${j}]`;
      const r = rules[j];
      if (!isRecord(r)) fail(rf, 'must be an object');
      if (typeof r.path !== 'string') fail(`${rf}.path`, `must be a string, got ${typeof r.path}`);
      const path = r.path;
      if (!path.startsWith('/')) fail(`${rf}.path`, `"${path}" does not begin with '/'`);
      if (Buffer.byteLength(path) > MAX_PATH) fail(`${rf}.path`, `longer than ${MAX_PATH} bytes`);
      if (typeof r.pathType !== 'string') fail(`${rf}.pathType`, `must be a string, got ${typeof r.pathType}`);
      const type = PATH_TYPES[r.pathType];
      if (type === undefined) fail(`${rf}.pathType`, `must be Exact, Prefix or ImplementationSpecific, got "${r.pathType}"`);
      const backend = backendRef(r.backend, `${rf}.backend`);
      const key = `${type === 0 ? 'E' : 'P'}${matchKey(path, r.pathType)}`;
      const dup = keys.get(key);
      if (dup !== undefined) fail(`${rf}.path`, `"${path}" (${r.pathType}) matches the same requests as ${f}.rules[${dup}]`);
      keys.set(key, j);
      w.str(path, `${rf}.path`);
      w.int(type);
      w.int(backend);
      w.str(r.source, `${rf}.source`);
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
