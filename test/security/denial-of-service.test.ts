/**
 * Denial of service: nothing a client sends can hold a connection, a held poll, a live flow
 * or a database round trip for longer or in larger numbers than the settings allow.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { build, sharedPglite } from '../../harness/build.js';
import { field, InjectBrowser, poll, startFlow } from '../../harness/inject-browser.js';
import { metric, metricReaches } from '../../harness/observe.js';
import { waitFor } from '../../harness/postgres.js';
import type { Store } from '../../src/storage/store.js';

const PROXY = { TRUST_PROXY: 'true' };
const xff = (ip: string) => ({ 'x-forwarded-for': ip });

/** Listen on a free loopback port; the base URL's host and port. */
async function listen(app: FastifyInstance): Promise<{ host: string; port: number }> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  assert.ok(address && typeof address === 'object');
  return { host: '127.0.0.1', port: address.port };
}

/**
 * Open a raw connection, send `head`, then one byte of `trickle` every `everyMs`. Resolves
 * with what the server answered and how long after the start the connection closed.
 * `reads: false`: a client that never reads what the server sends (so it never sees the
 * server's answer, nor that it closed its side).
 */
function trickle(
  target: { host: string; port: number },
  head: string,
  trickleText: string,
  everyMs: number,
  { reads = true } = {},
): Promise<{ closedAfterMs: number; answer: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect(target);
    if (!reads) socket.pause();
    let answer = '';
    let timer: NodeJS.Timeout | undefined;
    let i = 0;
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => {
      answer += chunk;
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ closedAfterMs: performance.now() - started, answer });
    });
    socket.on('connect', () => {
      socket.write(head);
      timer = setInterval(() => {
        if (i < trickleText.length && socket.writable) socket.write(trickleText[i++]!);
      }, everyMs);
    });
    setTimeout(() => {
      socket.destroy();
      reject(new Error('the server never closed the trickling connection'));
    }, 20_000).unref();
  });
}

test('a request body trickled a byte at a time is cut off after REQUEST_TIMEOUT_MS', async (t) => {
  const { app } = await build(t, { env: { REQUEST_TIMEOUT_MS: '1500', HEADERS_TIMEOUT_MS: '1000' } });
  const target = await listen(app);
  const body = JSON.stringify({ device_code: 'x'.repeat(80) });
  const head = `POST /device/token HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
  const { closedAfterMs, answer } = await trickle(target, head, body, 300);
  assert.ok(closedAfterMs < 6000, `closed after ${Math.round(closedAfterMs)} ms`);
  assert.match(answer, /^HTTP\/1\.1 408/);
});

test('a client that ignores the 408 and keeps writing, never reading, is disconnected a few seconds after the answer', async (t) => {
  const { app } = await build(t, { env: { REQUEST_TIMEOUT_MS: '1500', HEADERS_TIMEOUT_MS: '1000' } });
  const target = await listen(app);
  const body = 'x'.repeat(1000);
  const head = `POST /device/token HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
  const { closedAfterMs } = await trickle(target, head, body, 100, { reads: false });
  assert.ok(closedAfterMs < 8000, `closed after ${Math.round(closedAfterMs)} ms`);
});

test('request headers trickled a byte at a time are cut off after HEADERS_TIMEOUT_MS', async (t) => {
  const { app } = await build(t, { env: { REQUEST_TIMEOUT_MS: '3000', HEADERS_TIMEOUT_MS: '1000' } });
  const target = await listen(app);
  const { closedAfterMs, answer } = await trickle(
    target,
    'GET /health HTTP/1.1\r\n',
    'X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n',
    300,
  );
  assert.ok(closedAfterMs < 5000, `closed after ${Math.round(closedAfterMs)} ms`);
  assert.match(answer, /^HTTP\/1\.1 408/);
});

