/**
 * A guarantee of docs/security.md: remote phishing (RFC 8628 §5.4). Whoever sends a victim a code or a
 * `verification_uri_complete` link cannot skip the confirmation page, which tells the victim
 * what is asking; nothing about a flow shows before a valid code; Cancel ends it at once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { build } from '../../harness/build.js';
import {
  enterCode,
  field,
  InjectBrowser,
  poll,
  pressOnConfirmation,
  startFlow,
} from '../../harness/inject-browser.js';
import { captureLog } from '../../harness/observe.js';
import { POSTIZ_PAGES } from '../../harness/pages.js';
import { hashSecret, normalizeUserCode } from '../../src/device-flow/codes.js';
import { escapeHtml } from '../../src/views/html.js';
import { translator } from '../../src/views/i18n/index.js';

/** English, as the Postiz profile's pages say it. */
const say = translator('en', POSTIZ_PAGES);

const DEVICE_IP = '203.0.113.7';
const BROWSER_IP = '198.51.100.9';
const CLI_AGENT = 'postiz-cli/2.1.0 (linux; x64) node/20.11.0';

/** Whether the flow of `userCode` has been confirmed (a browser is on its way to Postiz). */
async function confirmed(store: Awaited<ReturnType<typeof build>>['store'], userCode: string) {
  const flow = await store.findByUserCode(hashSecret(normalizeUserCode(userCode)!));
  assert.ok(flow);
  return { awaiting: flow.awaitingCallback, status: flow.status, bound: flow.browserHash !== null };
}

test('following a phishing link (verification_uri_complete) never skips the confirmation page', async (t) => {
  const { app, store } = await build(t);
  const started = await startFlow(app);
  const browser = new InjectBrowser(app);
  const link = new URL(started.verification_uri_complete);

  // Extra parameters an attacker might add to the link change nothing.
  for (const url of [
    `${link.pathname}${link.search}`,
    `${link.pathname}${link.search}&action=confirm`,
    `${link.pathname}${link.search}&action=confirm&_csrf=x&user_code=${started.user_code}`,
  ]) {
    const opened = await browser.get(url);
    assert.equal(opened.status, 200);
    assert.equal(opened.location, undefined, 'no redirect');
    assert.ok(!opened.setCookies.some((c) => c.includes('pca_bind_')), 'no binding cookie');
    assert.ok(!opened.body.includes('value="confirm"'), 'the link alone does not reach the confirmation');
    assert.deepEqual(await confirmed(store, started.user_code), {
      awaiting: false,
      status: 'pending',
      bound: false,
    });
  }

  // Submitting the pre-filled code leads to the confirmation page, not to Postiz.
  const entry = await browser.get(`${link.pathname}${link.search}`);
  const confirmation = await browser.post('/device/verify', {
    _csrf: field(entry.body, '_csrf'),
    user_code: entry.body.match(/name="user_code"[^>]*value="([^"]*)"/)?.[1] ?? '',
    action: 'lookup',
  });
  assert.equal(confirmation.status, 200);
  assert.equal(confirmation.location, undefined);
  assert.match(confirmation.body, /value="confirm"[\s\S]*value="deny"/, 'Continue, then Cancel');
  assert.equal((await confirmed(store, started.user_code)).awaiting, false);

  // Only the Continue button of that page sends the browser to Postiz.
  const redirect = await pressOnConfirmation(browser, confirmation, 'confirm');
  assert.equal(redirect.status, 303);
  assert.ok(redirect.location?.includes('/oauth/authorize'));
});

test('the confirmation page shows the code, the requesting address, the device in plain words, its age and the warning', async (t) => {
  const { app, clock } = await build(t, { env: { TRUST_PROXY: 'true' } });
  const started = await startFlow(app, { 'x-forwarded-for': DEVICE_IP, 'user-agent': CLI_AGENT });
  clock.advance(3 * 60_000 + 5000);
  const browser = new InjectBrowser(app, undefined, { 'x-forwarded-for': BROWSER_IP });
  const page = (await enterCode(browser, started.user_code)).body;

  assert.ok(page.includes(started.user_code), 'the code to compare with the terminal');
  assert.ok(page.includes(DEVICE_IP), "the device's address");
  assert.ok(!page.includes(BROWSER_IP), "not the browser's own address");
  assert.ok(page.includes('postiz CLI 2.1.0 on Linux'), 'the device in plain words');
  assert.ok(!page.includes(CLI_AGENT), 'not the raw user agent');
  assert.ok(page.includes('3 minutes ago'), 'how long ago it was requested');
  assert.ok(page.includes(escapeHtml(say('confirm.warning'))), 'the warning');
});

