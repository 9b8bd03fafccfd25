// Checks a TableModel completely and encodes it flat for the addon in the
// same pass: one string of NUL-separated strings and one Uint32Array. C++
// then reads two buffers instead of walking 100,000 JS objects, and "did the
// model change" is a comparison of the two encodings. Addresses travel as
// words (parsing one is checking it), so an endpoints list encodes to ints
// alone, the same wherever it sits: an EncodeMemo keeps each list's encoding
// for as long as the list lives, and an endpoint-only change re-encodes the
// endpoints of one Service. The Gateway API part (model.gateway) follows the
// hosts; a model without one ends with two zero counts.
import { TableError } from './table-error.js';
import { isPathValue } from '../validate/http-values.js';
import type { TableModel } from '../model/table-model.js';

/** Bumped with any change of the layout below; native/core/model_decoder.cc checks it. */
const ENCODING_VERSION = 4;
const NONE = 0xffffffff;

export interface EncodedModel {
  /** Every string of the model once, separated by NUL: the pieces joined. */
  readonly strings: string;
  /**
   * The strings in pieces to be joined by NUL (the backends', the hosts' and
   * Gateway part's), each the very string of the last encoding when it did
   * not change: comparing them is then a pointer compare, and the addon joins
   * them, where a concatenation here would be copied whole by V8 first.
   */
  readonly pieces: readonly string[];
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
 * What a publisher keeps of its last encoding, to take over what the next
 * model shares with it (the model is read-only by contract,
 * src/model/model.ts: an object is never changed once built, so its
 * encoding stays right).
 */
export class EncodeMemo {
  /** The last model's routing part, for a model with the same hosts and Gateway part. */
  routing: RoutingEncoding | undefined;
  /** Room for the next encoding: the last one's size and a little more, so that it is written without growing. */
  capacity = 1024;
  /** The last model's backends and where each one's encoding and strings begin. */
  backends: BackendsEncoding | undefined;
}

interface BackendsEncoding {
  readonly list: readonly unknown[];
  readonly slots: Uint32Array;
  /** Where backend i's ints begin in `ints` (and [n]: where the backends end), where its endpoints begin, and where its strings begin among `strings`. */
  readonly starts: Int32Array;
  readonly endpointStarts: Int32Array;
  readonly stringStarts: Int32Array;
  readonly ints: Uint32Array;
  readonly strings: readonly string[];
  /** The backends' strings joined. */
  readonly text: string;
}

/**
 * The routing part of an encoding (hosts, then the Gateway part: what
 * follows the backends) and what it was encoded from. Its string indexes
 * count from the backends' string count, and its backend indexes were
 * checked against their number: the part is taken over only when both are
 * the same (an endpoint-only change keeps them).
 */
interface RoutingEncoding {
  readonly hosts: unknown;
  readonly gateway: unknown;
  readonly firstString: number;
  readonly backendCount: number;
  readonly ints: Uint32Array;
  /** Its strings, NUL-separated, and how many. */
  readonly text: string;
  readonly stringCount: number;
  /** Its strings, and where each host's ints (in `ints`) and strings (in `strings`) begin ([n]: where they end). */
  readonly strings: readonly string[];
  readonly hostInts: Int32Array;
  readonly hostStrings: Int32Array;
}

/** Where each host's ints and strings begin in a routing part, counted from its start. */
interface HostStarts {
  readonly ints: Int32Array;
  readonly strings: Int32Array;
}

/**
 * endpoint count, then per endpoint: family, 1 or 4 address words, port,
 * weight; straight into the writer (a list of its own per backend was
 * 10,000 ArrayBuffers a table).
 */
function encodeEndpoints(w: Writer, eps: unknown[], f: Field): void {
  w.reserve(1 + eps.length * 7);
  const out = w.ints;
  let n = w.n;
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
  w.n = n;
}

/**
 * The last encoding's endpoints lists, for a backend that is a new object
 * with a list the last encoding had (a routing change makes every backend
 * anew, with the lists it had): its ints are copied, not encoded again.
 */
class LastEndpoints {
  #misses = 0;
  #byList: Map<unknown, number> | undefined;

  constructor(private readonly last: BackendsEncoding) {}

