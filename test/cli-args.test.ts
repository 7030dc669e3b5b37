/** The command line (src/cli-args.ts): commands, --help, --version, and every other flag refused with what it meant. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseArgs } from '../src/cli-args.js';
import { SETTINGS } from '../src/config.js';

const NAMES = SETTINGS.map((s) => s.env);
const parse = (...argv: string[]) => parseArgs(argv, NAMES);

test('commands, --help and --version', () => {
  assert.deepEqual(parse(), { command: 'serve', help: false, version: false, explicit: false });
  assert.deepEqual(parse('migrate', '--help'), {
    command: 'migrate',
    help: true,
    version: false,
    explicit: true,
  });
  assert.deepEqual(parse('--version'), { command: 'serve', help: false, version: true, explicit: false });
  assert.deepEqual(parse('-h'), { command: 'serve', help: true, version: false, explicit: false });
});

test('a flag that is a setting is refused, naming the variable and its value', () => {
  assert.deepEqual(parse('serve', '--port', '4000'), {
    error:
      'Unknown option "--port": settings are environment variables: PORT=4000 postiz-cli-auth serve (see "postiz-cli-auth serve --help").',
  });
  assert.match(
    (parse('--database-url=postgres://db/x') as { error: string }).error,
    /DATABASE_URL=postgres:\/\/db\/x/,
  );
  assert.match((parse('--prot') as { error: string }).error, /PORT=…/);
});

test('unknown commands and extra arguments are refused', () => {
  assert.deepEqual(parse('frobnicate'), { error: 'Unknown command "frobnicate".' });
  assert.deepEqual(parse('serve', 'now'), { error: 'Unexpected argument "now" after the command "serve".' });
});
