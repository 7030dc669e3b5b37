/**
 * A login that tells people the truth (docs/security.md, docs/postiz.md), on both stores:
 * the new token is checked at Postiz's public API before it is handed over (an organisation
 * without a subscription ends the login with an error the CLI prints; Postiz slow or down hands
 * it over and says it could not be checked); the success page names the organisation and the
 * earlier login it replaced, and a browser that logged in before is told on the confirmation
 * page which login approving would end; from another network, a code that came in the link
 * must be typed (CROSS_NETWORK_POLICY).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Built, build, manualClock, storesToShare, TEST_USER, UNPAID_ORG } from '../../harness/build.js';
import { formOf } from '../../harness/forms.js';
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
import { metric } from '../../harness/observe.js';
import { POSTIZ_PAGES } from '../../harness/pages.js';
import { usePostgres } from '../../harness/postgres.js';
import type { Db } from '../../src/storage/db.js';
import { escapeHtml } from '../../src/views/html.js';
import { translator } from '../../src/views/i18n/index.js';
import { describeWhen } from '../../src/views/user-agent.js';
import { dumpText } from '../security/helpers.js';

/** English, as the Postiz profile's pages say it. */
const say = translator('en', POSTIZ_PAGES);

const cluster = await usePostgres();
const stores = storesToShare(cluster);

const PROXY = { TRUST_PROXY: 'true' };
const DEVICE_IP = '203.0.113.7';
const ELSEWHERE_IP = '198.51.100.20';
const CLI_AGENT = 'postiz/2.1.0 (linux; x64) node/22.23.0';

/** Catalog text as it appears in a page (escaped). */
const shown = (text: string) => escapeHtml(text);

/**
 * A whole login from the device at `deviceIp` and a browser at `browserIp` (the link's code
 * pre-filled, typed by hand only where the page asks), approved at Postiz for `organization`:
 * the callback's page, and the device code.
 */
async function login(
  built: Built,
  options: { deviceIp?: string; browser?: InjectBrowser; organization?: string } = {},
): Promise<{ page: Answer; deviceCode: string; browser: InjectBrowser }> {
  const { app } = built;
  const deviceIp = options.deviceIp ?? DEVICE_IP;
  const browser = options.browser ?? new InjectBrowser(app, undefined, { 'x-forwarded-for': deviceIp });
  const { started, callbackUrl } = await walkToCallback(app, 'approve', browser, options.organization, {
    'x-forwarded-for': deviceIp,
    'user-agent': CLI_AGENT,
  });
  return { page: await browser.get(pathOf(callbackUrl)), deviceCode: started.device_code, browser };
}

/** The database behind a store, for reading what it holds. */
const dbOf = (built: Built): Db => (built.store as unknown as { db: Db }).db;

