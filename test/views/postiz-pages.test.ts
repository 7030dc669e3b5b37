/**
 * The Postiz profile's pages say, word for word and tag for tag, what they said before the pages
 * took their names from the profile: every kind of page, in every language, is rendered and
 * compared with a recording (test/fixtures/postiz-pages.json). A page is recorded as its title,
 * its <main> and its footer, beside its language's shell (the head, the header), which must be
 * the same for every page. The assets' version query and the UTC text of a <time> (the page's
 * script rewrites it) are left out. `RECORD_PAGES=1` writes the recording from the code as it is.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { everyPage, POSTIZ_PAGES } from '../../harness/pages.js';
import { ROOT } from '../../harness/processes.js';
import { translator } from '../../src/views/i18n/index.js';
import { describeAge, describeUserAgent } from '../../src/views/user-agent.js';

const FIXTURE = join(ROOT, 'test/fixtures/postiz-pages.json');
const LANGUAGES = ['en', 'fr', 'de', 'es', 'pt'];
const AGENTS = [
  '',
  'node',
  'undici',
  'postiz/2.1.0 (linux; x64) node/22.23.0',
  'postiz-cli/2.1.0 (darwin)',
  'curl/8.5.0',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64)',
  'Python-urllib/3.12',
];

/** Every kind of page, by name, in one language. */
const pages = (lang: string): [string, string][] =>
  everyPage(lang, POSTIZ_PAGES, { now: 'postiz CLI 2.1.0 on Linux', before: 'postiz CLI 2.0.0 on macOS' });

/** What pages say of a device and of a request's age, in one language. */
function phrases(lang: string): Record<string, string> {
  const t = translator(lang, POSTIZ_PAGES);
  const said: Record<string, string> = {};
  for (const agent of AGENTS) said[`device ${agent}`] = describeUserAgent(agent, t);
  for (const seconds of [0, 30, 60, 600])
    said[`age ${seconds}`] = describeAge(new Date(0), seconds * 1000, t);
  return said;
}

interface Recorded {
  shell: string;
  pages: Record<string, { title: string; main: string; footer: string }>;
  phrases: Record<string, string>;
}

/** A page in parts: its title, <main> and footer, and the rest (the shell), without what varies by build or time zone. */
function parts(page: string): { shell: string; title: string; main: string; footer: string } {
  const steady = page.replace(/\?v=[0-9a-f]{10}/g, '?v=…').replace(/(<time [^>]*>)[^<]*(<\/time>)/g, '$1…$2');
  const title = steady.match(/<title>([^<]*)<\/title>/)![1]!;
  const main = steady.match(/<main[^>]*>([\s\S]*)<\/main>/)![1]!;
  const footer = steady.match(/<footer[^>]*>([\s\S]*)<\/footer>/)![1]!;
  const shell = steady.replace(title, '{title}').replace(main, '{main}').replace(footer, '{footer}');
  return { shell, title, main, footer };
}

function record(): Record<string, Recorded> {
  const recorded: Record<string, Recorded> = {};
  for (const lang of LANGUAGES) {
    const shells = new Set<string>();
    const byName: Recorded['pages'] = {};
    for (const [name, page] of pages(lang)) {
      const { shell, ...rest } = parts(page);
      shells.add(shell);
      byName[name] = rest;
    }
    assert.equal(shells.size, 1, `${lang}: every page has the same shell`);
    recorded[lang] = { shell: [...shells][0]!, pages: byName, phrases: phrases(lang) };
  }
  return recorded;
}

test('the Postiz pages say what they said, word for word, in every language', () => {
  const now = record();
  if (process.env.RECORD_PAGES === '1') writeFileSync(FIXTURE, `${JSON.stringify(now, null, 2)}\n`);
  const before = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, Recorded>;
  assert.deepEqual(Object.keys(now), Object.keys(before));
  for (const lang of LANGUAGES) {
    assert.equal(now[lang]!.shell, before[lang]!.shell, `${lang}: the shell`);
    assert.deepEqual(Object.keys(now[lang]!.pages), Object.keys(before[lang]!.pages), lang);
    for (const [name, page] of Object.entries(before[lang]!.pages))
      assert.deepEqual(now[lang]!.pages[name], page, `${lang}: ${name}`);
    assert.deepEqual(now[lang]!.phrases, before[lang]!.phrases, `${lang}: devices and ages`);
  }
});
