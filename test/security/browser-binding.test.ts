/**
 * A guarantee of docs/security.md: the authorization is bound to the browser that confirmed it. A callback
 * without that browser's cookie, with another flow's cookie, or replayed, is never exchanged
 * for its own flow, and leaves the flow usable by the right browser. (Its code is burned, so
 * the right browser finishes with one retry: code-injection.test.ts.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { build } from '../../harness/build.js';
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
  walkToCallback,
} from '../../harness/inject-browser.js';

/** The browser's binding cookie for a flow: its name and value. */
function bindingCookie(browser: InjectBrowser): { name: string; value: string } {
  const found = [...browser.cookies].find(([name]) => name.includes('pca_bind_'));
  assert.ok(found, 'the confirming browser holds a binding cookie');
  return { name: found[0], value: found[1] };
}

/**
 * The right browser comes back with a code first seen at a refused callback: it is not
 * exchanged (nor could it be: it was burned), the page offers Try again, and the retry (a new
 * trip to Postiz) logs in.
 */
async function finishAfterBurn(browser: InjectBrowser, callbackUrl: URL): Promise<void> {
  const refused = await browser.get(pathOf(callbackUrl));
  assert.equal(refused.status, 400, 'the code, first seen at a refused callback, is not used');
  const retried = await browser.post('/device/verify', {
    _csrf: field(refused.body, '_csrf'),
    flow: field(refused.body, 'flow'),
    action: 'retry',
  });
  assert.ok(retried.location, `retry answered ${retried.status}`);
  const again = await consentAtPostiz(retried.location, 'approve');
  const done = await browser.get(pathOf(again));
  assert.equal(done.status, 200, done.body);
}

/** A refusal is a 4xx HTML page. */
function assertRefusedPage(answer: Answer, why: string): void {
  assert.ok(answer.status >= 400 && answer.status < 500, `${why}: answered ${answer.status}`);
  assert.match(String(answer.headers['content-type']), /^text\/html/, why);
}

test('a callback from a browser without the binding cookie is refused and its code burned; the right browser still logs in, with one retry', async (t) => {
  const { app, standIn, clock } = await build(t);
  const walked = await walkToCallback(app);
  const exchanged = standIn.issuedTokens().length;

  // The attacker got hold of the callback URL (code + state) and opens it in their own browser.
  assertRefusedPage(await new InjectBrowser(app).get(pathOf(walked.callbackUrl)), 'no cookie at all');
  const sameSessionNoBinding = new InjectBrowser(app);
  for (const [name, value] of walked.browser.cookies)
    if (!name.includes('pca_bind_')) sameSessionNoBinding.cookies.set(name, value);
  assertRefusedPage(await sameSessionNoBinding.get(pathOf(walked.callbackUrl)), 'session cookie, no binding');
  const forged = new InjectBrowser(app);
  forged.cookies.set(bindingCookie(walked.browser).name, 'A'.repeat(43));
  assertRefusedPage(await forged.get(pathOf(walked.callbackUrl)), 'a forged binding cookie');
  // The code was burned by the first refusal: Postiz issued one token, which nobody received.
  assert.equal(standIn.issuedTokens().length, exchanged + 1, 'the code was redeemed once, by burning');
  assert.equal((await poll(app, walked.started.device_code)).json.error, 'authorization_pending');

  await finishAfterBurn(walked.browser, walked.callbackUrl);
  assert.equal(standIn.issuedTokens().length, exchanged + 2);
  clock.advance(5000);
  const delivered = await poll(app, walked.started.device_code);
  assert.equal(delivered.status, 200);
  assert.equal(delivered.json.access_token, standIn.issuedTokens().at(-1));
});

