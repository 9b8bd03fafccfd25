// The demo's manifests: the walkthrough's IngressClass and Ingresses (as in
// k8s/ingresses/), Services, and one EndpointSlice per local demo pod.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface DemoPod {
  namespace: string;
  service: string;
  pod: string;
  address: string;
  port: number;
}

export const INGRESS_CLASS = `apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: ats
  annotations:
    ingressclass.kubernetes.io/is-default-class: "false"
spec:
  controller: ats.ingress.kubernetes.io/controller
`;

export function serviceManifests(pods: readonly DemoPod[]): string {
  const services = [...new Set(pods.map((p) => `${p.namespace}/${p.service}`))];
  const docs: string[] = [];
  for (const key of services) {
    const [namespace, name] = key.split('/') as [string, string];
    docs.push(`apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  ports: [{name: http, port: 8080, targetPort: 8080}]
`);
  }
  // Local pods listen on different ports, so each gets its own slice (a
  // slice's ports apply to all of its endpoints).
  for (const p of pods) {
    docs.push(`apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: ${p.service}-${p.pod}
  namespace: ${p.namespace}
  labels: {kubernetes.io/service-name: ${p.service}, endpointslice.kubernetes.io/managed-by: ats-ingress-demo}
addressType: IPv4
ports: [{name: http, port: ${p.port}, protocol: TCP}]
endpoints:
- addresses: [${p.address}]
  conditions: {ready: true}
  targetRef: {kind: Pod, namespace: ${p.namespace}, name: ${p.pod}}
`);
  }
  return docs.join('---\n');
}

/** The walkthrough's Ingresses, read from k8s/ingresses/ so the demo runs what ships. */
export async function walkthroughIngresses(root: string): Promise<string> {
  const files = ['trafficserver-test-2.yaml', 'trafficserver-test-3.yaml'];
  const texts = await Promise.all(files.map((f) => readFile(join(root, 'k8s', 'ingresses', f), 'utf8')));
  return texts.join('\n---\n');
}

/** The walkthrough's tls-secret, holding the demo's self-signed certificate. */
export function tlsSecret(namespace: string, name: string, pem: { cert: string; key: string }): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return `apiVersion: v1
kind: Secret
metadata: {name: ${name}, namespace: ${namespace}}
type: kubernetes.io/tls
data:
  tls.crt: ${b64(pem.cert)}
  tls.key: ${b64(pem.key)}
`;
}

/**
 * The caching example (README, "Caching"): static pages whose app sends no
 * Cache-Control, kept for a minute by the cache-default-ttl annotation.
 */
export const CACHE_EXAMPLE = { namespace: 'trafficserver-test-2', service: 'assets', host: 'test.assets.com', ttl: '60s' } as const;

export function cacheExampleIngress(): string {
  const c = CACHE_EXAMPLE;
  return `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: assets-ingress
  namespace: ${c.namespace}
  annotations:
    ats.ingress.kubernetes.io/cache-default-ttl: "${c.ttl}"
spec:
  ingressClassName: ats
  rules:
  - host: ${c.host}
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service: {name: ${c.service}, port: {number: 8080}}
`;
}
