/**
 * A guarantee of docs/security.md: `slow_down`, done right. An RFC 8628 client (one that sends
 * `grant_type`) polling faster than its interval gets `slow_down` with the new interval (+5 s
 * each time), across instances; a first poll and a client that keeps to its interval (allowing
 * for jitter) never do. The postiz CLI (no `grant_type`) fails on `slow_down`, so its early
 * polls are paced instead: held until they are due, then answered as usual.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { build, manualClock, storesToShare } from '../../harness/build.js';
import { sleep } from '../../harness/device.js';
import { pathOf, poll, rfcPoll, startFlow, walkToCallback } from '../../harness/inject-browser.js';
import { usePostgres } from '../../harness/postgres.js';

const cluster = await usePostgres();

/** The error code of a poll (or `token`), from an RFC client (`rfc`) or the postiz CLI (`cli`). */
async function pollResult(
  app: FastifyInstance,
  deviceCode: string,
  client: 'rfc' | 'cli' = 'rfc',
): Promise<string> {
  const answer = client === 'rfc' ? await rfcPoll(app, deviceCode) : await poll(app, deviceCode);
  return answer.status === 200 ? 'token' : String(answer.json.error);
}

test('a first poll never gets slow_down, however soon it comes', async (t) => {
  const { app } = await build(t);
  for (let i = 0; i < 5; i++) {
    const started = await startFlow(app);
    assert.equal(await pollResult(app, started.device_code), 'authorization_pending');
  }
});

for (const client of ['rfc', 'cli'] as const) {
  test(`a client that waits its interval never gets slow_down, even with jitter (${client})`, async (t) => {
    const { app, clock } = await build(t);
    const started = await startFlow(app);
    assert.equal(started.interval, 5);
    // Exactly the interval, then 0.5 s early (a request delayed, the next one not), alternating.
    for (const gap of [0, ...Array.from({ length: 20 }, (_, i) => (i % 2 ? 4500 : 5000)), 4500, 4500, 4500]) {
      clock.advance(gap);
      const result = await pollResult(app, started.device_code, client);
      assert.equal(result, 'authorization_pending', `after ${gap} ms`);
    }
  });
}

test('a postiz CLI poll that comes early is held until it is due, then answered as usual, never slow_down', async (t) => {
  const { app, clock } = await build(t);
  const walked = await walkToCallback(app);
  const deviceCode = walked.started.device_code;
  assert.equal(await pollResult(app, deviceCode, 'cli'), 'authorization_pending');

  // 1 s after the last poll (a retry after a cut connection, a second terminal): due 2 s later
  // (the interval of 5 s less the 2 s tolerance).
  clock.advance(1000);
  let begun = performance.now();
  assert.equal(await pollResult(app, deviceCode, 'cli'), 'authorization_pending');
  assert.ok(
    performance.now() - begun >= 1800,
    `held until due (${Math.round(performance.now() - begun)} ms)`,
  );

  // Counted as polled when due: the CLI's next poll, its interval later, is on time.
  clock.advance(5000);
  begun = performance.now();
  assert.equal(await pollResult(app, deviceCode, 'cli'), 'authorization_pending');
  assert.ok(performance.now() - begun < 500, 'on time, answered at once');

  // Early again, and the user approves meanwhile: the held poll answers with the token at once.
  clock.advance(500);
  begun = performance.now();
  const held = poll(app, deviceCode);
  await sleep(200);
  assert.equal((await walked.browser.get(pathOf(walked.callbackUrl))).status, 200);
  const answer = await held;
  assert.equal(answer.status, 200, answer.body);
  assert.equal(typeof answer.json.access_token, 'string');
  assert.ok(performance.now() - begun < 2500, 'the approval woke it');
});

