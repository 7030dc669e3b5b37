/**
 * The measurements, each a sequence of load-generator runs plus the readings around them.
 * Shared by the PostgreSQL and PGlite halves of bench/run.ts.
 */
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type { RunResult, RunSpec } from './load.js';
import { type Child, forkTs, sleep } from './processes.js';
import { memory, type Product, pollCounts, scrape } from './product.js';

/** How long load runs last (seconds). */
export interface Timing {
  warmup: number;
  measure: number;
  /**
   * HTTP/1.1 pipelining depth of the poll runs (floor, ceiling and server alike). One
   * autocannon process tops out near 12,000 requests/s at depth 1 on this machine; deeper
   * pipelines cost it less per request, so the ceiling moves up and a server faster than the
   * floor can show it. Node's HTTP server still answers one request per connection at a time,
   * so the floor gains nothing from it (docs/performance.md).
   */
  pipelining: number;
}

/** The load generator process (bench/load.ts), one request at a time. */
export class LoadClient {
  private nextId = 0;
  private readonly waiting = new Map<
    number | string,
    { resolve: (v: unknown) => void; reject: (e: Error) => void }
  >();

  private constructor(readonly child: Child) {
    child.proc.on(
      'message',
      (m: { type: string; id?: number; set?: string; result?: unknown; message?: string }) => {
        const key = m.type === 'codes' || m.type === 'size' ? `${m.type}:${m.set}` : (m.id ?? -1);
        const w = this.waiting.get(key);
        this.waiting.delete(key);
        if (m.type === 'error') w?.reject(new Error(m.message));
        else w?.resolve(m.result);
      },
    );
    child.exited.then(() => {
      for (const w of this.waiting.values()) w.reject(new Error('the load generator exited'));
    });
  }

  /** Fork bench/load.ts. */
  static start(): LoadClient {
    return new LoadClient(forkTs('load generator', new URL('./load.ts', import.meta.url).pathname));
  }

  private ask<T>(key: number | string, message: object): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(key, { resolve: resolve as (v: unknown) => void, reject });
      this.child.proc.send(message);
    });
  }

  /** Derive the seeded codes `prefix0…` in the load generator, as set `set`. */
  codes(set: string, prefix: string, count: number): Promise<void> {
    return this.ask(`codes:${set}`, { type: 'codes', set, prefix, count });
  }

  /** How many codes set `set` holds. */
  size(set: string): Promise<number> {
    return this.ask(`size:${set}`, { type: 'size', set });
  }

  run(spec: RunSpec): Promise<RunResult> {
    const id = ++this.nextId;
    return this.ask(id, { type: 'run', id, spec });
  }
}

const CONNECTIONS = 32;
// PostgreSQL publishes a backend's counters within a second of its going idle, or, when the
// shared entry was locked at that moment, 10 s later.
const STATS_SETTLE_MS = 1200;
const LATE_STATS_MS = 11_000;

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * `xact_commit + xact_rollback` of one database, read from another (so the reading does not
 * count), on a fresh connection (so no cached snapshot).
 *
 * A backend publishes its counters within about a second of going idle, but one that finds
 * the shared entry locked tries again only 10 s later, so a reading soon after a run may miss
 * a few seconds of it. A backend publishes everything as it exits, so the reading is exact
 * once the database has no connections left: `terminate` ends them first (the floor, whose
 * pool just reconnects), `closed` waits for the client to have closed them (the server, once
 * stopped). `settle` leaves them alone and reads once the count has stopped moving for 2 s;
 * `now` reads at once (the caller has waited long enough).
 */
export async function transactions(
  adminUrl: string,
  database: string,
  how: 'settle' | 'terminate' | 'closed' | 'now' = 'settle',
): Promise<number> {
  return withClient(adminUrl, async (client) => {
    const count = async (sql: string) =>
      Number((await client.query<{ n: string }>(sql, [database])).rows[0]?.n);
    const read = () =>
      count('SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = $1');
    const backends = () => count('SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1');
    if (how === 'terminate') {
      await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [
        database,
      ]);
    }
    if (how === 'now') return read();
    if (how !== 'settle') {
      for (let i = 0; i < 200 && (await backends()) > 0; i++) await sleep(50);
      await client.query('SELECT pg_stat_clear_snapshot()');
      return read();
    }
    await sleep(STATS_SETTLE_MS);
    let last = await read();
    for (let stable = 0, i = 0; stable < 4 && i < 20; i++) {
      await sleep(500);
      await client.query('SELECT pg_stat_clear_snapshot()');
      const now = await read();
      stable = now === last ? stable + 1 : 0;
      last = now;
    }
    return last;
  });
}

