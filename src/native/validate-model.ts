// Checks a TableModel completely before it crosses into C++, so that every
// mistake is reported with the field that holds it and nothing is published.
import { isIP } from 'node:net';
import { TableError } from './table-error.js';
import type { TableModel } from './table-types.js';

const PATH_TYPES = new Set(['Exact', 'Prefix', 'ImplementationSpecific']);
const HOST_LABEL = /^[a-z0-9_-]{1,63}$/;
const MAX_PATH = 8192;

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

function str(v: unknown, field: string): string {
  if (typeof v !== 'string') fail(field, `must be a string, got ${typeof v}`);
  return v;
}

export function isValidHostName(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  return name.split('.').every((label) => HOST_LABEL.test(label));
}

/** The part of a path that takes part in matching (see native/core/names.h). */
export function matchKey(path: string, pathType: string): string {
  return pathType === 'Exact' ? path : path.replace(/\/+$/, '');
}

export function validateModel(model: unknown): asserts model is TableModel {
  if (!isRecord(model)) fail('model', 'must be an object');
  if (!Array.isArray(model.backends)) fail('backends', 'must be an array');
  if (!Array.isArray(model.hosts)) fail('hosts', 'must be an array');
  const backendCount = model.backends.length;
  const backendRef = (v: unknown, field: string) => uint(v, field, 0, backendCount - 1);

  model.backends.forEach((b: unknown, i: number) => {
    const f = `backends[${i}]`;
    if (!isRecord(b)) fail(f, 'must be an object');
    str(b.service, `${f}.service`);
    str(b.port, `${f}.port`);
    if (b.scheme !== 'http' && b.scheme !== 'https') fail(`${f}.scheme`, `must be "http" or "https", got ${JSON.stringify(b.scheme)}`);
    if (b.problem !== undefined) str(b.problem, `${f}.problem`);
    if (!Array.isArray(b.endpoints)) fail(`${f}.endpoints`, 'must be an array');
    b.endpoints.forEach((e: unknown, j: number) => {
      const ef = `${f}.endpoints[${j}]`;
      if (!isRecord(e)) fail(ef, 'must be an object');
      const address = str(e.address, `${ef}.address`);
      if (isIP(address) === 0) fail(`${ef}.address`, `"${address}" is not an IPv4 or IPv6 address`);
      uint(e.port, `${ef}.port`, 1, 65535);
      if (e.weight !== undefined) uint(e.weight, `${ef}.weight`, 1, 65535);
    });
    if (b.options !== undefined) {
      const of = `${f}.options`;
      const o = b.options;
      if (!isRecord(o)) fail(of, 'must be an object');
      if (o.connectTimeoutMs !== undefined) uint(o.connectTimeoutMs, `${of}.connectTimeoutMs`, 1, 2 ** 32 - 1);
      if (o.responseTimeoutMs !== undefined) uint(o.responseTimeoutMs, `${of}.responseTimeoutMs`, 1, 2 ** 32 - 1);
      if (o.redirectToHttps !== undefined && typeof o.redirectToHttps !== 'boolean') fail(`${of}.redirectToHttps`, 'must be a boolean');
      if (o.cachePolicy !== undefined && o.cachePolicy !== 'default' && o.cachePolicy !== 'bypass') {
        fail(`${of}.cachePolicy`, 'must be "default" or "bypass"');
      }
      if (o.upstreamHost !== undefined && !isValidHostName(str(o.upstreamHost, `${of}.upstreamHost`))) {
        fail(`${of}.upstreamHost`, `"${o.upstreamHost}" is not a valid host name`);
      }
    }
  });

  const hostNames = new Map<string, number>();
  model.hosts.forEach((h: unknown, i: number) => {
    const f = `hosts[${i}]`;
    if (!isRecord(h)) fail(f, 'must be an object');
    const name = str(h.name, `${f}.name`);
    if (name !== '') {
      const bare = name.startsWith('*.') ? name.slice(2) : name;
      if (!isValidHostName(bare)) fail(`${f}.name`, `"${name}" is not a lowercase host name or *.wildcard`);
    }
    const earlier = hostNames.get(name);
    if (earlier !== undefined) fail(`${f}.name`, `host "${name}" already appears as hosts[${earlier}]`);
    hostNames.set(name, i);
    if (h.defaultBackend !== undefined) backendRef(h.defaultBackend, `${f}.defaultBackend`);
    if (h.defaultSource !== undefined) str(h.defaultSource, `${f}.defaultSource`);
    if (!Array.isArray(h.rules)) fail(`${f}.rules`, 'must be an array');
    const keys = new Map<string, number>();
    h.rules.forEach((r: unknown, j: number) => {
      const rf = `${f}.rules[${j}]`;
      if (!isRecord(r)) fail(rf, 'must be an object');
      const path = str(r.path, `${rf}.path`);
      if (!path.startsWith('/')) fail(`${rf}.path`, `"${path}" does not begin with '/'`);
      if (Buffer.byteLength(path) > MAX_PATH) fail(`${rf}.path`, `longer than ${MAX_PATH} bytes`);
      const pathType = str(r.pathType, `${rf}.pathType`);
      if (!PATH_TYPES.has(pathType)) fail(`${rf}.pathType`, `must be Exact, Prefix or ImplementationSpecific, got "${pathType}"`);
      backendRef(r.backend, `${rf}.backend`);
      str(r.source, `${rf}.source`);
      const key = `${pathType === 'Exact' ? 'E' : 'P'}${matchKey(path, pathType)}`;
      const dup = keys.get(key);
      if (dup !== undefined) fail(`${rf}.path`, `"${path}" (${pathType}) matches the same requests as ${f}.rules[${dup}]`);
      keys.set(key, j);
    });
  });
  if (model.defaultBackend !== undefined) backendRef(model.defaultBackend, 'defaultBackend');
}
