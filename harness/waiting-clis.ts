/**
 * Many waiting CLIs against real server processes, as a large deployment sees them: the herd
 * (held polls released together, every CLI polling again at once) and the rolling restart
 * (three instances stopped with SIGTERM and started again in turn). Each scenario reports what
 * the CLIs were answered, which logins were delivered, how long after its approval each token
 * arrived, and the kernel's listen-queue overflows. `test/reliability/waiting-clis.test.ts`
 * runs them at CI's size, `npm run soak` at 10,000.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { type CliOutcome, pollLikeCli } from './cli-poller.js';
import { startCluster } from './cluster.js';
import type { DeviceAuthorization } from './device.js';
import type { PostgresCluster } from './postgres.js';
import { approveInBrowser } from './walker.js';

/** Many CLIs from one address (the test's): no per-address limit may get in the way. */
const UNLIMITED = {
  RATE_LIMIT_FLOW_STARTS: '1000000',
  MAX_HELD_POLLS_PER_ADDRESS: '100000',
  RATE_LIMIT_UNKNOWN_POLLS: '1000000',
  MAX_PENDING_FLOWS: '1000000',
};

/** What a scenario saw. */
export interface WaitingReport {
  /** Every answer the CLIs got, by kind (`token`, an `error`, `no-json <status>`, `network`). */
  kinds: Record<string, number>;
  /** The JSON errors that ended a CLI's login (none is the goal). */
  fatal: string[];
  /** Device codes approved during the scenario. */
  approved: string[];
  /** Device codes whose CLI received a token, with the token. */
  delivered: Map<string, string>;
  /** Tokens Postiz minted. */
  issued: string[];
  /** ms from each approval (the callback answered) to its CLI holding the token. */
  lagsMs: number[];
  /** The kernel's listen-queue overflows during the scenario (`nstat`), when it can be read. */
  listenOverflows: number | undefined;
  /** Scenario-specific figures (printable). */
  notes: string[];
}

/** The kernel's listen-queue overflow counter (TcpExtListenOverflows), if `nstat` can read it. */
function listenOverflows(): number | undefined {
  try {
    const out = execFileSync('nstat', ['-az', '--json', 'TcpExtListenOverflows'], { encoding: 'utf8' });
    const value = (JSON.parse(out) as { kernel?: Record<string, number> }).kernel?.TcpExtListenOverflows;
    return typeof value === 'number' ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The backlog a listening socket on `port` was given (`ss` shows it as Send-Q), if `ss` can tell. */
export function listenBacklog(port: number): number | undefined {
  try {
    const line = execFileSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' }).trim();
    const value = Number(line.split(/\s+/)[2]);
    return Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The deepest each listening socket's accept queue got while sampling (`ss` shows a listening
 * socket's queue as Recv-Q), by port: a queue that reaches its backlog overflows, so this says
 * whose overflows `nstat` counted (the server's, or the harness proxy's).
 */
function sampleAcceptQueues(ports: () => number[]): { stop: () => Map<number, number> } {
  const peaks = new Map<number, number>();
  const timer = setInterval(() => {
    try {
      const out = execFileSync('ss', ['-ltnH'], { encoding: 'utf8' });
      const wanted = new Set(ports());
      for (const line of out.trim().split('\n')) {
        const [, queued, , local] = line.trim().split(/\s+/);
        const port = Number(local?.slice(local.lastIndexOf(':') + 1));
        if (wanted.has(port)) peaks.set(port, Math.max(peaks.get(port) ?? 0, Number(queued)));
      }
    } catch {
      // No ss here: no peaks.
    }
  }, 200);
  return {
    stop: () => {
      clearInterval(timer);
      return peaks;
    },
  };
}

/** Start `count` flows at `url`, 50 at a time. */
async function startFlows(url: string, count: number): Promise<DeviceAuthorization[]> {
  const flows: DeviceAuthorization[] = [];
  for (let i = 0; i < count; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, count - i) }, async () => {
        const res = await fetch(`${url}/device/code`, { method: 'POST' });
        assert.equal(res.status, 200, await res.clone().text());
        return (await res.json()) as DeviceAuthorization;
      }),
    );
    flows.push(...batch);
  }
  return flows;
}

/** The CLIs of `flows`, polling, and what became of them. */
class Clis {
  stop = false;
  readonly approvedAt = new Map<string, number>();
  readonly tokenAt = new Map<string, number>();
  readonly outcomes: Promise<CliOutcome>[];

