/**
 * One simulated login of the soak, from `POST /device/code` to its end: a user who approves,
 * denies at Postiz, cancels on our page, or abandons the flow; and, meanwhile, a device that
 * polls with several requests in flight at once (each arriving at least `interval` after the
 * one before, some held with `Prefer: wait`). Every answer is checked against what the user did.
 */
import { field, formOf } from '../../harness/forms.js';
import { REDELIVERY_GRACE_MS } from '../../src/device-flow/poller.js';
import { Browser, request } from './http.js';
import { userOf } from './postiz.js';

export type Plan = 'approve' | 'deny' | 'cancel' | 'abandon';
/** How an abandoned flow is left: never polled, polled but never opened, code entered, or left at Postiz. */
export type AbandonVariant = 'silent' | 'idle' | 'looked' | 'at-postiz';

/** What every flow shares. */
export interface SoakContext {
  /** The proxy (SERVER_URL). */
  serverUrl: string;
  /** The organisation the stand-in reports. */
  organizationId: string;
  /** Tokens the stand-in minted, by the code they were exchanged for. */
  tokenByCode: Map<string, string>;
  /** Number of Postiz users (stand-ins) logins are spread over. */
  users: number;
  /** Per Postiz user, the end of the last approval queued (see `withConsentLock`). */
  consentLocks: Map<number, Promise<void>>;
  /** Poll answers by result, across all flows. */
  pollResults: Map<string, number>;
  /** Polls sent with a wait (held), across all flows. */
  heldPolls: { count: number };
  /** Milliseconds from the end of an approving callback to the token reaching the device. */
  deliveryLatencies: number[];
  /** Milliseconds each approval waited for the consent lock. */
  lockWaits: number[];
  /** Polls sent ≥ 1 s after the callback approved or denied their flow and still answered `authorization_pending`. */
  stalePending: { count: number };
}

/** The story of one flow, and everything that went wrong in it. */
export interface FlowReport {
  index: number;
  plan: Plan;
  variant?: AbandonVariant;
  deviceCode: string;
  /** The final answer the device settled on (`token`, `access_denied`, `expired_token`, or what went wrong). */
  outcome: string;
  tokens: string[];
  polls: number;
  violations: string[];
}

const MAX_OUTSTANDING_POLLS = 3;
/**
 * Added to the interval between poll launches, for jitter (the server allows 1 s more): the proxy
 * runs in this busy process, so a poll can reach its instance late and the next one on time.
 */
const SPACING_MARGIN_MS = 1000;
/** Waits a poll may ask for; `undefined` leaves it to the server's POLL_WAIT_SECONDS. */
const WAITS = [undefined, 0, 5, 10, 15, 20];

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

/** The address a simulated user and device come from (one per flow, so no rate limit is shared). */
export function clientIp(index: number): string {
  return `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`;
}

/**
 * Postiz keeps one authorization per app, user and organisation: a user's second approval voids
 * the first one's unexchanged code. So each user's approval → callback → exchange stretches run
 * one at a time (logins are spread over many users, so they rarely wait).
 */
async function withConsentLock<T>(ctx: SoakContext, user: number, fn: () => Promise<T>): Promise<T> {
  const previous = ctx.consentLocks.get(user) ?? Promise.resolve();
  let release = () => {};
  ctx.consentLocks.set(
    user,
    new Promise<void>((resolve) => {
      release = resolve;
    }),
  );
  const waiting = Date.now();
  await previous;
  ctx.lockWaits.push(Date.now() - waiting);
  try {
    return await fn();
  } finally {
    release();
  }
}

interface Started {
  deviceCode: string;
  userCode: string;
  verificationUriComplete: string;
  expiresAt: number;
  interval: number;
}

