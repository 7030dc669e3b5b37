/**
 * The measurements, each a sequence of load-generator runs plus the readings around them.
 * Shared by the PostgreSQL and PGlite halves of bench/run.ts.
 */
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { POLL_TOLERANCE } from '../src/device-flow/pacing.js';
import { type CpuTarget, cpuDuring } from './cpu.js';
import type { RunResult, RunSpec } from './load.js';
import { othersDuring } from './machine.js';
import { type Child, forkTs, sleep } from './processes.js';
import { INTERVAL_SECONDS, memory, type Product, pollCounts, scrape } from './product.js';
import { runWrk, type WrkResult } from './wrk.js';

/** How load runs go. */
export interface Timing {
  /** Seconds of warm-up before each measured run, and of the measured run. */
  warmup: number;
  measure: number;
  /**
   * `wrk` (the default when installed): one C thread, 32 connections, one request at a time
   * per connection, as real CLIs send them. `autocannon`: the fallback, one Node process.
   */
  generator: 'wrk' | 'autocannon';
  /**
   * HTTP/1.1 pipelining depth of the autocannon poll runs (default 1, none). One autocannon
   * process tops out near 12,000 requests/s at depth 1 here; deeper pipelines lift that
   * ceiling, but real CLIs never pipeline (docs/performance.md, the earlier method).
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
        const key =
          m.type === 'codes' || m.type === 'size' || m.type === 'dump' ? `${m.type}:${m.set}` : (m.id ?? -1);
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

  /** Fork bench/load.ts (on the Node at `execPath`). */
  static start(execPath?: string): LoadClient {
    return new LoadClient(
      forkTs('load generator', new URL('./load.ts', import.meta.url).pathname, [], execPath),
    );
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

  /** Write set `set` to `file`, one code per line (for wrk); resolves with how many. */
  dump(set: string, file: string): Promise<number> {
    return this.ask(`dump:${set}`, { type: 'dump', set, file });
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

/** Pending polls (or starts): throughput, latency and CPU of the measured run. */
export interface PollFigures {
  perSecond: number;
  p50: number;
  p99: number;
  requests: number;
  /** Answers by status (wrk only tells 2xx/3xx from the rest: `ok` and `4xx+`). */
  status: Record<string, number>;
  errors: number;
  transactionsPerPoll?: number;
  /** CPU µs per answered request: the process, and its PostgreSQL backends when it has a database. */
  cpuMicros?: number;
  /** Cores other processes on the machine (not the benchmark's) used meanwhile, on average (bench/machine.ts). */
  othersCores?: number;
}

/** `run`, with how many cores other processes on the machine used meanwhile. */
async function watched(run: () => Promise<PollFigures>): Promise<PollFigures> {
  const { result, othersCores } = await othersDuring(run);
  return { ...result, othersCores };
}

function fromAutocannon(run: RunResult): PollFigures {
  return {
    perSecond: run.perSecond,
    p50: run.latency.p50,
    p99: run.latency.p99,
    requests: run.requests,
    status: run.status,
    errors: run.errors + run.timeouts,
  };
}

function fromWrk(run: WrkResult): PollFigures {
  return {
    perSecond: run.perSecond,
    p50: run.latency.p50,
    p99: run.latency.p99,
    requests: run.requests,
    status: { ok: run.requests - run.statusErrors, '4xx+': run.statusErrors },
    errors: run.socketErrors,
  };
}

/** Where a poll run goes and what it cycles over. */
interface PollTarget {
  url: string;
  path?: string;
  /** The load generator's code set (autocannon), and the same codes in a file (wrk). */
  set: string;
  codesFile: string;
  /** Whose CPU the measured run is charged. */
  cpu?: CpuTarget;
}

/** One poll run of `seconds` on the chosen generator, with the CPU it cost its target. */
async function pollRun(
  load: LoadClient,
  timing: Timing,
  target: PollTarget,
  seconds: number,
  cursor?: number,
) {
  const run = async (): Promise<PollFigures> => {
    if (timing.generator === 'wrk') {
      const args = [target.codesFile, target.path ?? '-', ...(cursor === undefined ? [] : [String(cursor)])];
      return fromWrk(
        await runWrk({ url: target.url, script: 'poll', seconds, connections: CONNECTIONS, args }),
      );
    }
    return fromAutocannon(
      await load.run({
        url: target.url,
        kind: 'poll',
        ...(target.path ? { path: target.path } : {}),
        set: target.set,
        connections: CONNECTIONS,
        pipelining: timing.pipelining,
        duration: seconds,
        ...(cursor === undefined ? {} : { cursor }),
      }),
    );
  };
  if (!target.cpu) return run();
  const { result, cpu } = await cpuDuring(target.cpu, () => watched(run));
  return { ...result, cpuMicros: (cpu * 1e6) / Math.max(1, result.requests) };
}

/**
 * Where the measured run starts in the cycle: after the warm-up's last poll, past the ones it
 * still had in flight (one per connection), so no flow is polled twice within an interval.
 * autocannon continues its own cursor.
 */
function next(warm: PollFigures, timing: Timing): number | undefined {
  return timing.generator === 'wrk' ? warm.requests + 2 * CONNECTIONS : undefined;
}

/** A warm-up, then the measured run, counting the database's transactions around it. */
async function measuredPolls(load: LoadClient, timing: Timing, target: PollTarget, stats?: StatsTarget) {
  const warm = await pollRun(load, timing, { ...target, cpu: undefined }, timing.warmup, 0);
  const count = () => (stats ? transactions(stats.adminUrl, stats.database, stats.how) : Promise.resolve(0));
  const before = await count();
  const figures = await pollRun(load, timing, target, timing.measure, next(warm, timing));
  if (!stats) return figures;
  return { ...figures, transactionsPerPoll: ((await count()) - before) / figures.requests };
}

/** The floor's pending polls: cycle over its 100k flows (warm-up, then the measured run). */
export function floorPolls(
  load: LoadClient,
  timing: Timing,
  target: PollTarget,
  stats?: StatsTarget,
): Promise<PollFigures> {
  return measuredPolls(load, timing, target, stats);
}

/**
 * The ceiling: the floor's polls answered by the same process without the query (a bare
 * node:http answer). It bounds what the machine and the load generator can show at all, and
 * its CPU per answer is the yardstick of the server's.
 */
export function ceilingPolls(load: LoadClient, timing: Timing, target: PollTarget): Promise<PollFigures> {
  return measuredPolls(load, timing, { ...target, path: '/ceiling/device/token' });
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
 * earlier in the run, so the server has seen each one, as it would in a steady state). A flow
 * polled sooner than its interval less the tolerance earns `slow_down` (src/device-flow/pacing.ts),
 * so a cycle of N flows holds up to N / 0.6 s polls/s at the bench's 1 s interval: the cap.
 * With `stats`, returns the transaction count read before the measured run; the caller reads
 * it again once the server has stopped (its backends publish everything as they exit), so
 * the difference is exact at that end.
 */
export async function serverPolls(
  load: LoadClient,
  product: Product,
  set: { name: string; size: number; codesFile: string },
  timing: Timing,
  stats?: ServerStats,
): Promise<{ polls: ServerPolls; transactionsBefore?: number }> {
  const before = pollCounts(await scrape(product.url));
  // The report checks that no poll earned slow_down; a run near the cap is a lower bound.
  const intervalMs = INTERVAL_SECONDS * 1000;
  const cap =
    set.size / ((intervalMs - Math.min(POLL_TOLERANCE.ms, intervalMs * POLL_TOLERANCE.share)) / 1000);
  const target: PollTarget = {
    url: product.url,
    set: set.name,
    codesFile: set.codesFile,
    cpu: {
      pid: product.child.proc.pid!,
      ...(stats ? { database: { adminUrl: stats.adminUrl, name: stats.database } } : {}),
    },
  };
  const warm = await pollRun(load, timing, { ...target, cpu: undefined }, timing.warmup, 0);
  let transactionsBefore: number | undefined;
  if (stats) {
    await sleep(stats.busyUntil + LATE_STATS_MS - performance.now());
    transactionsBefore = await transactions(stats.adminUrl, stats.database, 'now');
  }
  const f = await pollRun(load, timing, target, timing.measure, next(warm, timing));
  const after = pollCounts(await scrape(product.url));
  const results: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) if (v - (before[k] ?? 0) > 0) results[k] = v - (before[k] ?? 0);
  return {
    polls: { ...f, flows: set.size, cap, capped: f.perSecond >= 0.95 * cap, results },
    ...(transactionsBefore === undefined ? {} : { transactionsBefore }),
  };
}

/** Flows started per second (POST /device/code), after a warm-up. */
export type StartFigures = PollFigures;

/**
 * Flows started per second, each from its own address (X-Forwarded-For), as CLIs behind a
 * proxy start them; with autocannon, the device codes answered are kept in set `capture`.
 */
export async function starts(
  load: LoadClient,
  url: string,
  timing: Timing,
  capture: string,
  cpu?: CpuTarget,
): Promise<StartFigures> {
  const run = async (seconds: number): Promise<StartFigures> =>
    timing.generator === 'wrk'
      ? fromWrk(await runWrk({ url, script: 'start', seconds, connections: CONNECTIONS }))
      : fromAutocannon(
          await load.run({ url, kind: 'start', connections: CONNECTIONS, capture, duration: seconds }),
        );
  await run(timing.warmup);
  if (!cpu) return watched(() => run(timing.measure));
  const { result, cpu: seconds } = await cpuDuring(cpu, () => watched(() => run(timing.measure)));
  return { ...result, cpuMicros: (seconds * 1e6) / Math.max(1, result.requests) };
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
