/**
 * A guarantee of docs/security.md: CSRF. A form post forged by another site (foreign `Origin`, no token, a forged
 * token, another session's token) is refused, changes nothing, and never leads to Postiz.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Built, build } from '../../harness/build.js';
import {
  type Answer,
  consentAtPostiz,
  enterCode,
  field,
  InjectBrowser,
  pathOf,
  poll,
  pressOnConfirmation,
  startFlow,
} from '../../harness/inject-browser.js';
import { hashSecret, normalizeUserCode } from '../../src/device-flow/codes.js';
import { createLogger } from '../../src/logger.js';
import { escapeHtml } from '../../src/views/html.js';
import { en } from '../../src/views/i18n/en.js';

/** The stored state of the flow of `userCode`. */
async function flowState(built: Built, userCode: string) {
  const flow = await built.store.findByUserCode(hashSecret(normalizeUserCode(userCode)!));
  assert.ok(flow);
  return { status: flow.status, awaitingCallback: flow.awaitingCallback, bound: flow.browserHash !== null };
}

const UNTOUCHED = { status: 'pending', awaitingCallback: false, bound: false };

/** A refused post: a 4xx page that neither redirects (to Postiz) nor binds a browser. */
function assertRefused(answer: Answer, status: number | undefined, why: string): void {
  if (status) assert.equal(answer.status, status, `${why}: ${answer.body.slice(0, 200)}`);
  else assert.ok(answer.status >= 400 && answer.status < 500, `${why}: answered ${answer.status}`);
  assert.match(String(answer.headers['content-type']), /^text\/html/, why);
  assert.equal(answer.location, undefined, `${why}: no redirect`);
  assert.ok(!answer.setCookies.some((c) => c.includes('pca_bind_')), `${why}: no binding cookie`);
}

/** The victim, on the confirmation page of their flow, with a valid session and token. */
async function victimOnConfirmation(built: Built) {
  const started = await startFlow(built.app);
  const browser = new InjectBrowser(built.app);
  const confirmation = await enterCode(browser, started.user_code);
  assert.equal(confirmation.status, 200);
  return { started, browser, confirmation, csrf: field(confirmation.body, '_csrf') };
}

test('a cross-site post (foreign Origin) is refused, changes nothing and never reaches Postiz', async (t) => {
  const built = await build(t);
  const { started, browser, confirmation, csrf } = await victimOnConfirmation(built);
  // Even with the victim's own cookie and token, a foreign Origin is enough to refuse.
  for (const origin of [
    'https://evil.example',
    'null',
    'http://localhost:3111.evil.example',
    'http://localhost',
  ]) {
    for (const action of ['confirm', 'deny', 'lookup']) {
      const answer = await browser.post(
        '/device/verify',
        { _csrf: csrf, user_code: started.user_code, action },
        { origin },
      );
      assertRefused(answer, 403, `${action} from ${origin}`);
    }
  }
  assert.deepEqual(await flowState(built, started.user_code), UNTOUCHED);
  assert.equal((await poll(built.app, started.device_code)).json.error, 'authorization_pending');

  // The real page still works, all the way to a token.
  const redirect = await pressOnConfirmation(browser, confirmation, 'confirm');
  assert.ok(redirect.location);
  assert.equal((await browser.get(pathOf(await consentAtPostiz(redirect.location, 'approve')))).status, 200);
  built.clock.advance(5000);
  assert.equal((await poll(built.app, started.device_code)).status, 200);
});

test('a post without the CSRF token, or with a forged one, is refused', async (t) => {
  const built = await build(t);
  const { started, browser, csrf } = await victimOnConfirmation(built);
  const forgeries: [string, Record<string, string>][] = [
    ['no token', {}],
    ['an empty token', { _csrf: '' }],
    ['a made-up token', { _csrf: 'forged' }],
    ['a token of the right shape', { _csrf: 'A'.repeat(csrf.length) }],
    ['the token with one character changed', { _csrf: (csrf[0] === 'A' ? 'B' : 'A') + csrf.slice(1) }],
    ['the token with extra characters', { _csrf: `${csrf}A` }],
  ];
  for (const [why, token] of forgeries) {
    for (const origin of [undefined, null]) {
      for (const action of ['confirm', 'deny']) {
        const answer = await browser.post(
          '/device/verify',
          { ...token, user_code: started.user_code, action },
          { origin },
        );
        assertRefused(answer, 403, `${why}, ${action}, ${origin === null ? 'no Origin' : 'same Origin'}`);
      }
    }
  }
  assert.deepEqual(await flowState(built, started.user_code), UNTOUCHED);
});

