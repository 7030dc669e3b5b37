/**
 * A guarantee of docs/security.md: input is hostile. Property-based fuzzing of every endpoint's parsers with
 * random bodies, types, encodings, sizes, unicode and prototype-pollution keys: the only
 * answers are 2xx/3xx/4xx, JSON `{error}` from the API and HTML pages from the browser
 * routes, pages never reflect markup, and the server (and `Object.prototype`) stay healthy.
 */
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { build } from '../../harness/build.js';
import { field, InjectBrowser, startFlow, walkToCallback } from '../../harness/inject-browser.js';

const RUNS = 200;
/** Limits out of the way, so the fuzzer reaches past them (being limited is a fine answer too). */
const ENV = {
  RATE_LIMIT_FLOW_STARTS: '1000000',
  RATE_LIMIT_USER_CODE_ATTEMPTS: '100000',
  RATE_LIMIT_USER_CODE_GLOBAL: '10000000',
  RATE_LIMIT_UNKNOWN_POLLS: '1000000',
};

const POLLUTION_KEYS = ['__proto__', 'constructor', 'prototype'];
const FIELD_NAMES = [
  'device_code',
  'grant_type',
  'client_id',
  'user_code',
  '_csrf',
  'action',
  'flow',
  'code',
  'state',
  'error',
  'toString',
  'hasOwnProperty',
  'valueOf',
];

/** Strings of every kind: any code point (lone surrogates too), graphemes, ASCII, long ones. */
const anyString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 64 }),
  fc.string({ unit: 'grapheme', maxLength: 32 }),
  fc.string({ unit: 'binary-ascii', maxLength: 64 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '\uFEFF',
    'null',
    '[]',
    '{}',
    '<script>alert(1)</script>',
    '"><svg onload=x>',
  ),
  fc.string({ minLength: 1000, maxLength: 20_000 }),
);

const key = fc.oneof(
  fc.constantFrom(...POLLUTION_KEYS, ...FIELD_NAMES),
  anyString,
  fc.constant('__proto__[polluted]'),
);

/** A JSON object as text, written by hand so `__proto__` keys survive as keys. */
const objectText: fc.Arbitrary<string> = fc.letrec<{ obj: string; value: string }>((tie) => ({
  obj: fc
    .array(fc.tuple(key, tie('value')), { maxLength: 6 })
    .map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
  value: fc.oneof(
    { depthSize: 'small' },
    fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v) ?? 'null'),
    fc.constant('{"polluted":"yes"}'),
    tie('obj'),
  ),
})).obj;

const POLLUTION_BODIES = [
  '{"__proto__":{"polluted":"yes"}}',
  '{"constructor":{"prototype":{"polluted":"yes"}}}',
  '{"device_code":{"__proto__":{"polluted":"yes"}}}',
  '[{"__proto__":{"polluted":"yes"}}]',
  '{"__proto__":null}',
  '__proto__[polluted]=yes',
  '__proto__.polluted=yes',
  'constructor[prototype][polluted]=yes',
  'device_code[__proto__][polluted]=yes',
  'device_code=a&device_code=b',
  'user_code[]=a&user_code[]=b',
];

/** Form-encoded text from random pairs (keys and values percent-encoded, or raw). */
const formText = fc
  .array(fc.tuple(key, anyString, fc.boolean()), { maxLength: 6 })
  .map((pairs) =>
    pairs
      .map(([k, v, raw]) => (raw ? `${k}=${v}` : `${encodeURIComponent(k)}=${encodeURIComponent(v)}`))
      .join('&'),
  );

/** Any request body. */
const body = fc.oneof(
  fc.jsonValue().map((v) => JSON.stringify(v) ?? ''),
  objectText,
  fc.constantFrom(...POLLUTION_BODIES),
  formText,
  anyString,
  fc.constant(''),
);

/** Content types, including wrong, odd and absent ones. */
const contentType = fc.option(
  fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'APPLICATION/JSON',
    'application/json; charset=utf-16',
    'application/x-www-form-urlencoded',
    'application/x-www-form-urlencoded; charset=iso-8859-1',
    'text/plain',
    'text/html',
    'multipart/form-data; boundary=x',
    'application/xml',
    'application/octet-stream',
    '*/*',
    ';',
    'application/json, application/x-www-form-urlencoded',
  ),
  { nil: undefined },
);

