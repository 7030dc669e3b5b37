/**
 * A guarantee of docs/security.md: headers. Every response carries a strict CSP (`frame-ancestors 'none'`,
 * `form-action 'self'` plus Postiz, no `unsafe-inline`; pages' scripts only by nonce),
 * `Referrer-Policy: no-referrer` and `nosniff`; HSTS exactly when SERVER_URL is https;
 * `Cache-Control: no-store` on everything that carries a code or a token.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import { type Built, build } from '../../harness/build.js';
import {
  type Answer,
  consentAtPostiz,
  enterCode,
  field,
  InjectBrowser,
  pathOf,
  poll,
  pressOnConfirmation,
  startFlow,
} from '../../harness/inject-browser.js';

interface Seen {
  what: string;
  kind: 'page' | 'api' | 'ops';
  /** Carries a code or a token (or is a page): must not be stored by any cache. */
  noStore: boolean;
  answer: Answer;
}

/** An `inject` answer in the helpers' shape. */
async function request(
  built: Built,
  options: { method: 'GET' | 'POST'; url: string; headers?: Record<string, string>; payload?: string },
): Promise<Answer> {
  const res = await built.app.inject(options);
  return { status: res.statusCode, body: res.body, headers: res.headers, setCookies: [] };
}

/** Walk every page and API answer there is (success and errors), recording each response. */
async function everyResponse(built: Built, origin: string): Promise<Seen[]> {
  const seen: Seen[] = [];
  const page = (what: string, answer: Answer) => seen.push({ what, kind: 'page', noStore: true, answer });
  const api = (what: string, answer: Answer) => seen.push({ what, kind: 'api', noStore: true, answer });
  const ops = (what: string, answer: Answer) => seen.push({ what, kind: 'ops', noStore: false, answer });
  const { app, clock } = built;
  const json = { 'content-type': 'application/json' };

  const started = await startFlow(app);
  api('POST /device/code', await request(built, { method: 'POST', url: '/device/code', headers: json }));
  api('token: pending', await poll(app, started.device_code));
  api('token: slow_down', await poll(app, started.device_code));
  api('token: invalid_grant', await poll(app, 'A'.repeat(43)));
  api(
    'token: invalid_request',
    await request(built, { method: 'POST', url: '/device/token', headers: json }),
  );
  api(
    'token: unsupported_grant_type',
    await request(built, {
      method: 'POST',
      url: '/device/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'grant_type=password&device_code=x',
    }),
  );
  api(
    'token: bad JSON',
    await request(built, { method: 'POST', url: '/device/token', headers: json, payload: '{"device_code":' }),
  );
  api(
    'token: 413',
    await request(built, {
      method: 'POST',
      url: '/device/token',
      headers: json,
      payload: JSON.stringify({ device_code: 'x'.repeat(20_000) }),
    }),
  );

  const browser = new InjectBrowser(app, origin);
  page('GET /device/verify', await browser.get('/device/verify'));
  page('GET /device/verify?code=', await browser.get(`/device/verify?code=${started.user_code}`));
  const csrf = field(seen.at(-1)!.answer.body, '_csrf');
  page(
    'wrong code',
    await browser.post('/device/verify', { _csrf: csrf, user_code: 'BBBB-BBBB', action: 'lookup' }),
  );
  page('forbidden', await browser.post('/device/verify', { _csrf: 'x', user_code: started.user_code }));
  page('bad callback', await browser.get('/device/callback'));
  page('unknown state', await browser.get('/device/callback?state=nope&code=nope'));
  const confirmation = await enterCode(browser, started.user_code);
  page('confirmation', confirmation);
  const redirect = await pressOnConfirmation(browser, confirmation, 'confirm');
  page('redirect to Postiz', redirect);
  const callbackUrl = await consentAtPostiz(redirect.location!, 'approve');
  built.standIn.failNext('server-error');
  const failed = await browser.get(pathOf(callbackUrl));
  page('failed exchange', failed);
  const retried = await browser.post('/device/verify', {
    _csrf: field(failed.body, '_csrf'),
    flow: field(failed.body, 'flow'),
    action: 'retry',
  });
  page('retry redirect', retried);
  page('callback: approved', await browser.get(pathOf(await consentAtPostiz(retried.location!, 'approve'))));
  clock.advance(5000);
  api('token: success', await poll(app, started.device_code));
  api('token: used', await poll(app, started.device_code));

  const other = await startFlow(app);
  const cancel = await enterCode(browser, other.user_code);
  page('cancelled', await pressOnConfirmation(browser, cancel, 'deny'));
  api('token: access_denied', await poll(app, other.device_code));

  for (const url of [
    '/health',
    '/ready',
    '/.well-known/oauth-authorization-server',
    '/openapi.json',
    '/metrics',
  ]) {
    ops(`GET ${url}`, await request(built, { method: 'GET', url }));
  }
  ops('404', await request(built, { method: 'GET', url: '/nope' }));
  return seen;
}

