/**
 * The drop-in upgrade (docs/compatibility.md): a database last used by the
 * seed's original server, with its plain-text `device_requests` table, is upgraded by
 * `migrate()` alone, and no readable token survives it. Run on PGlite and on PostgreSQL.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { insertFlow } from '../../harness/build.js';
import { captureLog } from '../../harness/observe.js';
import { usePostgres } from '../../harness/postgres.js';
import { loadConfig } from '../../src/config.js';
import { hashSecret, newDeviceCode, newToken, newUserCode } from '../../src/device-flow/codes.js';
import { recipientKey } from '../../src/device-flow/seal.js';
import type { Db } from '../../src/storage/db.js';
import { loadMigrations, originalTableRows, runMigrations } from '../../src/storage/migrate.js';
import { openStore } from '../../src/storage/open.js';
import { pgliteDb } from '../../src/storage/pglite.js';
import { postgresDb } from '../../src/storage/postgres.js';
import { SqlStore } from '../../src/storage/sql-store.js';

const cluster = await usePostgres();

// Exactly the seed's table (docs/compatibility.md, Databases).
const SEED_TABLE = `CREATE TABLE device_requests (
  device_code TEXT PRIMARY KEY,
  user_code TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending',  -- 'pending' or 'completed'
  access_token TEXT,
  api_url TEXT,
  organization_id TEXT,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
)`;

const SEED_TOKEN = 'pos_SeedEraPlainTextAccessToken0123456789';
const SEED_DEVICE_CODE = 'seed-device-code-6f1c2b9e4a7d4c1f8e2a';
const SEED_PENDING_CODE = 'seed-device-code-pending-0a1b2c3d4e5f';

/** Fill a fresh database the way the seed's server left it: a completed row holding a token, and a pending one. */
async function seedEraDatabase(db: Db): Promise<void> {
  await db.query(SEED_TABLE);
  await db.query(
    `INSERT INTO device_requests (device_code, user_code, status, access_token, api_url, organization_id)
     VALUES ($1, $2, 'completed', $3, $4, $5)`,
    [SEED_DEVICE_CODE, 'WDJB-MJHT', SEED_TOKEN, 'https://api.postiz.com', 'org_seed'],
  );
  await db.query(`INSERT INTO device_requests (device_code, user_code) VALUES ($1, $2)`, [
    SEED_PENDING_CODE,
    'BCDF-GHJK',
  ]);
}

/** Every row of every user table in the database, as text. */
async function everyRow(db: Db): Promise<string> {
  const tables = await db.query(
    `SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) AS name FROM information_schema.tables
     WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`,
  );
  assert.ok(tables.length > 0);
  const out: string[] = [];
  for (const { name } of tables) {
    for (const row of await db.query(`SELECT t::text AS row FROM ${name} t`, [])) {
      out.push(`${name}: ${row.row}`);
    }
  }
  return out.join('\n');
}

/** The columns of `device_requests`. */
async function columns(db: Db): Promise<string[]> {
  const rows = await db.query(
    `SELECT column_name FROM information_schema.columns
     WHERE table_schema = current_schema() AND table_name = 'device_requests' ORDER BY column_name`,
    [],
  );
  return rows.map((r) => String(r.column_name));
}

/** A new flow in the migrated schema, at `now`. */
async function createFlow(store: SqlStore): Promise<string> {
  const deviceCode = newDeviceCode();
  const flowId = newToken(12);
  const now = new Date();
  const ok = await insertFlow(store, {
    flowId,
    deviceCodeHash: hashSecret(deviceCode),
    userCodeHash: hashSecret(newUserCode()),
    publicKey: recipientKey(deviceCode),
    clientIp: '127.0.0.1',
    userAgent: 'test',
    intervalSeconds: 5,
    createdAt: now,
    expiresAt: new Date(now.getTime() + 900_000),
    holder: '127.0.0.1',
  });
  assert.equal(ok, true);
  return flowId;
}