/** A query string from random pairs: encoded, or raw printable ASCII (bad %-escapes included). */
const queryText = fc
  .array(
    fc.tuple(
      fc.oneof(
        fc.constantFrom('code', 'state', 'error', ...POLLUTION_KEYS, '__proto__[polluted]', 'code[]'),
        anyString,
      ),
      fc.oneof(anyString, fc.constantFrom('%', '%zz', '%E0%A4%A', '%00', '[]', '&&', '==')),
      fc.boolean(),
    ),
    { maxLength: 5 },
  )
  .map((pairs) =>
    pairs
      .map(([k, v, raw]) =>
        raw
          ? `${k.replace(/[^\x21-\x7e]/g, '')}=${v.replace(/[^\x21-\x7e]/g, '').replace(/#/g, '')}`
          : `${encodeURIComponent(k)}=${encodeURIComponent(v)}`,
      )
      .join('&'),
  );

/** Random `Cookie` headers: junk, or our cookie names with junk values. */
const cookieHeader = fc.option(
  fc.oneof(
    anyString.map((s) => s.replace(/[^\x20-\x7e]/g, '')),
    fc
      .tuple(fc.constantFrom('pca_session', 'pca_bind_x', '__proto__', 'constructor'), anyString)
      .map(([k, v]) => `${k}=${encodeURIComponent(v).slice(0, 200)}`),
  ),
  { nil: undefined },
);

interface Reply {
  statusCode: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: string;
}