/** POST /device/code, as the postiz CLI (JSON, no body) or as an RFC 8628 client (form). */
async function start(ctx: SoakContext, ip: string): Promise<Started> {
  const asCli = Math.random() < 0.5;
  const answer = await request(`${ctx.serverUrl}/device/code`, {
    method: 'POST',
    headers: {
      'x-forwarded-for': ip,
      'content-type': asCli ? 'application/json' : 'application/x-www-form-urlencoded',
    },
    ...(asCli ? {} : { body: 'client_id=soak' }),
  });
  if (answer.status !== 200) throw new Error(`POST /device/code answered ${answer.status}: ${answer.body}`);
  const body = JSON.parse(answer.body);
  return {
    deviceCode: body.device_code,
    userCode: body.user_code,
    verificationUriComplete: body.verification_uri_complete,
    expiresAt: Date.now() + body.expires_in * 1000,
    interval: body.interval,
  };
}

/** One poll: the result (`token` or the error code) and the body. */
async function pollOnce(
  ctx: SoakContext,
  flow: Started,
  ip: string,
): Promise<{ result: string; body: Record<string, string> }> {
  const wait = pick(WAITS);
  if (wait) ctx.heldPolls.count++;
  const asCli = Math.random() < 0.5;
  const answer = await request(`${ctx.serverUrl}/device/token`, {
    method: 'POST',
    headers: {
      'x-forwarded-for': ip,
      'content-type': asCli ? 'application/json' : 'application/x-www-form-urlencoded',
      ...(wait === undefined ? {} : { prefer: `wait=${wait}` }),
    },
    body: asCli
      ? JSON.stringify({ device_code: flow.deviceCode })
      : new URLSearchParams({
          grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
          device_code: flow.deviceCode,
          client_id: 'soak',
        }).toString(),
  });
  let body: Record<string, string> = {};
  try {
    body = JSON.parse(answer.body);
  } catch {}
  const result =
    answer.status === 200 && body.access_token
      ? 'token'
      : answer.status === 400 && body.error
        ? body.error
        : `http_${answer.status}`;
  ctx.pollResults.set(result, (ctx.pollResults.get(result) ?? 0) + 1);
  return { result, body };
}

/** What the device saw, poll by poll. */
interface PollLog {
  answers: Array<{ result: string; body: Record<string, string>; sentAt: number; at: number }>;
  settled: string | undefined;
}

/** Poll until a final answer, several polls in flight, each arriving `interval` (+ margin) after the last. */
async function pollUntilSettled(ctx: SoakContext, flow: Started, ip: string, log: PollLog): Promise<void> {
  const outstanding = new Set<Promise<void>>();
  let interval = flow.interval;
  let next = Date.now() + Math.random() * interval * 1000;
  const hardEnd = flow.expiresAt + 30_000;
  while (!log.settled && Date.now() < hardEnd) {
    await sleep(next - Date.now());
    if (log.settled) break;
    if (outstanding.size >= MAX_OUTSTANDING_POLLS) {
      await Promise.race(outstanding);
      next = Math.max(next, Date.now());
      continue;
    }
    const sentAt = Date.now();
    const p: Promise<void> = pollOnce(ctx, flow, ip).then(
      ({ result, body }) => {
        log.answers.push({ result, body, sentAt, at: Date.now() });
        if (result === 'slow_down' && body.interval) interval = Number(body.interval);
        if (result !== 'authorization_pending' && result !== 'slow_down') log.settled ??= result;
      },
      (err: Error) => {
        log.answers.push({ result: `network: ${err.message}`, body: {}, sentAt, at: Date.now() });
      },
    );
    const tracked = p.finally(() => outstanding.delete(tracked));
    outstanding.add(tracked);
    next = Date.now() + interval * 1000 + SPACING_MARGIN_MS;
  }
  await Promise.all(outstanding);
}

/** Code entry and look-up: the confirmation page. */
async function lookUp(browser: Browser, flow: Started): Promise<{ verify: string; body: string }> {
  const verify = new URL('/device/verify', flow.verificationUriComplete).href;
  const entry = await browser.get(flow.verificationUriComplete);
  if (entry.status !== 200) throw new Error(`entry page answered ${entry.status}`);
  const confirm = await browser.post(verify, {
    _csrf: field(entry.body, '_csrf'),
    user_code: flow.userCode,
    action: 'lookup',
  });
  if (confirm.status !== 200) throw new Error(`confirmation page answered ${confirm.status}`);
  return { verify, body: confirm.body };
}

