/**
 * The `Store` in SQL, shared by both drivers: every method is one statement, so one round trip,
 * and every state change is a conditional UPDATE/DELETE that only one caller can win.
 */

import { randomBytes, randomUUID } from 'node:crypto';
import { Batcher } from './batcher.js';
import type { Db, Row } from './db.js';
import { runMigrations } from './migrate.js';
import type {
  CodeSighting,
  EndStatus,
  Flow,
  FlowEvent,
  FlowState,
  FlowStatus,
  FlowSubscriber,
  NewFlow,
  PollRecord,
  PurgedFlow,
  RateCount,
  RateRule,
  Room,
  Store,
  TokenClaim,
} from './store.js';

/** The columns that make a `Flow`, optionally qualified by a table alias. */
const flowColumns = (t = ''): string =>
  `${t}flow_id, ${t}device_code_hash, ${t}status, ${t}public_key, ${t}client_ip, ${t}user_agent,
   ${t}interval_seconds, ${t}created_at, ${t}expires_at, ${t}last_poll_at, ${t}browser_hash,
   ${t}state_hash IS NOT NULL AND ${t}state_claimed_at IS NULL AS awaiting_callback,
   ${t}state_claimed_at IS NOT NULL AS state_claimed, ${t}finished_at`;
const FLOW_COLUMNS = flowColumns();

const bytes = (value: unknown): Buffer => Buffer.from(value as Uint8Array);
const date = (value: unknown): Date => (value instanceof Date ? value : new Date(value as string));

function toFlow(row: Row): Flow {
  return {
    flowId: row.flow_id as string,
    deviceCodeHash: bytes(row.device_code_hash),
    status: row.status as FlowStatus,
    publicKey: bytes(row.public_key),
    clientIp: (row.client_ip as string | null) ?? null,
    userAgent: (row.user_agent as string | null) ?? null,
    intervalSeconds: Number(row.interval_seconds),
    createdAt: date(row.created_at),
    expiresAt: date(row.expires_at),
    lastPollAt: row.last_poll_at == null ? null : date(row.last_poll_at),
    browserHash: row.browser_hash == null ? null : bytes(row.browser_hash),
    awaitingCallback: Boolean(row.awaiting_callback),
    stateClaimed: Boolean(row.state_claimed),
    finishedAt: row.finished_at == null ? null : date(row.finished_at),
  };
}

const first = (rows: Row[]): Flow | undefined => (rows[0] ? toFlow(rows[0]) : undefined);

/**
 * Count a hit on each key of the text array $1 at time $2, on fixed windows of $3 ms: a window
 * older than that restarts at $2 with this hit, else the hit is added. Rows are upserted in key
 * order, so concurrent statements lock shared keys in the same order and cannot deadlock.
 * (Flow starts count theirs in migrations/009's function, with the same upsert.)
 */
const HIT_ALL_SQL = `INSERT INTO rate_limits AS r (key, window_start, hits)
  SELECT k, $2::timestamptz, 1 FROM unnest($1::text[]) AS u(k) ORDER BY k
  ON CONFLICT (key) DO UPDATE SET
    window_start = CASE WHEN r.window_start <= EXCLUDED.window_start - $3::int * interval '1 millisecond'
      THEN EXCLUDED.window_start ELSE r.window_start END,
    hits = CASE WHEN r.window_start <= EXCLUDED.window_start - $3::int * interval '1 millisecond'
      THEN EXCLUDED.hits ELSE r.hits + EXCLUDED.hits END
  RETURNING key, window_start, hits`;

const toCount = (row: Row, windowMs: number): RateCount => {
  const windowStart = date(row.window_start);
  return { hits: Number(row.hits), windowStart, resetAt: new Date(windowStart.getTime() + windowMs) };
};

/** The channel migrations/002 notifies on. */
const FLOW_CHANNEL = 'postiz_cli_auth_flows';
/** Test notifications (`notificationsArrive`) on the same channel; other instances ignore them. */
const PROBE_PREFIX = 'probe:';