  constructor(
    url: string,
    readonly flows: DeviceAuthorization[],
    options: {
      intervalSeconds: number;
      preferWait?: number;
      spreadStartMs: number;
      onAnswer?: (i: number) => void;
    },
  ) {
    const deadline = Date.now() + 10 * 60_000;
    this.outcomes = flows.map((flow, i) =>
      pollLikeCli(url, flow.device_code, {
        intervalSeconds: options.intervalSeconds,
        preferWait: options.preferWait,
        firstDelayMs: (i * options.spreadStartMs) / flows.length,
        deadline,
        stopped: () => this.stop,
        onAnswer: (kind) => {
          options.onAnswer?.(i);
          if (kind === 'token') this.tokenAt.set(flow.device_code, Date.now());
        },
      }),
    );
  }

  /**
   * Approve each flow in the browser, one after another: the stand-in has one Postiz user, and
   * Postiz replaces a user's code when they approve again before it was exchanged.
   */
  async approve(flows: DeviceAuthorization[]): Promise<void> {
    for (const flow of flows) {
      const page = await approveInBrowser(flow.verification_uri_complete);
      assert.equal(page.status, 200, page.body.slice(0, 300));
      this.approvedAt.set(flow.device_code, Date.now());
    }
  }

  /** Wait (up to `ms`) until every approved login was delivered, then stop every CLI. */
  async finish(ms: number, issued: () => string[], notes: string[]): Promise<WaitingReport> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline && [...this.approvedAt.keys()].some((code) => !this.tokenAt.has(code)))
      await new Promise((resolve) => setTimeout(resolve, 100));
    this.stop = true;
    const outcomes = await Promise.all(this.outcomes);
    const kinds: Record<string, number> = {};
    for (const o of outcomes) for (const [kind, n] of o.answers) kinds[kind] = (kinds[kind] ?? 0) + n;
    const delivered = new Map<string, string>();
    outcomes.forEach((o, i) => {
      if (o.outcome === 'token') delivered.set(this.flows[i]!.device_code, o.token!);
    });
    return {
      kinds,
      fatal: outcomes.filter((o) => o.outcome === 'fatal').map((o) => String(o.error)),
      approved: [...this.approvedAt.keys()],
      delivered,
      issued: issued(),
      lagsMs: [...this.approvedAt].flatMap(([code, at]) => {
        const got = this.tokenAt.get(code);
        return got === undefined ? [] : [Math.max(0, got - at)];
      }),
      listenOverflows: undefined,
      notes,
    };
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (values: number[], p: number): number =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((values.length * p) / 100))] ?? 0;

/**
 * The herd: one instance, `clis` flows each holding a poll (`Prefer: wait=5`) and polling
 * again the moment it is answered, straight at the instance on a new connection each time, for
 * three rounds; `approvals` logins approved in the third. Notes the listen backlog and how
 * spread out the first round's held polls ended.
 */
export async function runHerd(
  postgres: PostgresCluster,
  options: { clis: number; approvals: number; backlog?: number },
): Promise<WaitingReport & { backlog: number | undefined; firstRoundSpreadMs: number }> {
  const cluster = await startCluster({
    instances: 1,
    databaseUrl: await postgres.createDatabase(),
    keepLog: false,
    env: { ...UNLIMITED, ...(options.backlog ? { LISTEN_BACKLOG: String(options.backlog) } : {}) },
  });
  try {
    const instance = cluster.instances[0]!;
    const backlog = listenBacklog(instance.port);
    const flows = await startFlows(instance.url, options.clis);
    const overflowsBefore = listenOverflows();
    const queues = sampleAcceptQueues(() => [instance.port]);
    const firstEnded: number[] = [];
    const began = Date.now();
    const clis = new Clis(instance.url, flows, {
      intervalSeconds: 0,
      preferWait: 5,
      spreadStartMs: 0,
      onAnswer: (i) => {
        firstEnded[i] ??= Date.now() - began;
      },
    });
    await sleep(11_000);
    await clis.approve(flows.slice(0, options.approvals));
    const spread =
      percentile(firstEnded.filter(Number.isFinite), 95) - percentile(firstEnded.filter(Number.isFinite), 5);
    const report = await clis.finish(30_000, () => cluster.standIn.issuedTokens(), [
      `first held polls ended from ${percentile(firstEnded, 5)} to ${percentile(firstEnded, 95)} ms after the herd began (5th to 95th percentile)`,
    ]);
    report.notes.push(
      `the server's accept queue peaked at ${queues.stop().get(instance.port) ?? 'unknown'} (listen backlog ${backlog ?? 'unknown'})`,
    );
    const overflowsAfter = listenOverflows();
    report.listenOverflows =
      overflowsBefore === undefined || overflowsAfter === undefined
        ? undefined
        : overflowsAfter - overflowsBefore;
    return { ...report, backlog, firstRoundSpreadMs: spread };
  } finally {
    await cluster.stop();
  }
}

