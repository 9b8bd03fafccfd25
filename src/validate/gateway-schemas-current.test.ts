// gateway-schemas.ts is generated from the CRDs of the Gateway API release
// pinned in tools/gateway-api/go.mod: this fails when the pin moved (or the
// file was edited) without running `node scripts/gateway-schemas.mjs`. It
// fetches the CRDs through the Go module proxy when they are not cached.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { GATEWAY_API_RELEASE } from './gateway-schemas.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');

test('the Gateway API schemas are the ones the pinned CRDs give', { timeout: 10 * 60_000 }, () => {
  const out = execFileSync('node', [join(ROOT, 'scripts', 'gateway-schemas.mjs'), '--check'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  assert.match(out, new RegExp(`is current \\(Gateway API ${GATEWAY_API_RELEASE.replace(/\./g, '\\.')}\\)`));
});
