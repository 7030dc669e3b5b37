/**
 * The floors the server is measured against, in their own process (run by bench/run.ts):
 * a bare `node:http` server that answers
 *
 * - `POST /device/token` with one prepared primary-key `SELECT` on a table of 100k flows, and
 *   400 `authorization_pending` (the one-round-trip floor of a pending poll);
 * - `POST /device/code` with one `INSERT` of a fresh flow (the one-`INSERT` floor of a start).
 *
 * It does the least a real server must: read and parse the JSON body, hash the device code,
 * one query. Its table is the server's own `device_requests`, made by running the real
 * migrations (migrations/*.sql) in the floor's database, so the `INSERT` maintains exactly the
 * indexes and constraints a start maintains in production (the NOTIFY triggers fire on UPDATE
 * and DELETE only, so an INSERT fires none, as in production). `POST /ceiling/device/token` does the same without the query: the most this
 * machine and load generator can show at all. Over `pg` (pool of 10, like the server's default) with `--pg <url>`, or over an
 * in-process PGlite with `--pglite` (the same floor for the embedded store).
 * Prints `{"port":N,"rows":N,"table":{…}}` on stdout once it listens on 127.0.0.1 (`table`:
 * the migrations applied and the table's indexes and triggers); SIGTERM stops it.
 */
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { runMigrations } from '../src/storage/migrate.js';
import { FLOOR_PREFIX, FLOOR_ROWS, type FloorTable, seedFlowsSql } from './codes.js';

type Query = (sql: string, params: unknown[], name?: string) => Promise<Record<string, unknown>[]>;

interface Db {
  query: Query;
  /** Run `fn` on one connection (the migrations are one transaction). */
  session<T>(
    fn: (query: (sql: string, params?: unknown[]) => Promise<Record<string, unknown>[]>) => Promise<T>,
  ): Promise<T>;
  close(): Promise<void>;
}

const SELECT_SQL =
  'SELECT status, expires_at, interval_seconds, last_poll_at FROM device_requests WHERE device_code_hash = $1';
// The columns a start inserts in production (NEW_FLOW_COLUMNS in src/storage/sql-store.ts).
const INSERT_SQL = `INSERT INTO device_requests (device_code_hash, flow_id, user_code_hash, public_key, client_ip,
  user_agent, interval_seconds, created_at, expires_at, holder) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`;
const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
const JSON_HEADERS = { 'content-type': 'application/json', 'cache-control': 'no-store', pragma: 'no-cache' };
// The server's answer to a pending poll, byte for byte.
const PENDING = JSON.stringify({ error: 'authorization_pending' });
const UNKNOWN = JSON.stringify({ error: 'invalid_grant' });

