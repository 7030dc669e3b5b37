import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, describe, test } from 'node:test';
import {
  createStandIn,
  type StandIn,
  type StandInClient,
  type StandInOptions,
} from '../../demo/stand-in/index.js';

const STATIC_CLIENT: StandInClient = {
  clientId: `pca_${'a'.repeat(32)}`,
  clientSecret: `pcs_${'s'.repeat(48)}`,
  redirectUri: 'http://localhost:3111/device/callback?from=postiz',
  name: 'CLI login <demo> & "friends"',
};
const OTHER_CLIENT: StandInClient = {
  clientId: `pca_${'b'.repeat(32)}`,
  clientSecret: `pcs_${'t'.repeat(48)}`,
  redirectUri: 'http://localhost:4000/cb',
  name: 'Other app',
};
const DYNAMIC_CLIENT: StandInClient = {
  clientId: `pcd_${'c'.repeat(32)}`,
  clientSecret: `pcs_${'u'.repeat(48)}`,
  redirectUri: 'http://127.0.0.1:5000/callback',
  name: 'Dynamic app',
};
const USER = { name: 'Ada <Lovelace>', organizationId: '11111111-2222-4333-8444-555555555555' };

const standIns: StandIn[] = [];

afterEach(async () => {
  await Promise.all(standIns.splice(0).map((s) => s.close()));
});

function makeStandIn(overrides: Partial<StandInOptions> = {}): StandIn {
  const standIn = createStandIn({
    clients: [STATIC_CLIENT, OTHER_CLIENT, DYNAMIC_CLIENT],
    user: USER,
    ...overrides,
  });
  standIns.push(standIn);
  return standIn;
}

function pkcePair() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** The consent form's POST, with the fields given (a test may send what no page would). */
async function postDecision(standIn: StandIn, form: Record<string, string>) {
  return standIn.app.inject({
    method: 'POST',
    url: '/oauth/authorize',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams(form).toString(),
  });
}

/** Approves `client` and returns the code from the redirect. */
async function approve(
  standIn: StandIn,
  client: StandInClient = STATIC_CLIENT,
  extra: Record<string, string> = {},
) {
  const response = await postDecision(standIn, {
    client_id: client.clientId,
    state: 'st',
    action: 'approve',
    ...extra,
  });
  assert.equal(response.statusCode, 302, response.body);
  const code = new URL(String(response.headers.location)).searchParams.get('code');
  assert.ok(code);
  return code;
}

async function exchange(standIn: StandIn, body: unknown, contentType = 'application/json') {
  const payload =
    contentType === 'application/json'
      ? JSON.stringify(body)
      : new URLSearchParams(body as Record<string, string>).toString();
  return standIn.app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { 'content-type': contentType },
    payload,
  });
}

function tokenBody(code: string, client: StandInClient = STATIC_CLIENT, extra: Record<string, string> = {}) {
  return {
    grant_type: 'authorization_code',
    code,
    client_id: client.clientId,
    client_secret: client.clientSecret,
    ...extra,
  };
}

async function isConnected(standIn: StandIn, authorization: string) {
  return standIn.app.inject({ method: 'GET', url: '/public/v1/is-connected', headers: { authorization } });
}

