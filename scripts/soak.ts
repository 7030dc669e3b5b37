/**
 * `npm run soak [-- --short] [--duration=S] [--rate=N] [--clis=N] [--phases=exactly-once,herd,restart]`:
 * three soaks, one after another, each on a fresh database.
 *
 * - exactly-once: every approved login's token reaches exactly one poll (below);
 * - herd: `--clis` (10,000) held polls on one instance, released together, every CLI polling
 *   again at once; no answer the CLI treats as fatal, no login lost (harness/waiting-clis.ts);
 * - restart: `--clis` waiting CLIs on three instances, each stopped with SIGTERM and started
 *   again in turn while logins are approved; every one delivered exactly once.
 *
 * `--short` (the test suite's run) runs the exactly-once soak only, shortened.
 *
 * The exactly-once soak:
 *
 * On this machine only (loopback), bounded, and tidy: a throwaway PostgreSQL, three server
 * processes behind a round-robin proxy, a Postiz stand-in, and thousands of simulated logins
 * with random interleavings of approve, deny at Postiz, cancel, abandon, and several polls per
 * device code in flight at once. It checks that every approved flow's token reaches exactly one
 * poll and is the one Postiz minted for it; denied and cancelled flows end in `access_denied`;
 * abandoned ones in `expired_token`, and are purged, each reported once; no request answers 5xx;
 * the instances' memory stays flat. Prints a summary; exits 1 on any violation, 2 when no
 * PostgreSQL is available.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { CLUSTER_ORG, type Cluster, startCluster } from '../harness/cluster.js';
import { type PostgresCluster, startPostgres } from '../harness/postgres.js';
import { describeWaiting, runHerd, runRollingRestart, waitingViolations } from '../harness/waiting-clis.js';
import { hashSecret } from '../src/device-flow/codes.js';
import { postgresDb } from '../src/storage/postgres.js';
import { SqlStore } from '../src/storage/sql-store.js';
import { type AbandonVariant, type FlowReport, type Plan, runFlow, type SoakContext } from './soak/flows.js';
import { closeClient } from './soak/http.js';
import { type PostizUsers, startPostizUsers } from './soak/postiz.js';

type Phase = 'exactly-once' | 'herd' | 'restart';
const PHASES: Phase[] = ['exactly-once', 'herd', 'restart'];

interface Options {
  /** The soaks to run, in order. */
  phases: Phase[];
  /** Waiting CLIs in the herd and the rolling restart. */
  clis: number;
  /** Seconds during which new flows start. */
  duration: number;
  /** New flows per second. */
  rate: number;
  instances: number;
  short: boolean;
}

/** Flow lifetime: the least the server accepts, so abandoned flows expire within the run. */
const TTL_SECONDS = 60;
/** How long the server keeps an expired flow answering `expired_token` before purging it (flow-service.ts). */
const EXPIRED_KEPT_MS = 60 * 60 * 1000;
const RSS_SAMPLE_MS = 2000;
/** Postiz users the logins are spread over (each approves one login at a time, as at Postiz). */
const POSTIZ_USERS = 32;

function parseArgs(argv: string[]): Options {
  const short = argv.includes('--short');
  const value = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const phases = (value('phases')?.split(',') ?? (short ? ['exactly-once'] : PHASES)) as Phase[];
  for (const phase of phases) if (!PHASES.includes(phase)) throw new Error(`soak: unknown phase ${phase}`);
  return {
    phases,
    clis: Number(value('clis') ?? 10_000),
    short,
    duration: Number(value('duration') ?? (short ? 40 : 200)),
    rate: Number(value('rate') ?? (short ? 5 : 10)),
    instances: Number(value('instances') ?? 3),
  };
}

/** The plan for the flow starting `elapsed` seconds in: abandoned flows only while they can still expire in the run. */
function choosePlan(elapsed: number, options: Options): { plan: Plan; variant?: AbandonVariant } {
  // Long runs abandon flows all along until TTL before the end; short runs abandon more, and only at first.
  const abandonUntil = Math.max(options.duration - TTL_SECONDS - 2, options.short ? 3 : 0);
  const abandonShare = elapsed < abandonUntil ? (options.short ? 0.6 : 0.15) : 0;
  const r = Math.random();
  if (r < abandonShare) {
    const variants: AbandonVariant[] = ['silent', 'idle', 'looked', 'at-postiz'];
    return { plan: 'abandon', variant: variants[Math.floor(Math.random() * variants.length)]! };
  }
  const rest = (r - abandonShare) / (1 - abandonShare);
  return { plan: rest < 0.6 ? 'approve' : rest < 0.8 ? 'deny' : 'cancel' };
}

