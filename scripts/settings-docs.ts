/**
 * `npm run env-example`: write .env.example from the settings table (src/config.ts), so that
 * it lists every setting with its meaning, default and range. test/env-example.test.ts fails
 * when the committed file differs from what this writes: after adding a setting, run it again.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SETTINGS } from '../src/config.js';
import { defaultText, plainDescription, rangeText, wrap } from '../src/settings-text.js';

const HEADER = `# postiz-cli-auth settings: copy this file to .env (read from the working directory; variables
# already set in the environment win) and fill in at least the required ones.
# Written by \`npm run env-example\` from the settings table in src/config.ts: do not edit by hand.
# A commented line shows the default; uncomment it to change the value.`;

/** The whole file. */
export function renderEnvExample(): string {
  const blocks = SETTINGS.map((setting) => {
    const range = rangeText(setting);
    // A default computed from other settings is described, not written as a value to uncomment.
    const computed = typeof setting.default === 'function';
    const facts = [
      setting.required ? 'Required.' : undefined,
      computed ? `Default: ${defaultText(setting)}.` : undefined,
      range ? `Accepts: ${range}.` : undefined,
    ].filter(Boolean);
    const comment = wrap([plainDescription(setting), ...facts].join(' '), 100, '# ');
    const value = setting.required
      ? `${setting.env}=`
      : `# ${setting.env}=${computed ? '' : (defaultText(setting) ?? '')}`;
    return [...comment, value].join('\n');
  });
  return `${HEADER}\n\n${blocks.join('\n\n')}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const path = fileURLToPath(new URL('../.env.example', import.meta.url));
  writeFileSync(path, renderEnvExample());
  console.log(`wrote ${path} (${SETTINGS.length} settings)`);
}
