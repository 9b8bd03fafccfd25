// The flags the controller's Node.js runs with, wherever it is started for
// real: the Deployment (k8s/traffic-server/30-deployment.yaml, checked
// against this list by test/container/deployment.test.ts), the e2e
// environment and the benches. Node refuses them in NODE_OPTIONS, so they
// go on the command line.
//
// --min-semi-space-size=16: V8's memory reducer, once the controller has
// idled for a while after a burst, shrinks the young generation to its smallest,
// and the next big build pays to grow it again. At 10,000 Ingresses the
// first new Ingress after the reducer took 169-272 ms, against 106-198 ms
// (four runs) with the young generation kept at its largest (16 MiB, V8's default
// maximum here), for an idle RSS of 195 against 194 MiB (bench/README.md,
// 2026-12-03).
export const CONTROLLER_NODE_FLAGS: readonly string[] = ['--min-semi-space-size=16'];
