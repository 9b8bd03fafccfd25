// `ats-ingress controller --manifests DIR --once --json`: one JSON object with
// the routes, the problems and, per object, the status the controller would
// write, keyed "<Kind> <namespace>/<name>" ("GatewayClass <name>").
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import type { Condition } from '../kube/types.js';
import { RouteTable } from '../route-table/route-table.js';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('./main.js', import.meta.url));

const MANIFESTS = `
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: { name: ats }
spec: { controller: ats.ingress.kubernetes.io/controller }
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: app }
spec: { ports: [{ name: http, port: 80 }] }
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: web, namespace: app }
spec:
  ingressClassName: ats
  rules: [{ host: ingress.example.test, http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: web, port: { number: 80 } } } }] } }]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: theirs, namespace: app }
spec:
  ingressClassName: other
  rules: [{ host: theirs.example.test, http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: web, port: { number: 80 } } } }] } }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: { name: ats, generation: 1 }
spec: { controllerName: ats.ingress.kubernetes.io/gateway-controller }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: gw, namespace: infra, generation: 2 }
spec:
  gatewayClassName: ats
  listeners:
  - { name: http, port: 80, protocol: HTTP, allowedRoutes: { namespaces: { from: All } } }
  - { name: odd, port: 8080, protocol: HTTP }
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: web, namespace: app, generation: 3 }
spec:
  parentRefs: [{ name: gw, namespace: infra }]
  hostnames: [gateway.example.test]
  rules: [{ backendRefs: [{ name: web, port: 80 }, { name: gone, port: 80 }] }]
`;

const conds = (list: readonly Condition[]) => Object.fromEntries(list.map((c) => [c.type, `${c.status}/${c.reason}@${c.observedGeneration}`]));

describe('controller --once --json', () => {
  let dir: string;
  const table = `t-once-json-${process.pid}`;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'atsi-once-'));
    await writeFile(join(dir, 'objects.yaml'), MANIFESTS);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
    const rt = RouteTable.open(table);
    rt.remove();
    rt.close();
  });

  test('the routes, the problems, and the status of each Ingress, GatewayClass, Gateway and HTTPRoute', async () => {
    const { stdout } = await run(process.execPath, [BIN, 'controller', '--manifests', dir, '--once', '--json', '--table', table, '--publish-address', '192.0.2.10', '--log-level', 'error'], { timeout: 30_000 });
    const out = JSON.parse(stdout);
    assert.equal(out.table, table);
    assert.match(out.generation, /^[0-9]+$/);
    assert.deepEqual(out.routes.hosts.map((h: { name: string }) => h.name), ['ingress.example.test']);
    assert.ok(out.problems.some((p: { kind: string; name: string; message: string }) => p.kind === 'Gateway' && /port 8080/.test(p.message)), JSON.stringify(out.problems));

    assert.deepEqual(Object.keys(out.status), ['Ingress app/web', 'GatewayClass ats', 'Gateway infra/gw', 'HTTPRoute app/web'], 'the Ingress of another class is not ours to write');
    assert.deepEqual(out.status['Ingress app/web'], { loadBalancer: { ingress: [{ ip: '192.0.2.10' }] } });
    assert.deepEqual(conds(out.status['GatewayClass ats'].conditions), { Accepted: 'True/Accepted@1' });

    const gw = out.status['Gateway infra/gw'];
    assert.deepEqual(conds(gw.conditions), { Accepted: 'True/ListenersNotValid@2', Programmed: 'True/Programmed@2' }, 'published counts as served');
    assert.deepEqual(gw.addresses, [{ type: 'IPAddress', value: '127.0.1.1' }]);
    assert.deepEqual(gw.listeners.map((l: { name: string; attachedRoutes: number; conditions: Condition[] }) => [l.name, l.attachedRoutes, conds(l.conditions).Accepted]), [['http', 1, 'True/Accepted@2'], ['odd', 0, 'False/PortUnavailable@2']]);

    const [parent, ...more] = out.status['HTTPRoute app/web'].parents;
    assert.equal(more.length, 0);
    assert.deepEqual(parent.parentRef, { group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'infra', name: 'gw' });
    assert.equal(parent.controllerName, 'ats.ingress.kubernetes.io/gateway-controller');
    assert.deepEqual(conds(parent.conditions), { Accepted: 'True/Accepted@3', ResolvedRefs: 'False/BackendNotFound@3' });
  });

  test('a manifests run never loads @kubernetes/client-node (most of a second of start-up)', async () => {
    // A resolve hook that refuses client-node: the run must succeed with it,
    // and the same hook must stop a plain import of it (or it tests nothing).
    const hooks = `export async function resolve(specifier, context, next) {
      if (specifier === '@kubernetes/client-node' || specifier.startsWith('@kubernetes/client-node/')) throw new Error('refused: @kubernetes/client-node');
      return next(specifier, context);
    }`;
    const register = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)});`;
    const refuse = ['--import', `data:text/javascript,${encodeURIComponent(register)}`];
    const { stdout } = await run(process.execPath, [...refuse, BIN, 'controller', '--manifests', dir, '--once', '--json', '--table', table, '--log-level', 'error'], { timeout: 30_000 });
    assert.deepEqual(JSON.parse(stdout).routes.hosts.map((h: { name: string }) => h.name), ['ingress.example.test']);
    const repo = fileURLToPath(new URL('../../..', import.meta.url));
    await assert.rejects(run(process.execPath, [...refuse, '--input-type=module', '-e', "await import('@kubernetes/client-node')"], { cwd: repo, timeout: 30_000 }), /refused: @kubernetes\/client-node/);
  });

  test('--json without --once is refused', async () => {
    await assert.rejects(run(process.execPath, [BIN, 'controller', '--manifests', dir, '--json'], { timeout: 10_000 }), /--json goes with --once/);
  });
});