  /** The last encoding's backend with this very list (most often at the same index), or -1. */
  find(eps: unknown[], i: number): number {
    const list = this.last.list;
    if (i < list.length && (list[i] as { endpoints: unknown }).endpoints === eps) return i;
    // A few misses (an endpoint change) are encoded; many (backends
    // renumbered by a routing change) make an index of the lists worth it.
    if (this.#byList === undefined) {
      if (++this.#misses <= 16) return -1;
      this.#byList = new Map();
      for (let k = list.length - 1; k >= 0; k--) this.#byList.set((list[k] as { endpoints: unknown }).endpoints, k);
    }
    return this.#byList.get(eps) ?? -1;
  }

  /** Copies backend k's endpoints from the last encoding. */
  copy(w: Writer, k: number): void {
    w.all(this.last.ints.subarray(this.last.endpointStarts[k]!, this.last.starts[k + 1]!));
  }
}

/**
 * Where in the model a value sits, spelled out only for an error: one per
 * list, moved along as the encoding goes (a name built per element was
 * 40,000 strings a table: 10,000 backends and hosts, 20,000 rules).
 */
class Place {
  #list: string;
  #i = 0;
  #sub = '';
  #j = -1;

  constructor(list: string) {
    this.#list = list;
  }

  /** `list[i]`, or `list[i]sub[j]`. */
  at(i: number, sub = '', j = -1): this {
    this.#i = i;
    this.#sub = sub;
    this.#j = j;
    return this;
  }

  toString(): string {
    return `${this.#list}[${this.#i}]${this.#j >= 0 ? `${this.#sub}[${this.#j}]` : ''}`;
  }
}

type Field = string | Place;

class Writer {
  ints: Uint32Array;
  n = 0;

  constructor(capacity = 1024) {
    this.ints = new Uint32Array(capacity);
  }

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

  reserve(more: number): void {
    this.#room(more);
  }

  all(segment: Uint32Array): void {
    this.#room(segment.length);
    this.ints.set(segment, this.n);
    this.n += segment.length;
  }

  /** `at` + `suffix` names the field, joined only when `v` is wrong. */
  str(v: unknown, at: Field, suffix: string): void {
    if (typeof v !== 'string' || v.includes('\0')) this.#badStr(v, `${at}${suffix}`);
    this.int(this.strings.length);
    this.strings.push(v as string);
  }

  #badStr(v: unknown, field: string): never {
    if (typeof v !== 'string') fail(field, `must be a string, got ${typeof v}`);
    fail(field, 'must not contain NUL characters');
  }

  /** `at` + `suffix` names the field, joined only when `v` is wrong. */
  optUint(v: unknown, at: Field, suffix: string, min: number, max: number): void {
    if (v === undefined) this.int(NONE);
    else if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max) this.int(v);
    else uint(v, `${at}${suffix}`, min, max);
  }