for (const backend of stores) {
  test(`a token Postiz refuses for want of a subscription is never handed over: the page and the CLI say why (${backend.name})`, {
    skip: backend.skip,
  }, async (t) => {
    const { store, close } = await backend.open();
    if (close) t.after(() => store.close());
    const built = await build(t, { env: PROXY, store });
    const { page, deviceCode } = await login(built, { organization: UNPAID_ORG.id });
    assert.equal(page.status, 200);
    assert.ok(page.body.includes(shown(say('done.no_subscription.heading'))), page.body.slice(0, 800));
    assert.ok(page.body.includes(UNPAID_ORG.id), 'the organisation is named');
    assert.ok(page.body.includes('<code>postiz auth:login</code>'), 'what to run afterwards');
    const answer = await poll(built.app, deviceCode);
    assert.equal(answer.status, 400);
    assert.equal(answer.json.error, 'postiz_subscription_required');
    assert.match(String(answer.json.error_description), /no subscription/);
    assert.equal(await metric(built.app, 'postiz_cli_auth_token_checks_total{result="no_subscription"}'), 1);
    assert.equal(await metric(built.app, 'postiz_cli_auth_flows_finished_total{outcome="refused"}'), 1);
    // The token was dropped: nothing sealed waits in the database for anyone.
    const rows = await dbOf(built).query('SELECT status, refusal, sealed_token FROM device_requests');
    assert.deepEqual(
      rows.map((r) => [r.status, r.refusal, r.sealed_token]),
      [['refused', 'no_subscription', null]],
    );
  });

  test(`a token Postiz takes is handed over, the page saying it works and which organisation it is for (${backend.name})`, {
    skip: backend.skip,
  }, async (t) => {
    const { store, close } = await backend.open();
    if (close) t.after(() => store.close());
    const built = await build(t, { env: PROXY, store });
    const { page, deviceCode } = await login(built);
    assert.equal(page.status, 200);
    assert.ok(page.body.includes(shown(say('done.approved.checked'))));
    assert.ok(
      page.body.includes(TEST_USER.organizationId),
      'the organisation is named, its id kept for support',
    );
    assert.ok(page.body.includes(shown(`${TEST_USER.name}'s channel`)), 'by its channels, as people know it');
    const answer = await poll(built.app, deviceCode);
    assert.equal(answer.status, 200, answer.body);
    assert.equal(built.standIn.isValid(String(answer.json.access_token)), true);
    assert.equal(await metric(built.app, 'postiz_cli_auth_token_checks_total{result="working"}'), 1);
  });

  test(`when Postiz cannot be asked (down, or slower than TOKEN_CHECK_TIMEOUT_MS), the token is handed over and the page says it was not checked (${backend.name})`, {
    skip: backend.skip,
  }, async (t) => {
    const { store, close } = await backend.open();
    if (close) t.after(() => store.close());
    const built = await build(t, { env: { ...PROXY, TOKEN_CHECK_TIMEOUT_MS: '300' }, store });
    for (const fault of ['server-error', 'hang'] as const) {
      built.standIn.failNextPublic(fault);
      const begun = performance.now();
      const { page, deviceCode } = await login(built);
      assert.ok(performance.now() - begun < 5000, `${fault}: bounded`);
      assert.equal(page.status, 200, `${fault}: ${page.body.slice(0, 500)}`);
      assert.ok(page.body.includes(shown(say('done.approved.heading'))), fault);
      assert.ok(page.body.includes(shown(say('done.approved.unchecked')).slice(0, 40)), fault);
      assert.ok(page.body.includes(TEST_USER.organizationId), `${fault}: named by its id`);
      assert.ok(!page.body.includes(shown(`${TEST_USER.name}'s channel`)), `${fault}: its channels unknown`);
      built.clock.advance(5000);
      const answer = await poll(built.app, deviceCode);
      assert.equal(typeof answer.json.access_token, 'string', `${fault}: ${answer.body}`);
    }
    assert.equal(await metric(built.app, 'postiz_cli_auth_token_checks_total{result="unchecked"}'), 2);
  });

  test(`another refusal of the new token (403) ends the login with postiz_refused_token (${backend.name})`, {
    skip: backend.skip,
  }, async (t) => {
    const { store, close } = await backend.open();
    if (close) t.after(() => store.close());
    const built = await build(t, { env: PROXY, store });
    built.standIn.failNextPublic('forbidden');
    const { page, deviceCode } = await login(built);
    assert.ok(page.body.includes(shown(say('done.token_refused.heading'))), page.body.slice(0, 500));
    assert.equal((await poll(built.app, deviceCode)).json.error, 'postiz_refused_token');
  });

  test(`a second login in the same browser for the same organisation names the earlier one, on the confirmation page and the success page, worded true for a team (${backend.name})`, {
    skip: backend.skip,
  }, async (t) => {
    const { store, close } = await backend.open();
    if (close) t.after(() => store.close());
    const clock = manualClock(Date.parse('2026-12-03T14:05:00Z'));
    const built = await build(t, { env: PROXY, store, clock });
    const first = await login(built, { deviceIp: DEVICE_IP });
    assert.ok(first.page.body.includes(shown(say('done.approved.note'))), 'no earlier login known yet');
    clock.advance(5000);
    assert.equal((await poll(built.app, first.deviceCode)).status, 200, 'the first login is delivered');

    // The same browser, a day later, confirms a new login for the same organisation.
    clock.advance(24 * 60 * 60 * 1000);
    const started = await startFlow(built.app, { 'x-forwarded-for': DEVICE_IP, 'user-agent': CLI_AGENT });
    const confirmation = await enterCode(first.browser, started.user_code);
    // When, as the page writes it before its script puts it in the reader's time zone; the
    // organisation by its channels, as Postiz listed them when the earlier login was approved.
    const when = `<time class="local-time" datetime="2026-12-03T14:05:00.000Z">${describeWhen(new Date('2026-12-03T14:05:00Z'), 'en')}</time>`;
    const earlier = `${when}, from ${DEVICE_IP}, postiz CLI 2.1.0 on Linux`;
    assert.ok(
      confirmation.body.includes(
        `The last CLI login approved in this browser: ${earlier}, for the organisation with ${shown(`${TEST_USER.name}'s channel`)} on X. If you approve with the same Postiz account and organisation, Postiz ends that login.`,
      ),
      confirmation.body.slice(0, 3000),
    );
    const redirect = await pressOnConfirmation(first.browser, confirmation, 'confirm');
    const page = await first.browser.get(pathOf(await consentAtPostiz(redirect.location!, 'approve')));
    assert.ok(
      page.body.includes(
        `If you approved with the same Postiz account as the last CLI login approved in this browser (${earlier}), that login no longer works: Postiz keeps one CLI login per person and organisation. Other members’ logins are not affected.`,
      ),
      page.body.slice(0, 3000),
    );
    // The earlier login is kept sealed: nothing in the database names its organisation, and its
    // flow (delivered, so deleted) left its device nowhere readable.
    const dump = await dumpText(dbOf(built));
    assert.ok(dump.includes('browser_logins'), 'a login is kept');
    assert.ok(!dump.includes(TEST_USER.organizationId), 'the organisation id is not stored readable');
    const kept = await dbOf(built).query('SELECT t::text AS line FROM browser_logins AS t');
    assert.ok(
      kept.every(
        (row) => !String(row.line).includes(DEVICE_IP) && !String(row.line).includes('postiz/2.1.0'),
      ),
      "the browser's login record holds neither the device's address nor what it said it is",
    );
  });
}

