/**
 * What the server remembers of a login is shown only to the browser that approved it
 * (docs/security.md, "What is stored"): another member of the same organisation, another
 * browser of the same person, or a browser holding a copied cookie learns nothing about anyone
 * else's login, on either store. The server knows browsers and organisations, never a Postiz
 * user: Postiz ends only the earlier login of the same person, so nothing may say another
 * member's login stopped working.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Built, build, SECOND_MEMBER, storesToShare } from '../../harness/build.js';
import {
  type Answer,
  consentAtPostiz,
  enterCode,
  InjectBrowser,
  pathOf,
  poll,
  pressOnConfirmation,
  startFlow,
} from '../../harness/inject-browser.js';
import { usePostgres } from '../../harness/postgres.js';

const cluster = await usePostgres();
const stores = storesToShare(cluster);

const PROXY = { TRUST_PROXY: 'true' };

/** A device: where it asks from, and what it says it is. */
interface Device {
  ip: string;
  agent: string;
}

const ALICE_LAPTOP: Device = { ip: '203.0.113.10', agent: 'postiz/2.1.0 (darwin; arm64) node/22.23.0' };
const ALICE_SERVER: Device = { ip: '203.0.113.77', agent: 'postiz/2.1.0 (freebsd; x64) node/22.23.0' };
const BOB_LAPTOP: Device = { ip: '198.51.100.20', agent: 'postiz/2.1.0 (linux; x64) node/22.23.0' };
const BOB_PHONE: Device = { ip: '198.51.100.21', agent: 'postiz/2.1.0 (android; arm64) node/22.23.0' };
const CAROL_LAPTOP: Device = { ip: '192.0.2.30', agent: 'postiz/2.1.0 (win32; x64) node/22.23.0' };
const ALICE_DESKTOP: Device = { ip: '203.0.113.12', agent: 'postiz/2.1.0 (linux; x64) node/22.23.0' };

/** A browser on `device`'s network (so no code needs typing). */
const browserNear = (built: Built, device: Device) =>
  new InjectBrowser(built.app, undefined, { 'x-forwarded-for': device.ip.replace(/\d+$/, '99') });

/**
 * A whole login of `device`, confirmed in `browser` and approved at Postiz by `member` (the
 * stand-in's user by default) for the user's selected organisation, delivered to the device:
 * the confirmation page, the success page, and the token.
 */
async function login(
  built: Built,
  device: Device,
  browser: InjectBrowser,
  member?: string,
): Promise<{ confirmation: Answer; success: Answer; token: string }> {
  const started = await startFlow(built.app, { 'x-forwarded-for': device.ip, 'user-agent': device.agent });
  const confirmation = await enterCode(browser, started.user_code);
  assert.equal(confirmation.status, 200, confirmation.body.slice(0, 500));
  const toPostiz = await pressOnConfirmation(browser, confirmation, 'confirm');
  assert.ok(toPostiz.location, toPostiz.body.slice(0, 500));
  const callback = await consentAtPostiz(toPostiz.location, 'approve', member ? { member } : undefined);
  const success = await browser.get(pathOf(callback));
  assert.equal(success.status, 200, success.body.slice(0, 500));
  built.clock.advance(5000);
  const answer = await poll(built.app, started.device_code);
  assert.equal(answer.status, 200, answer.body);
  return { confirmation, success, token: String(answer.json.access_token) };
}

/** The confirmation page `browser` is shown for a new flow of `device` (left pending). */
async function showConfirmation(built: Built, device: Device, browser: InjectBrowser): Promise<Answer> {
  const started = await startFlow(built.app, { 'x-forwarded-for': device.ip, 'user-agent': device.agent });
  const page = await enterCode(browser, started.user_code);
  assert.equal(page.status, 200, page.body.slice(0, 500));
  return page;
}

/** Whether a page says anything of `device`'s login (its address is unique to it). */
const mentions = (page: Answer, device: Device): boolean => page.body.includes(device.ip);

for (const backend of stores) {
  test(`two members of one organisation learn nothing of each other's CLI logins, and neither is told the other's stopped working (${backend.name})`, {
    skip: backend.skip,
  }, async (t) => {
    const { store, close } = await backend.open();
    if (close) t.after(() => store.close());
    const built = await build(t, { env: PROXY, store });
    const alice = await login(built, ALICE_LAPTOP, browserNear(built, ALICE_LAPTOP));
    const bobBrowser = browserNear(built, BOB_LAPTOP);
    const bob = await login(built, BOB_LAPTOP, bobBrowser, SECOND_MEMBER);
    assert.ok(!mentions(bob.confirmation, ALICE_LAPTOP), `Bob's confirmation page: ${bob.confirmation.body}`);
    assert.ok(!mentions(bob.success, ALICE_LAPTOP), `Bob's success page: ${bob.success.body}`);
    assert.equal(built.standIn.isValid(alice.token), true, "Alice's token still works");
    assert.equal(built.standIn.isValid(bob.token), true);
    // Bob's next confirmation page names Bob's own last login, and still nothing of Alice's.
    const again = await showConfirmation(built, BOB_PHONE, bobBrowser);
    assert.ok(mentions(again, BOB_LAPTOP), again.body);
    assert.ok(!mentions(again, ALICE_LAPTOP), again.body);
  });

  test(`a copied cookie shows nothing of any later login, of anyone (${backend.name})`, {
    skip: backend.skip,
  }, async (t) => {
    const { store, close } = await backend.open();
    if (close) t.after(() => store.close());
    const built = await build(t, { env: PROXY, store });
    const aliceBrowser = browserNear(built, ALICE_LAPTOP);
    await login(built, ALICE_LAPTOP, aliceBrowser);
    // Someone copies every cookie Alice's browser holds into a browser that never logged in.
    const copy = browserNear(built, CAROL_LAPTOP);
    for (const [name, value] of aliceBrowser.cookies) copy.cookies.set(name, value);
    // Bob, of the same organisation, logs in; then Alice logs in again, from another computer.
    await login(built, BOB_LAPTOP, browserNear(built, BOB_LAPTOP), SECOND_MEMBER);
    await login(built, ALICE_SERVER, aliceBrowser);
    const seen = await showConfirmation(built, CAROL_LAPTOP, copy);
    assert.ok(!mentions(seen, BOB_LAPTOP), `Bob's login shown to a copied cookie: ${seen.body}`);
    assert.ok(!mentions(seen, ALICE_SERVER), `Alice's new login shown to a copied cookie: ${seen.body}`);
  });

  test(`each browser is told only of the logins approved in it, even for the same person (${backend.name})`, {
    skip: backend.skip,
  }, async (t) => {
    const { store, close } = await backend.open();
    if (close) t.after(() => store.close());
    const built = await build(t, { env: PROXY, store });
    const laptopBrowser = browserNear(built, ALICE_LAPTOP);
    const serverBrowser = browserNear(built, ALICE_SERVER);
    await login(built, ALICE_LAPTOP, laptopBrowser);
    const second = await login(built, ALICE_SERVER, serverBrowser);
    assert.ok(!mentions(second.confirmation, ALICE_LAPTOP), second.confirmation.body);
    assert.ok(!mentions(second.success, ALICE_LAPTOP), second.success.body);
    const back = await showConfirmation(built, ALICE_DESKTOP, laptopBrowser);
    assert.ok(
      mentions(back, ALICE_LAPTOP),
      `the laptop's browser is told of its own last login: ${back.body}`,
    );
    assert.ok(!mentions(back, ALICE_SERVER), back.body);
  });
}
