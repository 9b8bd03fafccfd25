// Run inside a test network namespace (see netns.ts): starts the echo
// backends given as JSON in argv[2], prints one READY line with their
// addresses, and stops when stdin closes or on SIGTERM.
import { startBackend, type Backend } from './backends.js';

interface Spec {
  service: string;
  pod: string;
  host: string;
  port: number;
}

async function main(): Promise<void> {
  const specs = JSON.parse(process.argv[2] ?? '[]') as Spec[];
  const backends: Backend[] = [];
  for (const s of specs) backends.push(await startBackend(s));
  process.stdout.write(`READY ${JSON.stringify(backends.map((b) => ({ service: b.service, pod: b.pod, address: b.address, port: b.port })))}\n`);
  const stop = async () => {
    await Promise.all(backends.map((b) => b.close()));
    process.exit(0);
  };
  process.stdin.on('end', () => void stop());
  process.stdin.on('close', () => void stop());
  process.stdin.resume();
  process.once('SIGTERM', () => void stop());
}

main().catch((err: unknown) => {
  process.stderr.write(`netns-backends: ${(err as Error).message}\n`);
  process.exit(1);
});
