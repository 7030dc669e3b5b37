/**
 * A tour of every page a person can meet, in headless Chromium, at a desktop's size (1280×800,
 * light colour scheme) and a phone's (390×844, dark): axe-core finds no serious or critical
 * violation, nothing scrolls sideways, no page logs a console error or a CSP violation, and on
 * every confirmation page the decision (the code or the field to type it, who is asking,
 * Continue and Cancel) is on the first screen. Every page is saved as
 * test-results/screenshots/<size>-<page>.png, and the measured positions in
 * test-results/screenshots/positions.txt.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { TEST_CLIENT_ID, TEST_CLIENT_SECRET, UNPAID_ORG } from '../../harness/build.js';
import { describeWhen, WHEN_FORMAT } from '../../src/views/user-agent.js';
import {
  browserSkipReason,
  decisionPlacement,
  launchBrowser,
  overflowsSideways,
  type PageProblems,
  type Placement,
  pollOnce,
  runAxe,
  SCREENSHOTS,
  screenshot,
  seriousViolations,
  startClockedServer,
  startFlow,
  startTestServer,
  type TestServer,
  watchProblems,
} from './support.js';

const h1 = (page: Page, name: string | RegExp) => page.getByRole('heading', { level: 1, name });

/** Where the tour's flows start from: the network of its browser sessions (198.51.100.0/24). */
const HERE = '198.51.100.250';
/** Another network. */
const ELSEWHERE = '203.0.113.7';
const SUPPORT = 'mailto:support@example.com';

const SIZES = [
  { size: 'desktop', scheme: 'light', viewport: { width: 1280, height: 800 } },
  { size: 'phone', scheme: 'dark', viewport: { width: 390, height: 844 } },
] as const;

/** What a tour measured on the confirmation pages, for positions.txt. */
const measured: string[] = [];

