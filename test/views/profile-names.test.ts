/**
 * With a provider other than Postiz (`UPSTREAM=oauth`), the pages name the provider, the client
 * and the command as the deployment set them, say nothing that is true of Postiz only, and,
 * without a command, word "run it again" without one.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EXAMPLE_NAMES, everyPage, genericPages, POSTIZ_PAGES } from '../../harness/pages.js';
import { escapeHtml } from '../../src/views/html.js';
import { CATALOGS, type MessageKey, POSTIZ_ONLY, translator } from '../../src/views/i18n/index.js';
import { confirmPage, endingPage, entryPage, errorPage, type PageContext } from '../../src/views/pages.js';
import type { PageProfile } from '../../src/views/profile.js';
import { describeUserAgent } from '../../src/views/user-agent.js';

const LANGUAGES = ['en', 'fr', 'de', 'es', 'pt'];
const EXAMPLE = genericPages();
const COMMANDLESS = genericPages({ provider: EXAMPLE_NAMES.provider, client: EXAMPLE_NAMES.client });
const DEVICES = { now: 'example-cli/1.4.0 on Linux', before: 'example-cli/1.3.0 on macOS' };

/** Words of what only Postiz has: organisations and subscriptions. */
const POSTIZ_WORDS: Record<string, RegExp> = {
  en: /organi[sz]ation|subscri/i,
  fr: /organisation|abonne/i,
  de: /organisation|abonnement/i,
  es: /organizaci|suscri/i,
  pt: /organiza|assinatura|assine/i,
};

