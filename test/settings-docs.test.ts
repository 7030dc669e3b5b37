/**
 * .env.example is what `npm run env-example` writes from the settings table: when a setting is
 * added or changed, this fails until the script is run again. And the file works as a .env.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { renderEnvExample } from '../scripts/env-example.js';
import { loadConfig, SETTINGS } from '../src/config.js';

const committed = readFileSync(fileURLToPath(new URL('../.env.example', import.meta.url)), 'utf8');

test('.env.example is what `npm run env-example` writes (run it after changing a setting)', () => {
  assert.equal(committed, renderEnvExample(), 'run `npm run env-example` and commit .env.example');
});

test('it names every setting once, required ones to fill in, the others commented out', () => {
  const names = [...committed.matchAll(/^(?:# )?([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]!);
  assert.deepEqual(
    names,
    SETTINGS.map((s) => s.env),
  );
  const active = [...committed.matchAll(/^([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]!);
  assert.deepEqual(
    active,
    SETTINGS.filter((s) => s.required).map((s) => s.env),
  );
});

test('every default it shows is accepted, and uncommenting them all changes nothing', () => {
  const shown = Object.fromEntries(
    [...committed.matchAll(/^# ([A-Z][A-Z0-9_]+)=(.+)$/gm)].map((m) => [m[1]!, m[2]!]),
  );
  const credentials = { POSTIZ_OAUTH_CLIENT_ID: 'pca_example', POSTIZ_OAUTH_CLIENT_SECRET: 'pcs_example' };
  assert.deepEqual(loadConfig({ ...credentials, ...shown }), loadConfig(credentials));
});
