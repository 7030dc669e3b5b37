import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Batcher } from '../../src/storage/batcher.js';

/** A batcher whose runs are recorded and finished by hand. */
function harness(maxInFlight: number, maxBatch = 100) {
  const runs: { inputs: number[]; finish: (err?: Error) => void }[] = [];
  const batcher = new Batcher<number, string>(
    (inputs) =>
      new Promise((resolve, reject) => {
        runs.push({
          inputs,
          finish: (err) => (err ? reject(err) : resolve(inputs.map((n) => `answer ${n}`))),
        });
      }),
    { maxInFlight, maxBatch },
  );
  return { batcher, runs };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));
/** Two turns: a finished batch frees its slot one microtask after its callers are answered. */
const settle = async () => {
  await turn();
  await turn();
};

test('a lone call goes alone, one turn later, and gets its own answer', async () => {
  const { batcher, runs } = harness(2);
  const answer = batcher.add(7);
  assert.equal(runs.length, 0);
  await turn();
  assert.deepEqual(runs[0]?.inputs, [7]);
  runs[0]?.finish();
  assert.equal(await answer, 'answer 7');
});

test('calls that arrive while the batches in flight are busy go together, in order', async () => {
  const { batcher, runs } = harness(1);
  const first = batcher.add(1);
  await turn();
  const rest = [2, 3, 4].map((n) => batcher.add(n));
  await turn();
  assert.equal(runs.length, 1, 'nothing more is sent while one batch is in flight');
  runs[0]?.finish();
  await first;
  await settle();
  assert.deepEqual(runs[1]?.inputs, [2, 3, 4]);
  runs[1]?.finish();
  assert.deepEqual(await Promise.all(rest), ['answer 2', 'answer 3', 'answer 4']);
});

test('batches are cut at maxBatch and use every slot', async () => {
  const { batcher, runs } = harness(2, 2);
  const answers = [1, 2, 3, 4, 5].map((n) => batcher.add(n));
  await turn();
  assert.deepEqual(
    runs.map((r) => r.inputs),
    [
      [1, 2],
      [3, 4],
    ],
  );
  runs[0]?.finish();
  await answers[0];
  await settle();
  assert.deepEqual(runs[2]?.inputs, [5]);
  for (const run of runs.slice(1)) run.finish();
  assert.deepEqual(
    await Promise.all(answers),
    [1, 2, 3, 4, 5].map((n) => `answer ${n}`),
  );
});

test('a failed batch rejects its own calls only, and the next batch still goes', async () => {
  const { batcher, runs } = harness(1);
  const doomed = [1, 2].map((n) => batcher.add(n));
  await turn();
  const later = batcher.add(3);
  runs[0]?.finish(new Error('database unreachable'));
  for (const call of doomed) await assert.rejects(call, /database unreachable/);
  await turn();
  assert.deepEqual(runs[1]?.inputs, [3]);
  runs[1]?.finish();
  assert.equal(await later, 'answer 3');
});
