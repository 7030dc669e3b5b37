/**
 * A server that cannot listen says which setting to change: a PORT in use, a HOST that is not
 * this machine's or does not resolve. Through the binary, as an operator meets it.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { TEST_CLIENT_ID, TEST_CLIENT_SECRET } from '../harness/build.js';
import { cleanEnv, freePort, ROOT, spawnNode, TSX, tempDir } from '../harness/processes.js';
import { describeListenError } from '../src/listen-errors.js';

const CLI = join(ROOT, 'src/cli.ts');

/** `serve` with `env` to its end: its one line of stderr. */
async function serveFails(t: TestContext, env: Record<string, string>): Promise<string> {
  const child = spawnNode(t, ['--import', TSX, CLI, 'serve'], {
    cwd: await tempDir(t, 'listen-'),
    env: cleanEnv({
      POSTIZ_OAUTH_CLIENT_ID: TEST_CLIENT_ID,
      POSTIZ_OAUTH_CLIENT_SECRET: TEST_CLIENT_SECRET,
      PGLITE_DATA_DIR: 'memory',
      LOG_LEVEL: 'warn',
      ...env,
    }),
  });
  const { code } = await child.waitForExit(60_000);
  assert.equal(code, 1, child.stderr());
  const lines = child.stderr().trim().split('\n');
  assert.equal(lines.length, 1, child.stderr());
  return lines[0]!;
}

test('a PORT in use names PORT and HOST (seen before: "listen EADDRINUSE: address already in use")', async (t) => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => taken.close(() => resolve())));
  const port = (taken.address() as { port: number }).port;
  assert.equal(
    await serveFails(t, { HOST: '127.0.0.1', PORT: String(port) }),
    `postiz-cli-auth: PORT ${port} is already in use on HOST 127.0.0.1 (EADDRINUSE): another process listens there. Stop it, or set PORT to a free port.`,
  );
});

test('a HOST that is not an address of this machine names HOST', async (t) => {
  // 192.0.2.1 (TEST-NET-1) is no machine's address.
  assert.equal(
    await serveFails(t, { HOST: '192.0.2.1', PORT: String(await freePort()) }),
    'postiz-cli-auth: HOST 192.0.2.1 is not an address of this machine (EADDRNOTAVAIL): set HOST to one of its addresses, or to 0.0.0.0 for all of them.',
  );
});

test('a HOST name that does not resolve names HOST', async (t) => {
  assert.match(
    await serveFails(t, { HOST: 'no-such-host.invalid', PORT: String(await freePort()) }),
    /^postiz-cli-auth: HOST no-such-host\.invalid is neither an address nor a name that resolves \((ENOTFOUND|EAI_AGAIN)\)/,
  );
});

test('HOST=999.1.1.1 is refused before anything starts', async (t) => {
  assert.match(
    await serveFails(t, { HOST: '999.1.1.1' }),
    /^postiz-cli-auth: HOST must be an address of this machine \(or 0\.0\.0\.0 for all of them\), got "999\.1\.1\.1": not an IPv4 address/,
  );
});

test('privileged ports and other causes keep the settings in the line', () => {
  assert.match(
    describeListenError(Object.assign(new Error('x'), { code: 'EACCES' }), '0.0.0.0', 80),
    /^PORT 80 on HOST 0\.0\.0\.0 needs privileges/,
  );
  assert.equal(describeListenError(new Error('odd'), '::', 1), 'cannot listen on HOST ::, PORT 1: odd');
});
