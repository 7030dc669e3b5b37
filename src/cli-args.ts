/**
 * The command line: one command (`serve` by default), `--help` and `--version`, and nothing
 * else. Settings are environment variables, so a flag such as `--port 4000` is refused with
 * the variable that does what it meant, rather than ignored while the server listens elsewhere.
 */
import { similarSetting } from './settings-typos.js';

export const COMMANDS = ['serve', 'demo', 'migrate'] as const;
export type Command = (typeof COMMANDS)[number];

export type Parsed =
  | { command: Command; help: boolean; version: boolean; explicit: boolean }
  | { error: string };

const isCommand = (arg: string): arg is Command => (COMMANDS as readonly string[]).includes(arg);

/**
 * What to answer a flag that is not one: the setting it names, with its value; or, when it
 * resembles no setting (`--verbose`), only that there are no such options, rather than a
 * setting that has nothing to do with it.
 */
function settingHint(flag: string, next: string | undefined, settings: readonly string[]): string {
  const [name = '', inline] = flag.replace(/^-+/, '').split('=', 2);
  const setting = similarSetting(name.toUpperCase().replaceAll('-', '_'), settings);
  if (!setting) {
    return 'postiz-cli-auth takes no options but --help and --version. Settings are environment variables (see "postiz-cli-auth serve --help")';
  }
  const value = inline ?? (next !== undefined && !next.startsWith('-') && !isCommand(next) ? next : '…');
  return `settings are environment variables: ${setting}=${value} postiz-cli-auth serve (see "postiz-cli-auth serve --help")`;
}

/** Read `argv` (without node and the script); `settings` are the variables a flag may have meant. */
export function parseArgs(argv: readonly string[], settings: readonly string[]): Parsed {
  let command: Command | undefined;
  let help = false;
  let version = false;
  for (const [i, arg] of argv.entries()) {
    if (arg === '--help' || arg === '-h') help = true;
    else if (arg === '--version' || arg === '-V' || arg === '-v') version = true;
    else if (arg.startsWith('-')) {
      return { error: `Unknown option "${arg}": ${settingHint(arg, argv[i + 1], settings)}.` };
    } else if (command !== undefined) {
      return { error: `Unexpected argument "${arg}" after the command "${command}".` };
    } else if (isCommand(arg)) command = arg;
    else return { error: `Unknown command "${arg}".` };
  }
  return { command: command ?? 'serve', help, version, explicit: command !== undefined };
}
