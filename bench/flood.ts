/**
 * `npm run bench:flood`: what a flood of junk callbacks costs, on each store. wrk sends refused
 * callbacks as fast as this machine answers them (bench/wrk/flood.lua: a fresh junk state and a
 * fresh well-formed code each, from ever-new addresses), and the run reports how many sightings
 * the server recorded per second, the bytes each takes in the database, the record's size
 * afterwards, and, on PGlite (in this process), the process's memory. From these: the most the
 * record can hold at this rate, as rows are kept 15 minutes (docs/security.md, "How big the
 * record can grow"). Options: `--seconds N` (default 15), `--store postgres|pglite|both`
 * (default both), `--repeat N` (codes per request, default 1: a request with repeated
 * parameters records at most two).
 */
import { parseArgs } from 'node:util';
import { testConfig } from '../harness/build.js';
import { freePort } from '../harness/ports.js';
import { startPostgres } from '../harness/postgres.js';
import { createLogger } from '../src/logger.js';
import { startServer } from '../src/server.js';
import { runWrk, wrkMissing } from './wrk.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '15' },
    store: { type: 'string', default: 'both' },
    repeat: { type: 'string', default: '1' },
  },
});
const seconds = Number(values.seconds);
const repeat = Number(values.repeat);
/** How long a sighting is kept (src/device-flow/flow-service.ts, CODE_KEPT_MS). */
const KEPT_SECONDS = 15 * 60;

const missing = wrkMissing();
if (missing) throw new Error(missing);

const MB = 1024 * 1024;

/** Flood one server on `databaseUrl` (PGlite in memory when undefined) and report. */
async function flood(name: string, databaseUrl: string | undefined): Promise<void> {
  const port = await freePort();
  const config = testConfig({
    PORT: String(port),
    HOST: '127.0.0.1',
    SERVER_URL: `http://127.0.0.1:${port}`,
    TRUST_PROXY: 'true',
    POSTIZ_FRONTEND_URL: 'http://127.0.0.1:9',
    POSTIZ_API_URL: 'http://127.0.0.1:9',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  });
  const server = await startServer(config, { logger: createLogger({ level: 'silent', format: 'json' }) });
  const db = (server.store as unknown as { db: { query(sql: string): Promise<Record<string, unknown>[]> } })
    .db;
  const size = async () => {
    const [row] = await db.query(
      `SELECT pg_total_relation_size('code_sightings')::bigint AS bytes, count(*)::int AS n FROM code_sightings`,
    );
    return { bytes: Number(row!.bytes), rows: Number(row!.n) };
  };
  const before = await size();
  const rssBefore = process.memoryUsage().rss;
  const result = await runWrk({
    url: server.url,
    script: 'flood',
    seconds,
    args: repeat > 1 ? [`repeat=${repeat}`] : [],
  });
  const after = await size();
  const rssAfter = process.memoryUsage().rss;
  await server.close();
  const rows = after.rows - before.rows;
  const bytesPerRow = (after.bytes - before.bytes) / Math.max(1, rows);
  const rowsPerSecond = rows / result.seconds;
  console.log(
    [
      `${name}: ${result.requests} refused callbacks in ${result.seconds.toFixed(1)} s (${Math.round(result.perSecond)}/s, ${repeat} code${repeat > 1 ? 's' : ''} each), p99 ${result.latency.p99.toFixed(1)} ms`,
      `  sightings recorded: ${rows} (${Math.round(rowsPerSecond)}/s, ${(rows / Math.max(1, result.requests)).toFixed(2)} per request)`,
      `  the record: ${(before.bytes / MB).toFixed(1)} → ${(after.bytes / MB).toFixed(1)} MB, ${bytesPerRow.toFixed(0)} bytes per sighting`,
      ...(databaseUrl
        ? []
        : [
            `  this process (PGlite in it): RSS ${(rssBefore / MB).toFixed(0)} → ${(rssAfter / MB).toFixed(0)} MB`,
          ]),
      `  at this rate, kept ${KEPT_SECONDS / 60} minutes: at most ${Math.round(rowsPerSecond * KEPT_SECONDS).toLocaleString('en')} sightings, ${((rowsPerSecond * KEPT_SECONDS * bytesPerRow) / MB).toFixed(0)} MB, however long the flood lasts`,
    ].join('\n'),
  );
}

const cluster = values.store === 'pglite' ? null : await startPostgres();
try {
  if (values.store !== 'pglite') {
    if (!cluster) throw new Error('no PostgreSQL available (initdb/pg_ctl)');
    await flood('PostgreSQL', await cluster.createDatabase('flood'));
  }
  if (values.store !== 'postgres') await flood('PGlite (in memory)', undefined);
} finally {
  await cluster?.stop();
}