test("another session's CSRF token is refused", async (t) => {
  const built = await build(t);
  const { started, browser } = await victimOnConfirmation(built);
  // The attacker loads the page in their own browser and uses their own, valid, token.
  const attacker = new InjectBrowser(built.app);
  const attackerToken = field((await attacker.get('/device/verify')).body, '_csrf');
  for (const action of ['confirm', 'deny', 'lookup']) {
    const answer = await browser.post('/device/verify', {
      _csrf: attackerToken,
      user_code: started.user_code,
      action,
    });
    assertRefused(answer, 403, action);
  }
  assert.deepEqual(await flowState(built, started.user_code), UNTOUCHED);
});

test('a post without any session cookie is refused', async (t) => {
  const built = await build(t);
  const { started, csrf } = await victimOnConfirmation(built);
  const cookieless = new InjectBrowser(built.app);
  for (const action of ['confirm', 'deny']) {
    assertRefused(
      await cookieless.post('/device/verify', { _csrf: csrf, user_code: started.user_code, action }),
      undefined,
      action,
    );
  }
  assert.deepEqual(await flowState(built, started.user_code), UNTOUCHED);
});

test('a forged retry (after a failed exchange) is refused and never reaches Postiz', async (t) => {
  const built = await build(t);
  const { browser, confirmation } = await victimOnConfirmation(built);
  const redirect = await pressOnConfirmation(browser, confirmation, 'confirm');
  const callbackUrl = await consentAtPostiz(redirect.location!, 'approve');
  built.standIn.failNext('server-error');
  const failed = await browser.get(pathOf(callbackUrl));
  assert.equal(failed.status, 502);
  const flowId = field(failed.body, 'flow');
  const csrf = field(failed.body, '_csrf');

  const attacker = new InjectBrowser(built.app);
  const attackerToken = field((await attacker.get('/device/verify')).body, '_csrf');
  const forged: [string, InjectBrowser, Record<string, string>, string | undefined][] = [
    ['foreign Origin', browser, { _csrf: csrf }, 'https://evil.example'],
    ['no token', browser, {}, undefined],
    ["another session's token", browser, { _csrf: attackerToken }, undefined],
    ["the attacker's own browser", attacker, { _csrf: attackerToken }, undefined],
  ];
  for (const [why, who, token, origin] of forged) {
    const answer = await who.post('/device/verify', { ...token, flow: flowId, action: 'retry' }, { origin });
    assertRefused(answer, undefined, why);
  }
  // The genuine retry still works.
  const retried = await browser.post('/device/verify', { _csrf: csrf, flow: flowId, action: 'retry' });
  assert.equal(retried.status, 303);
  assert.ok(retried.location?.includes('/oauth/authorize'));
});

test('a form posted from another address of this server says to open the address from the terminal, and warns the operator once per origin', async (t) => {
  const lines: string[] = [];
  const logger = createLogger({
    level: 'warn',
    format: 'json',
    destination: { write: (chunk: string) => void lines.push(...chunk.split('\n').filter(Boolean)) },
  });
  const built = await build(t, { logger });
  const { started } = await victimOnConfirmation(built);
  const browser = new InjectBrowser(built.app, 'http://127.0.0.1:3111');
  const entry = await browser.get('/device/verify');
  for (let i = 0; i < 3; i++) {
    const answer = await browser.post('/device/verify', {
      _csrf: field(entry.body, '_csrf'),
      user_code: started.user_code,
      action: 'lookup',
    });
    assertRefused(answer, 403, 'another origin');
    assert.ok(answer.body.includes(escapeHtml(en['error.wrong_origin.heading'])), answer.body.slice(0, 500));
    assert.ok(answer.body.includes(escapeHtml(en['error.wrong_origin.body'])));
  }
  const warnings = lines.filter((line) => line.includes('http://127.0.0.1:3111'));
  assert.equal(warnings.length, 1, lines.join('\n'));
  const warning = JSON.parse(warnings[0]!) as { origin: string; expected: string; msg: string };
  assert.equal(warning.origin, 'http://127.0.0.1:3111');
  assert.equal(warning.expected, 'http://localhost:3111');
  assert.match(warning.msg, /SERVER_URL/);
  // Another origin gets its own warning.
  await new InjectBrowser(built.app, 'http://10.0.0.5:3111').post('/device/verify', {
    _csrf: 'x',
    action: 'lookup',
  });
  assert.equal(lines.filter((line) => line.includes('http://10.0.0.5:3111')).length, 1);
});