test('a poll held longer than REQUEST_TIMEOUT_MS still gets its answer (the timeout is for receiving requests)', async (t) => {
  const { app } = await build(t, { env: { REQUEST_TIMEOUT_MS: '1000', HEADERS_TIMEOUT_MS: '1000' } });
  const target = await listen(app);
  const started = await startFlow(app);
  const begun = performance.now();
  const res = await fetch(`http://${target.host}:${target.port}/device/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', prefer: 'wait=3' },
    body: JSON.stringify({ device_code: started.device_code }),
  });
  assert.equal(res.status, 400);
  assert.equal(((await res.json()) as { error: string }).error, 'authorization_pending');
  // Its whole wait: 3 s less the jitter held polls get (up to a fifth of the wait, so that
  // CLIs released together do not come back together), never less than 2.4 s.
  const heldMs = performance.now() - begun;
  assert.ok(heldMs >= 2400, `it was held for its whole wait (${Math.round(heldMs)} ms)`);
});

test('at most MAX_HELD_POLLS_PER_ADDRESS polls are held per address; the rest are answered at once', async (t) => {
  const { app } = await build(t, { env: { ...PROXY, MAX_HELD_POLLS_PER_ADDRESS: '4' } });
  const flows = await Promise.all(Array.from({ length: 10 }, () => startFlow(app)));
  const answered: number[] = [];
  const sent = performance.now();
  let sixAnswered: () => void;
  const six = new Promise<void>((resolve) => {
    sixAnswered = resolve;
  });
  const polls = flows.map((flow, i) =>
    poll(app, flow.device_code, { prefer: 'wait=3', ...xff('192.0.2.9') }).then((answer) => {
      answered.push(i);
      if (answered.length === 6) sixAnswered();
      return answer;
    }),
  );
  // The polls beyond the first four are answered without being held: the sixth answer comes
  // long before any held poll's (held 2.4–3 s), and by then all ten have arrived.
  await six;
  const sixthAfterMs = performance.now() - sent;
  assert.ok(sixthAfterMs < 2000, `the sixth answer came after ${Math.round(sixthAfterMs)} ms`);
  assert.equal(answered.length, 6, 'six were answered at once');
  assert.equal(await metric(app, 'postiz_cli_auth_held_polls'), 4, 'four are held');
  // Another address is not affected by this one's polls: its poll is held too.
  const other = await startFlow(app);
  const elsewhere = poll(app, other.device_code, { prefer: 'wait=1', ...xff('198.51.100.1') });
  await metricReaches(app, 'postiz_cli_auth_held_polls', 5, 1500);
  assert.equal(answered.length, 6, 'the four are still held');
  assert.equal(await metric(app, 'postiz_cli_auth_held_polls'), 5);
  for (const answer of await Promise.all([...polls, elsewhere])) {
    assert.equal(answer.json.error, 'authorization_pending');
  }
});

test('a second poll on the same device code answers the held one instead of holding both', async (t) => {
  const { app, clock } = await build(t);
  const started = await startFlow(app);
  let firstAnswered = false;
  const first = poll(app, started.device_code, { prefer: 'wait=10' }).then((a) => {
    firstAnswered = true;
    return a;
  });
  await metricReaches(app, 'postiz_cli_auth_held_polls', 1);
  assert.equal(await metric(app, 'postiz_cli_auth_held_polls'), 1);
  clock.advance(5000);
  const second = poll(app, started.device_code, { prefer: 'wait=1' });
  // The first is held 8–10 s on its own: answered within 3 s, it was the second that ended it.
  await waitFor(() => firstAnswered, { timeoutMs: 3000, intervalMs: 10 });
  assert.ok(firstAnswered, 'the first poll was answered when the second arrived');
  await metricReaches(app, 'postiz_cli_auth_held_polls', 1);
  assert.equal((await first).json.error, 'authorization_pending');
  assert.equal(await metric(app, 'postiz_cli_auth_held_polls'), 1, 'one held poll, the second');
  assert.equal((await second).json.error, 'authorization_pending');
});

test('past MAX_PENDING_FLOWS, flow starts get 503 with Retry-After; a burst creates exactly the cap', async (t) => {
  const { app, clock, config } = await build(t, { env: { ...PROXY, MAX_PENDING_FLOWS: '25' } });
  const answers = await Promise.all(
    Array.from({ length: 60 }, (_, i) =>
      app.inject({ method: 'POST', url: '/device/code', headers: xff(`10.2.${i}.1`) }),
    ),
  );
  assert.equal(answers.filter((a) => a.statusCode === 200).length, 25);
  const refused = answers.filter((a) => a.statusCode !== 200);
  assert.equal(refused.length, 35);
  for (const a of refused) {
    assert.equal(a.statusCode, 503);
    assert.equal(a.json().error, 'temporarily_unavailable');
    assert.ok(Number(a.headers['retry-after']) > 0);
    assert.equal(a.headers['cache-control'], 'no-store');
  }
  // Once the flows have expired, starts work again.
  clock.advance(config.deviceCodeTtlSeconds * 1000 + 1000);
  const again = await app.inject({ method: 'POST', url: '/device/code', headers: xff('10.3.0.1') });
  assert.equal(again.statusCode, 200, again.body);
});

test('a full MAX_PENDING_FLOWS cannot be monopolised: a new user displaces the oldest flow of an address holding the most', async (t) => {
  const { app, clock, config, store } = await build(t, { env: { ...PROXY, MAX_PENDING_FLOWS: '300' } });
  // Ten addresses start 30 flows each (their limit): the cap is full.
  const attackers: string[] = [];
  for (let a = 0; a < 10; a++) {
    for (let i = 0; i < 30; i++) {
      const res = await app.inject({ method: 'POST', url: '/device/code', headers: xff(`192.0.2.${a + 1}`) });
      assert.equal(res.statusCode, 200, res.body);
      attackers.push(res.json().device_code);
    }
  }
  clock.advance(1000);
  assert.equal(await store.countPending(new Date(clock.now())), 300, 'the cap is full');
  // Two more of their addresses get in only by taking places from the others.
  for (const ip of ['192.0.2.11', '192.0.2.12']) {
    await app.inject({ method: 'POST', url: '/device/code', headers: xff(ip) });
  }

  // A new user, from an address holding no flow, still starts one.
  const user = await app.inject({ method: 'POST', url: '/device/code', headers: xff('198.51.100.5') });
  assert.equal(user.statusCode, 200, user.body);
  assert.equal(await store.countPending(new Date(clock.now())), 300, 'the cap still holds');
  // The oldest flows of the addresses holding the most ended; their CLIs learn they must start again.
  const answers = await Promise.all(attackers.map((deviceCode) => poll(app, deviceCode)));
  const ended = answers.filter((a) => a.json.error === 'expired_token').length;
  assert.equal(ended, 3, 'one place for each newcomer');
  assert.equal(answers.filter((a) => a.json.error === 'authorization_pending').length, 297);
  // Each place came from the oldest flow of an address holding the most (30 each: any of them).
  for (const [i, answer] of answers.entries()) {
    if (answer.json.error === 'expired_token')
      assert.equal(i % 30, 0, `flow ${i % 30} of address ${Math.floor(i / 30)}`);
  }

  // When every address holds as few as the newcomer would, nothing is displaced: 503, and
  // Retry-After says when the oldest flow expires (a place is really free then).
  const { app: small, clock: smallClock } = await build(t, { env: { ...PROXY, MAX_PENDING_FLOWS: '5' } });
  for (let i = 0; i < 5; i++) {
    assert.equal(
      (await small.inject({ method: 'POST', url: '/device/code', headers: xff(`10.9.${i}.1`) })).statusCode,
      200,
    );
  }
  smallClock.advance(60_000);
  const full = await small.inject({ method: 'POST', url: '/device/code', headers: xff('10.9.9.9') });
  assert.equal(full.statusCode, 503);
  const retryAfter = Number(full.headers['retry-after']);
  assert.ok(
    Math.abs(retryAfter - (config.deviceCodeTtlSeconds - 60)) <= 2,
    `Retry-After ${retryAfter}: when the oldest of the full cap expires`,
  );
});

test('a full MAX_PENDING_FLOWS never displaces the flows of an address holding no more than an office NAT would', async (t) => {
  const { app, store, clock } = await build(t, { env: { ...PROXY, MAX_PENDING_FLOWS: '50' } });
  // The cap is full of 48 attackers holding one flow each, and an office NAT holding two.
  for (let i = 0; i < 48; i++) {
    const res = await app.inject({ method: 'POST', url: '/device/code', headers: xff(`10.7.${i}.1`) });
    assert.equal(res.statusCode, 200, res.body);
  }
  const office = [];
  for (let i = 0; i < 2; i++) {
    const res = await app.inject({ method: 'POST', url: '/device/code', headers: xff('198.51.100.80') });
    assert.equal(res.statusCode, 200, res.body);
    office.push(res.json().device_code as string);
  }
  clock.advance(1000);
  assert.equal(await store.countPending(new Date(clock.now())), 50, 'the cap is full');
  const newcomer = await app.inject({ method: 'POST', url: '/device/code', headers: xff('203.0.113.90') });
  assert.equal(newcomer.statusCode, 503, 'nobody holds more than an office would: no place is taken');
  for (const deviceCode of office) {
    clock.advance(5000);
    assert.equal(
      (await poll(app, deviceCode)).json.error,
      'authorization_pending',
      "the office's logins go on",
    );
  }
});

test('a full MAX_PENDING_FLOWS held by hoarders lets every newcomer of a burst in, while the hoarders hold more than an office would', async (t) => {
  const { app, store, clock } = await build(t, {
    env: { ...PROXY, MAX_PENDING_FLOWS: '99', RATE_LIMIT_FLOW_STARTS: '100' },
  });
  for (let h = 0; h < 3; h++) {
    for (let i = 0; i < 33; i++) {
      const res = await app.inject({ method: 'POST', url: '/device/code', headers: xff(`192.0.2.${h + 1}`) });
      assert.equal(res.statusCode, 200, res.body);
    }
  }
  clock.advance(1000);
  // Sixty fresh addresses at once: the hoarders go from 33 flows each to 13.
  const answers = await Promise.all(
    Array.from({ length: 60 }, (_, i) =>
      app.inject({ method: 'POST', url: '/device/code', headers: xff(`10.8.${i}.1`) }),
    ),
  );
  assert.deepEqual(
    answers.map((a) => a.statusCode).filter((s) => s !== 200),
    [],
    'every newcomer got in',
  );
  assert.equal(await store.countPending(new Date(clock.now())), 99, 'the cap still holds');
});

test('IPv6 flow starts are counted per /48, so one allocation cannot start more than the limit', async (t) => {
  const { app } = await build(t, { env: { ...PROXY, RATE_LIMIT_FLOW_STARTS: '5' } });
  const statuses: number[] = [];
  for (let i = 0; i < 8; i++) {
    // Eight different /64s of one /48.
    const res = await app.inject({
      method: 'POST',
      url: '/device/code',
      headers: xff(`2001:db8:aaaa:${i.toString(16)}::1`),
    });
    statuses.push(res.statusCode);
  }
  assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429, 429]);
  const elsewhere = await app.inject({
    method: 'POST',
    url: '/device/code',
    headers: xff('2001:db8:bbbb::1'),
  });
  assert.equal(elsewhere.statusCode, 200, 'another /48 is unaffected');
});

/** `store`, counting every call made through it. */
function countingStore(store: Store): { store: Store; calls: () => number } {
  let calls = 0;
  const counted = new Proxy(store, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (name !== 'countPending' && name !== 'subscribe') calls++;
        return value.apply(target, args);
      };
    },
  });
  return { store: counted, calls: () => calls };
}

test('a refused address costs the database nothing more until its window ends', async (t) => {
  const { store, calls } = countingStore(await sharedPglite());
  const env = {
    ...PROXY,
    RATE_LIMIT_FLOW_STARTS: '2',
    RATE_LIMIT_USER_CODE_ATTEMPTS: '2',
    RATE_LIMIT_UNKNOWN_POLLS: '2',
  };
  const { app } = await build(t, { env, store });
  const headers = xff('192.0.2.50');

  // Flow starts: once refused, further starts from that address reach no store method.
  for (let i = 0; i < 3; i++) await app.inject({ method: 'POST', url: '/device/code', headers });
  let before = calls();
  for (let i = 0; i < 20; i++) {
    assert.equal((await app.inject({ method: 'POST', url: '/device/code', headers })).statusCode, 429);
  }
  assert.equal(calls() - before, 0, 'refused starts');

  // Wrong user codes: the same.
  const browser = new InjectBrowser(app, undefined, headers);
  const entry = await browser.get('/device/verify');
  const guess = () =>
    browser.post('/device/verify', {
      _csrf: field(entry.body, '_csrf'),
      user_code: 'BBBB-BBBB',
      action: 'lookup',
    });
  for (let i = 0; i < 3; i++) await guess();
  before = calls();
  for (let i = 0; i < 20; i++) assert.equal((await guess()).status, 429);
  assert.equal(calls() - before, 0, 'refused guesses');

  // Unknown device codes: each still needs its one lookup (a real CLI behind the same address
  // must go on), but the refusal itself costs nothing more.
  for (let i = 0; i < 3; i++) await poll(app, `unknown${i}`.padEnd(43, 'x'), headers);
  before = calls();
  for (let i = 0; i < 20; i++)
    assert.equal((await poll(app, `more${i}`.padEnd(43, 'x'), headers)).status, 429);
  assert.equal(calls() - before, 20, 'one lookup per refused poll, nothing else');
});