async function openPg(url: string): Promise<Db> {
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  pool.on('error', () => {});
  return {
    // A named query is prepared once per connection, then only executed.
    query: async (text, values, name) => (await pool.query({ text, values, ...(name ? { name } : {}) })).rows,
    async session(fn) {
      const client = await pool.connect();
      try {
        return await fn(async (text, values) => (await client.query(text, values)).rows);
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

async function openPglite(): Promise<Db> {
  const { PGlite } = await import('@electric-sql/pglite');
  const db = await PGlite.create();
  const query: Query = async (text, values) => {
    if (values.length) return (await db.query<Record<string, unknown>>(text, values)).rows;
    // Possibly several statements (a migration): the last one's rows.
    return ((await db.exec(text)).at(-1)?.rows ?? []) as Record<string, unknown>[];
  };
  return {
    query,
    session: (fn) => fn((text, values) => query(text, values ?? [])),
    close: () => db.close(),
  };
}

/** No database: every query fails (only the ceiling answers). */
function noDatabase(): Db {
  const none = () => Promise.reject(new Error('started with --none: no database'));
  return { query: none, session: none, close: async () => {} };
}

/**
 * The server's own table, made by the real migrations (as the server runs them at start-up),
 * then 100k pending flows.
 */
async function setUp(db: Db): Promise<FloorTable> {
  const migrations = await db.session((query) => runMigrations(query));
  await db.query('DELETE FROM device_requests', []);
  await db.query(seedFlowsSql(), [FLOOR_PREFIX, FLOOR_ROWS, 5, 3600]);
  // Nothing left for autovacuum to do during the runs.
  await db.query('VACUUM ANALYZE device_requests', []);
  const names = async (sql: string) =>
    (await db.query(sql, ['device_requests'])).map((r) => String(r.name)).sort();
  return {
    migrations,
    indexes: await names('SELECT indexname AS name FROM pg_indexes WHERE tablename = $1'),
    triggers: await names(
      'SELECT tgname AS name FROM pg_trigger WHERE tgrelid = $1::regclass AND NOT tgisinternal',
    ),
  };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

async function poll(db: Db, body: Buffer, res: ServerResponse): Promise<void> {
  const parsed = JSON.parse(body.toString('utf8')) as { device_code?: unknown };
  const hash = sha256(String(parsed.device_code));
  const rows = await db.query(SELECT_SQL, [hash], 'floor_poll');
  res.writeHead(400, JSON_HEADERS).end(rows.length ? PENDING : UNKNOWN);
}

function ceiling(body: Buffer, res: ServerResponse): void {
  const parsed = JSON.parse(body.toString('utf8')) as { device_code?: unknown };
  sha256(String(parsed.device_code));
  res.writeHead(400, JSON_HEADERS).end(PENDING);
}

async function start(db: Db, res: ServerResponse, serverUrl: string): Promise<void> {
  const deviceCode = randomBytes(32).toString('base64url');
  let userCode = '';
  for (let i = 0; i < 8; i++) userCode += USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)];
  const now = Date.now();
  await db.query(
    INSERT_SQL,
    [
      sha256(deviceCode),
      randomBytes(12).toString('base64url'),
      sha256(userCode),
      randomBytes(32),
      '127.0.0.1',
      'bench',
      5,
      new Date(now),
      new Date(now + 900_000),
      '127.0.0.1',
    ],
    'floor_start',
  );
  const formatted = `${userCode.slice(0, 4)}-${userCode.slice(4)}`;
  res.writeHead(200, JSON_HEADERS).end(
    JSON.stringify({
      device_code: deviceCode,
      user_code: formatted,
      verification_uri: `${serverUrl}/device/verify`,
      verification_uri_complete: `${serverUrl}/device/verify?code=${formatted}`,
      expires_in: 900,
      interval: 5,
    }),
  );
}

async function main(argv: string[]): Promise<void> {
  const pgUrl = argv[argv.indexOf('--pg') + 1];
  // `--none`: no database, only the ceiling (bench/profile.ts compares the server with it).
  const db = argv.includes('--none')
    ? noDatabase()
    : argv.includes('--pglite')
      ? await openPglite()
      : await openPg(pgUrl ?? '');
  const table = argv.includes('--none') ? undefined : await setUp(db);
  let serverUrl = '';
  const server = createServer((req, res) => {
    readBody(req)
      .then((body) => {
        if (req.method === 'POST' && req.url === '/device/token') return poll(db, body, res);
        if (req.method === 'POST' && req.url === '/ceiling/device/token') return ceiling(body, res);
        if (req.method === 'POST' && req.url === '/device/code') return start(db, res, serverUrl);
        res.writeHead(404).end();
      })
      .catch((err: unknown) => {
        res.writeHead(500, JSON_HEADERS).end(JSON.stringify({ error: 'server_error', detail: String(err) }));
      });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    serverUrl = `http://127.0.0.1:${port}`;
    process.stdout.write(`${JSON.stringify({ port, rows: FLOOR_ROWS, table })}\n`);
  });
  const stop = () => {
    server.closeAllConnections();
    server.close(() => db.close().finally(() => process.exit(0)));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // The orchestrator's end (or death) closes our stdin: never outlive it.
  process.stdin.on('end', stop).resume();
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