type StartInput = { flow: NewFlow; limit: RateRule };
type StartOutput = { created: boolean; count: RateCount };

/**
 * Flow starts, batched (see `Batcher`), through the function migrations/009 defines (which says
 * why a function): $1 a JSON array of flows with their rate-limit keys, $2 the window in ms, $3
 * the limit; per flow its position `n`, its key's count once counted, and whether it was inserted.
 */
const START_BATCH_SQL = 'SELECT n, hits, window_start, created FROM start_flows($1::jsonb, $2, $3)';

/** Live flows `makeRoom` samples to find who holds the most. */
const MAKE_ROOM_SAMPLE = 32;
/**
 * `makeRoom` counts a network's live flows up to this many: enough to rank hoarders (a network
 * may start `RATE_LIMIT_FLOW_STARTS`, 30 by default, per window), and a bound on the work.
 */
const MAKE_ROOM_COUNT_CAP = 1000;

/**
 * `makeRoom`, in one statement: $1 the newcomer's network, $2 now, $3 the most a network may
 * hold and never be displaced, $4 a random point on the primary key, $5 the sample size, $6 the
 * count cap. A sample of live pending flows, read along the primary key (a SHA-256, so uniformly
 * random) from $4 on, wrapping round; the networks holding them, each counted through the
 * partial index of pending flows by network (migrations/013); the one holding the most, if it
 * holds more than $3 and at least two more than the newcomer's, gives up its oldest flow
 * (expired now). SKIP LOCKED: concurrent newcomers each take a different flow.
 */
const MAKE_ROOM_SQL = `WITH sample AS (
    SELECT holder, expires_at FROM (
      (SELECT holder, expires_at FROM device_requests
       WHERE device_code_hash >= $4 AND status = 'pending' AND expires_at > $2
       ORDER BY device_code_hash LIMIT $5)
      UNION ALL
      (SELECT holder, expires_at FROM device_requests
       WHERE device_code_hash < $4 AND status = 'pending' AND expires_at > $2
       ORDER BY device_code_hash LIMIT $5)
    ) AS s LIMIT $5
  ),
  held AS (
    SELECT c.holder, (
      SELECT count(*) FROM (
        SELECT 1 FROM device_requests d
        WHERE d.holder = c.holder AND d.status = 'pending' AND d.expires_at > $2 LIMIT $6
      ) AS n
    )::int AS n
    FROM (SELECT DISTINCT holder FROM sample WHERE holder IS NOT NULL) AS c
  ),
  top AS (SELECT holder, n FROM held ORDER BY n DESC, holder LIMIT 1),
  mine AS (
    SELECT count(*)::int AS n FROM (
      SELECT 1 FROM device_requests
      WHERE holder = $1 AND status = 'pending' AND expires_at > $2 LIMIT $6
    ) AS m
  ),
  victim AS (
    SELECT device_code_hash FROM device_requests
    WHERE holder = (SELECT holder FROM top) AND status = 'pending' AND expires_at > $2
      AND (SELECT n FROM top) > $3 AND (SELECT n FROM top) >= (SELECT n FROM mine) + 2
    ORDER BY created_at LIMIT 1
    FOR UPDATE SKIP LOCKED
  ),
  displaced AS (
    UPDATE device_requests AS d SET expires_at = $2 FROM victim
    WHERE d.device_code_hash = victim.device_code_hash AND d.status = 'pending'
    RETURNING d.flow_id
  )
  SELECT (SELECT min(expires_at) FROM sample) AS free_at, (SELECT flow_id FROM displaced) AS displaced`;

export interface SqlStoreOptions {
  /** Batches of flow starts in flight at once (default: 2 on PostgreSQL, 1 on PGlite's one connection). */
  startBatches?: number;
}

/** `Store` over any `Db`. */
export class SqlStore implements Store {
  private readonly starts: Batcher<StartInput, StartOutput>;
  /** Test notifications sent by this store and not yet heard back, by payload. */
  private readonly probes = new Map<string, () => void>();