/** Where to read transaction counts, when the store is PostgreSQL. */
export interface StatsTarget {
  adminUrl: string;
  database: string;
  /** How to read the count (see `transactions`). */
  how?: 'settle' | 'terminate';
}

/** Pending polls: throughput and latency of the measured run, and transactions per poll. */
export interface PollFigures {
  perSecond: number;
  p50: number;
  p99: number;
  requests: number;
  status: Record<string, number>;
  errors: number;
  transactionsPerPoll?: number;
}

function figures(run: RunResult, tx?: number): PollFigures {
  return {
    perSecond: run.perSecond,
    p50: run.latency.p50,
    p99: run.latency.p99,
    requests: run.requests,
    status: run.status,
    errors: run.errors + run.timeouts,
    ...(tx === undefined ? {} : { transactionsPerPoll: tx / run.requests }),
  };
}

/** Run `spec` for the measured duration, counting the database's transactions around it. */
async function measured(load: LoadClient, spec: RunSpec, timing: Timing, stats?: StatsTarget) {
  const count = () => (stats ? transactions(stats.adminUrl, stats.database, stats.how) : Promise.resolve(0));
  const before = await count();
  const run = await load.run({ ...spec, duration: timing.measure });
  const tx = stats ? (await count()) - before : undefined;
  return { run, figures: figures(run, tx) };
}

/** The floor's pending polls: cycle over its 100k flows (warm-up, then the measured run). */
export async function floorPolls(load: LoadClient, url: string, timing: Timing, stats?: StatsTarget) {
  const spec: RunSpec = {
    url,
    kind: 'poll',
    set: 'floor',
    connections: CONNECTIONS,
    pipelining: timing.pipelining,
  };
  await load.run({ ...spec, cursor: 0, duration: timing.warmup });
  return (await measured(load, spec, timing, stats)).figures;
}

/** The ceiling: the floor's polls without the query (a short run; it is context, not a target). */
export async function ceilingPolls(load: LoadClient, url: string, timing: Timing): Promise<PollFigures> {
  const spec: RunSpec = {
    url,
    path: '/ceiling/device/token',
    kind: 'poll',
    set: 'floor',
    connections: CONNECTIONS,
    pipelining: timing.pipelining,
  };
  await load.run({ ...spec, cursor: 0, duration: 1 });
  return figures(await load.run({ ...spec, duration: 4 }));
}

/** The server's pending polls, and what it took to measure them honestly. */
export interface ServerPolls extends PollFigures {
  /** Live flows the runs cycle over. */
  flows: number;
  /** Requests per second the cycle allows (one poll per flow per interval). */
  cap: number;
  /** The run reached the cap: the server could have done more. */
  capped: boolean;
  /** Answers by result over the warm-up and the run (from the server's metrics). */
  results: Record<string, number>;
}

/**
 * The interval the bench's server gives (POLL_INTERVAL_SECONDS=1): no flow is polled more often.
 * The pending path is the same at any interval; a short one lets fewer live flows (started at
 * the server's real rate, within the time budget) load the server without earning `slow_down`.
 */
export const INTERVAL_SECONDS = 1;

/** Reading the server's database transactions around its poll run (PostgreSQL only). */
export interface ServerStats {
  adminUrl: string;
  database: string;
  /**
   * `performance.now()` of the end of the last busy database phase: the count is read no
   * sooner than 11 s after it, when late-published counters from that phase are in.
   */
  busyUntil: number;
}

/**
 * Pending polls on the server, cycling over the flows in `set` (started through its API
 * earlier in the run, so the server has seen each one, as it would in a steady state), at
 * most one poll per flow per interval, so no poll earns `slow_down`: the cap is `flows / 5 s`.
 * With `stats`, returns the transaction count read before the measured run; the caller reads
 * it again once the server has stopped (its backends publish everything as they exit), so
 * the difference is exact at that end.
 */