/** Confirm on our page; returns the URL of Postiz's consent page. */
async function confirm(browser: Browser, flow: Started): Promise<string> {
  const { verify, body } = await lookUp(browser, flow);
  const toPostiz = await browser.post(verify, {
    _csrf: field(body, '_csrf'),
    user_code: field(body, 'user_code'),
    action: 'confirm',
  });
  const location = toPostiz.headers.location;
  if (toPostiz.status !== 303 || !location) throw new Error(`confirm answered ${toPostiz.status}`);
  return location;
}

/** Postiz's consent page: the form to answer. */
async function consentForm(browser: Browser, consentUrl: string): Promise<Record<string, string>> {
  const consent = await browser.get(consentUrl);
  if (consent.status !== 200) throw new Error(`consent page answered ${consent.status}`);
  return formOf(consent.body, consentUrl).fields;
}

/** Answer Postiz's consent form and follow its redirect to our callback; returns the code (if any) and the last page. */
async function decideAtPostiz(
  browser: Browser,
  consentUrl: string,
  form: Record<string, string>,
  decision: 'approve' | 'deny',
): Promise<{ code: string | null; status: number; body: string }> {
  const back = await browser.post(new URL('/oauth/authorize', consentUrl).href, {
    ...form,
    action: decision,
  });
  const location = back.headers.location;
  if (back.status !== 302 || !location) throw new Error(`Postiz answered ${back.status}`);
  const page = await browser.get(location);
  return { code: new URL(location).searchParams.get('code'), status: page.status, body: page.body };
}

/** What the user does; returns the token the stand-in minted for this flow, when approved. */
async function act(
  ctx: SoakContext,
  flow: Started,
  plan: Plan,
  variant: AbandonVariant | undefined,
  ip: string,
): Promise<{ expectedToken?: string; callbackDoneAt?: number }> {
  const browser = new Browser(ip);
  if (plan === 'approve' || plan === 'deny') {
    const consentUrl = await confirm(browser, flow);
    const form = await consentForm(browser, consentUrl);
    const { code, status, body } =
      plan === 'approve'
        ? await withConsentLock(ctx, userOf(form.state ?? '', ctx.users), () =>
            decideAtPostiz(browser, consentUrl, form, 'approve'),
          )
        : await decideAtPostiz(browser, consentUrl, form, 'deny');
    const expected = plan === 'approve' ? /You are logged in/ : /Access denied/;
    if (status !== 200 || !expected.test(body)) throw new Error(`callback page: ${status} ${heading(body)}`);
    const expectedToken = code ? ctx.tokenByCode.get(code) : undefined;
    if (plan === 'approve' && !expectedToken) throw new Error('the stand-in minted no token for this code');
    return { expectedToken, callbackDoneAt: Date.now() };
  }
  if (plan === 'cancel') {
    const { verify, body } = await lookUp(browser, flow);
    const page = await browser.post(verify, {
      _csrf: field(body, '_csrf'),
      user_code: field(body, 'user_code'),
      action: 'deny',
    });
    if (page.status !== 200 || !/Login cancelled/.test(page.body))
      throw new Error(`cancel page: ${page.status} ${heading(page.body)}`);
    return { callbackDoneAt: Date.now() };
  }
  if (variant === 'looked') await lookUp(browser, flow);
  if (variant === 'at-postiz') await consentForm(browser, await confirm(browser, flow));
  return {};
}

const heading = (body: string) => /<h1>([^<]*)<\/h1>/.exec(body)?.[1] ?? body.slice(0, 200);