  optStr(v: unknown, at: Field, suffix: string): void {
    if (v === undefined) this.int(NONE);
    else this.str(v, at, suffix);
  }
}

/** One backend (`i`: its index, for field names and its stats slot). */
function encodeBackend(w: Writer, b: unknown, i: number, place: Place, statsSlots: ArrayLike<number> | undefined, lastEndpoints: LastEndpoints | undefined, endpointStarts: Int32Array): void {
  const f = place.at(i);
  if (!isRecord(b)) fail(`${f}`, 'must be an object');
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
  endpointStarts[i] = w.n;
  const k = lastEndpoints ? lastEndpoints.find(eps, i) : -1;
  if (k >= 0) lastEndpoints!.copy(w, k);
  else encodeEndpoints(w, eps, f);
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
  const w = new Writer(Math.max(memo?.capacity ?? 0, sizeEstimate(backends, hosts)));
  w.int(ENCODING_VERSION);
  w.int(0); // the number of strings, known at the end
  w.int(model.defaultBackend === undefined ? NONE : backendRef(model.defaultBackend, 'defaultBackend'));

  // The backends: a run of backends that are the objects of the last
  // encoding, with the same stats slots and at the same string index, is
  // copied from it whole (an endpoint change re-encodes one backend).
  const last = memo?.backends;
  const n = backends.length;
  const starts = new Int32Array(n + 1);
  const endpointStarts = new Int32Array(n);
  const stringStarts = new Int32Array(n + 1);
  const slots = new Uint32Array(n);
  const lastEndpoints = last ? new LastEndpoints(last) : undefined;
  const place = new Place('backends');
  let sameStrings = last !== undefined;
  // The first backend not copied from the last encoding: past all of the
  // last backends when they are an unchanged prefix (a new Ingress's
  // backends come last, src/model/table.ts).
  let firstNotCopied = n;
  let run = -1;
  const copyRun = (end: number) => {
    if (run < 0 || !last) return;
    w.all(last.ints.subarray(last.starts[run]!, last.starts[end]!));
    for (let k = last.stringStarts[run]!; k < last.stringStarts[end]!; k++) w.strings.push(last.strings[k]!);
    run = -1;
  };
  w.int(n);
  for (let i = 0; i < n; i++) {
    const b = backends[i];
    slots[i] = statsSlots === undefined ? NONE : statsSlots[i]!;
    // Inside a run the string index lines up by construction; a run starts only where it does.
    const copied = last !== undefined && i < last.list.length && last.list[i] === b && last.slots[i] === slots[i] &&
      (run >= 0 || w.strings.length === last.stringStarts[i]);
    if (copied) {
      if (run < 0) run = i;
      // Where the run will be copied to: w.n and the strings stand where it begins.
      const shift = last!.starts[run]!;
      starts[i] = w.n + (last!.starts[i]! - shift);
      endpointStarts[i] = w.n + (last!.endpointStarts[i]! - shift);
      stringStarts[i] = w.strings.length + (last!.stringStarts[i]! - last!.stringStarts[run]!);
      continue;
    }
    if (firstNotCopied === n) firstNotCopied = i;
    copyRun(i);
    starts[i] = w.n;
    stringStarts[i] = w.strings.length;
    encodeBackend(w, b, i, place, statsSlots, lastEndpoints, endpointStarts);
    if (sameStrings && last) {
      const at = stringStarts[i]!;
      if (i >= last.list.length || last.stringStarts[i] !== at || last.stringStarts[i + 1] !== w.strings.length) sameStrings = false;
      else for (let k = at; k < w.strings.length && sameStrings; k++) if (w.strings[k] !== last.strings[k]) sameStrings = false;
    }
  }
  copyRun(n);
  starts[n] = w.n;
  stringStarts[n] = w.strings.length;

  // The routing part, or the last model's when it is the same objects.
  const firstString = w.strings.length;
  let backendText: string;
  if (sameStrings && last && last.list.length === n && last.stringStarts[n] === firstString) backendText = last.text;
  else if (last && last.list.length < n && firstNotCopied >= last.list.length) {
    // The last backends' text, then the new ones' strings: a concatenation,
    // which V8 keeps as a pair of strings, not a copy of the megabyte.
    const lastCount = last.stringStarts[last.list.length]!;
    const rest = w.strings.slice(lastCount, firstString).join('\0');
    backendText = lastCount === 0 ? rest : lastCount === firstString ? last.text : `${last.text}\0${rest}`;
  } else backendText = w.strings.join('\0');
  let routing = memo?.routing;
  if (routing && routing.hosts === model.hosts && routing.gateway === model.gateway && routing.firstString === firstString && routing.backendCount === backends.length) {
    w.all(routing.ints);
  } else {
    const start = w.n;
    const starts = encodeHosts(w, hosts, backends.length, routing);
    encodeGateway(w, model.gateway, backends.length);
    const own = w.strings.slice(firstString);
    routing = {
      hosts: model.hosts, gateway: model.gateway, firstString, backendCount: backends.length, ints: w.ints.slice(start, w.n), text: own.join('\0'), stringCount: own.length,
      strings: own, hostInts: starts.ints, hostStrings: starts.strings,
    };
    if (memo) memo.routing = routing;
  }
  w.ints[1] = firstString + routing.stringCount;
  const pieces = firstString === 0 ? [routing.text] : routing.stringCount === 0 ? [backendText] : [backendText, routing.text];
  if (!memo) return encoded(pieces, w.ints.slice(0, w.n));
  memo.capacity = w.n + (w.n >> 4) + 64;
  // A view: copying 800,000 ints again was a millisecond of an endpoint change.
  const ints = w.ints.subarray(0, w.n);
  memo.backends = { list: backends, slots, starts, endpointStarts, stringStarts, ints, strings: w.strings, text: backendText };
  return encoded(pieces, ints);
}

/** About the ints a model encodes to, so that the first encoding is written without growing much (the next ones start from the last one's size). */
function sizeEstimate(backends: unknown[], hosts: unknown[]): number {
  let endpoints = 0;
  for (const b of backends) if (isRecord(b) && Array.isArray(b.endpoints)) endpoints += b.endpoints.length;
  return 64 + backends.length * 16 + endpoints * 4 + hosts.length * 16;
}

function encoded(pieces: readonly string[], ints: Uint32Array): EncodedModel {
  return {
    pieces,
    ints,
    get strings() {
      return pieces.join('\0');
    },
  };
}

/**
 * A host of the last routing part's, when `h` is that very object (found by
 * its name: both lists are sorted), copied into the writer with its string
 * indexes moved to where its strings go now; false when it is not there or
 * names a backend past `backendCount` (then it is encoded, for the error).
 * A host is checked once, when it is first encoded: the model is read-only.
 */
class LastHosts {
  #at = 0;
  readonly #list: readonly unknown[];

