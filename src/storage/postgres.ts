/** The PostgreSQL driver: a `pg` pool. Types are left as `pg` gives them (bytea → Buffer). */
import pg from 'pg';
import { clientConfig, parseDatabaseUrl, tlsOptions } from './connection.js';
import type { Db, ListenHandlers, Row } from './db.js';

export interface PostgresOptions {
  /** Where queries go (`DATABASE_URL`, perhaps a pooler), TLS decided (`resolveConnection`). */
  client?: pg.ClientConfig;
  /** A plain URL instead of `client` (tests): `sslmode` as given, `prefer` without TLS. */
  connectionString?: string;
  /**
   * A direct, unpooled connection (`DATABASE_DIRECT_URL`) for what a transaction pooler
   * cannot carry: LISTEN and the migrations' session. Defaults to `client`.
   */
  direct?: pg.ClientConfig;
  max?: number;
  /** Called when an idle connection dies (e.g. the server restarted); the pool replaces it. */
  onError?: (err: Error) => void;
}

/** A `Db` over a pool of connections, with LISTEN and migrations on the direct connection. */
export function postgresDb(options: PostgresOptions): Db {
  const client = options.client ?? withoutProbe(options.connectionString ?? '');
  const direct = options.direct ?? client;
  const pool = new pg.Pool({
    ...client,
    max: options.max ?? 10,
    idleTimeoutMillis: 30000,
    // Without this an idle client whose server went away emits an unhandled 'error' and kills the process.
    allowExitOnIdle: false,
  });
  pool.on('error', (err) => options.onError?.(err));

  const run = async (on: pg.Pool | pg.ClientBase, sql: string, params?: unknown[]): Promise<Row[]> => {
    const result = await on.query(sql, params as unknown[]);
    // A multi-statement text (migrations) yields one result per statement.
    return Array.isArray(result) ? (result.at(-1)?.rows ?? []) : result.rows;
  };

  return {
    kind: 'postgres',
    query: (sql, params) => run(pool, sql, params),
    async session(fn) {
      // Its own connection on the direct URL: through a transaction pooler, two statements of
      // one "session" could otherwise run on two server connections.
      const session = new pg.Client(direct);
      session.on('error', () => {});
      await session.connect();
      try {
        return await fn((sql, params) => run(session, sql, params));
      } finally {
        await session.end().catch(() => {});
      }
    },
    listen: (channel, handlers) => listenWithReconnect(direct, channel, handlers),
    close: () => pool.end(),
  };
}

/** A URL's client settings without asking the server: `allow` and `prefer` mean no TLS here. */
function withoutProbe(url: string): pg.ClientConfig {
  const target = parseDatabaseUrl(url, 'connectionString');
  const optional = target.sslmode === 'allow' || target.sslmode === 'prefer';
  return clientConfig(target, optional ? false : tlsOptions(target, undefined));
}

const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 5000;

/**
 * A dedicated LISTEN connection that reconnects with exponential backoff when it drops (server
 * restart, failover, network). `onLost` runs when it drops and `onRestored` once it is back:
 * notifications sent while it was away are lost, so everything cached must be looked at afresh.
 */
async function listenWithReconnect(
  config: pg.ClientConfig,
  channel: string,
  handlers: ListenHandlers,
): Promise<() => Promise<void>> {
  let current: pg.Client | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let delay = FIRST_RETRY_MS;

  const connect = async (): Promise<void> => {
    const client = new pg.Client({ ...config, keepAlive: true });
    client.on('notification', (message) => {
      if (message.channel === channel && message.payload) handlers.onNotify(message.payload);
    });
    // 'error' must always have a listener, or a dropped connection would crash the process.
    client.on('error', (err) => {
      handlers.onError(err);
      lost(client);
    });
    client.on('end', () => lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    } catch (err) {
      client.end().catch(() => {});
      throw err;
    }
    if (stopped) {
      await client.end();
      return;
    }
    current = client;
    delay = FIRST_RETRY_MS;
  };

  const retry = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      connect().then(
        () => handlers.onRestored(),
        (err: Error) => {
          handlers.onError(err);
          retry();
        },
      );
    }, delay);
    timer.unref();
    delay = Math.min(delay * 2, MAX_RETRY_MS);
  };

  const lost = (client: pg.Client): void => {
    if (client !== current) return;
    current = undefined;
    client.end().catch(() => {});
    // Until we are back, nothing cached can be trusted to be told about changes.
    handlers.onLost();
    retry();
  };

  await connect();
  return async () => {
    stopped = true;
    clearTimeout(timer);
    const client = current;
    current = undefined;
    await client?.end().catch(() => {});
  };
}