test("a callback carrying another flow's binding cookie is refused", async (t) => {
  const { app, standIn } = await build(t);
  // The attacker confirms a flow of their own, so their browser holds a genuine binding cookie.
  const attacker = await walkToCallback(app);
  const victim = await walkToCallback(app);
  const exchanged = standIn.issuedTokens().length;
  const attackerCookie = bindingCookie(attacker.browser);
  const victimCookie = bindingCookie(victim.browser);
  assert.notEqual(attackerCookie.value, victimCookie.value);

  // The victim's callback URL, opened in the attacker's browser as it is...
  assertRefusedPage(await attacker.browser.get(pathOf(victim.callbackUrl)), "another flow's cookie");
  // ...and with the attacker's cookie value renamed to the victim's flow.
  const renamed = new InjectBrowser(app);
  renamed.cookies.set(victimCookie.name, attackerCookie.value);
  assertRefusedPage(await renamed.get(pathOf(victim.callbackUrl)), "another flow's cookie value");
  assert.equal(standIn.issuedTokens().length, exchanged + 1, 'redeemed once, by burning, for nobody');
  assert.equal((await poll(app, attacker.started.device_code)).json.access_token, undefined);

  await finishAfterBurn(victim.browser, victim.callbackUrl);
});

test('a replayed callback is refused and never exchanges a code twice', async (t) => {
  const { app, standIn, clock } = await build(t);
  const walked = await walkToCallback(app);
  const before = standIn.issuedTokens().length;

  assert.equal((await walked.browser.get(pathOf(walked.callbackUrl))).status, 200);
  assert.equal(standIn.issuedTokens().length, before + 1);
  assertRefusedPage(await walked.browser.get(pathOf(walked.callbackUrl)), 'the replay before the poll');
  clock.advance(5000);
  assert.equal((await poll(app, walked.started.device_code)).status, 200);
  assertRefusedPage(await walked.browser.get(pathOf(walked.callbackUrl)), 'the replay after delivery');
  assert.equal(standIn.issuedTokens().length, before + 1, 'one exchange only');
});

test('copies of one callback arriving at once exchange the code once, and never burn it under the copy that uses it', async (t) => {
  const { app, standIn, clock } = await build(t);
  for (let round = 0; round < 5; round++) {
    const walked = await walkToCallback(app);
    const before = standIn.issuedTokens().length;
    const answers = await Promise.all(
      Array.from({ length: 4 }, () => walked.browser.get(pathOf(walked.callbackUrl))),
    );
    const statuses = answers.map((a) => a.status).join();
    assert.equal(answers.filter((a) => a.status === 200).length, 1, statuses);
    for (const a of answers)
      if (a.status !== 200) assert.equal(a.status, 400, `a concurrent copy: ${statuses}`);
    assert.equal(standIn.issuedTokens().length, before + 1, 'one exchange, no burn racing it');
    clock.advance(5000);
    assert.equal((await poll(app, walked.started.device_code)).status, 200);
  }
});

test("a forged denial callback cannot end someone else's flow", async (t) => {
  const { app, clock } = await build(t);
  const walked = await walkToCallback(app, 'deny');
  // The denial URL (error=access_denied + state), replayed from a browser without the cookie.
  assertRefusedPage(await new InjectBrowser(app).get(pathOf(walked.callbackUrl)), 'forged denial');
  assert.equal((await poll(app, walked.started.device_code)).json.error, 'authorization_pending');
  // The real browser's denial counts, once.
  assert.equal((await walked.browser.get(pathOf(walked.callbackUrl))).status, 200);
  assertRefusedPage(await walked.browser.get(pathOf(walked.callbackUrl)), 'replayed denial');
  clock.advance(5000);
  assert.equal((await poll(app, walked.started.device_code)).json.error, 'access_denied');
});

/** The attributes of a `Set-Cookie` header, lower-cased names. */
function attributes(header: string): { name: string; value: string; attrs: Map<string, string> } {
  const [pair = '', ...rest] = header.split(';');
  const eq = pair.indexOf('=');
  const attrs = new Map<string, string>();
  for (const part of rest) {
    const [k = '', v = ''] = part.trim().split('=');
    attrs.set(k.toLowerCase(), v);
  }
  return { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), attrs };
}

