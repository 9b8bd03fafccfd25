// Process groups for the harness and the benchmarks: signal a whole group,
// and a watchdog that kills a group once its parent is gone (when a test or
// benchmark is killed without a chance to clean up).
import { spawn, type ChildProcess } from 'node:child_process';

/** Signals every process of group `pgid`; quiet when the group is gone. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is gone already.
  }
}

/** Kills the group `pgid` once process `parentPid` is gone. Detached so a Ctrl-C to the parent does not kill it. */
export function startWatchdog(parentPid: number, pgid: number, label: string): ChildProcess {
  const script =
    // dash's kill takes a negative PID as a group only without '--'.
    'while kill -0 "$1" 2>/dev/null; do sleep 0.5; done; kill -KILL "-$2" 2>/dev/null; exit 0';
  const child = spawn('/bin/sh', ['-c', script, label, String(parentPid), String(pgid)], {
    detached: true,
    stdio: 'ignore',
  });
  child.on('error', () => {
    /* best effort */
  });
  child.unref();
  return child;
}

export function stopWatchdog(child: ChildProcess | undefined): void {
  if (child?.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
}
