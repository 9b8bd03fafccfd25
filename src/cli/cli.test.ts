import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { X509Certificate } from 'node:crypto';
import { RouteTable, type TableModel } from '../route-table/route-table.js';
import { CA_CERT, FIXTURE_CERT, FIXTURE_KEY } from '../testing/fixture-certs.js';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('./main.js', import.meta.url));

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { timeout: 20_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const model: TableModel = {
  backends: [
    { service: 'trafficserver-test-2/appsvc1', port: '8080', scheme: 'http', endpoints: [{ address: '127.0.0.1', port: 9001 }, { address: '::1', port: 9002 }] },
    { service: 'trafficserver-test-3/appsvc2', port: 'http', scheme: 'http', endpoints: [] },
  ],
  hosts: [
    {
      name: 'test.edge.com',
      rules: [
        { path: '/app1', pathType: 'Prefix', backend: 0, source: 'trafficserver-test-2/app-ingress' },
        { path: '/app2', pathType: 'Exact', backend: 1, source: 'trafficserver-test-3/app-ingress' },
      ],
    },
  ],
};

describe('ats-ingress routes and lookup', () => {
  const name = `t-cli-${process.pid}`;
  let table: RouteTable;
  before(() => {
    table = RouteTable.open(name);
    table.publish(model);
  });
  after(() => {
    table.remove();
    table.close();
  });

  it('lookup --json gives status, service, servicePort, endpoint, endpoints and rule', async () => {
    const r = await cli('lookup', '--table', name, '--json', 'TEST.edge.com:30000', '/app1/x');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
      status: 200,
      generation: '1',
      service: 'trafficserver-test-2/appsvc1',
      servicePort: '8080',
      scheme: 'http',
      endpoints: ['127.0.0.1:9001', '[::1]:9002'],
      endpoint: '127.0.0.1:9001',
      rule: { host: 'test.edge.com', path: '/app1', pathType: 'Prefix', source: 'trafficserver-test-2/app-ingress' },
    });
  });

  it('lookup --json reports 503 and 404 with a reason and no endpoint', async () => {
    const r503 = JSON.parse((await cli('lookup', '--table', name, '--json', 'test.edge.com', '/app2')).stdout);
    assert.equal(r503.status, 503);
    assert.equal(r503.servicePort, 'http');
    assert.equal(r503.endpoint, undefined);
    assert.deepEqual(r503.endpoints, []);
    assert.equal(r503.reason, 'no ready endpoints for this backend');
    const r404 = JSON.parse((await cli('lookup', '--table', name, '--json', 'test.edge.com', '/app2/x')).stdout);
    assert.equal(r404.status, 404);
    assert.equal(r404.reason, 'no route for this path');
  });

  it('lookup in text names the rule and the endpoint', async () => {
    const r = await cli('lookup', '--table', name, 'test.edge.com', '/app1');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^200 test\.edge\.com \/app1/);
    assert.match(r.stdout, /Prefix \/app1, from trafficserver-test-2\/app-ingress/);
    assert.match(r.stdout, /endpoint: {2}127\.0\.0\.1:9001 first, of 2/);
  });

  it('routes prints the live table as text and JSON', async () => {
    const text = await cli('routes', '--table', name);
    assert.equal(text.code, 0);
    assert.match(text.stdout, /^generation 1, built /);
    assert.match(text.stdout, /1 hosts, 2 rules, 2 backends, 2 endpoints/);
    assert.match(text.stdout, /Prefix +\/app1 +trafficserver-test-2\/appsvc1:8080 -> 127\.0\.0\.1:9001 \[::1\]:9002/);
    assert.match(text.stdout, /503: no ready endpoints/);
    const json = JSON.parse((await cli('routes', '--table', name, '--json')).stdout);
    assert.equal(json.generation, '1');
    assert.deepEqual(json.hosts, model.hosts);
  });

  it('routes shows what the TLS table serves each name, and never a private key', async () => {
    const none = await cli('routes', '--table', name);
    assert.match(none.stdout, /TLS: no TLS table published/);
    table.publishTls({
      certificates: [{ secret: 'trafficserver-test-3/tls-secret', chainPem: FIXTURE_CERT, keyPem: FIXTURE_KEY, notAfter: Date.parse(new X509Certificate(FIXTURE_CERT).validTo) }],
      policies: [{ verifyClient: 'on', caPem: CA_CERT, verifyDepth: 1, minVersion: 'TLSv1.3' }],
      hosts: [{ name: 'test.edge.com', certificate: 0, policy: 0 }, { name: 'test.media.com' }],
    });
    const text = await cli('routes', '--table', name);
    const json = await cli('routes', '--table', name, '--json');
    for (const out of [text.stdout, json.stdout]) {
      assert.doesNotMatch(out, /PRIVATE KEY/);
      assert.ok(!out.includes(FIXTURE_KEY.split('\n')[1]!), 'no line of the key');
    }
    const fingerprint = new X509Certificate(FIXTURE_CERT).fingerprint256;
    assert.match(text.stdout, new RegExp(`test\\.edge\\.com\\s+trafficserver-test-3/tls-secret \\(CN=fixture\\.test, until 2126-.*, SHA-256 ${fingerprint}\\); client certificates on, depth 1, minimum TLSv1\\.3`));
    assert.match(text.stdout, /test\.media\.com\s+the default certificate/);
    const tls = JSON.parse(json.stdout).tls;
    assert.deepEqual(tls.hosts[1], { name: 'test.media.com', certificate: 'default' });
    assert.equal(tls.hosts[0].certificate.sha256, fingerprint);
  });

  it('errors say what was wrong and what to do, with a non-zero exit', async () => {
    const missing = await cli('lookup', '--table', `t-cli-none-${process.pid}`, 'a.com', '/');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no table has been published under the name "t-cli-none-\d+"/);
    assert.match(missing.stderr, /ats-ingress controller --table/);
    const args = await cli('lookup', '--table', name, 'only-host');
    assert.equal(args.code, 2);
    assert.match(args.stderr, /expected HOST and PATH/);
    const badName = await cli('routes', '--table', 'a/b');
    assert.equal(badName.code, 2);
    assert.match(badName.stderr, /must be 1 to 64 letters/);
    const unknown = await cli('frobnicate');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
    const flag = await cli('routes', '--nope');
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /Unknown option '--nope'/);
  });
});

