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
import { POSTIZ_PAGES } from '../../harness/page-profiles.js';
import { ROOT } from '../../harness/processes.js';
import type { PageErrorReason } from '../../src/device-flow/page-error.js';
import { translator } from '../../src/views/i18n/index.js';
import {
  type ChannelView,
  type ConfirmDetails,
  confirmPage,
  endingPage,
  entryPage,
  errorPage,
  type PageContext,
} from '../../src/views/pages.js';
import { describeAge, describeUserAgent } from '../../src/views/user-agent.js';

const FIXTURE = join(ROOT, 'test/fixtures/postiz-pages.json');
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

/** The Postiz profile's page context. */
const ctx = (lang: string, supportUrl?: string): PageContext => ({
  lang,
  nonce: 'n0nce',
  csrf: 'csrf-token',
  ...(supportUrl ? { supportUrl } : {}),
  profile: POSTIZ_PAGES,
});

const CHANNELS: ChannelView[] = [
  { name: 'Acme', platform: 'x', disabled: false },
  { name: 'Acme Shop', platform: 'instagram', disabled: true },
  { name: 'Acme', platform: 'linkedin-page', disabled: false },
  { name: 'Acme TV', platform: 'youtube', disabled: false },
];
const WHEN = new Date('2026-12-03T14:05:00Z');
const details: ConfirmDetails = {
  userCode: 'BCDF-GHJK',
  device: 'postiz CLI 2.1.0 on Linux',
  address: '203.0.113.7',
  requested: 'just now',
  network: 'different',
  step: 'confirm',
  fromLink: false,
};
const login = { when: WHEN, address: '203.0.113.9', device: 'postiz CLI 2.0.0 on macOS' };

/** Every kind of page, by name, in one language. */
function pages(lang: string): [string, string][] {
  const c = ctx(lang);
  const help = ctx(lang, 'https://help.example.com/cli');
  return [
    ['entry', entryPage(c)],
    ['entry from a link', entryPage(c, { code: 'bcdfghjk', fromLink: true })],
    ['entry wrong code', entryPage(c, { code: 'BCDF-XXXX', error: 'invalid_code' })],
    ['entry rate limited', entryPage(help, { code: 'x', error: 'rate_limited', retryAfterSeconds: 600 })],
    ['confirm, another network', confirmPage(c, details)],
    ['confirm, same network', confirmPage(help, { ...details, network: 'same', address: undefined })],
    [
      'confirm, network unknown, replacing a login of an organisation',
      confirmPage(c, {
        ...details,
        network: 'unknown',
        replaces: { ...login, organization: { id: 'org_1', channels: CHANNELS } },
      }),
    ],
    ['confirm, replacing a login', confirmPage(c, { ...details, network: 'same', replaces: login })],
    [
      'confirm, replacing a login of an organisation known by its id',
      confirmPage(c, { ...details, replaces: { ...login, organization: { id: 'org_1' } } }),
    ],
    ['confirm, code to type', confirmPage(c, { ...details, step: 'type_code', fromLink: true })],
    [
      'confirm, code typed wrong',
      confirmPage(c, { ...details, step: 'type_code', fromLink: true, mismatch: true, typed: 'BCDF-XXXX' }),
    ],
    ['approved', endingPage(c, 'approved')],
    [
      'approved, checked, for an organisation, replacing a login',
      endingPage(help, 'approved', {
        organization: { id: 'org_1', channels: CHANNELS, channelCount: 9 },
        check: 'working',
        replaced: login,
      }),
    ],
    [
      'approved, unchecked, an organisation known by its id',
      endingPage(c, 'approved', { organization: { id: 'org_1' }, check: 'unchecked' }),
    ],
    [
      'approved, an organisation without channels',
      endingPage(c, 'approved', { organization: { channels: [] } }),
    ],
    ['denied', endingPage(c, 'denied')],
    ['cancelled', endingPage(help, 'cancelled')],
    ['refused, no subscription', endingPage(c, 'refused', { refusal: 'no_subscription' })],
    [
      'refused, no subscription, an organisation',
      endingPage(c, 'refused', {
        refusal: 'no_subscription',
        organization: { id: 'org_unpaid', channels: CHANNELS.slice(0, 1) },
      }),
    ],
    ['refused', endingPage(c, 'refused', { refusal: 'token_refused' })],
    [
      'refused, an organisation known by its id',
      endingPage(c, 'refused', { refusal: 'refused', organization: { id: 'org_1', channels: [] } }),
    ],
    ...REASONS.map((r): [string, string] => [`error ${r}`, errorPage(c, r, { retryAfterSeconds: 60 })]),
    ...REASONS.map((r): [string, string] => [
      `error ${r}, for a flow, with a contact`,
      errorPage(help, r, { flowId: 'flow_1', retryAfterSeconds: 900 }),
    ]),
  ];
}

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
