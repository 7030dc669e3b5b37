import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import { describe, type TestContext, test } from 'node:test';
import workerThreads from 'node:worker_threads';

// key-worker.ts keeps its worker in module state, so each case imports a fresh copy of it
// (a distinct URL), with node:worker_threads' Worker replaced until the case ends (the
// worker is made at the first key, through the module's live binding).
const RealWorker = workerThreads.Worker;
let copies = 0;

async function keyWorkerWith(
  t: TestContext,
  Worker: typeof RealWorker,
): Promise<typeof import('../../src/device-flow/key-worker.js')> {
  workerThreads.Worker = Worker;
  syncBuiltinESMExports();
  t.after(() => {
    workerThreads.Worker = RealWorker;
    syncBuiltinESMExports();
  });
  return await import(`../../src/device-flow/key-worker.js?copy=${copies++}`);
}

/** An X25519 private key in PKCS#8 DER, what seal.ts hands the worker. */
function newDer(): Buffer {
  return generateKeyPairSync('x25519').privateKey.export({ format: 'der', type: 'pkcs8' });
}

describe('publicKeyOffThread when the worker cannot do its job', { timeout: 10_000 }, () => {
  const ders = Array.from({ length: 20 }, newDer);

  test('a worker that cannot start: every key is computed on the main thread, the same bytes', async (t) => {
    let tries = 0;
    const keyWorker = await keyWorkerWith(
      t,
      class {
        constructor() {
          tries++;
          throw new Error('no threads here');
        }
      } as unknown as typeof RealWorker,
    );
    const keys = await Promise.all(ders.map((der) => keyWorker.publicKeyOffThread(der)));
    assert.deepEqual(keys, ders.map(keyWorker.publicKeyHere));
    assert.deepEqual(await keyWorker.publicKeyOffThread(ders[0]!), keyWorker.publicKeyHere(ders[0]!));
    assert.equal(tries, 1, 'a worker that failed to start is not tried again for every batch');
  });

  test('a worker that dies with keys in flight: they are computed on the main thread', async (t) => {
    let started = 0;
    const keyWorker = await keyWorkerWith(
      t,
      class extends RealWorker {
        constructor() {
          started++;
          // Exits as soon as it is sent the first batch, without answering.
          super("require('node:worker_threads').parentPort.on('message', () => process.exit(1));", {
            eval: true,
          });
        }
      } as typeof RealWorker,
    );
    const keys = await Promise.all(ders.map((der) => keyWorker.publicKeyOffThread(der)));
    assert.deepEqual(keys, ders.map(keyWorker.publicKeyHere));
    assert.deepEqual(await keyWorker.publicKeyOffThread(ders[1]!), keyWorker.publicKeyHere(ders[1]!));
    assert.equal(started, 1);
  });

  test('a key the worker cannot compute is computed here, and a bad key still rejects', async (t) => {
    const keyWorker = await keyWorkerWith(t, RealWorker);
    const der = ders[2]!;
    assert.deepEqual(await keyWorker.publicKeyOffThread(der), keyWorker.publicKeyHere(der));
    await assert.rejects(keyWorker.publicKeyOffThread(Buffer.from('not a key')));
  });
});