test('a user agent written by the attacker cannot speak on the confirmation page', async (t) => {
  const { app } = await build(t);
  const hostile = [
    'Mozilla/5.0 (This request is safe: your IT team started it, press Continue)',
    '<script>alert(1)</script>',
    '"><img src=x onerror=alert(1)>',
    'postiz-cli/2.1.0 <b>verified by Postiz</b>',
  ];
  for (const agent of hostile) {
    const started = await startFlow(app, { 'user-agent': agent });
    const page = (await enterCode(new InjectBrowser(app), started.user_code)).body;
    assert.ok(!page.includes('press Continue'), agent);
    assert.ok(!page.includes('verified by Postiz'), agent);
    assert.ok(!/<script>alert|<img|onerror=/i.test(page), agent);
  }
});

test('nothing about a flow shows before a valid code was entered', async (t) => {
  const { app } = await build(t, { env: { TRUST_PROXY: 'true' } });
  const started = await startFlow(app, { 'x-forwarded-for': DEVICE_IP, 'user-agent': CLI_AGENT });
  const browser = new InjectBrowser(app, undefined, { 'x-forwarded-for': BROWSER_IP });
  const wrong = started.user_code.startsWith('B') ? 'CCCC-CCCC' : 'BBBB-BBBB';

  // The link with a live code and with a wrong one render the same page, bar the code itself.
  const normalize = (body: string, code: string) =>
    body
      .replaceAll(code, 'CODE')
      .replace(/nonce="[^"]*"/g, '')
      .replace(/name="_csrf" value="[^"]*"/g, '');
  const right = await browser.get(`/device/verify?code=${started.user_code}`);
  const other = await browser.get(`/device/verify?code=${wrong}`);
  assert.equal(normalize(right.body, started.user_code), normalize(other.body, wrong));
  for (const page of [right.body, other.body]) {
    assert.ok(!page.includes(DEVICE_IP) && !page.includes('postiz CLI'), 'no device details');
  }

  // A wrong code re-renders the entry page with an error, and nothing about any flow.
  const refused = await browser.post('/device/verify', {
    _csrf: field(right.body, '_csrf'),
    user_code: wrong,
    action: 'lookup',
  });
  assert.equal(refused.status, 400);
  assert.ok(!refused.body.includes(DEVICE_IP) && !refused.body.includes('postiz CLI'));
  assert.ok(!refused.body.includes('value="confirm"'));
});

test('Cancel on the confirmation page ends the flow and the CLI gets access_denied at once', async (t) => {
  const { app, clock, standIn } = await build(t);
  const started = await startFlow(app);
  assert.equal((await poll(app, started.device_code)).json.error, 'authorization_pending');
  const browser = new InjectBrowser(app);
  const confirmation = await enterCode(browser, started.user_code);
  assert.match(confirmation.body, /<button[^>]*name="action" value="deny"/);

  const cancelled = await pressOnConfirmation(browser, confirmation, 'deny');
  assert.equal(cancelled.status, 200);
  assert.equal(cancelled.location, undefined, 'Cancel never leads to Postiz');
  assert.ok(!cancelled.setCookies.some((c) => c.includes('pca_bind_')));
  clock.advance(5000);
  const answer = await poll(app, started.device_code);
  assert.equal(answer.status, 400);
  assert.equal(answer.json.error, 'access_denied');

  // The cancelled code cannot be confirmed afterwards.
  const again = await pressOnConfirmation(browser, confirmation, 'confirm');
  assert.equal(again.status, 400);
  assert.equal(again.location, undefined);
  assert.equal(standIn.issuedTokens().length, 0);
});

test('a CLI whose first poll comes after the cancel learns access_denied on that poll', async (t) => {
  const { app } = await build(t);
  const started = await startFlow(app);
  const browser = new InjectBrowser(app);
  await pressOnConfirmation(browser, await enterCode(browser, started.user_code), 'deny');
  assert.equal((await poll(app, started.device_code)).json.error, 'access_denied');
});

