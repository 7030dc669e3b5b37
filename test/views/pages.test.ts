import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { build } from '../../harness/build.js';
import type { PageErrorReason } from '../../src/errors.js';
import { translator } from '../../src/views/i18n/index.js';
import {
  type ConfirmDetails,
  confirmPage,
  type Ending,
  endingPage,
  entryPage,
  errorPage,
  type PageContext,
} from '../../src/views/pages.js';

const LANGUAGES = ['en', 'fr', 'de', 'es', 'pt'];
const REASONS: PageErrorReason[] = [
  'invalid_code',
  'expired',
  'already_used',
  'rate_limited',
  'wrong_browser',
  'unknown_state',
  'upstream_unavailable',
  'upstream_rejected',
  'misconfigured',
  'forbidden',
  'wrong_origin',
  'cookies_required',
  'bad_request',
  'cross_network',
  'code_mismatch',
  'code_not_usable',
  'server_error',
];
const ENDINGS: Ending[] = ['approved', 'denied', 'cancelled', 'no_subscription', 'token_refused'];

const ctx = (lang: string): PageContext => ({ lang, nonce: 'n0nce', csrf: 'csrf-token' });
const details: ConfirmDetails = {
  userCode: 'BCDF-GHJK',
  device: 'postiz CLI 2.1.0 on Linux',
  address: '203.0.113.7',
  requested: 'just now',
  network: 'different',
  step: 'confirm',
  fromLink: false,
};

/** Every page there is, by name, in one language. */
function allPages(lang: string): [string, string][] {
  const c = ctx(lang);
  return [
    ['entry', entryPage(c)],
    ['entry prefilled', entryPage(c, { code: 'bcdfghjk' })],
    ['entry wrong code', entryPage(c, { code: 'BCDF-XXXX', error: 'invalid_code' })],
    ['entry rate limited', entryPage(c, { code: 'x', error: 'rate_limited', retryAfterSeconds: 600 })],
    ['confirm', confirmPage(c, details)],
    ['confirm, code to type', confirmPage(c, { ...details, step: 'type_code', fromLink: true })],
    [
      'confirm, code typed wrong, naming the login it ends',
      confirmPage(c, {
        ...details,
        step: 'type_code',
        fromLink: true,
        mismatch: true,
        replaces: {
          when: '3 December 2026 at 14:05 UTC',
          address: '203.0.113.7',
          device: 'postiz CLI on Linux',
        },
      }),
    ],
    ...ENDINGS.map((e): [string, string] => [`ending ${e}`, endingPage(c, e)]),
    [
      'ending approved, checked, replacing a login',
      endingPage(c, 'approved', {
        organization: 'org_1',
        check: 'working',
        replaced: {
          when: '3 December 2026 at 14:05 UTC',
          address: '203.0.113.7',
          device: 'postiz CLI on Linux',
        },
      }),
    ],
    ['ending approved, unchecked', endingPage(c, 'approved', { organization: 'org_1', check: 'unchecked' })],
    ...REASONS.map((r): [string, string] => [`error ${r}`, errorPage(c, r, { retryAfterSeconds: 60 })]),
    ...REASONS.map((r): [string, string] => [`error ${r} with flow`, errorPage(c, r, { flowId: 'flow_1' })]),
  ];
}

/** The forms of a page, each as the list of its submit buttons' `value`s in document order. */
function formButtons(page: string): string[][] {
  return [...page.matchAll(/<form\b[\s\S]*?<\/form>/g)].map((form) =>
    [...form[0].matchAll(/<button\b([^>]*)>/g)].map((b) => b[1]!.match(/value="([^"]*)"/)?.[1] ?? ''),
  );
}

