/**
 * End-to-end helpers: a listening server wired to a listening Postiz stand-in on a port chosen
 * in advance (so SERVER_URL is the stand-in's registered redirect), and child processes that are
 * always killed after the test.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { StandIn } from '../demo/stand-in/index.js';
import { type Config, SETTINGS } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { type RunningServer, startServer } from '../src/server.js';
import type { Store } from '../src/storage/store.js';
import { testConfig, testStandIn } from './build.js';
import { freePort } from './ports.js';
import { waitFor } from './postgres.js';

export { freePort };

/** The repository root (where package.json and src/ are). */
export const ROOT = fileURLToPath(new URL('../', import.meta.url));

/** tsx's loader as a file URL, so `node --import` finds it from any working directory. */
export const TSX = import.meta.resolve('tsx');

/** The organisation the stand-in's user belongs to. */
export const STAND_IN_ORG = 'org_e2e';

const stacks = new WeakMap<TestContext, Array<() => unknown>>();

/**
 * Run `fn` after the test, in reverse order of registration (node:test runs `t.after` hooks in
 * registration order, but teardown must undo set-up backwards: child, then server, then store).
 */
export function defer(t: TestContext, fn: () => unknown): void {
  let stack = stacks.get(t);
  if (!stack) {
    const fresh: Array<() => unknown> = [];
    stack = fresh;
    stacks.set(t, fresh);
    t.after(async () => {
      // Every step runs even when one fails; the first failure is reported.
      const errors: unknown[] = [];
      for (let next = fresh.pop(); next; next = fresh.pop())
        await Promise.resolve()
          .then(next)
          .catch((err) => errors.push(err));
      if (errors.length > 0) throw errors[0];
    });
  }
  stack.push(fn);
}

/** A temporary directory removed after the test. */
export async function tempDir(t: TestContext, prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  defer(t, () => rm(dir, { recursive: true, force: true }));
  return dir;
}

export interface E2eServer {
  /** `http://127.0.0.1:<port>`: both the listening address and SERVER_URL. */
  url: string;
  config: Config;
  server: RunningServer;
  standIn: StandIn;
}

/**
 * A real listening server on `store` and a listening stand-in; both closed after the test.
 * The store is not emptied: each test's flows are its own, and rate limits are far away.
 */
export async function startE2eServer(t: TestContext, store: Store): Promise<E2eServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const standIn = testStandIn(url, { name: 'E2E User', organizationId: STAND_IN_ORG });
  const postizUrl = await standIn.listen();
  defer(t, () => standIn.close());
  const config = testConfig({
    PORT: String(port),
    HOST: '127.0.0.1',
    SERVER_URL: url,
    POSTIZ_FRONTEND_URL: postizUrl,
    POSTIZ_API_URL: postizUrl,
  });
  const logger = createLogger({ level: 'silent', format: 'json' });
  const server = await startServer(config, { logger, store });
  defer(t, () => server.close());
  return { url, config, server, standIn };
}

/**
 * `process.env` without any of the server's settings (so nothing leaks in from the developer's
 * shell or the test runner), plus `extra`.
 */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const setting of SETTINGS) delete env[setting.env];
  for (const name of [
    'NODE_TEST_CONTEXT',
    'NODE_OPTIONS',
    'POSTIZ_AUTH_SERVER',
    'POSTIZ_API_KEY',
    'DEMO_POSTIZ_PORT',
    'DEMO_WEBHOOK_PORT',
  ])
    delete env[name];
  return { ...env, ...extra };
}

export interface Child {
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has exited (code, or signal). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Waits until stdout+stderr matches `pattern`; the error shows both on timeout. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Waits for the exit; fails with the output after `timeoutMs`. */
  waitForExit(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Everything a child process writes to its piped stdout and stderr, as it arrives. */
export function collectOutput(proc: ChildProcess): { stdout: string; stderr: string } {
  const output = { stdout: '', stderr: '' };
  proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    output.stdout += chunk;
  });
  proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    output.stderr += chunk;
  });
  return output;
}

/** Spawn `node <args>`, collecting its output; SIGKILLed after the test if still running. */
export function spawnNode(
  t: TestContext,
  args: string[],
  options: { env: NodeJS.ProcessEnv; cwd?: string },
): Child {
  return spawnCommand(t, process.execPath, args, options);
}

/** Spawn `file <args>` (cwd: the repository root by default), collecting its output; SIGKILLed after the test if still running. */
export function spawnCommand(
  t: TestContext,
  file: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; cwd?: string },
): Child {
  const proc = spawn(file, args, {
    cwd: options.cwd ?? ROOT,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = collectOutput(proc);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.on('close', (code, signal) => resolve({ code, signal }));
  });
  let done = false;
  void exited.then(() => {
    done = true;
  });
  defer(t, async () => {
    if (done) return;
    proc.kill('SIGKILL');
    await exited;
  });
  const describe = () => `--- stdout ---\n${output.stdout}\n--- stderr ---\n${output.stderr}`;
  return {
    proc,
    stdout: () => output.stdout,
    stderr: () => output.stderr,
    exited,
    async waitForOutput(pattern, timeoutMs = 60_000) {
      try {
        const match = await waitFor(() => `${output.stdout}\n${output.stderr}`.match(pattern), {
          timeoutMs,
          intervalMs: 50,
        });
        if (!match) throw new Error('unreachable: waitFor returns a truthy value');
        return match;
      } catch {
        throw new Error(
          `no output matching ${pattern} within ${timeoutMs} ms (exited: ${done})\n${describe()}`,
        );
      }
    },
    async waitForExit(timeoutMs = 60_000) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`process still running after ${timeoutMs} ms\n${describe()}`)),
          timeoutMs,
        );
      });
      try {
        return await Promise.race([exited, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** Waits until `url`/health answers 200 (the server is up); fails at once if `child` exits first. */
export async function waitForHealth(url: string, child?: Child, timeoutMs = 60_000): Promise<void> {
  let settled = false;
  // Once the race is decided, answering "done" ends waitFor's loop instead of leaving it to time out.
  const up = waitFor(async () => settled || (await fetch(`${url}/health`)).status === 200, {
    timeoutMs,
    intervalMs: 100,
  });
  const died = child?.exited.then(({ code, signal }) => {
    throw new Error(`the process exited (${signal ?? code}) before /health answered`);
  });
  try {
    await Promise.race(died ? [up, died] : [up]);
  } catch (err) {
    const output = child ? `\n--- stdout ---\n${child.stdout()}\n--- stderr ---\n${child.stderr()}` : '';
    throw new Error(`${url}/health never answered 200: ${(err as Error).message}${output}`);
  } finally {
    settled = true;
    // Whichever lost the race must not surface as an unhandled rejection.
    up.catch(() => {});
    died?.catch(() => {});
  }
}
