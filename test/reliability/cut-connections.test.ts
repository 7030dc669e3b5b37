/**
 * No login is lost to a cut connection (docs/clients.md, "Every answer the CLI can get"). A
 * poll held open whose client has gone stops being held and never claims the token; a token
 * whose answer cannot be written is given back, so the next poll of the same device code gets
 * it, once. On the fast path (the postiz CLI's JSON poll) and on the Fastify route (the RFC
 * form poll) alike, over real sockets.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { build, sharedPglite } from '../../harness/build.js';
import { sleep } from '../../harness/device.js';
import { holdingClaims } from '../../harness/held-claims.js';
import { DEVICE_CODE_GRANT, pathOf, poll, walkToCallback } from '../../harness/inject-browser.js';
import { metric } from '../../harness/observe.js';
import { hashSecret } from '../../src/device-flow/codes.js';
import { REDELIVERY_GRACE_MS } from '../../src/device-flow/poller.js';
import type { Store } from '../../src/storage/store.js';

/** Listen on a free loopback port; the port. */
async function listen(app: FastifyInstance): Promise<number> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  assert.ok(address && typeof address === 'object');
  return address.port;
}

/** How a poll is sent: the postiz CLI's JSON (the fast path) or an RFC 8628 form (the Fastify route). */
type Shape = 'json' | 'form';

function pollRequest(deviceCode: string, shape: Shape, wait?: number): string {
  const body =
    shape === 'json'
      ? JSON.stringify({ device_code: deviceCode })
      : new URLSearchParams({
          grant_type: DEVICE_CODE_GRANT,
          device_code: deviceCode,
          client_id: 'x',
        }).toString();
  const type = shape === 'json' ? 'application/json' : 'application/x-www-form-urlencoded';
  return (
    `POST /device/token HTTP/1.1\r\nHost: localhost\r\nContent-Type: ${type}\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n${wait === undefined ? '' : `Prefer: wait=${wait}\r\n`}` +
    `Connection: close\r\n\r\n${body}`
  );
}

/** Send a poll on a raw socket; the socket (to cut) and the answer's status line and body, once it comes. */
function rawPoll(port: number, deviceCode: string, shape: Shape, wait?: number) {
  const socket = connect({ host: '127.0.0.1', port });
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    text += chunk;
  });
  socket.on('error', () => {});
  socket.write(pollRequest(deviceCode, shape, wait));
  const answered = new Promise<string>((resolve) => socket.on('close', () => resolve(text)));
  return { socket, answered };
}

/** A poll over a fresh connection: its status and JSON body. */
async function pollOnce(port: number, deviceCode: string, shape: Shape) {
  const answer = await rawPoll(port, deviceCode, shape).answered;
  const status = Number(answer.slice(9, 12));
  const body = answer.slice(answer.indexOf('\r\n\r\n') + 4);
  return { status, json: JSON.parse(body) as Record<string, unknown> };
}

for (const shape of ['json', 'form'] as const) {
  test(`a held poll whose client has gone stops being held and never claims the token (${shape})`, async (t) => {
    const { app, clock } = await build(t, { env: { POLL_INTERVAL_SECONDS: '1' } });
    const port = await listen(app);
    const walked = await walkToCallback(app);
    const deviceCode = walked.started.device_code;

    // Held with Prefer: wait=20, then the client goes (Ctrl-C, a laptop lid, a proxy's idle timeout).
    const held = rawPoll(port, deviceCode, shape, 20);
    await sleep(300);
    assert.equal(await metric(app, 'postiz_cli_auth_held_polls'), 1, 'the poll is held');
    held.socket.destroy();
    await sleep(300);
    assert.equal(
      await metric(app, 'postiz_cli_auth_held_polls'),
      0,
      'no longer held once its client is gone',
    );

    // The flow is approved; the CLI, back, polls again and gets its token.
    assert.equal((await walked.browser.get(pathOf(walked.callbackUrl))).status, 200);
    await sleep(1100);
    const next = await pollOnce(port, deviceCode, shape);
    assert.equal(next.status, 200, JSON.stringify(next.json));
    assert.equal(typeof next.json.access_token, 'string');
    // Past the redelivery grace, the device code is spent.
    clock.advance(REDELIVERY_GRACE_MS);
    await sleep(1100);
    assert.equal((await pollOnce(port, deviceCode, shape)).json.error, 'invalid_grant');
  });

  test(`a token whose answer cannot be written is given back: the next poll gets it, and once its grace has passed the device code is spent (${shape})`, async (t) => {
    // The client's socket is cut between the claim and the write.
    let cut: Socket | undefined;
    const shared = await sharedPglite();
    const store = new Proxy(shared, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver);
        if (name !== 'claimToken' || typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          const claimed = await value.apply(target, args);
          if (cut && claimed) {
            cut.destroy();
            cut = undefined;
            await sleep(100);
          }
          return claimed;
        };
      },
    }) as Store;
    const { app, clock } = await build(t, { store, env: { POLL_INTERVAL_SECONDS: '1' } });
    const port = await listen(app);
    const walked = await walkToCallback(app);
    assert.equal((await walked.browser.get(pathOf(walked.callbackUrl))).status, 200);
    const deviceCode = walked.started.device_code;

    const first = rawPoll(port, deviceCode, shape);
    cut = first.socket;
    assert.equal(await first.answered, '', 'the first poll got nothing: its connection was cut');
    await sleep(1100);
    const second = await pollOnce(port, deviceCode, shape);
    assert.equal(second.status, 200, JSON.stringify(second.json));
    assert.equal(typeof second.json.access_token, 'string', 'the token was given back, and delivered');
    // The grace runs from that delivery, not from the cut one: the token went back.
    clock.advance(REDELIVERY_GRACE_MS - 1000);
    await sleep(1100);
    assert.equal((await pollOnce(port, deviceCode, shape)).json.access_token, second.json.access_token);
    clock.advance(1000);
    await sleep(1100);
    assert.equal((await pollOnce(port, deviceCode, shape)).json.error, 'invalid_grant', 'spent');
  });
}