/** Resident memory of each instance, sampled. */
function sampleMemory(cluster: Cluster): { samples: number[][]; stop: () => void } {
  const samples: number[][] = cluster.instances.map(() => []);
  const take = () =>
    cluster.instances.forEach((instance, i) => {
      const rss = instance.rss();
      if (rss !== undefined) samples[i]!.push(rss);
    });
  take();
  const timer = setInterval(take, RSS_SAMPLE_MS);
  return { samples, stop: () => clearInterval(timer) };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;
const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((values.length * p) / 100))] ?? 0;

/** Memory is flat when the end of the run is not far above the level reached after warming up. */
function memoryViolations(samples: number[][]): { lines: string[]; violations: string[] } {
  const lines: string[] = [];
  const violations: string[] = [];
  samples.forEach((series, i) => {
    if (series.length < 8) return;
    const warm = median(series.slice(Math.floor(series.length * 0.25), Math.floor(series.length * 0.4)));
    const end = median(series.slice(-3));
    lines.push(
      `instance ${i}: start ${mb(series[0]!)}, after warm-up ${mb(warm)}, end ${mb(end)}, peak ${mb(Math.max(...series))}`,
    );
    if (end > warm * 1.5 && end - warm > 50 * 1024 * 1024)
      violations.push(`instance ${i}: memory grew from ${mb(warm)} to ${mb(end)}`);
  });
  return { lines, violations };
}

/**
 * Abandoned flows are kept (answering `expired_token`) for an hour after expiry, longer than the run:
 * check they are all still there, then purge as the instances will an hour from now, from three
 * stores at once, and check each abandoned flow is reported once, as still pending (i.e. expired).
 */
async function checkPurge(
  databaseUrl: string,
  abandoned: FlowReport[],
): Promise<{ line: string; violations: string[] }> {
  const violations: string[] = [];
  const stores = [0, 1, 2].map(() => new SqlStore(postgresDb({ connectionString: databaseUrl, max: 2 })));
  try {
    const keys = new Set(abandoned.map((f) => hashSecret(f.deviceCode).toString('hex')));
    const db = postgresDb({ connectionString: databaseUrl, max: 1 });
    const rows = await db.query(
      "SELECT flow_id, encode(device_code_hash, 'hex') AS key, status, expires_at FROM device_requests",
    );
    await db.close();
    const left = rows.filter((r) => keys.has(r.key as string));
    if (left.length !== keys.size)
      violations.push(`${keys.size - left.length} abandoned flows vanished before their purge`);
    if (left.some((r) => r.status !== 'pending')) violations.push('an abandoned flow is not pending');
    const approved = rows.filter((r) => r.status === 'approved').length;
    if (approved > 0) violations.push(`${approved} approved flows still hold an undelivered token`);

    // What the instances' purge will do an hour from now (before = now + 1 h − EXPIRED_KEPT).
    const now = new Date(Date.now() + EXPIRED_KEPT_MS);
    const before = new Date(now.getTime() - EXPIRED_KEPT_MS);
    const purged = (await Promise.all(stores.map((s) => s.purge(before, now, before)))).flat();
    const expired = purged.filter((f) => f.status === 'pending').map((f) => f.flowId);
    const wanted = new Set(left.map((r) => r.flow_id as string));
    if (expired.length !== new Set(expired).size)
      violations.push('a flow was purged (reported expired) twice');
    if (expired.length !== wanted.size || !expired.every((id) => wanted.has(id)))
      violations.push(
        `purge reported ${expired.length} expired flows, expected the ${wanted.size} abandoned ones`,
      );
    return {
      line: `${expired.length} abandoned flows purged and reported expired once each (3 stores purging at once; ${purged.length} rows in all)`,
      violations,
    };
  } finally {
    await Promise.all(stores.map((s) => s.close()));
  }
}

