/**
 * SERVER_URL with a path (`https://example.com/cli-auth`) behind a proxy that strips it: every
 * link, form and asset of the pages resolves under the path, as a browser resolves them, and a
 * whole login goes through.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';
import { build } from '../../harness/build.js';
import { field } from '../../harness/forms.js';
import { type Page, Walker } from '../../harness/walker.js';

const PREFIX = '/cli-auth';

/**
 * A proxy that passes `PREFIX/…` to the server it is told to forward to, without the prefix, and
 * 404s anything else. It listens first (on a port of its own choosing), so SERVER_URL can name
 * its address before the server is built, with no port reserved and released in between.
 */
async function strippingProxy(): Promise<{
  port: number;
  forwardTo(target: string): void;
  close(): Promise<void>;
}> {
  let target = '';
  const server = http.createServer((req, res) => {
    if (!req.url?.startsWith(`${PREFIX}/`)) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not under ${PREFIX}: ${req.url}`);
      return;
    }
    const upstream = http.request(
      `${target}${req.url.slice(PREFIX.length)}`,
      { method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return {
    port: address.port,
    forwardTo: (to) => {
      target = to;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The URLs of a page's stylesheet and script, and of its form, resolved as a browser does. */
function links(page: Page): { assets: string[]; form: string | undefined; anchors: string[] } {
  const resolve = (ref: string) => new URL(ref.replaceAll('&amp;', '&'), page.url).href;
  return {
    assets: [...page.body.matchAll(/<(?:link rel="stylesheet" href|script[^>]*src)="([^"]+)"/g)].map((m) =>
      resolve(m[1]!),
    ),
    form: page.body.match(/<form method="post" action="([^"]*)"/)?.[1],
    anchors: [...page.body.matchAll(/<a [^>]*href="([^"#]+)"/g)].map((m) => resolve(m[1]!)),
  };
}

test('behind a proxy that strips SERVER_URL’s path, every link, form and asset resolves under it and a login goes through', async (t) => {
  const proxy = await strippingProxy();
  t.after(proxy.close);
  const serverUrl = `http://127.0.0.1:${proxy.port}${PREFIX}`;
  const { app, standIn } = await build(t, { env: { SERVER_URL: serverUrl } });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  assert.ok(address && typeof address === 'object');
  proxy.forwardTo(`http://127.0.0.1:${address.port}`);

  const started = (await (await fetch(`${serverUrl}/device/code`, { method: 'POST' })).json()) as {
    device_code: string;
    verification_uri_complete: string;
  };
  assert.ok(started.verification_uri_complete.startsWith(`${serverUrl}/device/verify?code=`));

  const walker = new Walker();
  const resolveForm = (page: Page) => {
    const action = links(page).form;
    assert.ok(action !== undefined, `a form on ${page.url}`);
    return new URL(action, page.url).href;
  };
  const entry = await walker.get(started.verification_uri_complete);
  assert.equal(entry.status, 200);
  for (const asset of links(entry).assets) {
    assert.ok(asset.startsWith(`${serverUrl}/assets/`), asset);
    assert.equal((await fetch(asset)).status, 200, asset);
  }
  const confirmation = await walker.post(resolveForm(entry), {
    _csrf: field(entry.body, '_csrf'),
    user_code: new URL(started.verification_uri_complete).searchParams.get('code')!,
    action: 'lookup',
  });
  assert.equal(confirmation.status, 200, confirmation.body.slice(0, 300));
  const toPostiz = await walker.post(resolveForm(confirmation), {
    _csrf: field(confirmation.body, '_csrf'),
    user_code: field(confirmation.body, 'user_code'),
    action: 'confirm',
  });
  assert.equal(toPostiz.status, 303, toPostiz.body.slice(0, 300));
  const back = await walker.decideAtPostiz(toPostiz.location!, 'approve');
  assert.ok(back.location?.startsWith(`${serverUrl}/device/callback?`), back.location);
  const done = await walker.get(back.location!);
  assert.equal(done.status, 200, done.body.slice(0, 300));
  for (const asset of links(done).assets) assert.equal((await fetch(asset)).status, 200, asset);

  const token = await fetch(`${serverUrl}/device/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ device_code: started.device_code }),
  });
  assert.equal(token.status, 200);
  assert.equal(
    ((await token.json()) as { access_token: string }).access_token,
    standIn.issuedTokens().at(-1),
  );

  // An error page's way forward stays under the path too.
  const expired = await walker.get(
    `${serverUrl}/device/callback?state=${'x'.repeat(43)}&error=access_denied`,
  );
  assert.equal(expired.status, 400);
  for (const anchor of links(expired).anchors) {
    assert.ok(anchor.startsWith(`${serverUrl}/`), anchor);
    assert.equal((await walker.get(anchor)).status, 200, anchor);
  }
});