describe('consent page', () => {
  test('shows the app, user and organisation, escaped, with Authorize before Deny', async () => {
    const standIn = makeStandIn();
    const query = new URLSearchParams({
      client_id: STATIC_CLIENT.clientId,
      response_type: 'code',
      state: '"><script>alert(1)</script>',
      redirect_uri: 'http://ignored.example/cb',
    });
    const response = await standIn.app.inject({ method: 'GET', url: `/oauth/authorize?${query}` });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/html/);
    const html = response.body;
    assert.ok(html.includes('CLI login &lt;demo&gt; &amp; &quot;friends&quot;'));
    assert.ok(html.includes('Ada &lt;Lovelace&gt;'));
    assert.ok(html.includes(USER.organizationId));
    assert.ok(!html.includes('<script>'), 'echoed state must be escaped');
    assert.ok(html.includes('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"'));
    assert.match(html, /<form method="post" action="\/oauth\/authorize">/);
    const approveAt = html.indexOf('name="action" value="approve">Authorize</button>');
    const denyAt = html.indexOf('name="action" value="deny">Deny</button>');
    assert.ok(approveAt > 0 && denyAt > approveAt, 'Authorize comes first, then Deny');
    assert.match(html, /stand-in/);
  });

  test('refuses a missing client_id, a wrong response_type and an unknown client without redirecting', async () => {
    const standIn = makeStandIn();
    const urls = [
      '/oauth/authorize?response_type=code&state=x',
      `/oauth/authorize?client_id=${STATIC_CLIENT.clientId}&response_type=token&state=x`,
      `/oauth/authorize?client_id=${STATIC_CLIENT.clientId}&state=x`,
      '/oauth/authorize?client_id=pca_unknown<b>&response_type=code&state=x',
    ];
    for (const url of urls) {
      const response = await standIn.app.inject({ method: 'GET', url });
      assert.ok(response.statusCode >= 400 && response.statusCode < 500, url);
      assert.equal(response.headers.location, undefined, url);
      assert.match(String(response.headers['content-type']), /^text\/html/);
      assert.ok(!response.body.includes('<b>'), 'nothing echoed unescaped');
    }
  });

  test('a decision for an unknown client is an error page, not a redirect', async () => {
    const standIn = makeStandIn();
    const response = await postDecision(standIn, { client_id: 'pca_nope', state: 's', action: 'approve' });
    assert.equal(response.statusCode, 400);
    assert.equal(response.headers.location, undefined);
  });
});

describe('decision redirects', () => {
  test('approve goes to the registered URL, keeping its query, with a 32-character code and the state', async () => {
    const standIn = makeStandIn();
    const response = await postDecision(standIn, {
      client_id: STATIC_CLIENT.clientId,
      response_type: 'code',
      state: 'a b&c',
      redirect_uri: 'http://evil.example/steal',
      code_challenge: 'ignored-for-pca',
      code_challenge_method: 'plain',
      action: 'approve',
    });
    assert.equal(response.statusCode, 302);
    const location = new URL(String(response.headers.location));
    assert.equal(`${location.origin}${location.pathname}`, 'http://localhost:3111/device/callback');
    assert.equal(location.searchParams.get('from'), 'postiz');
    assert.match(location.searchParams.get('code') ?? '', /^[A-Za-z0-9]{32}$/);
    assert.equal(location.searchParams.get('state'), 'a b&c');
  });

  test('deny sends error=access_denied with the state', async () => {
    const standIn = makeStandIn();
    const response = await postDecision(standIn, {
      client_id: STATIC_CLIENT.clientId,
      state: 'xyz',
      action: 'deny',
    });
    assert.equal(response.statusCode, 302);
    const location = new URL(String(response.headers.location));
    assert.equal(location.searchParams.get('error'), 'access_denied');
    assert.equal(location.searchParams.get('state'), 'xyz');
    assert.equal(location.searchParams.get('from'), 'postiz');
    assert.equal(location.searchParams.get('code'), null);
  });

  test('an empty state is left out of both redirects', async () => {
    const standIn = makeStandIn();
    for (const action of ['approve', 'deny']) {
      const response = await postDecision(standIn, { client_id: STATIC_CLIENT.clientId, state: '', action });
      const location = new URL(String(response.headers.location));
      assert.equal(location.searchParams.has('state'), false, action);
    }
  });
});

describe('decide(): the consent page answered without a browser', () => {
  const authorizeUrl = (state: string, client = STATIC_CLIENT) =>
    `http://postiz.example/oauth/authorize?${new URLSearchParams({ client_id: client.clientId, response_type: 'code', state })}`;

  test('approve: the redirect to the registered URL with a code that exchanges once', async () => {
    const standIn = makeStandIn();
    const back = await standIn.decide(authorizeUrl('s1'), 'approve');
    assert.equal(`${back.origin}${back.pathname}`, 'http://localhost:3111/device/callback');
    assert.equal(back.searchParams.get('state'), 's1');
    const code = back.searchParams.get('code') ?? '';
    assert.match(code, /^[A-Za-z0-9]{32}$/);
    assert.equal((await exchange(standIn, tokenBody(code))).statusCode, 201);
    assert.equal((await exchange(standIn, tokenBody(code))).statusCode, 400);
  });

  test('deny: error=access_denied with the state, and no code', async () => {
    const back = await makeStandIn().decide(new URL(authorizeUrl('s2')), 'deny');
    assert.equal(back.searchParams.get('error'), 'access_denied');
    assert.equal(back.searchParams.get('state'), 's2');
    assert.equal(back.searchParams.get('code'), null);
  });

  test('a URL whose consent page would not render (unknown client) is an error, not a redirect', async () => {
    const unknown = { ...STATIC_CLIENT, clientId: 'pca_unknown0000000000000000000000000' };
    await assert.rejects(
      makeStandIn().decide(authorizeUrl('s3', unknown), 'approve'),
      /consent page answered 400/,
    );
  });
});

