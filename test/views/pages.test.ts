import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { build } from '../../harness/build.js';
import { POSTIZ_PAGES, REASONS } from '../../harness/pages.js';
import type { PageErrorReason } from '../../src/device-flow/page-error.js';
import { escapeHtml } from '../../src/views/html.js';
import { en } from '../../src/views/i18n/en.js';
import { type MessageKey, translator } from '../../src/views/i18n/index.js';
import { describeOrganization } from '../../src/views/organization.js';
import {
  type ChannelView,
  type ConfirmDetails,
  confirmPage,
  type Ending,
  type EndingDetails,
  endingPage,
  entryPage,
  errorPage,
  type OrganizationView,
  type PageContext,
} from '../../src/views/pages.js';
import { describeUserAgent, describeWhen } from '../../src/views/user-agent.js';

const LANGUAGES = ['en', 'fr', 'de', 'es', 'pt'];
/** Each ending, and each refusal the Postiz profile names. */
const ENDINGS: [Ending, EndingDetails][] = [
  ['approved', {}],
  ['denied', {}],
  ['cancelled', {}],
  ['refused', { refusal: 'no_subscription' }],
  ['refused', { refusal: 'token_refused' }],
];

const ctx = (lang: string): PageContext => ({
  lang,
  nonce: 'n0nce',
  csrf: 'csrf-token',
  profile: POSTIZ_PAGES,
});