test('logins are kept LOGIN_HISTORY_DAYS, then forgotten; 0 keeps none', async (t) => {
  const clock = manualClock(Date.parse('2026-12-03T14:05:00Z'));
  const built = await build(t, { env: { ...PROXY, LOGIN_HISTORY_DAYS: '2' }, clock });
  const first = await login(built);
  clock.advance(5000);
  assert.equal((await poll(built.app, first.deviceCode)).status, 200);
  clock.advance(3 * 24 * 60 * 60 * 1000);
  const second = await login(built, { browser: first.browser });
  assert.ok(second.page.body.includes(shown(say('done.approved.note'))), 'the first login was forgotten');
  assert.equal(first.browser.cookies.has('pca_login'), true, 'the browser keeps its login secret');
  // A cookie of earlier versions (an organisation's keyed hash, the same for every member) is
  // deleted at the browser's next login.
  first.browser.cookies.set('pca_org', 'a'.repeat(64));
  const third = await login(built, { browser: first.browser });
  assert.ok(
    third.page.setCookies.some((c) => /^pca_org=;.*Max-Age=0/i.test(c)),
    third.page.setCookies.join('\n'),
  );
  assert.equal(first.browser.cookies.has('pca_org'), false);

  const none = await build(t, { env: { ...PROXY, LOGIN_HISTORY_DAYS: '0' } });
  const once = await login(none);
  none.clock.advance(5000);
  assert.equal((await poll(none.app, once.deviceCode)).status, 200);
  const twice = await login(none, { browser: once.browser });
  assert.ok(twice.page.body.includes(shown(say('done.approved.note'))));
  assert.equal(once.browser.cookies.has('pca_login'), false, 'no cookie when nothing is kept');
  const rows = await dbOf(none).query('SELECT count(*)::int AS n FROM browser_logins');
  assert.equal(rows[0]!.n, 0);
});

/** Open the link the CLI opens (`verification_uri_complete`) and submit the entry form as the page has it. */
async function followLink(browser: InjectBrowser, link: string): Promise<Answer> {
  const entry = await browser.get(pathOf(link));
  const form = formOf(entry.body, link);
  return browser.post('/device/verify', {
    ...form.fields,
    user_code: new URL(link).searchParams.get('code')!,
    action: 'lookup',
  });
}

/** Type the code on the entry page by hand. */
async function typeCode(browser: InjectBrowser, userCode: string): Promise<Answer> {
  const entry = await browser.get('/device/verify');
  return browser.post('/device/verify', {
    ...formOf(entry.body, 'http://localhost:3111/').fields,
    user_code: userCode,
    action: 'lookup',
  });
}

/** Press Continue on a confirmation page, with what the page's form carries (and `typed`, if given). */
function pressContinue(browser: InjectBrowser, confirmation: Answer, typed?: string): Promise<Answer> {
  const { fields } = formOf(confirmation.body, 'http://localhost:3111/device/verify');
  return browser.post('/device/verify', {
    ...fields,
    ...(typed === undefined ? {} : { typed_code: typed }),
    action: 'confirm',
  });
}

