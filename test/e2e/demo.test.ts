/**
 * `npm run demo` (`tsx src/cli.ts demo`): starts with no configuration, prints what to do next,
 * carries a whole login through its built-in Postiz stand-in, runs the real CLI with the
 * command it printed (whose login lands in the demo's temporary HOME, never the user's), and
 * stops cleanly on Ctrl+C, removing that HOME.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEMO_HOME_PREFIX } from '../../demo/demo.js';
import { waitFor } from '../../harness/postgres.js';
import { cleanEnv, freePort, spawnCommand, spawnNode, TSX, tempDir } from '../../harness/processes.js';
import { approveInBrowser } from '../../harness/walker.js';
import { fakeOpener } from './support/postiz-cli.js';

test('the demo runs a whole login and stops on SIGINT', { timeout: 120_000 }, async (t) => {
  const port = await freePort();
  const standInPort = await freePort();
  const webhookPort = await freePort();
  const child = spawnNode(t, ['--import', TSX, 'src/cli.ts', 'demo'], {
    env: cleanEnv({
      PORT: String(port),
      DEMO_POSTIZ_PORT: String(standInPort),
      DEMO_WEBHOOK_PORT: String(webhookPort),
    }),
  });
  const serverUrl = `http://localhost:${port}`;

  // What the demo promises to print: the verification URL and the command for the real CLI.
  await child.waitForOutput(/npx postiz auth:login/);
  const out = child.stdout();
  assert.ok(out.includes(`POSTIZ_AUTH_SERVER=${serverUrl} npx postiz auth:login`), out);
  assert.ok(out.includes(`${serverUrl}/device/verify`), out);

  const started = await fetch(`${serverUrl}/device/code`, { method: 'POST' });
  assert.equal(started.status, 200);
  const flow = (await started.json()) as {
    device_code: string;
    verification_uri_complete: string;
    interval: number;
  };
  const last = await approveInBrowser(flow.verification_uri_complete);
  assert.equal(last.status, 200, last.body.slice(0, 500));

  // A well-behaved client waits the interval before polling.
  await sleep(flow.interval * 1000);
  const polled = await fetch(`${serverUrl}/device/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ device_code: flow.device_code }),
  });
  const token = (await polled.json()) as Record<string, unknown>;
  assert.equal(polled.status, 200, JSON.stringify(token));
  assert.equal(typeof token.access_token, 'string');
  assert.ok((token.access_token as string).length > 0);
  assert.equal(token.api_url, `http://127.0.0.1:${standInPort}`);
  assert.equal(token.organization_id, 'org_demo');
  // The login's webhook reached the demo's receiver, which verified it and printed it.
  assert.ok(out.includes(`http://127.0.0.1:${webhookPort}/webhooks`), out);
  await child.waitForOutput(
    /webhook cli_login\.delivered: organisation org_demo, device 127\.0\.0\.1 \(.+\), signature verified/,
    15_000,
  );

  // The printed command, run as a user pastes it, by a shell whose HOME is the user's own.
  const command = out
    .split('\n')
    .find((line) => line.includes('npx postiz auth:login'))!
    .trim();
  const home = new RegExp(`^HOME=(${join(tmpdir(), DEMO_HOME_PREFIX)}\\w+) `).exec(command)?.[1];
  assert.ok(home, `the command sets a temporary HOME: ${command}`);
  assert.ok(existsSync(home), 'the demo made its temporary HOME');
  assert.match(out, /temporary HOME, removed when the demo stops/);
  const userHome = await tempDir(t, 'demo-user-home-');
  const opener = await fakeOpener(t);
  const cli = spawnCommand(t, '/bin/sh', ['-c', command], {
    env: cleanEnv({ HOME: userHome, PATH: opener.path }),
  });
  const loggedIn = await approveInBrowser(await opener.opened(cli));
  assert.equal(loggedIn.status, 200, loggedIn.body.slice(0, 500));
  const cliExit = await cli.waitForExit(90_000);
  assert.equal(cliExit.code, 0, `${cli.stdout()}\n${cli.stderr()}`);
  const saved = JSON.parse(await readFile(join(home, '.postiz', 'credentials.json'), 'utf8'));
  assert.equal(saved.apiUrl, `http://127.0.0.1:${standInPort}`);
  assert.equal(saved.organizationId, 'org_demo');
  assert.ok(!existsSync(join(userHome, '.postiz')), "the CLI wrote into the user's HOME");
  // The real CLI's login too: a second event (the CLI says only "node" of itself).
  const webhookLine =
    'webhook cli_login.delivered: organisation org_demo, device 127.0.0.1 (the postiz CLI or another Node.js program), signature verified';
  await waitFor(() => child.stdout().split(webhookLine).length - 1 === 2, { timeoutMs: 15_000 });

  child.proc.kill('SIGINT');
  const { code, signal } = await child.waitForExit(15_000);
  assert.equal(signal, null, child.stderr());
  assert.equal(code, 0, child.stderr());
  assert.ok(!existsSync(home), 'the temporary HOME outlived the demo');
});

test('a DEMO_WEBHOOK_PORT in use: one line naming it, and a non-zero exit', async (t) => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => taken.close(() => resolve())));
  const webhookPort = (taken.address() as { port: number }).port;
  const child = spawnNode(t, ['--import', TSX, 'src/cli.ts', 'demo'], {
    env: cleanEnv({
      PORT: String(await freePort()),
      DEMO_POSTIZ_PORT: String(await freePort()),
      DEMO_WEBHOOK_PORT: String(webhookPort),
    }),
  });
  const { code } = await child.waitForExit(60_000);
  assert.equal(code, 1, child.stderr());
  assert.deepEqual(child.stderr().trim().split('\n'), [
    `postiz-cli-auth: DEMO_WEBHOOK_PORT ${webhookPort} (the demo's webhook receiver, on 127.0.0.1) is already in use (EADDRINUSE): another process listens there, perhaps a demo already running. Stop it, or set DEMO_WEBHOOK_PORT to a free port.`,
  ]);
});

test('a DEMO_POSTIZ_PORT in use: one line naming it, and a non-zero exit', async (t) => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => taken.close(() => resolve())));
  const standInPort = (taken.address() as { port: number }).port;
  const child = spawnNode(t, ['--import', TSX, 'src/cli.ts', 'demo'], {
    env: cleanEnv({ PORT: String(await freePort()), DEMO_POSTIZ_PORT: String(standInPort) }),
  });
  const { code } = await child.waitForExit(60_000);
  assert.equal(code, 1, child.stderr());
  assert.deepEqual(child.stderr().trim().split('\n'), [
    `postiz-cli-auth: DEMO_POSTIZ_PORT ${standInPort} (the demo's Postiz stand-in, on 127.0.0.1) is already in use (EADDRINUSE): another process listens there, perhaps a demo already running. Stop it, or set DEMO_POSTIZ_PORT to a free port.`,
  ]);
});