test('polling too soon gets slow_down with interval 10, then 15; keeping to the new interval gets pending again', async (t) => {
  const { app, clock } = await build(t);
  const started = await startFlow(app);
  assert.equal(await pollResult(app, started.device_code), 'authorization_pending');

  clock.advance(1000);
  const first = await rfcPoll(app, started.device_code);
  assert.equal(first.status, 400);
  assert.deepEqual([first.json.error, first.json.interval], ['slow_down', 10]);
  assert.equal(first.headers['cache-control'], 'no-store');

  clock.advance(1000);
  const second = await rfcPoll(app, started.device_code);
  assert.deepEqual([second.json.error, second.json.interval], ['slow_down', 15]);

  for (const gap of [15_000, 14_500, 15_000]) {
    clock.advance(gap);
    assert.equal(await pollResult(app, started.device_code), 'authorization_pending', `after ${gap} ms`);
  }
});

test('slow_down is per device code: a fast poller does not slow anyone else down', async (t) => {
  const { app, clock } = await build(t);
  const fast = await startFlow(app);
  const calm = await startFlow(app);
  assert.equal(await pollResult(app, fast.device_code), 'authorization_pending');
  assert.equal(await pollResult(app, calm.device_code), 'authorization_pending');
  for (let i = 0; i < 10; i++) {
    clock.advance(500);
    assert.equal(await pollResult(app, fast.device_code), 'slow_down');
    if (i % 10 === 9) assert.equal(await pollResult(app, calm.device_code), 'authorization_pending');
  }
});

test('a client keeping to its interval gets its token on the first poll after approval, never slow_down', async (t) => {
  const { app, clock } = await build(t);
  const walked = await walkToCallback(app);
  assert.equal(await pollResult(app, walked.started.device_code), 'authorization_pending');
  clock.advance(4500);
  assert.equal(await pollResult(app, walked.started.device_code), 'authorization_pending');
  assert.equal((await walked.browser.get(pathOf(walked.callbackUrl))).status, 200);
  clock.advance(4500);
  assert.equal(await pollResult(app, walked.started.device_code), 'token');
});

const stores = storesToShare(cluster);

for (const backend of stores) {
  /** Two instances of the app on one database, with one clock. */
  const twoInstances = async (t: Parameters<typeof build>[0]) => {
    const { store, close } = await backend.open();
    if (close) t.after(() => store.close());
    const clock = manualClock();
    const a = await build(t, { store, clock });
    const b = await build(t, { store, clock });
    return { a: a.app, b: b.app, clock };
  };

  test(`a client that waits its interval never gets slow_down, whichever instance it reaches (${backend.name})`, {
    skip: backend.skip,
  }, async (t) => {
    const { a, b, clock } = await twoInstances(t);
    const started = await startFlow(a);
    for (let i = 0; i < 8; i++) {
      assert.equal(
        await pollResult(i % 2 ? b : a, started.device_code),
        'authorization_pending',
        `poll #${i + 1}`,
      );
      clock.advance(i % 2 ? 4500 : 5000);
    }
  });

  // slow_down is enforced per instance (docs/security.md, "slow_down"): pending polls are
  // answered from each instance's memory so that they cost no database round trip (the trade
  // docs/security.md describes). What must hold: any instance a fast poller reaches slows it down,
  // whichever instance started the flow, and the slower interval is shared through the store.
  test(`polling too fast on any instance gets slow_down, whichever instance started the flow (${backend.name})`, {
    skip: backend.skip,
  }, async (t) => {
    const { a, b, clock } = await twoInstances(t);
    const started = await startFlow(a);
    assert.equal(await pollResult(b, started.device_code), 'authorization_pending');
    clock.advance(2000);
    assert.equal(await pollResult(b, started.device_code), 'slow_down');
  });

  test(`an instance that meets a flow later learns its raised interval from the store (${backend.name})`, {
    skip: backend.skip,
  }, async (t) => {
    const { a, b, clock } = await twoInstances(t);
    const started = await startFlow(a);
    assert.equal(await pollResult(a, started.device_code), 'authorization_pending');
    clock.advance(1000);
    assert.equal(await pollResult(a, started.device_code), 'slow_down'); // interval is now 10 s
    clock.advance(6000);
    // b has never seen this flow: it reads the flow (interval 10 s, last poll 6 s ago) from the store.
    assert.equal(await pollResult(b, started.device_code), 'slow_down');
  });
}