const ctx = (lang: string, profile: PageProfile = EXAMPLE): PageContext => ({
  lang,
  nonce: 'n0nce',
  csrf: 'csrf-token',
  profile,
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

/**
 * What only Postiz's wording says, in a language: the longer pieces between the placeholders of
 * its own messages, but those any provider's messages say too ("The CLI was told and saved nothing").
 */
function postizOnlySentences(lang: string): string[] {
  const postiz = translator(lang, POSTIZ_PAGES);
  const shared = [EXAMPLE, COMMANDLESS].flatMap((profile) => {
    const t = translator(lang, profile);
    return (Object.keys(CATALOGS.en!) as MessageKey[]).filter((k) => !POSTIZ_ONLY.has(k)).map(t.template);
  });
  return [...POSTIZ_ONLY].flatMap((key: MessageKey) =>
    postiz
      .template(key)
      .split(/\{\w+\}/)
      .map((piece) => piece.trim())
      .filter((piece) => piece.length >= 20 && !shared.some((text) => text.includes(piece))),
  );
}

describe('every page, in every language, with a provider other than Postiz', () => {
  for (const lang of LANGUAGES) {
    for (const [voice, profile] of [
      ['with a command', EXAMPLE],
      ['without a command', COMMANDLESS],
    ] as const) {
      test(`${lang}, ${voice}: Postiz is never named, nor what only Postiz has`, () => {
        const sentences = postizOnlySentences(lang);
        for (const [name, page] of everyPage(lang, profile, DEVICES)) {
          assert.doesNotMatch(page, /postiz/i, `${lang} ${name}`);
          assert.doesNotMatch(mainText(page), POSTIZ_WORDS[lang]!, `${lang} ${name}`);
          for (const sentence of sentences)
            assert.ok(!page.includes(escapeHtml(sentence)), `${lang} ${name}: "${sentence}"`);
          assert.doesNotMatch(page, /\{\w+\}/, `${lang} ${name}: leftover placeholder`);
          assert.doesNotMatch(page, /undefined|\[object /, `${lang} ${name}: stray value`);
        }
      });
    }

    test(`${lang}: the client in the title and the header, the provider in the footer, on every page`, () => {
      const t = translator(lang, EXAMPLE);
      for (const [name, page] of everyPage(lang, EXAMPLE, DEVICES)) {
        assert.ok(page.includes(`· ${escapeHtml(t('app.title'))}</title>`), `${lang} ${name}`);
        assert.ok(t('app.title').includes('Example CLI'), lang);
        assert.ok(
          page.includes(
            '<span class="logo" aria-hidden="true">E</span><span class="brand-name">Example CLI</span>',
          ),
          `${lang} ${name}`,
        );
        const footer = page.match(/<footer[\s\S]*<\/footer>/)![0];
        assert.ok(footer.includes('Example CLI') && footer.includes('Example'), `${lang} ${name}: ${footer}`);
      }
    });

    test(`${lang}: the confirmation page asks for the client and continues to the provider`, () => {
      const t = translator(lang, EXAMPLE);
      const page = confirmPage(ctx(lang), {
        userCode: 'BCDF-GHJK',
        device: describeUserAgent('node', t),
        address: '203.0.113.7',
        requested: 'just now',
        network: 'same',
        step: 'confirm',
        fromLink: false,
      });
      const text = mainText(page);
      assert.ok(text.includes(t('confirm.lead')), lang);
      assert.ok(t('confirm.lead').includes('Example CLI') && t('confirm.lead').includes('Example'), lang);
      assert.match(page, new RegExp(`value="confirm" class="primary">${t('confirm.continue')}</button>`));
      assert.ok(t('confirm.continue').includes('Example'), lang);
      assert.ok(text.includes(t('device.node')), `${lang}: the Node.js program is not called the postiz CLI`);
      assert.ok(entryPage(ctx(lang)).includes(`<h1>${t('entry.heading')}</h1>`), lang);
    });

    test(`${lang}: "run it again" names the command, as code, or, without one, starts a new login from the terminal`, () => {
      const pages = (profile: PageProfile) => [
        endingPage(ctx(lang, profile), 'denied'),
        endingPage(ctx(lang, profile), 'cancelled'),
        endingPage(ctx(lang, profile), 'refused', { refusal: 'inactive' }),
        endingPage(ctx(lang, profile), 'approved', { check: 'unchecked' }),
        errorPage(ctx(lang, profile), 'expired'),
        errorPage(ctx(lang, profile), 'already_used'),
        errorPage(ctx(lang, profile), 'cross_network'),
      ];
      for (const page of pages(EXAMPLE)) assert.ok(page.includes('<code>example login</code>'), lang);
      const t = translator(lang, COMMANDLESS);
      const [denied, , , , expired] = pages(COMMANDLESS);
      for (const page of pages(COMMANDLESS)) {
        assert.ok(!page.includes('<code>'), `${lang}: no code span, empty or not`);
        assert.doesNotMatch(page, /example login|\{command\}/, lang);
      }
      assert.ok(mainText(denied!).includes(t('done.denied.body')), lang);
      assert.ok(mainText(expired!).includes(t('error.expired.body')), lang);
      assert.notEqual(t('error.expired.body'), translator(lang, EXAMPLE)('error.expired.body'), lang);
    });
  }

  test('the account is named as the provider names it, else as the one chosen there; no id in small print', () => {
    const named = endingPage(ctx('en'), 'approved', { organization: { id: 'sub-1', name: 'Ada Lovelace' } });
    assert.ok(mainText(named).includes('The login is for Ada Lovelace.'), mainText(named));
    assert.ok(!named.includes('sub-1') && !named.includes('org-id'), 'an OpenID Connect subject is no name');
    const unnamed = endingPage(ctx('en'), 'refused', { refusal: 'inactive', organization: { id: 'sub-1' } });
    assert.ok(
      mainText(unnamed).includes(
        'Example authorized the login, but refuses the new credentials for the account you chose at Example.',
      ),
      mainText(unnamed),
    );
    const fr = endingPage(ctx('fr'), 'approved', { organization: { name: 'ada@example.com' } });
    assert.ok(mainText(fr).includes('Cette connexion vaut pour ada@example.com.'), mainText(fr));
  });

  test('an earlier login in this browser is not said to end: only Postiz ends it', () => {
    const login = { when: new Date('2026-12-03T14:05:00Z'), address: '203.0.113.9', device: DEVICES.before };
    const confirm = confirmPage(ctx('en'), {
      userCode: 'BCDF-GHJK',
      device: DEVICES.now,
      address: '203.0.113.7',
      requested: 'just now',
      network: 'same',
      step: 'confirm',
      fromLink: false,
      replaces: { ...login, organization: { name: 'Ada Lovelace' } },
    });
    const approved = endingPage(ctx('en'), 'approved', { replaced: login });
    for (const page of [confirm, approved]) {
      assert.ok(!page.includes('203.0.113.9') && !page.includes('<time'), mainText(page));
    }
    assert.ok(!entryPage(ctx('en')).includes('class="callout"'), 'no "log in to Postiz first"');
  });

  test('names from the settings are escaped wherever they are shown', () => {
    const hostile = genericPages({
      provider: '<b>x</b>',
      client: '<i>CLI</i> "&',
      command: "<script>alert('run')</script>",
    });
    for (const lang of LANGUAGES) {
      for (const [name, page] of everyPage(lang, hostile, DEVICES)) {
        assert.ok(!/<b>|<i>|<script>alert/.test(page), `${lang} ${name}: nothing in a name is markup`);
        assert.ok(page.includes('&lt;b&gt;x&lt;/b&gt;'), `${lang} ${name}: the provider, as text`);
        assert.ok(
          page.includes('&lt;i&gt;CLI&lt;/i&gt; &quot;&amp;'),
          `${lang} ${name}: the client, as text`,
        );
      }
      const denied = endingPage(ctx(lang, hostile), 'denied');
      assert.ok(
        denied.includes('<code>&lt;script&gt;alert(&#39;run&#39;)&lt;/script&gt;</code>'),
        `${lang}: the command, as text in code`,
      );
      assert.ok(
        entryPage(ctx(lang, hostile)).includes('<span class="logo" aria-hidden="true">B</span>'),
        `${lang}: the mark is the name's first letter`,
      );
    }
  });

  test("the favicon is the provider's initial, not Postiz's P", () => {
    const icon = (profile: PageProfile) =>
      decodeURIComponent(
        entryPage(ctx('en', profile)).match(/<link rel="icon" href="data:image\/svg\+xml,([^"]+)">/)![1]!,
      );
    assert.match(icon(EXAMPLE), />E<\/text><\/svg>$/);
    assert.match(icon(genericPages({ provider: 'id.example.com:8443', client: 'CLI' })), />I<\/text>/);
    assert.match(icon(genericPages({ provider: '127.0.0.1', client: 'CLI' })), />1<\/text>/);
    assert.doesNotMatch(icon(EXAMPLE), /<path/);
    assert.match(icon(POSTIZ_PAGES), /<path fill=&#39;#fff&#39;/);
  });
});
