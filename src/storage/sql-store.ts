/**
 * The `Store` in SQL, shared by both drivers: every method is one statement, so one round trip,
 * and every state change is a conditional UPDATE/DELETE that only one caller can win.
 */

import { randomBytes, randomUUID } from 'node:crypto';
import { dueAtSql } from '../device-flow/pacing.js';
import { Batcher } from './batcher.js';
import type { Db, Row } from './db.js';
import { runMigrations } from './migrate.js';
import { SharedListen } from './shared-listen.js';
import type {
  CodeSighting,
  Confirming,
  EndRecord,
  EndStatus,
  Flow,
  FlowEvent,
  FlowState,
  FlowStatus,
  FlowSubscriber,
  LoginEvent,
  LoginEventFilter,
  LoginOutcome,
  NewFlow,
  OrganizationRecord,
  OutboxItem,
  OutboxSubscriber,
  OutboxUpdate,
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
   ${t}state_claimed_at IS NOT NULL AS state_claimed, ${t}finished_at, ${t}refusal`;
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
    refusal: (row.refusal as string | null) ?? null,
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

/** Where an end event's parameters are, in a statement that records one. */
interface EndParams {
  at: string;
  instance: string;
  keep: string;
  notify: string;
}

/**
 * How long an event anyone can cause without an account at the provider is kept (at most
 * `AUDIT_RETENTION_DAYS`): every outcome but a token issued (`delivered`, `refused`, or
 * `expired` as `not_collected`). A script can start flows from many addresses, confirm them,
 * cancel them, send the callback an error or a junk code, or let them expire; kept as long as
 * logins, that would fill the trail for months (docs/security.md, "Denial of service").
 * Webhooks send these events all the same.
 */
const ANONYMOUS_KEPT = '1 day';

/** SQL: whether an event of `outcome` and `reason` records a token the provider issued (a real login). */
const tokenIssued = (outcome: string, reason: string): string =>
  `(${outcome} IN ('delivered', 'refused') OR (${outcome} = 'expired' AND ${reason} = 'not_collected'))`;

/**
 * The CTEs that record the end of the flows in CTE `source` (rows of `device_requests`, as
 * RETURNING * gives them): one event each in `login_events` (none if the flow has one:
 * ON CONFLICT), with `outcome` and `reason` as SQL over `source`'s columns, and, when the
 * statement's `notify` parameter is true, a row each in the webhook outbox. Every statement that
 * ends a flow includes them, so the event is written with the change, by the same statement
 * (migrations/015). The statement's last CTE then reads `event`.
 */
function endEvents(source: string, p: EndParams, outcome: string, reason: string): string {
  return `event AS (
    INSERT INTO login_events (event_id, flow_id, at, outcome, reason, org_key, org_sealed, client_ip,
      user_agent, browser_network, code_source, instance, started_at, keep_until)
    SELECT 'evt_' || replace(gen_random_uuid()::text, '-', ''), flow_id, ${p.at}::timestamptz, ${outcome}, ${reason},
      org_key, org_sealed, client_ip, user_agent, browser_network, code_source, ${p.instance}::text, created_at,
      CASE WHEN ${tokenIssued(outcome, reason)} IS TRUE THEN ${p.keep}::timestamptz
        ELSE LEAST(${p.keep}::timestamptz, ${p.at}::timestamptz + interval '${ANONYMOUS_KEPT}') END
    FROM ${source}
    ON CONFLICT (flow_id) DO NOTHING
    RETURNING event_id, flow_id, at
  ),
  outbox AS (
    INSERT INTO webhook_outbox (event_id, next_attempt_at, created_at)
    SELECT event_id, at, at FROM event WHERE ${p.notify}::boolean
  )`;
}

/** An end's parameters, in the order `EndParams` names them from `first`. */
const endParams = (end: EndRecord): unknown[] => [end.now, end.instance, end.keepUntil, end.notify];

/** The columns of `login_events` that make a `LoginEvent`, optionally qualified by a table alias. */
const eventColumns = (t = ''): string =>
  [
    'event_id',
    'flow_id',
    'at',
    'outcome',
    'reason',
    'org_key',
    'org_sealed',
    'client_ip',
    'user_agent',
    'browser_network',
    'code_source',
    'instance',
    'started_at',
  ]
    .map((column) => `${t}${column}`)
    .join(', ');

function toEvent(row: Row): LoginEvent {
  return {
    eventId: row.event_id as string,
    flowId: row.flow_id as string,
    at: date(row.at),
    outcome: row.outcome as LoginOutcome,
    reason: (row.reason as string | null) ?? null,
    orgKey: row.org_key == null ? null : bytes(row.org_key),
    orgSealed: row.org_sealed == null ? null : bytes(row.org_sealed),
    clientIp: (row.client_ip as string | null) ?? null,
    userAgent: (row.user_agent as string | null) ?? null,
    browserNetwork: (row.browser_network as string | null) ?? null,
    codeSource: (row.code_source as string | null) ?? null,
    instance: (row.instance as string | null) ?? null,
    startedAt: date(row.started_at),
  };
}

/**
 * How a flow that ran out of time without an end of its own ended: `failed` when its last
 * exchange failed (the reason why), else `expired` (reason `not_collected` when approved but
 * never polled for; `displaced` comes from makeRoom).
 */
const TIMED_OUT = {
  outcome: `CASE WHEN failure IS NOT NULL THEN 'failed' ELSE 'expired' END`,
  reason: `CASE WHEN failure IS NOT NULL THEN failure WHEN status = 'approved' THEN 'not_collected' END`,
};

/** The channel migrations/002 notifies on. */
const FLOW_CHANNEL = 'postiz_cli_auth_flows';
/** Test notifications (`notificationsArrive`) on the same channel; other instances ignore them. */
const PROBE_PREFIX = 'probe:';
/** What migrations/015's trigger says on the same channel when events are queued for webhooks. */
const OUTBOX_PAYLOAD = 'outbox';

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
 * count cap, $7–$9 the end's record (instance, keeping, whether to notify). A sample of live pending flows, read along the primary key (a SHA-256, so uniformly
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
    UPDATE device_requests AS d SET expires_at = $2, ended_at = $2 FROM victim
    WHERE d.device_code_hash = victim.device_code_hash AND d.status = 'pending' AND d.ended_at IS NULL
    RETURNING d.*
  ),
  ${endEvents('displaced', { at: '$2', instance: '$7', keep: '$8', notify: '$9' }, `'expired'`, `'displaced'`)}
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
  /** The one LISTEN connection that `subscribe` and `subscribeOutbox` share. */
  private readonly listener: SharedListen;

  constructor(
    private readonly db: Db,
    options: SqlStoreOptions = {},
  ) {
    this.starts = new Batcher((inputs) => this.createFlowsWithin(inputs), {
      maxInFlight: options.startBatches ?? (db.kind === 'pglite' ? 1 : 2),
      maxBatch: 100,
    });
    this.listener = new SharedListen(db, FLOW_CHANNEL);
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

  async confirm(
    flowId: string,
    stateHash: Buffer,
    browserHash: Buffer,
    now: Date,
    confirming?: Confirming,
  ): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE device_requests SET state_hash = $2, browser_hash = $3, state_claimed_at = NULL,
         browser_network = COALESCE($5, browser_network), code_source = COALESCE($6, code_source)
       WHERE flow_id = $1 AND status = 'pending' AND expires_at > $4 AND ended_at IS NULL RETURNING flow_id`,
      [
        flowId,
        stateHash,
        browserHash,
        now,
        confirming?.browserNetwork ?? null,
        confirming?.codeSource ?? null,
      ],
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

  async approve(
    flowId: string,
    sealedToken: Buffer,
    now: Date,
    organization?: OrganizationRecord,
  ): Promise<Flow | undefined> {
    return first(
      await this.db.query(
        `UPDATE device_requests SET status = 'approved', sealed_token = $2, finished_at = $3,
           state_hash = NULL, state_claimed_at = NULL, org_key = $4, org_sealed = $5, failure = NULL
         WHERE flow_id = $1 AND status = 'pending' AND expires_at > $3 AND ended_at IS NULL
         RETURNING ${FLOW_COLUMNS}`,
        [flowId, sealedToken, now, organization?.key ?? null, organization?.sealed ?? null],
      ),
    );
  }

  async deny(
    flowId: string,
    status: EndStatus,
    end: EndRecord,
    organization?: OrganizationRecord,
    refusal?: string,
  ): Promise<Flow | undefined> {
    return first(
      await this.db.query(
        `WITH ended AS (
           UPDATE device_requests SET status = $2, finished_at = $3, state_hash = NULL, state_claimed_at = NULL,
             ended_at = $3, org_key = COALESCE($7, org_key), org_sealed = COALESCE($8, org_sealed), refusal = $9
           WHERE flow_id = $1 AND status = 'pending' AND ended_at IS NULL
           RETURNING *
         ),
         ${endEvents(
           'ended',
           { at: '$3', instance: '$4', keep: '$5', notify: '$6' },
           'status',
           `CASE WHEN status = 'refused' THEN refusal WHEN status = 'blocked' THEN 'cross_network' END`,
         )}
         SELECT ${flowColumns('ended.')} FROM ended`,
        [
          flowId,
          status,
          ...endParams(end),
          organization?.key ?? null,
          organization?.sealed ?? null,
          refusal ?? null,
        ],
      ),
    );
  }

  async recordFailure(flowId: string, failure: string): Promise<void> {
    await this.db.query(
      `UPDATE device_requests SET failure = $2 WHERE flow_id = $1 AND status = 'pending' AND ended_at IS NULL`,
      [flowId, failure],
    );
  }

  async confirmDelivery(deviceCodeHash: Buffer, end: EndRecord): Promise<boolean> {
    const rows = await this.db.query(
      // An answer was written, so the token is the device's: even if an earlier claim's lost
      // answer gave it back meanwhile (status approved again), it is delivered now.
      `WITH ended AS (
         UPDATE device_requests SET status = 'delivered', delivered_at = COALESCE(delivered_at, $2), ended_at = $2
         WHERE device_code_hash = $1 AND status IN ('delivered', 'approved') AND ended_at IS NULL
         RETURNING *
       ),
       ${endEvents('ended', { at: '$2', instance: '$3', keep: '$4', notify: '$5' }, `'delivered'`, 'NULL')}
       SELECT flow_id FROM ended`,
      [deviceCodeHash, ...endParams(end)],
    );
    return rows.length === 1;
  }

  async recordPoll(
    deviceCodeHash: Buffer,
    now: Date,
    pacing: { step: number; pace?: boolean },
  ): Promise<PollRecord | undefined> {
    // The old row is read under FOR UPDATE in the same statement, so concurrent polls on any
    // number of instances are serialized and each sees the one before it (RFC 8628 §3.5).
    const rows = await this.db.query(
      `UPDATE device_requests AS d SET
         last_poll_at = CASE WHEN o.too_soon AND $4 THEN o.due_at ELSE $2 END,
         interval_seconds = CASE WHEN o.too_soon AND NOT $4 THEN o.interval_seconds + $3::int ELSE o.interval_seconds END
       FROM (
         SELECT device_code_hash, interval_seconds, due_at,
           (last_poll_at IS NOT NULL AND status = 'pending' AND expires_at > $2 AND $2::timestamptz < due_at) AS too_soon
         FROM (
           SELECT device_code_hash, interval_seconds, last_poll_at, status, expires_at,
             ${dueAtSql('last_poll_at', 'interval_seconds')} AS due_at
           FROM device_requests WHERE device_code_hash = $1 FOR UPDATE
         ) AS locked
       ) AS o
       WHERE d.device_code_hash = o.device_code_hash
       RETURNING ${flowColumns('d.')}, o.too_soon, o.due_at`,
      [deviceCodeHash, now, pacing.step, pacing.pace === true],
    );
    const row = rows[0];
    if (!row) return undefined;
    const early = Boolean(row.too_soon);
    return {
      flow: toFlow(row),
      slowDown: early && pacing.pace !== true,
      ...(early && pacing.pace === true ? { dueAt: date(row.due_at) } : {}),
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
      // Not once an answer was written and confirmed (a re-collection's, within the grace).
      `UPDATE device_requests SET status = 'approved', delivered_at = NULL
       WHERE device_code_hash = $1 AND status = 'delivered' AND ended_at IS NULL RETURNING flow_id`,
      [deviceCodeHash],
    );
    return rows.length === 1;
  }

  async purge(before: Date, deliveredBefore: Date, end: EndRecord): Promise<PurgedFlow[]> {
    // One statement, so several instances purging at once simply share the work, and each
    // flow's end is recorded by exactly one of them (the row locks of the UPDATE and DELETE, and
    // the event's unique flow id). Flows that ran out of time are marked ended but kept an hour
    // (they still answer expired_token); a flow the DELETE takes is not also updated (a
    // statement may change a row once), so the events come from both. The other DELETEs run to
    // completion whether or not anything reads them (PostgreSQL's rule for data-modifying WITH).
    const rows = await this.db.query(
      `WITH gone AS (
         DELETE FROM device_requests
         WHERE expires_at < $5 OR (status = 'delivered' AND delivered_at < $6)
         RETURNING *
       ),
       timed_out AS (
         UPDATE device_requests SET ended_at = $1
         WHERE ended_at IS NULL AND status IN ('pending', 'approved') AND expires_at <= $1 AND expires_at >= $5
         RETURNING *
       ),
       unended AS (
         SELECT *, ${TIMED_OUT.outcome} AS end_outcome, ${TIMED_OUT.reason} AS end_reason FROM timed_out
         UNION ALL
         SELECT *,
           CASE WHEN status = 'delivered' THEN 'delivered' ELSE ${TIMED_OUT.outcome} END,
           CASE WHEN status = 'delivered' THEN 'unconfirmed' ELSE ${TIMED_OUT.reason} END
         FROM gone WHERE ended_at IS NULL AND status IN ('pending', 'approved', 'delivered')
       ),
       ${endEvents('unended', { at: '$1', instance: '$2', keep: '$3', notify: '$4' }, 'end_outcome', 'end_reason')},
       limits AS (DELETE FROM rate_limits WHERE window_start < $1::timestamptz - interval '1 day'),
       codes AS (DELETE FROM code_sightings WHERE expires_at < $1),
       logins AS (DELETE FROM browser_logins WHERE expires_at < $1),
       events AS (DELETE FROM login_events WHERE keep_until < $1)
       SELECT unended.flow_id, unended.end_outcome, unended.end_reason
       FROM unended JOIN event USING (flow_id)`,
      [...endParams(end), before, deliveredBefore],
    );
    return rows.map((row) => ({
      flowId: row.flow_id as string,
      outcome: row.end_outcome as LoginOutcome,
      reason: (row.end_reason as string | null) ?? null,
    }));
  }

  async loginEvents(filter: LoginEventFilter): Promise<LoginEvent[]> {
    const rows = await this.db.query(
      `SELECT ${eventColumns()} FROM login_events
       WHERE ($1::bytea IS NULL OR org_key = $1) AND ($2::timestamptz IS NULL OR at >= $2)
         AND ($3::text IS NULL OR outcome = $3)
       ORDER BY at DESC, event_id LIMIT $4`,
      [filter.orgKey ?? null, filter.since ?? null, filter.outcome ?? null, filter.limit],
    );
    return rows.map(toEvent);
  }

  async claimOutbox(now: Date, leaseMs: number, limit: number): Promise<OutboxItem[]> {
    // SKIP LOCKED: instances claiming at once each take different items; the lease keeps an
    // item from being sent again while its sender lives, and frees it if it dies.
    const rows = await this.db.query(
      `WITH taken AS (
         UPDATE webhook_outbox AS o SET locked_until = $1::timestamptz + $2::int * interval '1 millisecond',
           attempts = o.attempts + 1
         WHERE o.event_id IN (
           SELECT event_id FROM webhook_outbox
           WHERE state = 'pending' AND next_attempt_at <= $1 AND (locked_until IS NULL OR locked_until <= $1)
           ORDER BY next_attempt_at LIMIT $3
           FOR UPDATE SKIP LOCKED
         )
         RETURNING o.event_id, o.attempts, o.delivered_to, o.created_at AS queued_at, o.next_attempt_at
       )
       SELECT taken.attempts, taken.delivered_to, taken.queued_at, ${eventColumns('e.')}
       FROM taken JOIN login_events AS e ON e.event_id = taken.event_id
       ORDER BY taken.next_attempt_at, e.at, e.event_id`,
      [now, leaseMs, limit],
    );
    return rows.map((row) => ({
      event: toEvent(row),
      attempts: Number(row.attempts),
      deliveredTo: (row.delivered_to as string[] | null) ?? [],
      createdAt: date(row.queued_at),
    }));
  }

  async settleOutbox(eventId: string, update: OutboxUpdate, now: Date): Promise<void> {
    await this.db.query(
      `UPDATE webhook_outbox SET state = $2, delivered_to = $3, locked_until = NULL,
         next_attempt_at = COALESCE($4, next_attempt_at), last_error = $5,
         finished_at = CASE WHEN $2 = 'pending' THEN NULL ELSE $6::timestamptz END
       WHERE event_id = $1`,
      [
        eventId,
        update.state,
        update.deliveredTo,
        update.state === 'pending' ? update.nextAttemptAt : null,
        update.state === 'delivered' ? null : update.error,
        now,
      ],
    );
  }

  async countOutbox(): Promise<{ pending: number; failed: number }> {
    // Each count through its partial index (migrations/015 and 017): delivered events, kept
    // for months, are never read.
    const [row] = await this.db.query(
      `SELECT (SELECT count(*) FROM webhook_outbox WHERE state = 'pending')::int AS pending,
         (SELECT count(*) FROM webhook_outbox WHERE state = 'failed')::int AS failed`,
    );
    return { pending: Number(row?.pending ?? 0), failed: Number(row?.failed ?? 0) };
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
    return this.listener.add({
      onNotify: (payload) => {
        if (payload.startsWith(PROBE_PREFIX)) {
          this.probes.get(payload)?.();
          return;
        }
        if (payload === OUTBOX_PAYLOAD) return;
        const [key, status] = payload.split(':');
        if (key && status) subscriber.onEvent({ key, status: status as FlowEvent['status'] });
      },
      onLost: () => subscriber.onLost(),
      onRestored: () => subscriber.onRestored(),
      onError: (err) => subscriber.onError(err),
    });
  }

  subscribeOutbox(subscriber: OutboxSubscriber): Promise<() => Promise<void>> {
    return this.listener.add({
      onNotify: (payload) => {
        if (payload === OUTBOX_PAYLOAD) subscriber.onQueued();
      },
      onLost: () => {},
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

  async makeRoom(holder: string, spare: number, end: EndRecord): Promise<Room> {
    const rows = await this.db.query(MAKE_ROOM_SQL, [
      holder,
      end.now,
      spare,
      randomBytes(32),
      MAKE_ROOM_SAMPLE,
      MAKE_ROOM_COUNT_CAP,
      end.instance,
      end.keepUntil,
      end.notify,
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
