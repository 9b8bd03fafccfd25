// No HTTPRoute, however odd, stops a table from being published: random
// values where the CRDs give no pattern (header and query values, filter
// values, paths as the manifests source may let through), and everything
// the builder reads, built with the rest of the objects and published
// through the addon, which checks as the plugin's reader does. What the
// table cannot hold is left out by the builder and reported, and every
// other route is still served.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { buildConfig } from '../config/config.js';
import { build } from '../model/build.js';
import { app, snapshotFrom, type ObjectLike } from '../testing/fixtures.js';
import { backend, gateway, gatewayClass, httpRoute, match, prefixPath } from '../testing/gateway-fixtures.js';
import type { HTTPRouteFilter, HTTPRouteMatch } from '../kube/types.js';
import { RouteTable } from './route-table.js';
import { pick, rng } from '../testing/random.js';

const SEEDS = 40;

const table = RouteTable.open(`t-gwhostile-${process.pid}`);
after(() => {
  table.remove();
  table.close();
});


const NASTY = ['', ' ', 'a\r\nInjected: 1', 'nul\0byte', 'tab\there', 'ü-é', '?q=1', '#frag', '/ok', '/a b', '/%00', '/..;/x', 'x'.repeat(5000), '/' + 'y'.repeat(9000), '\u2028', '*', ':', 'a,b', '"quoted"'];


function nastyFilter(r: () => number): HTTPRouteFilter {
  switch (Math.floor(r() * 5)) {
    case 0:
      return { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: pick(r, ['X-A', 'bad name', '']), value: pick(r, NASTY) }], add: [{ name: 'X-B', value: pick(r, NASTY) }], remove: [pick(r, ['X-C', 'bad name'])] } };
    case 1:
      return { type: 'ResponseHeaderModifier', responseHeaderModifier: { set: [{ name: 'X-R', value: pick(r, NASTY) }] } };
    case 2:
      return { type: 'RequestRedirect', requestRedirect: { path: { type: pick(r, ['ReplaceFullPath', 'ReplacePrefixMatch']), replaceFullPath: pick(r, NASTY), replacePrefixMatch: pick(r, NASTY) }, statusCode: pick(r, [301, 302, 404, 999]), ...(r() < 0.3 ? { scheme: pick(r, ['http', 'ftp']) } : {}) } };
    case 3:
      return { type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: pick(r, NASTY) } } };
    default:
      return { type: pick(r, ['RequestMirror', 'ExtensionRef', 'CORS']) } as HTTPRouteFilter;
  }
}

function nastyMatch(r: () => number): HTTPRouteMatch {
  return match({
    path: prefixPath(r() < 0.5 ? '/ok' : pick(r, NASTY)),
    ...(r() < 0.5 ? { headers: [{ type: 'Exact', name: pick(r, ['X-H', 'x-h']), value: pick(r, NASTY) }] } : {}),
    ...(r() < 0.5 ? { queryParams: [{ type: 'Exact', name: pick(r, ['q', 'bad name']), value: pick(r, NASTY) }] } : {}),
  });
}

test('random hostile HTTPRoutes never stop the table from being published, and a good route beside them keeps serving', () => {
  let leftOut = 0;
  for (let seed = 1; seed <= SEEDS; seed++) {
    const r = rng(seed);
    const objects: ObjectLike[] = [
      gatewayClass('ats'), ...app('app/web', 80, 8080, '10.0.0.1'),
      gateway('app/gw').listener('http', 80),
      httpRoute('app/good').parent('app/gw').hostnames('good.test').rule({ matches: [match({ path: prefixPath('/') })], backends: [backend('web', 80)] }),
    ];
    for (let i = 0; i < 4; i++) {
      const route = httpRoute(`app/bad${i}`).parent('app/gw');
      for (let k = 0; k < 3; k++) route.rule({ matches: [nastyMatch(r)], filters: [nastyFilter(r)], backends: [backend('web', 80)] });
      objects.push(route);
    }
    const result = build(snapshotFrom(objects), buildConfig());
    leftOut += result.problems.filter((p) => p.kind === 'HTTPRoute').length;
    assert.doesNotThrow(() => table.publish(result.model.table), `seed ${seed}`);
    const good = table.lookup('good.test', '/x', { localAddress: result.gateway.addresses.get('app/gw')!, localPort: 80 });
    assert.equal(good.status, 200, `seed ${seed}: ${good.reason ?? ''}`);
    assert.equal(good.gateway?.route, 'app/good', `seed ${seed}`);
  }
  assert.ok(leftOut > SEEDS, `only ${leftOut} problems reported: the cases are not hostile enough`);
});