/** What is wrong with an API answer (or nothing). */
function apiProblem(res: Reply): string | undefined {
  if (res.statusCode >= 500 || res.statusCode < 200) return `status ${res.statusCode}`;
  if (!String(res.headers['content-type']).startsWith('application/json'))
    return `not JSON: ${res.headers['content-type']}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(res.body);
  } catch {
    return 'an unparsable body';
  }
  if (res.statusCode >= 400 && typeof (parsed as { error?: unknown }).error !== 'string')
    return 'no error code';
  return undefined;
}

/** What is wrong with a page answer (or nothing); `reflected` are inputs that must not come back raw. */
function pageProblem(res: Reply, postizOrigin: string, reflected: string[] = []): string | undefined {
  if (res.statusCode >= 500 || res.statusCode < 200) return `status ${res.statusCode}`;
  if (res.statusCode >= 300 && res.statusCode < 400) {
    const location = String(res.headers.location ?? '');
    return location.startsWith(`${postizOrigin}/`) ? undefined : `a redirect to ${location}`;
  }
  if (!String(res.headers['content-type']).startsWith('text/html'))
    return `not a page: ${res.headers['content-type']}`;
  // Short pieces such as `a>` occur in any page; six characters with markup in them do not.
  for (const input of reflected) {
    for (const piece of [input, input.slice(0, 32)]) {
      if (/[<>"']/.test(piece) && piece.length >= 6 && res.body.includes(piece))
        return `reflects ${JSON.stringify(piece)}`;
    }
  }
  return undefined;
}

/** `Object.prototype` as it is now, to compare after the fuzzing. */
const prototypeKeys = () => Object.getOwnPropertyNames(Object.prototype).sort().join();

/** After the fuzzing: the server answers, and nothing leaked into Object.prototype. */
async function assertHealthy(app: FastifyInstance, before: string): Promise<void> {
  const health = await app.inject({ method: 'GET', url: '/health' });
  assert.equal(health.statusCode, 200);
  assert.equal(health.json().status, 'ok');
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(prototypeKeys(), before);
  // And the flow still works end to end.
  assert.equal((await startFlow(app)).interval, 5);
}

/** Structured bodies for an endpoint's own fields, hostile values, as JSON or as a form. */
function structured(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<[string, string]> {
  const record = fc.record(fields, { requiredKeys: [] });
  return fc.oneof(
    record.map((r): [string, string] => [JSON.stringify(r), 'application/json']),
    record.map((r): [string, string] => [
      new URLSearchParams(
        Object.entries(r).map(([k, v]): [string, string] => [
          k,
          typeof v === 'string' ? v : String(JSON.stringify(v)),
        ]),
      ).toString(),
      'application/x-www-form-urlencoded',
    ]),
  );
}

const hostileValue = fc.oneof(anyString, fc.jsonValue({ maxDepth: 2 }));
const GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

async function fuzzPost(t: TestContext, url: '/device/code' | '/device/token'): Promise<void> {
  const { app } = await build(t, { env: ENV });
  const before = prototypeKeys();
  const own =
    url === '/device/code'
      ? structured({ client_id: hostileValue })
      : structured({
          // Well-formed but unknown device codes too, so the lookup and its limits are reached.
          device_code: fc.oneof(hostileValue, fc.stringMatching(/^[A-Za-z0-9_-]{1,128}$/)),
          grant_type: fc.oneof(fc.constant(GRANT), hostileValue),
          client_id: hostileValue,
        });
  const request = fc.oneof(fc.tuple(body, contentType), own);
  await fc.assert(
    fc.asyncProperty(request, async ([payload, type]) => {
      const res = await app.inject({
        method: 'POST',
        url,
        headers: type === undefined ? {} : { 'content-type': type },
        payload,
      });
      const problem = apiProblem(res);
      assert.equal(problem, undefined, `${problem} for ${type} ${JSON.stringify(payload.slice(0, 200))}`);
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    }),
    { numRuns: RUNS },
  );
  await assertHealthy(app, before);
}

test('fuzzing POST /device/code with hostile bodies only ever gets JSON answers, never a 5xx', async (t) => {
  await fuzzPost(t, '/device/code');
});

test('fuzzing POST /device/token with hostile bodies only ever gets JSON answers, never a 5xx', async (t) => {
  await fuzzPost(t, '/device/token');
});

test('fuzzing POST /device/verify (with and without a valid session) only ever gets pages, never a 5xx', async (t) => {
  const { app, config } = await build(t, { env: ENV });
  const before = prototypeKeys();
  const postizOrigin = new URL(config.postizFrontendUrl).origin;
  const browser = new InjectBrowser(app);
  const csrf = field((await browser.get('/device/verify')).body, '_csrf');
  const live = await startFlow(app);

  // Fields a real form could carry, with hostile values, sent as a form or as JSON.
  const fields = fc.record(
    {
      _csrf: fc.oneof(fc.constant(csrf), anyString),
      user_code: fc.oneof(fc.constant(live.user_code), anyString),
      action: fc.oneof(fc.constantFrom('lookup', 'confirm', 'deny', 'retry'), anyString),
      flow: anyString,
    },
    { requiredKeys: [] },
  );
  const request = fc.oneof(
    fields.map((f) => ({
      payload: new URLSearchParams(f).toString(),
      type: 'application/x-www-form-urlencoded',
      f,
    })),
    fields.map((f) => ({ payload: JSON.stringify(f), type: 'application/json', f })),
    fc
      .tuple(body, contentType)
      .map(([payload, type]) => ({ payload, type, f: {} as Record<string, string> })),
  );
  await fc.assert(
    fc.asyncProperty(
      request,
      fc.boolean(),
      cookieHeader,
      async ({ payload, type, f }, withSession, cookie) => {
        const res = await app.inject({
          method: 'POST',
          url: '/device/verify',
          headers: {
            ...(type === undefined ? {} : { 'content-type': type }),
            ...(withSession ? { cookie: browser.cookieHeader() } : cookie ? { cookie } : {}),
            origin: 'http://localhost:3111',
          },
          payload,
        });
        const problem = pageProblem(res, postizOrigin, Object.values(f));
        assert.equal(problem, undefined, `${problem} for ${type} ${JSON.stringify(payload.slice(0, 200))}`);
      },
    ),
    { numRuns: RUNS },
  );
  await assertHealthy(app, before);
});

test('fuzzing GET /device/verify?… only ever gets pages that never reflect markup', async (t) => {
  const { app, config } = await build(t, { env: ENV });
  const before = prototypeKeys();
  const postizOrigin = new URL(config.postizFrontendUrl).origin;
  await fc.assert(
    fc.asyncProperty(anyString, queryText, cookieHeader, async (code, query, cookie) => {
      const url = `/device/verify?code=${encodeURIComponent(code)}${query ? `&${query}` : ''}`;
      const res = await app.inject({ method: 'GET', url, headers: cookie ? { cookie } : {} });
      const problem = pageProblem(res, postizOrigin, [code]);
      assert.equal(problem, undefined, `${problem} for ${url.slice(0, 300)}`);
    }),
    { numRuns: RUNS },
  );
  await assertHealthy(app, before);
});

test('fuzzing GET /device/callback?… only ever gets pages, never a 5xx, and leaves a live flow usable', async (t) => {
  const { app, config, standIn } = await build(t, { env: ENV });
  const before = prototypeKeys();
  const postizOrigin = new URL(config.postizFrontendUrl).origin;
  // A flow waiting for its callback, whose real state the fuzzer sometimes uses.
  const walked = await walkToCallback(app);
  const state = walked.state;
  const tokens = standIn.issuedTokens().length;
  const stateParam = fc.oneof(fc.constant(`state=${encodeURIComponent(state)}`), fc.constant(''));
  await fc.assert(
    fc.asyncProperty(queryText, stateParam, cookieHeader, async (query, withState, cookie) => {
      const search = [withState, query].filter(Boolean).join('&');
      const url = `/device/callback${search ? `?${search}` : ''}`;
      const res = await app.inject({ method: 'GET', url, headers: cookie ? { cookie } : {} });
      const problem = pageProblem(res, postizOrigin);
      assert.equal(problem, undefined, `${problem} for ${url.slice(0, 300)}`);
    }),
    { numRuns: RUNS },
  );
  assert.equal(standIn.issuedTokens().length, tokens, 'no fuzzed callback reached the token exchange');
  const done = await walked.browser.get(`/device/callback?${walked.callbackUrl.searchParams}`);
  assert.equal(done.status, 200, 'the real callback still completes the flow');
  await assertHealthy(app, before);
});

test('a NUL byte in any form field or query parameter gets a 4xx page, never a 500', async (t) => {
  const { app } = await build(t, { env: ENV });
  const browser = new InjectBrowser(app);
  const csrf = field((await browser.get('/device/verify')).body, '_csrf');
  const live = await startFlow(app);
  const problems: string[] = [];
  // PostgreSQL text cannot hold U+0000: a value that reaches a query unchecked is a 500.
  const forms: Record<string, string>[] = [
    { _csrf: csrf, action: 'retry', flow: '\u0000' },
    { _csrf: csrf, action: 'retry', flow: `a\u0000b` },
    { _csrf: csrf, action: 'lookup', user_code: `${live.user_code}\u0000` },
    { _csrf: csrf, action: '\u0000', user_code: live.user_code },
    { _csrf: `${csrf}\u0000`, action: 'lookup', user_code: live.user_code },
  ];
  for (const form of forms) {
    for (const [type, payload] of [
      ['application/x-www-form-urlencoded', new URLSearchParams(form).toString()],
      ['application/json', JSON.stringify(form)],
    ] as const) {
      const res = await app.inject({
        method: 'POST',
        url: '/device/verify',
        headers: { 'content-type': type, cookie: browser.cookieHeader(), origin: 'http://localhost:3111' },
        payload,
      });
      if (res.statusCode >= 500)
        problems.push(`POST /device/verify ${type} ${JSON.stringify(form)}: ${res.statusCode}`);
    }
  }
  for (const url of [
    '/device/verify?code=%00',
    '/device/callback?state=%00&code=x',
    '/device/callback?state=x&error=%00',
  ]) {
    const res = await app.inject({ method: 'GET', url, headers: { cookie: browser.cookieHeader() } });
    if (res.statusCode >= 500) problems.push(`GET ${url}: ${res.statusCode}`);
  }
  for (const payload of ['{"device_code":"\\u0000"}', '{"client_id":"\\u0000"}']) {
    for (const url of ['/device/code', '/device/token']) {
      const res = await app.inject({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/json' },
        payload,
      });
      if (res.statusCode >= 500) problems.push(`POST ${url} ${payload}: ${res.statusCode}`);
    }
  }
  assert.deepEqual(problems, []);
});
