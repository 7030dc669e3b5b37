/**
 * A leaked Postiz authorization code is worthless. Postiz ignores PKCE for `pca_` apps, so a
 * victim's unused code could otherwise be exchanged inside an attacker's own flow (their
 * state, their binding cookie). Every code that reaches the callback and is not used for its
 * own flow is redeemed at once and its token discarded ("burned"), within a per-address
 * budget, so no refused callback leaves a usable code in a URL bar, a history or a log.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { build, TEST_CLIENT_ID, TEST_CLIENT_SECRET } from '../../harness/build.js';
import {
  type Answer,
  consentAtPostiz,
  enterCode,
  InjectBrowser,
  pathOf,
  poll,
  pressOnConfirmation,
  startFlow,
  walkToCallback,
} from '../../harness/inject-browser.js';
import { metric, upstreamCalls } from '../../harness/observe.js';

/** Redeem `code` at Postiz as this server would (with its secret): the HTTP status Postiz answers. */
async function redeemAtPostiz(postizUrl: string, code: string): Promise<number> {
  const res = await fetch(`${postizUrl}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      grant_type: 'authorization_code',
      code,
      client_id: TEST_CLIENT_ID,
      client_secret: TEST_CLIENT_SECRET,
    }),
  });
  await res.arrayBuffer();
  return res.status;
}

/** A refusal is a 4xx HTML page. */
function assertRefusedPage(answer: Answer, why: string): void {
  assert.ok(answer.status >= 400 && answer.status < 500, `${why}: answered ${answer.status}`);
  assert.match(String(answer.headers['content-type']), /^text\/html/, why);
}

/** A well-formed Postiz code (32 letters and digits) that Postiz never issued. */
const junkCode = (): string =>
  randomBytes(24)
    .toString('base64')
    .replace(/[^A-Za-z0-9]/g, 'x')
    .slice(0, 32);

/** Start a flow and confirm it on our page, stopping before Postiz: its state and the confirming browser. */
async function confirmOwnFlow(app: FastifyInstance) {
  const started = await startFlow(app);
  const browser = new InjectBrowser(app);
  const confirmation = await enterCode(browser, started.user_code);
  const redirect = await pressOnConfirmation(browser, confirmation, 'confirm');
  assert.ok(redirect.location, `confirm answered ${redirect.status}`);
  return {
    deviceCode: started.device_code,
    browser,
    state: new URL(redirect.location).searchParams.get('state')!,
  };
}

/** The attacker's CLI polls its own flow until it has an answer other than "pending" (or gives up). */
async function attackerPolls(app: FastifyInstance, deviceCode: string, advance: () => void) {
  const answers: Record<string, unknown>[] = [];
  for (let i = 0; i < 3; i++) {
    advance();
    answers.push((await poll(app, deviceCode)).json);
  }
  return answers;
}

test('a code whose callback is refused is burned, whatever the reason', async (t) => {
  const { app, standIn, clock, config } = await build(t);
  const postiz = standIn.url!;
  const refusals: Record<string, () => Promise<{ code: string; answer: Answer }>> = {
    'wrong browser': async () => {
      const walked = await walkToCallback(app);
      return { code: walked.code!, answer: await new InjectBrowser(app).get(pathOf(walked.callbackUrl)) };
    },
    'unknown state': async () => {
      const walked = await walkToCallback(app);
      const url = new URL(walked.callbackUrl);
      url.searchParams.set('state', randomBytes(32).toString('base64url'));
      return { code: walked.code!, answer: await walked.browser.get(pathOf(url)) };
    },
    'no state at all': async () => {
      const walked = await walkToCallback(app);
      return { code: walked.code!, answer: await walked.browser.get(`/device/callback?code=${walked.code}`) };
    },
    'replaced state (confirmed again since)': async () => {
      const walked = await walkToCallback(app);
      const again = await enterCode(walked.browser, walked.started.user_code);
      assert.ok((await pressOnConfirmation(walked.browser, again, 'confirm')).location);
      return { code: walked.code!, answer: await walked.browser.get(pathOf(walked.callbackUrl)) };
    },
    'replayed state (already used)': async () => {
      const walked = await walkToCallback(app);
      assert.equal((await walked.browser.get(pathOf(walked.callbackUrl))).status, 200);
      // Postiz issues a second code on the same authorize URL; it comes back with the used state.
      const second = await consentAtPostiz(walked.authorizeUrl, 'approve');
      return { code: second.searchParams.get('code')!, answer: await walked.browser.get(pathOf(second)) };
    },
    'expired flow': async () => {
      const walked = await walkToCallback(app);
      clock.advance(config.deviceCodeTtlSeconds * 1000 + 1000);
      return { code: walked.code!, answer: await walked.browser.get(pathOf(walked.callbackUrl)) };
    },
    'cancelled flow': async () => {
      const walked = await walkToCallback(app);
      const again = await enterCode(walked.browser, walked.started.user_code);
      assert.equal((await pressOnConfirmation(walked.browser, again, 'deny')).status, 200);
      return { code: walked.code!, answer: await walked.browser.get(pathOf(walked.callbackUrl)) };
    },
  };
  for (const [why, refuse] of Object.entries(refusals)) {
    const { code, answer } = await refuse();
    assertRefusedPage(answer, why);
    assert.equal(await redeemAtPostiz(postiz, code), 400, `${why}: the code is dead at Postiz`);
  }
  assert.ok((await metric(app, 'postiz_cli_auth_codes_burned_total{result="burned"}')) >= 6);
});

test("a code leaked from a refused callback, injected into the attacker's own flow, gives the attacker's CLI no token", async (t) => {
  const { app, standIn, clock } = await build(t);
  // The victim's callback is refused (it came back in another browser) and leaves the code in a URL.
  const victim = await walkToCallback(app);
  assertRefusedPage(
    await new InjectBrowser(app).get(pathOf(victim.callbackUrl)),
    'the victim in another browser',
  );

  // The attacker confirms a flow of their own (never going on to Postiz), so they hold its
  // binding cookie and a valid state, and brings the victim's code back with their own state.
  const attacker = await confirmOwnFlow(app);
  const tokensBefore = standIn.issuedTokens().length;
  const injected = new URL('/device/callback', 'http://localhost:3111');
  injected.searchParams.set('code', victim.code!);
  injected.searchParams.set('state', attacker.state);
  const answer = await attacker.browser.get(pathOf(injected));
  assert.notEqual(answer.status, 200, 'the injected code is not accepted');
  assert.equal(standIn.issuedTokens().length, tokensBefore, 'Postiz issued nothing for it');

  for (const json of await attackerPolls(app, attacker.deviceCode, () => clock.advance(5000))) {
    assert.equal(json.access_token, undefined, 'the attacker CLI never receives a token');
  }
});

test("a hand-made consent link (our client id, the attacker's state) gives the attacker's CLI no token", async (t) => {
  const { app, standIn, clock, config } = await build(t);
  // The attacker starts and confirms a flow of their own: a valid state and its binding cookie.
  const attacker = await confirmOwnFlow(app);
  const { state, browser: attackerBrowser } = attacker;

  // Each replay brings a code first seen at a refused callback (where the victim landed): it is
  // refused before the attacker's state is claimed, and Postiz is never asked (400, the page
  // that offers the confirming browser a new trip to Postiz). No token either way.
  for (const [link, refusal] of [
    [
      `${config.postizFrontendUrl}/oauth/authorize?client_id=${TEST_CLIENT_ID}&response_type=code&state=${state}`,
      400,
    ],
    [`${config.postizFrontendUrl}/oauth/authorize?client_id=${TEST_CLIENT_ID}&response_type=code`, 400],
  ] as const) {
    // The victim sees only Postiz's genuine consent page, approves, and lands on our callback.
    const landed = await consentAtPostiz(link, 'approve');
    const code = landed.searchParams.get('code')!;
    assertRefusedPage(await new InjectBrowser(app).get(pathOf(landed)), 'the victim lands on a refusal');

    // "Paste me the address you landed on": the attacker replays the code with their own state.
    const tokensBefore = standIn.issuedTokens().length;
    const injected = new URL('/device/callback', 'http://localhost:3111');
    injected.searchParams.set('code', code);
    injected.searchParams.set('state', state);
    const answer = await attackerBrowser.get(pathOf(injected));
    assert.equal(answer.status, refusal, answer.body.slice(0, 300));
    assert.equal(standIn.issuedTokens().length, tokensBefore, 'Postiz issued nothing for the injected code');
  }
  for (const json of await attackerPolls(app, attacker.deviceCode, () => clock.advance(5000))) {
    assert.equal(json.access_token, undefined, 'the attacker CLI never receives a token');
  }
});

test('burning is bounded: only well-formed codes, once each, within a per-address budget', async (t) => {
  const { app } = await build(t, { env: { TRUST_PROXY: 'true', RATE_LIMIT_CODE_BURNS: '4' } });
  const from = (ip: string) => new InjectBrowser(app, undefined, { 'x-forwarded-for': ip });
  const junkState = () => randomBytes(32).toString('base64url');

  // Malformed codes never reach Postiz.
  const before = await upstreamCalls(app);
  const malformed = ['x', 'a'.repeat(200), 'abc$def%20ghi', '../../oauth', ' '.repeat(32)];
  for (const code of malformed) {
    const answer = await from('192.0.2.1').get(
      `/device/callback?code=${encodeURIComponent(code)}&state=${junkState()}`,
    );
    assertRefusedPage(answer, `malformed code ${JSON.stringify(code.slice(0, 10))}`);
  }
  assert.equal(await upstreamCalls(app), before, 'no upstream call for malformed codes');

  // The same code twice is redeemed once.
  const repeated = junkCode();
  for (let i = 0; i < 3; i++)
    await from('192.0.2.2').get(`/device/callback?code=${repeated}&state=${junkState()}`);
  assert.equal(await upstreamCalls(app), before + 1, 'a repeated code is burned once');

  // Junk callbacks from one address: at most the budget reaches Postiz, then they are only counted.
  const flood = await Promise.all(
    Array.from({ length: 20 }, () =>
      from('192.0.2.3').get(`/device/callback?code=${junkCode()}&state=${junkState()}`),
    ),
  );
  for (const answer of flood) assertRefusedPage(answer, 'a junk callback');
  assert.equal(await upstreamCalls(app), before + 1 + 4, 'one address gets the budget, no more');
  assert.equal(await metric(app, 'postiz_cli_auth_codes_burned_total{result="limited"}'), 16);

  // Another address has its own budget.
  await from('198.51.100.4').get(`/device/callback?code=${junkCode()}&state=${junkState()}`);
  assert.equal(await upstreamCalls(app), before + 1 + 4 + 1);
});
