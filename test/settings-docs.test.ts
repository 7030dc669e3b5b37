/**
 * .env.example and the README's settings table are what `npm run settings-docs` writes from the
 * settings table (src/config.ts): when a setting is
 * added or changed, this fails until the script is run again. And the file works as a .env.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { renderEnvExample, withSettingsTable } from '../scripts/settings-docs.js';
import { loadConfig, SETTINGS } from '../src/config.js';

const committed = readFileSync(fileURLToPath(new URL('../.env.example', import.meta.url)), 'utf8');

test('.env.example is what `npm run settings-docs` writes (run it after changing a setting)', () => {
  assert.equal(committed, renderEnvExample(), 'run `npm run settings-docs` and commit .env.example');
});

test("the README's settings table is what `npm run settings-docs` writes, in the settings table's order", () => {
  const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
  assert.equal(readme, withSettingsTable(readme), 'run `npm run settings-docs` and commit README.md');
  const listed = [...readme.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((m) => m[1]!);
  assert.deepEqual(
    listed.filter((name) => SETTINGS.some((s) => s.env === name)),
    SETTINGS.map((s) => s.env),
  );
});

test('it names every setting once, those the default provider requires to fill in, the others commented out', () => {
  const names = [...committed.matchAll(/^(?:# )?([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]!);
  assert.deepEqual(
    names,
    SETTINGS.map((s) => s.env),
  );
  const active = [...committed.matchAll(/^([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]!);
  assert.deepEqual(
    active,
    SETTINGS.filter((s) => s.required && s.profile !== 'oauth').map((s) => s.env),
  );
});

test('every default it shows is accepted, and uncommenting them all changes nothing', () => {
  const shown = Object.fromEntries(
    [...committed.matchAll(/^# ([A-Z][A-Z0-9_]+)=(.+)$/gm)].map((m) => [m[1]!, m[2]!]),
  );
  const credentials = { POSTIZ_OAUTH_CLIENT_ID: 'pca_example', POSTIZ_OAUTH_CLIENT_SECRET: 'pcs_example' };
  assert.deepEqual(loadConfig({ ...credentials, ...shown }), loadConfig(credentials));
});
