/**
 * A tour of every page a person can meet, in headless Chromium, in the dark and the light colour
 * scheme: axe-core finds no serious or critical violation, nothing scrolls sideways (the dark
 * tour runs at 320 px, the light one at desktop width), and no page logs a console error or a CSP
 * violation. Every page is saved as test-results/screenshots/<scheme>-<page>.png.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { UNPAID_ORG } from '../../harness/build.js';
import {
  browserSkipReason,
  launchBrowser,
  overflowsSideways,
  type PageProblems,
  pollOnce,
  runAxe,
  screenshot,
  seriousViolations,
  startClockedServer,
  startFlow,
  startTestServer,
  type TestServer,
  watchProblems,
} from './support.js';

type Scheme = 'dark' | 'light';

const h1 = (page: Page, name: string | RegExp) => page.getByRole('heading', { level: 1, name });

/** Where the tour's flows start from: the network of its browser sessions (198.51.100.0/24). */
const HERE = '198.51.100.250';

describe('every page, in both colour schemes', { skip: browserSkipReason() }, () => {
  let browser: Browser;
  let server: TestServer & { clock: { skip: number } };
  /** A server with CROSS_NETWORK_POLICY=block, for its refusal page. */
  let blocking: TestServer;
  // Each browser session gets its own client address (through the trusted proxy header), so the
  // rate-limit page can be reached without locking every other session out.
  let nextAddress = 1;

  before(async () => {
    browser = await launchBrowser();
    server = await startClockedServer({
      TRUST_PROXY: 'true',
      RATE_LIMIT_USER_CODE_ATTEMPTS: '2',
      TOKEN_CHECK_TIMEOUT_MS: '1000',
    });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await blocking?.close();
  });

  test('the checks themselves work: an inline style is caught as a CSP violation, an unlabelled field by axe', async () => {
    const context = await browser.newContext();
    try {
      const problems = await watchProblems(context, server.url);
      const page = await context.newPage();
      await page.goto(`${server.url}/device/verify`);
      // (length, not deepEqual: the assertion would narrow the list's type to never[].)
      assert.equal(problems.list.length, 0, problems.list.join('\n'));
      await page.evaluate(`document.querySelector('main').insertAdjacentHTML('beforeend',
        '<style>body { color: red }</style><input type="text" name="unlabelled">')`);
      for (let i = 0; i < 50 && !problems.list.some((p) => p.includes('CSP violation')); i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.ok(
        problems.list.some((p) => p.includes('CSP violation: style-src')),
        problems.list.join('\n'),
      );
      const serious = seriousViolations(await runAxe(page));
      assert.ok(
        serious.some((line) => line.includes(' label:')),
        `axe should flag the unlabelled field: ${serious}`,
      );
    } finally {
      await context.close();
    }
  });

  test('in every language the browser asks for, the pages speak it and fit 320 px', async () => {
    const findings: string[] = [];
    for (const [locale, lang, heading] of [
      ['fr-FR', 'fr', 'Est-ce bien vous ?'],
      ['de-DE', 'de', 'Sind Sie das?'],
      ['es-ES', 'es', '¿Eres tú?'],
      ['pt-BR', 'pt', 'É você?'],
      ['it-IT', 'en', 'Is this you?'],
    ]) {
      const context = await browser.newContext({ locale, viewport: { width: 320, height: 640 } });
      try {
        const problems = await watchProblems(context, server.url);
        const page = await context.newPage();
        const flow = await startFlow(server);
        await page.goto(flow.verification_uri_complete);
        assert.equal(await page.getAttribute('html', 'lang'), lang, locale);
        if (await overflowsSideways(page)) findings.push(`${locale} entry scrolls sideways`);
        await page.locator('form button[type="submit"]').first().click();
        await h1(page, heading!).waitFor();
        if (await overflowsSideways(page)) findings.push(`${locale} confirm scrolls sideways`);
        await screenshot(page, `lang-${lang}-confirm`);
        await page.locator('button[value="deny"]').click();
        await page.locator('h1').waitFor();
        if (await overflowsSideways(page)) findings.push(`${locale} cancelled scrolls sideways`);
        findings.push(...problems.list);
      } finally {
        await context.close();
      }
    }
    assert.deepEqual(findings, []);
  });

  for (const scheme of ['dark', 'light'] as Scheme[]) {
    const viewport = scheme === 'dark' ? { width: 320, height: 640 } : { width: 1280, height: 800 };

    test(`${scheme} at ${viewport.width} px: axe finds nothing serious, no console error, no CSP violation`, async () => {
      const findings: string[] = [];
      const contexts: BrowserContext[] = [];
      const problems: PageProblems[] = [];
      const visited: string[] = [];

      /** A fresh browser session in this scheme, watched for console errors and CSP violations. */
      const session = async (): Promise<Page> => {
        const context = await browser.newContext({
          colorScheme: scheme,
          viewport,
          locale: 'en-US',
          extraHTTPHeaders: { 'x-forwarded-for': `198.51.100.${nextAddress++}` },
        });
        contexts.push(context);
        problems.push(await watchProblems(context, server.url));
        return context.newPage();
      };

      /** Check the page now showing, and keep its screenshot. */
      const check = async (page: Page, name: string): Promise<void> => {
        visited.push(name);
        for (const line of seriousViolations(await runAxe(page))) findings.push(`${name}: ${line}`);
        if (await overflowsSideways(page)) findings.push(`${name}: scrolls sideways at ${viewport.width} px`);
        await screenshot(page, `${scheme}-${name}`);
      };

      const continueButton = (page: Page) => page.getByRole('button', { name: 'Continue', exact: true });
      const submitCode = async (page: Page, code: string) => {
        await page.locator('#user_code').fill(code);
        await continueButton(page).click();
      };

      try {
        // Code entry, a wrong code, and too many wrong codes.
        const entry = await session();
        await entry.goto(`${server.url}/device/verify`);
        await h1(entry, 'Connect the Postiz CLI').waitFor();
        await check(entry, 'entry');
        await submitCode(entry, 'zzzzzzzz');
        await entry.getByRole('alert').getByText('That code did not work').waitFor();
        await check(entry, 'entry-wrong-code');
        await submitCode(entry, 'zzzzzzzx');
        await entry.getByRole('alert').getByText('That code did not work').waitFor();
        await submitCode(entry, 'zzzzzzzz');
        await entry.getByRole('alert').getByText('Too many attempts').waitFor();
        assert.match((await entry.getByRole('alert').textContent()) ?? '', /Try again in \d+ minutes?\./);
        await check(entry, 'entry-too-many-attempts');

        // Confirmation, approval, and the same link used again. Flows start from the sessions'
        // network (198.51.100.0/24), unless a step needs another.
        const approved = await startFlow(server, HERE);
        const page = await session();
        await page.goto(approved.verification_uri_complete);
        await continueButton(page).click();
        await h1(page, 'Is this you?').waitFor();
        await check(page, 'confirm');
        await page.getByRole('button', { name: 'Continue to Postiz' }).click();
        await page.getByRole('button', { name: 'Authorize' }).click();
        await h1(page, 'You are logged in').waitFor();
        await check(page, 'approved');
        await page.goto(approved.verification_uri_complete);
        await continueButton(page).click();
        await h1(page, 'This code was already used').waitFor();
        await check(page, 'error-already-used');

        // The CLI takes its token; the next login in this browser names the one it would end,
        // and the success page the one it replaced.
        assert.equal((await pollOnce(server, approved)).status, 200);
        const again = await startFlow(server, HERE);
        await page.goto(again.verification_uri_complete);
        await continueButton(page).click();
        await page.getByText(/The last CLI login approved in this browser/).waitFor();
        await check(page, 'confirm-replaces');
        await page.getByRole('button', { name: 'Continue to Postiz' }).click();
        await page.getByRole('button', { name: 'Authorize' }).click();
        await page.getByText(/If you approved with the same Postiz account as the last CLI login/).waitFor();
        await check(page, 'approved-replaced');

        // From another network with the code in the link: the code must be typed.
        const remote = await startFlow(server, '203.0.113.7');
        await page.goto(remote.verification_uri_complete);
        await continueButton(page).click();
        await page.locator('#typed_code').waitFor();
        await check(page, 'confirm-type-code');
        await page.locator('#typed_code').fill('BCDF-GHJK');
        await page.getByRole('button', { name: 'Continue to Postiz' }).click();
        await page.getByRole('alert').getByText('That is not the code of this login').waitFor();
        await check(page, 'confirm-code-mismatch');
        await page.locator('#typed_code').fill(remote.user_code);
        await page.getByRole('button', { name: 'Continue to Postiz' }).click();

        // Postiz cannot be asked whether the new token works: handed over, and said.
        server.standIn.failNextPublic('server-error');
        await page.getByRole('button', { name: 'Authorize' }).click();
        await page.getByText(/could not be asked whether the new login works/).waitFor();
        await check(page, 'approved-unchecked');

        // An organisation without a subscription, and another refusal of the new token.
        const unpaid = await startFlow(server, HERE);
        await page.goto(unpaid.verification_uri_complete);
        await continueButton(page).click();
        await page.getByRole('button', { name: 'Continue to Postiz' }).click();
        await page.locator('#organization').selectOption(UNPAID_ORG.id);
        await page.getByRole('button', { name: 'Authorize' }).click();
        await h1(page, 'This organisation has no Postiz subscription').waitFor();
        await check(page, 'no-subscription');
        const refusedToken = await startFlow(server, HERE);
        await page.goto(refusedToken.verification_uri_complete);
        await continueButton(page).click();
        await page.getByRole('button', { name: 'Continue to Postiz' }).click();
        server.standIn.failNextPublic('forbidden');
        await page.getByRole('button', { name: 'Authorize' }).click();
        await h1(page, 'Postiz refused the new login').waitFor();
        await check(page, 'token-refused');

        // CROSS_NETWORK_POLICY=block, from another network.
        blocking ??= await startTestServer({ TRUST_PROXY: 'true', CROSS_NETWORK_POLICY: 'block' });
        const blocked = await startFlow(blocking, '203.0.113.7');
        const outsider = await session();
        await outsider.goto(blocked.verification_uri_complete);
        await continueButton(outsider).click();
        await h1(outsider, 'Confirm this login on the network it started from').waitFor();
        await check(outsider, 'error-cross-network');

        // Denied at Postiz.
        const denied = await startFlow(server, HERE);
        await page.goto(denied.verification_uri_complete);
        await continueButton(page).click();
        await page.getByRole('button', { name: 'Continue to Postiz' }).click();
        await page.getByRole('button', { name: 'Deny' }).click();
        await h1(page, 'Access denied').waitFor();
        await check(page, 'denied');

        // Cancelled on our confirmation page.
        const cancelled = await startFlow(server, HERE);
        await page.goto(cancelled.verification_uri_complete);
        await continueButton(page).click();
        await page.getByRole('button', { name: 'Cancel' }).click();
        await h1(page, 'Login cancelled').waitFor();
        await check(page, 'cancelled');

        // Postiz unavailable at the token exchange: the retry page, and the retry that works.
        const retried = await startFlow(server, HERE);
        await page.goto(retried.verification_uri_complete);
        await continueButton(page).click();
        await page.getByRole('button', { name: 'Continue to Postiz' }).click();
        server.standIn.failNext('server-error');
        await page.getByRole('button', { name: 'Authorize' }).click();
        await h1(page, 'Postiz had a problem').waitFor();
        await check(page, 'error-postiz-unavailable');
        await page.getByRole('button', { name: 'Try again' }).click();
        await page.getByRole('button', { name: 'Authorize' }).click();
        await h1(page, 'You are logged in').waitFor();

        // Confirmed in one browser, finished in another.
        const elsewhere = await startFlow(server, HERE);
        await page.goto(elsewhere.verification_uri_complete);
        await continueButton(page).click();
        await page.getByRole('button', { name: 'Continue to Postiz' }).click();
        await page.getByRole('button', { name: 'Authorize' }).waitFor();
        const other = await session();
        await other.goto(page.url());
        await other.getByRole('button', { name: 'Authorize' }).click();
        await h1(other, 'Please finish in the same browser').waitFor();
        await check(other, 'error-wrong-browser');

        // Links that are no longer (or never were) valid.
        await other.goto(`${server.url}/device/callback?state=not-a-state&code=x`);
        await h1(other, 'This link is no longer valid').waitFor();
        await check(other, 'error-unknown-state');
        await other.goto(`${server.url}/device/callback`);
        await h1(other, 'Something is missing').waitFor();
        await check(other, 'error-bad-request');

        // A form whose anti-CSRF token does not match the session.
        await other.goto(`${server.url}/device/verify`);
        await other.locator('input[name="_csrf"]').evaluate((input) => input.setAttribute('value', 'forged'));
        await submitCode(other, 'bcdfghjk');
        await h1(other, 'Request refused').waitFor();
        await check(other, 'error-forbidden');

        // An expired code: the server's clock moves past the flow's lifetime.
        const expired = await startFlow(server, HERE);
        await page.goto(expired.verification_uri_complete);
        server.clock.skip = (server.config.deviceCodeTtlSeconds + 1) * 1000;
        try {
          await continueButton(page).click();
          await h1(page, 'This code has expired').waitFor();
        } finally {
          server.clock.skip = 0;
        }
        await check(page, 'error-expired');
      } finally {
        await Promise.all(contexts.map((context) => context.close()));
      }

      assert.deepEqual(findings, [], 'axe-core (serious or critical) or layout findings');
      assert.equal(visited.length, 22, `visited ${visited.join(', ')}`);
      assert.deepEqual(
        problems.flatMap((p) => p.list),
        [],
        'console errors or CSP violations',
      );
    });
  }
});
