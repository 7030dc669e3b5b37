import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EXAMPLE_NAMES, genericPages, POSTIZ_PAGES } from '../../harness/pages.js';
import { en, enGeneric, enNoCommand } from '../../src/views/i18n/en.js';
import {
  CATALOGS,
  GENERIC,
  isSupported,
  type MessageKey,
  NO_COMMAND,
  POSTIZ_ONLY,
  pickLanguage,
  translator,
} from '../../src/views/i18n/index.js';
import type { PageProfile } from '../../src/views/profile.js';

const LANGUAGES = ['en', 'fr', 'de', 'es', 'pt'];
const KEYS = Object.keys(en) as MessageKey[];
/** The placeholders the profile fills: a language may word a name its own way ("CLI {provider}"). */
const NAMES = ['provider', 'client', 'command'];

/** The `{placeholders}` of a message, sorted. */
const placeholders = (text: string): string[] => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!).sort();
/** The `{placeholders}` a page fills with values, sorted: all but the names. */
const values = (text: string): string[] => placeholders(text).filter((name) => !NAMES.includes(name));

/** Each way a profile words the pages: Postiz's; another provider's, with a login command and without. */
const VOICES: [string, PageProfile][] = [
  ['Postiz', POSTIZ_PAGES],
  ['generic', genericPages()],
  ['generic without a command', genericPages({ provider: 'Example', client: 'Example CLI' })],
];

/** Every catalog of a language: its messages, and what it words differently for other providers and without a command. */
const catalogsOf = (lang: string): [string, Record<string, string>][] => [
  ['messages', CATALOGS[lang]!],
  ['generic', GENERIC[lang]!],
  ['without a command', NO_COMMAND[lang]!],
];

describe('catalogs', () => {
  test('English, French, German, Spanish and Portuguese are registered', () => {
    assert.deepEqual(Object.keys(CATALOGS).sort(), [...LANGUAGES].sort());
    assert.deepEqual(Object.keys(GENERIC).sort(), [...LANGUAGES].sort());
    assert.deepEqual(Object.keys(NO_COMMAND).sort(), [...LANGUAGES].sort());
  });

  for (const lang of LANGUAGES) {
    const catalog = CATALOGS[lang]!;

    test(`${lang} has exactly the English keys`, () => {
      const keys = Object.keys(catalog).sort();
      const expected = Object.keys(en).sort();
      assert.deepEqual(
        keys.filter((k) => !expected.includes(k)),
        [],
        `${lang} has keys English does not`,
      );
      assert.deepEqual(
        expected.filter((k) => !keys.includes(k)),
        [],
        `${lang} is missing keys`,
      );
    });

    test(`${lang} words for other providers at least what English does, and without a command exactly that`, () => {
      const generic = Object.keys(GENERIC[lang]!);
      assert.deepEqual(
        Object.keys(enGeneric).filter((k) => !generic.includes(k)),
        [],
        `${lang} is missing generic messages`,
      );
      for (const key of generic) assert.ok(Object.hasOwn(en, key), `${lang}: ${key} is no message`);
      assert.deepEqual(Object.keys(NO_COMMAND[lang]!).sort(), Object.keys(enNoCommand).sort(), lang);
    });

    for (const [voice, profile] of VOICES) {
      test(`${lang}, ${voice}: every message fills the values English fills, and names only the profile's names`, () => {
        const t = translator(lang, profile);
        const reference = translator('en', profile);
        for (const key of KEYS) {
          assert.deepEqual(values(t.template(key)), values(reference.template(key)), `${lang} ${key}`);
        }
      });
    }

    test(`${lang} has no empty or untrimmed message`, () => {
      for (const [name, messages] of catalogsOf(lang)) {
        for (const [key, text] of Object.entries(messages)) {
          assert.ok(text.trim().length > 0, `${lang} ${name} ${key} is empty`);
          assert.equal(text, text.trim(), `${lang} ${name} ${key} has surrounding whitespace`);
        }
      }
    });

    test(`${lang} names the provider, the client and the command by placeholder, so the profile fills them`, () => {
      for (const [name, messages] of catalogsOf(lang)) {
        for (const [key, text] of Object.entries(messages)) {
          assert.doesNotMatch(text, /postiz auth:login/, `${lang} ${name} ${key}: the command is {command}`);
          assert.doesNotMatch(text, /Postiz/, `${lang} ${name} ${key}: the provider is {provider}`);
        }
      }
      // The postiz CLI's own name, lower-case, is said only where Postiz's wording tells its user agent and its tool.
      const named = KEYS.filter((key) => /postiz/i.test(catalog[key]));
      assert.deepEqual(named, ['device.postiz_cli', 'device.node', 'footer.note'], lang);
    });

    test(`${lang}: what pages show for other providers never names Postiz`, () => {
      for (const [voice, profile] of VOICES.slice(1)) {
        const t = translator(lang, profile);
        for (const key of KEYS.filter((k) => !POSTIZ_ONLY.has(k)))
          assert.doesNotMatch(t.template(key), /postiz/i, `${lang} ${voice} ${key}`);
      }
    });

    test(`${lang}: without a command, no message the pages show asks to run one`, () => {
      const t = translator(lang, VOICES[2]![1]);
      for (const key of KEYS.filter((k) => !POSTIZ_ONLY.has(k)))
        assert.ok(!placeholders(t.template(key)).includes('command'), `${lang} ${key}`);
    });
  }

  test('translations are translations: most messages differ from English', () => {
    for (const lang of LANGUAGES.filter((l) => l !== 'en')) {
      const catalog = CATALOGS[lang]!;
      const same = Object.keys(en).filter((k) => catalog[k as keyof typeof en] === en[k as keyof typeof en]);
      // Brand names, "Code", "curl {version}" may legitimately stay the same.
      assert.ok(same.length <= 5, `${lang} repeats English in ${same.join(', ')}`);
      for (const [name, messages, english] of [
        ['generic', GENERIC[lang]!, enGeneric],
        ['without a command', NO_COMMAND[lang]!, enNoCommand],
      ] as const) {
        const repeated = Object.keys(english).filter(
          (k) => messages[k as keyof typeof english] === english[k as keyof typeof english],
        );
        assert.deepEqual(repeated, [], `${lang} ${name} repeats English`);
      }
    }
  });
});

