/**
 * `npm run bench [-- --json [file]] [--tsx] [--only postgres|pglite]`: the benchmark the README
 * promises. In one run, on a throwaway PostgreSQL cluster and on PGlite, it measures the server
 * (its own process, `node dist/cli.js serve`) beside floors measured in the same run
 * (bench/floor.ts), with load from wrk (bench/wrk.ts; autocannon in another process,
 * bench/load.ts, when wrk is missing, and for the steps that keep device codes), prints a
 * Markdown table and stops everything it started. docs/performance.md explains the method and
 * how to read the table.
 */
import { readFileSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type { StandIn } from '../demo/stand-in/index.js';
import { testStandIn } from '../harness/build.js';
import { startPostgres } from '../harness/postgres.js';
import { measureApproval } from './approval.js';
import type { FloorTable } from './codes.js';
import { FLOOR_PREFIX, FLOOR_ROWS } from './codes.js';
import type { CpuTarget } from './cpu.js';
import { addOwnRoot } from './machine.js';
import {
  ceilingPolls,
  floorPolls,
  LoadClient,
  memoryPerFlows,
  type StatsTarget,
  serverPolls,
  starts,
  type Timing,
  transactions,
} from './measure.js';
import { chooseNode, type NodeChoice } from './node.js';
import { type Child, firstJsonLine, freePort, start, stopAll } from './processes.js';
import {
  bareNodeReadyMs,
  chooseRunner,
  INTERVAL_SECONDS,
  type Product,
  productEnv,
  type Runner,
  startProduct,
} from './product.js';
import { markdownTable, rows, type StoreResult } from './report.js';
import { runSeveral } from './runs.js';
import { wrkMissing } from './wrk.js';

const HERE = dirname(new URL(import.meta.url).pathname);
/** The run aims to be done within this (about 3 minutes), building included. */
const BUDGET_SECONDS = 170;

interface Options {
  json: string | undefined;
  /** `--node`: the Node binary to run the servers, floors and load generator on. */
  node: string | undefined;
  /** `--runs N`: the whole benchmark N times, each in its own process, and the medians. */
  runs: number;
  /** `--server-root DIR`: run the server of another checkout (a worktree with a change to compare). */
  serverRoot: string | undefined;
  tsx: boolean;
  only: 'postgres' | 'pglite' | undefined;
  timing: Timing;
  topUp: number;
  pgliteFloor: boolean;
  budget: number;
}

const USAGE = `Usage: npm run bench -- [--runs N] [--node PATH] [--json [file]] [--tsx] [--only postgres|pglite]
                        [--pglite-floor] [--seconds N] [--warmup N] [--generator wrk|autocannon]
                        [--pipelining N] [--top-up N] [--budget N]

  --runs N       run the whole benchmark N times (each its own process, one after the other), print
                 every run's table, then each run's key ratios and their medians
  --server-root DIR  run the server of another checkout (its dist/, built there), e.g. a worktree
                 with a change to compare; the floors stay this checkout's
  --node PATH    run the servers, floors and load generator on this Node (default: the oldest major
                 package.json's engines allow, found on PATH or installed from npm; BENCH_NODE too)
  --json [file]  also write the results as JSON (default file: bench-results/bench-<date>.json)
  --tsx          run the server from src/ through tsx instead of dist/ (start-up then includes compiling)
  --only STORE   measure one store only
  --seconds N    length of each measured run (default 8)
  --warmup N     length of the warm-up before each measured run (default 2)
  --generator G  the load generator of the measured runs: wrk (default when installed) or autocannon
  --pipelining N autocannon only: requests each connection sends ahead in the poll runs (default 1,
                 none, as real CLIs; the earlier method used 10)
  --top-up N     at most N seconds starting more flows when there are too few to poll (default 8)
  --budget N     the top-ups give way so that the run ends within about N seconds (default 170)
  --pglite-floor compare PGlite with a floor on an in-process PGlite (about 40 s more)
                 instead of the PostgreSQL floor`;

function parseArgs(argv: string[]): Options {
  const options: Options = {
    json: undefined,
    node: undefined,
    runs: 1,
    serverRoot: undefined,
    tsx: false,
    only: undefined,
    timing: { warmup: 2, measure: 8, pipelining: 1, generator: wrkMissing() ? 'autocannon' : 'wrk' },
    topUp: 8,
    pgliteFloor: false,
    budget: BUDGET_SECONDS,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const next = argv[i + 1];
    if (arg === '--json') {
      const file = next && !next.startsWith('--') ? next : undefined;
      if (file) i++;
      options.json = file ?? `bench-results/bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
    } else if (arg === '--tsx') options.tsx = true;
    else if (arg === '--node' && next) {
      options.node = next;
      i++;
    } else if (arg === '--server-root' && next) {
      options.serverRoot = resolve(next);
      i++;
    } else if (arg === '--runs' && next && Number.isInteger(Number(next)) && Number(next) >= 1) {
      options.runs = Number(next);
      i++;
    } else if (arg === '--pglite-floor') options.pgliteFloor = true;
    else if (arg === '--only' && (next === 'postgres' || next === 'pglite')) {
      options.only = next;
      i++;
    } else if ((arg === '--top-up' || arg === '--budget') && next && Number(next) >= 0) {
      options[arg === '--top-up' ? 'topUp' : 'budget'] = Number(next);
      i++;
    } else if (arg === '--pipelining' && next && Number.isInteger(Number(next)) && Number(next) >= 1) {
      options.timing.pipelining = Number(next);
      // Only autocannon pipelines.
      if (options.timing.pipelining > 1) options.timing.generator = 'autocannon';
      i++;
    } else if (arg === '--generator' && (next === 'wrk' || next === 'autocannon')) {
      options.timing.generator = next;
      i++;
    } else if ((arg === '--seconds' || arg === '--warmup') && next && Number(next) > 0) {
      options.timing[arg === '--seconds' ? 'measure' : 'warmup'] = Number(next);
      i++;
    } else {
      const help = arg === '--help' || arg === '-h';
      if (help) console.log(USAGE);
      else console.error(`Unknown argument "${arg}".\n\n${USAGE}`);
      process.exit(help ? 0 : 2);
    }
  }
  return options;
}

const t0 = performance.now();
function log(message: string): void {
  process.stderr.write(`[bench ${((performance.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${message}\n`);
}

/** A floor process (bench/floor.ts) on `node`, its URL, and what its table is. */
async function startFloor(
  node: NodeChoice,
  args: string[],
): Promise<{ child: Child; url: string; table: FloorTable }> {
  const child = start(
    'floor',
    node.path,
    ['--import', import.meta.resolve('tsx'), join(HERE, 'floor.ts'), ...args],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const { port, table } = await firstJsonLine<{ port: number; table: FloorTable }>(child);
  return { child, url: `http://127.0.0.1:${port}`, table };
}

/** The Postiz stand-in, in this process, with the server on `port` as its registered redirect. */
async function startStandIn(port: number): Promise<StandIn> {
  const standIn = testStandIn(`http://127.0.0.1:${port}`, {
    name: 'Bench User',
    organizationId: 'org_bench',
  });
  await standIn.listen();
  return standIn;
}

interface Context {
  runner: Runner;
  load: LoadClient;
  timing: Timing;
  scratch: string;
  /** The floors' seeded device codes, one per line (for wrk). */
  floorCodes: string;
  /** At most this long starting more flows when there are too few for the poll runs. */
  topUpSeconds: number;
  /** `performance.now()` by which the run means to be done (the top-up gives way to it). */
  deadline: number;
}

/** A floor process and its URL. */
interface Floor {
  child: Child;
  url: string;
  table: FloorTable;
  stats?: StatsTarget;
}

/** The floor's CPU: its process, and its PostgreSQL backends when it has some. */
const floorCpu = (floor: Floor): CpuTarget => ({
  pid: floor.child.proc.pid!,
  ...(floor.stats ? { database: { adminUrl: floor.stats.adminUrl, name: floor.stats.database } } : {}),
});

/** The floor a store is compared with: its own process, or one already running (left running). */
type FloorSource = { kind: 'own'; args: string[]; stats?: StatsTarget } | { kind: 'running'; floor: Floor };

/**
 * One store, in an order that keeps what is compared close in time: start-up (fresh, then
 * existing), memory, flows started (floor, server), approval, pending polls (floor, server),
 * then the ceiling.
 * Every flow the server starts is kept (load generator set "live-<store>"), and the poll runs
 * cycle over them: flows this server started are flows it knows, as in a steady state.
 */
async function measureStore(
  ctx: Context,
  result: StoreResult,
  store: { databaseUrl: string } | { pgliteDir: string },
  floorSource: FloorSource,
  serverStats?: { adminUrl: string; database: string },
): Promise<void> {
  const { load, timing, runner, scratch } = ctx;
  const name = result.store;
  let floor: Floor;
  if (floorSource.kind === 'own') {
    log(`${name}: starting the floor (${result.floorKind}, ${FLOOR_ROWS.toLocaleString('en-US')} rows)`);
    floor = { ...(await startFloor(runner.node, floorSource.args)), stats: floorSource.stats };
  } else {
    floor = floorSource.floor;
  }
  result.floorTable = floor.table;
  const port = await freePort();
  const standIn = await startStandIn(port);
  let product: Product | undefined;
  try {
    const env = productEnv(port, standIn.url ?? '', store);
    const what = 'databaseUrl' in store ? 'database' : 'directory';
    log(`${name}: start-up on a fresh ${what}, then again on the same ${what}`);
    const fresh = await startProduct(`server (${name}, fresh)`, runner, env, scratch);
    await fresh.child.stop();
    product = await startProduct(`server (${name})`, runner, env, scratch);
    result.ready = {
      existingMs: product.readyMs,
      freshMs: fresh.readyMs,
      bareNodeMs: await bareNodeReadyMs(await freePort(), runner.node),
    };
    log(`${name}: memory for 10,000 pending flows`);
    const live = `live-${name}`;
    result.memory = await memoryPerFlows(load, product, live);
    log(`${name}: flows started, floor then server`);
    const serverCpu: CpuTarget = {
      pid: product.child.proc.pid!,
      ...(serverStats ? { database: { adminUrl: serverStats.adminUrl, name: serverStats.database } } : {}),
    };
    result.floorStarts = await starts(load, floor.url, timing, `floor-started-${name}`, floorCpu(floor));
    result.starts = await starts(load, product.url, timing, live, serverCpu);
    let busyUntil = performance.now();
    // Light on the database, so it goes here, while late statistics from the starts come in.
    log(`${name}: approval to token, 10 flows`);
    result.approval = await measureApproval(product.url, standIn);
    // The floor's polls, then the server's straight after: on a shared machine, rates measured
    // half a minute apart differ by more than the ratios being measured.
    log(`${name}: pending polls, floor`);
    const floorTarget = { url: floor.url, set: 'floor', codesFile: ctx.floorCodes, cpu: floorCpu(floor) };
    result.floorPolls = await floorPolls(load, timing, floorTarget, floor.stats);
    let flows = await load.size(live);
    // Enough flows to see 2.5× the floor without polling any flow sooner than its interval
    // (the memory and start runs usually leave more than enough).
    const wanted = Math.ceil(2.5 * result.floorPolls.perSecond * INTERVAL_SECONDS);
    // Within the run's time budget: what is left after this goes to the poll runs.
    const budget = (ctx.deadline - performance.now()) / 1000 - (timing.warmup + timing.measure + 20);
    const seconds = Math.min(ctx.topUpSeconds, budget, (wanted - flows) / result.starts.perSecond);
    if (seconds >= 1) {
      log(`${name}: ${flows.toLocaleString('en-US')} live flows; starting more for ${seconds.toFixed(1)} s`);
      await load.run({ url: product.url, kind: 'start', connections: 32, duration: seconds, capture: live });
      flows = await load.size(live);
      busyUntil = performance.now();
    }
    if (flows < wanted) {
      log(
        `${name}: ${flows.toLocaleString('en-US')} live flows allow ${Math.round(flows / INTERVAL_SECONDS)} polls/s`,
      );
    }
    log(`${name}: pending polls, server (cycle of ${flows.toLocaleString('en-US')} flows)`);
    const codesFile = join(scratch, `${live}.txt`);
    await load.dump(live, codesFile);
    const { polls, transactionsBefore } = await serverPolls(
      load,
      product,
      { name: live, size: flows, codesFile },
      timing,
      serverStats && { ...serverStats, busyUntil },
    );
    log(`${name}: the ceiling (a bare node:http answer)`);
    result.ceiling = await ceilingPolls(load, timing, {
      ...floorTarget,
      cpu: { pid: floor.child.proc.pid! },
    });
    result.polls = polls;
    await product.child.stop();
    if (serverStats && transactionsBefore !== undefined) {
      const after = await transactions(serverStats.adminUrl, serverStats.database, 'closed');
      polls.transactionsPerPoll = (after - transactionsBefore) / polls.requests;
    }
  } finally {
    await product?.child.stop();
    if (floorSource.kind === 'own') await floor.child.stop();
    await standIn.close();
  }
}

/** The pid of the postmaster serving `url` (the first line of its data directory's postmaster.pid). */
async function postmasterPid(url: string): Promise<number | undefined> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    const { rows } = await client.query<{ data_directory: string }>('SHOW data_directory');
    const dir = rows[0]?.data_directory;
    return dir ? Number(readFileSync(join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]) : undefined;
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * PostgreSQL: a throwaway cluster with the floor's database and the server's. The floor is
 * left running (`floor`), so that PGlite is compared with it measured again minutes later,
 * side by side with PGlite's own runs; the caller stops it and the cluster (`stop`).
 */
async function onPostgres(
  ctx: Context,
): Promise<{ result: StoreResult; floor?: Floor; stop: () => Promise<void> }> {
  const result: StoreResult = { store: 'PostgreSQL', floorKind: 'node:http + pg: prepared SELECT / INSERT' };
  log('PostgreSQL: starting a throwaway cluster');
  const cluster = await startPostgres();
  if (!cluster) {
    return {
      result: { ...result, error: 'no PostgreSQL available (initdb/pg_ctl not found)' },
      stop: async () => {},
    };
  }
  // The cluster's processes are the benchmark's own, not "other processes on the machine".
  const postmaster = await postmasterPid(cluster.url);
  if (postmaster) addOwnRoot(postmaster);
  let floor: Floor | undefined;
  const stop = async () => {
    await floor?.child.stop();
    await cluster.stop();
  };
  try {
    const floorDb = await cluster.createDatabase('bench_floor');
    const serverDb = await cluster.createDatabase('bench_server');
    log(`PostgreSQL: starting the floor (${result.floorKind}, ${FLOOR_ROWS.toLocaleString('en-US')} rows)`);
    floor = {
      ...(await startFloor(ctx.runner.node, ['--pg', floorDb])),
      stats: { adminUrl: cluster.url, database: 'bench_floor', how: 'terminate' },
    };
    await measureStore(
      ctx,
      result,
      { databaseUrl: serverDb },
      { kind: 'running', floor },
      { adminUrl: cluster.url, database: 'bench_server' },
    );
  } catch (err) {
    result.error = (err as Error).message;
  }
  return { result, floor, stop };
}

/**
 * PGlite, against the PostgreSQL floor (the floor the README names), measured again just
 * before PGlite's own runs; or, with `--pglite-floor` or without PostgreSQL, against a floor
 * on an in-process PGlite (which costs another ~40 s: PGlite takes seconds to open, and 100k
 * rows to fill).
 */
async function onPglite(ctx: Context, pgFloor: Floor | undefined): Promise<StoreResult> {
  const result: StoreResult = {
    store: 'PGlite',
    floorKind: pgFloor
      ? 'the PostgreSQL floor, measured again beside PGlite'
      : 'node:http + in-process PGlite: SELECT / INSERT',
  };
  const floor: FloorSource = pgFloor
    ? { kind: 'running', floor: pgFloor }
    : { kind: 'own', args: ['--pglite'] };
  try {
    await measureStore(ctx, result, { pgliteDir: join(ctx.scratch, 'pglite') }, floor);
  } catch (err) {
    result.error = (err as Error).message;
  }
  return result;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const node = await chooseNode(options.node);
  if (options.runs > 1) {
    // Each run is this benchmark in a process of its own, told which Node to use.
    const args = withoutRunsAndJson(process.argv.slice(2));
    process.exitCode = await runSeveral({
      runs: options.runs,
      script: process.argv[1]!,
      args: [...args, '--node', node.path],
      json: options.json,
      log,
    });
    return;
  }
  log(`servers, floors and load generator run on Node ${node.version}: ${node.how}`);
  const load = LoadClient.start(node.path);
  // Derived while the rest starts up (100k hashes take a second or two).
  const derived = load.codes('floor', FLOOR_PREFIX, FLOOR_ROWS);
  derived.catch(() => {});
  const runner = await chooseRunner(options.tsx, node, options.serverRoot);
  log(
    `server runs as ${runner.kind === 'dist' ? 'node dist/cli.js serve' : 'node --import tsx src/cli.ts serve'}: ${runner.why}`,
  );
  const scratch = await mkdtemp(join(tmpdir(), 'postiz-bench-'));
  process.once('exit', () => rmSync(scratch, { recursive: true, force: true }));
  const ctx: Context = {
    runner,
    load,
    timing: options.timing,
    scratch,
    floorCodes: join(scratch, 'floor-codes.txt'),
    topUpSeconds: options.topUp,
    deadline: t0 + options.budget * 1000,
  };
  const load1 = loadavg()[0] ?? 0;
  const results: StoreResult[] = [];
  try {
    await derived;
    await load.dump('floor', ctx.floorCodes);
    const pg = options.only === 'pglite' ? undefined : await onPostgres(ctx);
    try {
      if (pg) results.push(pg.result);
      if (options.only !== 'postgres') {
        results.push(await onPglite(ctx, options.pgliteFloor || pg?.result.error ? undefined : pg?.floor));
      }
    } finally {
      await pg?.stop();
    }
  } finally {
    await stopAll();
    await rm(scratch, { recursive: true, force: true });
  }
  const seconds = (performance.now() - t0) / 1000;
  const loadEnd = loadavg()[0] ?? 0;
  const nodes =
    node.version === process.version
      ? `Node ${node.version}`
      : `Node ${node.version} (the benchmark itself: ${process.version})`;
  const machine = `${cpus().length} cores, load average ${load1.toFixed(1)} at start and ${loadEnd.toFixed(1)} at the end, ${nodes}`;
  const generator =
    options.timing.generator === 'wrk'
      ? 'wrk, 1 thread, 32 connections, no pipelining'
      : `autocannon, 32 connections, pipelining ${options.timing.pipelining}${wrkMissing() ? `; ${wrkMissing()}` : ''}`;
  const title = `postiz-cli-auth benchmark, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC (${machine}; ${seconds.toFixed(0)} s; load: ${generator})`;
  process.stdout.write(`\n${title}\n\n${markdownTable(results)}\n\n`);
  for (const r of results) process.stdout.write(`Floor for ${r.store}: ${r.floorKind}.\n`);
  const table = results.find((r) => r.floorTable)?.floorTable;
  if (table) {
    process.stdout.write(
      `The floor's table: device_requests made by migrations ${table.migrations.join(', ')}; indexes ${table.indexes.join(', ')}; triggers ${table.triggers.join(', ') || 'none'} (none fires on INSERT).\n`,
    );
  }
  process.stdout.write(`Node: ${node.version}, ${node.how}.\n`);
  process.stdout.write(
    `Server: ${runner.kind === 'dist' ? 'node dist/cli.js serve' : 'node --import tsx src/cli.ts serve'} (${runner.why})${options.serverRoot ? ` in ${options.serverRoot}` : ''}.\n`,
  );
  for (const r of results) {
    for (const f of r.approval?.failures ?? []) process.stdout.write(`${r.store} approval: ${f}\n`);
  }
  if (options.json) {
    await mkdir(dirname(options.json), { recursive: true });
    const json = {
      date: new Date().toISOString(),
      machine: {
        cpus: cpus().length,
        loadAverageAtStart: load1,
        loadAverageAtEnd: loadEnd,
        node: node.version,
        nodePath: node.path,
        nodeHow: node.how,
        benchNode: process.version,
      },
      runner,
      timing: options.timing,
      seconds,
      results,
      rows: rows(results),
    };
    await writeFile(options.json, `${JSON.stringify(json, null, 2)}\n`);
    process.stdout.write(`JSON written to ${options.json}\n`);
  }
  if (results.some((r) => r.error)) process.exitCode = 1;
}

/** The arguments of one run of a `--runs` series: no `--runs`, and no `--json` (the series writes its own). */
function withoutRunsAndJson(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--runs' || arg === '--node') {
      i++;
    } else if (arg === '--json') {
      const next = argv[i + 1];
      if (next && !next.startsWith('--')) i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

let interrupted = false;
const interrupt = () => {
  // npm and tsx may both pass the signal on: the second one must not cut the clean-up short.
  if (interrupted) return;
  interrupted = true;
  log('interrupted: stopping everything');
  // A moment for the watchdogs to read their "done" before this process goes.
  stopAll().finally(() => setTimeout(() => process.exit(130), 200));
};
process.on('SIGINT', interrupt);
process.on('SIGTERM', interrupt);

main().catch(async (err: unknown) => {
  console.error(err);
  await stopAll();
  setTimeout(() => process.exit(1), 200);
});
