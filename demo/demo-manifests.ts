// The demo's manifests: the walkthrough's IngressClass and Ingresses (as in
// k8s/ingresses/), Services, one EndpointSlice per local demo pod, and a
// Gateway API example on the same apps.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_GATEWAY_CONTROLLER_NAME } from '../src/config/config.js';

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

/**
 * The Gateway API example: our GatewayClass, one Gateway with an HTTP
 * listener on port 80 (served on the demo's http port, at the Gateway's own
 * address), and two HTTPRoutes on the walkthrough's apps in its namespace: a
 * header-matched canary that adds a request header (the demo apps send
 * `X-Demo-*` request headers back, so it shows in `curl -v`), and a
 * weighted split.
 */
export const GATEWAY_EXAMPLE = {
  namespace: 'trafficserver-test-2',
  gateway: 'demo-gateway',
  host: 'gw.media.com',
  canaryHeader: { name: 'X-Canary', value: 'true' },
  /** What the canary rule adds to the request: the demo apps echo it. */
  addedHeader: { name: 'X-Demo-Route', value: 'canary' },
  echoPrefix: 'x-demo-',
  splitPath: '/split',
  /** appsvc1's and appsvc2's weights on the split path. */
  split: { appsvc1: 80, appsvc2: 20 },
} as const;

export function gatewayExample(): string {
  const g = GATEWAY_EXAMPLE;
  return `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: ats}
spec:
  controllerName: ${DEFAULT_GATEWAY_CONTROLLER_NAME}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: ${g.gateway}, namespace: ${g.namespace}}
spec:
  gatewayClassName: ats
  listeners:
  - {name: http, port: 80, protocol: HTTP}
---
# /app1 goes to appsvc1; with ${g.canaryHeader.name}: ${g.canaryHeader.value} it goes to the canary,
# appsvc2, which is told so by a request header (more header matches win).
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: media-canary, namespace: ${g.namespace}}
spec:
  parentRefs: [{name: ${g.gateway}}]
  hostnames: [${g.host}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /app1}}]
    backendRefs: [{name: appsvc1, port: 8080}]
  - matches:
    - path: {type: PathPrefix, value: /app1}
      headers: [{name: ${g.canaryHeader.name}, value: "${g.canaryHeader.value}"}]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier:
        set: [{name: ${g.addedHeader.name}, value: ${g.addedHeader.value}}]
    backendRefs: [{name: appsvc2, port: 8080}]
---
# ${g.splitPath}: ${g.split.appsvc1}% of requests to appsvc1, ${g.split.appsvc2}% to appsvc2.
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: media-split, namespace: ${g.namespace}}
spec:
  parentRefs: [{name: ${g.gateway}}]
  hostnames: [${g.host}]
  rules:
  - matches: [{path: {type: PathPrefix, value: ${g.splitPath}}}]
    backendRefs:
    - {name: appsvc1, port: 8080, weight: ${g.split.appsvc1}}
    - {name: appsvc2, port: 8080, weight: ${g.split.appsvc2}}
`;
}
