// The Gateway API conformance suite's echo server, built from Go modules
// (scripts/echo-basic.sh: tools/gateway-conformance, cached under
// ~/.cache/ats-ingress/echo-basic), for the process kubelet's image table:
//
//   const kubelet = await startProcessKubelet(kube, { images: { [ECHO_BASIC_IMAGE]: { command: await echoBasicBinary() } } });
//
// It answers every HTTP request on $HTTP_PORT (default 3000; h2c on
// $H2C_PORT, 3001) with JSON naming the request and $POD_NAME / $NAMESPACE,
// and serves HTTPS on $HTTPS_PORT (8443) when TLS_SERVER_CERT and
// TLS_SERVER_PRIVKEY name files.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { runCommand } from './processes.js';

/** The image the suite's manifests run (any tag). */
export const ECHO_BASIC_IMAGE = 'registry.k8s.io/gateway-api/echo-basic';

let binary: Promise<string> | undefined;

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 20; i++) {
    if (existsSync(join(dir, 'scripts', 'echo-basic.sh'))) return dir;
    dir = dirname(dir);
  }
  throw new Error(`echo-basic: cannot find scripts/echo-basic.sh above ${fileURLToPath(import.meta.url)}`);
}

/** The echo-basic binary, built on first need (progress on stderr; about 30 s cold). Cached per process. */
export function echoBasicBinary(timeoutMs = 10 * 60_000): Promise<string> {
  binary ??= (async () => {
    const root = repoRoot();
    const r = await runCommand('bash', [join(root, 'scripts', 'echo-basic.sh')], { cwd: root, timeoutMs, stderr: 'inherit' });
    const dir = r.stdout.trim().split('\n').pop() ?? '';
    if (r.code !== 0 || !existsSync(join(dir, 'echo-basic'))) {
      throw new Error(`echo-basic: scripts/echo-basic.sh failed (exit ${r.code}${r.timedOut ? ', timed out' : ''})\n${r.stdout}${r.stderr}`);
    }
    return join(dir, 'echo-basic');
  })();
  binary.catch(() => {
    binary = undefined;
  });
  return binary;
}
