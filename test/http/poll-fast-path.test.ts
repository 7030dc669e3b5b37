/**
 * The poll's fast path (src/http/poll-fast-path.ts) answers exactly as the Fastify route does:
 * the same status, body and headers, for every kind of poll the CLI or a broken client sends,
 * and it leaves to Fastify what it does not take. Each case runs twice on fresh flows: once
 * through the fast path alone (a bare node:http server around it), once through `inject`.
 */
import assert from 'node:assert/strict';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { type Built, build } from '../../harness/build.js';
import {
  consentAtPostiz,
  enterCode,
  InjectBrowser,
  pathOf,
  pressOnConfirmation,
  startFlow,
} from '../../harness/inject-browser.js';

interface Seen {
  status: number;
  body: string;
  headers: Record<string, string>;
}

/** The headers the server sets itself (not Date, Connection, Keep-Alive). */
const OURS = [
  'cache-control',
  'pragma',
  'x-content-type-options',
  'referrer-policy',
  'content-security-policy',
  'strict-transport-security',
  'content-type',
  'content-length',
  'retry-after',
];

function ours(headers: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of OURS) if (headers[name] !== undefined) out[name] = String(headers[name]);
  return out;
}

/** The fast path alone, listening: requests it does not take answer 599. */
async function fastOnly(built: Built): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    if (!built.fastPath(req, res)) res.writeHead(599).end('not taken');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A raw POST /device/token (node:http, so nothing is added or changed on the way). */
function post(url: string, body: string, headers: Record<string, string>): Promise<Seen> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}/device/token`, { method: 'POST', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, headers: ours(res.headers) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const JSON_TYPE = { 'content-type': 'application/json' };

/** What each case sends, given a fresh flow (its device code) made for it. */
type Case = (built: Built) => Promise<{ body: string; headers?: Record<string, string> }>;

/** A flow approved at Postiz (the token waits for its poll). */
async function approvedFlow(built: Built): Promise<string> {
  const started = await startFlow(built.app);
  const browser = new InjectBrowser(built.app);
  const redirect = await pressOnConfirmation(browser, await enterCode(browser, started.user_code), 'confirm');
  const back = await consentAtPostiz(redirect.location!, 'approve');
  assert.equal((await browser.get(pathOf(back))).status, 200);
  return started.device_code;
}

const CASES: Record<string, Case> = {
  pending: async ({ app }) => ({ body: JSON.stringify({ device_code: (await startFlow(app)).device_code }) }),
  'pending, with the RFC grant_type in JSON': async ({ app }) => ({
    body: JSON.stringify({
      device_code: (await startFlow(app)).device_code,
      grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
    }),
  }),
  'held (Prefer: wait=1), then pending': async ({ app }) => ({
    body: JSON.stringify({ device_code: (await startFlow(app)).device_code }),
    headers: { prefer: 'wait=1' },
  }),
  'unknown device code': async () => ({ body: JSON.stringify({ device_code: 'A'.repeat(43) }) }),
  'malformed device code': async () => ({ body: JSON.stringify({ device_code: 'a b' }) }),
  'empty body': async () => ({ body: '' }),
  'broken JSON': async () => ({ body: '{"device_code":' }),
  'a number for the device code': async () => ({ body: '{"device_code":5}' }),
  'an array': async () => ({ body: '[]' }),
  null: async () => ({ body: 'null' }),
  'a string': async () => ({ body: '"x"' }),
  'another grant': async ({ app }) => ({
    body: JSON.stringify({ device_code: (await startFlow(app)).device_code, grant_type: 'password' }),
  }),
  'no device code': async () => ({ body: '{}' }),
  'approved: the token': async (built) => ({
    body: JSON.stringify({ device_code: await approvedFlow(built) }),
  }),
  'denied: access_denied': async (built) => {
    const started = await startFlow(built.app);
    const browser = new InjectBrowser(built.app);
    await pressOnConfirmation(browser, await enterCode(browser, started.user_code), 'deny');
    return { body: JSON.stringify({ device_code: started.device_code }) };
  },
};

test('the fast path answers every kind of JSON poll exactly as the Fastify route does', async (t) => {
  const built = await build(t, { env: { POLL_WAIT_SECONDS: '0' } });
  const fast = await fastOnly(built);
  t.after(fast.close);
  const differences: string[] = [];
  for (const [name, make] of Object.entries(CASES)) {
    const viaFast = await make(built);
    const fastSeen = await post(fast.url, viaFast.body, { ...JSON_TYPE, ...viaFast.headers });
    const viaFastify = await make(built);
    const res = await built.app.inject({
      method: 'POST',
      url: '/device/token',
      headers: { ...JSON_TYPE, ...viaFastify.headers },
      payload: viaFastify.body,
    });
    const fastifySeen: Seen = { status: res.statusCode, body: res.body, headers: ours(res.headers) };
    assert.notEqual(fastSeen.status, 599, `${name}: the fast path took it`);
    // Tokens differ from flow to flow: compare their shape.
    const normalize = (s: Seen) => ({ ...s, body: s.body.replace(/pos_[A-Za-z0-9]+/g, 'pos_…') });
    try {
      assert.deepEqual(normalize(fastSeen), normalize(fastifySeen));
    } catch {
      differences.push(
        `${name}:\n  fast    ${JSON.stringify(fastSeen)}\n  fastify ${JSON.stringify(fastifySeen)}`,
      );
    }
  }
  assert.deepEqual(differences, []);
});

test('the fast path leaves to Fastify what it does not take', async (t) => {
  const built = await build(t);
  const fast = await fastOnly(built);
  t.after(fast.close);
  const code = (await startFlow(built.app)).device_code;
  const body = JSON.stringify({ device_code: code });
  for (const [why, headers, payload] of [
    ['a form', { 'content-type': 'application/x-www-form-urlencoded' }, `device_code=${code}`],
    ['another content type', { 'content-type': 'text/plain' }, body],
    ['a body larger than a poll', JSON_TYPE, JSON.stringify({ device_code: code, pad: 'x'.repeat(2000) })],
  ] as const) {
    assert.equal((await post(fast.url, payload, headers)).status, 599, why);
  }
});

test('a poll through the listening server is answered by the fast path, and counted', async (t) => {
  const built = await build(t);
  await built.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = built.app.server.address() as AddressInfo;
  const started = await startFlow(built.app);
  const seen = await post(
    `http://127.0.0.1:${port}`,
    JSON.stringify({ device_code: started.device_code }),
    JSON_TYPE,
  );
  assert.equal(seen.status, 400);
  assert.equal(seen.body, '{"error":"authorization_pending"}');
  const metrics = (await built.app.inject({ method: 'GET', url: '/metrics' })).body;
  assert.match(metrics, /^postiz_cli_auth_polls_total\{result="authorization_pending"\} 1$/m);
  assert.match(
    metrics,
    /^postiz_cli_auth_http_request_duration_seconds_count\{method="POST",route="\/device\/token",status_code="400"\} 1$/m,
  );
});

