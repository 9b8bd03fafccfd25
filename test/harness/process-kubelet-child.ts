// A process of its own with a process kubelet, for the test that it cleans
// up when its process ends without stop(). The parent passes the API
// server in $PK_API (JSON: url, ca, adminToken) and the image table in
// $PK_IMAGES; this registers node $PK_NODE (no scheduling), prints
// "READY <json of its pods>" once each Pod bound to that node runs
// ($PK_PODS of them), then ends as $PK_END says: "exit" (process.exit), or
// waits to be killed.
import * as https from 'node:https';

import type { KubeResponse } from './kube.js';
import { startProcessKubelet, type KubeletApi } from './process-kubelet.js';

const { url, ca, adminToken } = JSON.parse(process.env['PK_API'] ?? '{}') as { url: string; ca: string; adminToken: string };

function request<T>(method: string, path: string, body?: unknown): Promise<KubeResponse<T>> {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { authorization: `Bearer ${adminToken}`, accept: 'application/json' };
    if (text !== undefined) headers['content-type'] = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json';
    const req = https.request(new URL(path, url), { method, headers, ca, agent: false, timeout: 10_000 }, (res) => {
      let out = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (out += d));
      res.on('end', () => {
        let parsed: T | undefined;
        try {
          parsed = out ? (JSON.parse(out) as T) : undefined;
        } catch {
          parsed = undefined;
        }
        resolve({ status: res.statusCode ?? 0, body: parsed as T, text: out, headers: res.headers });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(text);
  });
}

const api: KubeletApi = { url, ca, adminToken, request: request as KubeletApi['request'] };
const kubelet = await startProcessKubelet(api, {
  images: JSON.parse(process.env['PK_IMAGES'] ?? '{}') as Record<string, { command: string; args?: string[] }>,
  nodeName: process.env['PK_NODE'] ?? 'child',
  schedule: false,
  keepTempDir: false,
});
const want = Number(process.env['PK_PODS'] ?? 1);
for (let i = 0; i < 300; i++) {
  const pods = kubelet.pods();
  if (pods.length >= want && pods.every((p) => Object.keys(p.pids).length > 0 && p.netns)) {
    console.log(`READY ${JSON.stringify({ pods, bridge: kubelet.bridge.name, dir: kubelet.dir })}`);
    break;
  }
  await new Promise((r) => setTimeout(r, 100));
}
if (process.env['PK_END'] === 'exit') process.exit(0);
// Else: wait to be killed (bounded: the parent kills it within seconds).
setTimeout(() => process.exit(1), 60_000);
