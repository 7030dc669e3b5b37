/**
 * Thousands of waiting CLIs, as a large deployment sees them (docs/clients.md, "Every answer the
 * CLI can get"; docs/deploy.md). A herd of held polls released together and polling again at
 * once gets no answer the postiz CLI treats as the end, and the held polls end spread out; a
 * rolling restart of three instances (SIGTERM, start again, one after another) loses no
 * login: every flow approved meanwhile is delivered exactly once. At CI's size (1,000 waiting
 * CLIs); `npm run soak` runs both with 10,000 and prints the figures (harness/waiting-clis.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { usePostgres } from '../../harness/postgres.js';
import {
  describeWaiting,
  runHerd,
  runRollingRestart,
  waitingViolations,
} from '../../harness/waiting-clis.js';

const postgres = await usePostgres();
const skip = postgres ? false : 'no PostgreSQL available';

test('a herd of 1,000 held polls released together, polling again at once: no fatal answer, no login lost, spread-out ends', {
  skip,
  timeout: 180_000,
}, async (t) => {
  const report = await runHerd(postgres!, { clis: 1000, approvals: 20, backlog: 2048 });
  for (const line of describeWaiting('herd', report)) t.diagnostic(line);
  assert.deepEqual(waitingViolations(report), []);
  assert.equal(report.approved.length, 20);
  if (report.backlog !== undefined)
    assert.equal(report.backlog, 2048, 'the server listens with LISTEN_BACKLOG');
  // The first round's holds all began together: their ends spread out (a fifth of the wait, up to 1 s).
  assert.ok(
    report.firstRoundSpreadMs >= 500,
    `the first round's held polls ended over ${report.firstRoundSpreadMs} ms`,
  );
});

test('a rolling restart of three instances under 1,000 waiting CLIs delivers every approved login exactly once, and no CLI gets a fatal answer', {
  skip,
  timeout: 240_000,
}, async (t) => {
  const report = await runRollingRestart(postgres!, { clis: 1000, approvalsPerRestart: 15 });
  for (const line of describeWaiting('rolling restart', report)) t.diagnostic(line);
  assert.deepEqual(report.exitCodes, [0, 0, 0], 'every instance stopped cleanly on SIGTERM');
  assert.deepEqual(waitingViolations(report), []);
  assert.equal(report.approved.length, 60);
});
