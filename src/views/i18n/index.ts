/**
 * Message catalogs and language negotiation from `Accept-Language` (RFC 9110 §12.5.4).
 *
 * Each language has three catalogs. Its messages (`en`, `fr`, …), in the Postiz profile's
 * wording; what it says instead for any other provider (`GENERIC`: what is true of Postiz only,
 * worded for any provider, and, in a language that cannot decline a name it does not know, what
 * it words around the name); and what it says when the client has no login command to run
 * again (`NO_COMMAND`, worded for any provider: the Postiz profile always has its command).
 * Every message may name the provider, the client and the command (`{provider}`, `{client}`,
 * `{command}`), which the profile fills (`profile.ts`).
 */
import type { PageProfile } from '../profile.js';
import { de, deGeneric, deNoCommand } from './de.js';
import {
  type Catalog,
  en,
  enGeneric,
  enNoCommand,
  type GenericCatalog,
  type MessageKey,
  type NoCommandCatalog,
} from './en.js';
import { es, esGeneric, esNoCommand } from './es.js';
import { fr, frGeneric, frNoCommand } from './fr.js';
import { pt, ptGeneric, ptNoCommand } from './pt.js';

export type { Catalog, GenericCatalog, MessageKey, NoCommandCatalog } from './en.js';
export { POSTIZ_ONLY } from './en.js';

/** Every catalog, by primary language tag. English is the reference and the fallback. */
export const CATALOGS: Readonly<Record<string, Catalog>> = Object.freeze({ en, fr, de, es, pt });

/** What each language says instead for a provider other than Postiz. */
export const GENERIC: Readonly<Record<string, GenericCatalog>> = Object.freeze({
  en: enGeneric,
  fr: frGeneric,
  de: deGeneric,
  es: esGeneric,
  pt: ptGeneric,
});

/** What each language says when the client has no login command. */
export const NO_COMMAND: Readonly<Record<string, NoCommandCatalog>> = Object.freeze({
  en: enNoCommand,
  fr: frNoCommand,
  de: deNoCommand,
  es: esNoCommand,
  pt: ptNoCommand,
});

/** Whether `lang` has a catalog (own keys only: `constructor` or `__proto__` are not languages). */
export function isSupported(lang: string): boolean {
  return Object.hasOwn(CATALOGS, lang);
}

/** The best supported language for an `Accept-Language` header. */
export function pickLanguage(header: string | undefined): string {
  if (!header) return 'en';
  const ranked = header
    .slice(0, 512)
    .split(',')
    .map((part, index) => {
      const [tag = '', ...params] = part.split(';');
      const q = params.map((p) => p.trim()).find((p) => /^q=/i.test(p));
      const weight = q ? Number.parseFloat(q.slice(2)) : 1;
      return {
        lang: tag.trim().toLowerCase().split('-')[0] ?? '',
        weight: Number.isFinite(weight) ? weight : 0,
        index,
      };
    })
    .filter((entry) => entry.weight > 0 && isSupported(entry.lang))
    .sort((a, b) => b.weight - a.weight || a.index - b.index);
  return ranked[0]?.lang ?? 'en';
}

/**
 * A translator for one language and profile: `t(key, {n: 3})`, with the profile's names filled
 * in. Values are plain text; the HTML layer escapes them.
 */
export interface Translate {
  (key: MessageKey, params?: Record<string, string | number>): string;
  /** The message as this profile words it, its `{placeholders}` (the names' too) not filled. */
  template(key: MessageKey): string;
  /** The profile the messages are worded for. */
  readonly profile: PageProfile;
}

/** Each language's messages for each way a profile is worded, merged once. */
const WORDED = new Map<string, Catalog>();

/** The messages of `lang` (English for unknown ones) as `profile` words them. */
function messages(lang: string, profile: PageProfile): Catalog {
  const language = isSupported(lang) ? lang : 'en';
  const generic = profile.wording === 'generic';
  const commandless = !profile.names.command;
  const id = `${language}/${profile.wording}/${commandless ? 'no-command' : 'command'}`;
  let catalog = WORDED.get(id);
  if (!catalog) {
    catalog = {
      ...CATALOGS[language]!,
      ...(generic ? GENERIC[language] : {}),
      ...(commandless ? NO_COMMAND[language] : {}),
    };
    WORDED.set(id, catalog);
  }
  return catalog;
}

/** The translator for a language (English for unknown ones), worded for `profile`. */
export function translator(lang: string, profile: PageProfile): Translate {
  const catalog = messages(lang, profile);
  const names: Record<string, string | undefined> = { ...profile.names };
  const template = (key: MessageKey): string => catalog[key] ?? en[key];
  // One pass: a value is never read as a placeholder. A name no parameter overrides fills its own.
  const t = (key: MessageKey, params: Record<string, string | number> = {}): string =>
    template(key).replace(/\{(\w+)\}/g, (match, name: string) => {
      const value = Object.hasOwn(params, name)
        ? params[name]
        : Object.hasOwn(names, name)
          ? names[name]
          : undefined;
      return value === undefined ? match : String(value);
    });
  return Object.assign(t, { template, profile });
}
