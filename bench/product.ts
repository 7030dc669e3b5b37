/**
 * The product server under test, started as its own process the way it runs in production
 * (`node dist/cli.js serve`), and the readings the benchmark takes from it.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { TEST_CLIENT_ID, TEST_CLIENT_SECRET } from '../harness/build.js';
import { SETTINGS } from '../src/config.js';
import type { NodeChoice } from './node.js';
import { type Child, sleep, start, waitFor200 } from './processes.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const GC_PRELOAD = fileURLToPath(new URL('./gc-on-signal.mjs', import.meta.url));

/**
 * The interval the bench's server gives (POLL_INTERVAL_SECONDS=1): no flow is polled more often.
 * The pending path is the same at any interval; a short one lets fewer live flows (started at
 * the server's real rate, within the time budget) load the server without earning `slow_down`.
 */
export const INTERVAL_SECONDS = 1;

/** How the server is run: the compiled build (as in production) or the sources through tsx, on which Node. */
export interface Runner {
  kind: 'dist' | 'tsx';
  why: string;
  node: NodeChoice;
  /** The checkout whose server runs (this one, or `--server-root`: a worktree with a change to compare). */
  root: string;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * `dist` when dist/cli.js is newer than every file in src/, else `npm run build` first; tsx
 * only when asked (`--tsx`) or when the build fails. The build is what `npm start` runs, and
 * tsx would add its compile time to the start-up figure.
 */
export async function chooseRunner(forceTsx: boolean, node: NodeChoice, root = ROOT): Promise<Runner> {
  if (forceTsx) return { kind: 'tsx', why: 'asked for with --tsx', node, root };
  const cli = join(root, 'dist/cli.js');
  if (existsSync(cli) && statSync(cli).mtimeMs >= newestMtime(join(root, 'src'))) {
    return { kind: 'dist', why: 'dist/ is up to date with src/', node, root };
  }
  const began = performance.now();
  try {
    await promisify(execFile)('npm', ['run', 'build'], { cwd: root, timeout: 120_000 });
  } catch (err) {
    const detail = String((err as { stdout?: string }).stdout ?? err)
      .split('\n')
      .find((l) => l.includes('error'));
    return {
      kind: 'tsx',
      why: `npm run build failed (${detail ?? 'see npm run build'}), so tsx runs src/`,
      node,
      root,
    };
  }
  return {
    kind: 'dist',
    why: `dist/ was stale: rebuilt with npm run build (${Math.round(performance.now() - began)} ms)`,
    node,
    root,
  };
}

/** A running server process. */
export interface Product {
  child: Child;
  url: string;
  /** ms from spawn to the first 200 from /ready. */
  readyMs: number;
}

/** Settings for a server on `port`, talking to the Postiz stand-in at `postizUrl`. */
export function productEnv(
  port: number,
  postizUrl: string,
  store: { databaseUrl: string } | { pgliteDir: string },
): Record<string, string> {
  return {
    ...('databaseUrl' in store ? { DATABASE_URL: store.databaseUrl } : { PGLITE_DATA_DIR: store.pgliteDir }),
    POSTIZ_OAUTH_CLIENT_ID: TEST_CLIENT_ID,
    POSTIZ_OAUTH_CLIENT_SECRET: TEST_CLIENT_SECRET,
    POSTIZ_FRONTEND_URL: postizUrl,
    POSTIZ_API_URL: postizUrl,
    PORT: String(port),
    HOST: '127.0.0.1',
    SERVER_URL: `http://127.0.0.1:${port}`,
    LOG_LEVEL: 'warn',
    POLL_WAIT_SECONDS: '0',
    POLL_INTERVAL_SECONDS: String(INTERVAL_SECONDS),
    // Starts come from many addresses through X-Forwarded-For (bench/load.ts); the limit is
    // raised anyway, so that no start is refused whatever addresses it counts.
    TRUST_PROXY: 'true',
    RATE_LIMIT_FLOW_STARTS: '1000000',
    // The runs start far more flows than any real deployment keeps live (the cap is for those).
    MAX_PENDING_FLOWS: '100000000',
  };
}

/** The environment without any of the server's settings (nothing from the caller's shell leaks in). */
function cleanEnv(): Record<string, string> {
  const drop = new Set([...SETTINGS.map((s) => s.env), 'NODE_OPTIONS', 'TEST_DATABASE_URL']);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !drop.has(k)) env[k] = v;
  return env;
}

/** Start the server and wait for /ready; `cwd` is a scratch directory (so no `.env` is read). */
export async function startProduct(
  name: string,
  runner: Runner,
  env: Record<string, string>,
  cwd: string,
): Promise<Product> {
  const entry =
    runner.kind === 'dist'
      ? [join(runner.root, 'dist/cli.js')]
      : ['--import', import.meta.resolve('tsx'), join(runner.root, 'src/cli.ts')];
  const began = performance.now();
  const prof = process.env.BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROF}`] : [];
  const child = start(
    name,
    runner.node.path,
    [...prof, '--expose-gc', '--import', GC_PRELOAD, ...entry, 'serve'],
    {
      cwd,
      env: { ...cleanEnv(), ...env },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const url = `http://127.0.0.1:${env.PORT}`;
  const readyAt = await waitFor200(`${url}/ready`, child);
  return { child, url, readyMs: readyAt - began };
}

/** The start-up floor: ms from spawning `node` to a bare `node:http` server's first 200. */
export async function bareNodeReadyMs(port: number, node: NodeChoice): Promise<number> {
  const script = `require('node:http').createServer((q, s) => s.end('ok')).listen(${port}, '127.0.0.1')`;
  const began = performance.now();
  const child = start('bare node:http', node.path, ['-e', script], { stdio: 'ignore' });
  try {
    return (await waitFor200(`http://127.0.0.1:${port}/ready`, child)) - began;
  } finally {
    await child.stop();
  }
}

/** Prometheus text → `name{labels}` → value. */
export async function scrape(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    values.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return values;
}

/** Poll counts by result, from `postiz_cli_auth_polls_total`. */
export function pollCounts(metrics: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of metrics) {
    const m = key.match(/^postiz_cli_auth_polls_total\{result="([^"]+)"\}$/);
    if (m) out[m[1]!] = value;
  }
  return out;
}

/** RSS and V8 heap in use, after a full GC in the server (SIGUSR2, see gc-on-signal.mjs). */
export async function memory(product: Product): Promise<{ rss: number; heap: number }> {
  // Two rounds of full collections a second apart: after a burst of load, the first leaves
  // pages V8 returns to the system only once the process has been idle for a moment.
  for (let round = 0; round < 2; round++) {
    product.child.proc.kill('SIGUSR2');
    await sleep(1000);
  }
  const m = await scrape(product.url);
  return {
    rss: m.get('process_resident_memory_bytes') ?? 0,
    heap: m.get('nodejs_heap_size_used_bytes') ?? 0,
  };
}
