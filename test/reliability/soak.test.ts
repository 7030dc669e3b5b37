/**
 * In CI, `scripts/soak.ts --short` (three instances, a throwaway
 * PostgreSQL, a few hundred logins) exits 0. It exits 2 when no PostgreSQL is available:
 * skipped then, unless REQUIRE_POSTGRES=1 (where the soak fails by itself).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cleanEnv, ROOT, spawnNode, TSX } from '../../harness/processes.js';

const TIMEOUT_MS = 300_000;

test('the short soak runs clean', { timeout: TIMEOUT_MS }, async (t) => {
  const soak = spawnNode(t, ['--import', TSX, 'scripts/soak.ts', '--short'], { env: cleanEnv(), cwd: ROOT });
  const { code, signal } = await soak.waitForExit(TIMEOUT_MS - 10_000);
  const output = `${soak.stdout()}\n${soak.stderr()}`;
  if (code === 2 && process.env.REQUIRE_POSTGRES !== '1') {
    t.skip('no PostgreSQL available');
    return;
  }
  t.diagnostic(soak.stdout().slice(soak.stdout().indexOf('soak summary')));
  assert.equal(signal, null, output);
  assert.equal(code, 0, output);
  assert.match(soak.stdout(), /violations: 0/);
});
