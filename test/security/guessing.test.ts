/**
 * A guarantee of docs/security.md: guessing is cut off. Wrong user codes, flow starts and polls with unknown
 * device codes are limited per address (and wrong codes globally), in the store, so the
 * limits hold across instances; only the offender is ever stopped.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { build, manualClock, postgresStore, storesToShare } from '../../harness/build.js';
import { type Answer, field, InjectBrowser, poll, startFlow } from '../../harness/inject-browser.js';
import { usePostgres } from '../../harness/postgres.js';
import { USER_CODE_ALPHABET } from '../../src/device-flow/codes.js';
import { CEILING_ALLOWANCE } from '../../src/device-flow/rate-limits.js';
import type { Store } from '../../src/storage/store.js';
import { escapeHtml } from '../../src/views/html.js';
import { en } from '../../src/views/i18n/en.js';

const cluster = await usePostgres();
const PROXY = { TRUST_PROXY: 'true' };
const xff = (ip: string) => ({ 'x-forwarded-for': ip });

/** The `i`-th well-formed user code (distinct for distinct `i`), skipping `not`. */
function wrongCode(not: string, i: number): string {
  const digits = i.toString(20).padStart(8, '0');
  const code = [...digits].map((d) => USER_CODE_ALPHABET[Number.parseInt(d, 20)]).join('');
  const formatted = `${code.slice(0, 4)}-${code.slice(4)}`;
  return formatted === not ? wrongCode(not, i + 1_000_000) : formatted;
}

/** Type `code` on the entry page from `browser`. */
async function tryCode(browser: InjectBrowser, code: string): Promise<Answer> {
  const entry = await browser.get('/device/verify');
  return browser.post('/device/verify', {
    _csrf: field(entry.body, '_csrf'),
    user_code: code,
    action: 'lookup',
  });
}

/** A 429 with a sane Retry-After, as a friendly page. */
function assertRateLimitedPage(answer: Answer, why: string): void {
  assert.equal(answer.status, 429, `${why}: ${answer.status}`);
  const retryAfter = Number(answer.headers['retry-after']);
  assert.ok(
    Number.isInteger(retryAfter) && retryAfter > 0,
    `${why}: Retry-After ${answer.headers['retry-after']}`,
  );
  assert.match(String(answer.headers['content-type']), /^text\/html/);
  assert.ok(answer.body.includes(escapeHtml(en['error.rate_limited.heading'])), `${why}: a friendly page`);
  assert.ok(!answer.body.includes('value="confirm"'), `${why}: no confirmation`);
}

/** A 429 JSON answer of the API with a sane Retry-After. */
function assertRateLimitedJson(answer: { status: number; headers: Answer['headers']; body: string }): void {
  assert.equal(answer.status, 429, answer.body);
  assert.ok(Number(answer.headers['retry-after']) > 0, 'Retry-After');
  assert.match(String(answer.headers['content-type']), /^application\/json/);
  assert.equal(typeof JSON.parse(answer.body).error, 'string');
}

/** POST /device/code from `ip` (behind the trusted proxy). */
async function startFrom(app: FastifyInstance, ip: string) {
  const res = await app.inject({ method: 'POST', url: '/device/code', headers: xff(ip) });
  return { status: res.statusCode, headers: res.headers, body: res.body };
}

const unknownDeviceCode = () => randomBytes(32).toString('base64url');

test('ten wrong codes from one address cut it off, even with the right code; a right code from elsewhere still works', async (t) => {
  const { app, clock } = await build(t, { env: PROXY });
  const started = await startFlow(app, xff('203.0.113.7'));
  const attacker = new InjectBrowser(app, undefined, xff('192.0.2.66'));
  for (let i = 0; i < 10; i++) {
    const answer = await tryCode(attacker, wrongCode(started.user_code, i));
    assert.equal(answer.status, 400, `wrong code #${i + 1} is simply wrong`);
  }
  const cutOff = await tryCode(attacker, started.user_code);
  assertRateLimitedPage(cutOff, 'the right code from the guessing address');
  assert.ok(!cutOff.body.includes('203.0.113.7'), 'nothing about the flow');
  assert.ok(Number(cutOff.headers['retry-after']) <= 15 * 60);

  const owner = new InjectBrowser(app, undefined, xff('198.51.100.9'));
  const confirmation = await tryCode(owner, started.user_code);
  assert.equal(confirmation.status, 200);
  assert.match(confirmation.body, /value="confirm"/);

  // The window is 15 minutes: afterwards the address may try again.
  clock.advance(15 * 60_000 + 1000);
  assert.equal((await tryCode(attacker, wrongCode(started.user_code, 99))).status, 400);
});

