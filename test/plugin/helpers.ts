// Shared pieces of the plugin tests: where the plugin is, how to load it in
// each mode, table names, polling with a deadline, and a few model builders.

import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { TableBackend, TableEndpoint } from '../../src/route-table/route-table.js';
import type { AtsConfig, AtsInstance, HttpRequestOptions, HttpResponse } from '../harness/ats.js';
import type { Backend, BackendEcho } from '../harness/backends.js';
import { pollUntil, type Polled } from '../harness/poll.js';

/** The project root (this file runs from dist/test/plugin/). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const PLUGIN_SO = process.env.ATS_INGRESS_PLUGIN ?? resolve(ROOT, 'ats-plugin/build/ats_ingress.so');

export type Mode = 'global' | 'remap';

/** A table name of its own for each test file and process. */
export function tableName(tag: string): string {
  return `ptest-${tag}-${process.pid}`;
}

/**
 * plugin.config / remap.config that load the plugin for `table`.
 * Global: the plugin in plugin.config, `remap` (the fallback rules) in remap.config.
 * Remap: one catch-all rule running the plugin (no fallback rules: the plugin answers everything).
 */
export function pluginSetup(mode: Mode, table: string, args: string[] = [], remap: string[] = []): AtsConfig {
  const all = [`--table=${table}`, ...args];
  if (mode === 'global') return { plugins: [[PLUGIN_SO, ...all].join(' ')], remap };
  return { plugins: [], remap: [`map / http://127.0.0.1:1/ @plugin=${PLUGIN_SO}${all.map((a) => ` @pparam=${a}`).join('')}`] };
}

/** The backend's JSON echo of a 200 answer (fails with the status and body otherwise). */
export function echoOf(r: HttpResponse, what = 'request'): BackendEcho {
  assert.equal(r.status, 200, `${what}: expected 200 from a backend, got ${r.status}: ${r.body}`);
  assert.match(String(r.headers['content-type']), /application\/json/, `${what}: not a backend's answer: ${r.body}`);
  return JSON.parse(r.body) as BackendEcho;
}

export function endpointOf(b: Backend): TableEndpoint {
  return { address: b.address, port: b.port };
}

export function backendOf(service: string, pods: Backend[], more: Partial<TableBackend> = {}): TableBackend {
  return { service, port: '8080', scheme: 'http', endpoints: pods.map(endpointOf), ...more };
}

export { pollUntil, type Polled };

/** Requests through ATS until the answer satisfies `ok`; returns it with the time taken. */
export function requestUntil(
  ats: AtsInstance,
  req: HttpRequestOptions,
  ok: (r: HttpResponse) => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<Polled<HttpResponse>> {
  return pollUntil(what, () => ats.request({ ...req, fresh: true, timeoutMs: 5_000 }), ok, { timeoutMs });
}

/** Whether a 200 came from the backend pod of `service`. */
export function fromService(service: string): (r: HttpResponse) => boolean {
  return (r) => r.status === 200 && String(r.headers['content-type']).includes('application/json') && (JSON.parse(r.body) as BackendEcho).service === service;
}

/** `traffic_ctl metric get NAME` (manager mode) as a number; undefined when not (yet) known. */
export async function metric(ats: AtsInstance, name: string): Promise<number | undefined> {
  const r = await ats.trafficCtl(['metric', 'get', name], { timeoutMs: 10_000 });
  if (r.code !== 0) return undefined;
  const m = new RegExp(`^${name.replace(/\./g, '\\.')}\\s+(-?\\d+)`, 'm').exec(r.stdout);
  return m ? Number(m[1]) : undefined;
}

/** Shown in a failed assertion: the ATS logs, last part only. */
export async function logTail(ats: AtsInstance, chars = 6_000): Promise<string> {
  const all = await ats.logs();
  return all.length > chars ? '…' + all.slice(-chars) : all;
}

/**
 * The control object's generation (the 8 bytes at offset 16 of
 * `/dev/shm/ats-ingress.NAME.ctl`), and writing it as a writer's publish
 * would: for tests that point the plugin at objects of their own making.
 */
export function controlGeneration(shm: string): bigint {
  return readFileSync(`${shm}.ctl`).readBigUInt64LE(16);
}

export function writeControlGeneration(shm: string, generation: bigint): void {
  const buf = Buffer.alloc(8);
  buf.writeBigUInt64LE(generation);
  const fd = openSync(`${shm}.ctl`, 'r+');
  try {
    assert.equal(writeSync(fd, buf, 0, 8, 16), 8);
  } finally {
    closeSync(fd);
  }
}