describe('pickLanguage', () => {
  const cases: [string | undefined, string][] = [
    [undefined, 'en'],
    ['', 'en'],
    ['fr', 'fr'],
    ['de-DE', 'de'],
    ['pt-BR,pt;q=0.9,en;q=0.8', 'pt'],
    ['es-419,es;q=0.9', 'es'],
    ['FR-ca', 'fr'],
    ['en-US,en;q=0.9,fr;q=0.8', 'en'],
    ['fr;q=0.5, de;q=0.8', 'de'],
    ['fr;q=0.5,de;Q=0.8', 'de'],
    ['fr ; q=0.5 , es ; q=0.7', 'es'],
    ['it-IT,it;q=0.9,de;q=0.5', 'de'],
    ['ja,zh-CN;q=0.9', 'en'],
    ['*', 'en'],
    ['de;q=0, fr;q=0.1', 'fr'],
    ['de;q=0', 'en'],
    ['de;q=abc, es', 'es'],
    ['es, fr', 'es'],
    ['constructor', 'en'],
    ['__proto__, toString, hasOwnProperty', 'en'],
    [`${'x-'.repeat(400)},fr`, 'en'],
  ];
  for (const [header, expected] of cases) {
    test(`${JSON.stringify(header)?.slice(0, 60)} → ${expected}`, () => {
      assert.equal(pickLanguage(header), expected);
    });
  }

  test('isSupported knows only real catalogs', () => {
    for (const lang of LANGUAGES) assert.equal(isSupported(lang), true);
    for (const name of ['constructor', '__proto__', 'toString', 'it', ''])
      assert.equal(isSupported(name), false);
  });
});

