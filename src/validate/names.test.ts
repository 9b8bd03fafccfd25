// The hand-written subdomain check against the rule as the API server's
// regular expressions state it, on chosen names and on random ones.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dnsSubdomainError, hostNameError } from './names.js';

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const byRule = (name: string) => name.length >= 1 && name.length <= 253 && name.split('.').every((l) => l.length <= 63 && LABEL.test(l));

test('subdomains: what the labels rule takes and refuses', () => {
  const ok = ['a', '0', 'a-b', 'a.b', 'a--b.c1', 'x'.repeat(63), `${'a'.repeat(63)}.${'b'.repeat(63)}`, 'app-1.team-2.example.com'];
  const bad = ['', '.', 'a.', '.a', 'a..b', '-a', 'a-', 'a.-b', 'a-.b', 'A', 'a_b', 'a b', 'x'.repeat(64), 'a.b.', 'é', `${'a.'.repeat(126)}ab`];
  for (const name of ok) assert.equal(dnsSubdomainError(name), undefined, name);
  for (const name of bad) assert.notEqual(dnsSubdomainError(name), undefined, JSON.stringify(name));
  assert.equal(hostNameError('10.0.0.1'), 'is an IP address; a DNS name is required');
});

test('subdomains: the same answer as the rule for random names', () => {
  const alphabet = 'ab9-.A_';
  let seed = 12345;
  const next = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 8;
  for (let n = 0; n < 20_000; n++) {
    let name = '';
    const length = next() % 12;
    for (let i = 0; i < length; i++) name += alphabet[next() % alphabet.length];
    assert.equal(dnsSubdomainError(name) === undefined, byRule(name), JSON.stringify(name));
  }
});
