/**
 * What the view tests render: the pages' profiles (Postiz's, taken from the Postiz profile itself,
 * and a generic provider's with the names a deployment sets: `OAUTH_PROVIDER_NAME`,
 * `OAUTH_CLIENT_NAME`, `OAUTH_LOGIN_COMMAND`), and every kind of page there is.
 */
import { PAGE_ERROR_REASONS, type PageErrorReason } from '../src/device-flow/page-error.js';
import { createPostizUpstream } from '../src/upstream/postiz/profile.js';
import {
  type ChannelView,
  type ConfirmDetails,
  confirmPage,
  endingPage,
  entryPage,
  errorPage,
  type PageContext,
} from '../src/views/pages.js';
import { type PageProfile, pageProfile } from '../src/views/profile.js';

/** The Postiz profile's pages. */
export const POSTIZ_PAGES: PageProfile = pageProfile(
  createPostizUpstream({
    frontendUrl: 'http://localhost:3112',
    apiUrl: 'http://localhost:3112',
    clientId: 'pca_pages',
    clientSecret: 'pcs_pages',
    timeoutMs: 1000,
  }),
);

/** The names of the generic provider the tests deploy: Example, with its CLI and login command. */
export const EXAMPLE_NAMES = { provider: 'Example', client: 'Example CLI', command: 'example login' };

/** A generic provider's pages (`UPSTREAM=oauth`) with `names`. */
export function genericPages(names: PageProfile['names'] = EXAMPLE_NAMES): PageProfile {
  return pageProfile({ id: 'oauth', names });
}

/** Every reason a page cannot go on. */
export const REASONS: readonly PageErrorReason[] = PAGE_ERROR_REASONS;

const CHANNELS: ChannelView[] = [
  { name: 'Acme', platform: 'x', disabled: false },
  { name: 'Acme Shop', platform: 'instagram', disabled: true },
  { name: 'Acme', platform: 'linkedin-page', disabled: false },
  { name: 'Acme TV', platform: 'youtube', disabled: false },
];

/**
 * Every kind of page, by name, in `lang` for `profile`: code entry, confirmation, each ending and
 * each error, with and without what they may carry (an earlier login, an account, a contact).
 * `devices`: what the requesting device and the one of the earlier login said they are.
 */
export function everyPage(
  lang: string,
  profile: PageProfile,
  devices: { now: string; before: string },
): [string, string][] {
  const c: PageContext = { lang, nonce: 'n0nce', csrf: 'csrf-token', profile };
  const help: PageContext = { ...c, supportUrl: 'https://help.example.com/cli' };
  const details: ConfirmDetails = {
    userCode: 'BCDF-GHJK',
    device: devices.now,
    address: '203.0.113.7',
    requested: 'just now',
    network: 'different',
    step: 'confirm',
    fromLink: false,
  };
  const login = { when: new Date('2026-12-03T14:05:00Z'), address: '203.0.113.9', device: devices.before };
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