  constructor(private readonly last: RoutingEncoding) {
    this.#list = last.hosts as unknown[];
  }

  copy(w: Writer, h: unknown, name: string, backendCount: number): boolean {
    const list = this.#list;
    while (this.#at < list.length && (list[this.#at] as { name: string }).name < name) this.#at++;
    const j = this.#at;
    if (list[j] !== h) return false;
    const last = this.last;
    const from = last.hostInts[j]!;
    const size = last.hostInts[j + 1]! - from;
    const seg = last.ints;
    // Its strings were numbered from there; they go here.
    const delta = w.strings.length - (last.firstString + last.hostStrings[j]!);
    w.reserve(size);
    const out = w.ints;
    const n = w.n;
    const rules = seg[from + 3]!;
    if (seg[from + 1] !== NONE && seg[from + 1]! >= backendCount) return false;
    out[n] = seg[from]! + delta;
    out[n + 1] = seg[from + 1]!;
    out[n + 2] = seg[from + 2] === NONE ? NONE : seg[from + 2]! + delta;
    out[n + 3] = rules;
    for (let k = 0, o = 4; k < rules; k++, o += 4) {
      const backend = seg[from + o + 2]!;
      if (backend >= backendCount) return false;
      out[n + o] = seg[from + o]! + delta;
      out[n + o + 1] = seg[from + o + 1]!;
      out[n + o + 2] = backend;
      out[n + o + 3] = seg[from + o + 3]! + delta;
    }
    w.n = n + size;
    for (let k = last.hostStrings[j]!; k < last.hostStrings[j + 1]!; k++) w.strings.push(last.strings[k]!);
    return true;
  }
}

/**
 * The hosts and their rules (after the backends: `backendCount` of them);
 * `last`, a routing part to copy the hosts it shares from.
 */
function encodeHosts(w: Writer, hosts: unknown[], backendCount: number, last: RoutingEncoding | undefined): HostStarts {
  const backendRef = (v: unknown, field: string) => uint(v, field, 0, backendCount - 1);
  const start = w.n;
  const firstString = w.strings.length;
  const starts: HostStarts = { ints: new Int32Array(hosts.length + 1), strings: new Int32Array(hosts.length + 1) };
  const lastHosts = last && Array.isArray(last.hosts) ? new LastHosts(last) : undefined;
  w.int(hosts.length);
  // The builder sorts hosts by name, and a name above the one before it
  // cannot repeat an earlier one: names are mapped only once they are not in
  // order (10,000 hosts made a map of 10,000 names a table).
  let hostNames: Map<string, number> | undefined;
  let previous = '';
  const hostPlace = new Place('hosts');
  const rulePlace = new Place('hosts');
  // A host's rules' match keys (Exact or not, then the part that matches):
  // most hosts have a few, compared in place; a host with many maps them.
  const exact: boolean[] = [];
  const keys: string[] = [];
  const keyIndex = new Map<string, number>();
  for (let i = 0; i < hosts.length; i++) {
    const f = hostPlace.at(i);
    const h = hosts[i];
    if (!isRecord(h)) fail(`${f}`, 'must be an object');
    if (typeof h.name !== 'string') fail(`${f}.name`, `must be a string, got ${typeof h.name}`);
    const name = h.name;
    if (hostNames === undefined && i > 0 && !(name > previous)) {
      hostNames = new Map();
      for (let k = 0; k < i; k++) hostNames.set((hosts[k] as { name: string }).name, k);
    }
    if (hostNames !== undefined) {
      const earlier = hostNames.get(name);
      if (earlier !== undefined) fail(`${f}.name`, `host "${name}" already appears as hosts[${earlier}]`);
      hostNames.set(name, i);
    }
    previous = name;
    starts.ints[i] = w.n - start;
    starts.strings[i] = w.strings.length - firstString;
    if (lastHosts?.copy(w, h, name, backendCount)) continue;
    if (name !== '') {
      const bare = name.startsWith('*.') ? name.slice(2) : name;
      // The whole name within 253 bytes, as readers check it (a wildcard's "*." counts).
      if (!isValidHostName(bare) || name.length > 253) fail(`${f}.name`, `"${name}" is not a lowercase host name or *.wildcard of at most 253 characters`);
    }
    w.str(name, f, '.name');
    w.int(h.defaultBackend === undefined ? NONE : backendRef(h.defaultBackend, `${f}.defaultBackend`));
    w.optStr(h.defaultSource, f, '.defaultSource');
    if (!Array.isArray(h.rules)) fail(`${f}.rules`, 'must be an array');
    const rules: unknown[] = h.rules;
    w.int(rules.length);
    exact.length = 0;
    keys.length = 0;
    keyIndex.clear();
    for (let j = 0; j < rules.length; j++) {
      const r = rules[j];
      const rf = rulePlace.at(i, '.rules', j);
      if (!isRecord(r)) fail(`${rf}`, 'must be an object');
      if (typeof r.path !== 'string') fail(`${rf}.path`, `must be a string, got ${typeof r.path}`);
      const path = r.path;
      if (!path.startsWith('/')) fail(`${rf}.path`, `"${path}" does not begin with '/'`);
      // Three UTF-8 bytes at most per UTF-16 unit: count them only for a long path.
      if (path.length * 3 > MAX_PATH && Buffer.byteLength(path) > MAX_PATH) fail(`${rf}.path`, `longer than ${MAX_PATH} bytes`);
      if (typeof r.pathType !== 'string') fail(`${rf}.pathType`, `must be a string, got ${typeof r.pathType}`);
      const type = PATH_TYPES[r.pathType];
      if (type === undefined) fail(`${rf}.pathType`, `must be Exact, Prefix or ImplementationSpecific, got "${r.pathType}"`);
      const backend = typeof r.backend === 'number' && Number.isInteger(r.backend) && r.backend >= 0 && r.backend < backendCount
        ? r.backend
        : backendRef(r.backend, `${rf}.backend`);
      const isExact = type === 0;
      const key = matchKey(path, r.pathType);
      let dup = -1;
      if (j < SMALL_HOST) {
        for (let k = 0; k < j && dup < 0; k++) if (keys[k] === key && exact[k] === isExact) dup = k;
        exact.push(isExact);
        keys.push(key);
        if (j === SMALL_HOST - 1) keys.forEach((k, n) => keyIndex.set(`${exact[n] ? 'E' : 'P'}${k}`, n));
      } else {
        const text = `${isExact ? 'E' : 'P'}${key}`;
        dup = keyIndex.get(text) ?? -1;
        keyIndex.set(text, j);
      }
      if (dup >= 0) fail(`${rf}.path`, `"${path}" (${r.pathType}) matches the same requests as hosts[${i}].rules[${dup}]`);
      w.str(path, rf, '.path');
      w.int(type);
      w.int(backend);
      w.str(r.source, rf, '.source');
    }
  }
  starts.ints[hosts.length] = w.n - start;
  starts.strings[hosts.length] = w.strings.length - firstString;
  return starts;
}

// ------------------------------------------------------------ the Gateway API
// Fewer objects than the hosts by far (one entry per HTTPRoute match and
// hostname), so field names are built per element here.

const GATEWAY_PATH_TYPES: Record<string, number> = { Exact: 0, PathPrefix: 1 };
const FILTER_KINDS: Record<string, number> = { RequestHeaderModifier: 1, ResponseHeaderModifier: 2, RequestRedirect: 3, URLRewrite: 4 };
const PATH_MODIFIERS: Record<string, number> = { ReplaceFullPath: 1, ReplacePrefixMatch: 2 };
const REDIRECT_CODES = new Set([301, 302, 303, 307, 308]);
const MAX_CHOICE_WEIGHT = 1_000_000;
/** The plugin draws a 32-bit value below a rule's total weight. */
const MAX_TOTAL_WEIGHT = 2 ** 32 - 1;
/** Kubernetes names: a DNS label for the namespace, a DNS subdomain for the name. */
const NAMESPACED_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/;
/** RFC 9110's tchar. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const LOWER_TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
/** What can stand in a header or query value the plugin compares or sends: no control character but HTAB (CR and LF would split a header; NUL ends C strings). */
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

function isRecordAt(v: unknown, field: string): Record<string, unknown> {
  if (!isRecord(v)) fail(field, 'must be an object');
  return v;
}

function arrayAt(v: unknown, field: string): unknown[] {
  if (!Array.isArray(v)) fail(field, 'must be an array');
  return v;
}

function stringAt(v: unknown, field: string): string {
  if (typeof v !== 'string') fail(field, `must be a string, got ${typeof v}`);
  return v;
}

function namespacedName(v: unknown, field: string): string {
  const s = stringAt(v, field);
  if (!NAMESPACED_NAME.test(s)) fail(field, `${JSON.stringify(s)} is not a namespace/name`);
  return s;
}

function fieldValue(v: unknown, field: string): string {
  const s = stringAt(v, field);
  if (CONTROL.test(s)) fail(field, `${JSON.stringify(s)} contains a control character (CR, LF, NUL and the like)`);
  return s;
}

/** A lowercase exact name, `*.suffix`, or (when `empty` allows it) '' for any; at most 253 bytes with the '*.'. */
function hostnameAt(v: unknown, field: string, empty: boolean, wildcard: boolean): string {
  const name = stringAt(v, field);
  if (name === '' && empty) return name;
  const bare = wildcard && name.startsWith('*.') ? name.slice(2) : name;
  if (!isValidHostName(bare) || name.length > 253) {
    fail(field, `${JSON.stringify(name)} is not a lowercase host name${wildcard ? ' or *.wildcard' : ''} of at most 253 characters`);
  }
  return name;
}

/** Where a listener's hostname sorts among those of one address and port: exact, wildcards by labels (more first), then none. */
function hostnameRank(name: string): number {
  if (name === '') return Number.MAX_SAFE_INTEGER;
  if (!name.startsWith('*.')) return 0;
  let labels = 1;
  for (let i = 0; i < name.length; i++) if (name.charCodeAt(i) === 46) labels++;
  return 1000 - labels;
}

/** Name/value pairs: count, then name and value strings. `lower` for a match's header names. */
function encodePairs(w: Writer, v: unknown, f: string, names: 'token' | 'lower' | 'query', unique: boolean): void {
  const list = arrayAt(v, f);
  w.int(list.length);
  const seen = unique ? new Map<string, number>() : undefined;
  for (let i = 0; i < list.length; i++) {
    const pf = `${f}[${i}]`;
    const p = isRecordAt(list[i], pf);
    const name = stringAt(p.name, `${pf}.name`);
    if (names === 'query') {
      if (name === '') fail(`${pf}.name`, 'must not be empty');
      fieldValue(name, `${pf}.name`);
    } else if (!(names === 'lower' ? LOWER_TOKEN : TOKEN).test(name)) {
      fail(`${pf}.name`, `${JSON.stringify(name)} is not ${names === 'lower' ? 'a lowercase' : 'an'} HTTP header name (token)`);
    }
    if (seen) {
      const earlier = seen.get(name);
      if (earlier !== undefined) fail(`${pf}.name`, `"${name}" already appears as ${f}[${earlier}]`);
      seen.set(name, i);
    }
    w.str(name, pf, '.name');
    w.str(fieldValue(p.value, `${pf}.value`), pf, '.value');
  }
}

/** kind (0 none, 1 ReplaceFullPath, 2 ReplacePrefixMatch), then the value opt. */
function encodePathModifier(w: Writer, v: unknown, f: string): void {
  if (v === undefined) {
    w.int(0);
    w.int(NONE);
    return;
  }
  const m = isRecordAt(v, f);
  const kind = typeof m.type === 'string' ? PATH_MODIFIERS[m.type] : undefined;
  if (kind === undefined) fail(`${f}.type`, `must be ReplaceFullPath or ReplacePrefixMatch, got ${JSON.stringify(m.type)}`);
  const value = stringAt(m.value, `${f}.value`);
  if (!value.startsWith('/')) fail(`${f}.value`, `"${value}" does not begin with '/'`);
  if (value.length * 3 > MAX_PATH && Buffer.byteLength(value) > MAX_PATH) fail(`${f}.value`, `longer than ${MAX_PATH} bytes`);
  if (!isPathValue(value)) fail(`${f}.value`, `${JSON.stringify(value)} has a character other than visible ASCII without '?' and '#'`);
  w.int(kind);
  w.str(value, f, '.value');
}

function encodeFilters(w: Writer, v: unknown, f: string): void {
  const list = arrayAt(v, f);
  w.int(list.length);
  for (let i = 0; i < list.length; i++) {
    const ff = `${f}[${i}]`;
    const filter = isRecordAt(list[i], ff);
    const kind = typeof filter.type === 'string' ? FILTER_KINDS[filter.type] : undefined;
    if (kind === undefined) {
      fail(`${ff}.type`, `must be RequestHeaderModifier, ResponseHeaderModifier, RequestRedirect or URLRewrite, got ${JSON.stringify(filter.type)}`);
    }
    w.int(kind);
    if (kind === 1 || kind === 2) {
      const edits = isRecordAt(filter.edits, `${ff}.edits`);
      encodePairs(w, edits.set, `${ff}.edits.set`, 'token', false);
      encodePairs(w, edits.add, `${ff}.edits.add`, 'token', false);
      const remove = arrayAt(edits.remove, `${ff}.edits.remove`);
      w.int(remove.length);
      for (let j = 0; j < remove.length; j++) {
        const name = stringAt(remove[j], `${ff}.edits.remove[${j}]`);
        if (!TOKEN.test(name)) fail(`${ff}.edits.remove[${j}]`, `${JSON.stringify(name)} is not an HTTP header name (token)`);
        w.str(name, ff, `.edits.remove[${j}]`);
      }
    } else if (kind === 3) {
      const scheme = filter.scheme;
      if (scheme !== undefined && scheme !== 'http' && scheme !== 'https') fail(`${ff}.scheme`, `must be "http" or "https", got ${JSON.stringify(scheme)}`);
      w.int(scheme === undefined ? NONE : scheme === 'https' ? 1 : 0);
      if (filter.hostname !== undefined) hostnameAt(filter.hostname, `${ff}.hostname`, false, false);
      w.optStr(filter.hostname, ff, '.hostname');
      w.optUint(filter.port, ff, '.port', 1, 65535);
      encodePathModifier(w, filter.path, `${ff}.path`);
      if (typeof filter.statusCode !== 'number' || !REDIRECT_CODES.has(filter.statusCode)) {
        fail(`${ff}.statusCode`, `must be 301, 302, 303, 307 or 308, got ${JSON.stringify(filter.statusCode)}`);
      }
      w.int(filter.statusCode);
    } else {
      if (filter.hostname !== undefined) hostnameAt(filter.hostname, `${ff}.hostname`, false, false);
      w.optStr(filter.hostname, ff, '.hostname');
      encodePathModifier(w, filter.path, `${ff}.path`);
    }
  }
}

/** A non-empty optional text: '' would read back as absent. */
function optText(w: Writer, v: unknown, field: string): void {
  if (v !== undefined && stringAt(v, field) === '') fail(field, 'must not be empty (leave it out instead)');
  w.optStr(v, field, '');
}

/**
 * Listener count, listeners, rule count, rules (the layout is in
 * native/core/model_decoder.h). Listeners must come sorted as the plugin
 * searches them: by address (family, then bytes), port, then hostname from
 * the most specific to none.
 */
function encodeGateway(w: Writer, v: unknown, backendCount: number): void {
  if (v === undefined) {
    w.int(0);
    w.int(0);
    return;
  }
  const g = isRecordAt(v, 'gateway');
  const listeners = arrayAt(g.listeners, 'gateway.listeners');
  const rules = arrayAt(g.rules, 'gateway.rules');
  w.int(listeners.length);
  const address = new Uint32Array(5);
  const previous = new Uint32Array(5);
  let previousPort = -1;
  let previousRank = -1;
  // The hostnames of the listeners on the current address and port.
  const hostnames = new Map<string, number>();
  for (let i = 0; i < listeners.length; i++) {
    const f = `gateway.listeners[${i}]`;
    const l = isRecordAt(listeners[i], f);
    w.str(namespacedName(l.gateway, `${f}.gateway`), f, '.gateway');
    if (stringAt(l.listener, `${f}.listener`) === '') fail(`${f}.listener`, 'must not be empty');
    w.str(l.listener, f, '.listener');
    const text = l.address;
    const v4 = typeof text === 'string' ? ipv4Word(text) : -1;
    address.fill(0);
    if (text === '*') {
      // Every local address of the port (family 0, no address words): sorts first.
    } else if (v4 >= 0) {
      address[0] = 4;
      address[1] = v4;
    } else if (typeof text === 'string' && text.includes(':') && ipv6Words(text, address, 1)) {
      address[0] = 6;
    } else {
      fail(`${f}.address`, `${JSON.stringify(text)} is not an IPv4 or IPv6 address, nor '*' (every local address)`);
    }
    for (let k = 0; k < (address[0] === 0 ? 1 : address[0] === 4 ? 2 : 5); k++) w.int(address[k]!);
    const port = uint(l.port, `${f}.port`, 1, 65535);
    w.int(port);
    w.int(uint(l.listenerPort, `${f}.listenerPort`, 1, 65535));
    if (l.protocol !== 'HTTP' && l.protocol !== 'HTTPS') fail(`${f}.protocol`, `must be "HTTP" or "HTTPS", got ${JSON.stringify(l.protocol)}`);
    w.int(l.protocol === 'HTTPS' ? 1 : 0);
    const hostname = hostnameAt(l.hostname, `${f}.hostname`, true, true);
    w.str(hostname, f, '.hostname');
    const rank = hostnameRank(hostname);
    let order = 0;
    for (let k = 0; k < 5 && order === 0; k++) order = address[k]! - previous[k]!;
    if (i > 0 && order < 0) fail(`${f}.address`, `${text} sorts before gateway.listeners[${i - 1}]'s address (listeners are sorted by address, then port, then hostname)`);
    if (i === 0 || order > 0 || port !== previousPort) {
      if (i > 0 && order === 0 && port < previousPort) fail(`${f}.port`, `${port} sorts before gateway.listeners[${i - 1}]'s port on the same address`);
      hostnames.clear();
    } else {
      if (rank < previousRank) {
        fail(`${f}.hostname`, `"${hostname}" is more specific than gateway.listeners[${i - 1}]'s, on the same address and port (exact names first, then wildcards with more labels, then '')`);
      }
      const earlier = hostnames.get(hostname);
      if (earlier !== undefined) fail(`${f}.hostname`, `"${hostname}" on ${text} port ${port} already appears as gateway.listeners[${earlier}]`);
    }
    hostnames.set(hostname, i);
    previous.set(address);
    previousPort = port;
    previousRank = rank;
    const entries = arrayAt(l.entries, `${f}.entries`);
    w.int(entries.length);
    for (let j = 0; j < entries.length; j++) {
      const ef = `${f}.entries[${j}]`;
      const e = isRecordAt(entries[j], ef);
      w.str(hostnameAt(e.hostname, `${ef}.hostname`, true, true), ef, '.hostname');
      const type = typeof e.pathType === 'string' ? GATEWAY_PATH_TYPES[e.pathType] : undefined;
      if (type === undefined) fail(`${ef}.pathType`, `must be Exact or PathPrefix, got ${JSON.stringify(e.pathType)}`);
      w.int(type);
      const path = stringAt(e.path, `${ef}.path`);
      if (!path.startsWith('/')) fail(`${ef}.path`, `"${path}" does not begin with '/'`);
      if (path.length * 3 > MAX_PATH && Buffer.byteLength(path) > MAX_PATH) fail(`${ef}.path`, `longer than ${MAX_PATH} bytes`);
      w.str(path, ef, '.path');
      if (e.method !== undefined && !TOKEN.test(stringAt(e.method, `${ef}.method`))) {
        fail(`${ef}.method`, `${JSON.stringify(e.method)} is not an HTTP method (token)`);
      }
      w.optStr(e.method, ef, '.method');
      encodePairs(w, e.headers, `${ef}.headers`, 'lower', true);
      encodePairs(w, e.queryParams, `${ef}.queryParams`, 'query', true);
      w.int(uint(e.rule, `${ef}.rule`, 0, rules.length - 1));
    }
  }

  w.int(rules.length);
  for (let i = 0; i < rules.length; i++) {
    const f = `gateway.rules[${i}]`;
    const r = isRecordAt(rules[i], f);
    w.str(namespacedName(r.route, `${f}.route`), f, '.route');
    w.int(uint(r.ruleIndex, `${f}.ruleIndex`, 0, 2 ** 32 - 2));
    optText(w, r.failure, `${f}.failure`);
    encodeFilters(w, r.filters, `${f}.filters`);
    const choices = arrayAt(r.choices, `${f}.choices`);
    w.int(choices.length);
    let total = 0;
    for (let j = 0; j < choices.length; j++) {
      const cf = `${f}.choices[${j}]`;
      const c = isRecordAt(choices[j], cf);
      w.int(c.backend === undefined ? NONE : uint(c.backend, `${cf}.backend`, 0, backendCount - 1));
      const weight = uint(c.weight, `${cf}.weight`, 0, MAX_CHOICE_WEIGHT);
      total += weight;
      if (total > MAX_TOTAL_WEIGHT) fail(`${cf}.weight`, `takes the rule's total weight past ${MAX_TOTAL_WEIGHT}`);
      w.int(weight);
      optText(w, c.problem, `${cf}.problem`);
      encodeFilters(w, c.filters, `${cf}.filters`);
    }
  }
}

export function sameEncoding(a: EncodedModel | undefined, b: EncodedModel): boolean {
  if (!a || a.ints.length !== b.ints.length) return false;
  // Pieces split differently still hold the same text when joined.
  if (a.pieces.length === b.pieces.length ? a.pieces.some((p, i) => p !== b.pieces[i]) : a.strings !== b.strings) return false;
  return Buffer.from(a.ints.buffer, a.ints.byteOffset, a.ints.byteLength).equals(
    Buffer.from(b.ints.buffer, b.ints.byteOffset, b.ints.byteLength),
  );
}
