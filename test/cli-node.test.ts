/**
 * An unsupported Node.js is refused clearly: npm refuses to install (`engine-strict` in .npmrc,
 * with package.json's "engines"), and the binary, run on it without npm (`npx tsx src/cli.ts`),
 * prints one line naming the running and the required Node.js and exits 1. The runs on an older
 * Node use the one the machine has (Debian's node 20 at /usr/bin/node), or OLD_NODE.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { cleanEnv, ROOT, spawnCommand, TSX, tempDir } from '../harness/processes.js';
import { MIN_NODE_MAJOR, unsupportedNode } from '../src/node-version.js';

/** An installed Node.js older than the supported one, and its version; none when the machine has none. */
function olderNode(): { path: string; version: string } | undefined {
  const path = process.env.OLD_NODE ?? '/usr/bin/node';
  if (!existsSync(path)) return undefined;
  const version = execFileSync(path, ['--version'], { encoding: 'utf8' }).trim();
  return unsupportedNode(version) ? { path, version } : undefined;
}
const old = olderNode();
const skip = old ? false : `no Node.js older than ${MIN_NODE_MAJOR} here (set OLD_NODE to one)`;

test('package.json\'s "engines" and .npmrc\'s engine-strict say what the code checks', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
  assert.equal(pkg.engines.node, `>=${MIN_NODE_MAJOR}`);
  assert.match(readFileSync(join(ROOT, '.npmrc'), 'utf8'), /^engine-strict=true$/m);
  assert.equal(unsupportedNode('v22.0.0'), undefined);
  assert.equal(unsupportedNode('v24.1.0'), undefined);
  assert.equal(unsupportedNode('v26.0.0'), undefined);
  assert.equal(
    unsupportedNode('v20.20.2'),
    `postiz-cli-auth: Node.js v20.20.2 is too old: this server needs Node.js ${MIN_NODE_MAJOR} or later (package.json "engines": ">=${MIN_NODE_MAJOR}"). Install Node.js ${MIN_NODE_MAJOR}, 24 or 26 and run it again.`,
  );
});

test('the binary on an older Node.js, without npm: one line naming both versions, exit 1', {
  skip,
}, async (t) => {
  const child = spawnCommand(t, old!.path, ['--import', TSX, join(ROOT, 'src/cli.ts'), 'serve'], {
    cwd: await tempDir(t, 'old-node-'),
    env: cleanEnv({ PGLITE_DATA_DIR: 'memory' }),
  });
  const { code } = await child.waitForExit(60_000);
  assert.equal(code, 1, child.stdout());
  assert.deepEqual(child.stderr().trim().split('\n'), [unsupportedNode(old!.version)]);
});

test('npm ci on an older Node.js refuses with the engines message', { skip }, async (t) => {
  const dir = await tempDir(t, 'old-npm-');
  for (const file of ['package.json', 'package-lock.json', '.npmrc'])
    copyFileSync(join(ROOT, file), join(dir, file));
  const npm = join(dirname(old!.path), 'npm');
  const child = spawnCommand(t, npm, ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], {
    cwd: dir,
    env: cleanEnv({ PATH: `${dirname(old!.path)}:${process.env.PATH ?? ''}` }),
  });
  const { code } = await child.waitForExit(120_000);
  assert.notEqual(code, 0, child.stdout());
  assert.match(child.stderr(), /EBADENGINE/);
  assert.match(child.stderr(), new RegExp(`Required: \\{"node":">=${MIN_NODE_MAJOR}"\\}`));
  assert.ok(!existsSync(join(dir, 'node_modules')), 'nothing was installed');
});
