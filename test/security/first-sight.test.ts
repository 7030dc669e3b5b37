/**
 * A guarantee of docs/security.md: a Postiz code belongs to the first callback that carries it.
 * Every code that reaches `/device/callback` is recorded (its hash) in the database, so every
 * instance knows it: a code first seen at a refused callback is never exchanged for any flow,
 * and one first seen at a flow's accepted callback only ever for that flow. Burning the code
 * at Postiz is defence in depth, bounded per address and globally, and sub-resource requests
 * (an `<img>` pointing at the callback) spend none of its budget; safety never rests on it.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { type Built, build, manualClock, storesToShare, TEST_CLIENT_ID } from '../../harness/build.js';
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
import { metric, upstreamCalls } from '../../harness/observe.js';
import { usePostgres } from '../../harness/postgres.js';
import type { Db } from '../../src/storage/db.js';

const cluster = await usePostgres();
const SIGHTINGS_TABLE = 'code_sightings';
const stores = storesToShare(cluster);

const PROXY = { TRUST_PROXY: 'true' };
const VICTIM_IP = '198.51.100.20';
const ATTACKER_IP = '203.0.113.66';

/** A well-formed Postiz code (32 letters and digits) that Postiz never issued. */
const junkCode = (): string =>
  randomBytes(24)
    .toString('base64')
    .replace(/[^A-Za-z0-9]/g, 'x')
    .slice(0, 32);
const junkState = (): string => randomBytes(32).toString('base64url');

/** A refusal is a 4xx HTML page. */
function assertRefusedPage(answer: { status: number; headers: Answer['headers'] }, why: string): void {
  assert.ok(answer.status >= 400 && answer.status < 500, `${why}: answered ${answer.status}`);
  assert.match(String(answer.headers['content-type']), /^text\/html/, why);
}

/** GET /device/callback with a raw query string, from `ip`, as a browser fetches `dest`. */
async function callback(app: FastifyInstance, query: string, ip: string, dest?: 'image' | 'document') {
  return app.inject({
    method: 'GET',
    url: `/device/callback?${query}`,
    headers: { 'x-forwarded-for': ip, ...(dest ? { 'sec-fetch-dest': dest } : {}) },
  });
}

/** Start a flow and confirm it on our page, stopping before Postiz: its state and the confirming browser. */
async function confirmOwnFlow(app: FastifyInstance, ip = ATTACKER_IP) {
  const started = await startFlow(app, { 'x-forwarded-for': ip });
  const browser = new InjectBrowser(app, undefined, { 'x-forwarded-for': ip });
  const confirmation = await enterCode(browser, started.user_code);
  const redirect = await pressOnConfirmation(browser, confirmation, 'confirm');
  assert.ok(redirect.location, `confirm answered ${redirect.status}`);
  return {
    deviceCode: started.device_code,
    browser,
    state: new URL(redirect.location).searchParams.get('state')!,
  };
}

/** The attacker brings `code` back to the callback with their own flow's state and cookie. */
async function inject(attacker: Awaited<ReturnType<typeof confirmOwnFlow>>, code: string): Promise<Answer> {
  const url = new URL('/device/callback', 'http://localhost:3111');
  url.searchParams.set('code', code);
  url.searchParams.set('state', attacker.state);
  return attacker.browser.get(pathOf(url));
}

/** The attacker's CLI polls its own flow a few intervals; it must never receive a token. */
async function assertAttackerGetsNothing(built: Built, app: FastifyInstance, deviceCode: string) {
  for (let i = 0; i < 3; i++) {
    built.clock.advance(5000);
    const answer = await poll(app, deviceCode);
    assert.equal(answer.json.access_token, undefined, `the attacker CLI received a token: ${answer.body}`);
  }
}