describe('translator', () => {
  test('fills placeholders and leaves unknown ones visible', () => {
    const t = translator('en', POSTIZ_PAGES);
    assert.equal(t('ago.minutes', { n: 3 }), '3 minutes ago');
    assert.equal(t('device.on', { agent: 'curl 8.1', os: 'Linux' }), 'curl 8.1 on Linux');
    assert.equal(t('ago.minutes'), '{n} minutes ago');
  });

  test('a value containing braces is not filled again', () => {
    const t = translator('en', POSTIZ_PAGES);
    assert.equal(t('device.on', { agent: '{os}', os: 'Linux' }), '{os} on Linux');
  });

  test('an unknown language falls back to English', () => {
    assert.equal(translator('it', POSTIZ_PAGES)('confirm.cancel'), 'Cancel');
    assert.equal(translator('constructor', POSTIZ_PAGES)('confirm.cancel'), 'Cancel');
  });

  test("fills the profile's names, as text, and never reads a name or a value as a placeholder", () => {
    const t = translator('en', genericPages());
    assert.equal(t('confirm.continue'), 'Continue to Example');
    assert.equal(t('entry.heading'), 'Connect Example CLI');
    assert.equal(
      t('done.denied.body'),
      'You refused access in Example. The CLI has been told and received nothing. To try again, run example login in your terminal.',
    );
    const odd = translator(
      'en',
      genericPages({ provider: '{client}', client: '{provider}', command: '{n}' }),
    );
    assert.equal(odd('confirm.continue'), 'Continue to {client}');
    assert.equal(odd('entry.heading'), 'Connect {provider}');
    assert.equal(odd('device.on', { agent: '{provider}', os: 'Linux' }), '{provider} on Linux');
  });

  test('the Postiz profile speaks as Postiz; another provider as any provider; without a command, of none', () => {
    assert.equal(translator('en', POSTIZ_PAGES)('confirm.continue'), 'Continue to Postiz');
    assert.equal(translator('en', POSTIZ_PAGES)('entry.heading'), 'Connect the Postiz CLI');
    assert.equal(
      translator('de', POSTIZ_PAGES)('done.organization_unknown'),
      'die in Postiz ausgewählte Organisation',
    );
    assert.equal(
      translator('de', genericPages())('done.organization_unknown'),
      'das bei Example gewählte Konto',
    );
    const commandless = genericPages({ provider: EXAMPLE_NAMES.provider, client: EXAMPLE_NAMES.client });
    assert.equal(
      translator('en', commandless)('error.expired.body'),
      'Codes last a few minutes. Start a new login from your terminal to get a new one.',
    );
    assert.equal(
      translator('en', genericPages())('error.expired.body'),
      'Codes last a few minutes. Run example login in your terminal again to get a new one.',
    );
    // Portuguese names a provider it does not know without an article; Postiz with its own.
    assert.equal(translator('pt', POSTIZ_PAGES)('confirm.continue'), 'Continuar no Postiz');
    assert.equal(translator('pt', genericPages())('confirm.continue'), 'Continuar para Example');
  });

  test('each language speaks its own', () => {
    assert.equal(translator('fr', POSTIZ_PAGES)('confirm.cancel'), 'Annuler');
    assert.equal(translator('de', POSTIZ_PAGES)('confirm.cancel'), 'Abbrechen');
    assert.equal(translator('es', POSTIZ_PAGES)('confirm.cancel'), 'Cancelar');
    assert.equal(translator('pt', POSTIZ_PAGES)('ago.minutes', { n: 2 }), 'há 2 minutos');
  });
});

describe('each language speaks one way', () => {
  test('Spanish says "tú" throughout, never "usted"', () => {
    // Usted-forms that appeared beside tú-forms: a reader should not be addressed both ways.
    const usted =
      /\b(usted|su terminal|su cuenta|escriba|cancele|vuelva|ejecute|revise|suscríbase|confirme|inténtelo|consulte|seleccione|selecciónela|introduzca|compruebe|asegúrese|abra|permita|autoriza la misma)\b/i;
    for (const [name, messages] of catalogsOf('es')) {
      for (const [key, text] of Object.entries(messages))
        assert.doesNotMatch(text, usted, `es ${name} ${key}`);
    }
  });

  test('"CLI" has one gender per language: el CLI, o CLI, die CLI, le CLI', () => {
    const other: Record<string, RegExp> = {
      es: /\b(la|una|a la|de la) CLI\b/i,
      pt: /\b(a|à|da|na|uma) CLI\b/i,
      de: /\b(das|dem|des|ein) CLI\b/i,
      fr: /\b(la|une|de la) CLI\b/i,
    };
    for (const [lang, pattern] of Object.entries(other)) {
      for (const [name, messages] of catalogsOf(lang)) {
        for (const [key, text] of Object.entries(messages))
          assert.doesNotMatch(text, pattern, `${lang} ${name} ${key}`);
      }
    }
  });
});
