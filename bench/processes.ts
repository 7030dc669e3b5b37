/**
 * Child processes of the benchmark: every one is tracked, stopped at the end, killed when the
 * benchmark exits, and watched by a detached shell that stops it if the benchmark dies in a
 * way no handler sees (SIGKILL), so a run never leaves anything behind.
 */
import { type ChildProcess, fork, type SpawnOptions, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { freePort } from '../harness/ports.js';

export { freePort };

/** A tracked child process. */
export interface Child {
  name: string;
  proc: ChildProcess;
  /** Resolves with the exit code (or signal name) once the process is gone. */
  exited: Promise<number | string | null>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<Child>();
let hooked = false;

// Stands down on "done"; otherwise (the benchmark died and stdin closed) stops the child, if
// that pid is still the child (same start time), not a process that reused the number.
const WATCHDOG = `trap '' HUP INT TERM
read -r line || true
[ "$line" = done ] && exit 0
ours() { [ "$(cut -d' ' -f22 /proc/$1/stat 2>/dev/null)" = "$2" ]; }
ours "$1" "$2" && kill -TERM "$1" 2>/dev/null
sleep 5
ours "$1" "$2" && kill -KILL "$1" 2>/dev/null
exit 0`;

/** The start time of a process (field 22 of /proc/<pid>/stat), which no later process shares. */
function startTime(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const child of live) child.proc.kill('SIGKILL');
  });
}

function track(name: string, proc: ChildProcess): Child {
  hookExit();
  const pid = proc.pid;
  if (pid === undefined) throw new Error(`${name}: could not start`);
  const watchdog = spawn('/bin/sh', ['-c', WATCHDOG, 'bench-watchdog', String(pid), startTime(pid)], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
  });
  watchdog.unref();
  watchdog.stdin?.on('error', () => {});
  (watchdog.stdin as unknown as { unref?: () => void }).unref?.();
  const exited = new Promise<number | string | null>((resolve) => {
    proc.once('exit', (code, signal) => {
      live.delete(child);
      watchdog.stdin?.end('done\n');
      resolve(code ?? signal);
    });
  });
  let stopping: Promise<void> | undefined;
  const child: Child = {
    name,
    proc,
    exited,
    stop(graceMs = 10_000) {
      stopping ??= (async () => {
        if (proc.exitCode !== null || proc.signalCode !== null) return;
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
  live.add(child);
  return child;
}

/** Spawn and track `command args`. */
export function start(name: string, command: string, args: string[], options: SpawnOptions): Child {
  return track(name, spawn(command, args, options));
}

/** Fork and track a TypeScript module (run through tsx) with an IPC channel, on `execPath` (default: this Node). */
export function forkTs(
  name: string,
  modulePath: string,
  args: string[] = [],
  execPath = process.execPath,
): Child {
  return track(
    name,
    fork(modulePath, args, {
      execPath,
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
}

/** Stop every child still running (the end of the run, or an interruption). */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((c) => c.stop(5000)));
}

/** Resolves after `ms`. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Poll `url` every `everyMs` until it answers 200; returns the time of that answer
 * (`performance.now()`). Throws after `timeoutMs`, or at once when `child` exits first.
 */
export async function waitFor200(
  url: string,
  child: Child,
  timeoutMs = 60_000,
  everyMs = 5,
): Promise<number> {
  let exited = false;
  child.exited.then(() => {
    exited = true;
  });
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (exited) throw new Error(`${child.name} exited before ${url} answered 200`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return performance.now();
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

/** The first line a child writes on stdout, parsed as JSON (how floors report their port). */
export function firstJsonLine<T>(child: Child, timeoutMs = 60_000): Promise<T> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(
      () => reject(new Error(`${child.name}: no output within ${timeoutMs} ms`)),
      timeoutMs,
    );
    child.proc.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      const newline = buffer.indexOf('\n');
      if (newline >= 0) {
        clearTimeout(timer);
        resolve(JSON.parse(buffer.slice(0, newline)) as T);
      }
    });
    child.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${child.name} exited (${code}) before it was ready`));
    });
  });
}
