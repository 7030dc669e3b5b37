/**
 * The postiz CLI sees byte for byte the answers it saw before the provider seam: recorded
 * exchanges (test/fixtures/postiz-cli-exchanges.json: a start, each kind of poll answer, the
 * errors, the token answer) are replayed against a listening server with the Postiz profile, and
 * each answer's status, headers and body must equal the recording. Values drawn at random (the
 * device and user codes, tokens, ports) are replaced by placeholders on both sides.
 * `RECORD_EXCHANGES=1` writes the recording from the code as it is.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { build, UNPAID_ORG } from '../../harness/build.js';
import { InjectBrowser, pathOf, walkToCallback } from '../../harness/inject-browser.js';
import { ROOT } from '../../harness/processes.js';

const FIXTURE = join(ROOT, 'test/fixtures/postiz-cli-exchanges.json');

/** The headers that tell the answer (not the date, the connection, or a request id). */
const KEPT_HEADERS = [
  'content-type',
  'content-length',
  'cache-control',
  'pragma',
  'retry-after',
  'x-content-type-options',
  'referrer-policy',
  'content-security-policy',
  'strict-transport-security',
];

interface Exchange {
  name: string;
  request: { method: string; path: string; headers: Record<string, string>; body?: string };
  status: number;
  headers: Record<string, string>;
  body: string;
}

test('the postiz CLI sees the same answers, byte for byte, as recorded', async (t) => {
  const built = await build(t, { env: { TRUST_PROXY: 'true', POLL_WAIT_SECONDS: '0' } });
  await built.app.listen({ port: 0, host: '127.0.0.1' });
  const address = built.app.server.address();
  assert.ok(address && typeof address === 'object');
  const server = `http://127.0.0.1:${address.port}`;
  const secrets = new Map<string, string>([
    [server, '{{server}}'],
    [built.standIn.url!, '{{postiz}}'],
  ]);
  /** A value drawn at random, to be written as `{{name}}` in the recording. */
  const remember = (value: string, name: string) => secrets.set(value, `{{${name}}}`);
  const normalize = (text: string) => {
    let out = text;
    // Longest first, so a value inside another is replaced after it.
    for (const [value, name] of [...secrets].sort((a, b) => b[0].length - a[0].length))
      out = out.replaceAll(value, name);
    return out;
  };

  const exchanges: Exchange[] = [];
  /** Send what the postiz CLI sends, and record the answer. */
  const send = async (
    name: string,
    path: string,
    body: string | undefined,
    headers: Record<string, string> = {},
  ): Promise<Record<string, unknown>> => {
    const request = {
      method: 'POST',
      path,
      headers: { 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.50', ...headers },
      ...(body === undefined ? {} : { body }),
    };
    const response = await fetch(`${server}${path}`, {
      method: 'POST',
      headers: request.headers,
      ...(body === undefined ? {} : { body }),
    });
    const text = await response.text();
    const kept: Record<string, string> = {};
    for (const header of KEPT_HEADERS) {
      const value = response.headers.get(header);
      if (value !== null) kept[header] = normalize(value);
    }
    let parsed: Record<string, unknown> = {};
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // Not JSON (a 503 without a body, say).
    }
    for (const field of ['device_code', 'user_code', 'access_token'])
      if (typeof parsed[field] === 'string') remember(parsed[field] as string, field);
    exchanges.push({
      name,
      request: { ...request, ...(body === undefined ? {} : { body: normalize(body) }) },
      status: response.status,
      headers: kept,
      body: normalize(text),
    });
    return parsed;
  };
  const start = (name: string) => send(name, '/device/code', undefined);
  const pollOf = (name: string, deviceCode: string) =>
    send(name, '/device/token', JSON.stringify({ device_code: deviceCode }));
  const later = (ms = 5000) => built.clock.advance(ms);

  // A login, approved: pending, then the token, again within the grace, then spent.
  const started = await start('start');
  await pollOf('pending', started.device_code as string);
  const browser = new InjectBrowser(built.app, undefined, { 'x-forwarded-for': '203.0.113.51' });
  const approved = await walkToCallback(built.app, 'approve', browser, undefined, {
    'x-forwarded-for': '203.0.113.50',
  });
  remember(approved.started.device_code, 'device_code_2');
  remember(approved.started.user_code, 'user_code_2');
  assert.equal((await browser.get(pathOf(approved.callbackUrl))).status, 200);
  later();
  const token = await pollOf('token', approved.started.device_code);
  remember(token.access_token as string, 'access_token');
  later();
  await pollOf('token again, within the grace', approved.started.device_code);
  later(61_000);
  await pollOf('spent', approved.started.device_code);

  // Denied at Postiz, cancelled on the confirmation page, and no subscription.
  for (const [name, decision, organization] of [
    ['denied', 'deny', undefined],
    ['no subscription', 'approve', UNPAID_ORG.id],
  ] as const) {
    const walked = await walkToCallback(built.app, decision, browser, organization, {
      'x-forwarded-for': '203.0.113.50',
    });
    remember(walked.started.device_code, `device_code_${name.replace(' ', '_')}`);
    await browser.get(pathOf(walked.callbackUrl));
    later();
    await pollOf(name, walked.started.device_code);
  }
  built.standIn.failNextPublic('forbidden');
  const refused = await walkToCallback(built.app, 'approve', browser, undefined, {
    'x-forwarded-for': '203.0.113.50',
  });
  remember(refused.started.device_code, 'device_code_refused');
  await browser.get(pathOf(refused.callbackUrl));
  later();
  await pollOf('token refused', refused.started.device_code);

  const expiring = await start('start, to expire');
  later(built.config.deviceCodeTtlSeconds * 1000);
  await pollOf('expired', expiring.device_code as string);

  // Malformed polls.
  await send('not JSON', '/device/token', '{"device_code":');
  await send('no body', '/device/token', undefined);
  await send('no device code', '/device/token', '{}');
  await pollOf('unknown device code', 'x'.repeat(43));
  await send('too large', '/device/token', JSON.stringify({ device_code: 'x'.repeat(20_000) }));
  for (let i = 0; i < 60; i++) await pollOf('', `unknown${i}`.padEnd(43, 'y'));
  exchanges.splice(exchanges.length - 60, 60);
  await pollOf('too many unknown device codes', 'z'.repeat(43));
  for (let i = 0; i < 30; i++) await start('');
  exchanges.splice(exchanges.length - 30, 30);
  await start('too many starts');

  if (process.env.RECORD_EXCHANGES === '1') {
    writeFileSync(FIXTURE, `${JSON.stringify(exchanges, null, 2)}\n`);
    t.diagnostic(`recorded ${exchanges.length} exchanges in ${FIXTURE}`);
    return;
  }
  const recorded = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Exchange[];
  assert.equal(exchanges.length, recorded.length, 'as many exchanges as recorded');
  for (const [i, exchange] of exchanges.entries()) assert.deepEqual(exchange, recorded[i], exchange.name);
});