test('forged X-Forwarded-For headers do not dodge the limit when no proxy is trusted', async (t) => {
  const { app } = await build(t);
  const started = await startFlow(app);
  for (let i = 0; i < 10; i++) {
    const rotating = new InjectBrowser(app, undefined, xff(`10.0.${i}.1`));
    assert.equal((await tryCode(rotating, wrongCode(started.user_code, i))).status, 400);
  }
  assertRateLimitedPage(
    await tryCode(new InjectBrowser(app, undefined, xff('10.9.9.9')), started.user_code),
    'the same socket address',
  );
});

test('past the global ceiling every address is refused until the window ends; right codes do not use it up', async (t) => {
  const { app, clock } = await build(t, { env: { ...PROXY, RATE_LIMIT_USER_CODE_GLOBAL: '5' } });
  const started = await startFlow(app, xff('203.0.113.7'));
  // Right codes, many times over, from the owner: given back, so the ceiling is untouched.
  const owner = new InjectBrowser(app, undefined, xff('198.51.100.9'));
  for (let i = 0; i < 8; i++) assert.equal((await tryCode(owner, started.user_code)).status, 200);
  const guessers = Array.from(
    { length: 5 },
    (_, i) => new InjectBrowser(app, undefined, xff(`192.0.2.${i + 1}`)),
  );
  for (const [i, guesser] of guessers.entries()) {
    for (let j = 0; j < CEILING_ALLOWANCE; j++)
      assert.equal((await tryCode(guesser, wrongCode(started.user_code, i * 10 + j))).status, 400);
  }
  // Past the ceiling, every address that used up its allowance in the window is refused.
  for (const guesser of guessers) {
    assertRateLimitedPage(await tryCode(guesser, started.user_code), 'a guesser past the ceiling');
  }
  // A fresh address gets its first CEILING_ALLOWANCE attempts looked up (so a user typing the
  // right code, even after a few typos, is never locked out by others' guessing); past them,
  // the ceiling applies to it too.
  const fresh = new InjectBrowser(app, undefined, xff('198.51.100.77'));
  for (let j = 0; j < CEILING_ALLOWANCE; j++)
    assert.equal((await tryCode(fresh, wrongCode(started.user_code, 40 + j))).status, 400, 'its allowance');
  assertRateLimitedPage(await tryCode(fresh, started.user_code), 'a fresh address past its allowance');
  clock.advance(15 * 60_000 + 1000);
  assert.equal((await tryCode(fresh, wrongCode(started.user_code, 50))).status, 400, 'the window ends');
});

test('once others have spent the global ceiling, a user who mistyped a few times still gets in with the right code', async (t) => {
  const { app } = await build(t, { env: { ...PROXY, RATE_LIMIT_USER_CODE_GLOBAL: '50' } });
  const started = await startFlow(app, xff('203.0.113.7'));
  // 101 addresses × 10 wrong codes: the ceiling of 50 is far behind.
  for (let host = 0; host <= 100; host++) {
    const guesser = new InjectBrowser(app, undefined, xff(`10.2.${host}.1`));
    for (let i = 0; i < 10; i++) await tryCode(guesser, wrongCode(started.user_code, host * 10 + i));
  }
  // A typo, then the right code.
  const typo = new InjectBrowser(app, undefined, xff('198.51.100.9'));
  assert.equal((await tryCode(typo, wrongCode(started.user_code, 2000))).status, 400, 'the typo');
  assert.equal((await tryCode(typo, started.user_code)).status, 200, 'the right code after one typo');
  // Three typos (CEILING_ALLOWANCE - 1), then the right code.
  const clumsy = new InjectBrowser(app, undefined, xff('198.51.100.10'));
  for (let i = 0; i < CEILING_ALLOWANCE - 1; i++)
    assert.equal((await tryCode(clumsy, wrongCode(started.user_code, 2100 + i))).status, 400);
  assert.equal((await tryCode(clumsy, started.user_code)).status, 200, 'the right code after three typos');
  // An address past its allowance is refused while the ceiling is spent, even with the right code.
  const guesser = new InjectBrowser(app, undefined, xff('198.51.100.11'));
  for (let i = 0; i < CEILING_ALLOWANCE; i++)
    assert.equal((await tryCode(guesser, wrongCode(started.user_code, 2200 + i))).status, 400);
  assertRateLimitedPage(await tryCode(guesser, started.user_code), 'past its allowance');
});

