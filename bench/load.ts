/**
 * The load generator, in its own process (forked by bench/run.ts, driven over IPC) so that it
 * never shares an event loop with what it measures. It keeps sets of device codes between
 * runs, so a poll run can continue the cycle where the previous one stopped.
 *
 * Messages in: `{type:'codes', set, prefix, count}` (derive seeded codes), `{type:'size', set}`,
 * `{type:'dump', set, file}` (write a set to a file, one code per line, for wrk),
 * `{type:'run', id, spec}`. Answers: `{type:'codes'|'size', set, result}`, `{type:'done', id, result}`
 * or `{type:'error', id, message}`.
 */
import { writeFileSync } from 'node:fs';
import autocannon, { type Request } from 'autocannon';
import { codes } from './codes.js';

/** One measurement. */
export interface RunSpec {
  /** Base URL of the server, `http://127.0.0.1:PORT`. */
  url: string;
  /** `poll`: POST /device/token cycling over a code set; `start`: POST /device/code. */
  kind: 'poll' | 'start';
  connections: number;
  /** Seconds; ignored when `amount` is set. */
  duration?: number;
  amount?: number;
  /** Cap on requests per second over all connections. */
  overallRate?: number;
  /** Requests each connection sends before waiting for answers (HTTP/1.1 pipelining; default 1). */
  pipelining?: number;
  /** poll: the path (default `/device/token`). */
  path?: string;
  /** poll: the code set, the first `limit` codes of which are cycled over (default: all). */
  set?: string;
  limit?: number;
  /** poll: index to start at (default: where the previous run on this set stopped, modulo `limit`). */
  cursor?: number;
  /** start: keep the device codes of the answers in this set. */
  capture?: string;
  headers?: Record<string, string>;
}

/** What a run measured (latencies in ms, from the load generator's side). */
export interface RunResult {
  requests: number;
  seconds: number;
  perSecond: number;
  latency: { p50: number; p90: number; p99: number; max: number; mean: number };
  status: Record<string, number>;
  errors: number;
  timeouts: number;
  /** poll: how far into the set this run got (the next index, before `% limit`). */
  cursor: number;
  captured: number;
}

const sets = new Map<string, string[]>();
const cursors = new Map<string, number>();

/** Latencies recorded one by one (autocannon's histogram keeps whole milliseconds only). */
class Latencies {
  private values = new Float64Array(1 << 16);
  private n = 0;
  add(ms: number): void {
    if (this.n === this.values.length) {
      const bigger = new Float64Array(this.values.length * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values[this.n++] = ms;
  }
  summary(): RunResult['latency'] {
    const sorted = this.values.subarray(0, this.n).sort();
    const at = (q: number) => (this.n ? sorted[Math.min(this.n - 1, Math.floor(q * this.n))]! : 0);
    let sum = 0;
    for (const v of sorted) sum += v;
    return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: at(1), mean: this.n ? sum / this.n : 0 };
  }
}

function pollRequests(spec: RunSpec): Request[] {
  const name = spec.set ?? '';
  const list = sets.get(name);
  if (!list || list.length === 0) throw new Error(`no codes in set "${name}"`);
  const limit = Math.min(spec.limit ?? list.length, list.length);
  let cursor = spec.cursor ?? (cursors.get(name) ?? 0) % limit;
  return [
    {
      method: 'POST',
      path: spec.path ?? '/device/token',
      headers: { 'content-type': 'application/json', ...spec.headers },
      setupRequest(request) {
        const deviceCode = list[cursor % limit]!;
        cursor++;
        cursors.set(name, cursor);
        return { ...request, body: `{"device_code":"${deviceCode}"}` };
      },
    },
  ];
}

// Starts come from many addresses (X-Forwarded-For; the server trusts the proxy in the
// benchmark), as real CLIs do: one address would make every start update one rate-limit row.
let address = 0;
function nextAddress(): string {
  address = (address + 1) % 16_777_216;
  return `10.${address >> 16}.${(address >> 8) & 255}.${address & 255}`;
}

function startRequests(spec: RunSpec, onCode: (code: string) => void): Request[] {
  return [
    {
      method: 'POST',
      path: '/device/code',
      headers: { 'content-type': 'application/json', ...spec.headers },
      body: '{}',
      setupRequest: (request) => ({
        ...request,
        headers: { ...request.headers, 'x-forwarded-for': nextAddress() },
      }),
      ...(spec.capture
        ? {
            onResponse(status: number, body: string) {
              if (status === 200) onCode((JSON.parse(body) as { device_code: string }).device_code);
            },
          }
        : {}),
    },
  ];
}

function run(spec: RunSpec): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const latencies = new Latencies();
    let captured = 0;
    const captureSet = spec.capture ? (sets.get(spec.capture) ?? []) : [];
    if (spec.capture) sets.set(spec.capture, captureSet);
    let requests: Request[];
    try {
      requests =
        spec.kind === 'poll'
          ? pollRequests(spec)
          : startRequests(spec, (c) => {
              captureSet.push(c);
              captured++;
            });
    } catch (err) {
      reject(err);
      return;
    }
    const instance = autocannon(
      {
        url: spec.url,
        connections: spec.connections,
        pipelining: spec.pipelining ?? 1,
        ...(spec.amount ? { amount: spec.amount } : { duration: spec.duration ?? 8 }),
        // autocannon's correction of paced runs assumes 1 ms between requests: record what really happened.
        ...(spec.overallRate
          ? {
              overallRate: Math.max(spec.connections, Math.floor(spec.overallRate)),
              ignoreCoordinatedOmission: true,
            }
          : {}),
        timeout: 30,
        requests,
      },
      (err, result) => {
        if (err) return reject(err);
        const seconds = result.duration;
        const status: Record<string, number> = {};
        for (const [code, { count }] of Object.entries(result.statusCodeStats)) status[code] = count;
        const done = result.requests.total;
        resolve({
          requests: done,
          seconds,
          perSecond: done / seconds,
          latency: latencies.summary(),
          status,
          errors: result.errors,
          timeouts: result.timeouts,
          cursor: cursors.get(spec.set ?? '') ?? 0,
          captured,
        });
      },
    );
    instance.on('response', (_client, _status, _bytes, ms) => latencies.add(ms));
  });
}

type Message =
  | { type: 'codes'; set: string; prefix: string; count: number }
  | { type: 'size'; set: string }
  | { type: 'dump'; set: string; file: string }
  | { type: 'run'; id: number; spec: RunSpec };

process.on('message', (message: Message) => {
  if (message.type === 'codes') {
    sets.set(message.set, codes(message.prefix, message.count));
    cursors.delete(message.set);
    process.send?.({ type: 'codes', set: message.set });
    return;
  }
  if (message.type === 'dump') {
    // One code per line, for wrk (bench/wrk/poll.lua).
    writeFileSync(message.file, `${(sets.get(message.set) ?? []).join('\n')}\n`);
    process.send?.({ type: 'dump', set: message.set, result: sets.get(message.set)?.length ?? 0 });
    return;
  }
  if (message.type === 'size') {
    process.send?.({ type: 'size', set: message.set, result: sets.get(message.set)?.length ?? 0 });
    return;
  }
  run(message.spec).then(
    (result) => process.send?.({ type: 'done', id: message.id, result }),
    (err: unknown) => process.send?.({ type: 'error', id: message.id, message: String(err) }),
  );
});
// The orchestrator going away closes the IPC channel: go with it.
process.on('disconnect', () => process.exit(0));
