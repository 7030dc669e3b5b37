/**
 * docs/security.md, "A leaked Postiz code is worthless", in a real browser: a page the victim
 * visits that embeds images pointing at the callback makes Chromium fetch them as images
 * (`Sec-Fetch-Dest: image`), and those callbacks spend none of the address's burning budget;
 * the victim's own navigation to the callback afterwards (a document) still burns its code.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { TEST_CLIENT_ID } from '../../harness/build.js';
import { browserSkipReason, launchBrowser, startTestServer, type TestServer } from './support.js';

/** A well-formed Postiz code (32 letters and digits) that Postiz never issued. */
const junkCode = () =>
  randomBytes(24)
    .toString('base64')
    .replace(/[^A-Za-z0-9]/g, 'x')
    .slice(0, 32);

/** The value of a sample on the server's /metrics, 0 when absent. */
async function sample(server: TestServer, name: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : 0;
}

describe('callbacks a page makes the browser fetch', { skip: browserSkipReason() }, () => {
  let browser: Browser;
  let server: TestServer;
  let evil: http.Server;
  let evilUrl: string;

  before(async () => {
    browser = await launchBrowser();
    server = await startTestServer({ RATE_LIMIT_CODE_BURNS: '3' });
    // Another site: a page with more images pointing at the callback than the budget allows.
    evil = http.createServer((_req, res) => {
      const images = Array.from(
        { length: 10 },
        () => `<img src="${server.url}/device/callback?state=x&code=${junkCode()}" alt="">`,
      ).join('\n');
      res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><title>cats</title>${images}`);
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
    evilUrl = `http://127.0.0.1:${(evil.address() as AddressInfo).port}/`;
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    evil?.close();
  });

  test('images pointing at the callback spend no burning budget; the victim landing there still burns its code', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(evilUrl, { waitUntil: 'networkidle' });
      for (
        let i = 0;
        i < 50 && (await sample(server, 'postiz_cli_auth_codes_burned_total{result="subresource"}')) < 10;
        i++
      )
        await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(await sample(server, 'postiz_cli_auth_codes_burned_total{result="subresource"}'), 10);
      assert.equal(await sample(server, 'postiz_cli_auth_codes_burned_total{result="limited"}'), 0);

      // The victim approves a consent link made by someone else and lands on the callback.
      await page.goto(
        `${server.config.postizFrontendUrl}/oauth/authorize?client_id=${TEST_CLIENT_ID}&response_type=code&state=anything`,
      );
      await page.getByRole('button', { name: 'Authorize' }).click();
      await page.getByRole('heading', { level: 1, name: 'This link is no longer valid' }).waitFor();
      assert.equal(await sample(server, 'postiz_cli_auth_codes_burned_total{result="burned"}'), 1);
    } finally {
      await context.close();
    }
  });
});