for (const backend of stores) {
  test(`images on a page the victim visits cannot switch burning off, and a code first seen at a refused callback is never exchanged, on another instance either (${backend.name})`, {
    skip: backend.skip,
  }, async (t) => {
    const { store, close } = await backend.open();
    if (close) t.after(() => store.close());
    const clock = manualClock();
    const a = await build(t, { env: PROXY, store, clock });
    const b = await build(t, { env: PROXY, store, clock, standIn: a.standIn });

    // A page the victim visits embeds ten <img src=".../device/callback?state=x&code=JUNK">.
    for (let i = 0; i < 10; i++) {
      const answer = await callback(a.app, `state=x&code=${junkCode()}`, VICTIM_IP, 'image');
      assertRefusedPage({ status: answer.statusCode, headers: answer.headers }, 'an image request');
    }
    assert.equal(await metric(a.app, 'postiz_cli_auth_codes_burned_total{result="subresource"}'), 10);

    // The attacker confirms a flow of their own (on instance b), keeping its state and cookie.
    const attacker = await confirmOwnFlow(b.app);

    // The victim approves a consent link the attacker made and lands on a refusal (instance a).
    const landed = await consentAtPostiz(
      `${a.config.postizFrontendUrl}/oauth/authorize?client_id=${TEST_CLIENT_ID}&response_type=code&state=anything`,
      'approve',
    );
    const code = landed.searchParams.get('code')!;
    const refusal = await callback(a.app, landed.search.slice(1), VICTIM_IP, 'document');
    assertRefusedPage({ status: refusal.statusCode, headers: refusal.headers }, 'the victim lands');
    assert.equal(
      await metric(a.app, 'postiz_cli_auth_codes_burned_total{result="burned"}'),
      1,
      "the victim's own budget was untouched, so the live code was burned",
    );

    // The attacker brings the victim's code to instance b with their own state and cookie.
    const tokensBefore = a.standIn.issuedTokens().length;
    assertRefusedPage(await inject(attacker, code), 'the injected code');
    assert.equal(a.standIn.issuedTokens().length, tokensBefore, 'Postiz was not asked for it');
    await assertAttackerGetsNothing(b, b.app, attacker.deviceCode);
  });

  test(`with the burning budget spent by a neighbour, a code first seen at a refused callback is still never exchanged (${backend.name})`, {
    skip: backend.skip,
  }, async (t) => {
    const { store, close } = await backend.open();
    if (close) t.after(() => store.close());
    const clock = manualClock();
    const a = await build(t, { env: PROXY, store, clock });
    const b = await build(t, { env: PROXY, store, clock, standIn: a.standIn });

    // Someone behind the victim's NAT spends the address's whole budget with junk callbacks.
    for (let i = 0; i < 12; i++) await callback(a.app, `state=${junkState()}&code=${junkCode()}`, VICTIM_IP);
    assert.ok((await metric(a.app, 'postiz_cli_auth_codes_burned_total{result="limited"}')) >= 2);

    const attacker = await confirmOwnFlow(b.app);
    const landed = await consentAtPostiz(
      `${a.config.postizFrontendUrl}/oauth/authorize?client_id=${TEST_CLIENT_ID}&response_type=code&state=anything`,
      'approve',
    );
    const code = landed.searchParams.get('code')!;
    await callback(a.app, landed.search.slice(1), VICTIM_IP, 'document');

    // Burning was limited, so the code is still live at Postiz; this server still refuses it.
    const tokensBefore = a.standIn.issuedTokens().length;
    assertRefusedPage(await inject(attacker, code), 'the injected code');
    assert.equal(a.standIn.issuedTokens().length, tokensBefore, 'Postiz was not asked for it');
    await assertAttackerGetsNothing(b, b.app, attacker.deviceCode);
  });

  test(`a code whose exchange failed (Postiz 500) stays its own flow's: injected elsewhere it is refused, and its flow still logs in (${backend.name})`, {
    skip: backend.skip,
  }, async (t) => {
    const { store, close } = await backend.open();
    if (close) t.after(() => store.close());
    const clock = manualClock();
    const a = await build(t, { store, clock });
    const b = await build(t, { store, clock, standIn: a.standIn });

    const victim = await walkToCallback(a.app);
    a.standIn.failNext('server-error');
    const failed = await victim.browser.get(pathOf(victim.callbackUrl));
    assert.equal(failed.status, 502, 'Postiz failed before using the code');

    const attacker = await confirmOwnFlow(b.app);
    const tokensBefore = a.standIn.issuedTokens().length;
    assertRefusedPage(await inject(attacker, victim.code!), 'the injected code');
    assert.equal(a.standIn.issuedTokens().length, tokensBefore, 'Postiz was not asked for it');
    await assertAttackerGetsNothing(b, b.app, attacker.deviceCode);

    // The victim presses Try again (a new trip to Postiz) and logs in.
    const retried = await victim.browser.post('/device/verify', {
      _csrf: field(failed.body, '_csrf'),
      flow: field(failed.body, 'flow'),
      action: 'retry',
    });
    assert.ok(retried.location, `retry answered ${retried.status}`);
    const again = await consentAtPostiz(retried.location, 'approve');
    assert.equal((await victim.browser.get(pathOf(again))).status, 200);
    const delivered = await poll(a.app, victim.started.device_code);
    assert.equal(typeof delivered.json.access_token, 'string', delivered.body);
  });
}

