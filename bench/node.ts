/**
 * Which Node.js runs what the benchmark measures (the servers, the floors, the load generator):
 * the oldest major the project supports (`engines.node` in package.json, `>=22`), by default,
 * because that is the slowest Node a deployment may run and the one the targets are stated
 * for; `--node <path>` (or `BENCH_NODE`) runs another one. Found, in this order:
 *
 * 1. `--node <path>` or `BENCH_NODE`, whatever its version (the table says which);
 * 2. the Node running the benchmark, when it is of that major;
 * 3. a `node` on PATH of that major (every one on PATH is asked, not only the first);
 * 4. the `node` npm package of that major (`node@22`: the official binary, shipped inside a
 *    registry package), installed once into a cache folder with npm and kept there.
 */
import { execFile, execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The Node binary the benchmark spawns, its version, and how it was found. */
export interface NodeChoice {
  path: string;
  version: string;
  how: string;
}

/** The oldest major `engines.node` allows (`>=22` → 22). */
export function oldestSupportedMajor(): number {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines?: { node?: string } };
  const match = pkg.engines?.node?.match(/(\d+)/);
  if (!match) throw new Error('package.json has no engines.node to take the oldest supported Node from');
  return Number(match[1]);
}

/** `v22.23.3` for the binary at `path`, or undefined when it does not run. */
function versionOf(path: string): string | undefined {
  try {
    return execFileSync(path, ['--version'], { encoding: 'utf8', timeout: 10_000 }).trim();
  } catch {
    return undefined;
  }
}

const majorOf = (version: string) => Number(version.replace(/^v/, '').split('.')[0]);

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Every `node` on PATH, in order, without repeats. */
function nodesOnPath(): string[] {
  const found: string[] = [];
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const path = dir && join(dir, 'node');
    if (path && !found.includes(path) && executable(path)) found.push(path);
  }
  return found;
}

/** The `node@<major>` npm package, installed into a cache folder on first use. */
async function fromNpm(major: number): Promise<string> {
  const dir = join(
    process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'),
    'postiz-cli-auth-bench',
    `node${major}`,
  );
  const bin = join(dir, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(bin) || !versionOf(bin)) {
    process.stderr.write(
      `[bench] no Node ${major} found: installing the node@${major} npm package into ${dir}\n`,
    );
    await promisify(execFile)(
      'npm',
      [
        'install',
        '--prefix',
        dir,
        '--no-save',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        `node@${major}`,
      ],
      { timeout: 300_000 },
    );
  }
  return bin;
}

/**
 * The Node to run the measured processes on: `requested` (`--node`), else `BENCH_NODE`, else
 * one of the oldest supported major. Throws when a requested one does not run.
 */
export async function chooseNode(requested?: string): Promise<NodeChoice> {
  const asked = requested ?? process.env.BENCH_NODE;
  if (asked) {
    const version = versionOf(asked);
    if (!version) throw new Error(`--node ${asked}: not a Node.js binary that runs`);
    return { path: asked, version, how: requested ? 'asked for with --node' : 'asked for with BENCH_NODE' };
  }
  const major = oldestSupportedMajor();
  if (majorOf(process.version) === major) {
    return { path: process.execPath, version: process.version, how: 'the Node running the benchmark' };
  }
  for (const path of nodesOnPath()) {
    const version = versionOf(path);
    if (version && majorOf(version) === major) return { path, version, how: `found on PATH (${path})` };
  }
  const path = await fromNpm(major);
  const version = versionOf(path);
  if (!version || majorOf(version) !== major)
    throw new Error(`could not get a Node ${major} from npm (${path})`);
  return { path, version, how: `the node@${major} npm package (${path})` };
}