describe('ats-ingress ats-runroot', () => {
  it('writes the cache the flags ask for, and refuses sizes it cannot use, naming the flag', async () => {
    const { mkdtemp, readFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(`${tmpdir()}/atsi-runroot-`);
    try {
      const ok = await cli('ats-runroot', '--dir', dir, '--plugin', '/p/ats_ingress.so', '--cache-dir', `${dir}/disk`, '--cache-size', '1Gi', '--ram-cache-size', '128Mi');
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /cache: 1Gi on disk, 128Mi of RAM/);
      assert.equal(await readFile(`${dir}/etc/storage.config`, 'utf8'), `${dir}/disk 1024M\n`);
      assert.match(await readFile(`${dir}/etc/records.config`, 'utf8'), /^CONFIG proxy\.config\.cache\.ram_cache\.size INT 134217728$/m);
      const gw = await cli('ats-runroot', '--dir', dir, '--plugin', '/p/ats_ingress.so', '--gateway-port-range', '20000-20003');
      assert.equal(gw.code, 0, gw.stderr);
      assert.match(await readFile(`${dir}/etc/records.config`, 'utf8'), /server_ports STRING 8080:ip-in=0\.0\.0\.0 8443:ssl:ip-in=0\.0\.0\.0 20000:ip-in=0\.0\.0\.0 20001:ssl:ip-in=0\.0\.0\.0 20002:ip-in=0\.0\.0\.0 20003:ssl:ip-in=0\.0\.0\.0$/m);
      const off = await cli('ats-runroot', '--dir', dir, '--plugin', '/p/ats_ingress.so', '--cache-size', '0');
      assert.match(off.stdout, /cache: off/);
      assert.equal(await readFile(`${dir}/etc/storage.config`, 'utf8'), '');
      for (const [flag, value, message] of [
        ['--cache-size', '1Mi', /--cache-size: "1Mi" is less than 64Mi/],
        ['--cache-size', 'big', /--cache-size: "big" is not a size such as 256Mi/],
        ['--ram-cache-size', '1.5Gi', /--ram-cache-size: "1.5Gi" is not a size/],
        ['--cache-dir', 'relative', /--cache-dir "relative": expected an absolute path/],
        ['--gateway-port-range', '20000-20002', /--gateway-port-range "20000-20002" holds 3 ports: an even number is needed/],
      ] as const) {
        const bad = await cli('ats-runroot', '--dir', dir, '--plugin', '/p/ats_ingress.so', flag, value);
        assert.notEqual(bad.code, 0);
        assert.match(bad.stderr, message);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('ats-ingress lookup of a Gateway listener', () => {
  const name = `t-cli-gw-${process.pid}`;
  let table: RouteTable;
  const gwModel: TableModel = {
    ...model,
    gateway: {
      listeners: [
        {
          gateway: 'infra/gw', listener: 'http', address: '127.0.1.1', port: 18080, listenerPort: 80, protocol: 'HTTP', hostname: '',
          entries: [
            { hostname: 'shop.test', pathType: 'PathPrefix', path: '/cart', method: 'POST', headers: [{ name: 'x-canary', value: 'yes' }], queryParams: [], rule: 1 },
            { hostname: 'shop.test', pathType: 'PathPrefix', path: '/', headers: [], queryParams: [], rule: 0 },
          ],
        },
      ],
      rules: [
        { route: 'shop/main', ruleIndex: 0, filters: [], choices: [{ backend: 0, weight: 1, filters: [] }] },
        { route: 'shop/canary', ruleIndex: 2, filters: [{ type: 'RequestHeaderModifier', edits: { set: [{ name: 'X-Canary', value: '1' }], add: [], remove: [] } }], choices: [{ backend: 0, weight: 1, filters: [] }] },
      ],
    },
  };
  before(() => {
    table = RouteTable.open(name);
    table.publish(gwModel);
  });
  after(() => {
    table.remove();
    table.close();
  });

  it('--listener-port sends the request to the Gateway: method and headers pick the rule, whose filters are shown', async () => {
    const canary = JSON.parse((await cli('lookup', '--table', name, '--json', '--listener-port', '80', '--method', 'POST', '--header', 'X-Canary: yes', 'shop.test', '/cart/1')).stdout);
    assert.equal(canary.status, 200);
    assert.deepEqual([canary.gateway.gateway, canary.gateway.listener, canary.gateway.route, canary.gateway.ruleIndex], ['infra/gw', 'http', 'shop/canary', 2]);
    assert.equal(canary.gateway.filters[0].type, 'RequestHeaderModifier');
    const main = JSON.parse((await cli('lookup', '--table', name, '--json', '--listener-port', '80', 'shop.test', '/cart/1')).stdout);
    assert.equal(main.gateway.route, 'shop/main');
    const text = await cli('lookup', '--table', name, '--gateway', 'infra/gw', '--listener-port', '80', '--method', 'POST', '--header', 'x-canary: yes', 'shop.test', '/cart');
    assert.match(text.stdout, /route: {5}HTTPRoute shop\/canary, rule 2/);
    assert.match(text.stdout, /filter: {4}RequestHeaderModifier \(set X-Canary: 1\)/);
    const none = JSON.parse((await cli('lookup', '--table', name, '--json', '--listener-port', '80', 'other.test', '/')).stdout);
    assert.equal(none.status, 404);
  });

  it('--listener-port reaches a Gateway on every local address (a cluster\'s), and routes shows it as *', async () => {
    const any = structuredClone(gwModel);
    any.gateway!.listeners[0]!.address = '*';
    any.gateway!.listeners[0]!.port = 20000;
    const t = RouteTable.open(`${name}-any`);
    try {
      t.publish(any);
      const r = JSON.parse((await cli('lookup', '--table', `${name}-any`, '--json', '--listener-port', '80', 'shop.test', '/cart/1')).stdout);
      assert.deepEqual([r.status, r.gateway.gateway, r.gateway.route], [200, 'infra/gw', 'shop/main']);
      assert.match((await cli('routes', '--table', `${name}-any`)).stdout, /Gateway infra\/gw listener http: HTTP port 80 on \*:20000, any host/);
    } finally {
      t.remove();
      t.close();
    }
  });

  it('says what is wrong with a listener port, a Gateway or a header it cannot use', async () => {
    const port = await cli('lookup', '--table', name, '--listener-port', '443', 'shop.test', '/');
    assert.notEqual(port.code, 0);
    assert.match(port.stderr, /Gateway infra\/gw has no listener on port 443 \(it has 80\)/);
    const gw = await cli('lookup', '--table', name, '--gateway', 'infra/nope', '--listener-port', '80', 'shop.test', '/');
    assert.match(gw.stderr, /Gateway infra\/nope has no listener/);
    const header = await cli('lookup', '--table', name, '--header', 'no colon', 'shop.test', '/');
    assert.match(header.stderr, /--header "no colon": expected 'NAME: VALUE'/);
  });

  it('routes lists the Gateway listener and its pool', async () => {
    const r = await cli('routes', '--table', name);
    assert.match(r.stdout, /Gateway infra\/gw listener http: HTTP port 80 on 127\.0\.1\.1:18080, any host/);
    assert.match(r.stdout, /shop\.test +PathPrefix +\/cart +\[POST x-canary: yes\] \{RequestHeaderModifier\}/);
  });
});