/** The CSP directives of a response, by name. */
function csp(answer: Answer): Map<string, string[]> {
  const header = String(answer.headers['content-security-policy'] ?? '');
  return new Map(
    header
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((parts) => parts[0])
      .map(([name, ...values]) => [name!, values]),
  );
}

/** What is wrong with the headers every response must carry (none: an empty list). */
function commonProblems(seen: Seen, postizOrigin: string): string[] {
  const { what, answer } = seen;
  const problems: string[] = [];
  const expect = (ok: boolean, problem: string) => {
    if (!ok) problems.push(`${what}: ${problem}`);
  };
  const policy = csp(answer);
  const all = String(answer.headers['content-security-policy'] ?? '');
  expect(policy.size > 0, 'no Content-Security-Policy');
  expect(policy.has('default-src'), 'CSP without default-src');
  expect(policy.get('frame-ancestors')?.join(' ') === "'none'", "CSP without frame-ancestors 'none'");
  expect(
    [...(policy.get('form-action') ?? [])].sort().join(' ') === ["'self'", postizOrigin].sort().join(' '),
    `CSP form-action is not 'self' ${postizOrigin}`,
  );
  expect(!/unsafe-inline|unsafe-eval|\*/.test(all), 'CSP with unsafe-inline, unsafe-eval or a wildcard');
  expect(answer.headers['referrer-policy'] === 'no-referrer', 'no Referrer-Policy: no-referrer');
  expect(answer.headers['x-content-type-options'] === 'nosniff', 'no X-Content-Type-Options: nosniff');
  if (seen.noStore)
    expect(/no-store/.test(String(answer.headers['cache-control'])), 'no Cache-Control: no-store');
  return problems;
}