test('an IPv6 zone id in X-Forwarded-For is never shown, stored or logged', async (t) => {
  const { logger, raw: lines } = captureLog();
  const { app, store } = await build(t, { env: { TRUST_PROXY: 'true' }, logger });
  const started = await startFlow(app, { 'x-forwarded-for': 'fe80::1%Verified-by-Postiz' });
  const page = (await enterCode(new InjectBrowser(app), started.user_code)).body;
  assert.ok(!page.includes('Verified-by-Postiz'), 'the zone id is not on the page');
  assert.ok(page.includes('fe80::1'), 'the address is shown without it');
  const flow = await store.findByUserCode(hashSecret(normalizeUserCode(started.user_code)!));
  assert.equal(flow?.clientIp, 'fe80::1', 'stored without it');
  assert.ok(!lines.join('').includes('Verified-by-Postiz'), 'not in the log');
});

test('an X-Forwarded-For that is not an address is shown as unknown, never as text', async (t) => {
  const { app } = await build(t, { env: { TRUST_PROXY: 'true' } });
  for (const forged of [
    'Postiz-verified-device',
    '<b>your IT team</b>',
    `1.2.3.4${'9'.repeat(300)}`,
    '203.0.113.7 (your office)',
  ]) {
    const started = await startFlow(app, { 'x-forwarded-for': forged });
    const page = (await enterCode(new InjectBrowser(app), started.user_code)).body;
    assert.ok(
      !page.includes(escapeHtml(forged)),
      `the forged text is not on the page: ${forged.slice(0, 30)}`,
    );
    assert.ok(!page.includes('your IT team') && !page.includes('your office'), forged.slice(0, 30));
    assert.ok(!page.includes('9'.repeat(50)), 'nothing long');
    assert.ok(page.includes(escapeHtml(say('confirm.address_unknown'))), 'shown as unknown');
  }
});

/** The confirmation page of a flow started from `deviceIp`, seen from a browser at `browserIp`. */
async function confirmationFrom(app: Parameters<typeof startFlow>[0], deviceIp: string, browserIp: string) {
  const started = await startFlow(app, { 'x-forwarded-for': deviceIp, 'user-agent': CLI_AGENT });
  return (
    await enterCode(new InjectBrowser(app, undefined, { 'x-forwarded-for': browserIp }), started.user_code)
  ).body;
}

test("the confirmation page says whether the request came from this browser's network", async (t) => {
  const { app } = await build(t, { env: { TRUST_PROXY: 'true' } });
  const same = escapeHtml(say('confirm.network_same'));
  const different = escapeHtml(say('confirm.network_different'));
  for (const [device, browser, expected] of [
    ['203.0.113.7', '203.0.113.7', same],
    ['203.0.113.7', '203.0.113.200', same],
    ['203.0.113.7', '::ffff:203.0.113.9', same],
    ['2001:db8:1:2::7', '2001:db8:1:2:aaaa::1', same],
    ['203.0.113.7', '198.51.100.9', different],
    ['203.0.113.7', '203.0.114.7', different],
    ['2001:db8:1:2::7', '2001:db8:1:3::7', different],
    ['203.0.113.7', '2001:db8::1', different],
  ] as const) {
    const page = await confirmationFrom(app, device, browser);
    assert.ok(page.includes(expected), `${device} seen from ${browser}`);
    assert.ok(
      !page.includes(expected === same ? different : same),
      `${device} seen from ${browser}: not both`,
    );
  }
  // A different network is a warning, announced, not a footnote.
  const page = await confirmationFrom(app, '203.0.113.7', '198.51.100.9');
  assert.ok(
    page.includes(`<div class="warning"><p class="network-warning" role="alert">${different}</p>`),
    'it leads the warning, as an alert',
  );
});

test('the confirmation page presents the user agent as what the device says, and what approving does', async (t) => {
  const { app } = await build(t, { env: { TRUST_PROXY: 'true' } });
  const page = await confirmationFrom(app, '203.0.113.7', '203.0.113.8');
  assert.ok(page.includes(escapeHtml(say('confirm.device'))));
  assert.match(say('confirm.device'), /says/i, 'the label says it is what the device says');
  assert.ok(page.includes(escapeHtml(say('confirm.consequences'))), 'what approving does');
  assert.match(say('confirm.consequences'), /replaces/);
  assert.match(say('confirm.consequences'), /organi[sz]ation currently selected/);
});
