/**
 * The settings table in words, for `serve --help` and `.env.example`: each setting's default
 * and the values it accepts, read from SETTINGS itself so that neither can fall behind it.
 */
import { SETTINGS } from './config.js';

export type Setting = (typeof SETTINGS)[number];

/**
 * Every variable reads as `{NAME}`: a default computed from other settings is shown as the
 * formula (`http://localhost:{PORT}`) rather than as today's value.
 */
const PLACEHOLDERS = new Proxy({} as Record<string, string>, {
  get: (_target, name) => `{${String(name)}}`,
});

/** The default as an operator would write it, or undefined when there is none. */
export function defaultText(setting: Setting): string | undefined {
  const value = typeof setting.default === 'function' ? setting.default(PLACEHOLDERS) : setting.default;
  // An empty default (an empty list) reads as unset.
  return value === '' ? undefined : value;
}

/** The values a setting accepts (`0–65535`, `json, pretty`), when the table says. */
export function rangeText(setting: Setting): string | undefined {
  if (setting.range) return setting.range;
  if (setting.parse.range) return setting.parse.range;
  return setting.parse.choices?.join(', ');
}

/** The description as plain text (no Markdown: links become their text, backquotes go). */
export function plainDescription(setting: Setting): string {
  return setting.description.replace(/\[([^\]]+)\]\([^)]+\)/g, '$1').replaceAll('`', '');
}

/** `text` broken into lines of at most `width` characters, each prefixed with `indent`. */
export function wrap(text: string, width: number, indent: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(indent + line);
  return lines;
}

/** `required`, or `required with UPSTREAM=oauth` for a setting only one provider profile needs (none when it is not required). */
export function requiredText(setting: Setting): string | undefined {
  if (!setting.required) return undefined;
  return setting.profile === 'oauth' ? 'required with UPSTREAM=oauth' : 'required';
}

/** What `--help` says of one setting: its name, default and range, then its meaning. */
export function helpEntry(setting: Setting): string {
  const facts = [
    requiredText(setting) ?? `default: ${defaultText(setting) ?? 'unset'}`,
    rangeText(setting) && `accepts: ${rangeText(setting)}`,
  ].filter(Boolean);
  return [`  ${setting.env}  (${facts.join('; ')})`, ...wrap(plainDescription(setting), 100, '      ')].join(
    '\n',
  );
}

/** The settings part of `serve --help`. */
export function settingsHelp(): string {
  return SETTINGS.map(helpEntry).join('\n');
}
