/**
 * Approval-to-token delay for a waiting client: start flows, let a client poll each one the
 * way a patient CLI does (`Prefer: wait=20`, so a server that holds polls answers the moment
 * the flow changes; a server that answers at once gets the next poll one interval later), and
 * approve each in a browser (harness/walker.ts).
 * The delay runs from the callback page's answer to the token's.
 */
import { performance } from 'node:perf_hooks';
import type { StandIn } from '../demo/stand-in/index.js';
import { approveInBrowser, type Page, Walker } from '../harness/walker.js';
import { sleep } from './processes.js';

/** What the measurement found. */
export interface ApprovalResult {
  /** ms from the callback's answer to the token's, one per flow, in flow order. */
  delaysMs: number[];
  p50: number;
  max: number;
  /** Whether the server held polls open (some answer, pending or token, took 1 s or more). */
  held: boolean;
  /** Tokens the stand-in issued (it revokes a user's earlier token on each approval, so not "valid"). */
  validTokens: number;
  failures: string[];
}

/** A browser that notes when the callback page answered. */
class TimedWalker extends Walker {
  callbackAnsweredAt = Number.NaN;
  override async get(url: string): Promise<Page> {
    const page = await super.get(url);
    if (new URL(url).pathname === '/device/callback') this.callbackAnsweredAt = performance.now();
    return page;
  }
}

interface Started {
  device_code: string;
  verification_uri_complete: string;
  interval: number;
}

async function startFlow(url: string): Promise<Started> {
  const res = await fetch(`${url}/device/code`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  if (res.status !== 200) throw new Error(`POST /device/code answered ${res.status}`);
  return (await res.json()) as Started;
}

/** Poll like the CLI until the token comes; resolves with its arrival time and the token. */
async function waitForToken(
  url: string,
  flow: Started,
  deadline: number,
  onAnswer: (tookMs: number) => void,
): Promise<{ at: number; token: string }> {
  let interval = flow.interval;
  while (performance.now() < deadline) {
    const sent = performance.now();
    const res = await fetch(`${url}/device/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', prefer: 'wait=20' },
      body: JSON.stringify({ device_code: flow.device_code }),
      signal: AbortSignal.timeout(30_000),
    });
    const body = (await res.json()) as { access_token?: string; error?: string; interval?: number };
    const at = performance.now();
    const tookMs = at - sent;
    onAnswer(tookMs);
    if (res.status === 200 && body.access_token) return { at, token: body.access_token };
    if (body.error === 'slow_down') interval = body.interval ?? interval + 5;
    else if (body.error !== 'authorization_pending')
      throw new Error(`poll answered ${res.status} ${body.error}`);
    // An answer that was held open can be followed at once; an immediate one waits the interval.
    if (body.error === 'slow_down' || tookMs < 1000) await sleep(interval * 1000);
  }
  throw new Error('no token before the deadline');
}

function percentile(sorted: number[], q: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : Number.NaN;
}

/**
 * `count` flows at once. If the server answered their first polls at once (it does not hold
 * polls), the moment of approval within the interval decides the delay, so the approvals are
 * spread evenly over the first interval; if it holds them, they are approved straight away.
 */
export async function measureApproval(url: string, standIn: StandIn, count = 10): Promise<ApprovalResult> {
  const failures: string[] = [];
  let held = false;
  let answered = 0;
  const deadline = performance.now() + 45_000;
  let flows: Started[];
  try {
    flows = await Promise.all(Array.from({ length: count }, () => startFlow(url)));
  } catch (err) {
    return { delaysMs: [], p50: Number.NaN, max: Number.NaN, held, validTokens: 0, failures: [String(err)] };
  }
  const began = performance.now();
  const tokens = flows.map((flow) => {
    const token = waitForToken(url, flow, deadline, (ms) => {
      answered++;
      if (ms >= 1000) held = true;
    });
    token.catch(() => {}); // awaited below; do not report it twice
    return token;
  });
  await sleep(1000);
  const spread = answered > 0;
  // One browser walk at a time: the stand-in replaces a user's pending code on each approval,
  // so two overlapping approvals would make one exchange fail.
  let walking: Promise<unknown> = Promise.resolve();
  const one = async (flow: Started, i: number): Promise<{ delay: number; token: string } | undefined> => {
    try {
      if (spread) {
        const at = 1000 + ((i + 0.5) / count) * (flow.interval * 1000 - 1000);
        await sleep(at - (performance.now() - began));
      }
      const walker = new TimedWalker();
      const walk = walking.then(() => approveInBrowser(flow.verification_uri_complete, 'approve', walker));
      walking = walk.catch(() => {});
      const last = await walk;
      if (last.status !== 200) throw new Error(`callback page answered ${last.status}`);
      const got = await tokens[i]!;
      return { delay: got.at - walker.callbackAnsweredAt, token: got.token };
    } catch (err) {
      failures.push(`flow ${i}: ${(err as Error).message}`);
      return undefined;
    }
  };
  const outcomes = await Promise.all(flows.map(one));
  const done = outcomes.filter((o): o is { delay: number; token: string } => o !== undefined);
  const delaysMs = done.map((o) => o.delay);
  const sorted = [...delaysMs].sort((a, b) => a - b);
  return {
    delaysMs,
    p50: percentile(sorted, 0.5),
    max: sorted.at(-1) ?? Number.NaN,
    held,
    validTokens: done.filter((o) => standIn.issuedTokens().includes(o.token)).length,
    failures,
  };
}
