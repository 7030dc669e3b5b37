/**
 * `npm run settings-docs`: write, from the settings table (src/config.ts), the README's table
 * of settings (between its `settings` markers) and .env.example, so that both list every
 * setting, in the table's order, with its meaning, default and range. test/settings-docs.test.ts
 * fails when either committed file differs from what this writes: after changing a setting,
 * run it again.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SETTINGS } from '../src/config.js';
import { defaultText, plainDescription, rangeText, requiredText, wrap } from '../src/settings-text.js';

const HEADER = `# postiz-cli-auth settings: copy this file to .env (read from the working directory; variables
# already set in the environment win) and fill in at least the required ones.
# Written by \`npm run settings-docs\` from the settings table in src/config.ts: do not edit by hand.
# A commented line shows the default; uncomment it to change the value.`;

/** The whole file. */
export function renderEnvExample(): string {
  const blocks = SETTINGS.map((setting) => {
    const range = rangeText(setting);
    // A default computed from other settings is described, not written as a value to uncomment.
    const computed = typeof setting.default === 'function';
    const facts = [
      setting.required ? `${requiredText(setting)!.replace(/^r/, 'R')}.` : undefined,
      computed ? `Default: ${defaultText(setting)}.` : undefined,
      range ? `Accepts: ${range}.` : undefined,
    ].filter(Boolean);
    const comment = wrap([plainDescription(setting), ...facts].join(' '), 100, '# ');
    const value =
      setting.required && setting.profile !== 'oauth'
        ? `${setting.env}=`
        : `# ${setting.env}=${computed ? '' : (defaultText(setting) ?? '')}`;
    return [...comment, value].join('\n');
  });
  return `${HEADER}\n\n${blocks.join('\n\n')}\n`;
}

/** The markers around the generated table in the README. */
export const README_MARKERS = [
  '<!-- settings: written by `npm run settings-docs` from src/config.ts -->',
  '<!-- end of settings -->',
] as const;

/** A table cell: no line breaks, no bare pipes. */
const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

/** The README's settings table. */
export function renderSettingsTable(): string {
  const rows = SETTINGS.map((setting) => {
    const required = requiredText(setting);
    const fallback = defaultText(setting);
    const value = required ?? (fallback === undefined ? 'unset' : `\`${fallback}\``);
    const range = rangeText(setting);
    return `| \`${setting.env}\` | ${value} | ${range ? cell(range) : ''} | ${cell(setting.description)} |`;
  });
  return ['| Variable | Default | Accepts | Meaning |', '|---|---|---|---|', ...rows].join('\n');
}

/** `readme` with its settings table replaced by what the table says now. */
export function withSettingsTable(readme: string): string {
  const [open, close] = README_MARKERS;
  const start = readme.indexOf(open);
  const end = readme.indexOf(close);
  if (start < 0 || end < start) throw new Error('README.md has no settings markers');
  return `${readme.slice(0, start + open.length)}\n${renderSettingsTable()}\n${readme.slice(end)}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const envPath = fileURLToPath(new URL('../.env.example', import.meta.url));
  writeFileSync(envPath, renderEnvExample());
  const readmePath = fileURLToPath(new URL('../README.md', import.meta.url));
  writeFileSync(readmePath, withSettingsTable(readFileSync(readmePath, 'utf8')));
  console.log(`wrote ${envPath} and the settings table of ${readmePath} (${SETTINGS.length} settings)`);
}