for (const backend of stores) {
  test(`CROSS_NETWORK_POLICY=type-code (the default): from another network, a code from the link must be typed; typed by hand, or from the same network, one click (${backend.name})`, {
    skip: backend.skip,
  }, async (t) => {
    const { store, close } = await backend.open();
    if (close) t.after(() => store.close());
    const built = await build(t, { env: PROXY, store });
    assert.equal(built.config.crossNetworkPolicy, 'type-code', 'the default');
    const flow = await startFlow(built.app, { 'x-forwarded-for': DEVICE_IP });
    const elsewhere = new InjectBrowser(built.app, undefined, { 'x-forwarded-for': ELSEWHERE_IP });

    // The link, from another network: the code is not shown, a field asks for it.
    const asked = await followLink(elsewhere, flow.verification_uri_complete);
    assert.equal(asked.status, 200);
    assert.ok(asked.body.includes(shown(say('confirm.type_lead'))));
    assert.match(asked.body, /name="typed_code"/);
    assert.ok(!asked.body.includes(`<p class="code"`), 'the code is not shown to copy');
    // One click does not go on; a wrong code neither; the terminal's code does.
    for (const typed of [undefined, '', 'BCDF-GHJK']) {
      const refused = await pressContinue(elsewhere, asked, typed);
      assert.equal(refused.status, 400, `typed ${typed}`);
      assert.ok(refused.body.includes(shown(say('error.code_mismatch.heading'))));
      assert.equal(refused.location, undefined, 'not sent to Postiz');
    }
    const typed = await pressContinue(elsewhere, asked, flow.user_code.toLowerCase().replace('-', ' '));
    assert.equal(typed.status, 303, typed.body.slice(0, 300));
    assert.ok(typed.location?.includes('/oauth/authorize'));

    // Typed by hand on the entry page, from another network: the usual confirmation.
    const handTyped = await startFlow(built.app, { 'x-forwarded-for': DEVICE_IP });
    const byHand = await typeCode(
      new InjectBrowser(built.app, undefined, { 'x-forwarded-for': ELSEWHERE_IP }),
      handTyped.user_code,
    );
    assert.ok(!byHand.body.includes('name="typed_code"'));
    assert.match(byHand.body, /value="confirm"/);

    // The link from the same network: the usual confirmation.
    const same = await startFlow(built.app, { 'x-forwarded-for': DEVICE_IP });
    const here = new InjectBrowser(built.app, undefined, { 'x-forwarded-for': '203.0.113.99' });
    const sameNetwork = await followLink(here, same.verification_uri_complete);
    assert.ok(!sameNetwork.body.includes('name="typed_code"'));
    assert.equal((await pressContinue(here, sameNetwork)).status, 303);
  });
}

test('CROSS_NETWORK_POLICY=warn: a warning, and one click goes on from another network', async (t) => {
  const built = await build(t, { env: { ...PROXY, CROSS_NETWORK_POLICY: 'warn' } });
  const flow = await startFlow(built.app, { 'x-forwarded-for': DEVICE_IP });
  const elsewhere = new InjectBrowser(built.app, undefined, { 'x-forwarded-for': ELSEWHERE_IP });
  const confirmation = await followLink(elsewhere, flow.verification_uri_complete);
  assert.ok(confirmation.body.includes(shown(say('confirm.network_different'))));
  assert.ok(!confirmation.body.includes('name="typed_code"'));
  assert.equal((await pressContinue(elsewhere, confirmation)).status, 303);
});

test('CROSS_NETWORK_POLICY=block: refused from another network, typed or not, with what to do, and the CLI is told at once; the same network goes on', async (t) => {
  const built = await build(t, { env: { ...PROXY, CROSS_NETWORK_POLICY: 'block' } });
  for (const how of ['link', 'typed', 'forced'] as const) {
    const flow = await startFlow(built.app, { 'x-forwarded-for': DEVICE_IP });
    const elsewhere = new InjectBrowser(built.app, undefined, { 'x-forwarded-for': ELSEWHERE_IP });
    let refused: Answer;
    if (how === 'link') refused = await followLink(elsewhere, flow.verification_uri_complete);
    else if (how === 'typed') refused = await typeCode(elsewhere, flow.user_code);
    else {
      // A confirm posted straight (a page from before, a script) is refused too.
      const entry = await elsewhere.get('/device/verify');
      refused = await elsewhere.post('/device/verify', {
        ...formOf(entry.body, 'http://localhost:3111/').fields,
        user_code: flow.user_code,
        action: 'confirm',
      });
    }
    assert.equal(refused.status, 403, how);
    assert.equal(refused.location, undefined, `${how}: not sent to Postiz`);
    assert.ok(refused.body.includes(shown(say('error.cross_network.heading'))), how);
    assert.ok(refused.body.includes('<code>postiz auth:login</code>'), how);
    // The CLI stops waiting at once, with an answer it prints.
    built.clock.advance(5000);
    const answer = await poll(built.app, flow.device_code);
    assert.equal(answer.json.error, 'access_denied', `${how}: ${answer.body}`);
    assert.match(String(answer.json.error_description), /another network/);
  }
  const flow = await startFlow(built.app, { 'x-forwarded-for': DEVICE_IP });
  const here = new InjectBrowser(built.app, undefined, { 'x-forwarded-for': '203.0.113.99' });
  const same = await followLink(here, flow.verification_uri_complete);
  assert.equal((await pressContinue(here, same)).status, 303);
});
