/**
 * X25519 public keys computed on a worker thread. Importing a start's private key makes
 * OpenSSL compute its public key, a scalar multiplication of about 50 µs: the largest share of a
 * start's main-thread time after the database (docs/performance.md, "Where a start's
 * microseconds go"). A worker takes it off the event loop, so the main thread goes on answering
 * polls and starts meanwhile.
 *
 * Keys asked for in one turn of the event loop go to the worker in one message. If the worker
 * cannot start, dies, or fails a key, the key is computed on the main thread instead: the answer
 * is the same 32 bytes either way, only its place differs.
 */
import { createPrivateKey } from 'node:crypto';
import { Worker } from 'node:worker_threads';

// The worker: a batch of PKCS#8 DER private keys in, their raw public keys (base64url) out.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createPrivateKey } = require('node:crypto');
parentPort.on('message', ({ id, ders }) => {
  const keys = ders.map((der) => {
    try {
      return createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' }).export({ format: 'jwk' }).x;
    } catch {
      return null;
    }
  });
  parentPort.postMessage({ id, keys });
});`;

interface Job {
  der: Buffer;
  resolve: (key: Buffer) => void;
  reject: (err: unknown) => void;
}

/** The raw public key of an X25519 private key in PKCS#8 DER, computed on this thread. */
export function publicKeyHere(der: Buffer): Buffer {
  const jwk = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({ format: 'jwk' });
  return Buffer.from(jwk.x as string, 'base64url');
}

function settleHere(job: Job): void {
  try {
    job.resolve(publicKeyHere(job.der));
  } catch (err) {
    job.reject(err);
  }
}

let worker: Worker | undefined;
let broken = false;
let nextBatch = 0;
let queued: Job[] = [];
const sent = new Map<number, Job[]>();

function giveUp(): void {
  broken = true;
  worker = undefined;
  for (const jobs of sent.values()) for (const job of jobs) settleHere(job);
  sent.clear();
}

function startedWorker(): Worker | undefined {
  if (broken) return undefined;
  if (worker) return worker;
  try {
    worker = new Worker(WORKER_SOURCE, { eval: true });
  } catch {
    broken = true;
    return undefined;
  }
  worker.on('message', ({ id, keys }: { id: number; keys: (string | null)[] }) => {
    const jobs = sent.get(id) ?? [];
    sent.delete(id);
    if (sent.size === 0) worker?.unref();
    jobs.forEach((job, i) => {
      const x = keys[i];
      if (x) job.resolve(Buffer.from(x, 'base64url'));
      else settleHere(job);
    });
  });
  worker.on('error', giveUp);
  worker.on('exit', giveUp);
  // Idle, it never keeps the process alive (unref after the listeners, which take a reference).
  worker.unref();
  return worker;
}

function send(): void {
  const jobs = queued;
  queued = [];
  const w = startedWorker();
  if (!w) {
    for (const job of jobs) settleHere(job);
    return;
  }
  const id = nextBatch++;
  sent.set(id, jobs);
  // Busy, it keeps the process alive until the keys are back, as pending I/O would.
  w.ref();
  w.postMessage({ id, ders: jobs.map((job) => job.der) });
}

/** The raw public key of an X25519 private key in PKCS#8 DER, computed on the worker thread. */
export function publicKeyOffThread(der: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (queued.push({ der, resolve, reject }) === 1) setImmediate(send);
  });
}