export async function serverPolls(
  load: LoadClient,
  product: Product,
  set: { name: string; size: number },
  timing: Timing,
  stats?: ServerStats,
): Promise<{ polls: ServerPolls; transactionsBefore?: number }> {
  const before = pollCounts(await scrape(product.url));
  const cap = set.size / INTERVAL_SECONDS;
  const cycle: RunSpec = {
    url: product.url,
    kind: 'poll',
    set: set.name,
    connections: CONNECTIONS,
    pipelining: timing.pipelining,
    overallRate: cap,
  };
  await load.run({ ...cycle, cursor: 0, duration: timing.warmup });
  let transactionsBefore: number | undefined;
  if (stats) {
    await sleep(stats.busyUntil + LATE_STATS_MS - performance.now());
    transactionsBefore = await transactions(stats.adminUrl, stats.database, 'now');
  }
  const run = await load.run({ ...cycle, duration: timing.measure });
  const after = pollCounts(await scrape(product.url));
  const results: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) if (v - (before[k] ?? 0) > 0) results[k] = v - (before[k] ?? 0);
  const f = figures(run);
  return {
    polls: { ...f, flows: set.size, cap, capped: f.perSecond >= 0.95 * cap, results },
    ...(transactionsBefore === undefined ? {} : { transactionsBefore }),
  };
}

/** Flows started per second (POST /device/code), after a warm-up. */
export interface StartFigures {
  perSecond: number;
  p50: number;
  p99: number;
  requests: number;
  status: Record<string, number>;
  errors: number;
}

/** Flows started per second; the device codes answered are kept in the load generator's set `capture`. */
export async function starts(
  load: LoadClient,
  url: string,
  timing: Timing,
  capture: string,
): Promise<StartFigures> {
  const spec: RunSpec = { url, kind: 'start', connections: CONNECTIONS, capture };
  await load.run({ ...spec, duration: timing.warmup });
  const run = await load.run({ ...spec, duration: timing.measure });
  return {
    perSecond: run.perSecond,
    p50: run.latency.p50,
    p99: run.latency.p99,
    requests: run.requests,
    status: run.status,
    errors: run.errors + run.timeouts,
  };
}

/** Memory growth of the server for 10,000 pending flows, each polled once. */
export interface MemoryFigures {
  flows: number;
  rssBefore: number;
  rssAfter: number;
  heapBefore: number;
  heapAfter: number;
  /** Bytes per 10,000 flows. */
  rssPer10k: number;
  heapPer10k: number;
}

/** Start `count` flows (their codes appended to `set`, which holds `had` before), then poll each once. */
async function startAndPollOnce(load: LoadClient, url: string, set: string, had: number, count: number) {
  const started = await load.run({
    url,
    kind: 'start',
    connections: CONNECTIONS,
    amount: count,
    capture: set,
  });
  if (started.captured !== count) throw new Error(`started ${started.captured} of ${count} flows`);
  await load.run({ url, kind: 'poll', set, cursor: had, connections: CONNECTIONS, amount: count });
}

/** Memory growth for `count` flows started and polled once; their codes end up in `set` (empty before). */
export async function memoryPerFlows(
  load: LoadClient,
  product: Product,
  set: string,
  count = 10_000,
): Promise<MemoryFigures> {
  // A first batch of the same size and load brings the process to its working size under this
  // load before the baseline: V8's young generation and the allocator's arenas grow to fit 32
  // concurrent requests once (about 20 MB of RSS on this machine, measured), whether the flows
  // stay or not. What the second batch adds is what flows hold.
  const warmup = count;
  await startAndPollOnce(load, product.url, set, 0, warmup);
  const before = await memory(product);
  await startAndPollOnce(load, product.url, set, warmup, count);
  const after = await memory(product);
  const scale = 10_000 / count;
  return {
    flows: count,
    rssBefore: before.rss,
    rssAfter: after.rss,
    heapBefore: before.heap,
    heapAfter: after.heap,
    rssPer10k: (after.rss - before.rss) * scale,
    heapPer10k: (after.heap - before.heap) * scale,
  };
}
