/**
 * docs/clients.md, "Every answer the CLI can get": the real `postiz` CLI (2.1.0), given each
 * answer of that table to its first poll, does what the table says: it polls again (and then
 * takes the token a second poll gets) or ends the login with the line the table quotes. A
 * scripted server plays the auth server, so each answer is exactly the one documented. That
 * this server sends only those answers is tested where each is produced (test/http,
 * test/reliability, test/security).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../../harness/processes.js';
import { startCliLogin } from './support/postiz-cli.js';

/** How the scripted server answers the first poll. */
type Answer = { status: number; body?: string; headers?: Record<string, string> } | 'cut';

const json = (status: number, body: unknown): Answer => ({
  status,
  body: JSON.stringify(body),
  headers: { 'content-type': 'application/json; charset=utf-8' },
});

/** Each row of the table, by the start of its first cell: what is sent, and what the CLI does. */
const ROWS: Record<string, { answer: Answer; cli: 'succeeds' | 'polls again' | RegExp }> = {
  '`200`': {
    answer: json(200, {
      access_token: 'pos_first',
      token_type: 'bearer',
      api_url: 'http://x',
      organization_id: 'o',
    }),
    cli: 'succeeds',
  },
  '`400` `{"error":"authorization_pending"}`': {
    answer: json(400, { error: 'authorization_pending' }),
    cli: 'polls again',
  },
  '`400` `{"error":"expired_token"}`': {
    answer: json(400, { error: 'expired_token' }),
    cli: /Authorization expired/,
  },
  '`400` `{"error":"access_denied"}`': {
    answer: json(400, { error: 'access_denied' }),
    cli: /Authorization failed: access_denied/,
  },
  '`400` `{"error":"invalid_grant"}`': {
    answer: json(400, { error: 'invalid_grant' }),
    cli: /Authorization failed: invalid_grant/,
  },
  '`400` `{"error":"invalid_request"}`': {
    answer: json(400, { error: 'invalid_request' }),
    cli: /Authorization failed: invalid_request/,
  },
  '`400` `{"error":"postiz_subscription_required"}`': {
    answer: json(400, { error: 'postiz_subscription_required' }),
    cli: /Authorization failed: postiz_subscription_required/,
  },
  '`400` `{"error":"postiz_refused_token"}`': {
    answer: json(400, { error: 'postiz_refused_token' }),
    cli: /Authorization failed: postiz_refused_token/,
  },
  '`429` `{"error":"too_many_requests"}`': {
    answer: json(429, { error: 'too_many_requests' }),
    cli: /Authorization failed: too_many_requests/,
  },
  '`413` `{"error":"invalid_request"}`': {
    answer: json(413, { error: 'invalid_request' }),
    cli: /Authorization failed: invalid_request/,
  },
  '`503`, no body': { answer: { status: 503, headers: { 'retry-after': '1' } }, cli: 'polls again' },
  '`408`, no body': { answer: { status: 408 }, cli: 'polls again' },
  '`400`, no body': { answer: { status: 400 }, cli: 'polls again' },
  '`431`, no body': { answer: { status: 431 }, cli: 'polls again' },
  'The connection is refused, reset or cut': { answer: 'cut', cli: 'polls again' },
};

/** The first cells of the table in docs/clients.md. */
function documentedRows(): string[] {
  const doc = readFileSync(join(ROOT, 'docs/clients.md'), 'utf8');
  const section = doc.slice(doc.indexOf('### Every answer the CLI can get'));
  const table = section.slice(
    section.indexOf('| Answer |'),
    section.indexOf('\n\n', section.indexOf('| Answer |')),
  );
  return table
    .split('\n')
    .slice(2)
    .map((line) => line.split(' | ')[0]!.replace(/^\| /, ''));
}

/** A scripted auth server: the first poll gets `answer`, every later one the token `pos_second`. */
async function scriptedServer(
  answer: Answer,
): Promise<{ url: string; polls: () => number; close: () => void }> {
  let polls = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/device/code') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            device_code: 'd'.repeat(43),
            user_code: 'BCDF-GHJK',
            verification_uri: `http://127.0.0.1:${(server.address() as AddressInfo).port}/device/verify`,
            expires_in: 60,
            interval: 1,
          }),
        );
        return;
      }
      polls++;
      if (polls > 1) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ access_token: 'pos_second', token_type: 'bearer', api_url: 'http://x' }));
        return;
      }
      if (answer === 'cut') {
        req.socket.destroy();
        return;
      }
      res.writeHead(answer.status, answer.headers ?? {});
      res.end(answer.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    polls: () => polls,
    close: () => server.close(),
  };
}

test('the table lists exactly the answers tested here', () => {
  assert.deepEqual(
    documentedRows().map((row) => Object.keys(ROWS).find((key) => row.startsWith(key))),
    Object.keys(ROWS),
  );
});

for (const [row, { answer, cli }] of Object.entries(ROWS)) {
  test(`the postiz CLI, answered ${row}: ${typeof cli === 'string' ? cli : `ends (${cli.source})`}`, async (t) => {
    const server = await scriptedServer(answer);
    t.after(server.close);
    const login = await startCliLogin(t, server.url);
    const { code } = await login.child.waitForExit(30_000);
    const output = `${login.child.stdout()}\n${login.child.stderr()}`;
    if (cli === 'succeeds') {
      assert.equal(code, 0, output);
      assert.equal((await login.credentials()).accessToken, 'pos_first');
      assert.equal(server.polls(), 1);
    } else if (cli === 'polls again') {
      assert.equal(code, 0, output);
      assert.equal(
        (await login.credentials()).accessToken,
        'pos_second',
        'it polled again and took the token',
      );
    } else {
      assert.equal(code, 1, output);
      assert.match(output, cli);
      assert.equal(server.polls(), 1, 'it did not poll again');
    }
  });
}
