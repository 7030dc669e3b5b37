/**
 * The account a login is for, as people know it. A Postiz organisation by its channels ("the
 * organisation with Acme on X, Acme on LinkedIn and 3 more"), not by its id, which stays in small
 * print for support; with any other provider, by the name the provider gave it (a person's name
 * or e-mail address), else as the account chosen at the provider.
 */
import type { Translate } from './i18n/index.js';

/** One channel of an organisation, as Postiz's public API lists it (GET /public/v1/integrations). */
export interface ChannelView {
  name: string;
  /** Postiz's platform identifier: `x`, `linkedin`, `linkedin-page`, `instagram`, … */
  platform: string;
  disabled: boolean;
}

/**
 * An account for the pages (`Account`, as the provider profile tells it). `channels` undefined:
 * not known (Postiz could not be asked, or has no public API); `[]`: it has none.
 */
export interface OrganizationView {
  id?: string;
  /** A name people recognise, from a provider other than Postiz. */
  name?: string;
  channels?: ChannelView[];
  /** How many channels it has in all, when `channels` lists only some of them. */
  channelCount?: number;
}

/** Postiz's platform identifiers, by the names the platforms give themselves. */
const PLATFORMS: Readonly<Record<string, string>> = {
  x: 'X',
  linkedin: 'LinkedIn',
  'linkedin-page': 'LinkedIn Page',
  instagram: 'Instagram',
  'instagram-standalone': 'Instagram',
  facebook: 'Facebook',
  threads: 'Threads',
  bluesky: 'Bluesky',
  youtube: 'YouTube',
  tiktok: 'TikTok',
  mastodon: 'Mastodon',
  pinterest: 'Pinterest',
  reddit: 'Reddit',
  discord: 'Discord',
  telegram: 'Telegram',
  slack: 'Slack',
  dribbble: 'Dribbble',
  lemmy: 'Lemmy',
  wrapcast: 'Warpcast',
  farcaster: 'Farcaster',
  nostr: 'Nostr',
  vk: 'VK',
  gmb: 'Google Business Profile',
  devto: 'DEV',
  hashnode: 'Hashnode',
  medium: 'Medium',
  wordpress: 'WordPress',
  ghost: 'Ghost',
  kick: 'Kick',
  twitch: 'Twitch',
  beehiiv: 'beehiiv',
  listmonk: 'listmonk',
};

/** A platform's own name; an identifier we do not know is shown as Postiz gave it. */
export function platformName(platform: string): string {
  return Object.hasOwn(PLATFORMS, platform) ? PLATFORMS[platform]! : platform;
}

/** Channels named before "and N more": all of them up to this many, else one fewer. */
const NAMED = 3;
/** A channel's name is cut here: a page is no place for a paragraph someone typed as a name. */
const NAME_MAX = 60;

const shorten = (text: string): string =>
  text.length > NAME_MAX ? `${text.slice(0, NAME_MAX - 1).trimEnd()}…` : text;

/** One list formatter per page language, made once. */
const LISTS = new Map<string, Intl.ListFormat>();

function listFormat(lang: string): Intl.ListFormat {
  let format = LISTS.get(lang);
  if (!format) {
    try {
      format = new Intl.ListFormat(lang, { style: 'long', type: 'conjunction' });
    } catch {
      format = new Intl.ListFormat('en', { style: 'long', type: 'conjunction' });
    }
    LISTS.set(lang, format);
  }
  return format;
}

/**
 * How a page names `organization`, as plain text (the page escapes it). For Postiz: by its
 * channels, enabled ones first; by its id when the channels are unknown or none; or, knowing
 * nothing, as the one selected in Postiz. `id` is set when the id should also show in small
 * print (the name does not already say it). For another provider: by its name, else as the
 * account chosen there (an OpenID Connect subject means nothing to people).
 */
export function describeOrganization(
  t: Translate,
  lang: string,
  organization: OrganizationView | undefined,
): { name: string; id?: string } {
  if (t.profile.wording !== 'postiz') {
    const name = organization?.name?.trim();
    return { name: name ? shorten(name) : t('done.organization_unknown') };
  }
  const id = organization?.id;
  const channels = organization?.channels ?? [];
  if (channels.length === 0) {
    return { name: id ? t('org.id', { id }) : t('done.organization_unknown') };
  }
  const ordered = [...channels.filter((c) => !c.disabled), ...channels.filter((c) => c.disabled)];
  const counted = organization?.channelCount;
  const total = Math.max(ordered.length, Number.isSafeInteger(counted) ? counted! : 0);
  const shown = total <= NAMED ? ordered : ordered.slice(0, NAMED - 1);
  const items = shown.map((channel) => {
    const platform = shorten(platformName(channel.platform));
    // A channel without a name is known by its platform alone.
    const name = channel.name.trim() ? shorten(channel.name.trim()) : undefined;
    if (!name) return channel.disabled ? t('org.platform_disabled', { platform }) : platform;
    return t(channel.disabled ? 'org.channel_disabled' : 'org.channel', { name, platform });
  });
  if (shown.length < total) items.push(t('org.more', { n: total - shown.length }));
  return { name: t('org.channels', { channels: listFormat(lang).format(items) }), id };
}