describe('every page, at a desktop’s and a phone’s size', { skip: browserSkipReason() }, () => {
  let browser: Browser;
  let server: TestServer & { clock: { skip: number }; database: { failing: boolean } };
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
      SUPPORT_URL: SUPPORT,
    });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await blocking?.close();
    if (measured.length > 0) await writeFile(`${SCREENSHOTS}positions.txt`, `${measured.join('\n')}\n`);
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
      // And the placement check fails a page whose buttons are pushed below the first screen.
      await page.setViewportSize({ width: 390, height: 844 });
      const flow = await startFlow(server);
      await page.goto(flow.verification_uri_complete);
      await page.getByRole('button', { name: 'Continue', exact: true }).click();
      await h1(page, 'Is this you?').waitFor();
      assert.deepEqual((await decisionPlacement(page)).problems, []);
      await page.evaluate(`document.querySelector('.warning').insertAdjacentHTML('afterend',
        '<p>' + 'A long paragraph. '.repeat(100) + '</p>')`);
      assert.ok((await decisionPlacement(page)).problems.some((p) => p.includes('button[value="deny"]')));
    } finally {
      await context.close();
    }
  });

  test('in every language the browser asks for, the pages speak it, the decision fits a phone’s first screen, and nothing scrolls sideways at 320 px', async () => {
    const findings: string[] = [];
    for (const [locale, lang, heading] of [
      ['fr-FR', 'fr', 'Est-ce bien vous ?'],
      ['de-DE', 'de', 'Sind Sie das?'],
      ['es-ES', 'es', '¿Eres tú?'],
      ['pt-BR', 'pt', 'É você?'],
      ['it-IT', 'en', 'Is this you?'],
    ]) {
      const context = await browser.newContext({
        locale,
        viewport: { width: 390, height: 844 },
        extraHTTPHeaders: { 'x-forwarded-for': `198.51.100.${nextAddress++}` },
      });
      try {
        const problems = await watchProblems(context, server.url);
        const page = await context.newPage();
        // From another network, the code in the link: the longest page, with the field to type.
        const flow = await startFlow(server, ELSEWHERE);
        await page.goto(flow.verification_uri_complete);
        assert.equal(await page.getAttribute('html', 'lang'), lang, locale);
        await page.locator('form button[type="submit"]').first().click();
        await h1(page, heading!).waitFor();
        await page.locator('#typed_code').fill('BCDF-GHJK');
        await page.locator('button[value="confirm"]').click();
        await page.locator('#typed_code[aria-invalid="true"]').waitFor();
        for (const problem of (await decisionPlacement(page)).problems)
          findings.push(`${locale}: ${problem}`);
        await screenshot(page, `lang-${lang}-phone-type-code-wrong`);

        await page.setViewportSize({ width: 320, height: 640 });
        if (await overflowsSideways(page)) findings.push(`${locale} confirm scrolls sideways`);
        await page.goto(flow.verification_uri);
        if (await overflowsSideways(page)) findings.push(`${locale} entry scrolls sideways`);
        await page.locator('#user_code').fill(flow.user_code);
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

  test('a login’s time is shown in the reader’s time zone, named; without JavaScript, in UTC', async () => {
    const context = await browser.newContext({
      locale: 'en-US',
      timezoneId: 'America/New_York',
      extraHTTPHeaders: { 'x-forwarded-for': `198.51.100.${nextAddress++}` },
    });
    const contexts = [context];
    try {
      const problems = await watchProblems(context, server.url);
      const page = await context.newPage();
      // A first login in this browser, delivered to its CLI.
      const first = await startFlow(server, HERE);
      await page.goto(first.verification_uri_complete);
      await page.getByRole('button', { name: 'Continue', exact: true }).click();
      await page.getByRole('button', { name: 'Continue to Postiz' }).click();
      await page.getByRole('button', { name: 'Authorize' }).click();
      await h1(page, 'You are logged in').waitFor();
      assert.equal((await pollOnce(server, first)).status, 200);

      // The next confirmation in this browser names it, with its time.
      const next = await startFlow(server, HERE);
      await page.goto(next.verification_uri_complete);
      await page.getByRole('button', { name: 'Continue', exact: true }).click();
      const time = page.locator('.replaces time');
      await time.waitFor();
      const at = new Date((await time.getAttribute('datetime'))!);
      assert.ok(Math.abs(at.getTime() - Date.now()) < 10 * 60_000, `the login's moment: ${at.toISOString()}`);
      const plain = (text: string | null) => (text ?? '').replace(/\s/g, ' ');
      const newYork = new Intl.DateTimeFormat('en-US', {
        ...WHEN_FORMAT,
        timeZone: 'America/New_York',
      }).format(at);
      assert.equal(plain(await time.textContent()), plain(newYork));
      assert.match(plain(await time.textContent()), / E[SD]T$/, 'the zone is named');
      await screenshot(page, 'time-new-york');

      // The same browser with JavaScript off: the server's UTC text.
      const state = await context.storageState();
      for (const [options, expected] of [
        [{ javaScriptEnabled: false }, describeWhen(at, 'en')],
        // In UTC, the script's text is the server's: both format alike.
        [{ timezoneId: 'UTC' }, describeWhen(at, 'en')],
      ] as const) {
        const other = await browser.newContext({
          ...options,
          locale: 'en-US',
          storageState: state,
          extraHTTPHeaders: { 'x-forwarded-for': HERE },
        });
        contexts.push(other);
        const again = await other.newPage();
        const flow = await startFlow(server, HERE);
        await again.goto(flow.verification_uri_complete);
        await again.getByRole('button', { name: 'Continue', exact: true }).click();
        await again.locator('.replaces time').waitFor();
        assert.equal(plain(await again.locator('.replaces time').textContent()), plain(expected));
        assert.match(plain(expected), / UTC$/);
      }
      assert.deepEqual(problems.list, []);
    } finally {
      await Promise.all(contexts.map((c) => c.close()));
    }
  });

  for (const { size, scheme, viewport } of SIZES) {
    test(`${size} (${viewport.width}×${viewport.height}, ${scheme}): the decision on the first screen, axe finds nothing serious, no console error, no CSP violation`, async (t) => {
      const findings: string[] = [];
      const contexts: BrowserContext[] = [];
      const problems: PageProblems[] = [];
      const visited: string[] = [];

      /** A fresh browser session at this size, watched for console errors and CSP violations. */
      const session = async (address = `198.51.100.${nextAddress++}`): Promise<Page> => {
        const context = await browser.newContext({
          colorScheme: scheme,
          viewport,
          locale: 'en-US',
          extraHTTPHeaders: { 'x-forwarded-for': address },
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
        await screenshot(page, `${size}-${name}`);
      };

      /** Check a confirmation page: as any page, and the decision on the first screen. */
      const checkDecision = async (page: Page, name: string): Promise<void> => {
        const { problems: misplaced, placements } = await decisionPlacement(page);
        for (const problem of misplaced) findings.push(`${name}: ${problem}`);
        const line = `${size} ${viewport.width}×${viewport.height} ${name}: ${placements
          .map((p: Placement) => `${p.selector} ${p.top}–${p.bottom}`)
          .join(', ')}`;
        measured.push(line);
        t.diagnostic(line);
        await check(page, name);
      };

      const continueButton = (page: Page) => page.getByRole('button', { name: 'Continue', exact: true });
      const submitCode = async (page: Page, code: string) => {
        await page.locator('#user_code').fill(code);
        await continueButton(page).click();
      };
      /** Open a flow's link and enter its pre-filled code: its confirmation page. */
      const confirmation = async (page: Page, flow: { verification_uri_complete: string }) => {
        await page.goto(flow.verification_uri_complete);
        await continueButton(page).click();
      };
      /** Through the confirmation page to Postiz's consent page. */
      const toPostiz = async (page: Page, flow: { verification_uri_complete: string }) => {
        await confirmation(page, flow);
        await page.getByRole('button', { name: 'Continue to Postiz' }).click();
        await page.getByRole('button', { name: 'Authorize' }).waitFor();
      };
      /**
       * Authorize at Postiz, running `meanwhile` with the callback's URL before the browser follows
       * Postiz's redirect to it. (A redirected request cannot be routed, so the consent form's
       * answer is fetched here and handed to the page once `meanwhile` is done.)
       */
      const authorizeThen = async (page: Page, meanwhile: (callbackUrl: string) => Promise<void>) => {
        const postiz = new URL(server.config.postizFrontendUrl).origin;
        const consent = (url: URL) => url.origin === postiz && url.pathname === '/oauth/authorize';
        await page.route(consent, async (route) => {
          if (route.request().method() !== 'POST') return route.continue();
          const response = await route.fetch({ maxRedirects: 0 });
          await meanwhile(new URL(response.headers().location!, route.request().url()).href);
          await route.fulfill({ response });
        });
        await page.getByRole('button', { name: 'Authorize' }).click();
        await page.waitForURL((url) => url.pathname === '/device/callback');
        await page.unroute(consent);
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
        assert.equal(await entry.getByRole('alert').getByRole('link').getAttribute('href'), SUPPORT);
        await check(entry, 'entry-too-many-attempts');

        // Confirmation from the same network, approval, and the same link used again.
        const approved = await startFlow(server, HERE);
        const page = await session();
        await confirmation(page, approved);
        await h1(page, 'Is this you?').waitFor();
        await page.getByText('Same network as this browser').waitFor();
        await checkDecision(page, 'confirm');
        await page.getByRole('button', { name: 'Continue to Postiz' }).click();
        await page.getByRole('button', { name: 'Authorize' }).click();
        await h1(page, 'You are logged in').waitFor();
        await check(page, 'approved');
        await confirmation(page, approved);
        await h1(page, 'This code was already used').waitFor();
        await check(page, 'error-already-used');

        // The CLI takes its token; the next confirmation in this browser names that login,
        // and the success page says what became of it.
        assert.equal((await pollOnce(server, approved)).status, 200);
        const again = await startFlow(server, HERE);
        await confirmation(page, again);
        await page.getByText(/The last CLI login approved in this browser/).waitFor();
        await checkDecision(page, 'confirm-earlier-login');
        await page.getByRole('button', { name: 'Continue to Postiz' }).click();
        await page.getByRole('button', { name: 'Authorize' }).click();
        await page.getByText(/If you approved with the same Postiz account as the last CLI login/).waitFor();
        await check(page, 'approved-earlier-login');

        // From another network, the code typed by hand: one click, under a warning.
        const typedByHand = await startFlow(server, ELSEWHERE);
        await page.goto(`${server.url}/device/verify`);
        await submitCode(page, typedByHand.user_code);
        await page.getByRole('alert').getByText('This request came from a different network').waitFor();
        await checkDecision(page, 'confirm-other-network');
        await page.getByRole('button', { name: 'Cancel' }).click();
        await h1(page, 'Login cancelled').waitFor();

        // From another network with the code in the link: the code must be typed.
        const remote = await startFlow(server, ELSEWHERE);
        await confirmation(page, remote);
        await page.locator('#typed_code').waitFor();
        await checkDecision(page, 'confirm-type-code');
        await page.locator('#typed_code').fill('BCDF-GHJK');
        await page.getByRole('button', { name: 'Continue to Postiz' }).click();
        await page.getByRole('alert').getByText('That is not the code of this login').waitFor();
        assert.equal(await page.inputValue('#typed_code'), 'BCDF-GHJK', 'what was typed is kept');
        await checkDecision(page, 'confirm-type-code-wrong');
        await page.locator('#typed_code').fill(remote.user_code);
        await page.getByRole('button', { name: 'Continue to Postiz' }).click();

        // Postiz cannot be asked whether the new token works: handed over, and said.
        server.standIn.failNextPublic('server-error');
        await page.getByRole('button', { name: 'Authorize' }).click();
        await page.getByText(/could not be asked whether the new login works/).waitFor();
        await check(page, 'approved-unchecked');

        // An organisation without a subscription, and another refusal of the new token.
        const unpaid = await startFlow(server, HERE);
        await toPostiz(page, unpaid);
        await page.locator('#organization').selectOption(UNPAID_ORG.id);
        await page.getByRole('button', { name: 'Authorize' }).click();
        await h1(page, 'This organisation has no Postiz subscription').waitFor();
        await check(page, 'no-subscription');
        const refusedToken = await startFlow(server, HERE);
        await toPostiz(page, refusedToken);
        server.standIn.failNextPublic('forbidden');
        await page.getByRole('button', { name: 'Authorize' }).click();
        await h1(page, 'Postiz refused the new login').waitFor();
        await check(page, 'token-refused');

        // CROSS_NETWORK_POLICY=block, from another network.
        blocking ??= await startTestServer({
          TRUST_PROXY: 'true',
          CROSS_NETWORK_POLICY: 'block',
          SUPPORT_URL: SUPPORT,
        });
        const blocked = await startFlow(blocking, ELSEWHERE);
        const outsider = await session();
        await confirmation(outsider, blocked);
        await h1(outsider, 'This login cannot be confirmed from here').waitFor();
        assert.equal(
          await outsider
            .getByRole('main')
            .getByRole('link', { name: 'Contact support@example.com' })
            .getAttribute('href'),
          SUPPORT,
        );
        await check(outsider, 'error-cross-network');

        // Denied at Postiz.
        const denied = await startFlow(server, HERE);
        await toPostiz(page, denied);
        await page.getByRole('button', { name: 'Deny' }).click();
        await h1(page, 'Access denied').waitFor();
        await check(page, 'denied');

        // Cancelled on our confirmation page.
        const cancelled = await startFlow(server, HERE);
        await confirmation(page, cancelled);
        await page.getByRole('button', { name: 'Cancel' }).click();
        await h1(page, 'Login cancelled').waitFor();
        await check(page, 'cancelled');

        // Postiz unavailable at the token exchange: the retry page, and the retry that works.
        const retried = await startFlow(server, HERE);
        await toPostiz(page, retried);
        server.standIn.failNext('server-error');
        await page.getByRole('button', { name: 'Authorize' }).click();
        await h1(page, 'Postiz had a problem').waitFor();
        await check(page, 'error-postiz-unavailable');
        await page.getByRole('button', { name: 'Try again' }).click();
        await page.getByRole('button', { name: 'Authorize' }).click();
        await h1(page, 'You are logged in').waitFor();

        // Postiz refuses this server (its app's credentials): the operator's to fix.
        const misconfigured = await startFlow(server, HERE);
        await toPostiz(page, misconfigured);
        server.standIn.failNext('invalid-client');
        await page.getByRole('button', { name: 'Authorize' }).click();
        await h1(page, 'This server is not set up correctly').waitFor();
        await check(page, 'error-misconfigured');

        // Postiz's code was already redeemed when the server exchanges it.
        const rejected = await startFlow(server, HERE);
        await toPostiz(page, rejected);
        await authorizeThen(page, async (url) => {
          const code = new URL(url).searchParams.get('code')!;
          await fetch(`${server.config.postizApiUrl}/oauth/token`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({
              grant_type: 'authorization_code',
              code,
              client_id: TEST_CLIENT_ID,
              client_secret: TEST_CLIENT_SECRET,
            }),
          });
        });
        await h1(page, 'Postiz did not accept the login').waitFor();
        await check(page, 'error-postiz-rejected');

        // Postiz's code reached the server first at a refused callback (another browser's).
        const seenBefore = await startFlow(server, HERE);
        await toPostiz(page, seenBefore);
        await authorizeThen(page, async (url) => {
          await fetch(url, { headers: { 'x-forwarded-for': HERE } });
        });
        await h1(page, 'This authorization cannot be used').waitFor();
        await check(page, 'error-code-not-usable');

        // Confirmed in one browser, finished in another.
        const elsewhere = await startFlow(server, HERE);
        await toPostiz(page, elsewhere);
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

        // A browser that lost (or refuses) the session cookie.
        await other.goto(`${server.url}/device/verify`);
        await other.context().clearCookies();
        await submitCode(other, 'bcdfghjk');
        await h1(other, 'Cookies are needed').waitFor();
        await check(other, 'error-cookies-required');

        // This server reached at another address than SERVER_URL's.
        const otherAddress = await session();
        await otherAddress.goto(`${server.url.replace('127.0.0.1', 'localhost')}/device/verify`);
        await submitCode(otherAddress, 'bcdfghjk');
        await h1(otherAddress, 'Open the address from your terminal').waitFor();
        await check(otherAddress, 'error-wrong-origin');

        // The database goes away while a code is looked up.
        await page.goto(`${server.url}/device/verify`);
        await page.locator('#user_code').fill('bcdfghjk');
        server.database.failing = true;
        try {
          await continueButton(page).click();
          await h1(page, 'Something went wrong').waitFor();
        } finally {
          server.database.failing = false;
        }
        await check(page, 'error-server-error');

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

      assert.deepEqual(findings, [], 'axe-core (serious or critical), layout or placement findings');
      assert.equal(visited.length, 29, `visited ${visited.join(', ')}`);
      assert.deepEqual(
        problems.flatMap((p) => p.list),
        [],
        'console errors or CSP violations',
      );
    });
  }
});
