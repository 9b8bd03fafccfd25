// The size the design names: 10,000 Ingresses and 100,000 endpoints. Prints
// the time of a full build; it asserts only that the build is complete, not
// how long it took (timings belong in bench/, not in a pass/fail).

import assert from 'node:assert/strict';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import type { KubeObject } from '../kube/types.js';
import { snapshotOf } from '../cache/snapshot.js';
import { buildConfig } from '../config/config.js';
import { build, buildContext } from './build.js';
import { exact, ingress, ingressClass, prefix, service, slice, tlsSecret } from '../testing/fixtures.js';

const NAMESPACES = 100;
const INGRESSES_PER_NAMESPACE = 100;
const ENDPOINTS_PER_SERVICE = 10;

function bigCluster(): KubeObject[] {
  const objects: KubeObject[] = [ingressClass('ats').build()];
  for (let n = 0; n < NAMESPACES; n++) {
    const ns = `team-${n}`;
    for (let i = 0; i < INGRESSES_PER_NAMESPACE; i++) {
      const name = `app-${i}`;
      // One label below example.com: the fixture certificate's *.example.com covers it.
      const host = `${name}-${ns}.example.com`;
      const ing = ingress(`${ns}/${name}`)
        .className('ats')
        .created(n * INGRESSES_PER_NAMESPACE + i)
        .ats('connect-timeout', '5s')
        .rule(host, prefix('/', name, 'http'), exact('/healthz', name, 'http'))
        .rule('shared.example.com', prefix(`/${ns}/${name}`, name, 'http'));
      if (i % 10 === 0) {
        ing.ats('ssl-redirect', 'true').tls(`${name}-tls`, host);
        objects.push(tlsSecret(`${ns}/${name}-tls`).build());
      }
      objects.push(ing.build(), service(`${ns}/${name}`).port('http', 80, 8080).build());
      const s = slice(`${ns}/${name}`).port('http', 8080);
      for (let e = 0; e < ENDPOINTS_PER_SERVICE; e++) s.ready(`10.${n}.${i}.${e + 1}`);
      objects.push(s.build());
    }
  }
  return objects;
}

test('10,000 Ingresses and 100,000 endpoints: a full build', () => {
  // Through JSON, as the sources hand objects over (and as the API sends them).
  const snapshot = snapshotOf(JSON.parse(JSON.stringify(bigCluster())) as KubeObject[]);
  const times: number[] = [];
  const cpuTimes: number[] = [];
  // As the loop runs builds: one context whose memo of parsed Secrets lasts.
  const context = buildContext();
  let result = build(snapshot, buildConfig(), context); // warm-up
  for (let run = 0; run < 7; run++) {
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    result = build(snapshot, buildConfig(), context);
    const cpu = process.cpuUsage(cpuStart);
    times.push(performance.now() - start);
    cpuTimes.push((cpu.user + cpu.system) / 1000);
  }
  times.sort((a, b) => a - b);
  cpuTimes.sort((a, b) => a - b);
  const endpoints = result.model.table.backends.reduce((sum, b) => sum + b.endpoints.length, 0);
  const rules = result.model.table.hosts.reduce((sum, h) => sum + h.rules.length, 0);
  console.log(
    `build: ${snapshot.ingresses.size} Ingresses, ${rules} rules, ${result.model.table.backends.length} backends, ` +
      `${endpoints} endpoints, ${result.model.tls.certificates.length} certificates: ` +
      `wall min ${times[0]?.toFixed(1)} ms, median ${times[3]?.toFixed(1)} ms, max ${times[6]?.toFixed(1)} ms; ` +
      `CPU min ${cpuTimes[0]?.toFixed(1)} ms, median ${cpuTimes[3]?.toFixed(1)} ms (load average ${loadavg()[0]?.toFixed(1)})`,
  );
  const ingresses = NAMESPACES * INGRESSES_PER_NAMESPACE;
  assert.equal(result.problems.length, 0);
  assert.equal(result.served.length, ingresses);
  assert.equal(rules, ingresses * 3);
  // One backend per Service, and one more (with the redirect) per Service whose host has a certificate.
  assert.equal(result.model.table.backends.length, ingresses * 1.1);
  assert.equal(endpoints, ingresses * 1.1 * ENDPOINTS_PER_SERVICE);
});