/** Violations grouped by kind (flow numbers left out), with one example each. */
function violationKinds(violations: string[]): string[] {
  const kinds = new Map<string, { count: number; example: string }>();
  for (const v of violations) {
    const kind = v
      .replace(/^flow \d+ /, '')
      .replace(/, sent \d+ ms after the one before/, '')
      .replace(/\d+/g, 'N');
    const entry = kinds.get(kind) ?? { count: 0, example: v };
    entry.count++;
    kinds.set(kind, entry);
  }
  return [...kinds.values()]
    .sort((a, b) => b.count - a.count)
    .slice(0, 30)
    .map((k) => `${k.count} × ${k.example.split('\n')[0]}`);
}

/** The herd and the rolling restart with `options.clis` waiting CLIs: their summaries; false on a violation. */
async function soakWaiting(postgres: PostgresCluster, options: Options): Promise<boolean> {
  if (!options.phases.includes('herd') && !options.phases.includes('restart')) return true;
  const violations: string[] = [];
  if (options.phases.includes('herd')) {
    console.log(`soak: herd of ${options.clis} held polls on one instance`);
    const report = await runHerd(postgres, { clis: options.clis, approvals: 100 });
    console.log(describeWaiting(`herd (${options.clis} CLIs)`, report).join('\n'));
    violations.push(...waitingViolations(report).map((v) => `herd: ${v}`));
  }
  if (options.phases.includes('restart')) {
    console.log(`soak: rolling restart of three instances under ${options.clis} waiting CLIs`);
    const report = await runRollingRestart(postgres, { clis: options.clis, approvalsPerRestart: 30 });
    console.log(describeWaiting(`rolling restart (${options.clis} CLIs)`, report).join('\n'));
    violations.push(...waitingViolations(report).map((v) => `restart: ${v}`));
    if (report.exitCodes.some((code) => code !== 0))
      violations.push(
        `restart: an instance did not stop cleanly (exit codes ${report.exitCodes.join(', ')})`,
      );
  }
  console.log(`  violations: ${violations.length}${violations.map((v) => `\n    - ${v}`).join('')}`);
  return violations.length === 0;
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const postgres = await startPostgres();
  if (!postgres) {
    console.error('soak: no PostgreSQL available (install initdb/pg_ctl or set TEST_DATABASE_URL)');
    return 2;
  }
  if (!options.phases.includes('exactly-once')) {
    try {
      return (await soakWaiting(postgres, options)) ? 0 : 1;
    } finally {
      await postgres.stop();
    }
  }
  let cluster: Cluster | undefined;
  let postiz: PostizUsers | undefined;
  const stopAll = async () => {
    await cluster?.stop();
    await postiz?.close();
    closeClient();
    await postgres.stop();
  };
  // Bounded: whatever happens, stop everything after this long.
  const guard = setTimeout(
    () => {
      console.error('soak: took too long; stopping');
      stopAll().finally(() => process.exit(1));
    },
    (options.duration + TTL_SECONDS + 180 + (options.phases.length - 1) * 600) * 1000,
  );
  guard.unref();
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      stopAll().finally(() => process.exit(130));
    });

  try {
    const databaseUrl = await postgres.createDatabase();
    const startedAt = Date.now();
    cluster = await startCluster({
      instances: options.instances,
      databaseUrl,
      keepLog: false,
      env: {
        DEVICE_CODE_TTL_SECONDS: String(TTL_SECONDS),
        PURGE_INTERVAL_SECONDS: '5',
        DATABASE_POOL_SIZE: '10',
      },
      postiz: async (callbackUrl) => {
        postiz = await startPostizUsers(POSTIZ_USERS, callbackUrl, CLUSTER_ORG);
        return postiz.url;
      },
    });
    const { tokenByCode, errors: standInErrors } = postiz!;
    console.log(
      `soak: ${options.instances} instances ready in ${Date.now() - startedAt} ms; ${options.rate} flows/s for ${options.duration} s`,
    );

    const ctx: SoakContext = {
      serverUrl: cluster.url,
      organizationId: CLUSTER_ORG,
      tokenByCode,
      users: POSTIZ_USERS,
      consentLocks: new Map(),
      pollResults: new Map(),
      heldPolls: { count: 0 },
      deliveryLatencies: [],
      lockWaits: [],
      stalePending: { count: 0 },
    };
    const memory = sampleMemory(cluster);
    const loop = monitorEventLoopDelay({ resolution: 20 });
    loop.enable();

    const runs: Promise<FlowReport>[] = [];
    const trafficStart = Date.now();
    for (let i = 1; ; i++) {
      const due = trafficStart + ((i - 1) * 1000) / options.rate;
      if (due - trafficStart >= options.duration * 1000) break;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now())));
      const { plan, variant } = choosePlan((Date.now() - trafficStart) / 1000, options);
      runs.push(runFlow(ctx, i, plan, variant));
      if (i % Math.max(1, options.rate * 10) === 0)
        console.log(`soak: ${i} flows started, ${Math.round((Date.now() - trafficStart) / 1000)} s`);
    }
    console.log(`soak: all ${runs.length} flows started; waiting for them to end (abandoned ones expire)`);
    const reports = await Promise.all(runs);
    const elapsed = Date.now() - trafficStart;
    memory.stop();
    loop.disable();

    // Checks across flows.
    const violations = reports.flatMap((r) => r.violations);
    const delivered = reports.flatMap((r) => r.tokens);
    if (new Set(delivered).size !== delivered.length) violations.push('one token was delivered to two flows');
    for (const failure of cluster.proxy.failures)
      violations.push(
        `${failure.method} ${failure.path} on instance ${failure.instance}: ${failure.status ?? failure.error}`,
      );
    violations.push(...standInErrors.map((e) => `stand-in: ${e}`));
    const mem = memoryViolations(memory.samples);
    violations.push(...mem.violations);
    const purge = await checkPurge(
      databaseUrl,
      reports.filter((r) => r.plan === 'abandon' && r.deviceCode),
    );
    violations.push(...purge.violations);
    for (const instance of cluster.instances)
      if (!instance.running()) violations.push(`instance ${instance.index} died:\n${instance.stderr()}`);

    // Summary.
    const count = <T>(items: T[], key: (t: T) => string) =>
      [...items.reduce((m, t) => m.set(key(t), (m.get(key(t)) ?? 0) + 1), new Map<string, number>())]
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
    const polls = reports.reduce((n, r) => n + r.polls, 0);
    const requests = [...cluster.proxy.counts.values()].reduce((a, b) => a + b, 0);
    const latencies = ctx.deliveryLatencies;
    console.log(
      [
        '',
        `soak summary (${options.short ? 'short' : 'full'} run, ${Math.round(elapsed / 1000)} s of traffic)`,
        `  flows:     ${reports.length} (${count(reports, (r) => (r.variant ? `${r.plan}/${r.variant}` : r.plan))})`,
        `  outcomes:  ${count(reports, (r) => r.outcome)}`,
        `  polls:     ${polls} (${ctx.heldPolls.count} asked to be held); answers: ${[...ctx.pollResults].map(([k, v]) => `${k} ${v}`).join(', ')}`,
        `  token delivery after the callback: p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms, max ${Math.max(0, ...latencies)} ms`,
        `  polls sent ≥ 1 s after approval/denial still answered pending: ${ctx.stalePending.count}`,
        `  approvals queued behind the same Postiz user: wait p99 ${percentile(ctx.lockWaits, 99)} ms, max ${Math.max(0, ...ctx.lockWaits)} ms`,
        `  requests through the proxy: ${requests} (${[...cluster.proxy.counts].map(([k, v]) => `${k} ${v}`).join(', ')})`,
        `  5xx or failed requests: ${cluster.proxy.failures.length + standInErrors.length}`,
        `  purge: ${purge.line}`,
        ...mem.lines.map((l) => `  memory ${l}`),
        `  soak process event-loop delay: p99 ${Math.round(loop.percentile(99) / 1e6)} ms, max ${Math.round(loop.max / 1e6)} ms`,
        `  violations: ${violations.length}`,
        ...violationKinds(violations).map((v) => `    - ${v}`),
      ].join('\n'),
    );
    await cluster.stop();
    const waitingOk = await soakWaiting(postgres, options);
    return violations.length === 0 && waitingOk ? 0 : 1;
  } finally {
    await stopAll();
    clearTimeout(guard);
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error('soak failed:', err);
    process.exit(1);
  },
);
