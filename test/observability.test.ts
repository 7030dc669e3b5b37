/**
 * The metrics operators alert on that the observer derives: database failures by what the
 * server was doing (`postiz_cli_auth_database_errors_total`), and the time from approval to
 * token (`postiz_cli_auth_approval_to_token_seconds`), in a real login and from the events alone.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from '../harness/build.js';
import { pathOf, poll, walkToCallback } from '../harness/inject-browser.js';
import { TROUBLE_KINDS } from '../src/device-flow/events.js';
import { createLogger } from '../src/logger.js';
import { createMetrics } from '../src/metrics.js';
import { createObserver } from '../src/observability.js';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));

/** A metric's samples as text lines. */
async function samples(metrics: ReturnType<typeof createMetrics>, name: string): Promise<string[]> {
  return (await metrics.registry.metrics()).split('\n').filter((l) => l.startsWith(name));
}

function observer() {
  const metrics = createMetrics({ countPending: async () => 0, countHeld: () => 0, defaultMetrics: false });
  const log = createLogger({ level: 'silent', format: 'json' });
  return { metrics, observer: createObserver(log, metrics, 'the provider refused this server') };
}

test('every trouble the flow reports names a kind the metric knows', () => {
  const files = ['device-flow', 'http', 'storage'].flatMap((dir) =>
    readdirSync(join(SRC, dir), { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.ts'))
      .map((file) => join(SRC, dir, file)),
  );
  const kinds = files.flatMap((file) =>
    [...readFileSync(file, 'utf8').matchAll(/trouble\(\s*'([^']+)',/g)].map((m) => m[1]!),
  );
  assert.ok(kinds.length >= 10, kinds.join('\n'));
  for (const kind of kinds) assert.ok((TROUBLE_KINDS as readonly string[]).includes(kind), kind);
});

test('each trouble is counted, including those whose log line is held back', async () => {
  const { metrics, observer: o } = observer();
  for (let i = 0; i < 3; i++)
    o.trouble('poll', 'database unreachable during a poll; answering authorization_pending', new Error('x'));
  o.trouble('callback', 'database unreachable during a callback; retrying', new Error('x'));
  // Every other kind is there at 0 from the start, so an alert sees its first error.
  assert.deepEqual(
    (await samples(metrics, 'postiz_cli_auth_database_errors_total{')).filter((s) => !s.endsWith(' 0')),
    [
      'postiz_cli_auth_database_errors_total{kind="poll"} 3',
      'postiz_cli_auth_database_errors_total{kind="callback"} 1',
    ],
  );
});

test('approval to token: each delivery carries the time since its approval, wherever that happened', async () => {
  const { metrics, observer: o } = observer();
  o.flowEvent('delivered', 'flow-a', { sinceApprovalMs: 1200 });
  o.flowEvent('delivered', 'flow-b', { sinceApprovalMs: 3000 });
  o.flowEvent('delivered', 'flow-c'); // no approval time: not measured
  const lines = await samples(metrics, 'postiz_cli_auth_approval_to_token_seconds');
  assert.ok(lines.includes('postiz_cli_auth_approval_to_token_seconds_count 2'), lines.join('\n'));
  assert.ok(lines.includes('postiz_cli_auth_approval_to_token_seconds_bucket{le="2"} 1'), lines.join('\n'));
});

test('a real login is measured from approval to token', async (t) => {
  const built = await build(t);
  const walked = await walkToCallback(built.app);
  const done = await walked.browser.get(pathOf(walked.callbackUrl));
  assert.equal(done.status, 200, done.body.slice(0, 300));
  const answer = await poll(built.app, walked.started.device_code);
  assert.equal(answer.status, 200);
  const lines = (await built.metrics.registry.metrics()).split('\n');
  assert.ok(
    lines.includes('postiz_cli_auth_approval_to_token_seconds_count 1'),
    lines.filter((l) => l.includes('approval')).join('\n'),
  );
});