/** Confirm a flow in a fresh browser of `app` and return every Set-Cookie it received. */
async function cookiesOfAConfirmation(
  app: Parameters<typeof startFlow>[0],
  origin: string,
): Promise<{ cookies: string[]; location: string }> {
  const browser = new InjectBrowser(app, origin);
  const started = await startFlow(app);
  const entry = await browser.get(`/device/verify?code=${started.user_code}`);
  const confirmation = await enterCode(browser, started.user_code);
  const redirect = await pressOnConfirmation(browser, confirmation, 'confirm');
  assert.ok(redirect.location, `confirm answered ${redirect.status}: ${redirect.body.slice(0, 300)}`);
  return {
    cookies: [...entry.setCookies, ...confirmation.setCookies, ...redirect.setCookies],
    location: redirect.location,
  };
}

test('the binding and session cookies cannot be read by scripts or sent cross-site (http)', async (t) => {
  const { app } = await build(t);
  const { cookies } = await cookiesOfAConfirmation(app, 'http://localhost:3111');
  const binding = cookies.map(attributes).find((c) => c.name.startsWith('pca_bind_'));
  assert.ok(binding, cookies.join('\n'));
  assert.ok(binding.value.length >= 43, 'at least 256 random bits');
  assert.ok(
    cookies.map(attributes).some((c) => c.name === 'pca_session'),
    'the session cookie is set',
  );
  for (const cookie of cookies.map(attributes)) {
    assert.ok(cookie.attrs.has('httponly'), `${cookie.name} is HttpOnly`);
    assert.equal(cookie.attrs.get('samesite')?.toLowerCase(), 'lax', `${cookie.name} is SameSite=Lax`);
    assert.equal(cookie.attrs.get('path'), '/');
    assert.ok(!cookie.attrs.has('domain'), `${cookie.name} has no Domain`);
  }
});

test('on https the cookies are Secure, __Host- prefixed, and the flow completes with them', async (t) => {
  const serverUrl = 'https://auth.example.test';
  const { app, standIn } = await build(t, { env: { SERVER_URL: serverUrl } });
  const browser = new InjectBrowser(app, serverUrl);
  const started = await startFlow(app);
  const entry = await browser.get(`/device/verify?code=${started.user_code}`);
  const confirmation = await enterCode(browser, started.user_code);
  const redirect = await pressOnConfirmation(browser, confirmation, 'confirm');
  assert.ok(redirect.location);
  const cookies = [...entry.setCookies, ...confirmation.setCookies, ...redirect.setCookies].map(attributes);
  assert.ok(
    cookies.some((c) => /^__Host-pca_bind_/.test(c.name)),
    'the binding cookie is __Host-',
  );
  assert.ok(
    cookies.some((c) => c.name === '__Host-pca_session'),
    'the session cookie is __Host-',
  );
  for (const cookie of cookies) {
    assert.match(cookie.name, /^__Host-/);
    assert.ok(cookie.attrs.has('secure'), `${cookie.name} is Secure`);
    assert.ok(cookie.attrs.has('httponly'), `${cookie.name} is HttpOnly`);
    assert.equal(cookie.attrs.get('samesite')?.toLowerCase(), 'lax');
    assert.equal(cookie.attrs.get('path'), '/');
    assert.ok(!cookie.attrs.has('domain'));
  }
  // A cookie without the prefix (planted by a sibling host) does not bind.
  const planted = new InjectBrowser(app, serverUrl);
  const binding = cookies.find((c) => c.name.startsWith('__Host-pca_bind_'))!;
  planted.cookies.set(binding.name.replace('__Host-', ''), binding.value);
  const callbackUrl = await consentAtPostiz(redirect.location, 'approve');
  const exchanged = standIn.issuedTokens().length;
  assertRefusedPage(await planted.get(pathOf(callbackUrl)), 'an unprefixed cookie');
  assert.equal(standIn.issuedTokens().length, exchanged + 1, 'redeemed once, by burning, for nobody');
  await finishAfterBurn(browser, callbackUrl);
});
