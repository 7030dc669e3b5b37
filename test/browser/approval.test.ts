/**
 * The whole browser side in headless Chromium against a listening server and a listening Postiz
 * stand-in: approvals at phone and desktop sizes, keyboard only, a cancel and a wrong code, with
 * screenshots in test-results/screenshots/ and no console error or CSP violation anywhere.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import {
  browserSkipReason,
  launchBrowser,
  overflowsSideways,
  type PageProblems,
  pollOnce,
  screenshot,
  startFlow,
  startTestServer,
  type TestServer,
  watchProblems,
} from './support.js';

const h1 = (page: Page, name: string) => page.getByRole('heading', { level: 1, name });

/** Which element has focus, as "tag#id:text" (evaluated in the page; no DOM lib here). */
const focused = (page: Page): Promise<string> =>
  page.evaluate<string>(
    `(() => { const e = document.activeElement; return e ? e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + ':' + (e.textContent || '').trim() : ''; })()`,
  );

/** The focused element's outline style: keyboard focus must be visible. */
const focusOutline = (page: Page): Promise<string> =>
  page.evaluate<string>('getComputedStyle(document.activeElement).outlineStyle');

describe('approving in a real browser', { skip: browserSkipReason() }, () => {
  let browser: Browser;
  let server: TestServer;

  before(async () => {
    browser = await launchBrowser();
    server = await startTestServer();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  /** A fresh browser context (cookies and all) watched for problems, closed after `run`. */
  async function withContext(
    options: BrowserContextOptions,
    run: (page: Page, problems: PageProblems, context: BrowserContext) => Promise<void>,
  ): Promise<void> {
    const context = await browser.newContext({ locale: 'en-US', ...options });
    try {
      const problems = await watchProblems(context, server.url);
      const page = await context.newPage();
      await run(page, problems, context);
      assert.deepEqual(problems.list, [], 'console errors or CSP violations');
    } finally {
      await context.close();
    }
  }

  const SIZES: [string, BrowserContextOptions][] = [
    [
      'phone',
      { viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
    ],
    ['desktop', { viewport: { width: 1280, height: 800 } }],
  ];

  for (const [size, options] of SIZES) {
    test(`a full approval at ${size} size, from verification_uri_complete`, async () => {
      const flow = await startFlow(server);
      await withContext(options, async (page) => {
        await page.goto(flow.verification_uri_complete);
        await h1(page, 'Connect the Postiz CLI').waitFor();
        assert.equal(await page.inputValue('#user_code'), flow.user_code, 'the code is pre-filled');
        assert.equal(await overflowsSideways(page), false);
        await screenshot(page, `${size}-1-entry`);

        await page.getByRole('button', { name: 'Continue', exact: true }).click();
        await h1(page, 'Is this you?').waitFor();
        assert.equal(await page.locator('.code').textContent(), flow.user_code);
        assert.match((await page.locator('.details').textContent()) ?? '', /postiz CLI 2\.1\.0 on Linux/);
        assert.equal(await overflowsSideways(page), false);
        // Cancel is as easy to reach as Continue: the same size, side by side or stacked.
        const go = await page.getByRole('button', { name: 'Continue to Postiz' }).boundingBox();
        const cancel = await page.getByRole('button', { name: 'Cancel' }).boundingBox();
        assert.ok(go && cancel);
        assert.ok(Math.abs(go.width - cancel.width) < 1, `widths ${go.width} and ${cancel.width}`);
        assert.ok(Math.abs(go.height - cancel.height) < 1, `heights ${go.height} and ${cancel.height}`);
        assert.ok(cancel.height >= 44, 'a comfortable touch target');
        await screenshot(page, `${size}-2-confirm`);

        await page.getByRole('button', { name: 'Continue to Postiz' }).click();
        await page.getByRole('button', { name: 'Authorize' }).waitFor();
        assert.ok(page.url().startsWith(server.config.postizFrontendUrl), 'on the Postiz consent page');
        await screenshot(page, `${size}-3-postiz-consent`);

        await page.getByRole('button', { name: 'Authorize' }).click();
        await h1(page, 'You are logged in').waitFor();
        assert.ok(page.url().startsWith(`${server.url}/device/callback`));
        // What approving ended: Postiz's rule, for the same person's earlier login only.
        assert.match(
          (await page.locator('main').textContent()) ?? '',
          /one CLI login per person and organisation/,
        );
        assert.equal(await overflowsSideways(page), false);
        await screenshot(page, `${size}-4-success`);
      });

      const poll = await pollOnce(server, flow);
      assert.equal(poll.status, 200, JSON.stringify(poll.body));
      assert.ok(server.standIn.issuedTokens().includes(String(poll.body.access_token)));
    });
  }

  test('a keyboard-only approval: typed by hand in lower case without the dash, Tab, Enter and Space', async () => {
    const flow = await startFlow(server);
    await withContext({ viewport: { width: 1024, height: 768 } }, async (page) => {
      await page.goto(flow.verification_uri);
      await h1(page, 'Connect the Postiz CLI').waitFor();
      assert.equal(await focused(page), 'input#user_code:', 'the code field has focus on arrival');

      await page.keyboard.type(flow.user_code.replace('-', '').toLowerCase(), { delay: 20 });
      assert.equal(
        await page.inputValue('#user_code'),
        flow.user_code,
        'formatted as XXXX-XXXX while typing',
      );
      await page.keyboard.press('Tab');
      assert.equal(await focused(page), 'button:Continue');
      assert.notEqual(await focusOutline(page), 'none', 'focus is visible');
      await page.keyboard.press('Enter');

      await h1(page, 'Is this you?').waitFor();
      // Logical order: Continue first, then Cancel.
      await page.keyboard.press('Tab');
      assert.equal(await focused(page), 'button:Continue to Postiz');
      assert.notEqual(await focusOutline(page), 'none', 'focus is visible');
      await page.keyboard.press('Tab');
      assert.equal(await focused(page), 'button:Cancel');
      await page.keyboard.press('Shift+Tab');
      assert.equal(await focused(page), 'button:Continue to Postiz');
      await screenshot(page, 'keyboard-confirm-focus');
      await page.keyboard.press('Space');

      await page.getByRole('button', { name: 'Authorize' }).waitFor();
      for (let i = 0; i < 10 && (await focused(page)) !== 'button:Authorize'; i++)
        await page.keyboard.press('Tab');
      assert.equal(await focused(page), 'button:Authorize');
      await page.keyboard.press('Enter');

      await h1(page, 'You are logged in').waitFor();
      await screenshot(page, 'keyboard-success');
    });

    const poll = await pollOnce(server, flow);
    assert.equal(poll.status, 200, JSON.stringify(poll.body));
    assert.ok(server.standIn.issuedTokens().includes(String(poll.body.access_token)));
  });

  test('a cancel on the confirmation page: the cancelled page, and the CLI gets access_denied', async () => {
    const flow = await startFlow(server);
    await withContext({ viewport: { width: 375, height: 740 }, isMobile: true }, async (page) => {
      await page.goto(flow.verification_uri_complete);
      await page.getByRole('button', { name: 'Continue', exact: true }).click();
      await h1(page, 'Is this you?').waitFor();
      await page.getByRole('button', { name: 'Cancel' }).click();
      await h1(page, 'Login cancelled').waitFor();
      assert.match((await page.getByRole('status').textContent()) ?? '', /postiz auth:login/);
      await screenshot(page, 'phone-cancelled');
    });

    const poll = await pollOnce(server, flow);
    assert.equal(poll.status, 400);
    assert.equal(poll.body.error, 'access_denied');
  });

  test('a wrong code: the error is announced, the field is marked and keeps what was typed', async () => {
    await withContext({ viewport: { width: 375, height: 740 }, isMobile: true }, async (page) => {
      await page.goto(`${server.url}/device/verify`);
      await page.locator('#user_code').fill('');
      await page.keyboard.type('zzzz zzzz');
      assert.equal(await page.inputValue('#user_code'), 'ZZZZ-ZZZZ');
      await page.keyboard.press('Enter');

      const alert = page.getByRole('alert');
      await alert.waitFor();
      assert.match((await alert.textContent()) ?? '', /That code did not work/);
      assert.equal(await page.inputValue('#user_code'), 'ZZZZ-ZZZZ', 'what was typed is kept');
      assert.equal(await page.getAttribute('#user_code', 'aria-invalid'), 'true');
      assert.equal(await focused(page), 'input#user_code:', 'focus returns to the field');
      // The field's accessible description carries the message, so it is read on focus.
      const described = await page.getAttribute('#user_code', 'aria-describedby');
      assert.ok(described?.split(' ').includes('code-error'));
      assert.match(await page.title(), /That code did not work/);
      await screenshot(page, 'phone-wrong-code');
    });
  });

  test('without JavaScript the form still works: any case and spacing is accepted', async () => {
    const flow = await startFlow(server);
    await withContext({ javaScriptEnabled: false }, async (page) => {
      await page.goto(flow.verification_uri);
      await page.locator('#user_code').fill(` ${flow.user_code.replace('-', ' ').toLowerCase()} `);
      await page.getByRole('button', { name: 'Continue', exact: true }).click();
      await h1(page, 'Is this you?').waitFor();
      assert.equal(await page.locator('.code').textContent(), flow.user_code);
    });
  });
});
