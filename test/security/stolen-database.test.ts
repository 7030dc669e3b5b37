/**
 * A guarantee of docs/security.md: a stolen database yields nothing usable. After every step of a flow, every
 * row of every table (and, where reachable, the database's files: pages and WAL) is searched
 * for each secret of the flow, as text, hex, base64, base64url and raw bytes.
 */
import assert from 'node:assert/strict';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { build } from '../../harness/build.js';
import {
  bindingOf,
  consentAtPostiz,
  enterCode,
  InjectBrowser,
  pathOf,
  poll,
  pressOnConfirmation,
  startFlow,
} from '../../harness/inject-browser.js';
import { usePostgres } from '../../harness/postgres.js';
import { codeVerifier } from '../../src/device-flow/pkce.js';
import type { Db } from '../../src/storage/db.js';
import { pgliteDb } from '../../src/storage/pglite.js';
import { postgresDb } from '../../src/storage/postgres.js';
import { SqlStore } from '../../src/storage/sql-store.js';
import { byteForms, dumpText, dumpValues, findSecret, textForms } from './helpers.js';

const cluster = await usePostgres();

interface Backend {
  db: Db;
  store: SqlStore;
  /** The database's files as byte strings (a backup or a copied disk), when reachable. */
  files(): Promise<{ name: string; bytes: Buffer }[]>;
}

async function pgliteBackend(): Promise<Backend> {
  const db = await pgliteDb('memory');
  const store = new SqlStore(db);
  await store.migrate();
  return {
    db,
    store,
    // PGlite's whole data directory, WAL included, as a tarball: what a backup of it holds.
    files: async () => [
      {
        name: 'pglite data dir',
        bytes: Buffer.from(await (await db.pglite.dumpDataDir('none')).arrayBuffer()),
      },
    ],
  };
}

async function postgresBackend(url: string): Promise<Backend> {
  const db = postgresDb({ connectionString: url, max: 4 });
  const store = new SqlStore(db);
  await store.migrate();
  return {
    db,
    store,
    async files() {
      // The cluster's data directory, after a checkpoint: heap pages, indexes and WAL on disk.
      const dir = String((await db.query('SHOW data_directory'))[0]?.data_directory ?? '');
      try {
        await stat(dir);
      } catch {
        return []; // a remote TEST_DATABASE_URL: its disk is out of reach
      }
      await db.query('CHECKPOINT');
      const out: { name: string; bytes: Buffer }[] = [];
      for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
        if (!entry.isFile()) continue;
        const path = join(entry.parentPath, entry.name);
        try {
          out.push({ name: path.slice(dir.length + 1), bytes: await readFile(path) });
        } catch {
          // a file that vanished between listing and reading (temporary files)
        }
      }
      return out;
    },
  };
}

/** Fails with where a secret was found in the database's rows, its text dump, or its files. */
async function assertNothingStolen(backend: Backend, secrets: Map<string, string>, step: string) {
  const values = await dumpValues(backend.db);
  const text = await dumpText(backend.db);
  const files = await backend.files();
  for (const [name, secret] of secrets) {
    for (const { table, column, value } of values) {
      const how = findSecret(value, secret);
      assert.equal(how, undefined, `after ${step}: the ${name} is in ${table}.${column} (${how})`);
    }
    const how = findSecret(text, secret);
    assert.equal(how, undefined, `after ${step}: the ${name} is in the text dump (${how})`);
    const needles = [...textForms(secret).map((form) => Buffer.from(form)), ...byteForms(secret)];
    for (const file of files) {
      assert.ok(
        !needles.some((needle) => file.bytes.includes(needle)),
        `after ${step}: the ${name} is in the database file ${file.name}`,
      );
    }
  }
}

const backends: { name: string; skip: string | false; open: () => Promise<Backend> }[] = [
  { name: 'PGlite', skip: false, open: pgliteBackend },
  {
    name: 'PostgreSQL',
    skip: cluster ? false : 'no PostgreSQL available',
    open: async () => postgresBackend(await cluster!.createDatabase()),
  },
];

for (const backend of backends) {
  test(`a stolen database dump yields no usable secret at any step (${backend.name})`, {
    skip: backend.skip,
    // Copying PGlite's whole data directory at each step takes a while on a busy machine.
    timeout: 300_000,
  }, async (t) => {
    const opened = await backend.open();
    const built = await build(t, { store: opened.store });
    t.after(() => opened.store.close());
    const { app } = built;
    const secrets = new Map<string, string>();

    const started = await startFlow(app);
    secrets.set('device code', started.device_code);
    secrets.set('user code', started.user_code);
    secrets.set('user code (plain)', started.user_code.replace('-', ''));
    const rows = await opened.db.query('SELECT count(*)::int AS n FROM device_requests');
    assert.equal(rows[0]?.n, 1, 'the flow is stored, so the search is meaningful');
    await assertNothingStolen(opened, secrets, 'start');

    assert.equal((await poll(app, started.device_code)).json.error, 'authorization_pending');
    const browser = new InjectBrowser(app);
    const confirmation = await enterCode(browser, started.user_code);
    assert.equal(confirmation.status, 200);
    await assertNothingStolen(opened, secrets, 'code entered');

    const redirect = await pressOnConfirmation(browser, confirmation, 'confirm');
    assert.ok(redirect.location);
    const state = new URL(redirect.location).searchParams.get('state')!;
    secrets.set('OAuth state', state);
    secrets.set('PKCE verifier', codeVerifier(bindingOf(browser), state));
    for (const [name, value] of browser.cookies) {
      if (name.includes('pca_bind_')) secrets.set('browser-binding cookie', value);
    }
    assert.ok(secrets.has('browser-binding cookie'));
    await assertNothingStolen(opened, secrets, 'confirmed');

    const callbackUrl = await consentAtPostiz(redirect.location, 'approve');
    secrets.set('Postiz authorization code', callbackUrl.searchParams.get('code')!);
    const done = await browser.get(pathOf(callbackUrl));
    assert.equal(done.status, 200, done.body);
    const token = built.standIn.issuedTokens().at(-1)!;
    assert.ok(token);
    secrets.set('access token', token);
    const sealed = await opened.db.query('SELECT sealed_token FROM device_requests');
    assert.ok(sealed[0]?.sealed_token, 'the sealed token is stored, so the search is meaningful');
    await assertNothingStolen(opened, secrets, 'the callback, before the CLI polls');

    built.clock.advance(5000);
    const delivered = await poll(app, started.device_code);
    assert.equal(delivered.status, 200);
    assert.equal(delivered.json.access_token, token);
    await assertNothingStolen(opened, secrets, 'delivery');
  });
}