describe('every page in every language', () => {
  for (const lang of LANGUAGES) {
    test(`${lang}: renders, with html lang, a title, one h1 and no leftover placeholder`, () => {
      for (const [name, page] of allPages(lang)) {
        assert.match(page, /^<!doctype html>/, name);
        assert.ok(page.includes(`<html lang="${lang}">`), `${lang} ${name}: html lang`);
        assert.match(page, /<title>[^<]+<\/title>/, `${lang} ${name}: title`);
        assert.equal(page.match(/<h1>/g)?.length, 1, `${lang} ${name}: one h1`);
        assert.doesNotMatch(page, /\{\w+\}/, `${lang} ${name}: leftover placeholder`);
        assert.doesNotMatch(page, /undefined|\[object /, `${lang} ${name}: stray value`);
      }
    });

    test(`${lang}: pages are in their language, not English`, () => {
      if (lang === 'en') return;
      const t = translator(lang);
      assert.ok(entryPage(ctx(lang)).includes(t('entry.heading')));
      assert.ok(!entryPage(ctx(lang)).includes(translator('en')('entry.lead')));
      assert.ok(confirmPage(ctx(lang), details).includes(t('confirm.cancel')));
      assert.ok(endingPage(ctx(lang), 'approved').includes(t('done.approved.note')));
    });
  }
});

describe('the CSP allows no inline code, so pages carry none', () => {
  test('no inline style, no inline script, no event handler attribute; one script, external, with the nonce', () => {
    for (const [name, page] of allPages('en')) {
      assert.doesNotMatch(page, /\sstyle=|<style/i, name);
      assert.doesNotMatch(page, /\son[a-z]+=/i, name);
      const scripts = page.match(/<script\b[^>]*>/g) ?? [];
      assert.equal(scripts.length, 1, name);
      assert.match(
        scripts[0]!,
        /^<script nonce="n0nce" src="\.\.\/assets\/verify\.js\?v=[0-9a-f]{10}" defer>$/,
        name,
      );
      assert.match(page, /<link rel="stylesheet" href="\.\.\/assets\/style\.css\?v=[0-9a-f]{10}">/, name);
      assert.doesNotMatch(page, /(?:src|href)="(?:https?:)?\/\//, `${name}: no external resource`);
    }
  });
});

describe('buttons: the first of a form goes on, the refusing one says value="deny"', () => {
  test('every form of every page starts with a button that goes on', () => {
    for (const lang of LANGUAGES) {
      for (const [name, page] of allPages(lang)) {
        for (const buttons of formButtons(page)) {
          assert.ok(buttons.length > 0, `${name}: a form without a button`);
          assert.notEqual(buttons[0], 'deny', `${lang} ${name}`);
        }
      }
    }
  });

  test('the confirmation form is Continue then Cancel(deny)', () => {
    const page = confirmPage(ctx('en'), details);
    assert.deepEqual(formButtons(page), [['confirm', 'deny']]);
    assert.match(page, /<button type="submit" name="action" value="deny" class="secondary">Cancel<\/button>/);
  });

  test('the entry form has one button that looks the code up', () => {
    assert.deepEqual(formButtons(entryPage(ctx('en'))), [['lookup']]);
  });

  test('retryable failures offer a retry form for the flow; others a link to enter a code', () => {
    const retry = errorPage(ctx('en'), 'upstream_unavailable', { flowId: 'flow_1' });
    assert.deepEqual(formButtons(retry), [['retry']]);
    assert.match(retry, /name="flow" value="flow_1"/);
    assert.match(retry, /name="_csrf" value="csrf-token"/);
    const expired = errorPage(ctx('en'), 'expired', { flowId: 'flow_1' });
    assert.deepEqual(formButtons(expired), []);
    // Relative: pages live under /device/, and stay under SERVER_URL's path behind a proxy.
    assert.match(expired, /href="verify"/);
  });
});

describe('the code field', () => {
  test('forgives: no autocorrect, characters capitalised, required, labelled and described', () => {
    const page = entryPage(ctx('en'));
    const input = page.match(/<input id="user_code"[^>]*>/)?.[0] ?? '';
    for (const attr of [
      'name="user_code"',
      'type="text"',
      'autocomplete="off"',
      'autocapitalize="characters"',
      'autocorrect="off"',
      'spellcheck="false"',
      'inputmode="text"',
      'required',
      'aria-describedby="code-hint"',
      'autofocus',
    ]) {
      assert.ok(input.includes(attr), `missing ${attr} in ${input}`);
    }
    assert.match(page, /<label for="user_code">/);
    assert.match(page, /id="code-error" class="error" role="alert"/);
  });

  test('a wrong code keeps what was typed, marks the field invalid and says why in the live region', () => {
    const page = entryPage(ctx('en'), { code: 'bcdf xxxx', error: 'invalid_code' });
    assert.match(page, /value="bcdf xxxx"/);
    assert.match(page, /aria-invalid="true"/);
    assert.match(page, /aria-describedby="code-error code-hint"/);
    assert.match(page, /role="alert"><p class="error-title">That code did not work<\/p>/);
    assert.match(page, /<title>That code did not work · /);
  });

  test('a pre-filled code does not grab focus (no keyboard popping up on phones)', () => {
    const input = entryPage(ctx('en'), { code: 'BCDFGHJK' }).match(/<input id="user_code"[^>]*>/)?.[0];
    assert.ok(input && !input.includes('autofocus'));
  });

  test('too many attempts does not call the typed code invalid', () => {
    const page = entryPage(ctx('en'), { code: 'BCDF-GHJK', error: 'rate_limited', retryAfterSeconds: 60 });
    assert.doesNotMatch(page, /aria-invalid/);
    assert.match(page, /aria-describedby="code-error code-hint"/);
  });

  test('too many attempts says when to retry, in whole minutes', () => {
    const t = (s: number) => entryPage(ctx('en'), { error: 'rate_limited', retryAfterSeconds: s });
    assert.match(t(30), /Try again in 1 minute\./);
    assert.match(t(61), /Try again in 2 minutes\./);
    assert.match(errorPage(ctx('de'), 'rate_limited', { retryAfterSeconds: 900 }), /in 15 Minuten erneut/);
  });

  test('the entry page reminds to log in to Postiz first, and how to come back', () => {
    const page = entryPage(ctx('en'));
    assert.match(page, /Log in to Postiz first/);
    assert.match(page, /will not bring you back/);
  });
});

describe('endings say what happens next', () => {
  test('success: back to the terminal, and one CLI login per person and organisation, others untouched', () => {
    const page = endingPage(ctx('en'), 'approved');
    assert.match(page, /Return to your terminal/);
    assert.match(page, /one CLI login per person and organisation/);
    assert.match(page, /Other members(&#39;|') logins are not affected/);
  });

  test('refusals and expiry name the command to run again, shown as code', () => {
    for (const page of [
      endingPage(ctx('fr'), 'denied'),
      endingPage(ctx('de'), 'cancelled'),
      errorPage(ctx('es'), 'expired'),
    ]) {
      assert.match(page, /<code>postiz auth:login<\/code>/);
    }
  });
});

describe('hostile input is escaped', () => {
  const evil = `"><script>alert(1)</script><img src=x onerror=alert(2)>`;

  test('in the typed code', () => {
    const page = entryPage(ctx('en'), { code: evil, error: 'invalid_code' });
    assert.ok(!page.includes('<script>alert'));
    assert.ok(!page.includes('<img'));
    assert.ok(page.includes('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;'));
  });

  test('in every detail of the confirmation page', () => {
    const page = confirmPage(ctx('en'), {
      userCode: evil,
      device: evil,
      address: evil,
      requested: evil,
      network: 'same',
      step: 'confirm',
      fromLink: false,
    });
    assert.ok(!page.includes('<script>alert'));
    assert.ok(!page.includes('<img'));
    assert.equal(page.match(/&lt;script&gt;/g)?.length, 5); // shown four times, plus the hidden field
  });

  test('in the flow id and CSRF token', () => {
    const page = errorPage({ lang: 'en', nonce: '"x', csrf: evil }, 'upstream_unavailable', { flowId: evil });
    assert.ok(!page.includes('<script>alert'));
    assert.ok(page.includes('nonce="&quot;x"'));
  });

  test('in a language tag that reached the page', () => {
    const page = entryPage({ lang: '"><script>', nonce: 'n', csrf: 'c' });
    assert.ok(page.startsWith('<!doctype html>\n<html lang="&quot;&gt;&lt;script&gt;">'));
  });
});

describe('served pages', () => {
  test('the asset URLs a page names are served, whatever their version query', async (t) => {
    const { app } = await build(t);
    const page = await app.inject({ method: 'GET', url: '/device/verify' });
    // Relative, as a browser resolves them from the page's URL.
    const urls = [...page.body.matchAll(/(?:href|src)="(\.\.\/assets\/[^"]+)"/g)].map((m) => {
      const resolved = new URL(m[1]!, 'http://localhost:3111/device/verify');
      return `${resolved.pathname}${resolved.search}`;
    });
    assert.equal(urls.length, 2);
    for (const url of urls) {
      const asset = await app.inject({ method: 'GET', url });
      assert.equal(asset.statusCode, 200, url);
      // Linked with a version in the URL (README, Endpoints): cached for a year, never revalidated.
      assert.equal(asset.headers['cache-control'], 'public, max-age=31536000, immutable');
    }
    assert.equal(page.headers['cache-control'], 'no-store');
  });

  test('<html lang> follows Accept-Language', async (t) => {
    const { app } = await build(t);
    const cases: [string | undefined, string][] = [
      ['de-DE,de;q=0.9,en;q=0.8', 'de'],
      ['pt-BR', 'pt'],
      ['es;q=0.4, fr;q=0.9', 'fr'],
      ['ja', 'en'],
      [undefined, 'en'],
    ];
    for (const [header, lang] of cases) {
      const res = await app.inject({
        method: 'GET',
        url: '/device/verify',
        headers: header ? { 'accept-language': header } : {},
      });
      assert.equal(res.statusCode, 200);
      assert.ok(res.body.includes(`<html lang="${lang}">`), `${header} → ${lang}`);
      assert.ok(res.body.includes(translator(lang)('entry.heading')), `${header} → ${lang} text`);
    }
  });

  test('a hostile user agent is never shown raw on the confirmation page', async (t) => {
    const { app } = await build(t);
    const started = await app.inject({
      method: 'POST',
      url: '/device/code',
      headers: { 'user-agent': 'evil/1.0 <script>alert(1)</script>', 'content-type': 'application/json' },
    });
    const { user_code: userCode } = started.json() as { user_code: string };
    const entry = await app.inject({ method: 'GET', url: '/device/verify' });
    const cookie = entry.cookies.map((c) => `${c.name}=${c.value}`).join('; ');
    const csrf = entry.body.match(/name="_csrf" value="([^"]+)"/)![1]!;
    const confirm = await app.inject({
      method: 'POST',
      url: '/device/verify',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ _csrf: csrf, user_code: userCode, action: 'lookup' }).toString(),
    });
    assert.equal(confirm.statusCode, 200);
    assert.ok(!confirm.body.includes('<script>alert'));
    assert.match(confirm.body, /value="deny"/);
  });
});
