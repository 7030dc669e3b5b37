import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { en } from '../../src/views/i18n/en.js';
import { CATALOGS, isSupported, pickLanguage, translator } from '../../src/views/i18n/index.js';

const LANGUAGES = ['en', 'fr', 'de', 'es', 'pt'];

/** The `{placeholders}` of a message, sorted. */
const placeholders = (text: string): string[] => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!).sort();

describe('catalogs', () => {
  test('English, French, German, Spanish and Portuguese are registered', () => {
    assert.deepEqual(Object.keys(CATALOGS).sort(), [...LANGUAGES].sort());
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

    test(`${lang} uses the same placeholders as English in every message`, () => {
      for (const [key, text] of Object.entries(en)) {
        assert.deepEqual(placeholders(catalog[key as keyof typeof en]), placeholders(text), `${lang} ${key}`);
      }
    });

    test(`${lang} has no empty or untrimmed message`, () => {
      for (const [key, text] of Object.entries(catalog)) {
        assert.ok(text.trim().length > 0, `${lang} ${key} is empty`);
        assert.equal(text, text.trim(), `${lang} ${key} has surrounding whitespace`);
      }
    });

    test(`${lang} keeps the CLI command literal, so pages can show it as code`, () => {
      for (const [key, text] of Object.entries(en)) {
        if (text.includes('postiz auth:login')) {
          assert.ok(catalog[key as keyof typeof en].includes('postiz auth:login'), `${lang} ${key}`);
        }
      }
    });
  }

  test('translations are translations: most messages differ from English', () => {
    for (const lang of LANGUAGES.filter((l) => l !== 'en')) {
      const catalog = CATALOGS[lang]!;
      const same = Object.keys(en).filter((k) => catalog[k as keyof typeof en] === en[k as keyof typeof en]);
      // Brand names, "Code", "curl {version}" may legitimately stay the same.
      assert.ok(same.length <= 5, `${lang} repeats English in ${same.join(', ')}`);
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
    const t = translator('en');
    assert.equal(t('ago.minutes', { n: 3 }), '3 minutes ago');
    assert.equal(t('device.on', { agent: 'curl 8.1', os: 'Linux' }), 'curl 8.1 on Linux');
    assert.equal(t('ago.minutes'), '{n} minutes ago');
  });

  test('a value containing braces is not filled again', () => {
    const t = translator('en');
    assert.equal(t('device.on', { agent: '{os}', os: 'Linux' }), '{os} on Linux');
  });

  test('an unknown language falls back to English', () => {
    assert.equal(translator('it')('confirm.cancel'), 'Cancel');
    assert.equal(translator('constructor')('confirm.cancel'), 'Cancel');
  });

  test('each language speaks its own', () => {
    assert.equal(translator('fr')('confirm.cancel'), 'Annuler');
    assert.equal(translator('de')('confirm.cancel'), 'Abbrechen');
    assert.equal(translator('es')('confirm.cancel'), 'Cancelar');
    assert.equal(translator('pt')('ago.minutes', { n: 2 }), 'há 2 minutos');
  });
});

describe('each language speaks one way', () => {
  test('Spanish says "tú" throughout, never "usted"', () => {
    // Usted-forms that appeared beside tú-forms: a reader should not be addressed both ways.
    const usted =
      /\b(usted|su terminal|su cuenta|escriba|cancele|vuelva|ejecute|revise|suscríbase|confirme|inténtelo|consulte|seleccione|selecciónela|introduzca|compruebe|asegúrese|abra|permita|autoriza la misma)\b/i;
    for (const [key, text] of Object.entries(CATALOGS.es!)) {
      assert.doesNotMatch(text, usted, `es ${key}`);
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
      for (const [key, text] of Object.entries(CATALOGS[lang]!)) {
        assert.doesNotMatch(text, pattern, `${lang} ${key}`);
      }
    }
  });
});