/** Seed-upgrade tests on databases made by `freshDb`. */
function seedUpgrade(label: string, freshDb: () => Promise<Db>, skip: string | false = false): void {
  describe(`seed upgrade: ${label}`, { skip }, () => {
    const opened: Db[] = [];
    const fresh = async (): Promise<Db> => {
      const db = await freshDb();
      opened.push(db);
      return db;
    };
    after(async () => {
      await Promise.all(opened.map((db) => db.close()));
    });
    const allVersions = () => loadMigrations().map((m) => m.version);

    test('a seed-era database is upgraded by migrate() alone', async (t) => {
      const db = await fresh();
      await seedEraDatabase(db);
      assert.match(await everyRow(db), new RegExp(SEED_TOKEN), 'the token is there before');
      const store = new SqlStore(db);

      await t.test('the old rows are gone and no plain-text token remains in any table', async () => {
        assert.deepEqual(await store.migrate(), allVersions());
        const dump = await everyRow(db);
        for (const secret of [SEED_TOKEN, SEED_DEVICE_CODE, SEED_PENDING_CODE, 'WDJB-MJHT', 'org_seed']) {
          assert.ok(!dump.includes(secret), `${secret} is gone from every table`);
        }
        assert.deepEqual(await db.query('SELECT count(*)::int AS n FROM device_requests', []), [{ n: 0 }]);
        const cols = await columns(db);
        for (const old of ['device_code', 'user_code', 'access_token', 'api_url', 'organization_id']) {
          assert.ok(!cols.includes(old), `column ${old} is gone`);
        }
        assert.ok(cols.includes('device_code_hash'));
      });

      let flowId = '';
      await t.test('the new schema works', async () => {
        flowId = await createFlow(store);
        assert.equal((await store.findByFlowId(flowId))?.status, 'pending');
      });

      await t.test('a second migrate is a no-op', async () => {
        const before = await everyRow(db);
        assert.deepEqual(await store.migrate(), []);
        assert.equal(await everyRow(db), before, 'nothing changed');
        assert.equal((await store.findByFlowId(flowId))?.status, 'pending');
      });
    });

    test('a database whose migrations were already applied is left untouched', async () => {
      const db = await fresh();
      const store = new SqlStore(db);
      assert.deepEqual(await store.migrate(), allVersions());
      const flows = [await createFlow(store), await createFlow(store)];
      await store.hit('flow-start:127.0.0.1', new Date(), 60_000);
      const before = await everyRow(db);
      const beforeColumns = await columns(db);

      // A second server instance (a new store on the same database) starting up.
      assert.deepEqual(await new SqlStore(db).migrate(), []);
      assert.equal(await everyRow(db), before);
      assert.deepEqual(await columns(db), beforeColumns);
      for (const flowId of flows) assert.equal((await store.findByFlowId(flowId))?.status, 'pending');
    });
  });
}

/**
 * Opening the store as the server does (`openStore` with its logger) on a seed-era database:
 * the upgrade says, once, that it drops the original table and how many rows it held.
 */
function upgradeIsLogged(
  label: string,
  open: () => Promise<{ env: Record<string, string>; db: () => Promise<Db> }>,
  skip: string | false = false,
): void {
  test(`seed upgrade on ${label}: dropping the original table is logged with its row count`, {
    skip,
  }, async () => {
    const { env, db: seedDb } = await open();
    const seeded = await seedDb();
    await seedEraDatabase(seeded);
    await seeded.close();
    const { logger, lines } = captureLog();
    const config = loadConfig({
      POSTIZ_OAUTH_CLIENT_ID: 'pca_x0',
      POSTIZ_OAUTH_CLIENT_SECRET: 'pcs_x0',
      ...env,
    });
    const store = await openStore(config, logger);
    try {
      assert.deepEqual(
        await store.migrate(),
        loadMigrations().map((m) => m.version),
      );
      assert.deepEqual(await store.migrate(), []);
    } finally {
      await store.close();
    }
    const dropped = lines.filter((l) => String(l.msg).startsWith('dropping'));
    assert.deepEqual(
      dropped.map((l) => [l.level, l.msg, l.rows]),
      [
        [
          40,
          "dropping the original server's device_requests table (2 rows: logins in progress will start again)",
          2,
        ],
      ],
    );
  });
}

upgradeIsLogged('pglite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'seed-upgrade-'));
  after(() => rm(dir, { recursive: true, force: true }));
  return { env: { PGLITE_DATA_DIR: dir }, db: () => pgliteDb(dir) };
});

upgradeIsLogged(
  'postgres',
  async () => {
    const url = await cluster!.createDatabase();
    return { env: { DATABASE_URL: url }, db: async () => postgresDb({ connectionString: url, max: 2 }) };
  },
  cluster ? false : 'no PostgreSQL available',
);

test('a database without the original table reports nothing to drop', async () => {
  const db = await pgliteDb('memory');
  try {
    assert.equal(await db.session((query) => originalTableRows(query)), undefined);
    let told: number | undefined;
    await db.session((query) =>
      runMigrations(query, loadMigrations(), { droppingOriginalTable: (n) => (told = n) }),
    );
    assert.equal(told, undefined);
    // The new table of the same name is not the original one.
    assert.equal(await db.session((query) => originalTableRows(query)), undefined);
  } finally {
    await db.close();
  }
});

seedUpgrade('pglite', () => pgliteDb('memory'));

seedUpgrade(
  'postgres',
  async () => {
    const url = await cluster!.createDatabase();
    return postgresDb({ connectionString: url, max: 2 });
  },
  cluster ? false : 'no PostgreSQL available',
);