test('guessing from one IPv6 /48 or a few dozen IPv4 addresses cannot stop a user who types the right code', async (t) => {
  const { app } = await build(t, { env: { ...PROXY, RATE_LIMIT_USER_CODE_GLOBAL: '50' } });
  const started = await startFlow(app, xff('203.0.113.7'));
  // 100 wrong codes from ten /64s of one /48 (ten each, the per-address limit), then 60 more
  // from 30 IPv4 addresses: the global ceiling of 50 is far behind.
  for (let net = 0; net < 10; net++) {
    const guesser = new InjectBrowser(app, undefined, xff(`2001:db8:77:${net.toString(16)}::1`));
    for (let i = 0; i < 10; i++) await tryCode(guesser, wrongCode(started.user_code, net * 10 + i));
  }
  for (let host = 1; host <= 30; host++) {
    const guesser = new InjectBrowser(app, undefined, xff(`192.0.2.${host}`));
    for (let i = 0; i < 2; i++) await tryCode(guesser, wrongCode(started.user_code, 200 + host * 2 + i));
  }
  // The user, typing the right code from their own address, goes on.
  const user = new InjectBrowser(app, undefined, xff('198.51.100.9'));
  const confirmation = await tryCode(user, started.user_code);
  assert.equal(confirmation.status, 200, 'the right code from a fresh address');
  assert.match(confirmation.body, /value="confirm"/);
});

test('IPv6 guesses count per /64 and per /48: one allocation gets ten times one address, then is cut off as a whole', async (t) => {
  const { app } = await build(t, { env: PROXY });
  const started = await startFlow(app, xff('203.0.113.7'));
  for (let net = 0; net < 10; net++) {
    const guesser = new InjectBrowser(app, undefined, xff(`2001:db8:77:${net.toString(16)}::1`));
    for (let i = 0; i < 10; i++) {
      assert.equal((await tryCode(guesser, wrongCode(started.user_code, net * 10 + i))).status, 400);
    }
  }
  assertRateLimitedPage(
    await tryCode(new InjectBrowser(app, undefined, xff('2001:db8:77:ff::1')), started.user_code),
    'another /64 of the guessing /48',
  );
  const elsewhere = new InjectBrowser(app, undefined, xff('2001:db8:78::1'));
  assert.equal((await tryCode(elsewhere, started.user_code)).status, 200, 'another /48 is unaffected');
});

test('more than 30 flow starts from one address in 10 minutes get 429 JSON; other addresses are unaffected', async (t) => {
  const { app, clock } = await build(t, { env: PROXY });
  for (let i = 0; i < 30; i++)
    assert.equal((await startFrom(app, '192.0.2.66')).status, 200, `start #${i + 1}`);
  assertRateLimitedJson(await startFrom(app, '192.0.2.66'));
  assert.equal((await startFrom(app, '198.51.100.9')).status, 200);
  clock.advance(10 * 60_000 + 1000);
  assert.equal((await startFrom(app, '192.0.2.66')).status, 200, 'the window ends');
});

test('polls with unknown device codes are limited per address; real polls from that address are not', async (t) => {
  const { app } = await build(t, { env: { ...PROXY, RATE_LIMIT_UNKNOWN_POLLS: '5' } });
  const real = await startFlow(app, xff('192.0.2.66'));
  for (let i = 0; i < 5; i++) {
    const answer = await poll(app, unknownDeviceCode(), xff('192.0.2.66'));
    assert.equal(answer.json.error, 'invalid_grant', `unknown poll #${i + 1}`);
  }
  assertRateLimitedJson(await poll(app, unknownDeviceCode(), xff('192.0.2.66')));
  assert.equal((await poll(app, unknownDeviceCode(), xff('198.51.100.9'))).json.error, 'invalid_grant');
  // A real CLI behind the same address (a shared NAT) goes on polling its own flow.
  assert.equal((await poll(app, real.device_code, xff('192.0.2.66'))).json.error, 'authorization_pending');
});

