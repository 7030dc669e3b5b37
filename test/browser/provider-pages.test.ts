/**
 * The pages of a server for another provider (`UPSTREAM=oauth`, named Example), in headless
 * Chromium on a phone, in every language: axe-core finds no serious or critical violation,
 * nothing scrolls sideways at 320 px, no console error or CSP violation (the favicon is the
 * provider's initial, a data: image), the decision fits the first screen of the longest
 * confirmation page, and no page names Postiz. Screenshots: test-results/screenshots/oauth-*.png.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import {
  browserSkipReason,
  decisionPlacement,
  launchBrowser,
  overflowsSideways,
  runAxe,
  screenshot,
  seriousViolations,
  startClockedServer,
  type TestServer,
  watchProblems,
} from './support.js';

/** Another network than the browser's: the code in the link must be typed, the longest page. */
const ELSEWHERE = '203.0.113.7';

/** Start a flow as Example's CLI would, from `from`: its verification link. */
async function startFlow(server: { url: string }, from: string): Promise<string> {
  const response = await fetch(`${server.url}/device/code`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'example-cli/1.4.0 (linux)',
      'x-forwarded-for': from,
    },
  });
  assert.equal(response.status, 200);
  return ((await response.json()) as { verification_uri_complete: string }).verification_uri_complete;
}

describe('another provider’s pages, in every language, on a phone', { skip: browserSkipReason() }, () => {
  let browser: Browser;
  let server: TestServer;
  let nextAddress = 1;

  before(async () => {
    browser = await launchBrowser();
    server = await startClockedServer({
      TRUST_PROXY: 'true',
      UPSTREAM: 'oauth',
      // Never reached: no one presses Continue here.
      OAUTH_AUTHORIZATION_ENDPOINT: 'http://127.0.0.1:9/authorize',
      OAUTH_TOKEN_ENDPOINT: 'http://127.0.0.1:9/token',
      OAUTH_CLIENT_ID: 'cli-auth',
      OAUTH_CLIENT_SECRET: 'cli-auth-secret',
      OAUTH_PROVIDER_NAME: 'Example',
      OAUTH_CLIENT_NAME: 'Example CLI',
      OAUTH_LOGIN_COMMAND: 'example login',
    });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test('they pass axe, fit a phone, scroll not sideways, and never name Postiz', async () => {
    const findings: string[] = [];
    /** Check the page as it is now: axe, no sideways scroll at 320 px, Example named and Postiz not. */
    const check = async (page: Page, name: string) => {
      for (const violation of seriousViolations(await runAxe(page))) findings.push(`${name}: ${violation}`);
      const html = await page.content();
      if (/postiz/i.test(html)) findings.push(`${name} names Postiz`);
      if (!html.includes('Example CLI')) findings.push(`${name} does not name Example CLI`);
      const size = page.viewportSize()!;
      await page.setViewportSize({ width: 320, height: 640 });
      if (await overflowsSideways(page)) findings.push(`${name} scrolls sideways at 320 px`);
      await page.setViewportSize(size);
      await screenshot(page, `oauth-${name}`);
    };
    for (const [locale, lang] of [
      ['en-US', 'en'],
      ['fr-FR', 'fr'],
      ['de-DE', 'de'],
      ['es-ES', 'es'],
      ['pt-BR', 'pt'],
    ] as const) {
      const context = await browser.newContext({
        locale,
        viewport: { width: 390, height: 844 },
        extraHTTPHeaders: { 'x-forwarded-for': `198.51.100.${nextAddress++}` },
      });
      try {
        const problems = await watchProblems(context, server.url);
        const page = await context.newPage();
        await page.goto(await startFlow(server, ELSEWHERE));
        assert.equal(await page.getAttribute('html', 'lang'), lang, locale);
        await check(page, `${lang}-entry`);
        await page.locator('form button[type="submit"]').first().click();
        await page.locator('#typed_code').waitFor();
        await page.locator('#typed_code').fill('BCDF-GHJK');
        await page.locator('button[value="confirm"]').click();
        await page.locator('#typed_code[aria-invalid="true"]').waitFor();
        for (const problem of (await decisionPlacement(page)).problems)
          findings.push(`${locale}: ${problem}`);
        await check(page, `${lang}-confirm-type-code-wrong`);
        await page.locator('button[value="deny"]').click();
        await page.locator('h1').waitFor();
        await check(page, `${lang}-cancelled`);
        assert.ok((await page.content()).includes('<code>example login</code>'), locale);
        findings.push(...problems.list);
      } finally {
        await context.close();
      }
    }
    assert.deepEqual(findings, []);
  });
});