/** Run one flow to its end and report what went wrong, if anything. */
export async function runFlow(
  ctx: SoakContext,
  index: number,
  plan: Plan,
  variant?: AbandonVariant,
): Promise<FlowReport> {
  const ip = clientIp(index);
  const report: FlowReport = {
    index,
    plan,
    variant,
    deviceCode: '',
    outcome: '',
    tokens: [],
    polls: 0,
    violations: [],
  };
  const violation = (what: string) =>
    report.violations.push(`flow ${index} (${plan}${variant ? `/${variant}` : ''}): ${what}`);
  let flow: Started;
  try {
    flow = await start(ctx, ip);
  } catch (err) {
    violation((err as Error).message);
    report.outcome = 'not started';
    return report;
  }
  report.deviceCode = flow.deviceCode;
  const log: PollLog = { answers: [], settled: undefined };
  const polling = variant === 'silent' ? Promise.resolve() : pollUntilSettled(ctx, flow, ip, log);

  // The user takes a while (and the device polls meanwhile), or acts at once.
  await sleep(Math.random() * (plan === 'abandon' ? 10_000 : 20_000));
  let acted: Awaited<ReturnType<typeof act>> = {};
  try {
    acted = await act(ctx, flow, plan, variant, ip);
  } catch (err) {
    violation(`browser: ${(err as Error).message}`);
  }
  await polling;
  if (variant === 'silent') {
    // Never polled while alive: one poll after expiry must say so.
    await sleep(flow.expiresAt + 1000 - Date.now());
    const sentAt = Date.now();
    const { result, body } = await pollOnce(ctx, flow, ip);
    log.answers.push({ result, body, sentAt, at: Date.now() });
    log.settled = result;
  }
  check(ctx, report, plan, log, acted, violation);
  return report;
}

/** Compare what the device saw with what the user did. */
function check(
  ctx: SoakContext,
  report: FlowReport,
  plan: Plan,
  log: PollLog,
  acted: { expectedToken?: string; callbackDoneAt?: number },
  violation: (what: string) => void,
): void {
  report.polls = log.answers.length;
  const tokens = log.answers.filter((a) => a.result === 'token');
  // Polls of one device code within the redelivery grace all get its token: one token per flow.
  report.tokens = [...new Set(tokens.map((a) => a.body.access_token!))];
  report.outcome = tokens.length > 0 ? 'token' : (log.settled ?? 'unsettled');
  const expected = {
    approve: 'token',
    deny: 'access_denied',
    cancel: 'access_denied',
    abandon: 'expired_token',
  }[plan];
  if (report.outcome !== expected) violation(`ended in ${report.outcome}, expected ${expected}`);
  if (plan === 'approve') {
    if (report.tokens.length > 1) violation(`${report.tokens.length} different tokens reached its polls`);
    const [delivered] = tokens;
    if (tokens.some((t) => t.body.access_token !== acted.expectedToken))
      violation('a delivered token is not the one Postiz minted for this flow');
    if (delivered && delivered.body.organization_id !== ctx.organizationId)
      violation(`organization_id ${delivered.body.organization_id}`);
    if (delivered && acted.callbackDoneAt)
      ctx.deliveryLatencies.push(Math.max(0, delivered.at - acted.callbackDoneAt));
  }
  const description = { deny: /denied/, cancel: /cancelled/ }[plan as 'deny' | 'cancel'];
  for (const answer of log.answers) {
    const { result } = answer;
    // Not wrong (the next poll learns better) but slow: the instance had not heard of the change yet.
    if (
      result === 'authorization_pending' &&
      acted.callbackDoneAt &&
      answer.sentAt > acted.callbackDoneAt + 1000
    )
      ctx.stalePending.count++;
    if (result === 'authorization_pending' || result === 'token') continue;
    // Spent: asked again after the redelivery grace (its token was delivered long before).
    if (
      result === 'invalid_grant' &&
      plan === 'approve' &&
      tokens[0] &&
      answer.sentAt > tokens[0].at + REDELIVERY_GRACE_MS
    )
      continue;
    if (result === 'access_denied' && description?.test(answer.body.error_description ?? '')) continue;
    if (result === 'expired_token' && plan === 'abandon') continue;
    const previous = log.answers.filter((a) => a.sentAt < answer.sentAt).at(-1);
    const gap = previous ? `, sent ${answer.sentAt - previous.sentAt} ms after the one before` : '';
    const why = answer.body.error_description ? ` (${answer.body.error_description})` : '';
    violation(`a poll answered ${result}${why}${gap}`);
  }
}