/**
 * The rolling restart: three instances on one PostgreSQL behind the round-robin proxy, `clis`
 * CLIs polling as the postiz CLI does (no `Prefer`, so held POLL_WAIT_SECONDS; the interval
 * after each answer); each instance in turn stopped with SIGTERM and started again while
 * `approvalsPerRestart` logins are approved, then a few more after it is back.
 */
export async function runRollingRestart(
  postgres: PostgresCluster,
  options: { clis: number; approvalsPerRestart: number },
): Promise<WaitingReport & { exitCodes: (number | null)[] }> {
  const cluster = await startCluster({
    instances: 3,
    databaseUrl: await postgres.createDatabase(),
    keepLog: false,
    env: { ...UNLIMITED, POLL_WAIT_SECONDS: '5', POLL_INTERVAL_SECONDS: '1' },
  });
  try {
    const flows = await startFlows(cluster.url, options.clis);
    const overflowsBefore = listenOverflows();
    const proxyPort = Number(new URL(cluster.url).port);
    const queues = sampleAcceptQueues(() => [proxyPort, ...cluster.instances.map((i) => i.port)]);
    const clis = new Clis(cluster.url, flows, { intervalSeconds: 1, spreadStartMs: 1000 });
    let next = 0;
    const approveSome = (count: number) => {
      const batch = flows.slice(next, next + count);
      next += count;
      return clis.approve(batch);
    };
    await sleep(3000);
    const exitCodes: (number | null)[] = [];
    const restartedIn: number[] = [];
    for (let index = 0; index < cluster.instances.length; index++) {
      const began = Date.now();
      const [exited] = await Promise.all([cluster.restart(index), approveSome(options.approvalsPerRestart)]);
      restartedIn.push(Date.now() - began);
      exitCodes.push(exited.code);
      await approveSome(Math.ceil(options.approvalsPerRestart / 3));
    }
    const report = await clis.finish(60_000, () => cluster.standIn.issuedTokens(), [
      `instances restarted in ${restartedIn.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ')} (SIGTERM to ready again)`,
    ]);
    const peaks = queues.stop();
    report.notes.push(
      `accept queues peaked at: servers ${cluster.instances.map((i) => peaks.get(i.port) ?? 0).join(', ')} (backlog 4096); the harness's proxy ${peaks.get(proxyPort) ?? 0}`,
    );
    const overflowsAfter = listenOverflows();
    report.listenOverflows =
      overflowsBefore === undefined || overflowsAfter === undefined
        ? undefined
        : overflowsAfter - overflowsBefore;
    return { ...report, exitCodes };
  } finally {
    await cluster.stop();
  }
}

/** Every way a report falls short: fatal answers, logins lost or delivered twice, foreign tokens. */
export function waitingViolations(report: WaitingReport): string[] {
  const violations: string[] = [];
  if (report.fatal.length > 0)
    violations.push(
      `${report.fatal.length} CLIs ended on a fatal answer: ${[...new Set(report.fatal)].join(', ')}`,
    );
  const lost = report.approved.filter((code) => !report.delivered.has(code));
  if (lost.length > 0) violations.push(`${lost.length} approved logins were never delivered`);
  const extra = [...report.delivered.keys()].filter((code) => !report.approved.includes(code));
  if (extra.length > 0) violations.push(`${extra.length} logins delivered that were never approved`);
  const tokens = [...report.delivered.values()];
  if (new Set(tokens).size !== tokens.length) violations.push('a token was delivered twice');
  if (tokens.some((token) => !report.issued.includes(token))) violations.push('a token Postiz never minted');
  return violations;
}

/** One scenario's report as printable lines. */
export function describeWaiting(name: string, report: WaitingReport): string[] {
  const lags = report.lagsMs;
  return [
    `${name}:`,
    `  answers by kind: ${Object.entries(report.kinds)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    `  logins approved ${report.approved.length}, delivered ${report.delivered.size}, lost ${report.approved.filter((c) => !report.delivered.has(c)).length}; fatal answers ${report.fatal.length}`,
    `  approval to token: p50 ${percentile(lags, 50)} ms, p99 ${percentile(lags, 99)} ms, max ${Math.max(0, ...lags)} ms`,
    `  listen-queue overflows (nstat TcpExtListenOverflows): ${report.listenOverflows ?? 'not readable here'}`,
    ...report.notes.map((n) => `  ${n}`),
  ];
}