  constructor(
    private readonly db: Db,
    options: SqlStoreOptions = {},
  ) {
    this.starts = new Batcher((inputs) => this.createFlowsWithin(inputs), {
      maxInFlight: options.startBatches ?? (db.kind === 'pglite' ? 1 : 2),
      maxBatch: 100,
    });
  }

  get kind(): 'postgres' | 'pglite' {
    return this.db.kind;
  }

  migrate(): Promise<number[]> {
    return this.db.session((query) => runMigrations(query));
  }

  createFlowWithin(flow: NewFlow, limit: RateRule): Promise<{ created: boolean; count: RateCount }> {
    return this.starts.add({ flow, limit });
  }

  /**
   * `createFlowWithin` for a batch, in one statement per rule (in practice one): the
   * rate-limit windows are counted per key in input order, exactly as one statement per
   * flow would count them, and a flow is inserted only when its own count is within the
   * limit. Keys are locked in sorted order, so concurrent batches cannot deadlock.
   */
  private async createFlowsWithin(starts: StartInput[]): Promise<StartOutput[]> {
    const outputs: StartOutput[] = new Array(starts.length);
    const byRule = new Map<string, number[]>();
    for (const [i, { limit }] of starts.entries()) {
      const rule = `${limit.windowMs}:${limit.max}`;
      const indexes = byRule.get(rule);
      if (indexes) indexes.push(i);
      else byRule.set(rule, [i]);
    }
    for (const indexes of byRule.values()) {
      const { windowMs, max } = starts[indexes[0]!]!.limit;
      const rows = indexes.map((i, n) => {
        const { flow, limit } = starts[i]!;
        return {
          n,
          d: flow.deviceCodeHash.toString('hex'),
          f: flow.flowId,
          u: flow.userCodeHash.toString('hex'),
          k: flow.publicKey.toString('hex'),
          ip: flow.clientIp,
          ua: flow.userAgent,
          iv: flow.intervalSeconds,
          c: flow.createdAt.toISOString(),
          e: flow.expiresAt.toISOString(),
          h: flow.holder,
          key: limit.key,
        };
      });
      const result = await this.db.query(START_BATCH_SQL, [JSON.stringify(rows), windowMs, max]);
      for (const row of result) {
        outputs[indexes[Number(row.n)]!] = {
          created: row.created === true,
          count: toCount(row, windowMs),
        };
      }
    }
    return outputs;
  }

  async findByUserCode(userCodeHash: Buffer): Promise<Flow | undefined> {
    return first(
      await this.db.query(`SELECT ${FLOW_COLUMNS} FROM device_requests WHERE user_code_hash = $1`, [
        userCodeHash,
      ]),
    );
  }

  async findByState(stateHash: Buffer): Promise<Flow | undefined> {
    return first(
      await this.db.query(`SELECT ${FLOW_COLUMNS} FROM device_requests WHERE state_hash = $1`, [stateHash]),
    );
  }

  async findByFlowId(flowId: string): Promise<Flow | undefined> {
    return first(
      await this.db.query(`SELECT ${FLOW_COLUMNS} FROM device_requests WHERE flow_id = $1`, [flowId]),
    );
  }

  async findByDeviceCode(deviceCodeHash: Buffer): Promise<Flow | undefined> {
    return first(
      await this.db.query(`SELECT ${FLOW_COLUMNS} FROM device_requests WHERE device_code_hash = $1`, [
        deviceCodeHash,
      ]),
    );
  }

