/**
 * A guarantee of docs/security.md: `slow_down`, done right. A device code polled faster than its interval gets
 * `slow_down` with the new interval (+5 s each time), across instances; a first poll and a
 * client that keeps to its interval (allowing for jitter) never do, because the postiz CLI
 * fails on `slow_down`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { build, manualClock, storesToShare } from '../../harness/build.js';
import { pathOf, poll, startFlow, walkToCallback } from '../../harness/inject-browser.js';
import { usePostgres } from '../../harness/postgres.js';

const cluster = await usePostgres();

/** The error code of a poll (or `token`). */
async function pollResult(app: FastifyInstance, deviceCode: string): Promise<string> {
  const answer = await poll(app, deviceCode);
  return answer.status === 200 ? 'token' : String(answer.json.error);
}

test('a first poll never gets slow_down, however soon it comes', async (t) => {
  const { app } = await build(t);
  for (let i = 0; i < 5; i++) {
    const started = await startFlow(app);
    assert.equal(await pollResult(app, started.device_code), 'authorization_pending');
  }
});

test('a client that waits its interval never gets slow_down, even with jitter', async (t) => {
  const { app, clock } = await build(t);
  const started = await startFlow(app);
  assert.equal(started.interval, 5);
  // Exactly the interval, then 0.5 s early (a request delayed, the next one not), alternating.
  for (const gap of [0, ...Array.from({ length: 20 }, (_, i) => (i % 2 ? 4500 : 5000)), 4500, 4500, 4500]) {
    clock.advance(gap);
    assert.equal(await pollResult(app, started.device_code), 'authorization_pending', `after ${gap} ms`);
  }
});

test('polling too soon gets slow_down with interval 10, then 15; keeping to the new interval gets pending again', async (t) => {
  const { app, clock } = await build(t);
  const started = await startFlow(app);
  assert.equal(await pollResult(app, started.device_code), 'authorization_pending');

  clock.advance(1000);
  const first = await poll(app, started.device_code);
  assert.equal(first.status, 400);
  assert.deepEqual([first.json.error, first.json.interval], ['slow_down', 10]);
  assert.equal(first.headers['cache-control'], 'no-store');

  clock.advance(1000);
  const second = await poll(app, started.device_code);
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
