// A test network of our own: a network namespace joined to the host by a
// veth pair, with "pod" addresses inside it. The Kubernetes API refuses
// loopback addresses in EndpointSlices, so end-to-end tests put their
// backends here, on addresses no other machine has, and ATS on the host
// reaches them through the veth. Needs root (CI runs as root).
//
// `ip` runs through runCommand and the backends as a ManagedProcess
// (processes.ts): bounded, in their own process groups, killed with the test
// process; the namespace is deleted by close() or, at the latest, at exit.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { atExit, ManagedProcess, runCommand, type CommandResult } from './processes.js';
import { freeSubnet } from './subnets.js';

const BACKENDS_SCRIPT = fileURLToPath(new URL('./netns-backends.js', import.meta.url));
const IP_TIMEOUT_MS = 10_000;
const BACKENDS_START_TIMEOUT_MS = 10_000;
/** close(): time for the backends to close their servers before SIGKILL. */
const BACKENDS_STOP_GRACE_MS = 3_000;

export interface NetnsBackendSpec {
  service: string;
  pod: string;
  /** One of the network's pod addresses. */
  host: string;
  port: number;
}

export interface NetnsBackends {
  readonly list: ReadonlyArray<{ service: string; pod: string; address: string; port: number }>;
  close(): Promise<void>;
}

export interface TestNetwork {
  readonly namespace: string;
  /** The host's address on the veth: where ATS's traffic comes from. */
  readonly hostAddress: string;
  /** Addresses inside the namespace, for pods. */
  readonly podAddresses: readonly string[];
  startBackends(specs: NetnsBackendSpec[]): Promise<NetnsBackends>;
  /** Runs a command inside the namespace (a client from outside the host's loopback), bounded. */
  exec(command: string, args: string[], timeoutMs?: number): Promise<CommandResult>;
  close(): Promise<void>;
}

async function ip(...args: string[]): Promise<void> {
  const r = await runCommand('ip', args, { timeoutMs: IP_TIMEOUT_MS });
  if (r.code !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim() || (r.timedOut ? 'timed out' : `exit ${r.code}`)}`);
}

/** Synchronous clean-up for process exit. */
function deleteNetworkSync(namespace: string, hostIf: string): void {
  try {
    execFileSync('ip', ['netns', 'del', namespace], { stdio: 'ignore', timeout: 5000 });
  } catch {
    // Best effort.
  }
  try {
    execFileSync('ip', ['link', 'del', hostIf], { stdio: 'ignore', timeout: 5000 });
  } catch {
    // Gone with the namespace.
  }
}

let counter = 0;
let swept = false;

/** Names of our namespaces ("atsi-<pid>-<n>") whose process is gone: left by a run that was killed. */
export function staleNetworks(list: string, alive: (pid: number) => boolean): string[] {
  const out: string[] = [];
  for (const line of list.split('\n')) {
    const m = /^(atsi-(\d+)-\d+)(?:\s|$)/.exec(line.trim());
    if (m && Number(m[2]) !== process.pid && !alive(Number(m[2]))) out.push(m[1] as string);
  }
  return out;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Deletes namespaces a killed run left (their veth and route go with them),
 * once per process: their routes would otherwise shadow a new network on the
 * same /24, and they hold addresses for nothing.
 */
async function sweepStaleNetworks(): Promise<void> {
  if (swept) return;
  swept = true;
  const r = await runCommand('ip', ['netns', 'list'], { timeoutMs: IP_TIMEOUT_MS });
  if (r.code !== 0) return;
  for (const name of staleNetworks(r.stdout, pidAlive)) {
    process.stderr.write(`# test network: deleting ${name}, left by a run that ended without deleting it\n`);
    await ip('netns', 'del', name).catch(() => undefined);
  }
}

/** Creates a namespace with `pods` addresses in a 10.213.N.0/24 no route covers yet (searched from one the pid gives). */
export async function createTestNetwork(pods: number): Promise<TestNetwork> {
  if (pods < 1 || pods > 250) throw new Error('pods must be 1 to 250');
  if (process.getuid?.() !== 0) throw new Error('a test network needs root (ip netns): run the tests as root');
  await sweepStaleNetworks();
  const n = ++counter;
  const subnet = await freeSubnet('10.213', process.pid + n);
  const namespace = `atsi-${process.pid}-${n}`;
  const hostIf = `atsih${(process.pid % 100000).toString(36)}${n}`.slice(0, 15);
  const nsIf = `atsin${(process.pid % 100000).toString(36)}${n}`.slice(0, 15);
  const podAddresses = Array.from({ length: pods }, (_, i) => `${subnet}.${i + 2}`);
  const children = new Set<ManagedProcess>();
  // If the test process exits without close(), take the namespace down with it
  // (after the 'exit' hook killed the backends).
  const forgetAtExit = atExit(() => deleteNetworkSync(namespace, hostIf));
  let closed = false;

  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await Promise.allSettled([...children].map((c) => c.kill()));
    await ip('netns', 'del', namespace).catch(() => undefined);
    await ip('link', 'del', hostIf).catch(() => undefined);
    forgetAtExit();
  };
  try {
    await ip('netns', 'add', namespace);
    await ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf);
    await ip('link', 'set', nsIf, 'netns', namespace);
    await ip('addr', 'add', `${subnet}.1/24`, 'dev', hostIf);
    await ip('link', 'set', hostIf, 'up');
    for (const a of podAddresses) await ip('netns', 'exec', namespace, 'ip', 'addr', 'add', `${a}/24`, 'dev', nsIf);
    await ip('netns', 'exec', namespace, 'ip', 'link', 'set', nsIf, 'up');
    await ip('netns', 'exec', namespace, 'ip', 'link', 'set', 'lo', 'up');
    // A run that took the same /24 between our route check and now would
    // shadow us (its route is older): fail here, naming it, not as 502s later.
    const via = await runCommand('ip', ['-4', 'route', 'get', podAddresses[0] as string], { timeoutMs: IP_TIMEOUT_MS });
    if (!new RegExp(`\\bdev ${hostIf}\\b`).test(via.stdout)) {
      throw new Error(`test network: ${podAddresses[0]} is routed elsewhere (${via.stdout.trim() || via.stderr.trim()}), not through ${hostIf}`);
    }
  } catch (err) {
    await close();
    throw err;
  }

  return {
    namespace,
    hostAddress: `${subnet}.1`,
    podAddresses,
    close,
    exec: (command, args, timeoutMs = 10_000) => runCommand('ip', ['netns', 'exec', namespace, command, ...args], { timeoutMs }),
    async startBackends(specs) {
      // stdin a pipe: the backends also stop when it closes.
      const child = await ManagedProcess.start('ip', ['netns', 'exec', namespace, process.execPath, BACKENDS_SCRIPT, JSON.stringify(specs)], {
        name: `backends in ${namespace}`,
        output: 'memory',
        stdin: true,
        graceMs: BACKENDS_STOP_GRACE_MS,
      });
      children.add(child);
      let list: NetnsBackends['list'];
      try {
        const ready = await child.waitForOutput(/^READY (.*)$/m, BACKENDS_START_TIMEOUT_MS);
        list = JSON.parse(ready[1] as string) as NetnsBackends['list'];
      } catch (err) {
        await child.kill().catch(() => undefined);
        children.delete(child);
        throw err;
      }
      return {
        list,
        close: async () => {
          // SIGTERM: they close their servers and exit; SIGKILL after the grace.
          await child.stop();
          children.delete(child);
        },
      };
    },
  };
}