  async confirm(flowId: string, stateHash: Buffer, browserHash: Buffer, now: Date): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE device_requests SET state_hash = $2, browser_hash = $3, state_claimed_at = NULL
       WHERE flow_id = $1 AND status = 'pending' AND expires_at > $4 RETURNING flow_id`,
      [flowId, stateHash, browserHash, now],
    );
    return rows.length === 1;
  }

  async claimState(stateHash: Buffer, now: Date): Promise<Flow | undefined> {
    return first(
      await this.db.query(
        `UPDATE device_requests SET state_claimed_at = $2
         WHERE state_hash = $1 AND state_claimed_at IS NULL AND status = 'pending' AND expires_at > $2
         RETURNING ${FLOW_COLUMNS}`,
        [stateHash, now],
      ),
    );
  }

  async approve(flowId: string, sealedToken: Buffer, now: Date): Promise<Flow | undefined> {
    return first(
      await this.db.query(
        `UPDATE device_requests SET status = 'approved', sealed_token = $2, finished_at = $3,
           state_hash = NULL, state_claimed_at = NULL
         WHERE flow_id = $1 AND status = 'pending' AND expires_at > $3 RETURNING ${FLOW_COLUMNS}`,
        [flowId, sealedToken, now],
      ),
    );
  }

  async deny(flowId: string, status: EndStatus, now: Date): Promise<Flow | undefined> {
    return first(
      await this.db.query(
        `UPDATE device_requests SET status = $2, finished_at = $3, state_hash = NULL, state_claimed_at = NULL
         WHERE flow_id = $1 AND status = 'pending' RETURNING ${FLOW_COLUMNS}`,
        [flowId, status, now],
      ),
    );
  }

  async recordPoll(
    deviceCodeHash: Buffer,
    now: Date,
    tolerance: { ms: number; share: number; step: number; pace?: boolean },
  ): Promise<PollRecord | undefined> {
    // The old row is read under FOR UPDATE in the same statement, so concurrent polls on any
    // number of instances are serialized and each sees the one before it (RFC 8628 §3.5).
    const rows = await this.db.query(
      `UPDATE device_requests AS d SET
         last_poll_at = CASE WHEN o.too_soon AND $6 THEN o.due_at ELSE $2 END,
         interval_seconds = CASE WHEN o.too_soon AND NOT $6 THEN o.interval_seconds + $5::int ELSE o.interval_seconds END
       FROM (
         SELECT device_code_hash, interval_seconds, due_at,
           (last_poll_at IS NOT NULL AND status = 'pending' AND expires_at > $2 AND $2::timestamptz < due_at) AS too_soon
         FROM (
           SELECT device_code_hash, interval_seconds, last_poll_at, status, expires_at,
             last_poll_at + (interval_seconds * 1000 - LEAST($3::int, interval_seconds * 1000 * $4::float8))
               * interval '1 millisecond' AS due_at
           FROM device_requests WHERE device_code_hash = $1 FOR UPDATE
         ) AS locked
       ) AS o
       WHERE d.device_code_hash = o.device_code_hash
       RETURNING ${flowColumns('d.')}, o.too_soon, o.due_at`,
      [deviceCodeHash, now, tolerance.ms, tolerance.share, tolerance.step, tolerance.pace === true],
    );
    const row = rows[0];
    if (!row) return undefined;
    const early = Boolean(row.too_soon);
    return {
      flow: toFlow(row),
      slowDown: early && tolerance.pace !== true,
      ...(early && tolerance.pace === true ? { dueAt: date(row.due_at) } : {}),
    };
  }

  async claimToken(deviceCodeHash: Buffer, now: Date, graceMs: number): Promise<TokenClaim | undefined> {
    // The row is read under FOR UPDATE in the same statement, so concurrent claims on any number
    // of instances are serialized and each sees whether one before it delivered already.
    const rows = await this.db.query(
      `UPDATE device_requests AS d SET status = 'delivered', delivered_at = COALESCE(o.delivered_at, $2)
       FROM (SELECT device_code_hash, delivered_at FROM device_requests WHERE device_code_hash = $1 FOR UPDATE) AS o
       WHERE d.device_code_hash = o.device_code_hash
         AND (d.status = 'approved'
           OR (d.status = 'delivered' AND d.delivered_at > $2::timestamptz - $3::int * interval '1 millisecond'))
       RETURNING d.sealed_token, o.delivered_at IS NULL AS first`,
      [deviceCodeHash, now, graceMs],
    );
    const row = rows[0];
    return row ? { sealed: bytes(row.sealed_token), first: row.first === true } : undefined;
  }

  async giveBack(deviceCodeHash: Buffer): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE device_requests SET status = 'approved', delivered_at = NULL
       WHERE device_code_hash = $1 AND status = 'delivered' RETURNING flow_id`,
      [deviceCodeHash],
    );
    return rows.length === 1;
  }

  async purge(before: Date, now: Date, deliveredBefore: Date): Promise<PurgedFlow[]> {
    // One statement, so several instances purging at once simply share the work, and each
    // deleted flow is reported by exactly one of them. The other DELETEs run to completion
    // whether or not anything reads them (PostgreSQL's rule for data-modifying WITH).
    const rows = await this.db.query(
      `WITH flows AS (
              DELETE FROM device_requests
              WHERE expires_at < $1 OR (status = 'delivered' AND delivered_at < $3)
              RETURNING flow_id, status),
            limits AS (DELETE FROM rate_limits WHERE window_start < $2::timestamptz - interval '1 day'),
            codes AS (DELETE FROM code_sightings WHERE expires_at < $2),
            logins AS (DELETE FROM browser_logins WHERE expires_at < $2)
       SELECT flow_id, status FROM flows`,
      [before, now, deliveredBefore],
    );
    return rows.map((row) => ({ flowId: row.flow_id as string, status: row.status as FlowStatus }));
  }

  async hit(key: string, now: Date, windowMs: number): Promise<RateCount> {
    const [count] = await this.hitAll([key], now, windowMs);
    return count!;
  }

  async hitAll(keys: string[], now: Date, windowMs: number): Promise<RateCount[]> {
    const rows = await this.db.query(HIT_ALL_SQL, [keys, now, windowMs]);
    const byKey = new Map(rows.map((row) => [row.key as string, toCount(row, windowMs)]));
    return keys.map((key) => byKey.get(key)!);
  }

  async forgive(windows: { key: string; windowStart: Date }[]): Promise<void> {
    if (windows.length === 0) return;
    await this.db.query(
      `UPDATE rate_limits AS r SET hits = r.hits - 1
       FROM unnest($1::text[], $2::text[]) AS w(key, window_start)
       WHERE r.key = w.key AND r.window_start = w.window_start::timestamptz AND r.hits > 0`,
      [windows.map((w) => w.key), windows.map((w) => w.windowStart.toISOString())],
    );
  }

  async raiseInterval(deviceCodeHash: Buffer, intervalSeconds: number, now: Date): Promise<void> {
    await this.db.query(
      `UPDATE device_requests SET interval_seconds = GREATEST(interval_seconds, $2), last_poll_at = $3
       WHERE device_code_hash = $1`,
      [deviceCodeHash, intervalSeconds, now],
    );
  }

  async staleFlows(
    cached: { key: string; intervalSeconds: number }[],
  ): Promise<Map<string, FlowState | undefined>> {
    const stale = new Map<string, FlowState | undefined>();
    if (cached.length === 0) return stale;
    // Hex text in, so both drivers pass the arrays the same way. Only the differences come
    // back, so a re-check of thousands of unchanged flows parses no rows: a third of the
    // client's CPU of returning every state (docs/performance.md, "Figures behind the code").
    // One primary-key lookup per key (LIMIT 1 keeps the planner from joining by hashing
    // the whole table, which it chose for a plain join and which grows with the table).
    const rows = await this.db.query(
      `SELECT c.k AS key, d.status, d.interval_seconds
       FROM unnest($1::text[], $2::int[]) AS c(k, iv)
       LEFT JOIN LATERAL (
         SELECT status, interval_seconds FROM device_requests
         WHERE device_code_hash = decode(c.k, 'hex') LIMIT 1
       ) d ON true
       WHERE d.status IS DISTINCT FROM 'pending' OR d.interval_seconds > c.iv`,
      [cached.map((c) => c.key), cached.map((c) => c.intervalSeconds)],
    );
    for (const row of rows) {
      stale.set(
        row.key as string,
        row.status === null
          ? undefined
          : { status: row.status as FlowStatus, intervalSeconds: Number(row.interval_seconds) },
      );
    }
    return stale;
  }

  subscribe(subscriber: FlowSubscriber): Promise<() => Promise<void>> {
    return this.db.listen(FLOW_CHANNEL, {
      onNotify: (payload) => {
        if (payload.startsWith(PROBE_PREFIX)) {
          this.probes.get(payload)?.();
          return;
        }
        const [key, status] = payload.split(':');
        if (key && status) subscriber.onEvent({ key, status: status as FlowEvent['status'] });
      },
      onLost: () => subscriber.onLost(),
      onRestored: () => subscriber.onRestored(),
      onError: (err) => subscriber.onError(err),
    });
  }

  async notificationsArrive(timeoutMs: number): Promise<boolean> {
    const payload = `${PROBE_PREFIX}${randomUUID()}`;
    const heard = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.probes.delete(payload);
        resolve(false);
      }, timeoutMs);
      this.probes.set(payload, () => {
        clearTimeout(timer);
        this.probes.delete(payload);
        resolve(true);
      });
    });
    await this.db.query('SELECT pg_notify($1, $2)', [FLOW_CHANNEL, payload]);
    return heard;
  }

  async countPending(now: Date): Promise<number> {
    const rows = await this.db.query(
      `SELECT count(*)::int AS n FROM device_requests WHERE status = 'pending' AND expires_at > $1`,
      [now],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async sightCodes(codeKeys: Buffer[], flowId: string | null, keepUntil: Date): Promise<CodeSighting[]> {
    if (codeKeys.length === 0) return [];
    // Upserted in key order, so concurrent statements lock shared rows in the same order and
    // cannot deadlock. An existing row keeps its flow (the update writes back what is there, to
    // lock and return it); a row this statement inserted has no xmax yet, which is how its
    // first sighting is told from a later one.
    const rows = await this.db.query(
      `INSERT INTO code_sightings AS c (code_key, flow_id, expires_at)
       SELECT decode(k, 'hex'), $2, $3 FROM unnest($1::text[]) AS u(k) ORDER BY k
       ON CONFLICT (code_key) DO UPDATE SET flow_id = c.flow_id
       RETURNING encode(code_key, 'hex') AS key, flow_id, xmax = 0 AS first`,
      [codeKeys.map((k) => k.toString('hex')), flowId, keepUntil],
    );
    const byKey = new Map(rows.map((row) => [row.key as string, row]));
    return codeKeys.map((k) => {
      const row = byKey.get(k.toString('hex'))!;
      return { first: row.first === true, flowId: (row.flow_id as string | null) ?? null };
    });
  }

  async makeRoom(holder: string, now: Date, spare: number): Promise<Room> {
    const rows = await this.db.query(MAKE_ROOM_SQL, [
      holder,
      now,
      spare,
      randomBytes(32),
      MAKE_ROOM_SAMPLE,
      MAKE_ROOM_COUNT_CAP,
    ]);
    const row = rows[0]!;
    return {
      ...(row.displaced ? { displaced: row.displaced as string } : {}),
      ...(row.free_at ? { freeAt: date(row.free_at) } : {}),
    };
  }

  async recordBrowserLogin(
    browserKey: Buffer,
    sealed: Buffer,
    keepUntil: Date,
    replacing?: Buffer,
  ): Promise<void> {
    await this.db.query(
      `WITH gone AS (DELETE FROM browser_logins WHERE browser_key = $4)
       INSERT INTO browser_logins (browser_key, sealed, expires_at) VALUES ($1, $2, $3)`,
      [browserKey, sealed, keepUntil, replacing ?? null],
    );
  }

  async browserLogin(browserKey: Buffer, now: Date): Promise<Buffer | undefined> {
    const rows = await this.db.query(
      'SELECT sealed FROM browser_logins WHERE browser_key = $1 AND expires_at > $2',
      [browserKey, now],
    );
    return rows[0] ? bytes(rows[0].sealed) : undefined;
  }

  async ping(): Promise<void> {
    await this.db.query('SELECT 1');
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
