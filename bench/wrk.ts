/**
 * The load generator of the measured runs: `wrk` (Debian's package, written in C), one thread,
 * 32 connections, no pipelining, with a Lua script per kind of request (bench/wrk/). One Node
 * process (autocannon) tops out near 12,000–14,000 requests/s here, below what a bare node:http
 * server answers, so it could not show a server faster than the floor without pipelining,
 * which real CLIs never do (docs/performance.md). Without wrk, the runs fall back to autocannon
 * and the report says so.
 */
import { execFile, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const SCRIPTS = fileURLToPath(new URL('./wrk/', import.meta.url));

/** What one run measured (latencies in ms, from the load generator's side). */
export interface WrkResult {
  requests: number;
  seconds: number;
  perSecond: number;
  latency: { p50: number; p99: number; max: number };
  /** Answers with a status ≥ 400 (the expected 400 of a pending poll included). */
  statusErrors: number;
  /** Connect, read, write errors and timeouts. */
  socketErrors: number;
}

/** Whether wrk is installed, or how to install it. */
export function wrkMissing(): string | undefined {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return undefined;
  } catch (err) {
    // wrk --version exits 1 after printing its version: only a missing binary is ENOENT.
    return (err as NodeJS.ErrnoException).code === 'ENOENT'
      ? 'wrk is not installed (apt-get install -y wrk): the runs use autocannon, which tops out below a bare node:http server'
      : undefined;
  }
}

/** One wrk run of `script` (`poll`, `start` or `flood`) against `url` for `seconds`, with script arguments `args`. */
export async function runWrk(options: {
  url: string;
  script: 'poll' | 'start' | 'flood';
  seconds: number;
  connections?: number;
  args?: string[];
}): Promise<WrkResult> {
  const { stdout } = await promisify(execFile)(
    'wrk',
    [
      '-t1',
      `-c${options.connections ?? 32}`,
      `-d${options.seconds}s`,
      '--timeout',
      '30s',
      '-s',
      `${SCRIPTS}${options.script}.lua`,
      options.url,
      ...(options.args?.length ? ['--', ...options.args] : []),
    ],
    { timeout: (options.seconds + 60) * 1000, maxBuffer: 1 << 20 },
  );
  const line = stdout.trim().split('\n').at(-1) ?? '';
  const r = JSON.parse(line) as {
    requests: number;
    duration_us: number;
    p50_us: number;
    p99_us: number;
    max_us: number;
    status_errors: number;
    socket_errors: number;
  };
  const seconds = r.duration_us / 1e6;
  return {
    requests: r.requests,
    seconds,
    perSecond: r.requests / seconds,
    latency: { p50: r.p50_us / 1000, p99: r.p99_us / 1000, max: r.max_us / 1000 },
    statusErrors: r.status_errors,
    socketErrors: r.socket_errors,
  };
}
