/**
 * The store contract: one suite, run on the embedded database (PGlite) and on a real
 * PostgreSQL (skipped when none is available). Each state change is a conditional statement
 * that only one caller can win; the race tests check that under real concurrency.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, beforeEach, describe, test } from 'node:test';
import { insertFlow, postgresStore, resetStore, sharedPglite, testEnd } from '../../harness/build.js';
import { usePostgres, waitFor } from '../../harness/postgres.js';
import { codeKey, hashSecret, newDeviceCode, newToken, newUserCode } from '../../src/device-flow/codes.js';
import { POLL_TOLERANCE } from '../../src/device-flow/pacing.js';
import type { Db } from '../../src/storage/db.js';
import { loadMigrations } from '../../src/storage/migrate.js';
import { postgresDb } from '../../src/storage/postgres.js';
import { SqlStore } from '../../src/storage/sql-store.js';
import type { Flow, NewFlow, Store } from '../../src/storage/store.js';

const cluster = await usePostgres();

/** What a run of the store contract (the behaviour every Store must have) needs from its database. */
interface Harness {
  store: Store;
  /** A second store instance on the same database (another server instance), when the database allows one. */
  other?: Store;
  /** A fresh, empty, unmigrated database URL (PostgreSQL only). */
  freshDatabase?: () => Promise<string>;
  close(): Promise<void>;
}

const SECOND = 1000;
const INTERVAL = 5;
/** The tolerance of src/device-flow/pacing.ts for a 5 s interval (2 s: within 40% of it). */
const TOLERANCE_MS = POLL_TOLERANCE.ms;
/** A tolerance of 1 s (at most 40% of the interval), and the RFC's step of 5 s. */
const TOLERANCE = { step: 5 };
/** The redelivery grace the poller gives a delivered token. */
const GRACE = 60 * SECOND;

/** A flow with fresh random secrets, created at `now`, living `ttlMs`. */
function newFlow(now: Date, overrides: Partial<NewFlow> = {}): NewFlow & { deviceCode: string } {
  const deviceCode = newDeviceCode();
  return {
    deviceCode,
    flowId: newToken(12),
    deviceCodeHash: hashSecret(deviceCode),
    userCodeHash: hashSecret(newUserCode()),
    publicKey: randomBytes(32),
    clientIp: '203.0.113.7',
    userAgent: 'postiz-cli/2.1.0 node/20',
    intervalSeconds: INTERVAL,
    createdAt: now,
    expiresAt: new Date(now.getTime() + 900 * SECOND),
    holder: '203.0.113.7',
    ...overrides,
  };
}

const at = (base: Date, ms: number): Date => new Date(base.getTime() + ms);

/** Run `count` calls of `fn` at once and return their results. */
function all<T>(count: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => fn(i)));
}

