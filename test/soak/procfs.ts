// What /proc and /dev/shm say about the processes and the table under test:
// resident memory, open file descriptors, the table's shared-memory objects
// and which of them a process has mapped.

import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

import { liveGroupMembers } from '../harness/processes.js';

const MiB = 1024 * 1024;

/** VmRSS of a process, in bytes. */
export function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

export const mib = (bytes: number): number => Math.round((bytes / MiB) * 10) / 10;

/** Open file descriptors of a process. */
export function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** What the open descriptors of a process are, by kind (socket, pipe, anon_inode, /dev/shm, file), for a message. */
export function fdKinds(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;
    }
    const kind = /^(socket|pipe|anon_inode):/.exec(target)?.[1] ?? (target.startsWith('/dev/shm/') ? '/dev/shm' : 'file');
    out[kind] = (out[kind] ?? 0) + 1;
  }
  return out;
}

/** The table's objects in /dev/shm (`ats-ingress.TABLE.*`). */
export function shmObjects(table: string): string[] {
  return readdirSync('/dev/shm').filter((f) => f.startsWith(`ats-ingress.${table}.`)).sort();
}

/**
 * The table's shared-memory objects a process has mapped, each once
 * (`/dev/shm/ats-ingress.TABLE.N`, with " (deleted)" when unlinked since),
 * and the copies of tables a reader holds (native/core/table_source.cc:
 * `/memfd:ats-ingress.TABLE.N (deleted)`, listed as `ats-ingress.TABLE.N`):
 * a reader that never let go of old tables would show them here.
 */
export function mappedShm(pid: number, table: string): string[] {
  const seen = new Set<string>();
  const needle = `/dev/shm/ats-ingress.${table}.`;
  const copy = `/memfd:ats-ingress.${table}.`;
  for (const line of readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
    const i = line.indexOf(needle);
    if (i >= 0) seen.add(line.slice(i + '/dev/shm/'.length));
    const j = line.indexOf(copy);
    if (j >= 0) seen.add(line.slice(j + '/memfd:'.length).replace(/ \(deleted\)$/, ''));
  }
  return [...seen].sort();
}

/** The traffic_server process in a process group (ATS started alone, or under traffic_manager). */
export function trafficServerPid(groupPid: number): number {
  for (const pid of liveGroupMembers(groupPid)) {
    try {
      if (readlinkSync(`/proc/${pid}/exe`).endsWith('/traffic_server')) return pid;
    } catch {
      // Gone meanwhile.
    }
  }
  throw new Error(`no traffic_server in process group ${groupPid}`);
}
