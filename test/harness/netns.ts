// A test network of our own: a network namespace joined to the host by a
// veth pair, with "pod" addresses inside it. The Kubernetes API refuses
// loopback addresses in EndpointSlices, so end-to-end tests put their
// backends here, on addresses no other machine has, and ATS on the host
// reaches them through the veth. Needs root (CI runs as root).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const BACKENDS_SCRIPT = fileURLToPath(new URL('./netns-backends.js', import.meta.url));

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
  close(): Promise<void>;
}

async function ip(...args: string[]): Promise<void> {
  try {
    await run('ip', args, { timeout: 10_000 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`ip ${args.join(' ')}: ${e.stderr?.trim() || e.message}`);
  }
}

let counter = 0;

/** Creates a namespace with `pods` addresses in 10.213.N.0/24 (N from the pid, so parallel runs differ). */
export async function createTestNetwork(pods: number): Promise<TestNetwork> {
  if (pods < 1 || pods > 250) throw new Error('pods must be 1 to 250');
  if (process.getuid?.() !== 0) throw new Error('a test network needs root (ip netns): run the tests as root');
  const n = ++counter;
  const subnet = `10.213.${((process.pid + n) % 250) + 1}`;
  const namespace = `atsi-${process.pid}-${n}`;
  const hostIf = `atsih${(process.pid % 100000).toString(36)}${n}`.slice(0, 15);
  const nsIf = `atsin${(process.pid % 100000).toString(36)}${n}`.slice(0, 15);
  const podAddresses = Array.from({ length: pods }, (_, i) => `${subnet}.${i + 2}`);
  const children = new Set<ChildProcess>();
  let closed = false;

  const close = async () => {
    if (closed) return;
    closed = true;
    for (const c of children) c.kill('SIGKILL');
    await ip('netns', 'del', namespace).catch(() => undefined);
    await ip('link', 'del', hostIf).catch(() => undefined);
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
  } catch (err) {
    await close();
    throw err;
  }
  // If the test process dies, take the namespace down with it.
  process.once('exit', () => {
    for (const c of children) c.kill('SIGKILL');
    try {
      require_ip_sync(namespace, hostIf);
    } catch {
      // best effort
    }
  });

  return {
    namespace,
    hostAddress: `${subnet}.1`,
    podAddresses,
    close,
    async startBackends(specs) {
      const child = spawn('ip', ['netns', 'exec', namespace, process.execPath, BACKENDS_SCRIPT, JSON.stringify(specs)], {
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      children.add(child);
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const list = await new Promise<NetnsBackends['list']>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`backends in ${namespace} did not start in 10 s: ${stderr}`)), 10_000);
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const line = out.split('\n').find((l) => l.startsWith('READY '));
          if (line) {
            clearTimeout(timer);
            resolve(JSON.parse(line.slice(6)) as NetnsBackends['list']);
          }
        });
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`backends in ${namespace} exited (${code}): ${stderr}`));
        });
      });
      return {
        list,
        close: async () => {
          if (child.exitCode !== null) return;
          const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
          child.stdin.end();
          const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
          await exited;
          clearTimeout(timer);
          children.delete(child);
        },
      };
    },
  };
}

// Synchronous clean-up for process exit.
import { execFileSync } from 'node:child_process';
function require_ip_sync(namespace: string, hostIf: string): void {
  execFileSync('ip', ['netns', 'del', namespace], { stdio: 'ignore', timeout: 5000 });
  try {
    execFileSync('ip', ['link', 'del', hostIf], { stdio: 'ignore', timeout: 5000 });
  } catch {
    // gone with the namespace
  }
}
