/**
 * "postiz CLI 2.1.0 on Linux": the requesting device in plain words, for the confirmation page
 * (RFC 8628 §5.4). Best effort; an unrecognised agent is shown as unknown, never raw. The postiz
 * CLI is recognised with the Postiz profile only; with another, it is told like any program.
 */
import type { Translate } from './i18n/index.js';

const SYSTEMS: [RegExp, string][] = [
  [/windows/i, 'Windows'],
  [/mac ?os|darwin/i, 'macOS'],
  [/android/i, 'Android'],
  [/iphone|ipad|ios/i, 'iOS'],
  [/linux/i, 'Linux'],
  [/freebsd/i, 'FreeBSD'],
];

/** Describe a `User-Agent` header for a person. */
export function describeUserAgent(userAgent: string | null | undefined, t: Translate): string {
  const ua = (userAgent ?? '').slice(0, 512);
  const os = SYSTEMS.find(([pattern]) => pattern.test(ua))?.[1];
  const version = (name: RegExp): string => ua.match(name)?.[1] ?? '';
  let agent: string | undefined;
  if (t.profile.wording === 'postiz' && /postiz/i.test(ua))
    agent = t('device.postiz_cli', { version: version(/postiz[^\d]*([\d.]+)/i) }).trim();
  else if (/^node-fetch|^node\b|undici/i.test(ua)) agent = t('device.node');
  else if (/^curl\//i.test(ua)) agent = t('device.curl', { version: version(/^curl\/([\d.]+)/i) }).trim();
  else if (/^[\w.-]+\/[\w.-]+/.test(ua)) agent = ua.match(/^([\w.-]+\/[\w.-]+)/)![1];
  if (!agent) return t('device.unknown');
  return os ? t('device.on', { agent, os }) : agent;
}

/** "3 minutes ago", for when the request was made. */
export function describeAge(createdAt: Date, now: number, t: Translate): string {
  const seconds = Math.max(0, Math.round((now - createdAt.getTime()) / 1000));
  if (seconds < 10) return t('ago.now');
  if (seconds < 60) return t('ago.seconds', { n: seconds });
  const minutes = Math.floor(seconds / 60);
  return minutes === 1 ? t('ago.minute') : t('ago.minutes', { n: minutes });
}

/**
 * How a login's moment is written, on the server (in UTC) and by the page's script (in the
 * browser's zone; assets/verify.js uses the same options): "December 3, 2026 at 2:05 PM UTC".
 */
export const WHEN_FORMAT: Readonly<Intl.DateTimeFormatOptions> = Object.freeze({
  year: 'numeric',
  month: 'long',
  day: 'numeric',
  hour: 'numeric',
  minute: '2-digit',
  timeZoneName: 'short',
});

/** A date formatter per page language (there are five), made once. */
const UTC_FORMATS = new Map<string, Intl.DateTimeFormat>();

/**
 * "December 3, 2026 at 2:05 PM UTC", for when a login happened: in the page's language, in UTC
 * (the server does not know the reader's time zone, so it names the one it uses). Pages show it
 * until their script rewrites it in the reader's zone, and keep it when scripts are off.
 */
export function describeWhen(at: Date, lang: string): string {
  let format = UTC_FORMATS.get(lang);
  if (!format) {
    const options = { ...WHEN_FORMAT, timeZone: 'UTC' };
    try {
      format = new Intl.DateTimeFormat(lang, options);
    } catch {
      format = new Intl.DateTimeFormat('en', options); // not a language tag at all
    }
    UTC_FORMATS.set(lang, format);
  }
  return format.format(at);
}