/** The store contract, for any database. */
function storeContract(label: string, open: () => Promise<Harness>, skip: string | false = false): void {
  describe(`store contract: ${label}`, { skip }, () => {
    let h: Harness;
    let store: Store;
    let now: Date;

    before(async () => {
      h = await open();
      store = h.store;
    });
    after(async () => {
      await h?.close();
    });
    beforeEach(async () => {
      await resetStore(store);
      // Whole seconds, well in the past of any real clock: the store must only use the times it is given.
      now = new Date(Math.floor(Date.now() / SECOND) * SECOND - 3_600_000);
    });

    /** Create a flow and fail the test unless it was stored. */
    async function created(overrides: Partial<NewFlow> = {}) {
      const flow = newFlow(now, overrides);
      assert.equal(await insertFlow(store, flow), true);
      return flow;
    }

    /** Create, confirm and approve a flow; returns it and its sealed token. */
    async function approved() {
      const flow = await created();
      const sealed = randomBytes(120);
      assert.ok(await store.approve(flow.flowId, sealed, now));
      return { flow, sealed };
    }

    function assertSameFlow(found: Flow | undefined, flow: NewFlow): asserts found is Flow {
      assert.ok(found, 'flow found');
      assert.equal(found.flowId, flow.flowId);
      assert.deepEqual(found.deviceCodeHash, flow.deviceCodeHash);
      assert.deepEqual(found.publicKey, flow.publicKey);
      assert.equal(found.clientIp, flow.clientIp);
      assert.equal(found.userAgent, flow.userAgent);
      assert.equal(found.intervalSeconds, flow.intervalSeconds);
      assert.equal(found.createdAt.getTime(), flow.createdAt.getTime());
      assert.equal(found.expiresAt.getTime(), flow.expiresAt.getTime());
    }

    test('kind names the database', () => {
      assert.equal(store.kind, label);
    });

    test('ping answers', async () => {
      await store.ping();
    });

    test('migrate on a migrated database applies nothing', async () => {
      assert.deepEqual(await store.migrate(), []);
      assert.deepEqual(await store.migrate(), []);
      await created(); // and the schema still works
    });

    describe('creating a flow, and findBy*', () => {
      test('a new flow is pending, found by device code, user code and flow id', async () => {
        const flow = await created();
        for (const found of [
          await store.findByDeviceCode(flow.deviceCodeHash),
          await store.findByUserCode(flow.userCodeHash),
          await store.findByFlowId(flow.flowId),
        ]) {
          assertSameFlow(found, flow);
          assert.equal(found.status, 'pending');
          assert.equal(found.lastPollAt, null);
          assert.equal(found.browserHash, null);
          assert.equal(found.awaitingCallback, false);
          assert.ok(Buffer.isBuffer(found.deviceCodeHash) && Buffer.isBuffer(found.publicKey));
        }
      });

      test('null client address and user agent are kept as null', async () => {
        const flow = await created({ clientIp: null, userAgent: null });
        const found = await store.findByFlowId(flow.flowId);
        assert.equal(found?.clientIp, null);
        assert.equal(found?.userAgent, null);
      });

      test('a user code colliding with a live flow returns false and stores nothing', async () => {
        const first = await created();
        const clash = newFlow(now, { userCodeHash: first.userCodeHash });
        assert.equal(await insertFlow(store, clash), false);
        assert.equal(await store.findByFlowId(clash.flowId), undefined);
        assert.equal(await store.findByDeviceCode(clash.deviceCodeHash), undefined);
        assert.equal((await store.findByUserCode(first.userCodeHash))?.flowId, first.flowId);
      });

      test('unknown hashes and ids find nothing', async () => {
        await created();
        assert.equal(await store.findByDeviceCode(hashSecret('nope')), undefined);
        assert.equal(await store.findByUserCode(hashSecret('nope')), undefined);
        assert.equal(await store.findByState(hashSecret('nope')), undefined);
        assert.equal(await store.findByFlowId('nope'), undefined);
      });
    });

    describe('createFlowWithin (rate-limited start)', () => {
      const rule = (max: number) => ({ key: 'flow-start:203.0.113.7', windowMs: 60 * SECOND, max });

      test('creates flows while the count is within the limit, and counts each', async () => {
        const first = newFlow(now);
        assert.deepEqual(await store.createFlowWithin(first, rule(2)), {
          created: true,
          count: { hits: 1, windowStart: now, resetAt: at(now, 60 * SECOND) },
        });
        const second = newFlow(now);
        assert.equal((await store.createFlowWithin(second, rule(2))).created, true);
        assert.equal((await store.findByFlowId(second.flowId))?.status, 'pending');
      });

      test('over the limit: counted, but nothing is stored', async () => {
        await store.createFlowWithin(newFlow(now), rule(1));
        const refused = newFlow(now);
        const result = await store.createFlowWithin(refused, rule(1));
        assert.equal(result.created, false);
        assert.equal(result.count.hits, 2);
        assert.equal(await store.findByFlowId(refused.flowId), undefined);
      });

      test('a user-code collision is not created', async () => {
        const first = await created();
        const clash = newFlow(now, { userCodeHash: first.userCodeHash });
        assert.equal((await store.createFlowWithin(clash, rule(10))).created, false);
        assert.equal(await store.findByFlowId(clash.flowId), undefined);
      });

      // Starts arriving together go to the database in batches: each must still be counted
      // once, in its own place, and exactly `max` of them stored.
      test('race: 40 starts at once from one address, limit 25: exactly 25 stored, counts 1…40', async () => {
        const flows = Array.from({ length: 40 }, () => newFlow(now));
        const results = await all(40, (i) => store.createFlowWithin(flows[i]!, rule(25)));
        assert.deepEqual(
          results.map((r) => r.count.hits).sort((a, b) => a - b),
          Array.from({ length: 40 }, (_, i) => i + 1),
        );
        for (const [i, r] of results.entries()) {
          assert.equal(r.created, r.count.hits <= 25, `start ${i}: ${r.count.hits} hits`);
          assert.equal((await store.findByFlowId(flows[i]!.flowId)) !== undefined, r.created);
        }
      });

      test('race: starts at once from many addresses and a collision among them', async () => {
        const flows = Array.from({ length: 30 }, (_, i) => newFlow(now, { clientIp: `198.51.100.${i % 3}` }));
        const clash = newFlow(now, { userCodeHash: flows[0]!.userCodeHash, clientIp: '198.51.100.0' });
        const keyed = (ip: string | null) => ({ ...rule(100), key: `flow-start:${ip}` });
        const results = await Promise.all(
          [...flows, clash].map((flow) => store.createFlowWithin(flow, keyed(flow.clientIp))),
        );
        // Each address counted its own ten (and the clash counts against the first address).
        const byAddress = new Map<string, number[]>();
        [...flows, clash].forEach((flow, i) => {
          const hits = byAddress.get(flow.clientIp!) ?? [];
          byAddress.set(flow.clientIp!, [...hits, results[i]!.count.hits]);
        });
        assert.deepEqual(
          [...byAddress.values()].map((hits) => hits.sort((a, b) => a - b).join(',')),
          ['1,2,3,4,5,6,7,8,9,10,11', '1,2,3,4,5,6,7,8,9,10', '1,2,3,4,5,6,7,8,9,10'],
        );
        // The flows with the shared user code: one of the two is stored, never both.
        assert.equal(results.filter((r) => r.created).length, 30);
      });

      test('a window that has run out starts again at the batch', async () => {
        await store.createFlowWithin(newFlow(now), rule(2));
        await store.createFlowWithin(newFlow(now), rule(2));
        const later = at(now, 61 * SECOND);
        const results = await all(3, () => store.createFlowWithin(newFlow(later), rule(2)));
        assert.deepEqual(results.map((r) => r.count.hits).sort(), [1, 2, 3]);
        assert.deepEqual(
          results.map((r) => r.count.resetAt.getTime()),
          [0, 1, 2].map(() => later.getTime() + 60 * SECOND),
        );
        assert.equal(results.filter((r) => r.created).length, 2);
      });
    });

    describe('staleFlows and raiseInterval', () => {
      test('staleFlows answers only the cached flows that changed: gone, no longer pending, or a longer interval', async () => {
        const pending = await created();
        const { flow: approvedFlow } = await approved();
        const slowed = await created();
        await store.raiseInterval(slowed.deviceCodeHash, INTERVAL + 5, at(now, SECOND));
        const gone = hashSecret('gone').toString('hex');
        const key = (f: { deviceCodeHash: Buffer }) => f.deviceCodeHash.toString('hex');
        const stale = await store.staleFlows([
          { key: key(pending), intervalSeconds: INTERVAL },
          { key: key(approvedFlow), intervalSeconds: INTERVAL },
          { key: key(slowed), intervalSeconds: INTERVAL },
          { key: gone, intervalSeconds: INTERVAL },
        ]);
        assert.deepEqual(
          new Map([...stale].sort(([a], [b]) => a.localeCompare(b))),
          new Map(
            [
              [key(approvedFlow), { status: 'approved', intervalSeconds: INTERVAL }],
              [key(slowed), { status: 'pending', intervalSeconds: INTERVAL + 5 }],
              [gone, undefined],
            ].sort(([a], [b]) => String(a).localeCompare(String(b))) as [string, unknown][],
          ),
        );
        // A cache that already knows the longer interval is up to date for that flow.
        const known = await store.staleFlows([{ key: key(slowed), intervalSeconds: INTERVAL + 5 }]);
        assert.equal(known.size, 0);
        assert.equal((await store.staleFlows([])).size, 0);
      });

      test('raiseInterval only ever raises the interval, and records the poll', async () => {
        const flow = await created();
        await store.raiseInterval(flow.deviceCodeHash, INTERVAL + 5, at(now, SECOND));
        let found = await store.findByFlowId(flow.flowId);
        assert.equal(found?.intervalSeconds, INTERVAL + 5);
        assert.equal(found?.lastPollAt?.getTime(), at(now, SECOND).getTime());
        await store.raiseInterval(flow.deviceCodeHash, INTERVAL, at(now, 2 * SECOND));
        found = await store.findByFlowId(flow.flowId);
        assert.equal(found?.intervalSeconds, INTERVAL + 5);
      });
    });

    describe('confirm and claimState', () => {
      test('confirm records the browser and the outstanding state', async () => {
        const flow = await created();
        const state = hashSecret('state-1');
        const browser = hashSecret('browser-1');
        assert.equal(await store.confirm(flow.flowId, state, browser, now), true);
        const found = await store.findByState(state);
        assertSameFlow(found, flow);
        assert.equal(found.awaitingCallback, true);
        assert.deepEqual(found.browserHash, browser);
        assert.equal(found.status, 'pending');
      });

      test('confirming again replaces the state', async () => {
        const flow = await created();
        assert.equal(await store.confirm(flow.flowId, hashSecret('s1'), hashSecret('b1'), now), true);
        assert.equal(await store.confirm(flow.flowId, hashSecret('s2'), hashSecret('b2'), now), true);
        assert.equal(await store.findByState(hashSecret('s1')), undefined);
        assert.deepEqual((await store.findByState(hashSecret('s2')))?.browserHash, hashSecret('b2'));
      });

      test('confirm refuses a flow that is not pending, expired, or unknown', async () => {
        const { flow } = await approved();
        assert.equal(await store.confirm(flow.flowId, hashSecret('s'), hashSecret('b'), now), false);
        const denied = await created();
        await store.deny(denied.flowId, 'denied', testEnd(now));
        assert.equal(await store.confirm(denied.flowId, hashSecret('s'), hashSecret('b'), now), false);
        const live = await created();
        assert.equal(
          await store.confirm(live.flowId, hashSecret('s'), hashSecret('b'), live.expiresAt),
          false,
          'expired at expiresAt',
        );
        assert.equal(await store.confirm('nope', hashSecret('s'), hashSecret('b'), now), false);
      });

      test('claimState takes the state only once; the claimed state is found, marked claimed, until the flow ends', async () => {
        const flow = await created();
        const state = hashSecret('state');
        await store.confirm(flow.flowId, state, hashSecret('browser'), now);
        assert.equal((await store.findByState(state))?.stateClaimed, false);
        const claimed = await store.claimState(state, now);
        assertSameFlow(claimed, flow);
        assert.equal(claimed.awaitingCallback, false);
        assert.equal(claimed.stateClaimed, true);
        assert.equal(await store.claimState(state, now), undefined);
        const found = await store.findByState(state);
        assertSameFlow(found, flow);
        assert.equal(found.stateClaimed, true);
        assert.equal(found.awaitingCallback, false);
        assert.equal(
          (await store.findByFlowId(flow.flowId))?.status,
          'pending',
          'still pending after the claim',
        );
        await store.approve(flow.flowId, Buffer.from('sealed'), now);
        assert.equal(await store.findByState(state), undefined, 'gone once the flow is approved');
      });

      test('claimState refuses an expired flow and an unknown state', async () => {
        const flow = await created();
        const state = hashSecret('state');
        await store.confirm(flow.flowId, state, hashSecret('browser'), now);
        assert.equal(await store.claimState(state, flow.expiresAt), undefined);
        assert.equal(await store.claimState(hashSecret('other'), now), undefined);
      });

      test('approve and deny clear an outstanding state', async () => {
        const a = await created();
        await store.confirm(a.flowId, hashSecret('sa'), hashSecret('b'), now);
        await store.approve(a.flowId, randomBytes(64), now);
        assert.equal(await store.claimState(hashSecret('sa'), now), undefined);
        const d = await created();
        await store.confirm(d.flowId, hashSecret('sd'), hashSecret('b'), now);
        await store.deny(d.flowId, 'cancelled', testEnd(now));
        assert.equal(await store.claimState(hashSecret('sd'), now), undefined);
      });
    });

    describe('approve and deny', () => {
      test('approve moves a pending flow to approved, once', async () => {
        const flow = await created();
        const result = await store.approve(flow.flowId, randomBytes(64), now);
        assertSameFlow(result, flow);
        assert.equal(result.status, 'approved');
        assert.equal(await store.approve(flow.flowId, randomBytes(64), now), undefined);
        assert.equal(await store.deny(flow.flowId, 'denied', testEnd(now)), undefined);
        assert.equal((await store.findByFlowId(flow.flowId))?.status, 'approved');
      });

      for (const status of ['denied', 'cancelled'] as const) {
        test(`deny(${status}) ends a pending flow without a token, once`, async () => {
          const flow = await created();
          const result = await store.deny(flow.flowId, status, testEnd(now));
          assert.equal(result?.status, status);
          assert.equal(await store.approve(flow.flowId, randomBytes(64), now), undefined);
          assert.equal(await store.deny(flow.flowId, 'denied', testEnd(now)), undefined);
          assert.equal((await store.findByFlowId(flow.flowId))?.status, status);
          assert.equal(await store.claimToken(flow.deviceCodeHash, now, GRACE), undefined);
        });
      }

      test('approve and deny of an unknown flow change nothing', async () => {
        assert.equal(await store.approve('nope', randomBytes(8), now), undefined);
        assert.equal(await store.deny('nope', 'denied', testEnd(now)), undefined);
      });
    });

    describe('recordPoll', () => {
      test('unknown device code: undefined', async () => {
        assert.equal(await store.recordPoll(hashSecret('nope'), now, TOLERANCE), undefined);
      });

      test('the first poll is never too soon, and is recorded', async () => {
        const flow = await created();
        const poll = await store.recordPoll(flow.deviceCodeHash, now, TOLERANCE);
        assert.equal(poll?.slowDown, false);
        assert.equal(poll?.flow.intervalSeconds, INTERVAL);
        assert.equal(poll?.flow.lastPollAt?.getTime(), now.getTime());
        assert.equal((await store.findByFlowId(flow.flowId))?.lastPollAt?.getTime(), now.getTime());
      });

      test('a poll too soon gets slow_down and the interval grows by 5', async () => {
        const flow = await created();
        await store.recordPoll(flow.deviceCodeHash, now, TOLERANCE);
        const soon = await store.recordPoll(flow.deviceCodeHash, at(now, 1 * SECOND), TOLERANCE);
        assert.equal(soon?.slowDown, true);
        assert.equal(soon?.flow.intervalSeconds, INTERVAL + 5);
        assert.equal((await store.findByFlowId(flow.flowId))?.intervalSeconds, INTERVAL + 5);
        // Measured from the too-soon poll, with the new interval (10 s): 7.9 s later is still too soon…
        const again = await store.recordPoll(flow.deviceCodeHash, at(now, 8900), TOLERANCE);
        assert.equal(again?.slowDown, true);
        assert.equal(again?.flow.intervalSeconds, INTERVAL + 10);
        // …and a poll after the (grown) interval is fine and keeps it.
        const later = await store.recordPoll(flow.deviceCodeHash, at(now, 30 * SECOND), TOLERANCE);
        assert.equal(later?.slowDown, false);
        assert.equal(later?.flow.intervalSeconds, INTERVAL + 10);
      });

      test('a poll after the interval (less the tolerance) is not too soon', async () => {
        const flow = await created();
        await store.recordPoll(flow.deviceCodeHash, now, TOLERANCE);
        const onTime = await store.recordPoll(flow.deviceCodeHash, at(now, INTERVAL * SECOND), TOLERANCE);
        assert.equal(onTime?.slowDown, false);
        const edge = await store.recordPoll(
          flow.deviceCodeHash,
          at(now, 2 * INTERVAL * SECOND - TOLERANCE_MS),
          TOLERANCE,
        );
        assert.equal(edge?.slowDown, false, 'exactly interval − tolerance is allowed');
        const early = await store.recordPoll(
          flow.deviceCodeHash,
          at(now, 3 * INTERVAL * SECOND - 2 * TOLERANCE_MS - 1),
          TOLERANCE,
        );
        assert.equal(early?.slowDown, true, 'one millisecond earlier is too soon');
        assert.equal(early?.flow.intervalSeconds, INTERVAL + 5);
      });

      test('the tolerance is at most its share of the interval', async () => {
        const short = TOLERANCE;
        // A 1 s interval: 40% of it, 0.4 s, is the tolerance, not 2 s.
        const fast = await created({ intervalSeconds: 1 });
        await store.recordPoll(fast.deviceCodeHash, now, short);
        assert.equal((await store.recordPoll(fast.deviceCodeHash, at(now, 599), short))?.slowDown, true);
        const paced = await created({ intervalSeconds: 1 });
        await store.recordPoll(paced.deviceCodeHash, now, short);
        assert.equal((await store.recordPoll(paced.deviceCodeHash, at(now, 600), short))?.slowDown, false);
        // A 5 s interval: 2 s. 3 s after is allowed; 2.9 s after (at 5.9 s, a poll after that one), too soon.
        const other = await created();
        await store.recordPoll(other.deviceCodeHash, now, short);
        assert.equal((await store.recordPoll(other.deviceCodeHash, at(now, 3000), short))?.slowDown, false);
        assert.equal((await store.recordPoll(other.deviceCodeHash, at(now, 5900), short))?.slowDown, true);
      });

      test('only pending, live flows are slowed down', async () => {
        const { flow } = await approved();
        await store.recordPoll(flow.deviceCodeHash, now, TOLERANCE);
        const fast = await store.recordPoll(flow.deviceCodeHash, at(now, 10), TOLERANCE);
        assert.equal(fast?.slowDown, false);
        assert.equal(fast?.flow.status, 'approved');

        const old = await created();
        await store.recordPoll(old.deviceCodeHash, old.expiresAt, TOLERANCE);
        const expired = await store.recordPoll(old.deviceCodeHash, at(old.expiresAt, 10), TOLERANCE);
        assert.equal(expired?.slowDown, false);
        assert.equal(expired?.flow.intervalSeconds, INTERVAL);
      });

      test('a paced poll that comes too soon is recorded at the time it is due, and the interval stays', async () => {
        const flow = await created();
        const paced = { ...TOLERANCE, pace: true };
        assert.equal((await store.recordPoll(flow.deviceCodeHash, now, paced))?.dueAt, undefined);
        const early = await store.recordPoll(flow.deviceCodeHash, at(now, 1 * SECOND), paced);
        assert.equal(early?.slowDown, false);
        // Due at the interval less the tolerance (2 s): 3 s after the first poll.
        assert.equal(early?.dueAt?.getTime(), at(now, 3 * SECOND).getTime());
        assert.equal(early?.flow.intervalSeconds, INTERVAL, 'the interval stays');
        assert.equal(early?.flow.lastPollAt?.getTime(), at(now, 3 * SECOND).getTime(), 'recorded when due');
        // The next poll is measured from when the early one was due.
        const next = await store.recordPoll(flow.deviceCodeHash, at(now, 5 * SECOND), paced);
        assert.equal(next?.dueAt?.getTime(), at(now, 6 * SECOND).getTime(), 'due at 3 s + 5 s - 2 s');
        assert.equal(
          (await store.recordPoll(flow.deviceCodeHash, at(now, 12 * SECOND), paced))?.dueAt,
          undefined,
        );
      });

      test('concurrent polls are serialized: exactly one of a burst is not too soon', async () => {
        const flow = await created();
        const results = await all(10, () => store.recordPoll(flow.deviceCodeHash, now, TOLERANCE));
        assert.equal(results.filter((r) => r && !r.slowDown).length, 1);
        assert.equal((await store.findByFlowId(flow.flowId))?.intervalSeconds, INTERVAL + 9 * 5);
      });
    });

    describe('claimToken', () => {
      const claim = (hash: Buffer, when = now, st: Store = store) => st.claimToken(hash, when, GRACE);

      test('delivers an approved flow’s sealed token once; the same device code claims it again within the grace, not after', async () => {
        const { flow, sealed } = await approved();
        assert.deepEqual(await claim(flow.deviceCodeHash), { sealed, first: true });
        assert.equal((await store.findByDeviceCode(flow.deviceCodeHash))?.status, 'delivered');
        assert.deepEqual(await claim(flow.deviceCodeHash, at(now, GRACE - 1)), { sealed, first: false });
        assert.equal(
          await claim(flow.deviceCodeHash, at(now, GRACE)),
          undefined,
          'the grace runs from the first delivery',
        );
        assert.equal(await store.giveBack(flow.deviceCodeHash), true);
        assert.deepEqual(
          await claim(flow.deviceCodeHash, at(now, GRACE)),
          { sealed, first: true },
          'given back',
        );
      });

      test('purge deletes a delivered flow once its grace has passed, and keeps one within it; an unconfirmed delivery is recorded as such', async () => {
        const { flow } = await approved();
        const confirmed = await approved();
        const recent = await approved();
        await claim(flow.deviceCodeHash);
        await claim(confirmed.flow.deviceCodeHash);
        assert.equal(await store.confirmDelivery(confirmed.flow.deviceCodeHash, testEnd(now)), true);
        await claim(recent.flow.deviceCodeHash, at(now, 10 * SECOND));
        const purged = await store.purge(
          at(now, -3600 * SECOND),
          at(now, 5 * SECOND),
          testEnd(at(now, GRACE)),
        );
        assert.deepEqual(purged, [{ flowId: flow.flowId, outcome: 'delivered', reason: 'unconfirmed' }]);
        assert.equal(await store.findByFlowId(flow.flowId), undefined);
        assert.equal(await store.findByFlowId(confirmed.flow.flowId), undefined);
        assert.equal((await store.findByFlowId(recent.flow.flowId))?.status, 'delivered');
        const events = await store.loginEvents({ limit: 10 });
        assert.deepEqual(
          events.map((e) => [e.flowId, e.outcome, e.reason]).sort(),
          [
            [confirmed.flow.flowId, 'delivered', null],
            [flow.flowId, 'delivered', 'unconfirmed'],
          ].sort(),
        );
      });

      test('giveBack makes a claimed token claimable again; it touches nothing else', async () => {
        const { flow, sealed } = await approved();
        assert.deepEqual(await claim(flow.deviceCodeHash), { sealed, first: true });
        assert.equal(await store.giveBack(flow.deviceCodeHash), true);
        assert.equal(await store.giveBack(flow.deviceCodeHash), false, 'only a delivered flow goes back');
        assert.deepEqual(
          await claim(flow.deviceCodeHash),
          { sealed, first: true },
          'the next claim delivers it',
        );
        const pending = await created();
        assert.equal(await store.giveBack(pending.deviceCodeHash), false);
        assert.equal((await store.findByFlowId(pending.flowId))?.status, 'pending');
      });

      test("a second poll's answer written while the first poll's was lost: the login is recorded delivered, in either order", async () => {
        for (const order of ['given back last', 'given back first'] as const) {
          const { flow, sealed } = await approved();
          assert.deepEqual(await claim(flow.deviceCodeHash), { sealed, first: true }, 'poll A');
          assert.deepEqual(await claim(flow.deviceCodeHash), { sealed, first: false }, 'poll B');
          if (order === 'given back last') {
            assert.equal(await store.confirmDelivery(flow.deviceCodeHash, testEnd(now)), true, order);
            assert.equal(
              await store.giveBack(flow.deviceCodeHash),
              false,
              `${order}: B's written answer stands`,
            );
          } else {
            await store.giveBack(flow.deviceCodeHash);
            assert.equal(await store.confirmDelivery(flow.deviceCodeHash, testEnd(now)), true, order);
          }
          assert.equal((await store.findByFlowId(flow.flowId))?.status, 'delivered', order);
          await store.purge(at(now, -3600 * SECOND), at(now, GRACE), testEnd(at(now, GRACE + 1)));
          const [event] = (await store.loginEvents({ limit: 100 })).filter((e) => e.flowId === flow.flowId);
          assert.deepEqual([event?.outcome, event?.reason], ['delivered', null], order);
        }
      });

      test('a flow whose token was given back is announced to every subscriber as approved again', async () => {
        const { flow } = await approved();
        const heard: string[] = [];
        const unsubscribe = await store.subscribe({
          onEvent: (event) => {
            if (event.key === flow.deviceCodeHash.toString('hex')) heard.push(event.status);
          },
          onLost: () => {},
          onRestored: () => {},
          onError: () => {},
        });
        try {
          await claim(flow.deviceCodeHash);
          await store.giveBack(flow.deviceCodeHash);
          for (let i = 0; i < 50 && heard.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
          assert.deepEqual(heard, ['delivered', 'approved']);
        } finally {
          await unsubscribe();
        }
      });

      test('gives nothing for pending, denied or unknown flows, and leaves them', async () => {
        const pending = await created();
        assert.equal(await claim(pending.deviceCodeHash), undefined);
        assert.equal((await store.findByFlowId(pending.flowId))?.status, 'pending');
        const denied = await created();
        await store.deny(denied.flowId, 'denied', testEnd(now));
        assert.equal(await claim(denied.deviceCodeHash), undefined);
        assert.equal((await store.findByFlowId(denied.flowId))?.status, 'denied');
        assert.equal(await claim(hashSecret('nope')), undefined);
      });

      test('race: 20 concurrent claims of one approved flow, exactly one delivers it first, every one gets it', async () => {
        for (let round = 0; round < 5; round++) {
          const { flow, sealed } = await approved();
          const results = await all(20, () => claim(flow.deviceCodeHash));
          assert.equal(results.filter((r) => r?.first).length, 1, `round ${round}: one first delivery`);
          for (const r of results) assert.deepEqual(r?.sealed, sealed);
        }
      });

      test('race: concurrent claims from two store instances on one database, exactly one delivers first', async (t) => {
        const other = h.other;
        if (!other) {
          t.skip('one connection only');
          return;
        }
        for (let round = 0; round < 5; round++) {
          const { flow, sealed } = await approved();
          const stores: Store[] = [store, other];
          const results = await all(20, (i) => claim(flow.deviceCodeHash, now, stores[i % 2]!));
          assert.equal(results.filter((r) => r?.first).length, 1, `round ${round}: one first delivery`);
          for (const r of results) assert.deepEqual(r?.sealed, sealed);
        }
      });

      test('race: concurrent claimState of one state, exactly one gets the flow', async () => {
        for (let round = 0; round < 5; round++) {
          const flow = await created();
          const state = hashSecret(`state-${round}`);
          await store.confirm(flow.flowId, state, hashSecret('browser'), now);
          const stores = h.other ? [store, h.other] : [store];
          const results = await all(20, (i) => stores[i % stores.length]!.claimState(state, now));
          assert.equal(results.filter((r) => r !== undefined).length, 1, `round ${round}: one winner`);
        }
      });

      test('race: concurrent approve and deny of one flow, exactly one wins', async () => {
        const flow = await created();
        const results = await all(20, (i) =>
          i % 2
            ? store.approve(flow.flowId, randomBytes(32), now)
            : store.deny(flow.flowId, 'denied', testEnd(now)),
        );
        const winners = results.filter((r) => r !== undefined);
        assert.equal(winners.length, 1);
        assert.equal((await store.findByFlowId(flow.flowId))?.status, winners[0]!.status);
      });
    });

    describe('purge', () => {
      test('records, once, the end of flows that ran out of time (expired, failed, never collected), and keeps them an hour', async () => {
        const pending = await created({ expiresAt: at(now, -SECOND) });
        const uncollected = await created({ expiresAt: at(now, 60 * SECOND) });
        assert.ok(await store.approve(uncollected.flowId, randomBytes(8), now));
        const failed = await created({ expiresAt: at(now, -SECOND) });
        await store.recordFailure(failed.flowId, 'exchange_unavailable');
        const denied = await created({ expiresAt: at(now, -SECOND) });
        await store.deny(denied.flowId, 'denied', testEnd(at(now, -10 * SECOND)));
        const live = await created({ expiresAt: at(now, 120 * SECOND) });
        const later = at(now, 90 * SECOND);
        const purged = await store.purge(at(later, -3600 * SECOND), at(later, -GRACE), testEnd(later));
        assert.deepEqual(
          purged.map((p) => [p.flowId, p.outcome, p.reason]).sort(),
          [
            [pending.flowId, 'expired', null],
            [uncollected.flowId, 'expired', 'not_collected'],
            [failed.flowId, 'failed', 'exchange_unavailable'],
          ].sort(),
        );
        for (const kept of [pending, uncollected, failed, denied, live])
          assert.ok(await store.findByFlowId(kept.flowId), 'kept, to answer expired_token');
        assert.deepEqual(
          await store.purge(at(later, -3600 * SECOND), at(later, -GRACE), testEnd(at(later, SECOND))),
          [],
          'once',
        );
        const events = await store.loginEvents({ limit: 10 });
        assert.equal(events.length, 4, 'the three, and the denial');
        assert.ok(events.every((e) => e.instance === 'test'));
      });

      test('deletes flows that expired before the cut-off, whatever their status, and only those, recording the end of those that had none', async () => {
        const cutoff = at(now, 1000 * SECOND);
        const old = await created({ expiresAt: at(cutoff, -1) });
        const oldApproved = await created({ expiresAt: at(cutoff, -SECOND) });
        await store.approve(oldApproved.flowId, randomBytes(8), now);
        const oldDenied = await created({ expiresAt: at(cutoff, -SECOND) });
        await store.deny(oldDenied.flowId, 'cancelled', testEnd(now));
        const atCutoff = await created({ expiresAt: cutoff });
        const live = await created({ expiresAt: at(cutoff, 60 * SECOND) });
        const purged = await store.purge(cutoff, at(cutoff, -GRACE), testEnd(at(cutoff, -SECOND)));
        assert.deepEqual(
          purged.map((p) => [p.flowId, p.outcome, p.reason]).sort(),
          [
            [old.flowId, 'expired', null],
            [oldApproved.flowId, 'expired', 'not_collected'],
          ].sort(),
        );
        for (const gone of [old, oldApproved, oldDenied])
          assert.equal(await store.findByFlowId(gone.flowId), undefined);
        assert.ok(await store.findByFlowId(atCutoff.flowId), 'expiring exactly at the cut-off is kept');
        assert.ok(await store.findByFlowId(live.flowId));
        assert.deepEqual(await store.purge(cutoff, at(cutoff, -GRACE), testEnd(at(cutoff, -SECOND))), []);
      });

      test('deletes rate-limit windows older than a day, and keeps recent ones', async () => {
        const day = 24 * 3600 * SECOND;
        await store.hit('stale', now, 2 * day);
        const later = at(now, day + SECOND);
        await store.hit('recent', at(later, -SECOND), 2 * day);
        await store.purge(now, now, testEnd(later));
        assert.equal((await store.hit('stale', at(now, SECOND), 2 * day)).hits, 1, 'stale window gone');
        assert.equal((await store.hit('recent', later, 2 * day)).hits, 2, 'recent window kept');
      });
    });

    describe('hit, hitAll and forgive (fixed windows)', () => {
      const WINDOW = 60 * SECOND;
      const count = (hits: number, start: Date) => ({ hits, windowStart: start, resetAt: at(start, WINDOW) });

      test('hit counts within a window and restarts after it', async () => {
        assert.deepEqual(await store.hit('k', now, WINDOW), count(1, now));
        assert.deepEqual(await store.hit('k', at(now, 10 * SECOND), WINDOW), count(2, now));
        assert.equal((await store.hit('k', at(now, WINDOW - 1), WINDOW)).hits, 3);
        const next = at(now, WINDOW);
        assert.deepEqual(await store.hit('k', next, WINDOW), count(1, next));
      });

      test('keys are counted separately', async () => {
        await store.hit('a', now, WINDOW);
        await store.hit('a', now, WINDOW);
        assert.equal((await store.hit('b', now, WINDOW)).hits, 1);
        assert.equal((await store.hit('a', now, WINDOW)).hits, 3);
      });

      test('concurrent hits are all counted, each seeing its own count', async () => {
        const counts = await all(25, () => store.hit('busy', now, WINDOW));
        assert.deepEqual(
          counts.map((c) => c.hits).sort((x, y) => x - y),
          Array.from({ length: 25 }, (_, i) => i + 1),
        );
      });

      test('hitAll counts one hit on each key and answers in the order asked', async () => {
        await store.hit('z', now, WINDOW);
        const [z, a] = await store.hitAll(['z', 'a'], at(now, SECOND), WINDOW);
        assert.deepEqual(z, count(2, now));
        assert.deepEqual(a, count(1, at(now, SECOND)));
      });

      test('race: concurrent hitAll on shared keys in either order neither deadlocks nor loses a hit', async () => {
        const results = await all(40, (i) => store.hitAll(i % 2 ? ['p', 'q'] : ['q', 'p'], now, WINDOW));
        for (const key of ['p', 'q']) {
          const seen = results.map((r, i) => r[(i % 2 ? ['p', 'q'] : ['q', 'p']).indexOf(key)]!.hits);
          assert.deepEqual(
            seen.sort((x, y) => x - y),
            Array.from({ length: 40 }, (_, i) => i + 1),
            key,
          );
        }
      });

      test('forgive takes one hit back from the current window only, never below zero', async () => {
        const first = await store.hit('f', now, WINDOW);
        await store.hit('f', now, WINDOW);
        await store.forgive([{ key: 'f', windowStart: first.windowStart }]);
        assert.equal((await store.hit('f', now, WINDOW)).hits, 2, 'two hits, one forgiven, one more');
        const next = at(now, WINDOW);
        const restarted = await store.hit('f', next, WINDOW);
        await store.forgive([{ key: 'f', windowStart: first.windowStart }]);
        assert.equal((await store.hit('f', next, WINDOW)).hits, 2, 'an old window is not forgiven');
        await store.forgive([{ key: 'f', windowStart: restarted.windowStart }]);
        await store.forgive([{ key: 'f', windowStart: restarted.windowStart }]);
        await store.forgive([{ key: 'f', windowStart: restarted.windowStart }]);
        assert.equal((await store.hit('f', next, WINDOW)).hits, 1, 'never below zero');
        await store.forgive([]);
      });
    });

    describe('notificationsArrive', () => {
      test('a test notification comes back on the subscription, and is not taken for a flow change', async () => {
        const events: string[] = [];
        const unsubscribe = await store.subscribe({
          onEvent: (event) => events.push(event.key),
          onLost: () => {},
          onRestored: () => {},
          onError: () => {},
        });
        try {
          assert.equal(await store.notificationsArrive(5000), true);
          assert.deepEqual(events, []);
        } finally {
          await unsubscribe();
        }
      });

      test('without a subscription it never comes back', async () => {
        assert.equal(await store.notificationsArrive(300), false);
      });
    });

    describe('sightCodes', () => {
      test('the first sighting decides a code’s flow for good; later ones change nothing', async () => {
        const [a, b] = [hashSecret('code-a'), hashSecret('code-b')];
        const keep = at(now, 3600 * SECOND);
        assert.deepEqual(await store.sightCodes([a], 'flow-1', keep), [{ first: true, flowId: 'flow-1' }]);
        assert.deepEqual(await store.sightCodes([b, a], null, keep), [
          { first: true, flowId: null },
          { first: false, flowId: 'flow-1' },
        ]);
        assert.deepEqual(await store.sightCodes([b], 'flow-2', keep), [{ first: false, flowId: null }]);
        assert.deepEqual(await store.sightCodes([], null, keep), []);
      });

      test('race: the same code at 20 callbacks at once is first at exactly one, and bound to its flow', async () => {
        const code = hashSecret(`race-${now.getTime()}`);
        const keep = at(now, 3600 * SECOND);
        const results = await all(20, (i) => store.sightCodes([code], `flow-${i}`, keep));
        const firsts = results.filter(([r]) => r!.first);
        assert.equal(firsts.length, 1);
        for (const [r] of results)
          assert.equal(r!.flowId, firsts[0]![0]!.flowId, 'every caller sees the winner');
      });

      test('a sighting takes little room: under 130 bytes of table and index each (docs/security.md)', async () => {
        const db = (store as unknown as { db: Db }).db;
        await db.query('TRUNCATE code_sightings');
        const keep = at(now, 3600 * SECOND);
        for (let batch = 0; batch < 40; batch++) {
          const keys = Array.from({ length: 100 }, (_, i) => codeKey(`junk-${batch}-${i}`));
          await store.sightCodes(keys, null, keep);
        }
        const [row] = await db.query(
          `SELECT pg_total_relation_size('code_sightings')::bigint AS bytes, count(*)::int AS n FROM code_sightings`,
        );
        assert.equal(Number(row!.n), 4000);
        const perRow = Number(row!.bytes) / 4000;
        assert.ok(perRow < 130, `${perRow.toFixed(0)} bytes per sighting`);
      });

      test('purge forgets sightings past their time, and keeps the others', async () => {
        const [old, fresh] = [hashSecret('old'), hashSecret('fresh')];
        await store.sightCodes([old], null, at(now, 10 * SECOND));
        await store.sightCodes([fresh], null, at(now, 3600 * SECOND));
        await store.purge(now, now, testEnd(at(now, 60 * SECOND)));
        assert.deepEqual(await store.sightCodes([old, fresh], 'x', at(now, 3600 * SECOND)), [
          { first: true, flowId: 'x' },
          { first: false, flowId: null },
        ]);
      });
    });

    describe('recordBrowserLogin, browserLogin and purge', () => {
      test("keeps a browser's last login until it expires, forgets the one it replaces, and purge deletes it after", async () => {
        const [first, second, other] = [
          hashSecret('browser-1'),
          hashSecret('browser-1b'),
          hashSecret('browser-2'),
        ];
        const keep = at(now, 3600 * SECOND);
        await store.recordBrowserLogin(first, Buffer.from('one'), keep);
        await store.recordBrowserLogin(other, Buffer.from('other'), at(now, 10 * SECOND));
        // The browser's next login: a new key, and the old key's row gone in the same statement.
        await store.recordBrowserLogin(second, Buffer.from('two'), keep, first);
        assert.equal(await store.browserLogin(first, now), undefined, 'the replaced key names nothing');
        assert.deepEqual(await store.browserLogin(second, now), Buffer.from('two'));
        assert.deepEqual(
          await store.browserLogin(other, now),
          Buffer.from('other'),
          'other browsers untouched',
        );
        assert.equal(
          await store.browserLogin(other, at(now, 10 * SECOND)),
          undefined,
          'expired: no longer told',
        );
        assert.equal(await store.browserLogin(hashSecret('browser-3'), now), undefined);

        await store.purge(now, now, testEnd(at(now, 60 * SECOND)));
        assert.equal(await store.browserLogin(other, now), undefined, 'purged');
        assert.deepEqual(await store.browserLogin(second, now), Buffer.from('two'), 'kept');
      });
    });

    describe('makeRoom', () => {
      test('ends the oldest flow of the network holding the most, if it holds more than the spared number and 2 more than the newcomer', async () => {
        const hoarder = [];
        for (let i = 0; i < 3; i++)
          hoarder.push(await created({ holder: 'a', createdAt: at(now, i * SECOND) }));
        await created({ holder: 'b' });
        assert.deepEqual(
          await store.makeRoom('c', 3, testEnd(now)),
          { freeAt: hoarder[0]!.expiresAt },
          'a holds 3: spared',
        );
        const room = await store.makeRoom('c', 2, testEnd(now));
        assert.equal(room.displaced, hoarder[0]!.flowId, 'the oldest of the biggest holder');
        assert.equal((await store.findByFlowId(hoarder[0]!.flowId))?.expiresAt.getTime(), now.getTime());
        assert.equal(await store.countPending(now), 3);
        // Holder a now holds 2, b holds 1: a newcomer of b's takes nothing from a (2 < 1 + 2).
        assert.equal((await store.makeRoom('b', 0, testEnd(now))).displaced, undefined);
        assert.equal((await store.makeRoom('c', 0, testEnd(now))).displaced, hoarder[1]!.flowId);
        assert.equal((await store.makeRoom('c', 1, testEnd(now))).displaced, undefined, 'a holds 1: spared');
      });

      test('race: 10 newcomers at a full cap each end a different flow', async () => {
        for (let i = 0; i < 20; i++) await created({ holder: 'hoarder', createdAt: at(now, i * SECOND) });
        const rooms = await all(10, (i) => store.makeRoom(`new-${i}`, 0, testEnd(now)));
        const displaced = rooms.map((r) => r.displaced).filter((d) => d !== undefined);
        assert.equal(new Set(displaced).size, displaced.length, 'never the same flow twice');
        assert.equal(await store.countPending(now), 20 - displaced.length);
        assert.ok(displaced.length >= 1);
      });
    });

    describe('the audit trail and the webhook outbox', () => {
      const org = { key: hashSecret('org-key'), sealed: Buffer.from('sealed-org') };

      test('deny records the end once, with its outcome, reason and organisation', async () => {
        const cases = [
          ['denied', 'denied', null, undefined],
          ['cancelled', 'cancelled', null, undefined],
          ['refused', 'refused', 'no_subscription', 'no_subscription'],
          ['refused', 'refused', 'token_refused', 'token_refused'],
          ['blocked', 'blocked', 'cross_network', undefined],
        ] as const;
        for (const [status, outcome, reason, refusal] of cases) {
          const flow = await created();
          await store.confirm(flow.flowId, hashSecret(`s-${status}`), hashSecret('b'), now, {
            browserNetwork: 'different',
            codeSource: 'link',
          });
          assert.ok(await store.deny(flow.flowId, status, testEnd(now), org, refusal));
          assert.equal(await store.deny(flow.flowId, status, testEnd(now), org, refusal), undefined, 'once');
          const [event] = (await store.loginEvents({ limit: 50 })).filter((e) => e.flowId === flow.flowId);
          assert.deepEqual(
            { ...event, eventId: undefined },
            {
              eventId: undefined,
              flowId: flow.flowId,
              at: now,
              outcome,
              reason,
              orgKey: org.key,
              orgSealed: org.sealed,
              clientIp: flow.clientIp,
              userAgent: flow.userAgent,
              browserNetwork: 'different',
              codeSource: 'link',
              instance: 'test',
              startedAt: flow.createdAt,
            },
            status,
          );
          assert.match(event!.eventId, /^evt_[0-9a-f]{32}$/);
        }
        assert.equal((await store.loginEvents({ limit: 50 })).length, cases.length);
      });

      test('a delivered login is recorded once its answer is confirmed, with the organisation approve kept', async () => {
        const flow = await created();
        assert.ok(await store.approve(flow.flowId, randomBytes(32), now, org));
        await store.claimToken(flow.deviceCodeHash, now, GRACE);
        assert.equal(await store.confirmDelivery(flow.deviceCodeHash, testEnd(at(now, SECOND))), true);
        assert.equal(await store.confirmDelivery(flow.deviceCodeHash, testEnd(at(now, 2 * SECOND))), false);
        const [event] = await store.loginEvents({ limit: 5 });
        assert.equal(event?.outcome, 'delivered');
        assert.deepEqual(event?.at, at(now, SECOND));
        assert.deepEqual(event?.orgKey, org.key);
        const pending = await created();
        assert.equal(
          await store.confirmDelivery(pending.deviceCodeHash, testEnd(now)),
          false,
          'not delivered',
        );
      });

      test('makeRoom records the flow it ends as expired, displaced', async () => {
        for (let i = 0; i < 3; i++) await created({ holder: 'a', createdAt: at(now, i * SECOND) });
        const room = await store.makeRoom('b', 0, testEnd(now));
        assert.ok(room.displaced);
        const [event] = await store.loginEvents({ limit: 5 });
        assert.deepEqual(
          [event?.flowId, event?.outcome, event?.reason],
          [room.displaced, 'expired', 'displaced'],
        );
      });

      test('a retry keeps how the browser first reached the flow', async () => {
        const flow = await created();
        await store.confirm(flow.flowId, hashSecret('s1'), hashSecret('b'), now, {
          browserNetwork: 'same',
          codeSource: 'typed',
        });
        await store.confirm(flow.flowId, hashSecret('s2'), hashSecret('b'), now);
        await store.deny(flow.flowId, 'cancelled', testEnd(now));
        const [event] = await store.loginEvents({ limit: 5 });
        assert.deepEqual([event?.browserNetwork, event?.codeSource], ['same', 'typed']);
      });

      test('loginEvents reads newest first, by organisation, since a time, by outcome, up to a limit', async () => {
        const other = { key: hashSecret('other-org'), sealed: Buffer.from('x') };
        for (let i = 0; i < 4; i++) {
          const flow = await created();
          await store.deny(
            flow.flowId,
            i % 2 ? 'denied' : 'cancelled',
            testEnd(at(now, i * SECOND)),
            i < 3 ? org : other,
          );
        }
        const all = await store.loginEvents({ limit: 10 });
        assert.deepEqual(
          all.map((e) => e.at.getTime() - now.getTime()),
          [3000, 2000, 1000, 0],
        );
        assert.equal((await store.loginEvents({ orgKey: org.key, limit: 10 })).length, 3);
        assert.equal((await store.loginEvents({ since: at(now, 2 * SECOND), limit: 10 })).length, 2);
        assert.equal((await store.loginEvents({ outcome: 'denied', limit: 10 })).length, 2);
        assert.equal((await store.loginEvents({ limit: 1 })).length, 1);
      });

      test('an event anyone can cause without an account at the provider is kept a day at most; one of a token issued as long as asked', async () => {
        const long = (when: Date) => ({ ...testEnd(when), keepUntil: at(when, 90 * 86_400 * SECOND) });
        // Anyone: a flow left to expire, confirmed or not, cancelled, denied (an error callback).
        await created({ expiresAt: at(now, -SECOND) });
        const confirmed = await created({ expiresAt: at(now, -SECOND) });
        assert.ok(
          await store.confirm(confirmed.flowId, hashSecret('s'), hashSecret('b'), at(now, -2 * SECOND), {
            browserNetwork: 'same',
            codeSource: 'typed',
          }),
        );
        const cancelled = await created();
        await store.deny(cancelled.flowId, 'cancelled', long(now));
        const denied = await created();
        await store.deny(denied.flowId, 'denied', long(now));
        // A token issued: delivered, refused, approved but never collected.
        const delivered = await approved();
        await store.claimToken(delivered.flow.deviceCodeHash, now, GRACE);
        assert.ok(await store.confirmDelivery(delivered.flow.deviceCodeHash, long(now)));
        const refused = await created();
        await store.deny(refused.flowId, 'refused', long(now), undefined, 'no_subscription');
        const uncollected = await created({ expiresAt: at(now, 60 * SECOND) });
        assert.ok(await store.approve(uncollected.flowId, randomBytes(8), now));
        const later = at(now, 90 * SECOND);
        await store.purge(at(later, -3600 * SECOND), at(later, -GRACE), long(later));
        assert.equal((await store.loginEvents({ limit: 10 })).length, 7);
        const dayLater = at(later, 86_400 * SECOND + SECOND);
        await store.purge(at(dayLater, -3600 * SECOND), at(dayLater, -GRACE), long(dayLater));
        assert.deepEqual(
          (await store.loginEvents({ limit: 10 })).map((e) => e.flowId).sort(),
          [delivered.flow.flowId, refused.flowId, uncollected.flowId].sort(),
          'a flood of scripted flows leaves nothing after a day; real logins stay',
        );
      });

      test('events are kept until their time, then purged with their outbox rows', async () => {
        const flow = await created();
        await store.deny(flow.flowId, 'cancelled', {
          now,
          instance: 'test',
          keepUntil: at(now, 10 * SECOND),
          notify: true,
        });
        assert.equal((await store.countOutbox()).pending, 1);
        await store.purge(now, now, testEnd(at(now, 5 * SECOND)));
        assert.equal((await store.loginEvents({ limit: 5 })).length, 1, 'kept');
        await store.purge(now, now, testEnd(at(now, 11 * SECOND)));
        assert.equal((await store.loginEvents({ limit: 5 })).length, 0, 'purged');
        assert.equal((await store.countOutbox()).pending, 0, 'with its outbox row');
      });

      test('with webhooks, the end is queued in the outbox by the same statement; claims lease items until settled or the lease ends', async () => {
        const quiet = await created();
        await store.deny(quiet.flowId, 'cancelled', testEnd(now));
        assert.deepEqual(await store.countOutbox(), { pending: 0, failed: 0 }, 'no webhooks, no outbox');
        const flows = [];
        for (let i = 0; i < 3; i++) {
          const flow = await created();
          await store.deny(flow.flowId, 'denied', testEnd(at(now, i * SECOND), true));
          flows.push(flow);
        }
        assert.deepEqual(await store.countOutbox(), { pending: 3, failed: 0 });
        const first = await store.claimOutbox(at(now, 10 * SECOND), 30_000, 2);
        assert.deepEqual(
          first.map((item) => [item.event.flowId, item.attempts, item.deliveredTo]),
          [
            [flows[0]!.flowId, 1, []],
            [flows[1]!.flowId, 1, []],
          ],
          'the oldest first',
        );
        const second = await store.claimOutbox(at(now, 10 * SECOND), 30_000, 5);
        assert.deepEqual(
          second.map((item) => item.event.flowId),
          [flows[2]!.flowId],
          'leased items are not taken again',
        );
        await store.settleOutbox(
          first[0]!.event.eventId,
          { state: 'delivered', deliveredTo: ['https://a.example'] },
          now,
        );
        await store.settleOutbox(
          first[1]!.event.eventId,
          {
            state: 'pending',
            deliveredTo: ['https://a.example'],
            nextAttemptAt: at(now, 60 * SECOND),
            error: 'HTTP 503',
          },
          now,
        );
        assert.deepEqual(await store.countOutbox(), { pending: 2, failed: 0 });
        // The third's sender died: its lease ends, and another takes it, a second attempt.
        const retaken = await store.claimOutbox(at(now, 45 * SECOND), 30_000, 5);
        assert.deepEqual(
          retaken.map((item) => [item.event.flowId, item.attempts]),
          [[flows[2]!.flowId, 2]],
        );
        await store.settleOutbox(
          retaken[0]!.event.eventId,
          { state: 'delivered', deliveredTo: ['https://a.example'] },
          now,
        );
        const due = await store.claimOutbox(at(now, 80 * SECOND), 30_000, 5);
        assert.deepEqual(
          due.map((item) => [item.event.flowId, item.attempts, item.deliveredTo]),
          [[flows[1]!.flowId, 2, ['https://a.example']]],
          'retried when due, remembering who has it',
        );
        await store.settleOutbox(
          due[0]!.event.eventId,
          { state: 'failed', deliveredTo: [], error: 'gave up' },
          now,
        );
        assert.deepEqual(await store.countOutbox(), { pending: 0, failed: 1 });
      });

      test("the outbox's notification wakes outbox subscribers on every instance, never the flows' subscriber, on one LISTEN connection", async () => {
        const flowEvents: string[] = [];
        let queued = 0;
        const stopFlows = await store.subscribe({
          onEvent: (event) => flowEvents.push(`${event.key}:${event.status}`),
          onLost: () => {},
          onRestored: () => {},
          onError: () => {},
        });
        const listeners = (h.other ?? store) === store ? [store] : [store, h.other!];
        const heard = listeners.map(() => 0);
        const stops = await Promise.all(
          listeners.map((s, i) =>
            s.subscribeOutbox({
              onQueued: () => {
                heard[i]! += 1;
                if (s === store) queued += 1;
              },
              onRestored: () => {},
              onError: () => {},
            }),
          ),
        );
        try {
          const flow = await created();
          await store.deny(flow.flowId, 'denied', testEnd(now, true));
          await waitFor(() => heard.every((n) => n === 1) && flowEvents.length === 1, {
            timeoutMs: 5000,
            intervalMs: 10,
          });
          assert.deepEqual(flowEvents, [`${flow.deviceCodeHash.toString('hex')}:denied`], 'only the flow');
          const quiet = await created();
          await store.deny(quiet.flowId, 'cancelled', testEnd(now));
          await waitFor(() => flowEvents.length === 2, { timeoutMs: 5000, intervalMs: 10 });
          assert.equal(await store.notificationsArrive(5000), true, 'probes still come back');
          assert.equal(queued, 1, 'no webhooks, no notification of the outbox');
          if (store.kind === 'postgres') {
            // Connections closed by earlier tests may take a moment to leave pg_stat_activity.
            const { db } = store as unknown as { db: Db };
            const listening = async () =>
              Number(
                (
                  await db.query(
                    `SELECT count(*)::int AS n FROM pg_stat_activity
                     WHERE datname = current_database() AND query ILIKE 'LISTEN%'`,
                  )
                )[0]?.n,
              );
            await waitFor(async () => (await listening()) === listeners.length, { timeoutMs: 5000 }).catch(
              () => {},
            );
            assert.equal(await listening(), listeners.length, 'one LISTEN connection per store');
          }
        } finally {
          await stopFlows();
          await Promise.all(stops.map((stop) => stop()));
        }
        assert.equal(await store.notificationsArrive(300), false, 'the connection closed with the last');
      });

      test('race: two store instances claiming the outbox at once never take the same item', async (t) => {
        const other = h.other;
        if (!other) {
          t.skip('one connection only');
          return;
        }
        for (let i = 0; i < 40; i++) {
          const flow = await created();
          await store.deny(flow.flowId, 'denied', testEnd(now, true));
        }
        const claims = await all(10, (i) => (i % 2 ? other : store).claimOutbox(at(now, SECOND), 30_000, 5));
        const taken = claims.flat().map((item) => item.event.eventId);
        assert.equal(new Set(taken).size, taken.length, 'never twice');
        assert.equal(taken.length, 40, 'all taken');
      });
    });

    describe('countPending', () => {
      test('counts live pending flows only', async () => {
        assert.equal(await store.countPending(now), 0);
        await created();
        await created();
        const confirmed = await created();
        await store.confirm(confirmed.flowId, hashSecret('s'), hashSecret('b'), now);
        await approved();
        const denied = await created();
        await store.deny(denied.flowId, 'denied', testEnd(now));
        await created({ expiresAt: at(now, -SECOND) });
        assert.equal(await store.countPending(now), 3);
        assert.equal(await store.countPending(at(now, 900 * SECOND)), 0, 'none once all expired');
      });
    });
  });
}

storeContract('pglite', async () => ({ store: await sharedPglite(), close: async () => {} }));

storeContract(
  'postgres',
  async () => {
    const url = await cluster!.createDatabase();
    const store = await postgresStore(url);
    const other = await postgresStore(url);
    return {
      store,
      other,
      freshDatabase: () => cluster!.createDatabase(),
      async close() {
        await Promise.all([store.close(), other.close()]);
      },
    };
  },
  cluster ? false : 'no PostgreSQL available',
);

describe('migrations on PostgreSQL', { skip: cluster ? false : 'no PostgreSQL available' }, () => {
  test('three stores migrating one fresh database at once all succeed, each migration applied once', async () => {
    const url = await cluster!.createDatabase();
    const stores = Array.from(
      { length: 3 },
      () => new SqlStore(postgresDb({ connectionString: url, max: 2 })),
    );
    try {
      const applied = await Promise.all(stores.map((s) => s.migrate()));
      const versions = loadMigrations().map((m) => m.version);
      assert.ok(versions.length > 0);
      assert.deepEqual(
        applied.flat().sort((a, b) => a - b),
        versions,
      );
      for (const s of stores) assert.deepEqual(await s.migrate(), []);
      const flow = newFlow(new Date());
      assert.equal(await insertFlow(stores[0]!, flow), true);
      assert.equal((await stores[2]!.findByFlowId(flow.flowId))?.status, 'pending');
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  test('a fresh database gets every migration, then none', async () => {
    const url = await cluster!.createDatabase();
    const store = new SqlStore(postgresDb({ connectionString: url, max: 2 }));
    try {
      assert.deepEqual(
        await store.migrate(),
        loadMigrations().map((m) => m.version),
      );
      assert.deepEqual(await store.migrate(), []);
    } finally {
      await store.close();
    }
  });
});