describe('token exchange', () => {
  test('answers 201 with the organisation, a pos_ token, bearer and the scope', async () => {
    const standIn = makeStandIn();
    const code = await approve(standIn);
    const response = await exchange(standIn, tokenBody(code));
    assert.equal(response.statusCode, 201);
    const body = response.json();
    assert.deepEqual(Object.keys(body).sort(), ['access_token', 'cus', 'id', 'scope', 'token_type']);
    assert.equal(body.id, USER.organizationId);
    assert.equal(body.cus, null);
    assert.match(body.access_token, /^pos_[A-Za-z0-9]{40}$/);
    assert.equal(body.token_type, 'bearer');
    assert.equal(body.scope, 'mcp:read mcp:write');
    assert.deepEqual(standIn.issuedTokens(), [body.access_token]);
    assert.equal(standIn.isValid(body.access_token), true);
  });

  test('accepts a form-encoded body too', async () => {
    const standIn = makeStandIn();
    const code = await approve(standIn);
    const response = await exchange(standIn, tokenBody(code), 'application/x-www-form-urlencoded');
    assert.equal(response.statusCode, 201);
  });

  test('a code works once only', async () => {
    const standIn = makeStandIn();
    const code = await approve(standIn);
    assert.equal((await exchange(standIn, tokenBody(code))).statusCode, 201);
    const again = await exchange(standIn, tokenBody(code));
    assert.equal(again.statusCode, 400);
    assert.deepEqual(again.json(), { error: 'invalid_grant' });
    assert.equal(standIn.issuedTokens().length, 1);
  });

  test('an unknown code, or another app’s code, is invalid_grant', async () => {
    const standIn = makeStandIn();
    const unknown = await exchange(standIn, tokenBody('x'.repeat(32)));
    assert.equal(unknown.statusCode, 400);
    assert.deepEqual(unknown.json(), { error: 'invalid_grant' });
    const code = await approve(standIn, STATIC_CLIENT);
    const stolen = await exchange(standIn, tokenBody(code, OTHER_CLIENT));
    assert.equal(stolen.statusCode, 400);
    assert.deepEqual(stolen.json(), { error: 'invalid_grant' });
  });

  test('a code expires after codeTtlMs on the injected clock, and is used up by the attempt', async () => {
    let clock = 1_000_000;
    const standIn = makeStandIn({ now: () => clock, codeTtlMs: 60_000 });
    const fresh = await approve(standIn);
    clock += 60_000; // exactly at the limit still works
    assert.equal((await exchange(standIn, tokenBody(fresh))).statusCode, 201);

    const stale = await approve(standIn);
    clock += 60_001;
    const late = await exchange(standIn, tokenBody(stale));
    assert.equal(late.statusCode, 400);
    assert.deepEqual(late.json(), { error: 'invalid_grant', error_description: 'Code has expired' });
    assert.deepEqual((await exchange(standIn, tokenBody(stale))).json(), { error: 'invalid_grant' });
  });

  test('the default lifetime is ten minutes', async () => {
    let clock = 0;
    const standIn = makeStandIn({ now: () => clock });
    const code = await approve(standIn);
    clock += 10 * 60 * 1000 + 1;
    assert.deepEqual((await exchange(standIn, tokenBody(code))).json(), {
      error: 'invalid_grant',
      error_description: 'Code has expired',
    });
  });

  test('a wrong secret or unknown client is 401 invalid_client and leaves the code usable', async () => {
    const standIn = makeStandIn();
    const code = await approve(standIn);
    const wrong = await exchange(standIn, tokenBody(code, STATIC_CLIENT, { client_secret: 'pcs_wrong' }));
    assert.equal(wrong.statusCode, 401);
    assert.deepEqual(wrong.json(), { error: 'invalid_client' });
    const unknown = await exchange(standIn, tokenBody(code, STATIC_CLIENT, { client_id: 'pca_unknown' }));
    assert.equal(unknown.statusCode, 401);
    assert.deepEqual(unknown.json(), { error: 'invalid_client' });
    assert.equal((await exchange(standIn, tokenBody(code))).statusCode, 201);
  });

  test('a grant type other than authorization_code is unsupported_grant_type', async () => {
    const standIn = makeStandIn();
    const code = await approve(standIn);
    const response = await exchange(standIn, tokenBody(code, STATIC_CLIENT, { grant_type: 'refresh_token' }));
    assert.equal(response.statusCode, 400);
    assert.deepEqual(response.json(), { error: 'unsupported_grant_type' });
  });

  test('a malformed body gets a NestJS validation answer', async () => {
    const standIn = makeStandIn();
    const bodies: unknown[] = [[], 'just a string', { grant_type: 'authorization_code', code: 5 }, {}];
    for (const body of bodies) {
      const response = await exchange(standIn, body);
      assert.equal(response.statusCode, 400, JSON.stringify(body));
      const json = response.json();
      assert.equal(json.statusCode, 400);
      assert.equal(json.error, 'Bad Request');
      assert.ok(Array.isArray(json.message) && json.message.length > 0);
      assert.ok(json.message.every((m: unknown) => typeof m === 'string'));
    }
    const partial = (await exchange(standIn, { grant_type: 'authorization_code', code: 5 })).json();
    assert.ok(partial.message.includes('code must be a string'));
    assert.ok(partial.message.includes('client_id should not be null or undefined'));

    const empty = await standIn.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(empty.statusCode, 400);
    assert.ok(Array.isArray(empty.json().message));

    const broken = await standIn.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/json' },
      payload: '{"grant_type":',
    });
    assert.equal(broken.statusCode, 400);
    assert.equal(broken.json().error, 'Bad Request');
  });
});

