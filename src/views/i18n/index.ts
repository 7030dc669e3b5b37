/**
 * Message catalogs and language negotiation from `Accept-Language` (RFC 9110 §12.5.4).
 */
import { de } from './de.js';
import { type Catalog, en, type MessageKey } from './en.js';
import { es } from './es.js';
import { fr } from './fr.js';
import { pt } from './pt.js';

export type { Catalog, MessageKey } from './en.js';

/** Every catalog, by primary language tag. English is the reference and the fallback. */
export const CATALOGS: Readonly<Record<string, Catalog>> = Object.freeze({ en, fr, de, es, pt });

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

/** A translator for `lang`: `t(key, {n: 3})`. Values are plain text; the HTML layer escapes them. */
export type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

/** The translator for a language (English for unknown ones). */
export function translator(lang: string): Translate {
  const catalog = isSupported(lang) ? CATALOGS[lang]! : en;
  return (key, params) => {
    const template = catalog[key] ?? en[key];
    return params
      ? template.replace(/\{(\w+)\}/g, (match, name: string) => String(params[name] ?? match))
      : template;
  };
}