/** What is wrong with a page's scripts: they must run only by the nonce in its CSP. */
function nonceProblems({ what, answer }: Seen): string[] {
  if (!answer.body.includes('<html')) return []; // a redirect has no page
  const problems: string[] = [];
  const scriptSrc = csp(answer).get('script-src') ?? [];
  const nonces = scriptSrc.filter((s) => s.startsWith("'nonce-")).map((s) => s.slice(7, -1));
  if (nonces.length !== 1) problems.push(`${what}: not one nonce in script-src (${scriptSrc.join(' ')})`);
  const scripts = [...answer.body.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
  if (scripts.length === 0) problems.push(`${what}: the page has no script (the nonce check is void)`);
  for (const tag of scripts) {
    if (!tag.includes(`nonce="${nonces[0]}"`)) problems.push(`${what}: ${tag} lacks the CSP nonce`);
  }
  if (/\son[a-z]+\s*=/i.test(answer.body)) problems.push(`${what}: an inline event handler`);
  if (/href\s*=\s*["']?javascript:/i.test(answer.body)) problems.push(`${what}: a javascript: link`);
  return problems;
}

/** Every response of an app at `serverUrl`, and the header problems each has. */
async function walkAll(t: TestContext, serverUrl: string) {
  const built = await build(t, { env: { SERVER_URL: serverUrl } });
  const seen = await everyResponse(built, new URL(serverUrl).origin);
  const postizOrigin = new URL(built.config.postizFrontendUrl).origin;
  return seen.map((s) => ({ ...s, postizOrigin, problems: commonProblems(s, postizOrigin) }));
}

test('every page carries a strict CSP with a fresh nonce for its script, no-referrer, nosniff and no-store', async (t) => {
  const problems: string[] = [];
  const nonces = new Set<string>();
  for (const s of await walkAll(t, 'http://localhost:3111')) {
    if (s.kind !== 'page') continue;
    problems.push(...s.problems);
    if (!s.answer.body.includes('<html')) continue; // a redirect: headers only
    const type = String(s.answer.headers['content-type'] ?? '');
    if (!type.startsWith('text/html')) problems.push(`${s.what}: a page that is not HTML (${type})`);
    problems.push(...nonceProblems(s));
    const nonce = csp(s.answer)
      .get('script-src')
      ?.find((v) => v.startsWith("'nonce-"));
    if (nonce && nonces.has(nonce)) problems.push(`${s.what}: a nonce used twice`);
    if (nonce) nonces.add(nonce);
  }
  assert.deepEqual(problems, []);
});

test('every API response (success and errors) carries the strict headers, and no-store on code and token', async (t) => {
  const problems: string[] = [];
  for (const s of await walkAll(t, 'http://localhost:3111')) {
    if (s.kind === 'page') continue;
    problems.push(...s.problems);
    const type = String(s.answer.headers['content-type'] ?? '');
    if (s.kind === 'api' && !type.startsWith('application/json'))
      problems.push(`${s.what}: not JSON (${type})`);
  }
  assert.deepEqual(problems, []);
});

test('over http no response carries HSTS', async (t) => {
  const hsts = (await walkAll(t, 'http://localhost:3111'))
    .filter((s) => s.answer.headers['strict-transport-security'] !== undefined)
    .map((s) => s.what);
  assert.deepEqual(hsts, []);
});

test('over https every response carries HSTS', async (t) => {
  const missing = (await walkAll(t, 'https://auth.example.test'))
    .filter((s) => !/max-age=\d{7,}/.test(String(s.answer.headers['strict-transport-security'])))
    .map((s) => s.what);
  assert.deepEqual(missing, []);
});

/** The row of docs/security.md's header table whose first cell is `name`, and its backticked values. */
function documented(name: string): string[] {
  const doc = readFileSync(new URL('../../docs/security.md', import.meta.url), 'utf8');
  const row = doc.split('\n').find((line) => line.startsWith(`| ${name} |`));
  assert.ok(row, `docs/security.md has a row "${name}"`);
  return [...row.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
}

/** `Name: value` pairs among backticked values. */
const headerPairs = (values: string[]) =>
  values
    .map((v) => v.match(/^([A-Z][A-Za-z-]+): (.+)$/))
    .filter((m) => m !== null)
    .map((m) => [m[1]!.toLowerCase(), m[2]!] as const);

test('the headers docs/security.md documents are the headers sent, value for value', async (t) => {
  const seen = await walkAll(t, 'https://auth.example.test');
  const postizOrigin = seen[0]!.postizOrigin;
  const directives = (policy: string) =>
    policy
      .split(';')
      .map((d) => d.trim())
      .filter(Boolean);
  const [pagePolicy = ''] = documented('CSP on every page');
  // On https, as the row says: plus upgrade-insecure-requests.
  const pageDirectives = [
    ...directives(pagePolicy.replace('<Postiz origin>', postizOrigin)),
    'upgrade-insecure-requests',
  ];
  const jsonDirectives = pageDirectives.map((d) => d.replace(/ 'nonce-…'/g, ''));
  const pageHeaders = headerPairs(documented('Other page headers'));
  const jsonHeaders = headerPairs(documented('JSON answers (`/device/code`, `/device/token`, errors, 404)'));
  assert.ok(pageHeaders.length >= 6 && jsonHeaders.length >= 4, 'the rows name their headers');

  const pages = seen.filter((s) => s.kind === 'page' && s.answer.body.includes('<html'));
  const apis = seen.filter((s) => s.kind === 'api');
  assert.ok(pages.length > 5 && apis.length > 5);
  for (const { what, answer } of pages) {
    const policy = String(answer.headers['content-security-policy']).replace(/'nonce-[^']+'/g, "'nonce-…'");
    assert.deepEqual(directives(policy), pageDirectives, what);
    for (const [name, value] of pageHeaders) assert.equal(answer.headers[name], value, `${what}: ${name}`);
    assert.equal(answer.headers['cache-control'], 'no-store', what);
  }
  for (const { what, answer } of apis) {
    assert.deepEqual(directives(String(answer.headers['content-security-policy'])), jsonDirectives, what);
    for (const [name, value] of jsonHeaders) assert.equal(answer.headers[name], value, `${what}: ${name}`);
  }
  // HSTS: the value the page row names is the one JSON answers carry too.
  const hsts = pageHeaders.find(([name]) => name === 'strict-transport-security')?.[1];
  assert.equal(hsts, 'max-age=31536000; includeSubDomains');
  for (const { what, answer } of apis) assert.equal(answer.headers['strict-transport-security'], hsts, what);

  // Assets: the one cacheable answer, as the Caching row says.
  const caching = documented('Caching');
  const assetPolicy = caching.find((v) => v.includes('max-age'));
  const page = pages[0]!.answer.body;
  const asset = page.match(/<link rel="stylesheet" href="([^"]+)"/)?.[1];
  assert.ok(asset && assetPolicy, 'a stylesheet link, and a documented asset policy');
  const built = await build(t);
  const res = await built.app.inject({
    method: 'GET',
    url:
      new URL(asset, 'http://localhost/device/verify').pathname +
      new URL(asset, 'http://localhost/device/verify').search,
  });
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['cache-control'], assetPolicy);
});
