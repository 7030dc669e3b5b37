/**
 * The command line: one command (`serve` by default), `--help` and `--version`, and for the
 * `logins` command its few options; nothing else. Settings are environment variables, so a
 * flag such as `--port 4000` is refused with the variable that does what it meant, rather than
 * ignored while the server listens elsewhere.
 */
import type { LoginsOptions } from './logins/options.js';
import { settingsMeant } from './settings-typos.js';

export const COMMANDS = ['serve', 'demo', 'migrate', 'logins'] as const;
export type Command = (typeof COMMANDS)[number];

export type Parsed =
  | {
      command: Command;
      help: boolean;
      version: boolean;
      explicit: boolean;
      /** The `logins` command's options, as given (checked by `logins/options.ts`). */
      logins?: LoginsOptions;
    }
  | { error: string };

const isCommand = (arg: string): arg is Command => (COMMANDS as readonly string[]).includes(arg);

/** The options of `logins` that take a value, and the one that does not. */
const LOGINS_VALUES = ['--organization', '--since', '--outcome', '--limit'] as const;
const LOGINS_FLAGS = ['--json'] as const;
const LOGINS_OPTIONS = [...LOGINS_VALUES, ...LOGINS_FLAGS];

/**
 * Whether a setting's value may be a secret (a client or webhook secret; a URL with a password
 * or a key in it): such a value typed as a flag is never quoted back, since stderr ends up in
 * logs.
 */
const mayHoldSecret = (setting: string): boolean => /(SECRET|TOKEN|PASSWORD|_URL)$/.test(setting);

/**
 * What to answer a flag that is not one: the setting it names, with its value; or, when it
 * resembles no setting (`--verbose`), only that there are no such options, rather than a
 * setting that has nothing to do with it.
 */
function settingHint(flag: string, next: string | undefined, settings: readonly string[]): string {
  const [name = '', inline] = flag.replace(/^-+/, '').split('=', 2);
  const meant = settingsMeant(name.toUpperCase().replaceAll('-', '_'), settings);
  if (meant.length === 0) {
    return 'postiz-cli-auth takes no options but --help and --version. Settings are environment variables (see "postiz-cli-auth serve --help")';
  }
  const given =
    inline ?? (next !== undefined && !next.startsWith('-') && !isCommand(next) ? next : undefined);
  const commands = meant
    .map(
      (setting) =>
        `${setting}=${given !== undefined && !mayHoldSecret(setting) ? given : '…'} postiz-cli-auth serve`,
    )
    .join(', or ');
  return `settings are environment variables: ${commands} (see "postiz-cli-auth serve --help")`;
}

/** Read `argv` (without node and the script); `settings` are the variables a flag may have meant. */
export function parseArgs(argv: readonly string[], settings: readonly string[]): Parsed {
  let command: Command | undefined;
  let help = false;
  let version = false;
  const logins: LoginsOptions = { json: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag = '', inline] = arg.split(/=(.*)/s, 2);
    if (arg === '--help' || arg === '-h') help = true;
    else if (arg === '--version' || arg === '-V' || arg === '-v') version = true;
    else if (command === 'logins' && (LOGINS_FLAGS as readonly string[]).includes(arg)) logins.json = true;
    else if (command === 'logins' && (LOGINS_VALUES as readonly string[]).includes(flag)) {
      const value = inline ?? argv[++i];
      if (value === undefined || (inline === undefined && value.startsWith('--'))) {
        return { error: `The option ${flag} of logins needs a value.` };
      }
      logins[flag.slice(2) as 'organization' | 'since' | 'outcome' | 'limit'] = value;
    } else if (arg.startsWith('-')) {
      if (command === 'logins') {
        return { error: `Unknown option "${flag}" of logins: it takes ${LOGINS_OPTIONS.join(', ')}.` };
      }
      if ((LOGINS_OPTIONS as readonly string[]).includes(flag)) {
        return { error: `The option ${flag} belongs to the logins command: postiz-cli-auth logins ${arg}` };
      }
      // The flag without its `=value`, which may be a secret (settingHint decides what to show).
      return { error: `Unknown option "${flag}": ${settingHint(arg, argv[i + 1], settings)}.` };
    } else if (command !== undefined) {
      return { error: `Unexpected argument "${arg}" after the command "${command}".` };
    } else if (isCommand(arg)) command = arg;
    else return { error: `Unknown command "${arg}".` };
  }
  return {
    command: command ?? 'serve',
    help,
    version,
    explicit: command !== undefined,
    ...(command === 'logins' ? { logins } : {}),
  };
}
