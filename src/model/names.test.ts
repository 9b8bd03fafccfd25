// The builder (parsePath, TypeScript) and the plugin (normalize_path and the
// lookup, C++ through the addon) must agree on every rule path: a path the
// builder keeps is stored as the plugin normalises the request spelt like
// the rule, so that request reaches it; a path the builder reports is one
// the plugin never matches as written. Inputs are random strings of the
// spellings that mean something to either side.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';

import { RouteTable, type TableModel, type TableRule } from '../route-table/route-table.js';
import { isInvalid } from '../validate/invalid.js';
import { parsePath } from './names.js';

const TOKENS = [
  'a', 'A', 'x', '/', '/', '/', '.', '..', ';', ';x=1', '~', '-', '_', '%', '2', 'e', 'E', 'f', '6', '1',
  '%2e', '%2E', '%2e%2e', '%61', '%41', '%7e', '%7E', '%2f', '%2F', '%3b', '%3B', '%25', '%00', '%c3%a9', '%6', '%g1',
];

/** A deterministic generator (a linear congruential one): the same inputs on every run. */
function inputs(count: number): string[] {
  let seed = 12;
  const next = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const out = new Set<string>(['/', '/a;x/../../b', '/%61', '/a/..;/b', '/a/%2e%2e;x', '/a%2fb', '/..;', '/%%61e']);
  // Bounded: a generator that repeated itself would otherwise never end.
  for (let tries = 0; out.size < count && tries < count * 20; tries++) {
    let s = '/';
    for (let n = 1 + next(10); n > 0; n--) s += TOKENS[next(TOKENS.length)];
    out.add(s);
  }
  return [...out];
}

/**
 * The path as ATS hands it to the plugin: ATS drops an empty parameter part
 * ("/a;" is "/a", test/plugin/walkthrough.test.ts), before any lookup.
 */
function asAtsHandsIt(path: string): string {
  return path.indexOf(';') === path.length - 1 ? path.slice(0, -1) : path;
}

const tables: RouteTable[] = [];
after(() => {
  for (const t of tables) {
    t.remove();
    t.close();
  }
});

describe('parsePath agrees with the plugin\'s normalize_path on every input', () => {
  it('a kept path is what the request spelt like the rule normalises to; a reported one is never matched as written', () => {
    const all = inputs(4000);
    const kept = { Exact: new Map<string, string>(), Prefix: new Map<string, string>() };
    const reported = new Set<string>();
    for (const text of all) {
      for (const type of ['Exact', 'Prefix'] as const) {
        const p = parsePath(text, type);
        if (isInvalid(p)) {
          assert.match(p.invalid, /no request can match it$/, text);
          if (type === 'Exact') reported.add(text);
        } else {
          kept[type].set(text, p);
        }
      }
    }
    // Both kinds are well represented.
    assert.ok(kept.Exact.size > 1000 && reported.size > 100, `${kept.Exact.size} kept, ${reported.size} reported`);
    const rules = (paths: Iterable<string>, pathType: TableRule['pathType']): TableRule[] =>
      [...new Set(paths)].map((path) => ({ path, pathType, backend: 0, source: 'ns/names' }));
    const model: TableModel = {
      backends: [{ service: 'ns/names', port: '80', scheme: 'http', endpoints: [{ address: '10.0.0.1', port: 80 }] }],
      hosts: [
        { name: 'exact.test', rules: rules(kept.Exact.values(), 'Exact') },
        { name: 'prefix.test', rules: rules(kept.Prefix.values(), 'Prefix') },
        { name: 'reported.test', rules: rules(reported, 'Exact') },
      ],
    };
    const t = RouteTable.open(`t-ts-names-${process.pid}`);
    tables.push(t);
    t.publish(model);
    for (const [type, host] of [['Exact', 'exact.test'], ['Prefix', 'prefix.test']] as const) {
      for (const [text, path] of kept[type]) {
        // A Prefix "/a;" is reached by "/a;/", whose parameter part is "/".
        const changed = asAtsHandsIt(text) !== text;
        if (changed) assert.equal(type, 'Prefix', `${JSON.stringify(text)}: an Exact path that ATS would change is kept`);
        const request = changed ? `${text}/` : text;
        const r = t.lookup(host, request);
        assert.equal(r.status, 200, `${type} ${JSON.stringify(text)} (kept as ${JSON.stringify(path)}): ${r.reason}`);
        assert.deepEqual([r.rule?.path, r.rule?.pathType], [path, type], `${type} ${JSON.stringify(text)}`);
      }
    }
    for (const text of reported) {
      const r = t.lookup('reported.test', asAtsHandsIt(text));
      assert.notEqual(r.rule?.path, text, `${JSON.stringify(text)} is reported, yet the request spelt so matches it`);
    }
  });

  it('a path with a "." or ".." segment before a ";" is reported, and the plugin answers 400 to such a request', () => {
    const t = RouteTable.open(`t-ts-names-400-${process.pid}`);
    tables.push(t);
    t.publish({
      backends: [{ service: 'ns/names', port: '80', scheme: 'http', endpoints: [{ address: '10.0.0.1', port: 80 }] }],
      hosts: [{ name: 'a.test', rules: [{ path: '/', pathType: 'Prefix', backend: 0, source: 'ns/names' }] }],
    });
    for (const text of ['/public/..;/admin', '/a/.;jsessionid=1', '/a/%2E%2e;x/b']) {
      assert.ok(isInvalid(parsePath(text, 'Prefix')), text);
      const r = t.lookup('a.test', text);
      assert.equal(r.status, 400, text);
      assert.match(r.reason ?? '', /^ambiguous path/, text);
    }
  });
});