test('a first answer cut after another poll collected the token: the login stays delivered, counted once', async (t) => {
  // Instance A claims first and is held; meanwhile the CLI's retry reaches instance B, which
  // collects the token again (within the grace) and writes it; then A's client is cut.
  const shared = await sharedPglite();
  const holding = holdingClaims(shared);
  const a = await build(t, { store: holding.store });
  const b = await build(t, { store: shared, clock: a.clock, standIn: a.standIn });
  const port = await listen(a.app);
  const walked = await walkToCallback(a.app);
  assert.equal((await walked.browser.get(pathOf(walked.callbackUrl))).status, 200);
  const deviceCode = walked.started.device_code;
  const first = rawPoll(port, deviceCode, 'json');
  await holding.claimed;
  const during = await poll(b.app, deviceCode);
  assert.equal(during.status, 200, during.body);
  first.socket.destroy();
  await sleep(100);
  holding.release();
  assert.equal(await first.answered, '', "A's answer was cut");
  const finished = 'postiz_cli_auth_flows_finished_total{outcome="delivered"}';
  const counted = async () => (await metric(a.app, finished)) + (await metric(b.app, finished));
  await sleep(300);
  assert.equal(await counted(), 1, 'one login delivered, counted once');
  const flow = await shared.findByDeviceCode(hashSecret(deviceCode));
  assert.equal(flow?.status, 'delivered', 'not given back: B wrote it');
});

test('held polls end at jittered times, so waiting CLIs do not come back in lockstep', async (t) => {
  const { app } = await build(t, {
    env: { MAX_HELD_POLLS_PER_ADDRESS: '1000', RATE_LIMIT_FLOW_STARTS: '1000' },
  });
  const port = await listen(app);
  const flows = await Promise.all(
    Array.from({ length: 100 }, () => app.inject({ method: 'POST', url: '/device/code' })),
  );
  const agent = new http.Agent({ keepAlive: true, maxSockets: 200 });
  t.after(() => agent.destroy());
  const started = performance.now();
  const ended = await Promise.all(
    flows.map(
      (flow) =>
        new Promise<number>((resolve, reject) => {
          const request = http.request(
            {
              host: '127.0.0.1',
              port,
              method: 'POST',
              path: '/device/token',
              agent,
              headers: { 'content-type': 'application/json', prefer: 'wait=3' },
            },
            (res) => {
              res.resume();
              res.on('end', () => resolve(performance.now() - started));
            },
          );
          request.on('error', reject);
          request.end(JSON.stringify({ device_code: flow.json().device_code }));
        }),
    ),
  );
  const spread = Math.max(...ended) - Math.min(...ended);
  assert.ok(Math.max(...ended) <= 3500, `every poll within its wait (${Math.round(Math.max(...ended))} ms)`);
  assert.ok(Math.min(...ended) >= 2000, `held most of its wait (${Math.round(Math.min(...ended))} ms)`);
  assert.ok(spread >= 250, `answers spread over ${Math.round(spread)} ms`);
});

test('a poll cut off by the request timeout gets no JSON error (the CLI polls again), on every route', async (t) => {
  const { app } = await build(t, { env: { REQUEST_TIMEOUT_MS: '1000', HEADERS_TIMEOUT_MS: '1000' } });
  const port = await listen(app);
  for (const head of [
    // A body that never arrives whole.
    'POST /device/token HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 60\r\n\r\n{"dev',
    // Headers that never end.
    'POST /device/token HTTP/1.1\r\nHost: localhost\r\nContent-Type: app',
  ]) {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setEncoding('utf8');
    let answer = '';
    socket.on('data', (chunk: string) => {
      answer += chunk;
    });
    socket.on('error', () => {});
    socket.write(head);
    await new Promise((resolve) => socket.on('close', resolve));
    assert.match(answer, /^HTTP\/1\.1 408 /, answer);
    const body = answer.slice(answer.indexOf('\r\n\r\n') + 4);
    assert.equal(body, '', `no body the CLI would read as an error: ${body}`);
  }
  // A request the HTTP parser refuses is answered without a JSON body too.
  const socket = connect({ host: '127.0.0.1', port });
  socket.setEncoding('utf8');
  let answer = '';
  socket.on('data', (chunk: string) => {
    answer += chunk;
  });
  socket.on('error', () => {});
  socket.write('POST /device/token HTTP/1.1\r\nHost: localhost\r\nContent-Length: x\r\n\r\n');
  await new Promise((resolve) => socket.on('close', resolve));
  assert.match(answer, /^HTTP\/1\.1 400 /, answer);
  assert.equal(answer.slice(answer.indexOf('\r\n\r\n') + 4), '');
});