describe('pcd_ apps (PKCE)', () => {
  function authorizeUrl(extra: Record<string, string>) {
    return `/oauth/authorize?${new URLSearchParams({
      client_id: DYNAMIC_CLIENT.clientId,
      response_type: 'code',
      state: 's',
      ...extra,
    })}`;
  }

  test('succeeds with S256, the registered redirect_uri and the right verifier', async () => {
    const standIn = makeStandIn();
    const { verifier, challenge } = pkcePair();
    const params = {
      redirect_uri: DYNAMIC_CLIENT.redirectUri,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    };
    const consent = await standIn.app.inject({ method: 'GET', url: authorizeUrl(params) });
    assert.equal(consent.statusCode, 200);
    assert.ok(consent.body.includes(`name="code_challenge" value="${challenge}"`));
    const code = await approve(standIn, DYNAMIC_CLIENT, params);
    const response = await exchange(
      standIn,
      tokenBody(code, DYNAMIC_CLIENT, { code_verifier: verifier, redirect_uri: DYNAMIC_CLIENT.redirectUri }),
    );
    assert.equal(response.statusCode, 201);
    assert.match(response.json().access_token, /^pos_/);
  });

  test('the authorize page refuses missing PKCE, plain PKCE or another redirect_uri', async () => {
    const standIn = makeStandIn();
    const { challenge } = pkcePair();
    const bad: Array<Record<string, string>> = [
      { redirect_uri: DYNAMIC_CLIENT.redirectUri },
      { redirect_uri: DYNAMIC_CLIENT.redirectUri, code_challenge: challenge, code_challenge_method: 'plain' },
      { redirect_uri: DYNAMIC_CLIENT.redirectUri, code_challenge: challenge },
      {
        redirect_uri: 'http://127.0.0.1:5000/other',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      },
      { code_challenge: challenge, code_challenge_method: 'S256' },
    ];
    for (const params of bad) {
      const page = await standIn.app.inject({ method: 'GET', url: authorizeUrl(params) });
      assert.equal(page.statusCode, 400, JSON.stringify(params));
      const decision = await postDecision(standIn, {
        client_id: DYNAMIC_CLIENT.clientId,
        state: 's',
        action: 'approve',
        ...params,
      });
      assert.equal(decision.statusCode, 400, JSON.stringify(params));
      assert.equal(decision.headers.location, undefined);
    }
  });

  test('a wrong or missing verifier, or another redirect_uri, is invalid_grant and burns the code', async () => {
    const standIn = makeStandIn();
    const { verifier, challenge } = pkcePair();
    const params = {
      redirect_uri: DYNAMIC_CLIENT.redirectUri,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    };
    const attempts: Array<Record<string, string>> = [
      { code_verifier: pkcePair().verifier, redirect_uri: DYNAMIC_CLIENT.redirectUri },
      { redirect_uri: DYNAMIC_CLIENT.redirectUri },
      { code_verifier: verifier, redirect_uri: 'http://127.0.0.1:5000/other' },
      { code_verifier: verifier },
    ];
    for (const extra of attempts) {
      const code = await approve(standIn, DYNAMIC_CLIENT, params);
      const response = await exchange(standIn, tokenBody(code, DYNAMIC_CLIENT, extra));
      assert.equal(response.statusCode, 400, JSON.stringify(extra));
      assert.equal(response.json().error, 'invalid_grant');
      const retry = await exchange(
        standIn,
        tokenBody(code, DYNAMIC_CLIENT, {
          code_verifier: verifier,
          redirect_uri: DYNAMIC_CLIENT.redirectUri,
        }),
      );
      assert.deepEqual(
        retry.json(),
        { error: 'invalid_grant' },
        'the code is single-use even after a failure',
      );
    }
    assert.deepEqual(standIn.issuedTokens(), []);
  });
});

