// Least privilege, as shipped: what k8s/traffic-server/ gives each container
// and the service account. The e2e suite runs the controller under exactly
// this RBAC (test/e2e/env.ts reads it); this checks the rest, which no API
// server without a kubelet would show: which container gets the API token,
// and how every container is confined.
//
// Run: bash scripts/build.sh && node --test dist/test/container/deployment.test.js

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { parseAllDocuments } from 'yaml';
import { CONTROLLER_NODE_FLAGS } from '../../src/controller/node-flags.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const DIR = path.join(ROOT, 'k8s/traffic-server');
const TOKEN_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

async function docs(file: string): Promise<any[]> {
  const text = await readFile(path.join(DIR, file), 'utf8');
  return parseAllDocuments(text).map((d) => d.toJS() as any);
}

const deployment = async () => (await docs('30-deployment.yaml')).find((d) => d.kind === 'Deployment');

describe('the shipped Deployment', () => {
  test('no container gets the service-account token but the controller', async () => {
    const spec = (await deployment()).spec.template.spec;
    assert.equal(spec.automountServiceAccountToken, false, 'no pod-level automount: it would reach every container');
    const tokenVolumes = new Set<string>(
      (spec.volumes as any[]).filter((v) => (v.projected?.sources ?? []).some((s: any) => s.serviceAccountToken) || v.secret).map((v) => v.name),
    );
    assert.deepEqual([...tokenVolumes], ['api-token']);
    const byName = new Map<string, any>((spec.containers as any[]).map((c) => [c.name, c]));
    assert.deepEqual([...byName.keys()].sort(), ['ats', 'controller']);
    const tokenMounts = (c: any) => (c.volumeMounts ?? []).filter((m: any) => tokenVolumes.has(m.name) || String(m.mountPath).startsWith('/var/run/secrets'));
    assert.deepEqual(tokenMounts(byName.get('ats')), [], 'the ATS container, which faces the internet, has no API token');
    assert.deepEqual(tokenMounts(byName.get('controller')).map((m: any) => [m.mountPath, m.readOnly]), [[TOKEN_DIR, true]]);
    for (const c of byName.values()) {
      for (const e of c.env ?? []) assert.equal(e.valueFrom?.secretKeyRef, undefined, `${c.name}: env ${e.name} from a Secret`);
      assert.equal(c.envFrom, undefined, `${c.name}: envFrom`);
    }
  });

  test('the controller runs with the Node.js flags the e2e environment and the benches use', async () => {
    const controller = ((await deployment()).spec.template.spec.containers as any[]).find((c) => c.name === 'controller');
    assert.deepEqual(controller.command, ['node', ...CONTROLLER_NODE_FLAGS, '/opt/ats-ingress/dist/src/cli/main.js', 'controller']);
  });

  test('every container runs as a non-root user, read-only, with no capabilities and no privilege escalation', async () => {
    const spec = (await deployment()).spec.template.spec;
    assert.equal(spec.securityContext.runAsNonRoot, true);
    assert.ok(Number(spec.securityContext.runAsUser) > 0);
    assert.equal(spec.securityContext.seccompProfile?.type, 'RuntimeDefault');
    assert.equal(spec.hostNetwork ?? false, false);
    assert.equal(spec.hostPID ?? false, false);
    for (const c of spec.containers as any[]) {
      const sc = c.securityContext ?? {};
      assert.equal(sc.readOnlyRootFilesystem, true, `${c.name}: read-only root`);
      assert.equal(sc.allowPrivilegeEscalation, false, `${c.name}: no privilege escalation`);
      assert.deepEqual(sc.capabilities?.drop, ['ALL'], `${c.name}: every capability dropped`);
      assert.equal(sc.capabilities?.add, undefined, `${c.name}: none added`);
      assert.equal(sc.privileged ?? false, false, `${c.name}: not privileged`);
      assert.ok((c.resources?.limits?.memory ?? '') !== '', `${c.name}: a memory limit`);
    }
  });
});

describe('the shipped RBAC', () => {
  test("the service account has no token of its own, and writes only status, Events, its Lease and the Gateways' Services in its namespace", async () => {
    const all = await docs('10-rbac.yaml');
    const sa = all.find((d) => d.kind === 'ServiceAccount');
    assert.equal(sa.automountServiceAccountToken, false);
    const writes: string[] = [];
    for (const role of all.filter((d) => d.kind === 'ClusterRole' || d.kind === 'Role')) {
      for (const rule of role.rules as any[]) {
        assert.ok(!rule.verbs.includes('*') && !rule.resources.includes('*') && !rule.apiGroups.includes('*'), `${role.kind} ${role.metadata.name}: no wildcards`);
        for (const verb of rule.verbs as string[]) {
          if (['list', 'watch', 'get'].includes(verb)) continue;
          for (const r of rule.resources as string[]) writes.push(`${role.kind}:${r}:${verb}`);
        }
        if ((rule.resources as string[]).includes('secrets')) assert.deepEqual(rule.verbs, ['list', 'watch'], 'Secrets are read, never written');
        if ((rule.resources as string[]).includes('configmaps')) assert.deepEqual(rule.resourceNames, ['ats-records'], 'one ConfigMap, by name');
      }
    }
    const clusterRole = all.find((d) => d.kind === 'ClusterRole');
    const nsRules = (clusterRole.rules as any[]).filter((r) => (r.resources as string[]).includes('namespaces'));
    assert.deepEqual(nsRules.map((r) => [r.apiGroups, r.verbs]), [[[''], ['list', 'watch']]], 'Namespaces are listed and watched (their labels), never written');
    assert.deepEqual(writes.sort(), [
      'ClusterRole:events:create',
      'ClusterRole:events:patch',
      'ClusterRole:gatewayclasses/status:patch',
      'ClusterRole:gateways/status:patch',
      'ClusterRole:httproutes/status:patch',
      'ClusterRole:ingresses/status:patch',
      'Role:leases:create',
      'Role:leases:update',
      'Role:services:create',
      'Role:services:delete',
      'Role:services:patch',
    ]);
  });
});