test('repeated code or state parameters are refused, and every code they carry is refused afterwards', async (t) => {
  const built = await build(t);
  const { app, standIn } = built;
  const victim = await walkToCallback(app);
  const other = junkCode();

  // A callback carrying the victim's live code twice over, with junk beside it.
  const state = victim.callbackUrl.searchParams.get('state')!;
  for (const query of [
    `code=${victim.code}&code=${other}&state=${state}`,
    `code=${victim.code}&state=${state}&state=${junkState()}`,
  ]) {
    const answer = await victim.browser.get(`/device/callback?${query}`);
    assert.equal(answer.status, 400, `${query}: ${answer.status}`);
  }

  const attacker = await confirmOwnFlow(app, '127.0.0.1');
  const tokensBefore = standIn.issuedTokens().length;
  for (const code of [victim.code!, other]) assertRefusedPage(await inject(attacker, code), 'injected');
  assert.equal(standIn.issuedTokens().length, tokensBefore, 'Postiz was not asked for either code');
  await assertAttackerGetsNothing(built, app, attacker.deviceCode);
});

test('junk callbacks from many addresses cannot make this server relay them to Postiz beyond a global bound', async (t) => {
  const { app, config } = await build(t, { env: PROXY });
  assert.equal(config.codeBurnGlobalLimit, 100, 'the documented default');
  const before = await upstreamCalls(app);
  // 360 junk callbacks from 30 IPv6 /64s, 12 each (each /64 is over its own budget of 10 at the end).
  for (let net = 0; net < 30; net++) {
    const ip = `2001:db8:${(0x100 + net).toString(16)}:${net.toString(16)}::1`;
    await Promise.all(
      Array.from({ length: 12 }, () => callback(app, `state=${junkState()}&code=${junkCode()}`, ip)),
    );
  }
  const calls = (await upstreamCalls(app)) - before;
  assert.ok(calls <= 100, `${calls} token requests to Postiz for 360 junk callbacks`);
  assert.ok(calls >= 90, `burning still works within the bound (${calls})`);
});

/** The rows of the code sightings record. */
async function sightingRows(built: Built): Promise<number> {
  const db = (built.store as unknown as { db: Db }).db;
  const [row] = await db.query(`SELECT count(*)::int AS n FROM ${SIGHTINGS_TABLE}`);
  return Number(row!.n);
}

for (const backend of stores) {
  test(`a refused callback with repeated parameters writes no more than two sightings, however many codes it carries (${backend.name})`, {
    skip: backend.skip,
  }, async (t) => {
    const { store, close } = await backend.open();
    if (close) t.after(() => store.close());
    const built = await build(t, { env: PROXY, store });
    const codes = Array.from({ length: 1500 }, junkCode);
    const before = await sightingRows(built);
    for (let i = 0; i < 5; i++) {
      const query = `state=${junkState()}&${codes.map((c) => `code=${c}`).join('&')}`;
      const refused = await callback(built.app, query, ATTACKER_IP);
      assertRefusedPage({ status: refused.statusCode, headers: refused.headers }, 'repeated codes');
    }
    const written = (await sightingRows(built)) - before;
    assert.ok(written <= 5 * 2, `${written} sightings written for 5 requests`);
    // What it keeps: the first and the last code of each request, refused without asking Postiz.
    const attacker = await confirmOwnFlow(built.app, '127.0.0.1');
    const asked = await upstreamCalls(built.app);
    for (const code of [codes[0]!, codes.at(-1)!]) assertRefusedPage(await inject(attacker, code), 'kept');
    assert.equal(await upstreamCalls(built.app), asked, 'Postiz was not asked');
  });
}