describe('faults', () => {
  test('server-error answers 500 and leaves the code for a retry', async () => {
    const standIn = makeStandIn();
    const code = await approve(standIn);
    standIn.failNext('server-error');
    const response = await exchange(standIn, tokenBody(code));
    assert.equal(response.statusCode, 500);
    assert.deepEqual(response.json(), { statusCode: 500, message: 'Internal server error' });
    assert.equal((await exchange(standIn, tokenBody(code))).statusCode, 201);
  });

  test('malformed-json answers 201 with a truncated JSON body', async () => {
    const standIn = makeStandIn();
    const code = await approve(standIn);
    standIn.failNext('malformed-json');
    const response = await exchange(standIn, tokenBody(code));
    assert.equal(response.statusCode, 201);
    assert.match(String(response.headers['content-type']), /^application\/json/);
    assert.equal(response.body, '{"access_token": ');
    assert.throws(() => JSON.parse(response.body));
    assert.equal((await exchange(standIn, tokenBody(code))).statusCode, 201);
  });

  test('no-access-token answers 201 without a token', async () => {
    const standIn = makeStandIn();
    const code = await approve(standIn);
    standIn.failNext('no-access-token');
    const response = await exchange(standIn, tokenBody(code));
    assert.equal(response.statusCode, 201);
    assert.deepEqual(response.json(), { id: USER.organizationId, token_type: 'bearer' });
    assert.deepEqual(standIn.issuedTokens(), []);
  });

  test('invalid-client answers 401 for the next count requests only', async () => {
    const standIn = makeStandIn();
    const code = await approve(standIn);
    standIn.failNext('invalid-client', 2);
    for (let i = 0; i < 2; i++) {
      const response = await exchange(standIn, tokenBody(code));
      assert.equal(response.statusCode, 401);
      assert.deepEqual(response.json(), { error: 'invalid_client' });
    }
    assert.equal((await exchange(standIn, tokenBody(code))).statusCode, 201);
  });

  test('faults queue in order', async () => {
    const standIn = makeStandIn();
    standIn.failNext('server-error');
    standIn.failNext('invalid-client');
    assert.equal((await exchange(standIn, {})).statusCode, 500);
    assert.equal((await exchange(standIn, {})).statusCode, 401);
    assert.equal((await exchange(standIn, {})).statusCode, 400);
  });

  test('hang never answers, and close() still resolves, cutting the request off', {
    timeout: 5000,
  }, async () => {
    const standIn = makeStandIn();
    const base = await standIn.listen();
    assert.match(base, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(standIn.url, base);
    const code = await approve(standIn);
    standIn.failNext('hang');
    const pending = fetch(`${base}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(tokenBody(code)),
    });
    const outcome = await Promise.race([
      pending.then(
        () => 'answered',
        () => 'failed',
      ),
      new Promise((resolve) => setTimeout(resolve, 200, 'waiting')),
    ]);
    assert.equal(outcome, 'waiting');
    await standIn.close();
    await assert.rejects(pending);
    assert.equal(standIn.url, undefined);
  });

  test('hang over inject is cut off by close() too', { timeout: 5000 }, async () => {
    const standIn = makeStandIn();
    standIn.failNext('hang');
    const pending = exchange(standIn, {});
    await new Promise((resolve) => setTimeout(resolve, 50));
    await standIn.close();
    await assert.rejects(pending);
  });
});

describe('tokens', () => {
  test('approving again for the same app, user and organisation revokes the earlier token', async () => {
    const standIn = makeStandIn();
    const first = (await exchange(standIn, tokenBody(await approve(standIn)))).json().access_token;
    const otherApp = (
      await exchange(standIn, tokenBody(await approve(standIn, OTHER_CLIENT), OTHER_CLIENT))
    ).json().access_token;
    assert.equal(standIn.isValid(first), true);

    const secondCode = await approve(standIn);
    assert.equal(standIn.isValid(first), false, 'revoked as soon as the app is approved again');
    const second = (await exchange(standIn, tokenBody(secondCode))).json().access_token;
    assert.equal(standIn.isValid(second), true);
    assert.equal(standIn.isValid(otherApp), true, 'other apps keep their tokens');
    assert.deepEqual(standIn.issuedTokens(), [first, otherApp, second]);
    assert.equal((await isConnected(standIn, first)).statusCode, 401);
  });

  test('approving again also replaces a code not yet exchanged', async () => {
    const standIn = makeStandIn();
    const older = await approve(standIn);
    const newer = await approve(standIn);
    assert.deepEqual((await exchange(standIn, tokenBody(older))).json(), { error: 'invalid_grant' });
    assert.equal((await exchange(standIn, tokenBody(newer))).statusCode, 201);
  });

  test('is-connected accepts the raw token and refuses Bearer, unknown or missing tokens', async () => {
    const standIn = makeStandIn();
    const token = (await exchange(standIn, tokenBody(await approve(standIn)))).json().access_token;
    const ok = await isConnected(standIn, token);
    assert.equal(ok.statusCode, 200);
    assert.deepEqual(ok.json(), { connected: true });
    assert.equal((await isConnected(standIn, `Bearer ${token}`)).statusCode, 401);
    assert.equal((await isConnected(standIn, `pos_${'z'.repeat(40)}`)).statusCode, 401);
    const missing = await standIn.app.inject({ method: 'GET', url: '/public/v1/is-connected' });
    assert.equal(missing.statusCode, 401);
    assert.equal(typeof missing.json(), 'object');
  });

  test("integrations lists the organisation's channels for the raw token only (what postiz auth:status asks)", async () => {
    const standIn = makeStandIn();
    const token = (await exchange(standIn, tokenBody(await approve(standIn)))).json().access_token;
    const list = (authorization?: string) =>
      standIn.app.inject({
        method: 'GET',
        url: '/public/v1/integrations',
        headers: authorization ? { authorization } : {},
      });
    const ok = await list(token);
    assert.equal(ok.statusCode, 200);
    const channels = ok.json() as { id: string; name: string; identifier: string; disabled: boolean }[];
    assert.equal(channels.length, 1);
    assert.equal(typeof channels[0]!.id, 'string');
    assert.equal(channels[0]!.disabled, false);
    for (const refused of [`Bearer ${token}`, `pos_${'z'.repeat(40)}`, undefined]) {
      assert.equal((await list(refused)).statusCode, 401, String(refused));
    }
  });
});

describe('options', () => {
  test('defaults to a demo user with a random organisation id', async () => {
    const standIn = createStandIn({ clients: [STATIC_CLIENT] });
    standIns.push(standIn);
    const token = await exchange(standIn, tokenBody(await approve(standIn)));
    assert.match(token.json().id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  test('refuses duplicate clients and unparseable redirect URLs', () => {
    assert.throws(() => createStandIn({ clients: [STATIC_CLIENT, STATIC_CLIENT] }), /twice/);
    assert.throws(
      () => createStandIn({ clients: [{ ...STATIC_CLIENT, redirectUri: 'not a url' }] }),
      /redirectUri/,
    );
  });
});