/** Seven channels of one organisation, one of them disabled, one on a platform we do not know. */
const CHANNELS: ChannelView[] = [
  { name: 'Acme', platform: 'x', disabled: false },
  { name: 'Acme', platform: 'linkedin-page', disabled: false },
  { name: 'Acme Shop', platform: 'instagram', disabled: true },
  { name: 'Acme', platform: 'bluesky', disabled: false },
  { name: 'Acme TV', platform: 'youtube', disabled: false },
  { name: 'acme', platform: 'tiktok', disabled: false },
  { name: 'Acme', platform: 'some-new-network', disabled: false },
];
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
          when: new Date('2026-12-03T14:05:00Z'),
          address: '203.0.113.7',
          device: 'postiz CLI on Linux',
          organization: { id: 'org_1', channels: CHANNELS.slice(0, 3) },
        },
      }),
    ],
    ...ENDINGS.map(([e, details]): [string, string] => [
      `ending ${e} ${details.refusal ?? ''}`,
      endingPage(c, e, details),
    ]),
    [
      'ending approved, checked, replacing a login',
      endingPage(c, 'approved', {
        organization: { id: 'org_1', channels: CHANNELS },
        check: 'working',
        replaced: {
          when: new Date('2026-12-03T14:05:00Z'),
          address: '203.0.113.7',
          device: 'postiz CLI on Linux',
        },
      }),
    ],
    [
      'ending approved, unchecked',
      endingPage(c, 'approved', { organization: { id: 'org_1' }, check: 'unchecked' }),
    ],
    [
      'ending no subscription, no channels',
      endingPage(c, 'refused', {
        refusal: 'no_subscription',
        organization: { id: 'org_unpaid', channels: [] },
      }),
    ],
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
      const t = translator(lang, POSTIZ_PAGES);
      assert.ok(entryPage(ctx(lang)).includes(t('entry.heading')));
      assert.ok(!entryPage(ctx(lang)).includes(translator('en', POSTIZ_PAGES)('entry.lead')));
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
  test('success: back to the terminal; what ended is the same person’s earlier login, not other members’', () => {
    const page = endingPage(ctx('en'), 'approved');
    assert.match(page, /Return to your terminal/);
    assert.match(page, /one CLI login per person and organisation/);
    assert.match(page, /an earlier CLI login of yours for this organisation/);
    assert.match(page, /Other members’ logins are not affected/);
  });

  test('success after an earlier login from this browser: it ended only if the same account approved it', () => {
    for (const lang of LANGUAGES) {
      const t = translator(lang, POSTIZ_PAGES);
      const replaced = {
        when: new Date('2026-12-03T14:05:00Z'),
        address: '203.0.113.7',
        device: 'postiz CLI 2.1.0',
      };
      const page = endingPage(ctx(lang), 'approved', { organization: { id: 'org_1' }, replaced });
      assert.ok(!page.includes(t('done.approved.note')), `${lang}: the general note gives way`);
      assert.ok(page.includes('203.0.113.7') && page.includes('postiz CLI 2.1.0'), lang);
    }
    const page = endingPage(ctx('en'), 'approved', {
      replaced: {
        when: new Date('2026-12-03T14:05:00Z'),
        address: '203.0.113.7',
        device: 'postiz CLI 2.1.0',
      },
    });
    // Never "no longer works" as a fact: only under "if you approved with the same account".
    const sentence = page.match(
      /<p class="note">(If you approved[^<]*<time[^>]*>[^<]*<\/time>[^<]*)<\/p>/,
    )?.[1];
    assert.ok(sentence, page);
    assert.match(
      sentence,
      /^If you approved with the same Postiz account as the last CLI login approved in this browser/,
    );
    assert.match(
      sentence,
      /that login no longer works: Postiz keeps one CLI login per person and organisation\. Other members’ logins are not affected\.$/,
    );
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
    const page = errorPage(
      { lang: 'en', nonce: '"x', csrf: evil, profile: POSTIZ_PAGES },
      'upstream_unavailable',
      { flowId: evil },
    );
    assert.ok(!page.includes('<script>alert'));
    assert.ok(page.includes('nonce="&quot;x"'));
  });

  test('in a language tag that reached the page', () => {
    const page = entryPage({ lang: '"><script>', nonce: 'n', csrf: 'c', profile: POSTIZ_PAGES });
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

  test('SUPPORT_URL reaches the pages the server serves; unset, they offer no contact', async (t) => {
    const { app } = await build(t, { env: { SUPPORT_URL: 'mailto:ops@example.com' } });
    const page = await app.inject({ method: 'GET', url: '/device/verify' });
    assert.ok(
      page.body.includes('<a class="contact" href="mailto:ops@example.com">Contact ops@example.com</a>'),
    );
    const { app: without } = await build(t);
    const plain = await without.inject({ method: 'GET', url: '/device/verify' });
    assert.ok(!plain.body.includes('class="contact"'));
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
      assert.ok(
        res.body.includes(translator(lang, POSTIZ_PAGES)('entry.heading')),
        `${header} → ${lang} text`,
      );
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

/** The text of a page's `<main>`, tags removed and entities read, as a person would read it. */
function mainText(page: string): string {
  const main = page.match(/<main[^>]*>([\s\S]*)<\/main>/)?.[1] ?? '';
  return main
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');
}

describe('the organisation, as people know it', () => {
  const approved = (organization: OrganizationView, lang = 'en') =>
    mainText(endingPage(ctx(lang), 'approved', { organization }));
  const channel = (name: string, platform: string, disabled = false): ChannelView => ({
    name,
    platform,
    disabled,
  });

  test('named by its channels: all of them up to three, else two and how many more', () => {
    const cases: [ChannelView[], string][] = [
      [[channel('Acme', 'x')], 'Postiz authorized the organisation with Acme on X.'],
      [
        [channel('Acme', 'x'), channel('Acme', 'linkedin')],
        'Postiz authorized the organisation with Acme on X and Acme on LinkedIn.',
      ],
      [
        [channel('Acme', 'x'), channel('Acme', 'linkedin'), channel('Acme Page', 'linkedin-page')],
        'Postiz authorized the organisation with Acme on X, Acme on LinkedIn, and Acme Page on LinkedIn Page.',
      ],
      [CHANNELS, 'Postiz authorized the organisation with Acme on X, Acme on LinkedIn Page, and 5 more.'],
    ];
    for (const [channels, sentence] of cases) {
      const text = approved({ id: 'org_demo', channels });
      assert.ok(text.includes(sentence), `${channels.length} channels: ${text}`);
      assert.ok(text.includes('Organisation id: org_demo'), 'the id stays, in small print');
    }
  });

  test('enabled channels are named first; a disabled one named is marked, and counted in "more"', () => {
    const text = approved({
      id: 'org_demo',
      channels: [
        channel('Old', 'facebook', true),
        channel('Acme', 'x'),
        channel('Acme', 'threads'),
        channel('Gone', 'reddit', true),
      ],
    });
    assert.ok(text.includes('the organisation with Acme on X, Acme on Threads, and 2 more.'), text);
    const allDisabled = approved({
      channels: [channel('Old', 'facebook', true), channel('', 'mastodon', true)],
    });
    assert.ok(
      allDisabled.includes('the organisation with Old on Facebook (disabled) and Mastodon (disabled).'),
      allDisabled,
    );
  });

  test('when only some channels are listed, "more" counts them all (channelCount)', () => {
    const text = approved({ id: 'org_demo', channels: CHANNELS.slice(0, 3), channelCount: 12 });
    assert.ok(text.includes('the organisation with Acme on X, Acme on LinkedIn Page, and 10 more.'), text);
    const few = approved({ channels: [channel('Acme', 'x')], channelCount: 1 });
    assert.ok(few.includes('the organisation with Acme on X.'), few);
  });

  test('platforms by their own names; an identifier we do not know, as Postiz gave it', () => {
    const names: [string, string][] = [
      ['x', 'X'],
      ['linkedin', 'LinkedIn'],
      ['linkedin-page', 'LinkedIn Page'],
      ['instagram', 'Instagram'],
      ['facebook', 'Facebook'],
      ['bluesky', 'Bluesky'],
      ['youtube', 'YouTube'],
      ['tiktok', 'TikTok'],
      ['threads', 'Threads'],
      ['mastodon', 'Mastodon'],
      ['pinterest', 'Pinterest'],
      ['reddit', 'Reddit'],
      ['discord', 'Discord'],
      ['telegram', 'Telegram'],
      ['some-new-network', 'some-new-network'],
      ['constructor', 'constructor'],
    ];
    for (const [identifier, name] of names) {
      assert.ok(
        approved({ channels: [channel('Acme', identifier)] }).includes(`Acme on ${name}.`),
        identifier,
      );
    }
  });

  test('by its id when the channels are unknown or none; as the one selected in Postiz when nothing is known', () => {
    assert.ok(approved({ id: 'org_demo' }).includes('Postiz authorized the organisation org_demo.'));
    assert.ok(
      approved({ id: 'org_demo', channels: [] }).includes('Postiz authorized the organisation org_demo.'),
    );
    assert.ok(!approved({ id: 'org_demo' }).includes('Organisation id:'), 'the id is said once');
    assert.ok(approved({}).includes('Postiz authorized the organisation selected in Postiz.'));
    const refused = mainText(
      endingPage(ctx('en'), 'refused', {
        refusal: 'no_subscription',
        organization: { id: 'org_unpaid', channels: [channel('Unpaid', 'x')] },
      }),
    );
    assert.ok(
      refused.includes('refuses its API to the organisation with Unpaid on X, which has no subscription'),
      refused,
    );
    assert.ok(refused.includes('Organisation id: org_unpaid'), refused);
  });

  test('in every language, the channels are listed in that language', () => {
    const organization = { id: 'org_demo', channels: CHANNELS.slice(0, 3) };
    const expected: Record<string, string> = {
      en: 'the organisation with Acme on X, Acme on LinkedIn Page, and Acme Shop on Instagram (disabled)',
      fr: 'l’organisation avec Acme sur X, Acme sur LinkedIn Page et Acme Shop sur Instagram (désactivé)',
      de: 'die Organisation mit Acme auf X, Acme auf LinkedIn Page und Acme Shop auf Instagram (deaktiviert)',
      es: 'la organización con Acme en X, Acme en LinkedIn Page y Acme Shop en Instagram (desactivado)',
      pt: 'a organização com Acme no X, Acme no LinkedIn Page e Acme Shop no Instagram (desativado)',
    };
    for (const lang of LANGUAGES) {
      const text = approved(organization, lang);
      assert.ok(text.includes(expected[lang]!), `${lang}: ${text}`);
    }
  });

  test('hostile names and identifiers are escaped, and long ones cut', () => {
    const evil = `"><script>alert(1)</script><img src=x onerror=alert(2)>`;
    const page = endingPage(ctx('en'), 'approved', {
      organization: {
        id: evil,
        channels: [channel(evil, evil), channel('{organization} {n}', 'x'), channel('A'.repeat(500), 'x')],
      },
    });
    assert.ok(!page.includes('<script>alert') && !page.includes('<img'), 'nothing hostile is markup');
    assert.ok(page.includes('&lt;script&gt;alert(1)&lt;/script&gt;'), 'shown as text');
    assert.ok(mainText(page).includes('{organization} {n} on X'), 'a name is never read as a placeholder');
    assert.ok(!page.includes('A'.repeat(61)), 'a 500-letter name is cut');
    assert.ok(page.includes(`${'A'.repeat(59)}…`));
  });
});

describe('times are written in UTC, marked up for the reader’s time zone', () => {
  test('the earlier login’s time is a <time> with its ISO instant, and the UTC text for pages without script', () => {
    const when = new Date('2026-12-06T13:54:00Z');
    const login = { when, address: '203.0.113.10', device: 'postiz CLI 2.1.0' };
    for (const page of [
      confirmPage(ctx('en'), { ...details, replaces: login }),
      endingPage(ctx('en'), 'approved', { replaced: login }),
    ]) {
      // (Intl puts a narrow no-break space before "PM".)
      assert.match(
        page,
        /<time class="local-time" datetime="2026-12-06T13:54:00\.000Z">December 6, 2026 at 1:54\sPM UTC<\/time>/,
      );
    }
    assert.match(
      confirmPage(ctx('de'), { ...details, replaces: login }),
      /<time class="local-time" datetime="2026-12-06T13:54:00\.000Z">6\. Dezember 2026 um 13:54 UTC<\/time>/,
    );
  });
});

describe('no sentence nests parentheses', () => {
  /** Whether `text` opens a parenthesis inside another. */
  const nests = (text: string): boolean => {
    let depth = 0;
    for (const ch of text) {
      if (ch === '(') depth++;
      if (ch === ')') depth--;
      if (depth > 1) return true;
    }
    return false;
  };
  const AGENTS = [
    undefined,
    'node',
    'undici',
    'node-fetch/1.0',
    'postiz/2.1.0 (linux; x64) node/22.23.0',
    'postiz-cli/2.1.0 (darwin)',
    'curl/8.5.0',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64)',
    'Python-urllib/3.12',
    'something',
  ];

  test('every message that names a device, with every device description, in every language', () => {
    for (const lang of LANGUAGES) {
      const t = translator(lang, POSTIZ_PAGES);
      const devices = AGENTS.map((agent) => describeUserAgent(agent, t));
      const organization = describeOrganization(t, lang, { id: 'org_1', channels: CHANNELS }).name;
      const templates = (Object.keys(en) as MessageKey[]).filter((key) => t(key).includes('{device}'));
      assert.ok(templates.length >= 3, `${lang}: the messages naming a device`);
      for (const key of templates) {
        for (const device of devices) {
          const sentence = t(key, {
            when: describeWhen(new Date('2026-12-06T13:54:00Z'), lang),
            address: '203.0.113.10',
            device,
            organization,
          });
          assert.ok(!nests(sentence), `${lang} ${key}: ${sentence}`);
        }
      }
      for (const device of devices) assert.ok(!device.includes('('), `${lang}: ${device}`);
    }
  });

  test('the real CLI (user agent "node") is not described in parentheses', () => {
    assert.equal(
      describeUserAgent('node', translator('en', POSTIZ_PAGES)),
      'the postiz CLI or another Node.js program',
    );
  });
});

describe('the confirmation page: the decision first', () => {
  test('code, who is asking, one warning and the buttons come before what approving does', () => {
    for (const lang of LANGUAGES) {
      const t = translator(lang, POSTIZ_PAGES);
      const page = confirmPage(ctx(lang), {
        ...details,
        replaces: {
          when: new Date('2026-12-03T14:05:00Z'),
          address: '203.0.113.7',
          device: 'postiz CLI 2.1.0',
        },
      });
      const order = [
        'class="code"',
        'class="details"',
        'class="warning"',
        'value="confirm"',
        'value="deny"',
        'class="more"',
        escapeHtml(t('confirm.consequences')),
        'class="replaces"',
        escapeHtml(t('confirm.next')),
      ].map((marker) => page.indexOf(marker));
      assert.ok(!order.includes(-1), `${lang}: ${order}`);
      assert.deepEqual(
        order,
        [...order].sort((a, b) => a - b),
        `${lang}: in this order`,
      );
    }
  });

  test('another network is said once, as the warning’s first line, also where the code must be typed', () => {
    for (const lang of LANGUAGES) {
      const t = translator(lang, POSTIZ_PAGES);
      for (const step of ['confirm', 'type_code'] as const) {
        const page = confirmPage(ctx(lang), { ...details, network: 'different', step, fromLink: true });
        assert.equal(page.split(escapeHtml(t('confirm.network_different'))).length, 2, `${lang} ${step}`);
        assert.equal(page.match(/class="warning"/g)?.length, 1, `${lang} ${step}: one warning`);
        assert.ok(!page.includes(escapeHtml(t('confirm.network_same'))), `${lang} ${step}`);
      }
      const same = confirmPage(ctx(lang), { ...details, network: 'same' });
      assert.ok(same.includes(escapeHtml(t('confirm.network_same'))), lang);
      assert.ok(!same.includes(escapeHtml(t('confirm.network_different'))), lang);
    }
  });

  test('the last login approved in this browser is said as what it is, with its organisation when known', () => {
    const replaces = {
      when: new Date('2026-12-03T14:05:00Z'),
      address: '203.0.113.7',
      device: 'postiz CLI 2.1.0 on Linux',
      organization: { id: 'org_demo', channels: [{ name: 'Acme', platform: 'x', disabled: false }] },
    };
    const text = mainText(confirmPage(ctx('en'), { ...details, replaces }));
    assert.ok(
      text.includes(
        'The last CLI login approved in this browser: December 3, 2026 at 2:05 PM UTC, from 203.0.113.7, postiz CLI 2.1.0 on Linux, for the organisation with Acme on X. If you approve with the same Postiz account and organisation, Postiz ends that login.',
      ),
      text,
    );
    const noOrganization = mainText(
      confirmPage(ctx('en'), { ...details, replaces: { ...replaces, organization: undefined } }),
    );
    assert.ok(
      noOrganization.includes('from 203.0.113.7, postiz CLI 2.1.0 on Linux. If you approve'),
      noOrganization,
    );
  });

  test('a wrong typed code is kept (escaped) and marked invalid, as on the entry page', () => {
    const evil = `"><script>alert(1)</script>`;
    const page = confirmPage(ctx('en'), {
      ...details,
      step: 'type_code',
      fromLink: true,
      mismatch: true,
      typed: evil,
    });
    const input = page.match(/<input id="typed_code"[^>]*>/)?.[0] ?? '';
    assert.ok(input.includes('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"'), input);
    assert.ok(input.includes('aria-invalid="true"'), input);
    assert.ok(input.includes('aria-describedby="type-error"'), input);
    assert.ok(!page.includes('<script>alert'));
    const first = confirmPage(ctx('en'), { ...details, step: 'type_code', fromLink: true });
    assert.ok(first.match(/<input id="typed_code"[^>]*>/)?.[0].includes('value=""'), 'nothing typed yet');
  });
});

describe('SUPPORT_URL: a contact where the page names one, and none without it', () => {
  const withSupport = (supportUrl: string, lang = 'en'): PageContext => ({ ...ctx(lang), supportUrl });
  const HELP_PAGES: PageErrorReason[] = [
    'misconfigured',
    'cross_network',
    'server_error',
    'rate_limited',
    'upstream_unavailable',
  ];

  test('every page links to it in its footer, named by its host or address', () => {
    for (const [url, label] of [
      ['https://help.example.com/cli?from=login', 'help.example.com'],
      ['http://intranet.example:8080/it', 'intranet.example:8080'],
      ['mailto:ops@example.com', 'ops@example.com'],
    ] as const) {
      const c = withSupport(url);
      for (const page of [
        entryPage(c),
        confirmPage(c, details),
        endingPage(c, 'cancelled'),
        errorPage(c, 'expired'),
      ]) {
        const footer = page.match(/<footer[\s\S]*<\/footer>/)?.[0] ?? '';
        assert.ok(
          footer.includes(`<a class="contact" href="${escapeHtml(url)}">Contact ${label}</a>`),
          footer,
        );
      }
    }
  });

  test('the pages a person cannot get past alone offer it beside the way forward', () => {
    for (const reason of HELP_PAGES) {
      for (const flowId of [undefined, 'flow_1']) {
        const page = errorPage(withSupport('https://help.example.com'), reason, { flowId });
        const main = page.match(/<main[\s\S]*<\/main>/)?.[0] ?? '';
        assert.ok(main.includes('>Contact help.example.com</a>'), `${reason} ${flowId}`);
      }
    }
    const locked = entryPage(withSupport('mailto:ops@example.com'), {
      error: 'rate_limited',
      retryAfterSeconds: 60,
    });
    assert.match(
      locked,
      /role="alert">[\s\S]*<a class="contact" href="mailto:ops@example.com">Contact ops@example.com<\/a>[\s\S]*<\/div>/,
    );
    assert.ok(
      !errorPage(withSupport('https://help.example.com'), 'expired')
        .match(/<main[\s\S]*<\/main>/)?.[0]
        .includes('Contact'),
    );
  });

  test('without it, no page offers a contact, and none sends people to "the operator"', () => {
    for (const lang of LANGUAGES) {
      for (const [name, page] of allPages(lang)) {
        assert.ok(
          !page.includes('class="contact"') && !/href="(?:https?|mailto):/.test(page),
          `${lang} ${name}`,
        );
      }
    }
    for (const reason of REASONS) {
      if (reason === 'misconfigured') continue; // says the operator was told, promising nothing
      assert.doesNotMatch(en[`error.${reason}.body` as MessageKey], /operator/i, reason);
    }
  });

  test('the block page says the terminal was told, and what to do on this computer', () => {
    for (const lang of LANGUAGES) {
      const page = errorPage(ctx(lang), 'cross_network');
      assert.ok(page.includes('<code>postiz auth:login</code>'), lang);
    }
    const body = translator('en', POSTIZ_PAGES)('error.cross_network.body');
    assert.match(body, /Your terminal was told, and has stopped waiting/);
    assert.match(body, /run postiz auth:login on this computer/);
  });

  test('a hostile SUPPORT_URL that reached the page is escaped', () => {
    const page = entryPage(withSupport('https://example.com/"><script>alert(1)</script>'));
    assert.ok(!page.includes('<script>alert'));
  });
});