for (const [how, failing] of [
  ['rejects', () => Promise.reject(new Error('a bug, not an outage'))],
  [
    'throws at once',
    () => {
      throw new Error('a bug, not an outage');
    },
  ],
] as const) {
  test(`a poll whose flow service ${how} (not an RFC error) answers 503 with no JSON body (the CLI polls again), as the Fastify route does`, async (t) => {
    const built = await build(t);
    const flows = built.flows as { poll: unknown };
    const poll = flows.poll;
    flows.poll = failing;
    t.after(() => {
      flows.poll = poll;
    });
    const fast = await fastOnly(built);
    t.after(fast.close);
    const body = JSON.stringify({ device_code: 'A'.repeat(43) });
    const viaFast = await post(fast.url, body, JSON_TYPE);
    const viaRoute = await built.app.inject({
      method: 'POST',
      url: '/device/token',
      headers: JSON_TYPE,
      payload: body,
    });
    assert.equal(viaFast.status, 503);
    assert.equal(viaFast.body, '', 'no JSON error, which the postiz CLI would take as the end');
    assert.equal(viaFast.headers['retry-after'], '1');
    assert.deepEqual(
      { status: viaFast.status, body: viaFast.body, headers: viaFast.headers },
      { status: viaRoute.statusCode, body: viaRoute.body, headers: ours(viaRoute.headers) },
    );
  });
}