/** `store`, counting the user-code lookups made through it. */
function countingLookups(store: Store): { store: Store; lookups: () => number } {
  let lookups = 0;
  const counted = new Proxy(store, {
    get(target, name, receiver) {
      if (name === 'findByUserCode') {
        return (hash: Buffer) => {
          lookups++;
          return target.findByUserCode(hash);
        };
      }
      const value = Reflect.get(target, name, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store: counted, lookups: () => lookups };
}

/** The form fields of a code-entry post from `browser`'s session (fetched once, reused by every guess). */
async function entryForm(browser: InjectBrowser): Promise<(code: string) => Promise<Answer>> {
  const entry = await browser.get('/device/verify');
  const csrf = field(entry.body, '_csrf');
  return (code) => browser.post('/device/verify', { _csrf: csrf, user_code: code, action: 'lookup' });
}

test('a burst of 100 simultaneous wrong codes from one address is looked up at most 10 times (PostgreSQL)', {
  skip: cluster ? false : 'no PostgreSQL available',
}, async (t) => {
  const real = await postgresStore(await cluster!.createDatabase());
  t.after(() => real.close());
  const { store, lookups } = countingLookups(real);
  const { app } = await build(t, { env: PROXY, store });
  const started = await startFlow(app, xff('203.0.113.7'));
  const guess = await entryForm(new InjectBrowser(app, undefined, xff('192.0.2.66')));
  const answers = await Promise.all(
    Array.from({ length: 100 }, (_, i) => guess(wrongCode(started.user_code, i))),
  );
  assert.ok(lookups() <= 10, `${lookups()} lookups for a limit of 10`);
  assert.equal(answers.filter((a) => a.status === 429).length, 100 - lookups());
  assert.equal(answers.filter((a) => a.status === 400).length, lookups());
  assertRateLimitedPage(await guess(started.user_code), 'the right code after the burst');
});

test('a burst of wrong codes from 100 fresh addresses is looked up at most CEILING_ALLOWANCE times per address beyond the global ceiling (PostgreSQL)', {
  skip: cluster ? false : 'no PostgreSQL available',
}, async (t) => {
  const real = await postgresStore(await cluster!.createDatabase());
  t.after(() => real.close());
  const { store, lookups } = countingLookups(real);
  const { app } = await build(t, { env: { ...PROXY, RATE_LIMIT_USER_CODE_GLOBAL: '20' }, store });
  const started = await startFlow(app, xff('203.0.113.7'));
  const guessers = await Promise.all(
    Array.from({ length: 100 }, (_, i) => entryForm(new InjectBrowser(app, undefined, xff(`10.1.${i}.1`)))),
  );
  // Six simultaneous guesses from each address: each address's first CEILING_ALLOWANCE attempts
  // are looked up whatever the ceiling says; its others only within the ceiling.
  const answers = await Promise.all(
    guessers.flatMap((guess, i) =>
      Array.from({ length: 6 }, (_, j) => guess(wrongCode(started.user_code, i * 6 + j))),
    ),
  );
  const allowed = 100 * CEILING_ALLOWANCE;
  assert.ok(lookups() >= allowed, `every address had its allowance (${lookups()} lookups)`);
  assert.ok(lookups() <= allowed + 20, `${lookups()} lookups: ${allowed} allowed and a ceiling of 20`);
  assert.equal(answers.filter((a) => a.status === 429).length, 600 - lookups());
});

const stores = storesToShare(cluster);

for (const backend of stores) {
  test(`the limits hold across two instances sharing one database (${backend.name})`, {
    skip: backend.skip,
  }, async (t) => {
    const { store, close } = await backend.open();
    if (close) t.after(() => store.close());
    const clock = manualClock();
    const env = { ...PROXY, RATE_LIMIT_UNKNOWN_POLLS: '5' };
    const a = await build(t, { env, store, clock });
    const b = await build(t, { env, store, clock });
    const apps = [a.app, b.app];

    // Wrong codes, alternating between the instances.
    const started = await startFlow(a.app, xff('203.0.113.7'));
    const guessers = apps.map((app) => new InjectBrowser(app, undefined, xff('192.0.2.66')));
    for (let i = 0; i < 10; i++) {
      assert.equal((await tryCode(guessers[i % 2]!, wrongCode(started.user_code, i))).status, 400);
    }
    for (const guesser of guessers) assertRateLimitedPage(await tryCode(guesser, started.user_code), 'both');
    assert.equal(
      (await tryCode(new InjectBrowser(b.app, undefined, xff('198.51.100.9')), started.user_code)).status,
      200,
    );

    // Flow starts, alternating.
    for (let i = 0; i < 30; i++) assert.equal((await startFrom(apps[i % 2]!, '192.0.2.77')).status, 200);
    for (const app of apps) assertRateLimitedJson(await startFrom(app, '192.0.2.77'));

    // Unknown device codes, alternating.
    for (let i = 0; i < 5; i++) {
      assert.equal(
        (await poll(apps[i % 2]!, unknownDeviceCode(), xff('192.0.2.88'))).json.error,
        'invalid_grant',
      );
    }
    for (const app of apps) assertRateLimitedJson(await poll(app, unknownDeviceCode(), xff('192.0.2.88')));
  });
}
