/**
 * What the SQL store needs from a database driver (`postgres.ts` over `pg`, `pglite.ts` over
 * PGlite), apart from the store and the migrations that use it.
 */

/** Rows as a driver returns them: bytea as bytes, timestamptz as Date. */
export type Row = Record<string, unknown>;

/** What a driver provides: plain queries, and one session for work that needs a lock. */
export interface Db {
  readonly kind: 'postgres' | 'pglite';
  query(sql: string, params?: unknown[]): Promise<Row[]>;
  /** Run `fn` on one connection (advisory locks are per session). */
  session<T>(fn: (query: (sql: string, params?: unknown[]) => Promise<Row[]>) => Promise<T>): Promise<T>;
  /** Receive NOTIFY payloads on `channel`, reconnecting by itself when the connection drops. */
  listen(channel: string, handlers: ListenHandlers): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** Callbacks of a LISTEN connection. */
export interface ListenHandlers {
  onNotify(payload: string): void;
  /** The connection dropped: until `onRestored`, changes are not being heard. */
  onLost(): void;
  /** Listening again after a drop; changes made meanwhile were missed. */
  onRestored(): void;
  onError(err: Error): void;
}
