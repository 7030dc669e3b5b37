/**
 * `npm run demo` (`tsx src/cli.ts demo`): starts with no configuration, prints what to do next,
 * carries a whole login through its built-in Postiz stand-in, and stops cleanly on Ctrl+C.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { cleanEnv, freePort, spawnNode, TSX } from '../../harness/processes.js';
import { approveInBrowser } from '../../harness/walker.js';

test('the demo runs a whole login and stops on SIGINT', { timeout: 120_000 }, async (t) => {
  const port = await freePort();
  const standInPort = await freePort();
  const child = spawnNode(t, ['--import', TSX, 'src/cli.ts', 'demo'], {
    env: cleanEnv({ PORT: String(port), DEMO_POSTIZ_PORT: String(standInPort) }),
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

  child.proc.kill('SIGINT');
  const { code, signal } = await child.waitForExit(15_000);
  assert.equal(signal, null, child.stderr());
  assert.equal(code, 0, child.stderr());
});
